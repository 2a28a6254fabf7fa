"""Synthetic talking faces: the embedded default dataset, so the suite runs anywhere offline.

Each identity is a random 3D face shape (`face3d.identity_shape`) with its own colours
(skin, iris, brows, lips, hair), hair style and accessories; each of its videos has its own
background, lighting, framing and smooth trajectories of head pose, speech-like mouth
motion, blinks, smiles, brow raises and gaze. Every frame is the 3D landmark template
posed and projected, then the face is drawn from the projected points with OpenCV
(anti-aliased, rendered at ``supersample``× and area-downsampled), so the 68 ground-truth
landmarks are exactly where the pixels put the features. Deterministic given the seed.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from talkbench.config import fingerprint, to_dict
from talkbench.data import face3d
from talkbench.data.dataset import (VideoRecord, split_identities, video_is_written, write_index,
                                    write_video_arrays)
from talkbench.errors import TalkbenchError
from talkbench.files import read_json, write_json
from talkbench.processes import die_with_parent
from talkbench.progress import progress_bar
from talkbench.provenance import provenance

GENERATOR_NAME = "talkbench-synth"
_FRAMING_MM = 270.0  # millimetres of face-plane the image side spans (face ≈ 50 % of the width)


@dataclasses.dataclass
class SynthConfig:
    """What `talkbench synth` renders. Test identities get ``test_frames`` per video so the
    few-shot protocol has T = 32 shots plus held-out frames."""

    identities: int = 200
    videos: int = 4
    frames: int = 32
    test_frames: int = 48
    size: int = 64
    seed: int = 0
    test_fraction: float = 0.1
    supersample: int = 2
    clip_seconds: float = 6.0  # the span of "time" a video's frames are sampled across
    noise: float = 3.0  # sensor noise (std, 0-255 levels)
    glasses: float = 0.15  # share of identities wearing glasses
    occlusion: float = 0.0  # share of frames with an object (a hand, a microphone ...) in front of the face
    light_change: float = 0.0  # how much the light changes within a video (0: fixed; 1: brightness ±15 %,
    # colour temperature ±8 %, direction ±30°: the scale of smooth random trajectories over the clip)


# ---------------------------------------------------------------------------------------------
# Identities and videos

_SKIN = np.array([[255, 224, 196], [241, 194, 160], [224, 172, 132], [198, 134, 96], [160, 100, 66],
                  [120, 74, 48], [92, 56, 38]], float)
_HAIR = np.array([[20, 16, 14], [52, 34, 22], [96, 62, 36], [150, 110, 60], [200, 170, 110],
                  [120, 40, 20], [160, 160, 160], [60, 56, 54]], float)
_IRIS = np.array([[70, 44, 26], [40, 24, 14], [60, 100, 150], [80, 110, 70], [110, 90, 60], [30, 30, 30]], float)


@dataclasses.dataclass
class Identity:
    shape: np.ndarray  # (P, 3) millimetres
    skin: np.ndarray  # RGB float
    lips: np.ndarray
    brows: np.ndarray
    hair: np.ndarray
    iris: np.ndarray
    hair_style: int  # 0 bald, 1 short, 2 long
    hairline: float  # 0..1, how far the hair comes down the forehead
    brow_width: float  # mm
    glasses: bool
    stubble: float  # 0..1


def make_identity(rng: np.random.Generator, cfg: SynthConfig) -> Identity:
    skin = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.93, 1.05) + rng.normal(0, 6, 3)
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    lips = skin * np.array([0.82, 0.55, 0.58]) + rng.normal(0, 8, 3)
    brows = np.minimum(hair, skin * 0.45) * rng.uniform(0.6, 1.0)
    return Identity(
        shape=face3d.identity_shape(rng),
        skin=np.clip(skin, 40, 255), lips=np.clip(lips, 20, 230), brows=np.clip(brows, 5, 200),
        hair=np.clip(hair, 5, 230), iris=np.clip(_IRIS[rng.integers(len(_IRIS))] + rng.normal(0, 10, 3), 5, 200),
        hair_style=int(rng.choice(3, p=[0.1, 0.5, 0.4])), hairline=float(rng.uniform(0.2, 0.65)),
        brow_width=float(rng.uniform(3.5, 6.5)), glasses=bool(rng.random() < cfg.glasses),
        stubble=float(rng.random() * (rng.random() < 0.25)),
    )


def _smooth(rng: np.random.Generator, t: np.ndarray, amplitude: float, freqs: tuple[float, float]) -> np.ndarray:
    """A smooth random trajectory: a sum of three sinusoids with random frequency and phase."""
    out = np.zeros_like(t)
    for _ in range(3):
        f = rng.uniform(*freqs)
        out += rng.normal(0, 1) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return amplitude * out / np.sqrt(3.0)


@dataclasses.dataclass
class Lighting:
    """A video's light per frame: a linear ramp across the image (direction ``angle``,
    ``strength``) times a per-channel ``gain`` (brightness and colour temperature). Fixed
    over the video unless ``SynthConfig.light_change``; then one frame is an ambiguous view
    of the person's colours, and more shots average the light out."""

    angle: np.ndarray  # (N,) radians
    strength: float
    gain: np.ndarray  # (N, 3) multiplier per RGB channel

    def frame(self, i: int, size: int) -> np.ndarray:
        """The (S, S, 3) float32 multiplier of frame ``i``."""
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        angle = float(self.angle[i])
        ramp = (1.0 + self.strength * (np.cos(angle) * xs + np.sin(angle) * ys)).astype(np.float32)[..., None]
        return ramp * self.gain[i].astype(np.float32)


def _lighting(rng: np.random.Generator, t: np.ndarray, angle: float, strength: float, change: float) -> Lighting:
    n = len(t)
    if change == 0:
        return Lighting(np.full(n, angle), strength, np.ones((n, 3)))
    brightness = np.exp(_smooth(rng, t, 0.15 * change, (0.1, 0.5)))
    warmth = _smooth(rng, t, 0.08 * change, (0.1, 0.5))
    gain = brightness[:, None] * np.stack([1 + warmth, np.ones(n), 1 - warmth], 1)
    return Lighting(angle + _smooth(rng, t, np.radians(30.0) * change, (0.1, 0.5)), strength, gain)


@dataclasses.dataclass
class Video:
    """Per-video scene and per-frame motion (arrays over the N frames)."""

    background: np.ndarray  # (R, R, 3) uint8 at render resolution
    light: Lighting
    noise: np.ndarray  # (S + 16, S + 16, 3) float32 sensor-noise bank, cropped at random per frame
    shirt: np.ndarray
    scale: float  # render pixels per mm at the face
    centre: np.ndarray  # (N, 2) render pixels
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    expression: face3d.Expression


def make_video(rng: np.random.Generator, n_frames: int, size: int, cfg: SynthConfig) -> Video:
    r = size * cfg.supersample
    c0, c1 = rng.uniform(30, 230, 3), rng.uniform(30, 230, 3)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:r, 0:r].astype(np.float32) / r - 0.5
    ramp = (np.cos(ang) * xx + np.sin(ang) * yy + 0.5).clip(0, 1)[..., None]
    background = (c0 * (1 - ramp) + c1 * ramp).astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):  # a few soft shapes so backgrounds are not flat
        cx, cy = rng.uniform(0, r, 2)
        cv2.circle(background, (int(cx), int(cy)), int(rng.uniform(0.1, 0.35) * r),
                   tuple(float(v) for v in rng.uniform(30, 230, 3)), -1, cv2.LINE_AA)
    background = np.clip(cv2.GaussianBlur(background, (0, 0), r / 40), 0, 255).astype(np.uint8)
    light_angle, light_strength = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.6)
    noise = rng.normal(0.0, cfg.noise, (size + 16, size + 16, 3)).astype(np.float32)
    t = np.linspace(0.0, cfg.clip_seconds, n_frames)
    speech = np.clip(_smooth(rng, t, 1.0, (1.5, 4.0)) + rng.uniform(-0.2, 0.4), 0.0, 2.0)
    blink_times = rng.uniform(0, cfg.clip_seconds, int(rng.integers(1, 4)))
    blink = np.clip(1.0 - np.min(np.abs(t[:, None] - blink_times[None]), 1) / 0.25, 0.0, 1.0)
    expression = face3d.Expression(
        mouth=speech * 11.0,
        smile=np.clip(_smooth(rng, t, 0.5, (0.1, 0.4)) + rng.uniform(-0.2, 0.5), -1, 1),
        width=np.clip(_smooth(rng, t, 0.4, (0.5, 2.0)), -1, 1),
        blink=blink,
        brows=np.clip(_smooth(rng, t, 2.0, (0.2, 0.8)), -1.5, 4.0),
        gaze=np.stack([_smooth(rng, t, 2.0, (0.1, 0.5)), _smooth(rng, t, 0.8, (0.1, 0.5))], 1))
    centre = np.array([r * (0.5 + rng.uniform(-0.04, 0.04)), r * (0.5 + rng.uniform(-0.03, 0.05))])
    centre = centre + np.stack([_smooth(rng, t, 0.02 * r, (0.1, 0.5)), _smooth(rng, t, 0.015 * r, (0.1, 0.5))], 1)
    # the lighting's own stream (a spawned child), so light_change leaves every other draw as it was
    light = _lighting(rng.spawn(1)[0], t, light_angle, light_strength, cfg.light_change)
    return Video(
        background=background, light=light, noise=noise, shirt=rng.uniform(20, 235, 3),
        scale=r / _FRAMING_MM * rng.uniform(0.9, 1.1), centre=centre,
        yaw=_smooth(rng, t, 9.0, (0.05, 0.35)) + rng.uniform(-8, 8),
        pitch=_smooth(rng, t, 5.0, (0.05, 0.35)) + rng.uniform(-4, 4),
        roll=_smooth(rng, t, 4.0, (0.05, 0.35)) + rng.uniform(-3, 3),
        expression=expression,
    )


# ---------------------------------------------------------------------------------------------
# Drawing: cv2 primitives in fixed point (sub-pixel positions), anti-aliased

_SHIFT = 3
_ONE = 1 << _SHIFT


def _fx(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates → cv2 fixed-point int32 (rounded; coordinates are positive or
    a few pixels off-image, where rounding towards zero does not matter)."""
    return (points * _ONE + 0.5).astype(np.int32)


def _poly(img: np.ndarray, points: np.ndarray, colour: tuple) -> None:
    cv2.fillPoly(img, [_fx(points)], colour, cv2.LINE_AA, _SHIFT)


def _line(img: np.ndarray, points: np.ndarray, colour: tuple, width: float, closed: bool = False) -> None:
    cv2.polylines(img, [_fx(points)], closed, colour, max(1, int(round(width))), cv2.LINE_AA, _SHIFT)


def _ellipse(img: np.ndarray, centre: np.ndarray, axes: tuple[float, float], colour: tuple) -> None:
    c = _fx(centre)
    cv2.ellipse(img, (int(c[0]), int(c[1])), (max(1, int(axes[0] * _ONE)), max(1, int(axes[1] * _ONE))),
                0, 0, 360, colour, -1, cv2.LINE_AA, _SHIFT)


def _scaled(points: np.ndarray, factor: float) -> np.ndarray:
    c = points.mean(0)
    return c + (points - c) * factor


def palette(ident: Identity, shirt: np.ndarray) -> dict[str, tuple]:
    """The colours one identity (in one video's shirt) is drawn with, as cv2 colour tuples."""
    sk = ident.skin
    cols: dict[str, np.ndarray | tuple[int, int, int]] = {"skin": sk, "rim": sk * 0.80, "mid": sk * 0.90, "neck": sk * 0.78, "ear": sk * 0.85,
            "socket": sk * 0.80, "lid": sk * 0.55, "bridge": sk * 0.80, "nose_base": sk * 0.55,
            "tip": np.minimum(sk * 1.08, 255), "stubble": sk * (1 - 0.18 * ident.stubble),
            "hair": ident.hair, "hair_back": ident.hair * 0.85, "brows": ident.brows, "iris": ident.iris,
            "lips": ident.lips, "lip_line": ident.lips * 0.45, "shirt": shirt,
            "sclera": (235, 232, 225), "pupil": (12, 10, 10), "glint": (250, 250, 250), "lash": (25, 18, 16),
            "nostril": (40, 25, 22), "mouth": (45, 12, 16), "teeth": (225, 222, 210), "frame": (20, 20, 20)}
    return {k: tuple(float(c) for c in v) for k, v in cols.items()}


def _draw_eye(img: np.ndarray, eye: np.ndarray, iris: np.ndarray, mm: float, col: dict[str, tuple]) -> None:
    """Sclera, then iris, pupil and glint as ellipses whose height is the lid opening (the
    visible part of an iris between the lids), centred between the lids."""
    _poly(img, eye, col["sclera"])
    upper = np.interp(iris[0], eye[[0, 1, 2, 3], 0], eye[[0, 1, 2, 3], 1])
    lower = np.interp(iris[0], eye[[0, 5, 4, 3], 0], eye[[0, 5, 4, 3], 1])
    half = 0.5 * (lower - upper)
    rad = 5.5 * mm
    c = np.array([iris[0], 0.5 * (upper + lower)])
    _ellipse(img, c, (rad, min(rad, half)), col["iris"])
    _ellipse(img, c, (0.45 * rad, min(0.45 * rad, half)), col["pupil"])
    _ellipse(img, c - 0.3 * min(rad, half), (0.18 * rad, 0.18 * min(rad, half)), col["glint"])


def draw_face(img: np.ndarray, ident: Identity, xy: np.ndarray, mm: float, col: dict[str, tuple]) -> None:
    """Draw one face onto ``img`` (render resolution, background already there) from the
    projected points ``xy`` (P, 2): landmarks first, then `face3d.AUX_SLICES`; ``mm``: pixels
    per millimetre at the face."""
    lm = xy[:68]
    aux = {k: xy[s] for k, s in face3d.AUX_SLICES.items()}
    sh, nk = aux["shoulders"], aux["neck"]
    _poly(img, sh[[0, 1, 3, 2]], col["shirt"])
    _poly(img, nk[[0, 1, 3, 2]], col["neck"])
    if ident.hair_style == 2:  # long hair falls behind the head
        skull = aux["skull"]
        _poly(img, np.concatenate([skull, [skull[-1] + [4 * mm, 75 * mm], skull[0] + [-4 * mm, 75 * mm]]]), col["hair_back"])
    for e in aux["ears"]:
        _ellipse(img, e, (9 * mm, 16 * mm), col["ear"])
    # face: jaw and forehead outline, shaded darker towards the rim
    outline = np.concatenate([lm[:17], aux["forehead"][::-1][1:-1]])
    _poly(img, outline, col["rim"])
    _poly(img, _scaled(outline, 0.93), col["mid"])
    _poly(img, _scaled(outline, 0.80), col["skin"])
    if ident.stubble > 0:
        _poly(img, np.concatenate([lm[3:14], lm[[54, 55, 56, 57, 58, 59, 48]] + [0, 2 * mm]]), col["stubble"])
    if ident.hair_style > 0:  # hair on top, down to the hairline
        skull, fh = aux["skull"], aux["forehead"]
        brow_y = lm[17:27, 1].mean()
        hairline = fh.copy()
        hairline[:, 1] += (brow_y - fh[:, 1]) * ident.hairline * _HAIRLINE_SHAPE
        _poly(img, np.concatenate([skull[1:-1], hairline[::-1]]), col["hair"])
    for eye in (lm[36:42], lm[42:48]):
        _poly(img, _scaled(eye, 1.55) + [0, -1.5 * mm], col["socket"])
    for eye, iris in ((lm[36:42], aux["iris"][0]), (lm[42:48], aux["iris"][1])):
        if eye[5, 1] + eye[4, 1] - eye[1, 1] - eye[2, 1] > 2.4 * mm:
            _draw_eye(img, eye, iris, mm, col)
        _line(img, eye[[0, 1, 2, 3]], col["lash"], 1.6 * mm)
        _line(img, eye[[3, 4, 5, 0]], col["lid"], 0.7 * mm)
    for brow in (lm[17:22], lm[22:27]):
        _line(img, brow, col["brows"], ident.brow_width * mm)
    side = 1.0 if lm[30, 0] >= lm[27, 0] else -1.0  # the bridge's shadow falls away from the turn
    _line(img, lm[[27, 28, 29]] + [-side * 5 * mm, 0], col["bridge"], 2.0 * mm)
    _line(img, lm[31:36], col["nose_base"], 1.2 * mm)
    for n in (lm[32], lm[34]):
        _ellipse(img, n + [0, -1.5 * mm], (2.6 * mm, 1.5 * mm), col["nostril"])
    _ellipse(img, lm[30] + [0, -2 * mm], (3 * mm, 2.5 * mm), col["tip"])
    _poly(img, lm[48:60], col["lips"])
    inner = lm[60:68]
    gap = np.mean(inner[[7, 6, 5], 1] - inner[[1, 2, 3], 1])
    if gap > 0.8 * mm:  # open mouth: dark interior, upper teeth
        _poly(img, inner, col["mouth"])
        teeth = inner[:5]
        _poly(img, np.concatenate([teeth, teeth[::-1] + [0, min(gap * 0.45, 4 * mm)]]), col["teeth"])
    _line(img, inner[[0, 1, 2, 3, 4]], col["lip_line"], 1.0 * mm)
    _line(img, inner[[4, 5, 6, 7, 0]], col["lip_line"], 0.6 * mm)
    if ident.glasses:
        for eye in (lm[36:42], lm[42:48]):
            _line(img, eye.mean(0) + _RIM * mm, col["frame"], 1.2 * mm, closed=True)
        _line(img, lm[[39, 27, 42]] + [0, -2 * mm], col["frame"], 1.2 * mm)


_HAIRLINE_SHAPE = np.sin(np.linspace(0, np.pi, len(face3d.AUX["forehead"]))) ** 0.6
_RIM = np.stack([17 * np.cos(np.linspace(0, 2 * np.pi, 24, endpoint=False)),
                 12 * np.sin(np.linspace(0, 2 * np.pi, 24, endpoint=False))], 1)  # glasses rim, mm


def _draw_occluder(img: np.ndarray, face: np.ndarray, rng: np.random.Generator) -> None:
    """An opaque object in front of part of the face: an ellipse (a hand, in a skin tone, or
    a microphone / cup in any colour) centred on a random face point, 40–100 % of the face
    width across. Such frames show the person only in part, so one frame is an ambiguous
    view and more shots tell more (the landmarks stay where the face is, as annotated)."""
    width = float(np.ptp(face[:, 0]))
    centre = face[rng.integers(len(face))] + rng.normal(0, 0.1 * width, 2)
    colour = _SKIN[rng.integers(len(_SKIN))] if rng.random() < 0.5 else rng.uniform(20, 235, 3)
    axes = (rng.uniform(0.2, 0.4) * width, rng.uniform(0.25, 0.5) * width)
    c = _fx(centre[None])[0]
    cv2.ellipse(img, (int(c[0]), int(c[1])), (int(axes[0] * _ONE), int(axes[1] * _ONE)), float(rng.uniform(0, 180)),
                0, 360, tuple(float(v) for v in colour), -1, cv2.LINE_AA, _SHIFT)


def render_video(ident: Identity, video: Video, size: int, supersample: int,
                 rng: np.random.Generator, occlusion: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(frames uint8 N×S×S×3, landmarks float32 N×68×2) of one video; a share ``occlusion``
    of its frames has an object in front of the face."""
    pts = face3d.apply_expression(ident.shape, video.expression)
    xy = face3d.project(pts, video.yaw, video.pitch, video.roll, video.scale, video.centre)
    n = len(xy)
    frames = np.empty((n, size, size, 3), np.uint8)
    col = palette(ident, video.shirt)
    offsets = rng.integers(0, 17, (n, 2))
    occluded = rng.random(n) < occlusion if occlusion > 0 else np.zeros(n, bool)
    for i in range(n):
        img = video.background.copy()
        draw_face(img, ident, xy[i], video.scale, col)
        if occluded[i]:
            _draw_occluder(img, xy[i, :68], rng)
        small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA) if supersample > 1 else img
        oy, ox = offsets[i]
        lit = small * video.light.frame(i, size) + video.noise[oy:oy + size, ox:ox + size]
        np.clip(lit, 0, 255, out=lit)
        frames[i] = lit
    # area-downsampling by k maps render pixel centre u to (u + 0.5) / k - 0.5
    marks = ((xy[:, :68] + 0.5) / supersample - 0.5).astype(np.float32)
    return frames, marks


# ---------------------------------------------------------------------------------------------
# The dataset

def identity_name(i: int) -> str:
    return f"synth{i:05d}"


def _render_identity(args: tuple[Path, SynthConfig, int, str]) -> list[VideoRecord]:
    """Render (or, when its files are already there, just list) one identity's videos."""
    out, cfg, i, split = args
    n_frames = cfg.test_frames if split == "test" else cfg.frames
    names = [f"{identity_name(i)}_v{v:02d}" for v in range(cfg.videos)]
    records = [VideoRecord(identity_name(i), name, n_frames, cfg.size, split, "synthetic") for name in names]
    if all(video_is_written(out, name) for name in names):
        return records
    ident = make_identity(np.random.default_rng([cfg.seed, i]), cfg)
    for v, name in enumerate(names):
        vrng = np.random.default_rng([cfg.seed, i, v + 1])
        frames, marks = render_video(ident, make_video(vrng, n_frames, cfg.size, cfg), cfg.size, cfg.supersample, vrng,
                                     cfg.occlusion)
        write_video_arrays(out, name, frames, marks)
    return records


def render_dataset(out: str | Path, cfg: SynthConfig, workers: int | None = None, progress: bool = True) -> Path:
    """Render the synthetic dataset into ``out`` (the prepared-dataset format). Resumable:
    identities whose videos are on disk from an interrupted run of the same config are kept
    (``out/.synth-config.json`` records the config; a different config is refused)."""
    out = Path(out)
    if cfg.identities < 2 or cfg.videos < 1 or cfg.frames < 2 or cfg.size < 16 or cfg.supersample < 1:
        raise TalkbenchError("synth needs >= 2 identities, >= 1 video, >= 2 frames, size >= 16, supersample >= 1")
    fp = fingerprint(cfg)
    marker = out / ".synth-config.json"
    if marker.is_file() and read_json(marker).get("fingerprint") != fp:
        raise TalkbenchError(f"{out} holds a synthetic dataset of another config; choose a new folder or delete it")
    if not marker.is_file() and out.is_dir() and any(out.iterdir()):
        raise TalkbenchError(f"{out} is not empty and not a synthetic dataset; choose a new folder")
    write_json(marker, {"fingerprint": fp, "config": to_dict(cfg)})
    splits = split_identities([identity_name(i) for i in range(cfg.identities)], cfg.test_fraction, cfg.seed)
    jobs = [(out, cfg, i, splits[identity_name(i)]) for i in range(cfg.identities)]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    records: list[VideoRecord] = []
    with progress_bar(total=len(jobs), desc="synth", unit="identity", enabled=progress) as bar:
        for recs in _map(_render_identity, jobs, workers):
            records.extend(recs)
            bar.update()
    write_index(out, records, cfg.size, "synthetic", config=to_dict(cfg),
                provenance=provenance(GENERATOR_NAME, fp, identities=cfg.identities, seed=cfg.seed))
    return out


def _map(fn, jobs: list, workers: int) -> Iterator:
    if workers <= 1:
        yield from map(fn, jobs)
        return
    with ProcessPoolExecutor(workers, initializer=die_with_parent) as pool:
        yield from pool.map(fn, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def tiny_dataset(out: str | Path, identities: int = 6, videos: int = 2, frames: int = 12,
                 test_frames: int = 40, size: int = 32, seed: int = 0) -> Path:
    """A small synthetic dataset for tests (a second or two on one core): 6 identities, of
    which 2 are test identities with 40 frames per video (enough for T=32 + 8 held-out)."""
    cfg = SynthConfig(identities=identities, videos=videos, frames=frames, test_frames=test_frames,
                      size=size, seed=seed, test_fraction=2 / identities)
    return render_dataset(out, cfg, workers=1, progress=False)
