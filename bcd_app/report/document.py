"""The PDF a person takes to a clinician: what was photographed and when, how it compares with her baseline and
last session in neutral words, the photos and maps, her history as a chart, and what this record is not."""

import io
from dataclasses import dataclass, field

from fpdf import FPDF
from fpdf.enums import XPos, YPos

DISCLAIMER = (
    "This is a record of visual variation between photos a person took of herself, measured by software. It is "
    "not a diagnosis and not a medical assessment: the comparison can miss a change that matters and can report "
    "a difference that is only light, angle or camera. Please judge the photos themselves."
)
FIRST_SESSION = "This is the first analysed session: there are no earlier photos to compare with yet."
# The core PDF fonts cover Latin-1: the few typographic characters our sentences use are written plainly.
PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}
)
WIDTH = 180  # mm of text and pictures on A4 with 15 mm margins


@dataclass(frozen=True)
class AngleSection:
    """One view: its level and distances, its picture (JPEG) and what it says."""

    angle: str
    level: str | None
    distance_to_baseline: float | None
    distance_to_previous: float | None
    quality: float
    picture: bytes
    caption: str
    sentences: list[str]


@dataclass(frozen=True)
class CycleLine:
    """Where one analysed session fell in her cycle; symptoms and notes only when she chose to show them."""

    taken_on: str
    cycle_day: int | None
    phase: str
    source: str
    symptoms: list[str] | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows; no name, no email."""

    reference: str
    taken_at: str
    session_type: str
    angles: list[str]
    quality_words: str
    confidence_words: str
    overall_level: str | None
    summary: str
    explanation: str
    insights: list[str]
    first_session: bool
    symmetry: float | None
    chart: bytes
    sections: list[AngleSection]
    generated_at: str
    cycle: list[CycleLine] = field(default_factory=list)


def _plain(value: str) -> str:
    return value.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Report(FPDF):
    def __init__(self, reference: str) -> None:
        super().__init__(format="A4")
        self.reference = reference
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        """Every page's foot: the reference and the page number."""
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 5, _plain(f"Photo comparison record {self.reference} - page {self.page_no()}/{{nb}}"), align="C")


def _line(pdf: FPDF, text: str, size: float = 10, style: str = "", height: float = 5.2) -> None:
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.multi_cell(WIDTH, height, _plain(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def distance_text(value: float | None) -> str:
    """A distance as printed (a dash for none)."""
    return "-" if value is None else f"{value:.3f}"


def facts(data: ReportData) -> list[tuple[str, str]]:
    """The session's facts, label and value, as the report lists them."""
    listed = [
        ("Session", f"{data.session_type} session, {len(data.angles)} views: {', '.join(data.angles)}"),
        ("Photo quality", data.quality_words),
        ("Confidence of the comparison", data.confidence_words),
        ("Overall level", data.overall_level or "not compared (first session)"),
    ]
    if data.symmetry is not None:
        listed.append(("Left and right views", f"symmetry score {data.symmetry:.2f} (1 = mirror images alike)"))
    return listed


def level_line(section: AngleSection) -> str:
    """A view's level, distances and photo quality in one line."""
    level = section.level or "not compared"
    return (
        f"Level: {level}    distance to baseline {distance_text(section.distance_to_baseline)}, to the previous "
        f"session {distance_text(section.distance_to_previous)}    photo quality {section.quality:.2f}"
    )


CYCLE_HEADING = "Cycle day and phase of each analysed session"


def cycle_text(line: CycleLine) -> str:
    """One session's place in her cycle as the report prints it."""
    day = f"cycle day {line.cycle_day}, " if line.cycle_day is not None else ""
    text = f"{line.taken_on}: {day}{line.phase} phase ({line.source})"
    if line.symptoms:
        text += f"; symptoms: {', '.join(s.replace('_', ' ') for s in line.symptoms)}"
    if line.notes:
        text += f"; notes: {line.notes}"
    return text


def render_pdf(data: ReportData) -> bytes:
    """The report as PDF bytes (A4)."""
    pdf = _Report(data.reference)
    pdf.set_title("Photo comparison record")
    pdf.set_creator("BCD")
    pdf.alias_nb_pages()
    pdf.add_page()
    _line(pdf, "Photo comparison record", size=18, style="B", height=9)
    _line(pdf, f"Reference {data.reference}    Session of {data.taken_at}    Generated {data.generated_at}", size=9)
    pdf.ln(2)
    pdf.set_fill_color(240, 240, 240)
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(WIDTH, 4.8, _plain(DISCLAIMER), border=1, fill=True, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for label, value in facts(data):
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(62, 6, _plain(label))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(WIDTH - 62, 6, _plain(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    if data.first_session:
        _line(pdf, FIRST_SESSION, style="I")
    _line(pdf, data.summary)
    _line(pdf, data.explanation, size=9)
    for sentence in data.insights:
        _line(pdf, f"- {sentence}", size=9)
    pdf.ln(3)
    _line(pdf, "Change and confidence over all analysed sessions", size=12, style="B", height=7)
    pdf.image(io.BytesIO(data.chart), w=WIDTH)
    if data.cycle:
        _line(pdf, CYCLE_HEADING, size=12, style="B", height=7)
        for line in data.cycle:
            _line(pdf, f"- {cycle_text(line)}", size=9)
    for section in data.sections:
        _section(pdf, section)
    return bytes(pdf.output())


def _section(pdf: FPDF, section: AngleSection) -> None:
    """One view: heading, level and distances, picture and caption, its sentences (kept on one page)."""
    if pdf.get_y() > 150:
        pdf.add_page()
    else:
        pdf.ln(4)
    _line(pdf, f"{section.angle.capitalize()} view", size=13, style="B", height=7)
    _line(pdf, level_line(section), size=9)
    pdf.image(io.BytesIO(section.picture), w=WIDTH)
    _line(pdf, section.caption, size=8)
    for sentence in section.sentences:
        _line(pdf, f"- {sentence}", size=9)
