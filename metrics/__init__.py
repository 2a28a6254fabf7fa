"""Realism metrics (FID/KID, SSIM, PSNR, L1, LPIPS, CSIM, landmark error), each usable alone,
as torchmetrics-style classes and plain functions."""
