"""Tiny replicas of the standard deepfake datasets, laid out exactly as each ships, built
from the real videos in ../shared (the real class) and manipulated copies of them (the fake
class: the face region blurred and recoloured, or replaced by another person's face), written
with PyAV. Each source video gives ``SEGMENTS`` short clips, so a replica has enough videos to
hold some out."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import cv2
import numpy as np

from talkbench.media import read_video, write_png, write_video
from talkbench.provenance import provenance

SEGMENTS = 2
CLIP_FRAMES = 8
WIDTH = 224  # replica videos are shrunk to this width: fast to write, decode and search


@functools.lru_cache(maxsize=2)
def sources(videos_dir: str) -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
    """(name, frames SEGMENTS·CLIP_FRAMES×H×W×3, face box) per shared video."""
    from talkbench.faces import create_backend

    backend = create_backend("dlib", "detect", upsample=0)
    out = []
    for path in sorted(Path(videos_dir).glob("*.mp4")):
        frames, _ = read_video(path, max_frames=SEGMENTS * CLIP_FRAMES * 3)
        frames = frames[::3]
        h, w = frames.shape[1:3]
        size = (WIDTH, int(round(h * WIDTH / w / 2)) * 2)
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
        box = backend.largest_faces([frames[0]])[0]
        if box is not None:
            out.append((path.stem, frames, box))
    return tuple(out)


def clip(source, segment: int) -> np.ndarray:
    return source[1][segment * CLIP_FRAMES:(segment + 1) * CLIP_FRAMES]


def manipulate(frames: np.ndarray, box: np.ndarray, donor: np.ndarray | None = None) -> np.ndarray:
    """The face box blurred and recoloured (or replaced by ``donor``'s face, then blurred)."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(0, x1), max(0, y1)
    out = frames.copy()
    for i, f in enumerate(out):
        region = f[y1:y2, x1:x2]
        if donor is not None:
            region = cv2.resize(donor[i % len(donor)], (region.shape[1], region.shape[0]))
        else:
            region = region[..., [2, 0, 1]]  # recoloured: channels rotated
        f[y1:y2, x1:x2] = cv2.GaussianBlur(np.ascontiguousarray(region), (0, 0), 3.0)
    return out


def _write(path: Path, frames: np.ndarray, what: str) -> None:
    write_video(path, frames, 25, provenance(generator=f"talkbench test replica ({what})", config_fingerprint="test"))


def donor_face(source) -> np.ndarray:
    x1, y1, x2, y2 = (int(round(v)) for v in source[2])
    return source[1][:CLIP_FRAMES, max(0, y1):y2, max(0, x1):x2]


def build_ffpp(root: Path, srcs, compression: str = "c23") -> dict[str, list[list[str]]]:
    """original_sequences/youtube/<c>/videos/000.mp4 ..., manipulated_sequences/{Deepfakes,
    Face2Face}/<c>/videos/<target>_<source>.mp4 and splits/{train,val,test}.json of pairs."""
    real_dir = root / "original_sequences" / "youtube" / compression / "videos"
    ids = [f"{i:03d}" for i in range(len(srcs) * SEGMENTS)]
    for k, vid in enumerate(ids):
        _write(real_dir / f"{vid}.mp4", clip(srcs[k // SEGMENTS], k % SEGMENTS), "real")
    pairs = [[ids[i], ids[i + 1]] for i in range(0, len(ids) - 1, 2)]
    for a, b in pairs:
        for t, s in ((a, b), (b, a)):
            src_t, src_s = srcs[int(t) // SEGMENTS], srcs[int(s) // SEGMENTS]
            frames = clip(src_t, int(t) % SEGMENTS)
            _write(root / "manipulated_sequences" / "Deepfakes" / compression / "videos" / f"{t}_{s}.mp4",
                   manipulate(frames, src_t[2], donor_face(src_s)), "face replaced")
            _write(root / "manipulated_sequences" / "Face2Face" / compression / "videos" / f"{t}_{s}.mp4",
                   manipulate(frames, src_t[2]), "face recoloured")
    n = len(pairs)
    splits = {"train": pairs[:n - 4], "val": pairs[n - 4:n - 2], "test": pairs[n - 2:]}
    (root / "splits").mkdir(parents=True, exist_ok=True)
    for name, part in splits.items():
        (root / "splits" / f"{name}.json").write_text(json.dumps(part))
    return splits


def build_celebdf(root: Path, srcs) -> list[str]:
    """Celeb-real/id<k>_000<s>.mp4, Celeb-synthesis/id<k>_id<j>_000<s>.mp4, YouTube-real/000<k>.mp4
    and List_of_testing_videos.txt (the last two people's videos)."""
    test = []
    for k, src in enumerate(srcs):
        donor = srcs[(k + 1) % len(srcs)]
        for s in range(SEGMENTS):
            frames = clip(src, s)
            real, fake = f"Celeb-real/id{k}_{s:04d}.mp4", f"Celeb-synthesis/id{k}_id{(k + 1) % len(srcs)}_{s:04d}.mp4"
            _write(root / real, frames, "real")
            _write(root / fake, manipulate(frames, src[2], donor_face(donor)), "face replaced")
            if k >= len(srcs) - 2:
                test += [f"1 {real}", f"0 {fake}"]
    _write(root / "YouTube-real" / "00000.mp4", clip(srcs[0], 1), "real")
    (root / "List_of_testing_videos.txt").write_text("\n".join(test) + "\n")
    return [line.split()[1] for line in test]


def build_dfdc(root: Path, srcs, parts: int = 2) -> None:
    """train/dfdc_train_part_<p>/{metadata.json, *.mp4} and test/{labels.csv, *.mp4}."""
    labels = ["filename,label"]
    for k, src in enumerate(srcs):
        for s in range(SEGMENTS):
            frames = clip(src, s)
            real, fake = f"r{k}{s}.mp4", f"f{k}{s}.mp4"
            if k >= len(srcs) - 2:  # the last two people are the test set
                folder = root / "test"
                labels += [f"{real},0", f"{fake},1"]
            else:
                folder = root / "train" / f"dfdc_train_part_{k % parts}"
                meta_path = folder / "metadata.json"
                meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
                meta[real] = {"label": "REAL", "split": "train"}
                meta[fake] = {"label": "FAKE", "split": "train", "original": real}
                folder.mkdir(parents=True, exist_ok=True)
                meta_path.write_text(json.dumps(meta))
            _write(folder / real, frames, "real")
            _write(folder / fake, manipulate(frames, src[2]), "face recoloured")
    (root / "test" / "labels.csv").write_text("\n".join(labels) + "\n")


def build_deepfakebench(root: Path, srcs) -> Path:
    """Extracted frames (PNG) under FaceForensics++/.../frames/<video>/ and the JSON
    {Dataset: {Label: {split: {c23: {video: {label, frames}}}}}} beside them."""
    data: dict = {"FaceForensics++": {"FF-real": {}, "FF-DF": {}}}
    for k, src in enumerate(srcs):
        split = "test" if k >= len(srcs) - 2 else "val" if k == len(srcs) - 3 else "train"
        for s in range(SEGMENTS):
            video = f"{k:03d}{s}"
            frames = clip(src, s)
            for label, clip_frames, folder in (("FF-real", frames, "original_sequences/youtube/c23/frames"),
                                               ("FF-DF", manipulate(frames, src[2]), "manipulated_sequences/Deepfakes/c23/frames")):
                rels = []
                for i, f in enumerate(clip_frames):
                    rel = f"FaceForensics++/{folder}/{video}/{i:03d}.png"
                    write_png(root / rel, f, provenance(generator="talkbench test replica", config_fingerprint="test"))
                    rels.append(rel)
                data["FaceForensics++"][label].setdefault(split, {"c23": {}})["c23"][video] = {"label": label,
                                                                                               "frames": rels}
    path = root / "FaceForensics++.json"
    path.write_text(json.dumps(data))
    return path


def build_folders(root: Path, srcs) -> None:
    """real/<person>/<clip>.mp4 and fake/<person>/<clip>.mp4."""
    for k, src in enumerate(srcs):
        for s in range(SEGMENTS):
            frames = clip(src, s)
            _write(root / "real" / src[0] / f"{s}.mp4", frames, "real")
            _write(root / "fake" / src[0] / f"{s}.mp4", manipulate(frames, src[2]), "face recoloured")
