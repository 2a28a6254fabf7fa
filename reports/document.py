"""The report as data: sections of text, findings, tables, figures, images and key/value facts.
:mod:`talkbench.reports.build` fills it from result files; :mod:`~talkbench.reports.html`,
:mod:`~talkbench.reports.markdown` and :mod:`~talkbench.reports.latex` render the same
document, so they never drift."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from talkbench.reports.findings import Finding
from talkbench.reports.tables import Table


@dataclasses.dataclass
class Figure:
    name: str  # file stem under plots/
    png: bytes
    caption: str
    vector: Callable[[], tuple[bytes, bytes]] | None = None  # (PDF, SVG) sized for a paper, drawn on demand


@dataclasses.dataclass
class Image:
    path: Path  # a PNG on disk (sample grids)
    caption: str


@dataclasses.dataclass
class Section:
    title: str
    text: list[str] = dataclasses.field(default_factory=list)
    findings: list[tuple[str, list[Finding]]] = dataclasses.field(default_factory=list)  # (heading, sentences)
    tables: list[Table] = dataclasses.field(default_factory=list)
    figures: list[Figure] = dataclasses.field(default_factory=list)
    images: list[Image] = dataclasses.field(default_factory=list)
    facts: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # key/value rows
    raw_json: str = ""  # shown folded (the full manifest)
    tables_side_by_side: bool = False  # e.g. a run's Table 1 beside the published one


@dataclasses.dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
