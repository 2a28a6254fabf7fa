"""Realism metrics (FID/KID, SSIM, PSNR, L1, LPIPS, CSIM, identity FD/KID, landmark error),
each usable alone, as torchmetrics-style classes and plain functions.

``compute_metrics`` and ``MetricResult`` are importable from here; heavy modules load on
first use."""

from __future__ import annotations

from typing import Any

__all__ = ["MetricResult", "compute_metrics", "REGISTRY"]


def __getattr__(name: str) -> Any:
    if name == "MetricResult":
        from talkbench.metrics.base import MetricResult

        return MetricResult
    if name in ("compute_metrics", "REGISTRY"):
        from talkbench.metrics import api

        return getattr(api, name)
    raise AttributeError(name)
