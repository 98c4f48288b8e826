"""Helpers shared by the test modules: paths, a corpus written by hand, a build as a user types it, checks.

Test modules import from here (or get fixtures from conftest.py), never from each other.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
from hypothesis import strategies as st

from schemas import ALIGNMENTS, DOCUMENTS, SEGMENTS, AlignmentRow, DocumentRow, ManifestFile, SegmentKind, SegmentRow
from tasks.align import PairAlignment
from tasks.segment import Segment
from tasks.store.storage import (
    make_manifest,
    segment_file_path,
    work_key,
    write_digest_named,
    write_manifest,
    write_rows,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


BIN = Path(sys.executable).parent


def processes_marked(marker: str) -> list[int]:
    """The live processes (Linux /proc) whose environment holds ``CORPUS_TEST_MARKER=<marker>``: a build started with
    that variable and every process it started, whoever their parent is now."""
    wanted = f"CORPUS_TEST_MARKER={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or another user's
            continue
        if wanted in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    """Poll ``check`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def build_json(source: Path, out: Path, *extra: str) -> dict[str, Any]:
    """`corpus build SOURCE --out OUT --json ...` as a user types it; asserts success, returns the summary."""
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["build", str(source), "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


HOSTILE = [
    "<script>alert(1)</script>",
    "a ]]> b & c &amp; \"quoted\" 'single'",
    "=cmd|'/C calc'!A0",
    "\x1b[31mred\x1b[0m and a bell\x07",
    "tab\there, line\nbreak, cr\rreturn, back\\slash",
    "separators\u2028line\u2029para\x85nel\x0bvt\x0cff",
    "nul\x00 and noncharacter \ufffe",
]


Work = dict[str, list[tuple[SegmentKind, str]]]  # lang -> (kind, text) of each segment


def _doc_id(work_id: str, lang: str) -> str:
    return hashlib.sha256(f"{work_id}/{lang}".encode()).hexdigest()[:16]


def make_corpus(out: Path, works: dict[str, Work],
                beads: dict[str, list[tuple[str, str, list[int], list[int], float]]] | None = None) -> Path:
    """A corpus as the build writes it: per work one documents and one alignments file, a segments
    file per document, and the manifest. Beads default to 1-1 links between segments of equal
    position (an omission where one document is shorter), scored 0.9."""
    files: dict[str, list[ManifestFile]] = {DOCUMENTS.name: [], SEGMENTS.name: [], ALIGNMENTS.name: []}
    now = datetime(2025, 1, 1, tzinfo=UTC)
    for work_id, docs in works.items():
        doc_ids = {lang: _doc_id(work_id, lang) for lang in docs}
        document_rows = []
        for lang, segments in docs.items():
            doc_id = doc_ids[lang]
            rows = [
                SegmentRow(segment_id=f"{doc_id}-{i:05d}", doc_id=doc_id, work_id=work_id, lang=lang, ordinal=i,
                           section=0, kind=kind, text=text, line_start=i + 1, line_end=i + 1, char_start=0, char_end=1)
                for i, (kind, text) in enumerate(segments)
            ]
            files[SEGMENTS.name].append(write_rows(out, segment_file_path(lang, doc_id), SEGMENTS, rows))
            document_rows.append(DocumentRow(
                doc_id=doc_id, work_id=work_id, work_assigned_by="folder", work_confidence=1.0,
                source_path=f"{work_id}/{lang}.txt", content_sha256=doc_id * 4,
                encoding="utf-8", lang=lang, lang_confidence=1.0, script="Latn",
                title=segments[0][1] if segments else "", n_lines=len(segments), n_segments=len(segments),
                n_sections=1, ingested_at=now,
            ))
        files[DOCUMENTS.name].append(write_digest_named(out, DOCUMENTS, work_key(work_id), document_rows))
        spec = (beads or {}).get(work_id) or [
            (a, b, [i] if i < len(docs[a]) else [], [i] if i < len(docs[b]) else [], 0.9)
            for a, b in _pairs(sorted(docs)) for i in range(max(len(docs[a]), len(docs[b])))
        ]
        alignment_rows = [
            AlignmentRow(work_id=work_id, src_doc_id=doc_ids[a], tgt_doc_id=doc_ids[b], src_lang=a, tgt_lang=b,
                         level="segment", bead=n, src_ids=[f"{doc_ids[a]}-{i:05d}" for i in src],
                         tgt_ids=[f"{doc_ids[b]}-{i:05d}" for i in tgt], score=score, method="test")
            for n, (a, b, src, tgt, score) in enumerate(spec)
        ]
        if alignment_rows:
            files[ALIGNMENTS.name].append(write_digest_named(out, ALIGNMENTS, work_key(work_id), alignment_rows))
    write_manifest(out, make_manifest("test-build", files))
    return out


def _pairs(langs: Sequence[str]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(langs) for b in langs[i + 1:]]


TIMESTAMPS = {"ingested_at", "seen_at"}


def listed(out: Path, table: str) -> list[str]:
    """The table's files in the current snapshot, as a reader follows ``manifest.json`` (the table's folder also
    holds the files of the previous snapshot, kept for readers still reading it)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [str(out / f["path"]) for f in manifest["tables"][table]["files"]]


def kept_files(out: Path) -> set[str]:
    """The files of the snapshots a build keeps (the current one and the one before it), relative to ``out``."""
    return {f["path"] for path in (out / ".snapshots").glob("*.json")
            for t in json.loads(path.read_text(encoding="utf-8"))["tables"].values() for f in t["files"]}


def rows(out: Path, table: str) -> list[tuple[object, ...]]:
    """A table's rows in the current snapshot, without build timestamps, in a canonical order."""
    data = ds.dataset(listed(out, table), partitioning="hive" if table == "segments" else None,
                      partition_base_dir=str(out / table)).to_table()
    keep = [c for c in data.column_names if c not in TIMESTAMPS]
    return sorted(tuple(json.dumps(v, sort_keys=True, default=str) for v in r.values())
                  for r in data.select(keep).to_pylist())


BEAD_SIDES = {0, 1, 2, 3, 4}


def assert_valid(alignment: PairAlignment, src: Sequence[Segment], tgt: Sequence[Segment], nested: bool = True
                 ) -> None:
    """Every invariant the alignment promises (nested: segment beads lie inside section beads)."""
    for side, segments in ((0, src), (1, tgt)):
        content = [s.ordinal for s in segments if s.kind != "boilerplate"]
        sections = sorted({s.section for s in segments if s.kind != "boilerplate"})
        in_beads = [o for b in alignment.segments for o in (b.src, b.tgt)[side]]
        assert in_beads == content, "segment beads must cover the content exactly once, in order"
        in_sections = [x for b in alignment.sections for x in (b.src, b.tgt)[side]]
        assert in_sections == sections, "section beads must cover the sections exactly once, in order"
    for bead in alignment.segments:
        assert (bead.src or bead.tgt) and len(bead.src) in BEAD_SIDES and len(bead.tgt) in BEAD_SIDES
    for bead in [*alignment.segments, *alignment.sections]:
        assert 0.0 <= bead.score <= 1.0
    if not nested:
        return
    src_section = {s.ordinal: s.section for s in src}
    tgt_section = {s.ordinal: s.section for s in tgt}
    section_bead_of = {("s", x): k for k, b in enumerate(alignment.sections) for x in b.src}
    section_bead_of |= {("t", y): k for k, b in enumerate(alignment.sections) for y in b.tgt}
    for bead in alignment.segments:
        owners = {section_bead_of["s", src_section[o]] for o in bead.src}
        owners |= {section_bead_of["t", tgt_section[o]] for o in bead.tgt}
        assert len(owners) == 1, "a segment bead must lie inside one section bead"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class ReportParser(HTMLParser):
    """Bead rows (class, cell texts), script/link/img elements and CSP of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.tags: list[str] = []
        self.csp: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp.append(values.get("content") or "")
        if tag == "tr" and (values.get("class") or "").split()[:1] == ["b"]:
            self.rows.append((values["class"] or "", []))
        if tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append(" ".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on a local page, with everything that could reach the network turned off."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,2000", *args, page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def screenshot_is_not_blank(png: Path) -> None:
    from PIL import Image, ImageStat

    with Image.open(png) as image:
        assert image.size == (1280, 2000)
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 10, "the screenshot is (nearly) one colour"
        dark = sum(grey.histogram()[:128])
        assert dark > 1000, "no text drawn"


@contextmanager
def running_prefect_server(home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `prefect server start` on a free loopback port (the benchmarks' harness), with a fast scheduler:
    its API URL and an environment pointing at it. Its processes are checked to be gone afterwards."""
    from bench.server import group_alive, prefect_server

    with prefect_server(home / "prefect-home", home / "server.log", PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
                        PREFECT_RUNNER_POLL_FREQUENCY="2") as (server, env):
        yield env["PREFECT_API_URL"], env
    assert not group_alive(server.pid), "the Prefect server left processes behind"


def make_doc(lines: Sequence[str]) -> list[Segment]:
    """One segment per line. The first line is the title, and so is a line starting '^ '; '# ' starts a
    section with a heading, '- ' is a list item, '! ' is boilerplate, anything else a paragraph."""
    segments: list[Segment] = []
    section = offset = 0
    for ordinal, line in enumerate(lines):
        kind: SegmentKind = "paragraph"
        text = line
        if ordinal == 0:
            kind = "title"
        elif line.startswith("^ "):
            kind, text = "title", line[2:]
        elif line.startswith("# "):
            kind, text, section = "heading", line[2:], section + 1
        elif line.startswith("- "):
            kind, text = "list_item", line[2:]
        elif line.startswith("! "):
            kind, text = "boilerplate", line[2:]
        segments.append(Segment(ordinal, section, kind, text, ordinal + 1, ordinal + 1, offset, offset + len(line)))
        offset += len(line) + 1
    return segments


WORDS = ["alpha", "beta", "gamma", "delta", "Omega", "Kappa", "sigma", "tau", "Zeta", "rho"]


@st.composite
def documents(draw: st.DrawFn) -> list[Segment]:
    lines = [draw(st.sampled_from(["Title", "Title 2025", "Annual Report"]))]
    lines += ["^ " + draw(st.sampled_from(["Title", "The Annual Report 2025"])) for _ in range(draw(st.integers(0, 2)))]
    for _ in range(draw(st.integers(0, 24))):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=30))
        number = draw(st.sampled_from(["", " 7", " 1999", " 42.5"]))
        prefix = draw(st.sampled_from(["", "", "", "# ", "- ", "! "]))
        lines.append(prefix + " ".join(words) + number)
    return make_doc(lines)
