"""An invisible pixel watermark on exported synthetic images, so "talkbench made this"
survives a metadata strip, a re-encode and a halving resize.

Method: invisible-watermark's DWT-DCT-SVD (no weights, offline). The U channel's Haar
LL band is cut into 4×4 blocks; each block's largest DCT singular value is quantised to
carry one bit of a fixed 32-bit code, repeated over all blocks (a 64 px image holds it
twice, 256 px 32 times). Reading averages the repetitions, and a file counts as marked
when at most ``MAX_BIT_ERRORS`` of the 32 bits differ: an unmarked image matches that
by chance with probability ~1e-5 (binomial, 32 fair bits).

The strength (quantisation step ``SCALE`` = 60, PSNR ≈ 36–37 dB) and what is claimed at
each size come from ``python -m talkbench.benchmarks.watermark_survival`` (docs/provenance.md);
``CLAIMS`` holds only the transformations recovered in ≥ 95 % of measured images.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

METHOD = "invisible-watermark dwtDctSvd"
SCALE = 60
CODE = np.unpackbits(np.frombuffer(b"TkB1", np.uint8)).astype(int)  # 32 bits
MAX_BIT_ERRORS = 4
MIN_SIDE = 64  # below this an image holds fewer than two copies of the code: not marked
# Pixels within HEADROOM of 0 or 255 are pulled in before marking: the library shifts chroma
# and then clips, which erased bits in saturated areas (a photo with a white backdrop had
# 5 of 32 bits wrong straight after marking; 0 with this headroom).
HEADROOM = 8

# Measured sizes -> transformations recovered >= 95 % (docs/provenance.md has the table).
CLAIMS: dict[int, tuple[str, ...]] = {
    64: ("png", "metadata-strip", "jpeg90", "jpeg75", "resize0.5"),
    128: ("png", "metadata-strip", "jpeg90", "jpeg75", "resize0.5"),
    256: ("png", "metadata-strip", "jpeg90", "jpeg75", "jpeg50", "resize0.5"),
}


@dataclass(frozen=True)
class Detection:
    found: bool
    bit_errors: int  # fewest wrong bits over the scales tried (32 = nothing there)
    scale: float  # the read that matched best: 1 as is, 2 after undoing a ×0.5 resize


def can_carry(image: np.ndarray) -> bool:
    return min(image.shape[:2]) >= MIN_SIDE


def claims_for(shape: tuple[int, ...]) -> tuple[str, ...]:
    """What the mark is claimed to survive at this size: the claims of the largest measured
    size not above the image's short side (larger images carry more copies of the code)."""
    side = min(shape[:2])
    sizes = [s for s in sorted(CLAIMS) if s <= side]
    return CLAIMS[sizes[-1]] if sizes else ()


def _embedder(bits):
    from imwatermark.dwtDctSvd import EmbedDwtDctSvd  # imported late: it pulls in torch

    return EmbedDwtDctSvd(list(bits), wmLen=len(CODE), scales=[0, SCALE, 0])


def embed(image: np.ndarray) -> np.ndarray:
    """The image (H×W×3 uint8 RGB) with the code in its pixels; images under MIN_SIDE
    are returned unchanged (callers record that they carry no mark)."""
    if not can_carry(image):
        return image
    bgr = np.ascontiguousarray(np.clip(image[..., ::-1], HEADROOM, 255 - HEADROOM))
    out = _embedder(CODE).encode(bgr)
    return np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8)[..., ::-1])


def _bit_errors(image: np.ndarray) -> int:
    bits = _embedder([]).decode(np.ascontiguousarray(image[..., ::-1]))
    return int(np.sum(np.asarray(bits, dtype=int) != CODE))


def detect(image: np.ndarray) -> Detection:
    """Read the code as the image is and at twice its size (a ×0.5 resize moves the block
    grid; upscaling restores it)."""
    best = Detection(False, len(CODE), 1.0)
    for scale in (1.0, 2.0):
        h, w = image.shape[:2]
        view = image if scale == 1.0 else cv2.resize(image, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)
        if not can_carry(view):
            continue
        errors = _bit_errors(view)
        if errors < best.bit_errors:
            best = Detection(errors <= MAX_BIT_ERRORS, errors, scale)
        if best.found:
            break
    return best
