"""Run directories: ``runs/<name>/`` holds the resolved config, a manifest (versions,
device, git revision, weights with checksums, seeds, start/end) and the run's outputs."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from talkbench import __version__
from talkbench.config import dump_yaml, fingerprint, to_dict
from talkbench.files import read_json, write_json, write_text

LIBRARIES = ("torch", "torchvision", "timm", "numpy", "scikit-learn", "scipy", "pandas", "lpips",
             "pytorch-fid", "insightface", "onnxruntime", "face-alignment", "dlib-bin",
             "face_recognition_models", "av", "opencv-python-headless", "matplotlib")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version(), "talkbench": __version__}
    for lib in LIBRARIES:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def git_revision(path: Path | None = None) -> str | None:
    """The checkout's commit (with '+dirty' if modified), or None outside git."""
    cwd = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def weights_record(names: list[str]) -> list[dict[str, Any]]:
    """Name, files and sha256 of each asset used (for manifests)."""
    from talkbench.weights import locate, sha256_file

    out = []
    for name in sorted(set(names)):
        res = locate(name)
        out.append({"name": name, "status": res.status, "source": res.source,
                    "files": [{"path": str(p), "sha256": sha256_file(p)} for p in res.paths]})
    return out


class RunDir:
    """A run's folder. ``start`` writes config + manifest; ``finish`` stamps the end."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def start(self, config: Any, *, seed: int | None = None, device: str | None = None,
              command: list[str] | None = None) -> dict:
        from talkbench.device import describe_device, select_device

        self.path.mkdir(parents=True, exist_ok=True)
        write_text(self.path / "config.yaml", dump_yaml(config))
        dev = select_device(device or "auto")
        manifest = {
            "talkbench": __version__,
            "command": command if command is not None else sys.argv,
            "config_fingerprint": fingerprint(config),
            "seed": seed,
            "device": describe_device(dev),
            "host": {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor()},
            "versions": library_versions(),
            "git_revision": git_revision(),
            "weights": [],
            "started": now(),
            "finished": None,
        }
        if self.manifest_path.exists():  # a resumed run keeps its history
            old = read_json(self.manifest_path)
            manifest["previous_starts"] = old.get("previous_starts", []) + [old.get("started")]
            manifest["weights"] = old.get("weights", [])
        write_json(self.manifest_path, manifest)
        return manifest

    def update(self, **fields: Any) -> dict:
        manifest = read_json(self.manifest_path)
        manifest.update(to_dict(fields))
        write_json(self.manifest_path, manifest)
        return manifest

    def record_weights(self, names: list[str]) -> None:
        manifest = read_json(self.manifest_path)
        known = {w["name"] for w in manifest.get("weights", [])}
        manifest["weights"] = manifest.get("weights", []) + [w for w in weights_record(names) if w["name"] not in known]
        write_json(self.manifest_path, manifest)

    def finish(self, **fields: Any) -> dict:
        return self.update(finished=now(), **fields)
