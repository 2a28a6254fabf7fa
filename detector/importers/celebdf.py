"""Celeb-DF (v2): Celeb-real/, YouTube-real/, Celeb-synthesis/ and List_of_testing_videos.txt.

The test list (lines ``1 YouTube-real/00170.mp4``) fixes the test split; the label comes
from the folder, as DeepfakeBench takes it. A listed video missing on disk is counted in
skipped.csv. The other videos are split train/val by identity: ``id0_0001`` shows id0;
``id0_id16_0001`` is id16's face in id0's video, grouped with id0 (its target: grouping by
both people would chain most of Celeb-DF into one group); YouTube videos show unnamed
people, one each. (Celeb-DF's own test list is not identity-disjoint from the rest.)
"""

from __future__ import annotations

from pathlib import Path

from talkbench.detector.importers import register_importer
from talkbench.detector.importers.base import REAL, ImportConfig, Listing, VideoItem, group_people
from talkbench.errors import TalkbenchError
from talkbench.media import VIDEO_SUFFIXES

FOLDERS = {"Celeb-real": 0, "YouTube-real": 0, "Celeb-synthesis": 1}
TEST_LIST = "List_of_testing_videos.txt"


def read_test_list(path: Path) -> list[str]:
    """Relative paths of the official test videos."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("0", "1"):
            raise TalkbenchError(f"{path}:{n}: expected '<0|1> <folder>/<video>.mp4', got {line.strip()!r}")
        out.append(parts[1])
    return out


def _people(folder: str, stem: str) -> tuple[str, ...]:
    if folder == "YouTube-real":
        return (f"youtube{stem}",)
    ids = tuple(p for p in stem.split("_") if p.startswith("id"))
    return ids[:1] or (stem,)


@register_importer("celebdf")
def discover(src: Path, cfg: ImportConfig) -> Listing:
    """Celeb-DF v2 (Celeb-real/, YouTube-real/, Celeb-synthesis/; test split from List_of_testing_videos.txt)."""
    if not any((src / f).is_dir() for f in FOLDERS):
        raise TalkbenchError(f"{src} is not a Celeb-DF folder: none of {', '.join(FOLDERS)}/")
    found = [(folder, p) for folder in FOLDERS if (src / folder).is_dir()
             for p in sorted((src / folder).iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()]
    group = group_people([_people(folder, p.stem) for folder, p in found])
    test_list = src / TEST_LIST
    test = set(read_test_list(test_list)) if test_list.is_file() else set()
    items = [VideoItem(p, f"{folder}/{p.name}", FOLDERS[folder], group[_people(folder, p.stem)[0]],
                       folder if FOLDERS[folder] else REAL, "test" if f"{folder}/{p.name}" in test else None)
             for folder, p in found]
    present = {it.rel for it in items}
    skipped = [(rel, f"listed in {TEST_LIST} but absent") for rel in sorted(test - present)]
    return items, skipped
