"""Does the generator do what the method claims? Paired checks over test people.

A talking-head model can score a plausible SSIM while ignoring who it is drawing (a mean
face in the driver's pose) or while doing no better than showing a shot frame. These checks
ask, per test person and T, and then over people (paired differences with a Student-t 95 %
CI; people are the independent units):

- ``own_vs_other``: FF with the person's own embedding ê against FF with another test
  person's ê (same driver landmarks, same T): identity must come from ê.
- ``own_vs_mean``: FF with the own ê against G driven by the mean ê of training videos
  (the "mean face" baseline).
- ``ft_vs_nearest_shot``: FT against the nearest shot frame (per held-out frame, the shot
  whose landmarks are closest): the model must beat copying its input.

Scores per person: SSIM and L1 (mean absolute error, 0–255) against the held-out ground truth; identity similarity
(cosine of face-recognition embeddings of each fake against the mean embedding of the
person's real held-out frames) and the share of fakes where a face is found.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

CHECK_COLUMNS = ["check", "T", "metric", "a", "b", "a_mean", "b_mean", "diff", "ci_low", "ci_high", "n_people",
                 "higher_is_better", "holds"]
PEOPLE_COLUMNS = ["method", "T", "identity", "ssim", "l1", "id_sim", "face_rate", "n_frames"]


@dataclasses.dataclass
class PersonFakes:
    """The held-out frames of one test person at one T, and the fakes of each method."""

    identity: str
    T: int
    real: np.ndarray  # (H, S, S, 3) uint8 ground truth
    fakes: dict[str, np.ndarray]  # method → (H, S, S, 3) uint8


def nearest_shot_frames(shot_frames: np.ndarray, shot_landmarks: np.ndarray,
                        target_landmarks: np.ndarray) -> np.ndarray:
    """For each target, the shot frame whose 68 landmarks are closest (mean point distance)."""
    d = np.linalg.norm(target_landmarks[:, None] - shot_landmarks[None], axis=-1).mean(axis=-1)  # (H, T)
    return shot_frames[d.argmin(axis=1)]


@torch.no_grad()
def mean_training_embedding(model, dataset, n_videos: int = 64, k: int = 8, seed: int = 0) -> torch.Tensor:
    """ē: the mean embedding over ``n_videos`` training videos (K frames each), (1, d)."""
    videos = dataset.videos("train")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(videos), min(n_videos, len(videos)), replace=False)
    device = next(model.parameters()).device
    embs = []
    for i in chosen:
        frames, marks = dataset.load(videos[int(i)], mmap=True)
        idx = np.sort(rng.choice(len(frames), min(k, len(frames)), replace=False))
        embs.append(model.embed(_tensor(np.asarray(frames[idx]), device),
                                _landmark_images(np.asarray(marks[idx]), dataset.size, device)))
    return torch.cat(embs).mean(dim=0, keepdim=True)


def _tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    from talkbench.generator.landmark_image import to_tensor_range

    return torch.from_numpy(np.ascontiguousarray(to_tensor_range(images))).to(device)


def _landmark_images(landmarks: np.ndarray, size: int, device: torch.device) -> torch.Tensor:
    from talkbench.generator.landmark_image import draw_landmarks

    return _tensor(draw_landmarks(landmarks, size), device)


def _uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def person_fakes(model, dataset, cases: Sequence, generated: dict[str, Callable[..., np.ndarray | None]],
                 seed: int = 0) -> list[PersonFakes]:
    """Per case: the baselines (FF with the next test person's ê, G with the training mean ê,
    and, where FT fakes exist, the nearest shot frame) beside the suite's own fakes,
    ``generated[mode](case)``. Where that is None (a person the suite did not generate), FF is
    drawn here from the person's own ê, as the FF model does; FT is left out."""
    device = next(model.parameters()).device
    size = dataset.size
    mean_e = mean_training_embedding(model, dataset, seed=seed)
    out = []
    for t in sorted({c.T for c in cases}):
        at_t = sorted((c for c in cases if c.T == t), key=lambda c: c.identity)
        embs = [model.embed(_tensor(c.shot_frames, device), _landmark_images(c.shot_landmarks, size, device))
                for c in at_t]
        for i, c in enumerate(at_t):
            y = _landmark_images(c.heldout_landmarks, size, device)
            fakes = {"FF-other-ê": _uint8(model.G(y, embs[(i + 1) % len(at_t)])),
                     "FF-mean-ê": _uint8(model.G(y, mean_e))}
            for mode, make in generated.items():
                made = make(c)
                if made is None and mode == "FF":
                    made = _uint8(model.G(y, embs[i]))
                if made is not None:
                    fakes[mode] = made
            if "FT" in fakes:
                fakes["nearest-shot"] = nearest_shot_frames(c.shot_frames, c.shot_landmarks, c.heldout_landmarks)
            out.append(PersonFakes(c.identity, t, c.heldout_frames, fakes))
    return out


def score_people(people: Sequence[PersonFakes], embed: Callable[[np.ndarray], np.ndarray] | None) -> pd.DataFrame:
    """Per (method, T, person): SSIM, L1 (0–255), identity similarity and face rate.
    ``embed`` maps uint8 images to L2-normalised identity embeddings (NaN rows: no face).
    With ``embed``, a ``real`` row per (T, person) gives the face rate of the held-out real
    frames themselves: what the fakes' face rates are to be read against (SSIM, L1 and
    identity similarity left empty)."""
    from talkbench.faces.base import l2_normalise
    from talkbench.metrics.pixel import l1_batch
    from talkbench.metrics.ssim import ssim_batch

    rows = []
    # identity → (its held-out frames, their mean embedding, their face rate)
    real_faces: dict[str, tuple[np.ndarray, np.ndarray | None, float]] = {}
    for p in people:
        real_mean = None
        if embed is not None:
            cached = real_faces.get(p.identity)
            if cached is None or not np.array_equal(cached[0], p.real):  # the same held-out frames at every T
                r = embed(p.real)
                ok = np.isfinite(r).all(axis=1)
                cached = (p.real, l2_normalise(r[ok].mean(axis=0)) if ok.any() else None, float(ok.mean()))
                real_faces[p.identity] = cached
            real_mean = cached[1]
            rows.append({"method": "real", "T": p.T, "identity": p.identity, "ssim": np.nan, "l1": np.nan,
                         "id_sim": np.nan, "face_rate": cached[2], "n_frames": len(p.real)})
        for method, fake in p.fakes.items():
            id_sim = face_rate = np.nan
            if embed is not None:
                e = embed(fake)
                ok = np.isfinite(e).all(axis=1)
                face_rate = float(ok.mean())
                if real_mean is not None and ok.any():
                    id_sim = float((e[ok] @ real_mean).mean())
            rows.append({"method": method, "T": p.T, "identity": p.identity,
                         "ssim": float(ssim_batch(fake, p.real).mean()), "l1": float(l1_batch(fake, p.real).mean()),
                         "id_sim": id_sim, "face_rate": face_rate, "n_frames": len(fake)})
    return pd.DataFrame(rows, columns=PEOPLE_COLUMNS)


CHECKS = (("own_vs_other", "FF", "FF-other-ê"), ("own_vs_mean", "FF", "FF-mean-ê"),
          ("ft_vs_nearest_shot", "FT", "nearest-shot"))
HIGHER_IS_BETTER = {"ssim": True, "l1": False, "id_sim": True}


def paired_checks(people: pd.DataFrame) -> pd.DataFrame:
    """Each check × T × metric: mean paired difference a − b over people with its 95 % CI;
    ``holds`` when the CI excludes zero in the metric's better direction."""
    from talkbench.metrics.base import mean_ci

    rows = []
    for check, a, b in CHECKS:
        for t in sorted(people["T"].unique()):
            part = people[people["T"] == t]
            wide_a = part[part["method"] == a].set_index("identity")
            wide_b = part[part["method"] == b].set_index("identity")
            common = wide_a.index.intersection(wide_b.index)
            for metric, higher in HIGHER_IS_BETTER.items():
                va, vb = wide_a.loc[common, metric].to_numpy(float), wide_b.loc[common, metric].to_numpy(float)
                ok = np.isfinite(va) & np.isfinite(vb)
                if ok.sum() < 2:
                    continue
                diff, lo, hi = mean_ci(va[ok] - vb[ok])
                holds = bool(lo > 0) if higher else bool(hi < 0)
                rows.append({"check": check, "T": int(t), "metric": metric, "a": a, "b": b,
                             "a_mean": float(va[ok].mean()), "b_mean": float(vb[ok].mean()), "diff": diff,
                             "ci_low": lo, "ci_high": hi, "n_people": int(ok.sum()), "higher_is_better": higher,
                             "holds": holds})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)
