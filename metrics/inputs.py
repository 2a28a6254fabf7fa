"""The two image sets a metric run compares: folders, file lists or arrays, read lazily,
with unreadable files counted, and the pairing of fakes with their real partners.

Pairing ``by-name`` matches file stems, ignoring a trailing ``_fake`` / ``_real`` (the
benchmark's ``0007_fake.png`` ↔ ``0007_real.png``); ``by-order`` pairs the i-th of each.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from pathlib import Path
from typing import Iterator, Literal, Sequence, Union

import numpy as np

from talkbench.errors import TalkbenchError
from talkbench.media import list_images, read_image

Pairing = Literal["by-name", "by-order", "none"]
ImageSource = Union[str, Path, Sequence[Union[str, Path, np.ndarray]], np.ndarray]
_ROLE = re.compile(r"[_-](fake|real|gen|generated|gt)$", re.IGNORECASE)
log = logging.getLogger(__name__)
MIN_SIDE = 16  # smaller images cannot be scored (SSIM's window alone is 11 px)


def _check_side(image: np.ndarray, name: str) -> np.ndarray:
    if min(image.shape[:2]) < MIN_SIDE:
        raise TalkbenchError(f"{name} is {image.shape[1]}×{image.shape[0]} px; realism metrics need images of "
                             f"at least {MIN_SIDE}×{MIN_SIDE} px")
    return image


@dataclasses.dataclass
class ImageSet:
    """An ordered set of images (paths or H×W×3 uint8 arrays) with display names."""

    items: list[Path | np.ndarray]
    names: list[str]
    label: str = "images"

    @classmethod
    def from_any(cls, source: ImageSource, label: str = "images") -> "ImageSet":
        """A folder, a list of files or arrays, or an N×H×W×3 array. Empty is an error."""
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.exists():
                raise TalkbenchError(f"{label} folder {path} does not exist")
            items: list = list_images(path)
            names = [p.name for p in items]
        else:
            items = [Path(x) if isinstance(x, (str, Path)) else _as_image(np.asarray(x)) for x in source]
            names = [x.name if isinstance(x, Path) else f"{i:06d}" for i, x in enumerate(items)]
        if not items:
            raise TalkbenchError(f"{label}: no images found in {source if isinstance(source, (str, Path)) else 'the input'}")
        return cls(items, names, label)

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int) -> np.ndarray | None:
        """Image i as H×W×3 uint8 RGB, or None if the file cannot be read."""
        item = self.items[i]
        if isinstance(item, np.ndarray):
            return _check_side(item, f"{self.label} image {self.names[i]}")
        try:
            image = read_image(item)
        except TalkbenchError:
            return None
        return _check_side(image, str(item))

    def batches(self, indices: Sequence[int], size: int = 32) -> Iterator[list[np.ndarray | None]]:
        for start in range(0, len(indices), size):
            yield [self.load(i) for i in indices[start:start + size]]

    def item_digest(self, i: int) -> str:
        item = self.items[i]
        h = hashlib.sha256()
        if isinstance(item, np.ndarray):
            h.update(str(item.shape).encode())
            h.update(np.ascontiguousarray(item).tobytes())
        else:
            try:
                h.update(item.read_bytes())
            except OSError:
                h.update(b"<unreadable>" + str(item).encode())
        return h.hexdigest()

    def content_key(self) -> str:
        """A digest of the images' bytes in order: the same content gives the same key
        wherever the files live (what the feature cache is keyed by)."""
        h = hashlib.sha256()
        for i in range(len(self)):
            h.update(self.item_digest(i).encode())
        return h.hexdigest()[:32]


def _as_image(x: np.ndarray) -> np.ndarray:
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=2)
    if x.ndim != 3 or x.shape[2] not in (1, 3, 4):
        raise TalkbenchError(f"expected H×W×3 images, got an array of shape {x.shape}")
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    if x.shape[2] == 4:
        x = x[..., :3]
    if x.dtype != np.uint8:
        raise TalkbenchError(f"expected uint8 images (0–255), got {x.dtype}")
    return np.ascontiguousarray(x)


def pair_key(name: str) -> str:
    return _ROLE.sub("", Path(name).stem)


def make_pairs(real: ImageSet, fake: ImageSet, pairing: Pairing) -> list[tuple[int, int]]:
    """(real index, fake index) pairs; every fake must have exactly one real partner."""
    if pairing == "by-order":
        if len(real) != len(fake):
            raise TalkbenchError(f"by-order pairing needs equal counts: {len(real)} real, {len(fake)} fake")
        return [(i, i) for i in range(len(fake))]
    if pairing != "by-name":
        raise TalkbenchError(f"unknown pairing '{pairing}' (by-name, by-order or none)")
    real_index: dict[str, int] = {}
    for i, name in enumerate(real.names):
        key = pair_key(name)
        if key in real_index:
            raise TalkbenchError(f"two real images pair as '{key}': {real.names[real_index[key]]} and {name}")
        real_index[key] = i
    pairs: list[tuple[int, int]] = []
    missing: list[str] = []
    for j, name in enumerate(fake.names):
        match = real_index.get(pair_key(name))
        if match is None:
            missing.append(name)
        else:
            pairs.append((match, j))
    if missing:
        raise TalkbenchError(f"{len(missing)} of {len(fake)} fake images have no real image of the same name "
                             f"(e.g. {missing[0]}); use --pairs none for unpaired metrics")
    unpartnered = len(real) - len(pairs)
    if unpartnered:  # they still count in distribution metrics (FID, KID), not in paired ones
        log.warning("%d of %d real images have no fake of the same name; paired metrics use %d pairs, "
                    "distribution metrics all %d real images", unpartnered, len(real), len(pairs), len(real))
    return pairs
