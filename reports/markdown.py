"""The same report as Markdown (for a README, a pull request or a paper draft). Plots and
sample grids are referenced as files next to it (``plots/``, ``samples/``)."""

from __future__ import annotations

from talkbench.reports.document import Document, Section
from talkbench.reports.tables import Table


def _cell_md(text: str) -> str:
    return text.replace("|", "\\|")


def table_md(table: Table) -> str:
    lines = [f'<a id="{table.anchor()}"></a>', "", f"### {table.title}", ""]
    if table.caption:
        lines += [f"_{table.caption}_", ""]
    lines.append("| | " + " | ".join(_cell_md(c) for c in table.columns) + " |")
    lines.append("|---|" + "---|" * len(table.columns))
    for row in table.rows:
        cells = []
        for col in table.columns:
            c = table.cell(row, col)
            text = _cell_md(c.text(with_ci=not table.compact))
            if c.ok and c.backend and not table.compact:
                text += f" ({_cell_md(c.backend)})"
            if c.ok and c.detail and not table.compact:
                text += f"; {_cell_md(c.detail)}"
            if c.flag:
                text = f"**{text}** ({c.flag})"
            cells.append(text)
        lines.append(f"| {_cell_md(row)} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- {n}" for n in table.notes()]
    return "\n".join(lines).rstrip() + "\n"


def section_md(sec: Section, image_dir: str) -> str:
    lines = [f"## {sec.title}", ""]
    lines += [t + "\n" for t in sec.text]
    for heading, items in sec.findings:
        lines += [f"### {heading}", ""] + [f"- {f.text} ([{f.table_title}](#{f.anchor}))" for f in items] + [""]
    if sec.facts:
        lines += ["| | |", "|---|---|"] + [f"| {_cell_md(k)} | {_cell_md(str(v))} |" for k, v in sec.facts] + [""]
    lines += [table_md(t) for t in sec.tables]
    lines += [f"![{f.caption}](plots/{f.name}.png)\n" for f in sec.figures]
    lines += [f"![{i.caption}]({image_dir}/{i.path.name})\n" for i in sec.images]
    return "\n".join(lines)


def render(doc: Document, image_dir: str = "samples") -> str:
    return f"# {doc.title}\n\n_{doc.subtitle}_\n\n" + "\n".join(section_md(s, image_dir) for s in doc.sections)
