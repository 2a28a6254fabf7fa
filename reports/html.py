"""One self-contained HTML file: styles inline, plots and sample grids as base64 data URIs,
no script and no external resource, so it opens offline and can be mailed as is."""

from __future__ import annotations

import base64
import html

from talkbench.reports.document import Document, Section
from talkbench.reports.tables import Table, fmt

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2em auto;
       max-width: 1600px; padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { margin-bottom: .1em; } .subtitle { color: #666; margin-top: 0; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 .3em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f3f5f8; } td.rowlabel, th.rowlabel { white-space: nowrap; text-align: left; font-weight: 600; background: #fafbfc; }
td .ci { color: #555; font-size: 11px; } td .n { font-size: 11px; } td .backend { display: block; color: #888; font-size: 10px; }
td.na { color: #999; font-style: italic; background: #fafafa; }
td.better { background: #dff3e0; } td.worse { background: #fbe0e0; } td.lown { color: #8a5a00; }
ul.findings { font-size: 14px; } ul.findings li { margin: .25em 0; } ul.findings li.nodiff { color: #555; }
ul.findings a { font-size: 11px; color: #36c; }
.caption { color: #555; font-size: 12px; margin: 0 0 .4em; }
.notes { color: #8a5a00; font-size: 12px; margin: .2em 0 1em; padding-left: 1.2em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
.grids { display: flex; flex-wrap: wrap; gap: 1em; } .grids figure { margin: 0; }
.grids img { image-rendering: pixelated; width: 400px; }
table.facts td { text-align: left; } table.facts td:first-child { font-weight: 600; background: #fafbfc; }
details { margin: .5em 0; } pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: 11px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def table_html(table: Table) -> str:
    out = [f'<h3 id="{table.anchor()}">{_e(table.title)}</h3>']
    if table.caption:
        out.append(f'<p class="caption">{_e(table.caption)}</p>')
    out.append("<table><thead><tr><th class=\"rowlabel\"></th>")
    out += [f"<th>{_e(c)}</th>" for c in table.columns]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append(f'<tr><td class="rowlabel">{_e(row)}</td>')
        for col in table.columns:
            c = table.cell(row, col)
            if not c.ok:
                tip = c.reason or "not measured in this run"
                out.append(f'<td class="na" title="{_e(tip)}">{_e(c.text())}</td>')
                continue
            full = c.text()
            ci = f' <span class="ci">{_e(c.ci_text())}</span>' if c.ci_text() else ""
            mark = f'<span class="n">{_e(c.mark())}</span>' if c.mark() else ""
            backend = "".join(f'<span class="backend">{_e(x)}</span>' for x in (c.backend, c.detail) if x)
            cls = " ".join(x for x in (c.flag, "lown" if c.low_n else "") if x)
            cls = f' class="{cls}"' if cls else ""
            tip = ", ".join(x for x in (c.n_text(), f"{c.n} frames/images", f"failed={c.n_failed}" if c.n_failed else "") if x)
            if table.compact:
                tip = f"{full} {c.backend} {tip}".replace("  ", " ")
                ci = backend = ""
                mark = "†" if c.low_n else ""
            out.append(f'<td{cls} title="{_e(tip)}">{_e(fmt(c.value))}{ci}{mark}{backend}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    notes = table.notes()
    if notes:
        out.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def section_html(sec: Section) -> str:
    out = [f"<section><h2>{_e(sec.title)}</h2>"]
    out += [f"<p>{_e(t)}</p>" for t in sec.text]
    for heading, items in sec.findings:
        out.append(f'<h3>{_e(heading)}</h3><ul class="findings">')
        out += [f'<li class="{"supported" if f.supported else "nodiff"}">{_e(f.text)} '
                f'<a href="#{f.anchor}">[{_e(f.table_title)}]</a></li>' for f in items]
        out.append("</ul>")
    if sec.facts:
        out.append('<table class="facts">' + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>"
                                                    for k, v in sec.facts) + "</table>")
    if sec.tables_side_by_side:
        out.append('<div class="row">' + "".join(f"<div>{table_html(t)}</div>" for t in sec.tables) + "</div>")
    else:
        out += [table_html(t) for t in sec.tables]
    for fig in sec.figures:
        out.append(f'<figure><img alt="{_e(fig.caption)}" src="{_data_uri(fig.png)}">'
                   f"<figcaption>{_e(fig.caption)}</figcaption></figure>")
    if sec.images:
        out.append('<div class="grids">')
        for img in sec.images:
            out.append(f'<figure><img alt="{_e(img.caption)}" src="{_data_uri(img.path.read_bytes())}">'
                       f"<figcaption>{_e(img.caption)}</figcaption></figure>")
        out.append("</div>")
    if sec.raw_json:
        out.append(f"<details><summary>full manifest (JSON)</summary><pre>{_e(sec.raw_json)}</pre></details>")
    out.append("</section>")
    return "\n".join(out)


def render(doc: Document) -> str:
    body = "\n".join(section_html(s) for s in doc.sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(doc.title)}</title><style>{CSS}</style></head>\n<body>"
            f"<h1>{_e(doc.title)}</h1><p class=\"subtitle\">{_e(doc.subtitle)}</p>\n{body}\n</body></html>\n")
