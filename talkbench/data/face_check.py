"""Do the face backends see a dataset's faces where its landmarks say they are? Detection
rate and landmark NME (normalised by the outer-eye-corner distance, points 36 and 45) of a
backend against a dataset's stored landmarks — the check that synthetic faces look enough
like faces, and that prepared crops hold the face."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from talkbench.data.dataset import FaceDataset
from talkbench.faces import create_backend
from talkbench.faces.base import nme


@dataclasses.dataclass
class FaceCheck:
    backend: str
    upscale: int
    n_frames: int
    detected: int
    nme_mean: float
    nme_median: float

    @property
    def detection_rate(self) -> float:
        return self.detected / max(self.n_frames, 1)

    def summary(self) -> str:
        return (f"{self.backend} on {self.n_frames} frames (×{self.upscale}): detected {self.detection_rate:.1%}, "
                f"landmark NME mean {self.nme_mean:.3f} median {self.nme_median:.3f} (outer-eye-corner distance)")


def check_faces(dataset: FaceDataset, n_frames: int = 200, backend: str = "dlib", upscale: int = 1,
                seed: int = 0, **backend_kwargs) -> FaceCheck:
    """Run ``backend`` on ``n_frames`` frames sampled from the dataset (spread over its videos),
    optionally upscaled (bicubic) first; compare its landmarks with the stored ones."""
    be = create_backend(backend, "landmarks", **backend_kwargs)
    rng = np.random.default_rng(seed)
    videos = dataset.videos()
    order = rng.permutation(len(videos))
    picks = [videos[order[i % len(videos)]] for i in range(n_frames)]
    detected, errors = 0, []
    for video in picks:
        frames, marks = dataset.load(video, mmap=True)
        j = int(rng.integers(len(marks)))
        img = np.asarray(frames[j])
        if upscale > 1:
            img = cv2.resize(img, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
        box = be.largest_faces([img])[0]
        if box is None:
            continue
        detected += 1
        pred = be.landmarks([img], [box])[0]
        if pred is not None:  # a box whose landmarks failed has no error to add
            errors.append(float(nme(pred[None], ((marks[j] + 0.5) * upscale - 0.5)[None])[0]))
    return FaceCheck(be.name, upscale, len(picks), detected,
                     float(np.mean(errors)) if errors else float("nan"),
                     float(np.median(errors)) if errors else float("nan"))
