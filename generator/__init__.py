"""Talking-head data (synthetic and prepared real videos) and the few-shot generator of
Zakharov et al. (ICCV 2019): networks, losses, meta-learning, FF/FT few-shot models."""
