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
from tqdm import tqdm

from talkbench.config import fingerprint, to_dict
from talkbench.errors import TalkbenchError
from talkbench.generator import face3d
from talkbench.generator.dataset import VideoRecord, split_identities, write_index, write_video_arrays
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
class Video:
    """Per-video scene and per-frame motion (arrays over frames)."""

    background: np.ndarray  # (R, R, 3) float32
    light: np.ndarray  # (R, R) float32 multiplicative lighting ramp
    shirt: np.ndarray
    scale: float  # pixels per mm at render resolution
    centre: tuple[float, float]
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    shift: np.ndarray  # (N, 2) pixels
    expressions: list[face3d.Expression]


def make_video(rng: np.random.Generator, n_frames: int, render_size: int, cfg: SynthConfig) -> Video:
    r = render_size
    c0, c1 = rng.uniform(30, 230, 3), rng.uniform(30, 230, 3)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:r, 0:r].astype(np.float32) / r - 0.5
    ramp = (np.cos(ang) * xx + np.sin(ang) * yy + 0.5).clip(0, 1)[..., None]
    background = (c0 * (1 - ramp) + c1 * ramp).astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):  # a few soft shapes so backgrounds are not flat
        cx, cy, rad = rng.uniform(0, r, 2).astype(int), None, int(rng.uniform(0.1, 0.35) * r)
        cv2.circle(background, (int(cx[0]), int(cx[1])), rad, tuple(float(v) for v in rng.uniform(30, 230, 3)), -1, cv2.LINE_AA)
    background = cv2.GaussianBlur(background, (0, 0), r / 40)
    la = rng.uniform(0, 2 * np.pi)
    light = (1.0 + rng.uniform(0.1, 0.3) * (np.cos(la) * xx + np.sin(la) * yy) * 2).astype(np.float32)
    t = np.linspace(0.0, cfg.clip_seconds, n_frames)
    speech = np.clip(_smooth(rng, t, 1.0, (1.5, 4.0)) + rng.uniform(-0.2, 0.4), 0.0, None)
    blink_times = rng.uniform(0, cfg.clip_seconds, int(rng.integers(1, 4)))
    blink = np.clip(1.0 - np.min(np.abs(t[:, None] - blink_times[None]), 1) / 0.25, 0.0, 1.0)
    smile = _smooth(rng, t, 0.5, (0.1, 0.4)) + rng.uniform(-0.2, 0.5)
    width = _smooth(rng, t, 0.4, (0.5, 2.0))
    brows = np.clip(_smooth(rng, t, 2.0, (0.2, 0.8)), -1.5, 4.0)
    gaze = np.stack([_smooth(rng, t, 2.0, (0.1, 0.5)), _smooth(rng, t, 0.8, (0.1, 0.5))], 1)
    expressions = [face3d.Expression(mouth=float(min(speech[i] * 11.0, 22.0)), smile=float(np.clip(smile[i], -1, 1)),
                                     width=float(np.clip(width[i], -1, 1)), blink=float(blink[i]),
                                     brows=float(brows[i]), gaze=(float(gaze[i, 0]), float(gaze[i, 1])))
                   for i in range(n_frames)]
    scale = r / _FRAMING_MM * rng.uniform(0.9, 1.1)
    centre = (r * (0.5 + rng.uniform(-0.04, 0.04)), r * (0.5 + rng.uniform(-0.03, 0.05)))
    shift = np.stack([_smooth(rng, t, 0.02 * r, (0.1, 0.5)), _smooth(rng, t, 0.015 * r, (0.1, 0.5))], 1)
    return Video(
        background=background, light=light, shirt=rng.uniform(20, 235, 3),
        scale=scale, centre=centre,
        yaw=_smooth(rng, t, 9.0, (0.05, 0.35)) + rng.uniform(-8, 8),
        pitch=_smooth(rng, t, 5.0, (0.05, 0.35)) + rng.uniform(-4, 4),
        roll=_smooth(rng, t, 4.0, (0.05, 0.35)) + rng.uniform(-3, 3),
        shift=shift, expressions=expressions,
    )


# ---------------------------------------------------------------------------------------------
# Drawing

_SHIFT = 3
_ONE = 1 << _SHIFT


def _fx(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates → cv2 fixed-point int32."""
    return np.round(points * _ONE).astype(np.int32)


def _poly(img: np.ndarray, points: np.ndarray, colour) -> None:
    cv2.fillPoly(img, [_fx(points)], tuple(float(c) for c in colour), cv2.LINE_AA, _SHIFT)


def _line(img: np.ndarray, points: np.ndarray, colour, width: float, closed: bool = False) -> None:
    cv2.polylines(img, [_fx(points)], closed, tuple(float(c) for c in colour), max(1, int(round(width))), cv2.LINE_AA, _SHIFT)


def _ellipse(img: np.ndarray, centre: np.ndarray, axes: tuple[float, float], angle: float, colour) -> None:
    cv2.ellipse(img, (_fx(centre)[0].item(), _fx(centre)[1].item()), (max(1, int(axes[0] * _ONE)), max(1, int(axes[1] * _ONE))),
                angle, 0, 360, tuple(float(c) for c in colour), -1, cv2.LINE_AA, _SHIFT)


def _scaled(points: np.ndarray, factor: float) -> np.ndarray:
    c = points.mean(0)
    return c + (points - c) * factor


def draw_face(ident: Identity, xy: np.ndarray, video: Video, r: int, mm: float) -> np.ndarray:
    """Draw one frame at render resolution ``r`` from the projected points ``xy`` (P, 2)
    (landmarks first, then the auxiliary points); ``mm``: pixels per millimetre."""
    img = video.background.copy()
    lm = xy[:68]
    aux = {k: xy[s] for k, s in face3d.AUX_SLICES.items()}
    skin = ident.skin
    # body: shoulders and neck
    sh = aux["shoulders"]
    _poly(img, np.array([sh[0], sh[1], sh[3], sh[2]]), video.shirt)
    nk = aux["neck"]
    _poly(img, np.array([nk[0], nk[1], nk[3], nk[2]]), skin * 0.78)
    # hair behind the head
    if ident.hair_style == 2:
        skull = aux["skull"]
        back = np.concatenate([skull, [skull[-1] + [4 * mm, 75 * mm], skull[0] + [-4 * mm, 75 * mm]]])
        _poly(img, back, ident.hair * 0.85)
    # ears
    for e in aux["ears"]:
        _ellipse(img, e, (9 * mm, 16 * mm), 0, skin * 0.85)
    # face: jaw and forehead outline, with soft rim shading
    outline = np.concatenate([lm[:17], aux["forehead"][::-1][1:-1]])
    _poly(img, outline, skin * 0.80)
    _poly(img, _scaled(outline, 0.93), skin * 0.90)
    _poly(img, _scaled(outline, 0.80), skin)
    if ident.stubble > 0:
        chin = np.concatenate([lm[3:14], lm[[54, 55, 56, 57, 58, 59, 48]] + [0, 2 * mm]])
        _poly(img, chin, skin * (1 - 0.18 * ident.stubble))
    # hair on top
    if ident.hair_style > 0:
        skull, fh = aux["skull"], aux["forehead"]
        brow_y = lm[17:27, 1].mean()
        hairline = fh.copy()
        hairline[:, 1] = fh[:, 1] + (brow_y - fh[:, 1]) * ident.hairline * np.sin(np.linspace(0, np.pi, len(fh))) ** 0.6
        _poly(img, np.concatenate([skull[1:-1], hairline[::-1]]), ident.hair)
    # eye sockets (shadow), then eyes
    for eye in (lm[36:42], lm[42:48]):
        _poly(img, _scaled(eye, 1.55) + [0, -1.5 * mm], skin * 0.80)
    for eye, iris in ((lm[36:42], aux["iris"][0]), (lm[42:48], aux["iris"][1])):
        open_h = np.mean(eye[[5, 4], 1] - eye[[1, 2], 1])
        if open_h > 1.2 * mm:
            mask = np.zeros(img.shape[:2], np.uint8)
            _poly(mask, eye, (255,))
            layer = img.copy()
            _poly(layer, eye, (235, 232, 225))
            rad = 5.5 * mm
            _ellipse(layer, iris, (rad, rad), 0, ident.iris)
            _ellipse(layer, iris, (rad * 0.45, rad * 0.45), 0, (12, 10, 10))
            _ellipse(layer, iris + [-0.35 * rad, -0.35 * rad], (rad * 0.18, rad * 0.18), 0, (250, 250, 250))
            m = mask[..., None].astype(np.float32) / 255.0
            img = img * (1 - m) + layer * m
        _line(img, eye[[0, 1, 2, 3]], (25, 18, 16), 1.6 * mm)  # upper lid and lashes
        _line(img, eye[[3, 4, 5, 0]], skin * 0.55, 0.7 * mm)
    # brows
    for brow in (lm[17:22], lm[22:27]):
        _line(img, brow, ident.brows, ident.brow_width * mm)
    # nose: bridge shadow, base, nostrils
    side = 1.0 if lm[30, 0] >= lm[27, 0] else -1.0
    _line(img, lm[[27, 28, 29]] + [-side * 5 * mm, 0], skin * 0.80, 2.0 * mm)
    _line(img, lm[31:36], skin * 0.55, 1.2 * mm)
    for n in (lm[32], lm[34]):
        _ellipse(img, n + [0, -1.5 * mm], (2.6 * mm, 1.5 * mm), 0, (40, 25, 22))
    _ellipse(img, lm[30] + [0, -2 * mm], (3 * mm, 2.5 * mm), 0, np.minimum(skin * 1.08, 255))
    # mouth: lips, interior, teeth
    _poly(img, lm[48:60], ident.lips)
    inner = lm[60:68]
    gap = np.mean(inner[[7, 6, 5], 1] - inner[[1, 2, 3], 1])
    if gap > 0.8 * mm:
        _poly(img, inner, (45, 12, 16))
        teeth = inner[[0, 1, 2, 3, 4]]
        low = teeth + [0, min(gap * 0.45, 4 * mm)]
        _poly(img, np.concatenate([teeth, low[::-1]]), (225, 222, 210))
    _line(img, inner[[0, 1, 2, 3, 4]], ident.lips * 0.45, 1.0 * mm)
    _line(img, inner[[4, 5, 6, 7, 0]], ident.lips * 0.45, 0.6 * mm)
    # glasses
    if ident.glasses:
        for eye in (lm[36:42], lm[42:48]):
            c = eye.mean(0)
            _line(img, cv2.ellipse2Poly((int(c[0]), int(c[1])), (int(17 * mm), int(12 * mm)), 0, 0, 360, 20).astype(float),
                  (20, 20, 20), 1.2 * mm, closed=True)
        _line(img, lm[[39, 27, 42]] + [0, -2 * mm], (20, 20, 20), 1.2 * mm)
    img *= video.light[..., None]
    return img


def render_video(ident: Identity, video: Video, size: int, supersample: int,
                 noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(frames uint8 N×S×S×3, landmarks float32 N×68×2) of one video."""
    r = size * supersample
    n = len(video.expressions)
    frames = np.empty((n, size, size, 3), np.uint8)
    marks = np.empty((n, 68, 2), np.float32)
    mm = video.scale
    for i in range(n):
        pts = face3d.apply_expression(ident.shape, video.expressions[i])
        centre = (video.centre[0] + video.shift[i, 0], video.centre[1] + video.shift[i, 1])
        xy, _ = face3d.project(pts, video.yaw[i], video.pitch[i], video.roll[i], video.scale, centre)
        img = draw_face(ident, xy, video, r, mm)
        small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA) if supersample > 1 else img
        if noise > 0:
            small = small + rng.normal(0.0, noise, small.shape).astype(np.float32)
        frames[i] = np.clip(small, 0, 255).astype(np.uint8)
        # area-downsampling by k maps render pixel centre u to (u + 0.5) / k - 0.5
        marks[i] = (xy[:68] + 0.5) / supersample - 0.5
    return frames, marks


# ---------------------------------------------------------------------------------------------
# The dataset

def identity_name(i: int) -> str:
    return f"synth{i:05d}"


def _render_identity(args: tuple[Path, SynthConfig, int, str]) -> list[VideoRecord]:
    out, cfg, i, split = args
    rng = np.random.default_rng([cfg.seed, i])
    ident = make_identity(rng, cfg)
    n_frames = cfg.test_frames if split == "test" else cfg.frames
    records = []
    for v in range(cfg.videos):
        vrng = np.random.default_rng([cfg.seed, i, v + 1])
        video = make_video(vrng, n_frames, cfg.size * cfg.supersample, cfg)
        frames, marks = render_video(ident, video, cfg.size, cfg.supersample, cfg.noise, vrng)
        name = f"{identity_name(i)}_v{v:02d}"
        write_video_arrays(out, name, frames, marks)
        records.append(VideoRecord(identity_name(i), name, n_frames, cfg.size, split, "synthetic"))
    return records


def render_dataset(out: str | Path, cfg: SynthConfig, workers: int | None = None, progress: bool = True) -> Path:
    """Render the synthetic dataset into ``out`` (the prepared-dataset format)."""
    out = Path(out)
    if cfg.identities < 2 or cfg.videos < 1 or cfg.frames < 2 or cfg.size < 16 or cfg.supersample < 1:
        raise TalkbenchError("synth needs >= 2 identities, >= 1 video, >= 2 frames, size >= 16, supersample >= 1")
    splits = split_identities([identity_name(i) for i in range(cfg.identities)], cfg.test_fraction, cfg.seed)
    jobs = [(out, cfg, i, splits[identity_name(i)]) for i in range(cfg.identities)]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    records: list[VideoRecord] = []
    bar = tqdm(total=len(jobs), desc="synth", unit="id", disable=not progress)
    for recs in _map(_render_identity, jobs, workers):
        records.extend(recs)
        bar.update()
    bar.close()
    fp = fingerprint(cfg)
    write_index(out, records, cfg.size, "synthetic", config=to_dict(cfg),
                provenance=provenance(GENERATOR_NAME, fp, identities=cfg.identities, seed=cfg.seed))
    return out


def _map(fn, jobs: list, workers: int) -> Iterator:
    if workers <= 1:
        yield from map(fn, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(fn, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def tiny_dataset(out: str | Path, identities: int = 6, videos: int = 2, frames: int = 12,
                 test_frames: int = 40, size: int = 32, seed: int = 0) -> Path:
    """A small synthetic dataset for tests (a second or two on one core): 6 identities, of
    which 2 are test identities with 40 frames per video (enough for T=32 + 8 held-out)."""
    cfg = SynthConfig(identities=identities, videos=videos, frames=frames, test_frames=test_frames,
                      size=size, seed=seed, test_fraction=2 / identities)
    return render_dataset(out, cfg, workers=1, progress=False)
