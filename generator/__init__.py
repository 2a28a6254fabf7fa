"""The few-shot talking-head generator of Zakharov et al. (ICCV 2019): networks, losses,
meta-learning, FF/FT few-shot models. Its data is `talkbench.data`."""
