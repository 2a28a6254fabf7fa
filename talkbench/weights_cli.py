"""`talkbench weights status` and `talkbench weights download [NAME...]`."""

from __future__ import annotations

import argparse
import json

from talkbench.errors import TalkbenchError
from talkbench.weights import ASSETS, Resolution, get_asset, status_all


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    status = sub.add_parser("status", help="every asset: present / missing / corrupt, where, how to fetch",
                            description="Every pretrained asset the suite can use: present / missing / "
                                        "corrupt, the files found or the paths searched, and the fetch command.")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    download = sub.add_parser("download", help="fetch assets through their libraries' own download code",
                              description="Download assets (all missing ones when no NAME is given) into "
                                          "$TALKBENCH_WEIGHTS or the libraries' caches, and verify checksums.")
    download.add_argument("names", nargs="*", metavar="NAME", help=f"asset names ({', '.join(ASSETS)})")
    download.add_argument("--force", action="store_true", help="download again even when present")
    parser.set_defaults(action="status", json=False)


def resolution_record(res: Resolution) -> dict:
    """JSON-able view of one asset's status (shared with `talkbench doctor`)."""
    a = res.asset
    return {"name": a.name, "status": res.status, "library": a.library, "files": list(a.files),
            "paths": [str(p) for p in res.paths], "searched": [str(p) for p in res.searched],
            "detail": res.detail, "source": res.source, "fetch_command": a.fetch_command, "size_mb": a.size_mb,
            "needed_by": a.needed_by, "licence": a.licence, "default_suite": a.default_suite}


def status_table(resolutions: list[Resolution]) -> str:
    rows = [("asset", "status", "library", "MB", "needed by")]
    for res in resolutions:
        a = res.asset
        rows.append((a.name, res.status, a.library, f"{a.size_mb:.0f}" if a.size_mb else "?", a.needed_by))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    lines.append("")
    for res in resolutions:
        source = f" ({res.source})" if res.source else ""
        if res.status == "present":
            lines.append(f"{res.asset.name}: {', '.join(str(p) for p in res.paths)}{source}")
        elif res.status == "convertible":
            lines.append(f"{res.asset.name}: convertible offline{source}, {res.detail}")
        elif res.status == "corrupt":
            lines.append(f"{res.asset.name}: CORRUPT {res.detail}; fetch again with `{res.asset.fetch_command} --force`")
        else:
            lines.append(f"{res.asset.name}: missing; searched {', '.join(str(p) for p in res.searched)}; "
                         f"fetch with `{res.asset.fetch_command}`")
    return "\n".join(lines)


def _download(names: list[str], force: bool) -> int:
    from talkbench.weights_download import download, downloadable

    if names:
        for name in names:
            get_asset(name)  # unknown names: one-line error before any download
    else:
        pending = [r for r in status_all() if r.status not in ("present", "convertible")]
        for res in pending:
            if not downloadable(res.asset):
                print(f"{res.asset.name}: skipped, {res.asset.fetch_command}")
        names = [r.asset.name for r in pending if downloadable(r.asset)]
        if not names:
            print("every downloadable asset is present")
            return 0
    failed = 0
    for name in names:
        ok, message = download(name, force=force)
        print(message)
        failed += not ok
    if failed:
        raise TalkbenchError(f"{failed} of {len(names)} download(s) failed (see above)")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "download":
        return _download(args.names, args.force)
    resolutions = status_all()
    if args.json:
        print(json.dumps([resolution_record(r) for r in resolutions], indent=2))
    else:
        print(status_table(resolutions))
    return 0
