"""Reading and writing images and videos: RGB uint8 arrays in, files out (with provenance).

Images come back as H×W×3 uint8 RGB whatever is on disk (grayscale and RGBA are
converted). Videos are decoded and encoded with PyAV: it reports corrupt files as
exceptions we can count, and writes container metadata, which carries provenance.

Synthetic files (``meta["synthetic"] == "true"``) get three layers of provenance here, so
every writer has them: the text chunks / container fields, an invisible pixel watermark
(talkbench.watermark; ``watermark=False`` for experiment data that detectors train on)
and a signed C2PA manifest (talkbench.credentials). docs/provenance.md says what each
survives.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image, PngImagePlugin

from talkbench.errors import TalkbenchError
from talkbench.files import atomic_path, write_bytes
from talkbench.provenance import from_tags, to_tags

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def read_image(path: str | Path) -> np.ndarray:
    """H×W×3 uint8 RGB; raises TalkbenchError for unreadable files. 16-bit grey images are
    scaled to 8 bits (PIL's own conversion clips them, reading most of them as white)."""
    try:
        with Image.open(path) as im:
            if im.mode in ("RGB", "L", "P", "RGBA", "LA", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV"):
                return np.asarray(im.convert("RGB"))
            if im.mode.startswith("I"):  # I;16, I;16B, I (PNG 16-bit grey)
                grey = np.asarray(im).astype(np.int64)
                if grey.size and (grey.min() < 0 or grey.max() > 65535):
                    raise TalkbenchError(f"{path}: {im.mode} image with values outside 0..65535 is not supported")
                return np.repeat(((grey + 128) // 257).astype(np.uint8)[..., None], 3, axis=-1)
            raise TalkbenchError(f"{path}: image mode {im.mode} is not supported (save it as 8- or 16-bit RGB/grey)")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TalkbenchError(f"cannot read image {path}: {exc}") from None


def image_grid(rows: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """One H×W×3 uint8 image of ``rows`` of equal-size tiles, left to right, top to bottom:
    the sample grids of training, evaluation and the benchmark (each says what its columns
    are). Unequal tiles or rows are a one-line error, not a NumPy broadcast message."""
    if not rows or not all(rows):
        raise TalkbenchError("a sample grid needs at least one tile in every row")
    shapes = {t.shape for row in rows for t in row}
    lengths = {len(row) for row in rows}
    if len(shapes) != 1 or len(lengths) != 1:
        raise TalkbenchError(f"sample-grid tiles must be one size and rows one length (got tile shapes "
                             f"{sorted(shapes)}, row lengths {sorted(lengths)})")
    return np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TalkbenchError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def write_png(path: str | Path, image: np.ndarray, meta: dict[str, str] | None = None,
              watermark: bool = True) -> None:
    """Write an RGB uint8 image as PNG, atomically, with provenance in tEXt chunks; a
    synthetic one also gets the pixel watermark (unless ``watermark=False``) and a signed
    C2PA manifest."""
    meta = meta or {}
    synthetic = meta.get("synthetic") == "true"
    if synthetic:
        image, mark = _mark(image, watermark)
    info = PngImagePlugin.PngInfo()
    for k, v in to_tags(meta).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", pnginfo=info)
    data = buf.getvalue()
    if synthetic:  # the manifest alone adds the `watermark` field: text chunks stay as they were
        from talkbench.credentials import sign

        data = sign(data, ".png", {**meta, "watermark": mark}, Path(path).name)
    write_bytes(path, data)


def _mark(image: np.ndarray, watermark: bool) -> tuple[np.ndarray, str]:
    """(pixels to write, the ``watermark`` provenance field that says what they carry)."""
    from talkbench import watermark as wm

    if not watermark:
        return image, "none (experiment data: detectors must not learn a mark that only fakes carry)"
    if not wm.can_carry(image):
        return image, f"none (image under {wm.MIN_SIDE} px: too small to carry the mark reliably)"
    return wm.embed(image), f"{wm.METHOD}; claimed to survive: {', '.join(wm.claims_for(image.shape))}"


def read_png_provenance(path: str | Path) -> dict[str, str]:
    with Image.open(path) as im:
        if not isinstance(im, PngImagePlugin.PngImageFile):
            raise TalkbenchError(f"{path}: not a PNG file (provenance is read from PNG text chunks)")
        return from_tags(dict(im.text))


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """All (or the first ``max_frames``) frames as N×H×W×3 uint8 RGB, and the frame rate."""
    frames = []
    fps = 25.0
    for i, (frame, rate) in enumerate(iter_video(path)):
        if max_frames is not None and i >= max_frames:
            break
        frames.append(frame)
        fps = rate
    if not frames:
        raise TalkbenchError(f"video {path} has no decodable frames")
    return np.stack(frames), fps


def iter_video(path: str | Path) -> Iterator[tuple[np.ndarray, float]]:
    """Yield (RGB frame, fps); corrupt or unreadable files raise TalkbenchError."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise TalkbenchError(f"{path} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = float(stream.average_rate or 25)
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24"), rate
    except av.error.FFmpegError as exc:
        raise TalkbenchError(f"cannot decode video {path}: {exc}") from None


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 25.0,
                meta: dict[str, str] | None = None, crf: int = 18, watermark: bool = True) -> None:
    """Encode RGB frames to H.264 mp4 (atomically) with provenance in container metadata;
    a synthetic video's frames also get the pixel watermark (unless ``watermark=False``)
    and the file a signed C2PA manifest."""
    import av

    meta = meta or {}
    synthetic = meta.get("synthetic") == "true"
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise TalkbenchError(f"no frames to write to {path}")
    if synthetic:
        first, mark = _mark(first, watermark)
        if watermark:
            frames = (_mark(f, True)[0] for f in frames)
        from talkbench import watermark as wm

        if mark.startswith(wm.METHOD):  # what matters for a video: the encode
            h264 = "h264-crf18" in wm.claims_for(first.shape)
            mark = (f"{wm.METHOD} in every frame; "
                    + ("claimed to survive H.264 crf 18" if h264 else "NOT claimed to survive the H.264 encode at this size"))
    h, w = first.shape[:2]
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            container.metadata.update(_mp4_tags(meta or {}))
            stream = container.add_stream("libx264", rate=round(fps))
            stream.width, stream.height = w + w % 2, h + h % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf)}
            for img in _chain(first, frames):
                if img.shape[0] != stream.height or img.shape[1] != stream.width:
                    img = np.pad(img, ((0, stream.height - h), (0, stream.width - w), (0, 0)), mode="edge")
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        if synthetic:
            from talkbench.credentials import sign

            tmp.write_bytes(sign(tmp.read_bytes(), ".mp4", {**meta, "watermark": mark}, Path(path).name))


def _mp4_tags(meta: dict[str, str]) -> dict[str, str]:
    # mp4 muxers keep only known keys; 'comment' carries the whole record (JSON, so values
    # may hold any character), 'title' a summary.
    record = json.dumps(to_tags(meta), sort_keys=True)
    return {"comment": record, "title": f"synthetic ({meta.get('generator', 'talkbench')})"} if meta else {}


def read_video_provenance(path: str | Path) -> dict[str, str]:
    import av

    with av.open(str(path)) as container:
        record = container.metadata.get("comment", "")
    try:
        tags = json.loads(record) if record else {}
    except json.JSONDecodeError:
        return {}  # a comment some other tool wrote: no talkbench provenance
    return from_tags(tags) if isinstance(tags, dict) else {}


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
