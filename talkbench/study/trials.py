"""The study's registered image list and the balanced trial sampler.

Registration reads ``RUN/generated/frames.csv`` (self-reenactment rows: each generated frame
beside the real frame it reproduces), gives every image an opaque random id, generates one
obviously broken attention-check image per clip, and writes it all to
``RUN/study/registry.json``. The web app serves images *only* through that list, so no path
ever comes from a request. A trial shows one person three times: two real frames of the
clip and one fake, in random order. The reals never include the fake's own ground-truth
frame: the identical pose would turn the task into spot-the-difference.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from talkbench.contracts import FRAME_REQUIRED
from talkbench.errors import TalkbenchError
from talkbench.files import read_json, write_json
from talkbench.media import read_image, write_png
from talkbench.provenance import provenance

FORMAT = "talkbench-study"
MIN_FRAMES = 3  # a fake plus two real frames of other poses


def study_dir(run: Path) -> Path:
    return Path(run) / "study"


@dataclass(frozen=True)
class Setting:
    name: str
    mode: str
    T: int


@dataclass
class Clip:
    """The self-reenacted frames of one video in one setting: (frame, fake id, real id)."""
    setting: str
    identity: str
    video: str
    frames: list[tuple[int, str, str]]


@dataclass
class AttentionImage:
    """A corrupted copy of one real frame, shown with two other real frames of its clip."""
    identity: str
    video: str
    image: str
    source_frame: int
    reals: list[str]


@dataclass
class Registry:
    frames_fingerprint: str
    settings: list[Setting]
    clips: list[Clip]
    attention: list[AttentionImage]
    images: dict[str, str]  # opaque id -> path relative to RUN
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, d: dict) -> "Registry":
        if d.get("format") != FORMAT:
            raise TalkbenchError("study registry has an unknown format")
        return cls(
            frames_fingerprint=d["frames_fingerprint"],
            settings=[Setting(**s) for s in d["settings"]],
            clips=[Clip(c["setting"], c["identity"], c["video"], [tuple(f) for f in c["frames"]]) for c in d["clips"]],
            attention=[AttentionImage(**a) for a in d["attention"]],
            images=dict(d["images"]),
            skipped=list(d.get("skipped", [])),
        )


@dataclass(frozen=True)
class Trial:
    """One screen: ``images`` in display order; ``answer`` is the position of the odd one."""
    kind: str  # "test" | "attention"
    setting: str | None
    identity: str
    video: str
    images: tuple[str, str, str]
    answer: int


# ----------------------------------------------------------------------------- registration

def _inside(root: Path, rel: str, where: str) -> Path:
    """``root/rel`` if it is an existing file inside ``root``; a one-line error otherwise."""
    path = (root / rel).resolve()
    if not rel or Path(rel).is_absolute() or not path.is_relative_to(root.resolve()):
        raise TalkbenchError(f"{where}: path {rel!r} is not inside {root}")
    if not path.is_file():
        raise TalkbenchError(f"{where}: {path} does not exist")
    return path


def _read_self_rows(run: Path) -> tuple[list[dict[str, str]], str]:
    csv_path = run / "generated" / "frames.csv"
    if not csv_path.is_file():
        raise TalkbenchError(f"{csv_path} not found: run the benchmark first (`talkbench run`), "
                             "it writes the generated frames the study shows")
    data = csv_path.read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    missing = [c for c in FRAME_REQUIRED if rows and c not in rows[0]]
    if missing:
        raise TalkbenchError(f"{csv_path} lacks column(s) {', '.join(missing)}")
    self_rows = [r for r in rows if r["kind"] == "self"]
    if not self_rows:
        raise TalkbenchError(f"{csv_path} has no self-reenactment rows (kind == 'self')")
    return self_rows, hashlib.sha256(data).hexdigest()[:16]


def corrupt(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An unmistakably broken version of a frame: tiles shuffled, colours inverted, heavy noise."""
    h, w = image.shape[:2]
    n = 4
    th, tw = h // n, w // n
    tiles = [image[i * th:(i + 1) * th, j * tw:(j + 1) * tw] for i in range(n) for j in range(n)]
    order = rng.permutation(len(tiles))
    out = image.copy()
    for k, src in enumerate(order):
        i, j = divmod(k, n)
        out[i * th:(i + 1) * th, j * tw:(j + 1) * tw] = tiles[src]
    noise = rng.normal(0, 60, size=out.shape)
    return np.clip(255.0 - out.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def register(run: Path, seed: int = 0) -> Registry:
    """Build ``RUN/study/registry.json`` from the run's generated frames (see module doc)."""
    run = Path(run)
    rows, fp = _read_self_rows(run)
    gen = run / "generated"
    rng = np.random.default_rng(seed)
    images: dict[str, str] = {}

    def new_id(path: Path) -> str:
        image_id = secrets.token_hex(8)
        images[image_id] = path.relative_to(run.resolve()).as_posix()
        return image_id

    settings: dict[str, Setting] = {}
    grouped: dict[tuple[str, str, str], dict[int, tuple[Path, Path]]] = {}
    for n, r in enumerate(rows, start=2):
        where = f"frames.csv line {n}"
        try:
            setting = Setting(r["setting"], r["mode"], int(r["T"]))
            frame = int(r["frame"])
        except ValueError:
            raise TalkbenchError(f"{where}: T and frame must be integers") from None
        if settings.setdefault(setting.name, setting) != setting:
            raise TalkbenchError(f"{where}: setting {setting.name} has inconsistent mode/T")
        grouped.setdefault((setting.name, r["identity"], r["video"]), {})[frame] = (
            _inside(gen, r["fake_path"], where), _inside(gen, r["real_path"], where))

    clips, skipped = [], []
    for (setting_name, identity, video), frames in sorted(grouped.items()):
        if len(frames) < MIN_FRAMES:
            skipped.append(f"{setting_name}/{identity}/{video}: {len(frames)} frame(s), needs {MIN_FRAMES}")
            continue
        clips.append(Clip(setting_name, identity, video,
                          [(f, new_id(fake), new_id(real)) for f, (fake, real) in sorted(frames.items())]))
    if not clips:
        raise TalkbenchError(f"no clip in {gen / 'frames.csv'} has the {MIN_FRAMES} self-reenacted frames a trial needs")

    attention: list[AttentionImage] = []
    meta = provenance(generator="talkbench.study.attention", config_fingerprint=fp,
                      corruption="tiles shuffled, colours inverted, gaussian noise sigma 60")
    first_clip: dict[tuple[str, str], tuple[Clip, dict[int, tuple[Path, Path]]]] = {}
    for clip in clips:
        first_clip.setdefault((clip.identity, clip.video), (clip, grouped[(clip.setting, clip.identity, clip.video)]))
    for (identity, video), (clip, frames) in sorted(first_clip.items()):
        k = int(rng.integers(len(clip.frames)))
        source_frame = clip.frames[k][0]
        out = study_dir(run) / "attention" / f"{len(attention):04d}.png"
        write_png(out, corrupt(read_image(frames[source_frame][1]), rng), {**meta, "source": f"{identity}/{video}/{source_frame}"})
        attention.append(AttentionImage(identity, video, new_id(out.resolve()), source_frame,
                                        [real for f, _, real in clip.frames if f != source_frame]))

    reg = Registry(fp, sorted(settings.values(), key=lambda s: (s.mode, s.T)), clips, attention, images, skipped)
    write_json(study_dir(run) / "registry.json", reg.to_json())
    return reg


def load_or_register(run: Path, seed: int = 0) -> Registry:
    """The run's registry; registered on first use. Refuses a registry whose frames changed,
    since recorded responses refer to its images."""
    run = Path(run)
    path = study_dir(run) / "registry.json"
    if not path.exists():
        return register(run, seed)
    reg = Registry.from_json(read_json(path))
    _, fp = _read_self_rows(run)
    if fp != reg.frames_fingerprint:
        raise TalkbenchError(f"{run / 'generated' / 'frames.csv'} changed since the study was registered; "
                             f"move {study_dir(run)} away to start a new study")
    for image_id, rel in reg.images.items():
        _inside(run, rel, f"registry image {image_id}")
    return reg


# ----------------------------------------------------------------------------- sampling

def _pick_three(odd: str, reals: list[str], rng: np.random.Generator, kind: str, setting: str | None,
                identity: str, video: str) -> Trial:
    two = [reals[i] for i in rng.choice(len(reals), size=2, replace=False)]
    answer = int(rng.integers(3))
    shown = two[:answer] + [odd] + two[answer:]
    return Trial(kind, setting, identity, video, (shown[0], shown[1], shown[2]), answer)


def sample_trials(reg: Registry, n_test: int, n_attention: int, seed: int, number: int,
                  exposure: dict[tuple[str, str], int] | None = None) -> list[Trial]:
    """Participant ``number``'s trials: ``n_test`` split evenly over the settings (the
    remainder rotating with ``number``), in each setting the people shown least so far
    (``exposure``: test trials per (setting, identity) already handed out) first, plus
    ``n_attention`` attention checks at random positions after the first trial."""
    if n_test < 1 or n_attention < 0:
        raise TalkbenchError("trials per participant must be >= 1 and attention checks >= 0")
    exposure = dict(exposure or {})
    rng = np.random.default_rng([seed, number])
    names = [s.name for s in reg.settings]
    base, extra = divmod(n_test, len(names))
    counts = {name: base + (((i - number * extra) % len(names)) < extra) for i, name in enumerate(names)}
    by_setting: dict[str, dict[str, list[Clip]]] = {}
    for clip in reg.clips:
        by_setting.setdefault(clip.setting, {}).setdefault(clip.identity, []).append(clip)

    tests = []
    for name in names:
        people = by_setting.get(name, {})
        for _ in range(counts[name] if people else 0):
            ids = sorted(people)
            least = min(exposure.get((name, p), 0) for p in ids)
            candidates = [p for p in ids if exposure.get((name, p), 0) == least]
            identity = candidates[int(rng.integers(len(candidates)))]
            exposure[(name, identity)] = least + 1
            clip = people[identity][int(rng.integers(len(people[identity])))]
            k = int(rng.integers(len(clip.frames)))
            reals = [real for i, (_, _, real) in enumerate(clip.frames) if i != k]
            tests.append(_pick_three(clip.frames[k][1], reals, rng, "test", name, identity, clip.video))
    tests = [tests[i] for i in rng.permutation(len(tests))]

    for _ in range(n_attention if reg.attention else 0):
        a = reg.attention[int(rng.integers(len(reg.attention)))]
        trial = _pick_three(a.image, a.reals, rng, "attention", None, a.identity, a.video)
        tests.insert(int(rng.integers(1, len(tests) + 1)), trial)
    return tests
