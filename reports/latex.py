"""The same report document as LaTeX for a paper: every table as a booktabs ``table``
fragment (``latex/<slug>.tex``, with ``\\caption`` and ``\\label``, to ``\\input`` into a
paper), and ``latex/report.tex``, a stand-alone document that inputs them with the
findings, the figures (``plots/*.pdf``) and the methods. Needs only booktabs and graphicx.

Bold marks the best value of a column only where its 95 % CI separates it from every other
value of that column (:func:`talkbench.reports.tables.best_row`)."""

from __future__ import annotations

import re

from talkbench.reports.document import Document, Section
from talkbench.reports.tables import Table, best_row

_CHARS = {"--": "-{}-", "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "†": r"\textsuperscript{\dag}",
          "—": "---", "–": "--", "·": r"$\cdot$", "↓": r"$\downarrow$", "↑": r"$\uparrow$", "→": r"$\to$",
          "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "±": r"$\pm$", "∞": r"$\infty$", "∈": r"$\in$", "Δ": r"$\Delta$", "…": r"\ldots{}", "’": "'", "“": "``", "”": "''", "<": r"$<$",
          ">": r"$>$", "|": r"$|$", "[": "{[}", "]": "{]}"}
_RE = re.compile("|".join(re.escape(k) for k in _CHARS))


def escape(text: object) -> str:
    """Plain text as LaTeX (specials escaped, the report's few symbols as math; any other
    character beyond Latin Extended, which pdflatex cannot set, as its code point)."""
    out = _RE.sub(lambda m: _CHARS[m.group(0)], str(text))
    return "".join(ch if ord(ch) < 0x250 else rf"\texttt{{U+{ord(ch):04X}}}" for ch in out)


def label(table: Table) -> str:
    return "tab:" + table.anchor().removeprefix("tab-")


def table_tex(table: Table) -> str:
    """One booktabs table: mean [95 % CI] per cell, the backend and any within-run CI below;
    shrunk to the line width when wider, never enlarged."""
    best = {col: best_row(table, col) for col in table.columns}
    lines = [r"\begin{table}[tbp]", r"\centering", r"\small",
             rf"\caption{{{escape(table.title)}. {escape(table.caption)}}}", rf"\label{{{label(table)}}}",
             r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
             r"\begin{tabular}{l" + "r" * len(table.columns) + "}", r"\toprule",
             " & ".join([""] + [escape(c) for c in table.columns]) + r" \\", r"\midrule"]
    for row in table.rows:
        cells = []
        for col in table.columns:
            c = table.cell(row, col)
            text = escape(c.text(with_ci=True))
            if c.ok and best[col] == row:
                value, _, rest = text.partition(" ")
                text = rf"\textbf{{{value}}} {rest}".rstrip()
            extra = [escape(x) for x in (c.backend, c.detail) if c.ok and x]
            if extra:
                text = r"\begin{tabular}[t]{@{}r@{}}" + text + "".join(rf"\\ \scriptsize {x}" for x in extra) \
                    + r"\end{tabular}"
            cells.append(text)
        lines.append(" & ".join([escape(row)] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    notes = table.notes()
    if notes:
        lines.append(r"\par\smallskip\footnotesize " + r" \par ".join(escape(n) for n in notes))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def section_tex(sec: Section, table_files: dict[str, str], figures: bool = True, figure_dir: str = "../plots") -> str:
    """A section: text, findings (each with a reference to its table), facts, tables (as
    ``\\input`` of their fragment when ``table_files`` names one), figures as PDF."""
    out = [rf"\section{{{escape(sec.title)}}}"]
    out += [escape(t) + "\n" for t in sec.text]
    for heading, items in sec.findings:
        out.append(rf"\subsection*{{{escape(heading)}}}")
        out.append(r"\begin{itemize}")
        out += [rf"\item {escape(f.text)} (Table~\ref{{tab:{f.anchor.removeprefix('tab-')}}})" for f in items]
        out.append(r"\end{itemize}")
    if sec.facts:
        out += [r"\begin{description}"] + [rf"\item[{escape(k)}] {escape(v)}" for k, v in sec.facts] \
            + [r"\end{description}"]
    for t in sec.tables:
        name = table_files.get(t.anchor())
        out.append(rf"\input{{{name}}}" if name else table_tex(t))
    for fig in sec.figures if figures else []:
        if fig.vector is not None:
            out += [r"\begin{figure}[tbp]", r"\centering",
                    rf"\includegraphics[width=\linewidth]{{{figure_dir}/{fig.name}.pdf}}",
                    rf"\caption{{{escape(fig.caption)}}}", rf"\label{{fig:{fig.name}}}", r"\end{figure}"]
    return "\n".join(out) + "\n"


PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
\usepackage{graphicx}
"""


def render(doc: Document, table_files: dict[str, str], figures: bool = True,
           skip: tuple[str, ...] = ("Sample grids", "Manifest")) -> str:
    """The stand-alone document (``figures``: include ``plots/*.pdf``); sections whose title
    starts with one of ``skip`` (pictures of samples, the raw manifest) stay in the HTML report."""
    body = "".join(section_tex(s, table_files, figures) for s in doc.sections if not s.title.startswith(skip))
    return (PREAMBLE + rf"\title{{{escape(doc.title)}}}" + "\n" + rf"\author{{{escape(doc.subtitle)}}}" + "\n"
            + r"\date{}" + "\n" + r"\begin{document}" + "\n" + r"\maketitle" + "\n" + body + r"\end{document}" + "\n")
