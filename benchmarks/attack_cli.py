"""`talkbench attack`: adversarial fakes against detector checkpoints you bring.

- ``talkbench attack pgd IMAGES OUT --detector D.pt [--detector ...] --eps 4``: L∞ PGD on
  finished fakes (ε in grey levels, ε/255), PNGs with provenance naming the attack and the
  detectors, and ``attack.csv`` with each detector's P(fake) before and after.
- ``talkbench attack fewshot CHECKPOINT OUT --frames SRC --detector D.pt --weight 1``: a
  person's FT model fine-tuned with the evasion term against the detectors; its generator
  name (and so the provenance of everything `talkbench reenact` makes with it) says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    from talkbench.generator.fewshot_cli import add_recipe_option

    sub = parser.add_subparsers(dest="attack", metavar="ATTACK", required=True)
    p = sub.add_parser("pgd", help="L∞ PGD on a folder of fake images against frozen detectors",
                       description="L∞ PGD on a folder of fake images against frozen detectors")
    p.add_argument("images", type=Path, help="folder of fake images (PNG/JPEG) to perturb")
    p.add_argument("out", type=Path, help="folder for the perturbed PNGs and attack.csv")
    p.add_argument("--eps", type=int, default=4, help="L∞ radius in grey levels, i.e. ε/255 (default %(default)s)")
    p.add_argument("--steps", type=int, default=10, help="PGD steps (default %(default)s)")
    _common(p)
    f = sub.add_parser("fewshot", help="an FT few-shot model fine-tuned to evade frozen detectors",
                       description="an FT few-shot model fine-tuned to evade frozen detectors "
                                   "(λ·softplus(logit) per detector added to the FT loss)")
    f.add_argument("checkpoint", type=Path, help="meta-learned checkpoint (OUT/checkpoint.pt of `talkbench train`)")
    f.add_argument("out", type=Path, help="few-shot model file to write (e.g. person_evasive.pt)")
    f.add_argument("--frames", type=Path, required=True,
                   help="a prepared dataset folder (with --video) or a folder of raw images of one person")
    f.add_argument("--video", help="video id within a prepared dataset (default: its first test video)")
    f.add_argument("--shots", type=int, default=8, help="T, the number of frames used (default %(default)s)")
    f.add_argument("--steps", type=int, help="FT steps (default: the recipe's schedule)")
    add_recipe_option(f)
    f.add_argument("--weight", type=float, default=1.0, help="λ, the evasion term's weight (default %(default)s)")
    f.add_argument("--backend", default="auto", help="face backend for raw images (default auto)")
    _common(f)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector", type=Path, action="append", required=True, metavar="CKPT",
                   help="a detector checkpoint (`talkbench detect train` output); repeat to attack several at once")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from talkbench.detector.registry import load_detector

    detectors = [load_detector(p) for p in args.detector]
    return _pgd(args, detectors) if args.attack == "pgd" else _fewshot(args, detectors)


def _pgd(args: argparse.Namespace, detectors: list) -> int:
    import numpy as np
    import pandas as pd
    from talkbench.progress import progress_bar

    from talkbench.config import fingerprint
    from talkbench.detector.attack import pgd
    from talkbench.device import select_device
    from talkbench.errors import TalkbenchError
    from talkbench.files import atomic_path
    from talkbench.media import list_images, read_image, write_png
    from talkbench.provenance import provenance

    paths = list_images(args.images)
    if not paths:
        raise TalkbenchError(f"no images in {args.images}")
    device = select_device(args.device)
    names = ", ".join(f"{d.name} ({p})" for d, p in zip(detectors, args.detector))
    fp = fingerprint({"attack": "pgd", "eps": args.eps, "steps": args.steps, "detectors": [str(p) for p in args.detector]})
    rows = []
    for path in progress_bar(paths, desc="PGD", unit="image", enabled=not args.quiet):
        img = read_image(path)[None]
        adv = pgd(img, detectors, args.eps, args.steps, device=device)
        write_png(args.out / f"{path.stem}.png", adv[0],
                  provenance(generator=f"talkbench PGD L∞ ε={args.eps}/255, {args.steps} steps",
                             config_fingerprint=fp, adversarial="pgd", target_detectors=names, eps=f"{args.eps}/255",
                             source=str(path)))
        rows.append({"file": f"{path.stem}.png", "source": str(path),
                     **{f"p_fake_before[{d.name}]": float(d.predict_proba(img)[0]) for d in detectors},
                     **{f"p_fake_after[{d.name}]": float(d.predict_proba(adv)[0]) for d in detectors}})
    table = pd.DataFrame(rows)
    with atomic_path(args.out / "attack.csv") as tmp:
        table.to_csv(tmp, index=False)
    for d in detectors:
        before, after = table[f"p_fake_before[{d.name}]"], table[f"p_fake_after[{d.name}]"]
        print(f"{d.name}: mean P(fake) {before.mean():.3f} → {after.mean():.3f} "
              f"(fake at 0.5: {np.mean(before >= 0.5):.0%} → {np.mean(after >= 0.5):.0%})")
    print(f"{args.out}: {len(rows)} adversarial images and attack.csv")
    return 0


def _fewshot(args: argparse.Namespace, detectors: list) -> int:
    from talkbench.benchmarks.suite import recipe_fine_tuning
    from talkbench.detector.differentiable import EvasionLoss
    from talkbench.errors import TalkbenchError
    from talkbench.generator.checkpoint import load_checkpoint
    from talkbench.generator.face_input import shots_from
    from talkbench.generator.fewshot import build_fewshot

    if args.shots < 1:
        raise TalkbenchError("--shots must be at least 1")
    size = int(load_checkpoint(args.checkpoint)["model_config"]["image_size"])
    frames, marks, source = shots_from(args.frames, size, args.shots, args.video, args.backend)
    model = build_fewshot(args.checkpoint, frames, marks, mode="FT", ft=recipe_fine_tuning(args.recipe, args.checkpoint),
                          ft_steps=args.steps, device=args.device, progress=not args.quiet,
                          extra_loss=EvasionLoss(detectors, args.weight))
    model.info["source"] = source
    model.info["target_detectors"] = [str(p) for p in args.detector]
    model.save(args.out)
    print(f"{args.out}: {model.generator_name} from {source}")
    return 0
