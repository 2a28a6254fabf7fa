"""`talkbench doctor`: what this machine can run — library versions, the device, the face
backends (per capability, with the reason when one is unavailable) and every pretrained
asset (found where, or searched where and fetched how).

Exit code 0 iff what the default (offline) suite needs is here: the registry's
``default_suite`` assets and the dlib face backend.
"""

from __future__ import annotations

import argparse
import json

from talkbench.weights import status_all


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def device_report() -> dict:
    """The device `auto` selects, plus what torch was built for."""
    import torch

    from talkbench.device import describe_device, select_device

    dev = select_device("auto")
    info: dict[str, object] = {"selected": describe_device(dev), "torch_cuda_build": torch.version.cuda,
            "cuda_available": torch.cuda.is_available(),
            "mps_available": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}
    if dev.type == "cuda":
        info["cuda_devices"] = [describe_device(torch.device("cuda", i)) for i in range(torch.cuda.device_count())]
    return info


def backends_report() -> dict:
    """backend -> capability -> {available, reason}."""
    from talkbench.faces.registry import PREFERENCE, available_backends, backend_class

    out: dict[str, dict] = {}
    for capability in PREFERENCE:
        for name, (ok, why) in available_backends(capability).items():
            try:
                capable = capability in backend_class(name).capabilities
            except ImportError:
                capable = True
            if capable:
                out.setdefault(name, {})[capability] = {"available": ok, "reason": why}
    return out


def collect() -> dict:
    from talkbench.runs import library_versions
    from talkbench.weights_cli import resolution_record

    weights = [resolution_record(r) for r in status_all()]
    backends = backends_report()
    missing_default = [w["name"] for w in weights
                       if w["default_suite"] and w["status"] not in ("present", "convertible")]
    dlib_ok = all(c["available"] for c in backends.get("dlib", {"?": {"available": False}}).values())
    return {"versions": library_versions(), "device": device_report(), "face_backends": backends,
            "weights": weights,
            "default_suite_ready": not missing_default and dlib_ok,
            "default_suite_missing": missing_default + ([] if dlib_ok else ["dlib backend"])}


def render(report: dict) -> str:
    lines = ["versions"]
    lines += [f"  {k:<24} {v or 'not installed'}" for k, v in report["versions"].items()]
    dev = report["device"]
    sel = dev["selected"]
    extra = (f"{sel.get('name')}, {sel.get('memory_gib')} GiB, {sel.get('count')} device(s)"
             if sel["type"] == "cuda" else f"{sel.get('threads', '')} threads" if sel["type"] == "cpu" else "")
    lines += ["", "device", f"  selected {sel['type']} {extra}".rstrip(),
              f"  torch built for CUDA {dev['torch_cuda_build'] or '-'}; cuda available: {dev['cuda_available']}; "
              f"mps available: {dev['mps_available']}"]
    lines += ["", "face backends"]
    for name, caps in report["face_backends"].items():
        for cap, st in caps.items():
            lines.append(f"  {name:<12} {cap:<10} {'yes' if st['available'] else 'NO ':<4} {st['reason']}")
    lines += ["", "weights"]
    for w in report["weights"]:
        source = f" ({w['source']})" if w["source"] else ""
        if w["status"] == "present":
            lines.append(f"  {w['name']:<22} present  {', '.join(w['paths'])}{source}")
        elif w["status"] == "convertible":
            lines.append(f"  {w['name']:<22} convertible offline{source}: {w['detail']}")
        else:
            lines.append(f"  {w['name']:<22} {w['status']:<8} searched {', '.join(w['searched']) or 'nothing: no default place; set $TALKBENCH_WEIGHTS'}")
            lines.append(f"  {'':<22} {'':<8} fetch: {w['fetch_command']}")
    lines.append("")
    if report["default_suite_ready"]:
        lines.append("default suite: ready (offline assets and the dlib backend are present)")
    else:
        lines.append(f"default suite: NOT ready, missing {', '.join(report['default_suite_missing'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = collect()
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0 if report["default_suite_ready"] else 1
