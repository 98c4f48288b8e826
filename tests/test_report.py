"""The static HTML report (tasks/io/report.py): structure, escaping, and what a browser shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.io.reader import UnknownWorkError
from tasks.io.report import CSP, write_report
from tests.helpers import CHROMIUM, chromium, make_corpus, parse, screenshot_is_not_blank

ATTACK = "<script>alert(1)</script>"
@pytest.fixture
def hostile_corpus(tmp_path: Path) -> Path:
    return make_corpus(
        tmp_path / "corpus",
        {"w": {
            "en": [("title", "A title"), ("paragraph", ATTACK), ("paragraph", "quote \" ' & \x1b[31mred"),
                   ("heading", "Part 2"), ("paragraph", "Only in English.")],
            "fr": [("title", "Un titre"), ("paragraph", "fr " + ATTACK), ("paragraph", "guillemets"),
                   ("heading", "Partie 2")],
        }},
        beads={"w": [("en", "fr", [0], [0], 0.99), ("en", "fr", [1], [1], 0.95), ("en", "fr", [2], [2], 0.3),
                     ("en", "fr", [3], [3], 0.9), ("en", "fr", [4], [], 0.7)]},
    )


def test_every_bead_is_a_row_with_its_texts_escaped(hostile_corpus: Path) -> None:
    result = write_report(hostile_corpus, hostile_corpus / "report.html")
    assert (result.works, result.pairs, result.beads) == (1, 1, 5)
    html = (hostile_corpus / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "\x1b" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "quote &quot; &#x27; &amp; \\x1b[31mred" in html
    report = parse(hostile_corpus / "report.html")
    assert [cells[1:3] for _, cells in report.rows] == [
        ["A title", "Un titre"], [ATTACK, "fr " + ATTACK], ["quote \" ' & \\x1b[31mred", "guillemets"],
        ["Part 2", "Partie 2"], ["Only in English.", "not in fr (only in en)"],
    ]
    assert [classes for classes, _ in report.rows] == ["b h", "b", "b low", "b h", "b"]
    assert 'class="o"' in html.split("Only in English.")[1]


def test_titles_and_names_are_escaped_wherever_they_appear(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / ATTACK.replace("/", "|"), {
        ATTACK: {"en": [("title", ATTACK + " \x07bell"), ("paragraph", "a")], "fr": [("title", "t")]},
    })
    page = tmp_path / "r.html"
    write_report(out, page)
    html = page.read_text(encoding="utf-8")
    escaped = "&lt;script&gt;alert(1)&lt;|script&gt;"
    assert "<script" not in html.lower() and "\x07" not in html
    assert f"<title>Parallel corpus report: {escaped}</title>" in html
    assert f"<h2 id=\"w0\">Work {ATTACK.replace('<', '&lt;').replace('>', '&gt;')}</h2>" in html
    assert "&lt;/script&gt;/en.txt: &lt;script&gt;alert(1)&lt;/script&gt; \\x07bell (2 segments)</li>" in html
    assert not {"script", "link", "img", "iframe", "object"} & set(parse(page).tags)


def test_the_page_is_self_contained_under_a_strict_csp(hostile_corpus: Path) -> None:
    write_report(hostile_corpus, hostile_corpus / "report.html")
    report = parse(hostile_corpus / "report.html")
    assert report.csp == [CSP] == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    assert not {"script", "link", "img", "iframe", "object"} & set(report.tags)
    html = (hostile_corpus / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "url(" not in html


def test_summary_gives_coverage_and_mean_score_per_pair(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / "c", {
        "w1": {"en": [("paragraph", "a"), ("paragraph", "b")], "fr": [("paragraph", "x")],
               "de": [("paragraph", "1"), ("paragraph", "2")]},
        "w2": {"en": [("paragraph", "solo")]},
    })
    result = write_report(out, tmp_path / "nested" / "r.html")
    assert (result.works, result.pairs, result.beads) == (2, 3, 6)
    html = (tmp_path / "nested" / "r.html").read_text(encoding="utf-8")
    summary = html.split('<table class="sum">')[1].split("</table>")[0]
    assert summary.count("<tr>") == 4  # header and three pairs
    assert '<a href="#p2">en ↔ fr</a></td><td class="r">2</td><td class="r">1</td><td class="r">0</td>' \
           '<td class="r">50%</td><td class="r">100%</td><td class="r">0.900</td>' in summary
    assert "No aligned pair: the work has a single document." in html
    assert html.count("<details") == 3 and html.count("<details id=\"p0\" open>") == 1


def test_a_subset_of_works_and_unknown_works(hostile_corpus: Path) -> None:
    assert write_report(hostile_corpus, hostile_corpus / "r.html", works=["w"]).pairs == 1
    with pytest.raises(UnknownWorkError, match="no work 'nope'; works of the corpus: 'w'"):
        write_report(hostile_corpus, hostile_corpus / "r.html", works=["nope"])


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_a_browser_shows_the_attack_as_text(hostile_corpus: Path, tmp_path: Path) -> None:
    page = hostile_corpus / "report.html"
    write_report(hostile_corpus, page)
    dom = chromium(page, tmp_path, "--dump-dom").stdout
    assert dom.count('<tr class="b') == 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script" not in dom
    png = tmp_path / "report.png"
    chromium(page, tmp_path, f"--screenshot={png}")
    screenshot_is_not_blank(png)
