"""A clip's frames, read the way `talkbench prepare` and `talkbench detect import` read
them: N frames sampled evenly from a video file, an image folder or a list of frame files;
a clip that cannot be used raises `Skip` with its reason. Their faces are cut by
`talkbench.data.crop`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from talkbench.errors import TalkbenchError
from talkbench.files import write_json
from talkbench.media import list_images, read_image


class Skip(Exception):
    """A clip that cannot be used; the message is the reason written to skipped.csv."""


def record_outcome(marker: Path, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One unit of a resumable import (a clip, a video): ``work()``'s fields as "done", or
    "skipped" with the reason, written atomically to ``marker`` (the resume record). One bad
    file must not end a long job, so any exception becomes a recorded reason."""
    try:
        result = {"status": "done", **work()}
    except (Skip, TalkbenchError) as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except Exception as exc:  # one bad file must not end the job; the reason is recorded
        result = {"status": "skipped", "reason": f"{type(exc).__name__}: {exc}"}
    write_json(marker, result)
    return result


def sample_indices(total: int, n: int) -> np.ndarray:
    """``n`` frame numbers spread evenly over ``total`` frames (all of them when fewer)."""
    if total <= n:
        return np.arange(total)
    return np.unique(np.round(np.linspace(0, total - 1, n)).astype(int))


def read_frames(files: Sequence[Path], n: int) -> np.ndarray:
    """N evenly sampled images of an ordered list of frame files, as N×H×W×3 RGB."""
    if not files:
        return np.zeros((0, 1, 1, 3), np.uint8)
    frames = [read_image(files[i]) for i in sample_indices(len(files), n)]
    if len({f.shape for f in frames}) > 1:
        raise Skip("frames of different sizes")
    return np.stack(frames)


def read_clip(path: Path, n: int) -> np.ndarray:
    """N evenly sampled RGB frames of a video file or an image folder (decoding stops after
    the last frame needed; only sampled frames are converted to RGB)."""
    if path.is_dir():
        return read_frames(list_images(path), n)
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise Skip("no video stream")
            stream = container.streams.video[0]
            total = stream.frames
            if total <= 0:  # container does not say: count by demuxing (no decoding)
                total = sum(1 for p in container.demux(stream) if p.size)
                container.seek(0)
            wanted = sample_indices(total, n)
            want = set(wanted.tolist())
            stream.thread_type = "AUTO"
            frames = []
            for i, frame in enumerate(container.decode(stream)):
                if i in want:
                    frames.append(frame.to_ndarray(format="rgb24"))
                if i >= wanted[-1]:
                    break
    except av.error.FFmpegError as exc:
        raise Skip(f"corrupt or unreadable video: {exc}") from None
    if not frames:
        raise Skip("corrupt or unreadable video: no decodable frames")
    if len(frames) < len(wanted):  # the stream ends before the frames its header announces
        raise Skip(f"truncated video: {len(frames)} of {len(wanted)} sampled frames decodable "
                   f"(the container announces {total} frames)")
    return np.stack(frames)
