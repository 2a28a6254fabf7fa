"""Forgery detectors: timm backbones and a spectral scikit-learn baseline; training,
evaluation (AUC/AP/EER with CIs), robustness sweeps and cross-setting matrices."""
