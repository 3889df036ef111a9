"""The Markdown and HTML pages show each record's own numbers, and the HTML needs nothing else."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from cern_ai_bench.bench.report.aggregate import build_report
from cern_ai_bench.bench.report.collect import load_runs

#: Chromium builds by the names distributions and Google give them (headless shells included).
BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "headless_shell",
    "chromium-headless-shell",
)


@pytest.fixture(scope="module")
def reference(reference_dir):
    return build_report(load_runs([reference_dir]))


def markdown_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Each Markdown table under its heading, as rows of column -> cell text."""
    tables, title, lines = {}, "", text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            title = line.lstrip("#").strip()
        elif line.startswith("| ") and lines[index + 1].startswith("|---"):
            header = _cells(line)
            index += 2
            rows = []
            while index < len(lines) and lines[index].startswith("| "):
                rows.append(dict(zip(header, _cells(lines[index]), strict=True)))
                index += 1
            tables[title] = rows
            continue
        index += 1
    return tables


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


class _Tables(HTMLParser):
    """Each <table> under the last <h2>/<h3> heading, as rows of column -> cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._title, self._text, self._row, self._header = "", None, [], []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            self._in_heading, self._title = True, ""
        elif tag == "table":
            self.tables[self._title], self._header = [], []
        elif tag in ("td", "th"):
            self._text = ""
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag in ("h2", "h3"):
            self._in_heading = False
        elif tag in ("td", "th"):
            self._row.append(self._text.strip())
            self._text = None
        elif tag == "tr":
            if not self._header:
                self._header = self._row
            else:
                self.tables[self._title].append(dict(zip(self._header, self._row, strict=True)))

    def handle_data(self, data):
        if self._in_heading:
            self._title += data
        elif self._text is not None:
            self._text += data


def html_tables(text: str) -> dict[str, list[dict[str, str]]]:
    parser = _Tables()
    parser.feed(text)
    return parser.tables


def olympic(values):
    kept = sorted(values)[1:-1] if len(values) >= 3 else list(values)
    return sum(kept) / len(kept)


def _number(cell: str) -> float | None:
    return None if cell == "—" else float(cell.replace(",", ""))


def _check_page_numbers(tables, reference):
    """Every benchmark row's cells are the row's text, and its numbers the records' values."""
    for table in reference.tables:
        shown = tables[table.key.title]
        assert len(shown) == len(table.rows)
        for row, cells in zip(table.rows, shown, strict=True):
            assert list(cells.values()) == row.cells()
            records = [json.loads(p.path.read_text()) for p in row.runs]
            timing = [r["timing"] for r in records]
            inference = [t["inference"] for t in timing]
            metric = [r["quality"]["test"][r["benchmark"]["metric"]] for r in records]
            expected = {
                f"test {table.metric}": sum(metric) / len(metric),
                "train samples/s": olympic([t["train_throughput_samples_per_s"] for t in timing]),
                "train IQR": olympic([t["train_throughput_iqr"] for t in timing]),
                "latency p50 (ms)": olympic([i["latency_batch_1"]["p50_ms"] for i in inference]),
                "latency p99 (ms)": olympic([i["latency_batch_1"]["p99_ms"] for i in inference]),
                "inference samples/s": olympic([i["throughput_samples_per_s"] for i in inference]),
                "inference batch": inference[0]["throughput_batch"],
                "peak host MiB": max(r["memory"]["peak_host_rss_bytes"] for r in records) / 2**20,
            }
            for column, value in expected.items():
                # Four significant digits, or whole numbers: within 0.1 % (memory within 1 MiB).
                assert _number(cells[column]) == pytest.approx(value, rel=1e-3, abs=0.5), column
            assert cells["n"] == str(len(records))
            device = [r["memory"]["peak_device_bytes"] for r in records]
            if None in device:
                assert cells["peak device MiB"] == "—"
            else:
                assert _number(cells["peak device MiB"]) == pytest.approx(
                    max(device) / 2**20, abs=0.5
                )


def test_markdown_shows_each_records_numbers(reference_report, reference):
    text = (reference_report["out"] / "report.md").read_text()
    tables = markdown_tables(text)
    _check_page_numbers(tables, reference)
    assert [list(r.values()) for r in tables["Systems"]] == [s.cells() for s in reference.systems]
    listed = {row["file"] for row in tables["Records"]}
    assert listed == {str(run.path) for run in reference.runs}


def test_html_shows_each_records_numbers(reference_report, reference):
    text = (reference_report["out"] / "report.html").read_text()
    tables = html_tables(text)
    _check_page_numbers(tables, reference)
    assert len(tables["Records"]) == len(reference.runs)


def test_html_is_self_contained(reference_report):
    text = (reference_report["out"] / "report.html").read_text()
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<(script|link|iframe|object|embed)\b", text)
    assert not re.search(r"url\(", text)  # no CSS fetches
    images = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", text)
    assert len(images) == len(list(reference_report["out"].glob("*.png"))) >= 2
    for src in images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :], validate=True).startswith(b"\x89PNG\r\n\x1a\n")


def test_markdown_links_the_plots_written_beside_it(reference_report):
    out = reference_report["out"]
    text = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"throughput_vs_batch.png", "quality_vs_speed.png"} <= set(links)
    assert set(links) == {p.name for p in out.glob("*.png")}
    for link in links:
        assert (out / link).read_bytes().startswith(b"\x89PNG")
    # The time-to-target plot exists exactly when some record reached a target.
    assert ("time_to_target.png" in links) != ("No record has a time to target" in text)


def test_browser_dom_holds_the_tables(reference_report, reference, tmp_path):
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if binary is None:
        pytest.skip(f"no Chromium/Chrome binary on PATH (looked for {', '.join(BROWSERS)})")
    page = reference_report["out"] / "report.html"
    command = [
        binary,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # tests may run as root in containers
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    tables = html_tables(done.stdout)
    _check_page_numbers(tables, reference)
    assert done.stdout.count('src="data:image/png;base64,') == len(list(page.parent.glob("*.png")))
