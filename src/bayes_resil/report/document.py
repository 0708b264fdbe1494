"""A report as a list of blocks, rendered to Markdown and to one self-contained HTML file.

The HTML needs nothing beside it: styles are inline, figures are embedded as base64 PNG, there
is no script and no external link except to sibling files the report names (job reports of a
sweep). Numbers of estimate tables carry ``data-*`` attributes with the full-precision value,
so a test (or a scraper) can check them against ``estimates.csv``.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Cell:
    """A table cell: shown ``text``; ``attrs`` become ``data-<key>`` HTML attributes."""
    text: str
    attrs: dict[str, str] = field(default_factory=dict)
    href: str | None = None
    css: str | None = None  # an HTML class (e.g. ``v-supported``: the cell's colour)


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: Sequence[str]


@dataclass
class Alert:
    """A coloured box (``error``: red, ``warning``: amber, ``info``: blue)."""
    text: str
    items: Sequence[str] = ()
    kind: str = "error"


@dataclass
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str | Cell]]
    caption: str = ""
    name: str = ""


@dataclass
class Figure:
    path: Path          # the PNG on disk (embedded in HTML)
    rel: str            # its path relative to the report (linked from Markdown)
    caption: str = ""


Block = Heading | Paragraph | Bullets | Alert | Table | Figure

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','WenQuanYi Micro Hei',
'Microsoft YaHei','PingFang SC',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #333}h2{font-size:1.3em;margin-top:1.6em;
border-bottom:1px solid #ccc}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}.tw{overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f2f2}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
.alert{padding:.7em 1em;border-radius:4px;margin:1em 0;border:1px solid}
.alert-error{background:#fdecea;border-color:#d93025;color:#a50e0e}
.alert-warning{background:#fff4e5;border-color:#f29900;color:#7a4a00}
.alert-info{background:#e8f0fe;border-color:#1a73e8;color:#174ea6}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}
.v-supported,.s-holds{background:#e6f4ea}.v-fragile,.s-weak{background:#fff4e5}
.v-not_supported,.s-fails{background:#f1f3f4}.v-contradicted,.s-reversed{background:#fdecea}
.v-not_assessed,.s-unavailable{color:#777}
"""


def _md_cell(c: str | Cell) -> str:
    text = c.text if isinstance(c, Cell) else c
    text = text.replace("|", "\\|").replace("\n", " ")
    if isinstance(c, Cell) and c.href:
        return f"[{text}]({c.href})"
    return text


def to_markdown(title: str, blocks: Sequence[Block]) -> str:
    out = [f"# {title}", ""]
    for b in blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Paragraph):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [*(f"- {i}" for i in b.items), ""]
        elif isinstance(b, Alert):
            out += [f"> **{b.kind.upper()}: {b.text}**", *(f"> - {i}" for i in b.items), ""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"**{b.caption}**", ""]
            out += ["| " + " | ".join(_md_cell(h) for h in b.header) + " |",
                    "|" + "---|" * len(b.header)]
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{b.caption}]({b.rel})", ""]
    return "\n".join(out).rstrip() + "\n"


NUMBER = re.compile(r"^\(?[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?\)?\**$")


def _html_cell(c: str | Cell, tag: str = "td") -> str:
    text = c.text if isinstance(c, Cell) else c
    cls = ' class="num"' if tag == "td" and NUMBER.match(text.strip()) else ""
    if not isinstance(c, Cell):
        return f"<{tag}{cls}>{html.escape(c)}</{tag}>"
    if c.css:
        cls = f' class="{html.escape(c.css)}{" num" if cls else ""}"'
    attrs = cls + "".join(f' data-{html.escape(k)}="{html.escape(str(v))}"'
                          for k, v in c.attrs.items())
    text = html.escape(c.text)
    if c.href:
        text = f'<a href="{html.escape(c.href)}">{text}</a>'
    return f"<{tag}{attrs}>{text}</{tag}>"


def _html_block(b: Block) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level}>{html.escape(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f"<p>{html.escape(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Alert):
        items = ("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items) + "</ul>"
                 if b.items else "")
        return (f'<div class="alert alert-{b.kind}" role="alert"><strong>'
                f"{html.escape(b.text)}</strong>{items}</div>")
    if isinstance(b, Table):
        name = f' data-table="{html.escape(b.name)}"' if b.name else ""
        cap = f"<caption>{html.escape(b.caption)}</caption>" if b.caption else ""
        head = "<tr>" + "".join(_html_cell(h, "th") for h in b.header) + "</tr>"
        body = "".join("<tr>" + "".join(_html_cell(c) for c in r) + "</tr>" for r in b.rows)
        return (f'<div class="tw"><table{name}>{cap}<thead>{head}</thead><tbody>{body}</tbody>'
                "</table></div>")
    if isinstance(b, Figure):
        data = base64.b64encode(b.path.read_bytes()).decode("ascii")
        cap = html.escape(b.caption)
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{cap}">'
                f"<figcaption>{cap} ({html.escape(b.rel)})</figcaption></figure>")
    raise TypeError(f"unknown report block {type(b).__name__}")


def to_html(title: str, blocks: Sequence[Block]) -> str:
    body = "\n".join(_html_block(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")
