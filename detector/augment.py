"""Training augmentation of Wang et al. 2020 ("CNN-generated images are surprisingly easy to
spot... for now"): Gaussian blur σ ~ U(0, 3) with p = 0.5, JPEG quality ~ U(30, 100) with
p = 0.5, and horizontal flips — so a detector cannot lean on pristine high-frequency detail."""

from __future__ import annotations

import dataclasses

import numpy as np

from talkbench.detector.perturb import blur, jpeg


@dataclasses.dataclass
class WangAugment:
    blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.0, 3.0)
    jpeg_p: float = 0.5
    jpeg_quality: tuple[int, int] = (30, 100)
    flip_p: float = 0.5

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augment a batch (N×H×W×3 uint8) with draws from ``rng`` (seeded per epoch, so
        a resumed run sees the same augmentations)."""
        out = []
        for img in images:
            if rng.random() < self.blur_p:
                img = blur(img, rng.uniform(*self.blur_sigma))
            if rng.random() < self.jpeg_p:
                img = jpeg(img, int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1)))
            if rng.random() < self.flip_p:
                img = img[:, ::-1]
            out.append(np.ascontiguousarray(img))
        return np.stack(out)
