"""Applying a trained detector to files: images or videos in, the fake probability per file
(and per frame for videos) out. Faces are found with a face backend and cropped exactly like
the training data (:mod:`talkbench.data.crop`); a file or frame without a face, or a file
that cannot be read, is reported with its status, never scored."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import pandas as pd

from talkbench.data.clips import Skip, read_clip
from talkbench.data.crop import BOX_MARGIN, LANDMARK_MARGIN, face_crops, to_square, track_faces
from talkbench.detector.base import Detector
from talkbench.errors import TalkbenchError
from talkbench.faces.registry import process_backend
from talkbench.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, iter_video, read_image
from talkbench.progress import progress_bar

if TYPE_CHECKING:
    from talkbench.faces.base import FaceBackend

FILE_COLUMNS = ["file", "type", "status", "prob_fake", "n_frames", "n_faces"]
FRAME_COLUMNS = ["file", "frame", "face_found", "prob_fake"]
VERDICT_COLUMNS = ["file", "verdict", "prob_fake", "threshold", "n_faces", "in_domain", "note"]


@dataclasses.dataclass
class PredictOptions:
    face_backend: str = "auto"  # a talkbench.faces backend name, or "none" for ready-made crops
    margin: float = BOX_MARGIN  # face crop margin, as in the data pipeline
    detect_size: int = 320  # frames are searched for faces at most this large (crops come from full size)
    every: int = 1  # video: score every n-th frame
    max_frames: int = 300  # video: at most this many scored frames
    batch_size: int = 64


def expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files given, and the images/videos inside folders given (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES)
        elif p.is_file():
            out.append(p)
        else:
            raise TalkbenchError(f"{p} does not exist")
    if not out:
        raise TalkbenchError("no image or video files to score")
    return out


class Predictor:
    """A detector plus the face cropping of its training data."""

    def __init__(self, detector: Detector, options: PredictOptions | None = None) -> None:
        self.detector = detector
        self.opt = options or PredictOptions()
        size: int | None = detector.crop_size or getattr(detector, "input_size", None) or getattr(detector, "size", 64)
        if not size:
            raise TalkbenchError(f"detector '{detector.name}' declares no input size")
        self.size = size
        self.backend: FaceBackend | None = None
        if self.opt.face_backend != "none":
            from talkbench.faces import create_backend

            self.backend = create_backend(self.opt.face_backend, "detect")

    def crops(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(crops, face found) for full frames; without a backend each image is a crop."""
        if self.backend is None:
            return np.stack([to_square(im, self.size) for im in images]), np.ones(len(images), bool)
        return face_crops(images, self.backend, self.size, self.opt.margin, self.opt.detect_size)

    def score(self, crops: np.ndarray, found: np.ndarray) -> np.ndarray:
        """P(fake) where a face was found, NaN elsewhere."""
        prob = np.full(len(crops), np.nan)
        if found.any():
            prob[found] = self.detector.predict_proba(crops[found], self.opt.batch_size)
            if not np.isfinite(prob[found]).all():
                raise TalkbenchError(f"detector '{self.detector.name}' returned non-finite probabilities "
                                     "(its weights are broken: a diverged or damaged model); retrain it")
        return prob

    def _video_frames(self, path: Path) -> Iterator[np.ndarray]:
        for i, (frame, _) in enumerate(iter_video(path)):
            if i // self.opt.every >= self.opt.max_frames:
                return
            if i % self.opt.every == 0:
                yield frame

    def predict_clip(self, path: Path) -> pd.DataFrame:
        """Per-frame rows for a detector trained on `detect import` crops: frames sampled and
        the face cropped exactly as the import did (evenly spaced, one landmark-framed
        square per video), so the detector sees what it was trained on."""
        dom = self.detector.domain or {}
        try:
            frames = read_clip(path, min(self.opt.max_frames, dom.get("frames_per_video") or 32))
            crops, _, keep, _ = track_faces(frames, process_backend(self.opt.face_backend), self.size,
                                            dom.get("margin", LANDMARK_MARGIN), self.opt.detect_size, 1, 0.0)
        except Skip as exc:
            raise TalkbenchError(str(exc)) from None
        found = np.zeros(len(frames), bool)
        found[keep] = True
        prob = np.full(len(frames), np.nan)
        prob[keep] = self.detector.predict_proba(crops, self.opt.batch_size)
        return pd.DataFrame({"file": str(path), "frame": np.arange(len(frames)), "face_found": found,
                             "prob_fake": prob}, columns=FRAME_COLUMNS)

    def predict_video(self, path: Path) -> pd.DataFrame:
        """Per-frame rows (frame index in the video, face found, probability)."""
        if self.backend is not None and (self.detector.domain or {}).get("crop") == "landmarks":
            return self.predict_clip(path)
        crops, found, chunk = [], [], []
        for frame in self._video_frames(path):
            chunk.append(frame)
            if len(chunk) == self.opt.batch_size:
                c, f = self.crops(chunk)
                crops.append(c)
                found.append(f)
                chunk = []
        if chunk:
            c, f = self.crops(chunk)
            crops.append(c)
            found.append(f)
        if not crops:
            raise TalkbenchError(f"video {path} has no decodable frames")
        c, f = np.concatenate(crops), np.concatenate(found)
        return pd.DataFrame({"file": str(path), "frame": np.arange(len(c)) * self.opt.every, "face_found": f,
                             "prob_fake": self.score(c, f)}, columns=FRAME_COLUMNS)

    def predict(self, paths: Sequence[str | Path], progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per-file table, per-frame table of the videos)."""
        files, frames, image_paths = [], [], []
        inputs = expand_inputs(paths)
        for path in progress_bar(inputs, desc="predict", unit="file", enabled=progress):
            if path.suffix.lower() not in VIDEO_SUFFIXES:
                image_paths.append(path)  # scored below in batches
                continue
            try:
                fr = self.predict_video(path)
            except TalkbenchError as exc:
                files.append(_failed(path, "video", exc))
                continue
            frames.append(fr)
            ok = fr.prob_fake.notna()
            files.append({"file": str(path), "type": "video", "status": "ok" if ok.any() else "no_face",
                          "prob_fake": fr.prob_fake[ok].mean() if ok.any() else np.nan,
                          "n_frames": len(fr), "n_faces": int(ok.sum())})
        for start in range(0, len(image_paths), self.opt.batch_size):
            part = []
            for path in image_paths[start:start + self.opt.batch_size]:
                try:
                    part.append((path, read_image(path)))
                except TalkbenchError as exc:
                    files.append(_failed(path, "image", exc))
            if not part:
                continue
            crops, found = self.crops([im for _, im in part])
            for (path, _), f, p in zip(part, found, self.score(crops, found)):
                files.append({"file": str(path), "type": "image", "status": "ok" if f else "no_face",
                              "prob_fake": p, "n_frames": 1, "n_faces": int(f)})
        order = {str(p): i for i, p in enumerate(inputs)}
        table = pd.DataFrame(files, columns=FILE_COLUMNS).sort_values("file", key=lambda s: s.map(order))
        per_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FRAME_COLUMNS)
        return table.reset_index(drop=True), per_frame


def _failed(path: Path, kind: str, exc: Exception) -> dict:
    return {"file": str(path), "type": kind, "status": f"error: {exc}", "prob_fake": np.nan, "n_frames": 0, "n_faces": 0}


def verdicts(files: pd.DataFrame, threshold: float = 0.5, outside: dict[str, str] | None = None) -> pd.DataFrame:
    """One verdict per file: 'fake' when its mean P(fake) ≥ ``threshold``, 'real' below it,
    'unscored' when it could not be scored (no face, unreadable); ``in_domain`` is False
    where the input lies outside what the detector was trained on (see ``note``)."""
    outside = outside or {}
    ok = files.status == "ok"
    verdict = np.where(~ok, "unscored", np.where(files.prob_fake >= threshold, "fake", "real"))
    notes = [outside.get(f, "") if s == "ok" else s for f, s in zip(files.file, files.status)]
    return pd.DataFrame({"file": files.file, "verdict": verdict, "prob_fake": files.prob_fake, "threshold": threshold,
                         "n_faces": files.n_faces, "in_domain": [f not in outside for f in files.file],
                         "note": notes}, columns=VERDICT_COLUMNS)
