"""The report as one self-contained web page for a share link: the same content as the PDF, pictures inline, no
script, a style allowed by its hash, and a button to download the PDF."""

import base64
import hashlib
from html import escape

from .document import CYCLE_HEADING, DISCLAIMER, FIRST_SESSION, ReportData, cycle_text, facts, level_line

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}"
    ".note{background:#f0f0f0;border:1px solid #bbb;padding:.6rem .8rem;font-size:.9rem}"
    "img{max-width:100%;height:auto;display:block;margin:.5rem 0}"
    "dt{font-weight:600;float:left;width:16rem}dd{margin-left:16rem}"
    "a.button{display:inline-block;background:#14579a;color:#fff;padding:.5rem 1rem;border-radius:.3rem;"
    "text-decoration:none}"
    "small{color:#555}"
)
# The page's policy: nothing loads but its inline pictures and this one style; no script, no form, no framing.
CSP = (
    "default-src 'none'; img-src data:; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _img(data: bytes, mime: str, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:{mime};base64,{base64.b64encode(data).decode()}">'


def report_page(data: ReportData, pdf_path: str) -> str:
    """The page's HTML; every text is escaped."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'><meta name='robots' content='noindex'>",
        f"<title>Photo comparison record {escape(data.reference)}</title><style>{STYLE}</style></head><body>",
        "<h1>Photo comparison record</h1>",
        f"<p><small>Reference {escape(data.reference)} &middot; session of {escape(data.taken_at)} &middot; "
        f"generated {escape(data.generated_at)}</small></p>",
        f"<p><a class='button' href='{escape(pdf_path)}' download>Download the PDF</a></p>",
        f"<p class='note'>{escape(DISCLAIMER)}</p><dl>",
        *(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in facts(data)),
        "</dl>",
    ]
    if data.first_session:
        parts.append(f"<p><em>{escape(FIRST_SESSION)}</em></p>")
    parts += [f"<p>{escape(data.summary)}</p>", f"<p><small>{escape(data.explanation)}</small></p><ul>"]
    parts += [f"<li>{escape(sentence)}</li>" for sentence in data.insights]
    parts += ["</ul><h2>Change and confidence over all analysed sessions</h2>", _img(data.chart, "image/png", "chart")]
    if data.cycle:
        parts += [f"<h2>{escape(CYCLE_HEADING)}</h2><ul>", *(f"<li>{escape(cycle_text(c))}</li>" for c in data.cycle)]
        parts.append("</ul>")
    for section in data.sections:
        parts += [
            f"<h2>{escape(section.angle.capitalize())} view</h2>",
            f"<p>{escape(level_line(section))}</p>",
            _img(section.picture, "image/jpeg", f"{section.angle} view"),
            f"<p><small>{escape(section.caption)}</small></p>",
            *(f"<p>{escape(sentence)}</p>" for sentence in section.sentences),
        ]
    parts.append("</body></html>")
    return "".join(parts)
