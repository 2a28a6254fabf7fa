"""`talkbench provenance FILE...`: is this talkbench output, what made it, and which
evidence says so — the C2PA manifest (validated), the metadata fields, the pixel watermark.

Exit 0 when every file has evidence and all of it agrees; 1 when a file has no evidence, or
its evidence conflicts (a tampered or unreadable manifest always does: it is never valid).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from talkbench.errors import TalkbenchError
from talkbench.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES

SYNTHETIC, REAL, NONE, CONFLICT = "talkbench output (synthetic)", "talkbench real frame (not generated)", \
    "no evidence", "conflicting evidence"
VIDEO_FRAMES_READ = 9  # the watermark of a video: majority over its first frames


@dataclass
class Finding:
    path: str
    verdict: str
    made_by: str = ""
    c2pa: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    watermark: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.verdict in (SYNTHETIC, REAL)


def _metadata(path: Path) -> dict[str, str]:
    from PIL import Image

    from talkbench.media import read_video_provenance
    from talkbench.provenance import from_tags

    if path.suffix.lower() in VIDEO_SUFFIXES:
        return read_video_provenance(path)
    with Image.open(path) as im:
        return from_tags(dict(getattr(im, "text", {}) or {}))


def _watermark(path: Path) -> dict:
    from talkbench import watermark as wm
    from talkbench.media import iter_video, read_image

    if path.suffix.lower() in VIDEO_SUFFIXES:
        reads = []
        for i, (frame, _) in enumerate(iter_video(path)):
            if i >= VIDEO_FRAMES_READ:
                break
            reads.append(wm.detect(frame))
        found = sum(r.found for r in reads) * 2 > len(reads)
        return {"found": found, "frames_read": len(reads), "frames_marked": sum(r.found for r in reads)}
    image = read_image(path)
    d = wm.detect(image)
    return {"found": d.found, "bit_errors": d.bit_errors, "bits": len(wm.CODE), "read_at_scale": d.scale,
            "claimed_here": list(wm.claims_for(image.shape))}


def inspect(path: str | Path) -> Finding:
    """Gather the three kinds of evidence for one file and decide whether they agree."""
    from talkbench import credentials, watermark as wm

    path = Path(path)
    if not path.is_file():
        raise TalkbenchError(f"{path} is not a file")
    if path.suffix.lower() not in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
        return Finding(str(path), NONE, problems=[f"not an image or video ({path.suffix or 'no suffix'})"])
    cred = credentials.read(path)
    unreadable = []
    try:
        meta = _metadata(path)
        mark = _watermark(path)
    except (OSError, ValueError, TalkbenchError) as exc:  # a damaged file is evidence too
        meta, mark = {}, {"found": False, "error": str(exc)}
        unreadable.append(f"the file's pixel data is unreadable (damaged or tampered): {exc}")
    f = Finding(str(path), NONE, c2pa={"state": cred.state, "failures": cred.failures, "signer": cred.signer,
                                       "digital_source_type": cred.digital_source_type, "fields": cred.meta},
                metadata=meta, watermark=mark)
    f.problems += unreadable
    says = set()  # what each piece of evidence says: "synthetic" or "real"
    if cred.state == "Invalid":
        f.problems.append("C2PA manifest is INVALID (tampered, corrupt or badly signed): "
                          + ", ".join(c for c in cred.failures if c != "signingCredential.untrusted"))
    elif cred.valid:
        generated = cred.digital_source_type == credentials.TRAINED_ALGORITHMIC_MEDIA
        if cred.meta.get("synthetic") == "true" and generated:
            says.add("synthetic")
        elif cred.meta:
            f.problems.append("C2PA manifest has talkbench fields but does not declare generated media")
        signed = {k: v for k, v in cred.meta.items() if k != "watermark"}  # a manifest-only field
        if signed and meta and signed != meta:
            changed = sorted(k for k in set(signed) | set(meta) if signed.get(k) != meta.get(k))
            f.problems.append(f"metadata fields differ from the signed manifest: {', '.join(changed)}")
        if (cred.meta.get("watermark", "").startswith(wm.METHOD) and not mark["found"]
                and path.suffix.lower() in IMAGE_SUFFIXES and not unreadable):  # signed pixels are unchanged pixels
            f.problems.append("the signed manifest says the pixels carry the watermark, but none is found")
    if meta:
        says.add("synthetic" if meta.get("synthetic") == "true" else "real")
    if mark["found"]:
        says.add("synthetic")
    fields = cred.meta if cred.valid and cred.meta else meta
    f.made_by = ", ".join(f"{k}={fields[k]}" for k in ("generator", "software", "config_fingerprint", "setting",
                                                      "mode", "T", "adversarial", "target_detector") if fields.get(k))
    if len(says) > 1:
        f.problems.append("the evidence disagrees on whether this file is generated")
    if f.problems:
        f.verdict = CONFLICT
    elif says:
        f.verdict = SYNTHETIC if "synthetic" in says else REAL
    return f


def _describe(f: Finding) -> str:
    lines = [f"{f.path}: {f.verdict}" + (f" — {f.made_by}" if f.made_by else "")]
    c = f.c2pa
    if c:
        state = {"absent": "no manifest", "Invalid": "INVALID",
                 "Valid": f"valid signature; signer '{c['signer']}' not trusted here (self-signed unless a lab "
                          "certificate is configured)",
                 "Trusted": f"valid and trusted (signer '{c['signer']}')"}.get(c["state"], c["state"])
        source = f", digitalSourceType {c['digital_source_type'].rsplit('/', 1)[-1]}" if c["digital_source_type"] else ""
        lines.append(f"  c2pa:      {state}{source}")
    if c or f.metadata:
        lines.append(f"  metadata:  {len(f.metadata)} talkbench field(s)" +
                     (f", synthetic={f.metadata.get('synthetic', 'absent')}" if f.metadata else ""))
    w = f.watermark
    if w and "error" not in w:
        detail = (f"{w['frames_marked']}/{w['frames_read']} frames marked" if "frames_read" in w
                  else f"{w['bit_errors']}/{w['bits']} bits wrong")
        said = f.c2pa.get("fields", {}).get("watermark", "") if f.c2pa.get("state") in ("Valid", "Trusted") else ""
        lines.append(f"  watermark: {'found' if w['found'] else 'not found'} ({detail})"
                     + (f"; the manifest says: {said}" if said else ""))
    lines += [f"  problem:   {p}" for p in f.problems]
    return "\n".join(lines)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="images or videos to examine")
    p.add_argument("--json", action="store_true", help="print one JSON object per file (a list)")


def run(args: argparse.Namespace) -> int:
    from talkbench.progress import progress_bar

    findings = [inspect(p) for p in progress_bar(args.files, desc="provenance", unit="file",
                                                 enabled=len(args.files) >= 20)]
    if args.json:
        print(json.dumps([{**asdict(f), "agrees": f.agrees} for f in findings], indent=2))
    else:
        print("\n".join(_describe(f) for f in findings))
    return 0 if all(f.agrees for f in findings) else 1
