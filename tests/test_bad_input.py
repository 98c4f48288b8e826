"""Bad and unusual input through the real build: every file ends up a document or a reject, nothing is lost.

Most cases share one build (``zoo``): each case lives in its own folder, so it is a work of its own and
cannot disturb another. Cases that need other build options (a size limit, another glob, text output)
or a comparison (the kitchen sink against the seeds alone) have small builds of their own.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import random
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from flows.cli import app
from schemas import ALIGNMENTS, DOCUMENTS, REJECTS, SEGMENTS
from tasks.documents import analyse_file
from tasks.ingest import InputFile, Rejection, fingerprint
from tasks.langtag import tag_language
from tasks.segment import segment_text
from tasks.store.storage import load_manifest, read_table
from tests.helpers import SEEDS

runner = CliRunner()

Row = dict[str, Any]

# Lines as an editor numbers them: only \r\n, \r and \n end a line.
LINE_BREAK = re.compile(r"\r\n|\r|\n")
LOW_CONFIDENCE = 0.6  # the summary's threshold for an uncertain language
PASSWD = Path("/etc/passwd")

SWAHILI = [
    "Habari za Mji Wetu",
    "",
    "Mvua kubwa ilinyesha jana usiku katika mji wetu, na watu wengi walibaki nyumbani.",
    "",
    "Shule na Maktaba",
    "",
    "Wanafunzi wa shule yetu wanapenda sana maktaba mpya iliyojengwa mwaka huu.",
    "Walimu wanasema kwamba vitabu vipya vitasaidia watoto kujifunza kusoma na kuandika vizuri zaidi.",
    "",
    "Soko la Jumamosi",
    "",
    "Kila Jumamosi wakulima huleta mboga, matunda na samaki sokoni mapema asubuhi.",
]
INDONESIAN = [
    "Hujan deras turun tadi malam di kota kami, dan banyak orang tinggal di rumah.",
    "Murid-murid sekolah kami sangat menyukai perpustakaan baru yang dibangun tahun ini.",
    "Para guru mengatakan bahwa buku-buku baru akan membantu anak-anak belajar membaca dan menulis.",
    "Setiap hari Sabtu, para petani membawa sayuran, buah-buahan, dan ikan ke pasar pagi-pagi sekali.",
]
# ’ œ € exist in Windows-1252 only, so the file cannot be read as Latin-1 by accident.
FRENCH_CP1252 = [
    "Le Marché du Samedi",
    "",
    "Chaque samedi, les agriculteurs apportent des légumes, des fruits et du poisson au marché.",
    "« L’été dernier, les œufs coûtaient 3 € la douzaine », explique Benoît.",
    "",
    "La Pluie",
    "Il a beaucoup plu hier soir ; la rivière a débordé près du pont.",
]
SPANISH_LATIN1 = [
    "El Mercado del Sábado",
    "",
    "Cada sábado, los agricultores traen verduras, frutas y pescado al mercado.",
    "¿Dónde está la biblioteca nueva?, preguntó el niño.",
    "Él dijo: «¡Qué lluvia tan fuerte cayó anoche en la ciudad!»",
]
TRADITIONAL_CHINESE = [
    "我們的城市新聞",
    "",
    "昨天晚上下了很大的雨，很多人都留在家裡。",
    "",
    "學校與圖書館",
    "我們學校的學生們都很喜歡今年新建的圖書館。",
    "老師說，新的書籍會幫助孩子們學習閱讀和寫作。",
]
SIMPLIFIED_CHINESE = [
    "我们的城市新闻",
    "",
    "昨天晚上下了很大的雨，很多人都留在家里。",
    "",
    "学校与图书馆",
    "我们学校的学生们都很喜欢今年新建的图书馆。",
    "老师说，新的书籍会帮助孩子们学习阅读和写作。",
]
THAI = [
    "ข่าวเมืองของเรา",
    "",
    "เมื่อคืนนี้ฝนตกหนักมากในเมืองของเรา หลายคนจึงอยู่บ้าน",
    "",
    "โรงเรียนและห้องสมุด",
    "นักเรียนในโรงเรียนของเราชอบห้องสมุดใหม่ที่สร้างขึ้นในปีนี้มาก",
    "ครูบอกว่าหนังสือใหม่จะช่วยให้เด็กๆ อ่านและเขียนได้ดีขึ้น",
]
# Languages no language detector here has a model for: in a script neither knows, and in Latin letters.
TIBETAN = (
    "བོད་ཀྱི་སྐད་ཡིག་ནི་བོད་མི་རྣམས་ཀྱི་སྐད་ཡིག་ཡིན། ང་ཚོས་དཔེ་ཆ་ཀློག་གི་ཡོད།\n"
    "དཔེ་མཛོད་ཁང་སྒོ་ཕྱེ་ཡོད། ཕྲུ་གུ་ཚོ་སློབ་གྲྭ་ནས་ཡོང་གི་ཡོད།\n"
)
HAWAIIAN = (
    "Wehe ʻia ka hale waihona puke i ka hola ʻeiwa o ke kakahiaka a pani ʻia i ke ahiahi.\n"
    "Hele mai nā keiki ma hope o ke kula e heluhelu i nā puke a hana i kā lākou haʻawina home.\n"
)
# Languages langdetect has no profile for but the second detector knows: tagged right, or not confidently.
ZULU = (
    "Umtapo wolwazi uvulwa ngehora lesishiyagalolunye ekuseni bese uvalwa sekwephuzile kusihlwa.\n"
    "Izingane zifika ngemva kwesikole ukuze zifunde izincwadi futhi zenze umsebenzi wesikole.\n"
)
UNICODE_ODDITIES = [
    "Habari za Mji Wetu",
    "Habari 👋🏽 za leo: familia 👨\u200d👩\u200d👧 inafurahi sana kwa sababu mvua imenyesha jana.",
    "Neno\u200blisilo\u200bna\u200bnafasi na alama\u200d ya kuunganisha ni sehemu ya maandishi haya.",
    "Cafe\u0301 nai\u0308ve re\u0301sume\u0301: herufi zenye alama za kuunganisha zinabaki sawa kabisa.",
    "שלום עולם na مرحبا بالعالم \u200fRTL\u200e na \u202eimegeuzwa\u202c ni maandishi ya kulia kwenda kushoto.",
    "Kengele\x07 na\x1b[31m rangi nyekundu\x1b[0m na\x7f alama ya kufuta zimo ndani ya mstari huu.",
    "Mstari\u2028wenye kitenganishi na\u2029aya na\x85mstari mpya si mwisho wa mstari wa faili.",
    "Ukurasa\x0cmpya na\x0bwima ni nafasi tu ndani ya mstari mmoja wa maandishi haya.",
]
HOSTILE = [
    "<script>alert('hi')</script> Habari za mji wetu leo ni nzuri sana kwa wote.",
    "<![CDATA[ data ]]> na ]]> na &amp; na & na &#x41; ni alama za XML ambazo zinabaki kama zilivyo.",
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C notepad'!A1 ni fomula ya jedwali inayohifadhiwa kama maandishi tu.",
    "@HYPERLINK(\"http://example.invalid\") pia ni fomula inayohifadhiwa kama maandishi.",
    "Rangi \x1b[31mnyekundu\x1b[0m na kichwa \x1b]0;title\x07 ni mfuatano wa terminal uliohifadhiwa.",
]


def text_of(lines: list[str], newline: str = "\n") -> str:
    return newline.join(lines) + newline


def editor_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each line, line breaks excluded."""
    bounds = []
    position = 0
    for match in LINE_BREAK.finditer(text):
        bounds.append((position, match.start()))
        position = match.end()
    if position < len(text):
        bounds.append((position, len(text)))
    return bounds


def squeeze(text: str) -> str:
    """NFC text without any whitespace: what a segment keeps of its span, whatever the joins."""
    return unicodedata.normalize("NFC", "".join(unicodedata.normalize("NFC", text).split()))


def check_document(document: Row, segments: list[Row], data: bytes) -> str:
    """The segment invariants of one document against its original bytes; returns the decoded text."""
    text = data.decode(document["encoding"])
    bounds = editor_lines(text)
    assert document["n_lines"] == len(bounds)
    segments = sorted(segments, key=lambda s: s["ordinal"])
    assert [s["ordinal"] for s in segments] == list(range(len(segments))) == list(
        range(document["n_segments"])
    )
    assert [s["segment_id"] for s in segments] == [f"{document['doc_id']}-{s['ordinal']:05d}" for s in segments]
    sections = [s["section"] for s in segments]
    assert sections == sorted(sections) and document["n_sections"] == sections[-1] + 1
    covered = [n for s in segments for n in range(s["line_start"], s["line_end"] + 1)]
    assert covered == [n for n, (a, b) in enumerate(bounds, 1) if text[a:b].strip()]
    for s in segments:
        start, end = s["char_start"], s["char_end"]
        (line_start, _), (_, line_end) = bounds[s["line_start"] - 1], bounds[s["line_end"] - 1]
        # The span runs from the first to the last visible character of its lines.
        assert line_start <= start < end <= line_end, s
        assert not text[line_start:start].strip() and not text[end:line_end].strip(), s
        assert text[start].strip() and text[end - 1].strip(), s
        assert s["text"] == unicodedata.normalize("NFC", s["text"]) and s["text"].strip(), s
        # The text is the span's, whitespace normalised, less a list or heading marker at the front.
        assert squeeze(text[start:end]).endswith(squeeze(s["text"])), s
    return text


# ---------------------------------------------------------------------------------------------------
# Running builds and reading their output


def invoke(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def build_json(source: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = invoke("build", str(source), "--out", str(out), "--json", *extra)
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


@dataclass(frozen=True)
class Corpus:
    source: Path
    out: Path
    summary: dict[str, Any]
    documents: list[Row]
    segments: list[Row]
    alignments: list[Row]
    rejects: list[Row]

    @classmethod
    def read(cls, source: Path, out: Path, summary: dict[str, Any]) -> Corpus:
        manifest = load_manifest(out)
        assert manifest is not None
        tables = [read_table(out, manifest, t).to_pylist() for t in (DOCUMENTS, SEGMENTS, ALIGNMENTS, REJECTS)]
        return cls(source, out, summary, *tables)

    def document(self, path: str) -> Row:
        (found,) = [d for d in self.documents if d["source_path"] == path]
        return found

    def segments_of(self, path: str) -> list[Row]:
        doc_id = self.document(path)["doc_id"]
        return sorted((s for s in self.segments if s["doc_id"] == doc_id), key=lambda s: s["ordinal"])

    def reason(self, path: str) -> str:
        (found,) = [r["reason"] for r in self.rejects if r["source_path"] == path]
        return str(found)

    def outcome(self, path: str) -> str:
        """'document' or the reject reason, failing if a file is both, twice, or neither."""
        as_document = [d for d in self.documents if d["source_path"] == path]
        as_reject = [r for r in self.rejects if r["source_path"] == path]
        assert len(as_document) + len(as_reject) == 1, (path, as_document, as_reject)
        return "document" if as_document else str(as_reject[0]["reason"])

    def paths(self) -> set[str]:
        return {d["source_path"] for d in self.documents} | {r["source_path"] for r in self.rejects}


def write(root: Path, relative: str, data: bytes | str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("article.txt", text_of(SWAHILI))
    return buffer.getvalue()


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + bytes(64)


def nul_bytes() -> bytes:
    return random.Random(7).randbytes(300) + b"\x00\x01\x02\x03" * 20


# ---------------------------------------------------------------------------------------------------
# The zoo: one build over a folder per case


def mixed_newlines(lines: list[str]) -> str:
    """Each line ended by the next of \\n, \\r\\n, \\r; a blank line never follows a lone \\r (that is \\r\\n)."""
    endings = ["\n", "\r\n", "\r"]
    parts = []
    for i, line in enumerate(lines):
        ending = endings[i % 3]
        if ending == "\r" and i + 1 < len(lines) and not lines[i + 1]:
            ending = "\n"
        parts.append(line + ending)
    return "".join(parts)


def encoding_cases() -> dict[str, tuple[bytes, str, str | None]]:
    """case -> (the file's bytes, the text they hold, the encoding that must be recorded or None for any
    that reads the text back)."""
    sw, crlf, cr = text_of(SWAHILI), text_of(SWAHILI, "\r\n"), text_of(SWAHILI, "\r")
    mixed = mixed_newlines([*SWAHILI, "", "Mwisho wa makala hii.", "", "", "Asante kwa kusoma habari hizi."])
    french, spanish = text_of(FRENCH_CP1252), text_of(SPANISH_LATIN1)
    traditional, simplified, thai = text_of(TRADITIONAL_CHINESE), text_of(SIMPLIFIED_CHINESE), text_of(THAI)
    return {
        "utf8": (sw.encode("utf-8"), sw, "utf-8"),
        "utf8-bom": (codecs.BOM_UTF8 + sw.encode("utf-8"), sw, "utf-8-sig"),
        "utf16le-bom": (codecs.BOM_UTF16_LE + sw.encode("utf-16-le"), sw, "utf-16"),
        "utf16be-bom": (codecs.BOM_UTF16_BE + sw.encode("utf-16-be"), sw, "utf-16"),
        "utf16le-bom-crlf": (codecs.BOM_UTF16_LE + crlf.encode("utf-16-le"), crlf, "utf-16"),
        "cp1252": (french.encode("cp1252"), french, "cp1252"),
        # Latin-1 text reads the same in cp1252 (they differ only in C1 control bytes): either name is right.
        "latin1": (spanish.encode("latin-1"), spanish, None),
        "big5": (traditional.encode("big5"), traditional, "big5"),
        "gb18030": (simplified.encode("gb18030"), simplified, "gb18030"),
        "cp874": (thai.encode("cp874"), thai, "cp874"),
        "crlf": (crlf.encode("utf-8"), crlf, "utf-8"),
        "old-mac-cr": (cr.encode("utf-8"), cr, "utf-8"),
        "mixed-newlines": (mixed.encode("utf-8"), mixed, "utf-8"),
    }


ENCODINGS = encoding_cases()

NOT_TEXT: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "whitespace": (b"  \n\t\r\n \xc2\xa0 \n", "empty"),
    "nul-bytes": (nul_bytes(), "binary"),
    "png": (png_bytes(), "binary"),
    "zip": (zip_bytes(), "binary"),
}

# work -> (the original, the translation that stops halfway). Pairs are ordered by language tag, so the
# original is the source of the pair (id < sw) or its target (id < sw, mr < zh-Hant).
HALF_WORKS = {
    "half/original-is-source": ("002_13aaf5bb51a2e065.txt", "000_4cf4beee2d576faf.txt"),
    "half/original-is-target": ("000_4cf4beee2d576faf.txt", "002_13aaf5bb51a2e065.txt"),
    "half/han-original-is-target": ("004_61b3231e0c8e63ca.txt", "003_8846db1da0658b01.txt"),
}
HALF_MISSING_FROM_SECTION = 6


def half_translation(seed: str) -> str:
    """A seed translation cut just before one of its headings: the second half is missing."""
    text = (SEEDS / seed).read_text(encoding="utf-8")
    cut = next(s for s in segment_text(text) if s.section == HALF_MISSING_FROM_SECTION)
    return text[: cut.char_start]


def layout_cases() -> dict[str, str]:
    sentence = "Kila Jumamosi wakulima huleta mboga, matunda na samaki sokoni mapema asubuhi. "
    paragraphs = [SWAHILI[2], SWAHILI[6], SWAHILI[7], SWAHILI[11], sentence * 3]
    return {
        "no-headings": "\n\n".join(paragraphs) + "\n",
        "all-short": "".join(f"Mto mkubwa {i}\n" for i in range(60)),
        "one-long-line": (sentence * 1300)[:100_000],
        "tiny-lines": "".join(f"m{i % 10}\n" for i in range(3000)),
        "markdown": (
            "# Habari za Mji Wetu\n\n" + SWAHILI[2] + "\n\n## Shule na Maktaba\n\n" + SWAHILI[6] + "\n\n"
            "### Vitabu\n\n" + SWAHILI[7] + "\n\n## Soko\n\n- mboga\n- matunda\n- samaki\n"
        ),
        "numbered-headings": (
            SWAHILI[0] + "\n\n1. Utangulizi\n" + SWAHILI[2] + "\n\nII. Shule na Maktaba\n" + SWAHILI[6] + "\n\n"
            "三、市场\n" + SWAHILI[11] + "\n"
        ),
        "nested-bullets": (
            SWAHILI[0] + "\n\nVitu vya sokoni:\n- mboga za majani\n  - sukuma wiki\n    * mchicha mbichi\n"
            "  - kabichi\n• matunda mbalimbali\n\t◦ embe na ndizi\n1) samaki\n   a) dagaa\n"
        ),
        "tables": (
            SWAHILI[0] + "\n\nBidhaa\tBei\tKiasi\nmboga\t200\t3\nmatunda\t500\t10\n\n"
            "| Bidhaa | Bei |\n|---|---|\n| samaki | 800 |\n| mchele | 1200 |\n"
        ),
    }


def random_files() -> dict[str, bytes]:
    """Random bytes of several flavours: the build must turn each into a document or a reject."""
    rng = random.Random(20240503)
    alphabet = "abc XYZ ñé 中文 ไทย\n\r\t\x00\x1b🙂\u200b\u0301"
    return {
        "random/raw.txt": rng.randbytes(2000),
        "random/high.txt": bytes(rng.randrange(0x80, 0x100) for _ in range(1500)),
        "random/ascii.txt": bytes(rng.choice(b"abcdefgh ijkl.\n\r\t") for _ in range(1500)),
        "random/unicode.txt": "".join(rng.choice(alphabet) for _ in range(800)).encode("utf-8"),
        "random/utf16.txt": codecs.BOM_UTF16_LE + rng.randbytes(1000),
        "random/controls.txt": bytes(rng.randrange(0, 0x20) for _ in range(500)),
    }


@dataclass(frozen=True)
class Zoo:
    corpus: Corpus
    expected: dict[str, str]  # source_path -> "document" or the reject reason
    ignored: list[str]  # paths that must be neither a document nor a reject
    opened: list[str]  # every path the build opened for reading input bytes


def _make_zoo(root: Path) -> tuple[dict[str, str], list[str]]:
    expected: dict[str, str] = {}
    for name, (data, _, _) in ENCODINGS.items():
        write(root, f"enc/{name}/doc.txt", data)
        expected[f"enc/{name}/doc.txt"] = "document"
    for name, (data, reason) in NOT_TEXT.items():
        write(root, f"not-text/{name}.txt", data)
        expected[f"not-text/{name}.txt"] = reason
    language_cases = {
        "lang/short/doc.txt": "Hi.\n",
        "lang/unknown-script/doc.txt": TIBETAN,
        "lang/unknown-latin-language/doc.txt": HAWAIIAN,
        "lang/two-halves/doc.txt": text_of([SWAHILI[2], SWAHILI[6], SWAHILI[7], SWAHILI[11], *INDONESIAN]),
        "unicode/doc.txt": text_of(UNICODE_ODDITIES),
        "single/doc.txt": text_of([*SWAHILI, "Makala hii ni peke yake katika kazi yake."]),
    }
    for work, (original, cut) in HALF_WORKS.items():
        language_cases[f"{work}/full.txt"] = (SEEDS / original).read_text(encoding="utf-8")
        language_cases[f"{work}/half.txt"] = half_translation(cut)
    language_cases.update({f"layout/{name}/doc.txt": text for name, text in layout_cases().items()})
    for relative, text in language_cases.items():
        write(root, relative, text)
        expected[relative] = "document"
    for relative, data in random_files().items():
        write(root, relative, data)
        expected[relative] = "?"  # either: checked by the test of random bytes

    fs = root / "fs"
    write(fs, "real.txt", text_of([*SWAHILI[:3], "Faili halisi ndani ya folda ya kuingiza."]))
    expected["fs/real.txt"] = "document"
    (fs / "z-link-inside.txt").symlink_to("real.txt")
    expected["fs/z-link-inside.txt"] = "duplicate"
    (fs / "outside.txt").symlink_to(PASSWD)
    expected["fs/outside.txt"] = "outside_input"
    (fs / "etc").symlink_to("/etc", target_is_directory=True)
    expected["fs/etc"] = "outside_input"
    (fs / "loop.txt").symlink_to("loop.txt")
    expected["fs/loop.txt"] = "symlink_loop"
    (fs / "cycle").symlink_to(".", target_is_directory=True)
    expected["fs/cycle"] = "symlink_loop"
    (fs / "dangling.txt").symlink_to("nowhere.txt")
    expected["fs/dangling.txt"] = "broken_link"
    os.mkfifo(fs / "pipe.txt")
    expected["fs/pipe.txt"] = "not_a_file"
    with open(os.fsencode(fs) + b"/jina-\xff.txt", "wb") as handle:
        handle.write(text_of(SWAHILI).encode("utf-8"))
    expected["fs/jina-\\xff.txt"] = "bad_name"
    locked = write(fs, "locked.txt", text_of(INDONESIAN))
    locked.chmod(0)
    expected["fs/locked.txt"] = "unreadable"
    ignored = ["fs/.hidden.txt", "fs/.#real.txt", "fs/real.txt~", "fs/#real.txt#", "fs/.DS_Store",
               "fs/.git/notes.txt", "fs/notes.md", "fs/real.txt.swp"]
    for relative in ignored:
        write(root, relative, text_of(INDONESIAN))
    return expected, ignored


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[Zoo]:
    root = tmp_path_factory.mktemp("zoo") / "input"
    expected, ignored = _make_zoo(root)
    locked = root / "fs" / "locked.txt"
    real_open = os.open
    opened: list[str] = []

    def spying_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        """Records what the build reads; as root, permissions do not stop reading, so refuse here."""
        opened.append(os.fsdecode(path))
        if os.path.realpath(path) == os.path.realpath(locked) and os.access(locked, os.R_OK):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    out = root.parent / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", spying_open)
        summary = build_json(root, out)
    yield Zoo(Corpus.read(root, out, summary), expected, ignored, opened)
    locked.chmod(0o644)


def test_every_file_is_exactly_one_document_or_reject(zoo: Zoo) -> None:
    corpus = zoo.corpus
    outcomes = {path: corpus.outcome(path) for path in zoo.expected}
    assert {p: o for p, o in outcomes.items() if zoo.expected[p] != "?"} == {
        p: e for p, e in zoo.expected.items() if e != "?"
    }
    assert corpus.paths() == set(zoo.expected)
    assert {r["source_path"]: r["reason"] for r in corpus.summary["rejects"]} == {
        r["source_path"]: r["reason"] for r in corpus.rejects
    }
    assert all(r["message"].strip() for r in corpus.rejects)


def test_the_summary_counts_the_documents_made_not_the_files_planned(zoo: Zoo) -> None:
    """Binary or textless files are only found out once read: they are rejects, not new documents."""
    summary = zoo.corpus.summary
    assert summary["counts"]["new"] == len(summary["new_documents"]) == len(zoo.corpus.documents)
    assert summary["counts"]["changed"] == 0


def test_every_document_keeps_the_segment_invariants(zoo: Zoo) -> None:
    corpus = zoo.corpus
    for document in corpus.documents:
        data = (corpus.source / document["source_path"]).read_bytes()
        check_document(document, corpus.segments_of(document["source_path"]), data)


@pytest.mark.parametrize("case", list(ENCODINGS))
def test_encoding_is_recorded_and_offsets_point_into_the_original_file(zoo: Zoo, case: str) -> None:
    data, written, recorded = ENCODINGS[case]
    path = f"enc/{case}/doc.txt"
    document = zoo.corpus.document(path)
    if recorded is not None:
        assert document["encoding"] == recorded
    text = check_document(document, zoo.corpus.segments_of(path), data)
    assert text == written
    lines = [text[a:b] for a, b in editor_lines(text)]
    for segment in zoo.corpus.segments_of(path):
        if segment["line_start"] == segment["line_end"]:
            assert squeeze(lines[segment["line_start"] - 1]).endswith(squeeze(segment["text"]))


def test_every_encoding_reads_to_the_same_segments(zoo: Zoo) -> None:
    """The Swahili text in six encodings and line-ending styles: same segments, same kinds."""
    variants = [c for c, (_, text, _) in ENCODINGS.items() if text.replace("\r\n", "\n").replace("\r", "\n")
                == text_of(SWAHILI)]
    assert len(variants) == 7
    shapes = {
        case: [(s["kind"], s["section"], s["text"], s["line_start"], s["line_end"])
               for s in zoo.corpus.segments_of(f"enc/{case}/doc.txt")]
        for case in variants
    }
    assert len({json.dumps(shape) for shape in shapes.values()}) == 1, shapes


@pytest.mark.parametrize("case", list(NOT_TEXT))
def test_not_text_is_rejected_with_its_reason(zoo: Zoo, case: str) -> None:
    path = f"not-text/{case}.txt"
    assert zoo.corpus.reason(path) == NOT_TEXT[case][1]
    (reject,) = [r for r in zoo.corpus.rejects if r["source_path"] == path]
    assert reject["content_sha256"] == hashlib.sha256(NOT_TEXT[case][0]).hexdigest()


@pytest.mark.parametrize(
    ("case", "langs"),
    [
        ("short", {"und"}),
        ("unknown-script", {"und"}),
        ("unknown-latin-language", None),
        ("two-halves", {"und", "sw", "id"}),
    ],
)
def test_undecidable_language_is_ingested_with_low_confidence_and_a_warning(
    zoo: Zoo, case: str, langs: set[str] | None
) -> None:
    path = f"lang/{case}/doc.txt"
    document = zoo.corpus.document(path)
    assert langs is None or document["lang"] in langs
    assert document["lang_confidence"] < LOW_CONFIDENCE
    assert path in zoo.corpus.summary["low_confidence"]
    assert {s["lang"] for s in zoo.corpus.segments_of(path)} == {document["lang"]}


# "The library opens at nine and closes late; children come after school to read and do homework."
UNPROFILED_LATIN = {
    "yo": "Ilé-ìkàwé máa ń ṣí ní aago mẹ́sàn-án òwúrọ̀, ó sì máa ń tì ní alẹ́.\n"
    "Àwọn ọmọdé máa ń wá lẹ́yìn ilé-ìwé láti ka ìwé àti láti ṣe iṣẹ́ àṣetiléwá wọn.",
    "mt": "Il-librerija tiftaħ fid-disgħa ta' filgħodu u tagħlaq tard filgħaxija.\n"
    "It-tfal jiġu wara l-iskola biex jaqraw il-kotba u jagħmlu x-xogħol tad-dar.",
    "haw": HAWAIIAN,
    "is": "Bókasafnið opnar klukkan níu á morgnana og lokar seint á kvöldin.\n"
    "Börnin koma eftir skóla til að lesa bækur og gera heimavinnuna sína.",
    "zu": ZULU,
}


@pytest.mark.parametrize("lang", list(UNPROFILED_LATIN))
def test_latin_script_language_langdetect_lacks_is_tagged_right_or_not_with_confidence(lang: str) -> None:
    tag = tag_language(UNPROFILED_LATIN[lang])
    assert tag.lang == lang or tag.confidence < LOW_CONFIDENCE


def test_language_is_confident_where_it_is_clear(zoo: Zoo) -> None:
    assert zoo.corpus.document("single/doc.txt")["lang"] == "sw"
    assert "single/doc.txt" not in zoo.corpus.summary["low_confidence"]
    expected = {"big5": "zh-Hant", "gb18030": "zh-Hans", "cp874": "th", "cp1252": "fr", "latin1": "es"}
    assert {case: zoo.corpus.document(f"enc/{case}/doc.txt")["lang"] for case in expected} == expected


def test_emoji_invisible_marks_rtl_and_controls_are_kept_in_nfc_without_drift(zoo: Zoo) -> None:
    path = "unicode/doc.txt"
    document = zoo.corpus.document(path)
    assert document["n_lines"] == len(UNICODE_ODDITIES)  # no break at \u2028, \u2029, \x85, \f, \v
    segments = zoo.corpus.segments_of(path)
    text = check_document(document, segments, (zoo.corpus.source / path).read_bytes())
    assert [s["line_start"] for s in segments] == list(range(1, len(UNICODE_ODDITIES) + 1))
    kept = "\n".join(s["text"] for s in segments)
    for piece in ("👋🏽", "👨\u200d👩\u200d👧", "\u200b", "\u200f", "\u202e", "\u202c", "\x07", "\x1b[31m", "\x7f",
                  "שלום עולם", "مرحبا بالعالم", "Café", "naïve", "résumé"):
        assert piece in kept, piece
    for segment, line in zip(segments, UNICODE_ODDITIES, strict=True):
        assert segment["text"] == unicodedata.normalize("NFC", " ".join(line.split()))
        # The span is the original, not normalised, text: its offsets count its combining marks.
        assert text[segment["char_start"]:segment["char_end"]] == line


@pytest.mark.parametrize("case", list(layout_cases()))
def test_layout_oddities_build_and_keep_every_line(zoo: Zoo, case: str) -> None:
    path = f"layout/{case}/doc.txt"
    segments = zoo.corpus.segments_of(path)
    check_document(zoo.corpus.document(path), segments, (zoo.corpus.source / path).read_bytes())
    kinds = [s["kind"] for s in segments]
    by_text = {s["text"]: s["kind"] for s in segments}
    if case == "no-headings":
        assert set(kinds) == {"paragraph"}
    elif case == "all-short":
        assert "heading" not in kinds and len(segments) == 60
    elif case == "one-long-line":
        text = (zoo.corpus.source / path).read_text(encoding="utf-8")
        (segment,) = segments
        assert (segment["line_end"], segment["char_start"], segment["char_end"]) == (1, 0, len(text.rstrip()))
    elif case == "tiny-lines":
        assert len(segments) == 3000 and all(s["line_start"] == s["line_end"] for s in segments)
    elif case == "markdown":
        assert by_text["Habari za Mji Wetu"] == "title"
        assert [by_text[t] for t in ("Shule na Maktaba", "Vitabu", "Soko")] == ["heading"] * 3
        assert [by_text[t] for t in ("mboga", "matunda", "samaki")] == ["list_item"] * 3
    elif case == "numbered-headings":
        assert [by_text[t] for t in ("Utangulizi", "Shule na Maktaba", "市场")] == ["heading"] * 3
        assert max(s["section"] for s in segments) == 3
    elif case == "nested-bullets":
        items = ["mboga za majani", "sukuma wiki", "mchicha mbichi", "kabichi", "matunda mbalimbali",
                 "embe na ndizi", "samaki", "dagaa"]
        assert [by_text[t] for t in items] == ["list_item"] * len(items)
    elif case == "tables":
        # One segment per row, none merged; a row of short cells is content, not an author box.
        rows = {s["line_start"]: s for s in segments if s["line_start"] > 1}
        assert sorted(rows) == [3, 4, 5, 7, 8, 9, 10] and all(s["line_end"] == s["line_start"] for s in rows.values())
        assert [n for n, s in rows.items() if s["kind"] == "boilerplate"] == [8]  # the |---|---| rule


def test_file_system_oddities_are_rejects_or_ignored(zoo: Zoo) -> None:
    corpus = zoo.corpus
    for path in ("fs/outside.txt", "fs/etc", "fs/loop.txt", "fs/cycle", "fs/dangling.txt", "fs/pipe.txt",
                 "fs/jina-\\xff.txt", "fs/locked.txt", "fs/z-link-inside.txt"):
        assert corpus.outcome(path) == zoo.expected[path]
    assert not set(zoo.ignored) & corpus.paths()
    assert not any(p.startswith("fs/etc/") or p.startswith("fs/cycle/") for p in corpus.paths())
    (duplicate,) = [r for r in corpus.rejects if r["reason"] == "duplicate"]
    assert "fs/real.txt" in duplicate["message"]


def test_symlink_outside_the_input_is_never_read(zoo: Zoo) -> None:
    assert zoo.opened, "the spy saw no file being opened: it does not watch the build"
    assert not [p for p in zoo.opened if Path(p).resolve() == PASSWD.resolve()]
    assert_nothing_of(PASSWD.read_text(encoding="utf-8"), zoo.corpus.out)


def assert_nothing_of(secret: str, out: Path) -> None:
    """No line of ``secret`` appears in any value of any Parquet file, nor in the manifest."""
    lines = [line for line in secret.splitlines() if len(line) >= 8]
    assert lines
    files = list(out.rglob("*.parquet"))
    assert files
    for file in files:
        for row in pq.read_table(file).to_pylist():
            values = json.dumps(row, default=str, ensure_ascii=False)
            assert not any(line in values for line in lines), file
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert not any(line in manifest for line in lines)


def test_random_bytes_become_a_document_or_a_reject(zoo: Zoo) -> None:
    corpus = zoo.corpus
    outcomes = {path: corpus.outcome(path) for path in random_files()}
    assert set(outcomes.values()) <= {"document", "binary", "undecodable", "empty"}
    assert outcomes["random/controls.txt"] == "binary"
    for path, outcome in outcomes.items():
        if outcome == "document":
            data = (corpus.source / path).read_bytes()
            check_document(corpus.document(path), corpus.segments_of(path), data)


def test_a_work_with_a_single_document_has_no_alignments(zoo: Zoo) -> None:
    doc_id = zoo.corpus.document("single/doc.txt")["doc_id"]
    assert zoo.corpus.document("single/doc.txt")["work_id"] == "single"
    assert not [a for a in zoo.corpus.alignments if doc_id in (a["src_doc_id"], a["tgt_doc_id"])]
    works = {d["work_id"] for d in zoo.corpus.documents}
    assert {a["work_id"] for a in zoo.corpus.alignments} <= {w for w in works if
                                                             sum(d["work_id"] == w for d in zoo.corpus.documents) > 1}


@pytest.mark.parametrize("work", list(HALF_WORKS))
def test_half_translation_leaves_the_missing_half_as_omissions(zoo: Zoo, work: str) -> None:
    corpus = zoo.corpus
    full, half = corpus.document(f"{work}/full.txt"), corpus.document(f"{work}/half.txt")
    rows = [a for a in corpus.alignments if a["work_id"] == work and a["level"] == "segment"]
    full_is_source = work.endswith("is-source")
    assert {(a["src_doc_id"], a["tgt_doc_id"]) for a in rows} == {
        (full["doc_id"], half["doc_id"]) if full_is_source else (half["doc_id"], full["doc_id"])
    }
    side_of_full, side_of_half = ("src_ids", "tgt_ids") if full_is_source else ("tgt_ids", "src_ids")
    content = [s for s in corpus.segments_of(f"{work}/full.txt") if s["kind"] != "boilerplate"]
    missing = {s["segment_id"] for s in content if s["section"] >= HALF_MISSING_FROM_SECTION}
    present = {s["segment_id"] for s in content} - missing
    half_ids = {s["segment_id"] for s in corpus.segments_of(f"{work}/half.txt") if s["kind"] != "boilerplate"}
    # Every content segment is in exactly one bead; the missing half is omitted, the rest linked.
    assert sorted(i for a in rows for i in a[side_of_full]) == sorted(missing | present)
    assert sorted(i for a in rows for i in a[side_of_half]) == sorted(half_ids)
    omitted = {i for a in rows if not a[side_of_half] for i in a[side_of_full]}
    linked = {i for a in rows if a[side_of_half] for i in a[side_of_full]}
    assert len(missing & omitted) >= 0.85 * len(missing), (len(missing & omitted), len(missing))
    assert len(present & linked) >= 0.8 * len(present), (len(present & linked), len(present))


# ---------------------------------------------------------------------------------------------------
# Builds with options of their own


def test_file_over_the_size_limit_is_rejected_as_too_large(tmp_path: Path, prefect_harness: None) -> None:
    small = text_of(SWAHILI[:3])
    write(tmp_path / "in", "small.txt", small)
    write(tmp_path / "in", "big.txt", text_of(SWAHILI * 4))
    assert len(small.encode()) < 1048 < len(text_of(SWAHILI * 4).encode())  # 0.001 MB is 1048 bytes
    summary = build_json(tmp_path / "in", tmp_path / "out", "--max-file-mb", "0.001")
    corpus = Corpus.read(tmp_path / "in", tmp_path / "out", summary)
    assert (corpus.outcome("small.txt"), corpus.outcome("big.txt")) == ("document", "too_large")
    assert "1,048" in next(r["message"] for r in corpus.rejects if r["source_path"] == "big.txt")


def test_glob_decides_which_extensions_are_inputs(tmp_path: Path, prefect_harness: None) -> None:
    source = tmp_path / "in"
    write(source, "notes.md", "# Habari\n\n" + text_of(SWAHILI[2:]))
    write(source, "page.txt", text_of(INDONESIAN))
    write(source, "data.csv", "a,b\n1,2\n")
    default = Corpus.read(source, tmp_path / "txt", build_json(source, tmp_path / "txt"))
    assert default.paths() == {"page.txt"}
    markdown = Corpus.read(source, tmp_path / "md", build_json(source, tmp_path / "md", "--glob", "**/*.md"))
    assert markdown.paths() == {"notes.md"} and markdown.outcome("notes.md") == "document"


ESC_NAME = "\x1b[31mnyekundu.txt"
ESC_WORK = "\x1b[1mkazi"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> tuple[Path, Path, Result]:
    source = tmp_path_factory.mktemp("hostile") / "in"
    write(source, "markup/doc.txt", text_of(HOSTILE))
    write(source, f"{ESC_WORK}/{ESC_NAME}", text_of(SWAHILI))
    write(source, f"{ESC_WORK}/\x1b[2Jtupu.txt", b"")
    out = source.parent / "out"
    result = invoke("build", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    return source, out, result


def test_hostile_text_is_stored_as_is(hostile: tuple[Path, Path, Result]) -> None:
    source, out, _ = hostile
    corpus = Corpus.read(source, out, {})
    stored = [s["text"] for s in corpus.segments_of("markup/doc.txt")]
    assert stored == [" ".join(line.split()) for line in HOSTILE]
    check_document(corpus.document("markup/doc.txt"), corpus.segments_of("markup/doc.txt"),
                   (source / "markup/doc.txt").read_bytes())
    assert corpus.outcome(f"{ESC_WORK}/{ESC_NAME}") == "document"
    assert corpus.document(f"{ESC_WORK}/{ESC_NAME}")["work_id"] == ESC_WORK
    assert corpus.outcome(f"{ESC_WORK}/\x1b[2Jtupu.txt") == "empty"


def _no_raw_escape(result: Result) -> None:
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x1b" not in result.stderr


def test_cli_output_never_prints_a_raw_escape_character(hostile: tuple[Path, Path, Result]) -> None:
    source, out, built = hostile
    _no_raw_escape(built)
    assert "\\x1b" in built.output  # the names were shown, escaped
    for args in (["stats", str(out)], ["status", str(out), "--source", str(source)]):
        _no_raw_escape(invoke(*args))
    status = invoke("status", str(out))
    _no_raw_escape(status)
    assert "\\x1b" in status.output
    again = invoke("build", str(source), "--out", str(out))
    _no_raw_escape(again)
    assert "nothing to do" in again.output


def test_cli_error_naming_a_hostile_path_is_printed_escaped(tmp_path: Path) -> None:
    missing = tmp_path / "\x1b[31m[/]missing"
    result = runner.invoke(app, ["build", str(missing), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output and "\x1b" not in result.output


# ---------------------------------------------------------------------------------------------------
# Kitchen sink: every kind of bad file next to the seeds changes nothing of the seeds' corpus

SINK_LIMIT_MB = "0.1"  # above every seed, below the big file


def _sink_junk(root: Path) -> tuple[dict[str, str], list[str]]:
    expected = {
        "empty.txt": "empty", "whitespace.txt": "empty", "nul-bytes.txt": "binary", "image.txt": "binary",
        "archive.txt": "binary", "huge.txt": "too_large", "outside.txt": "outside_input",
        "loop.txt": "symlink_loop", "copy-of-a-seed.txt": "duplicate",
    }
    write(root, "empty.txt", b"")
    write(root, "whitespace.txt", " \n\n\t \r\n")
    write(root, "nul-bytes.txt", nul_bytes())
    write(root, "image.txt", png_bytes())
    write(root, "archive.txt", zip_bytes())
    write(root, "huge.txt", text_of(SWAHILI * 1000))
    (root / "outside.txt").symlink_to(PASSWD)
    (root / "loop.txt").symlink_to("loop.txt")
    shutil.copy(SEEDS / "002_13aaf5bb51a2e065.txt", root / "copy-of-a-seed.txt")
    ignored = [".hidden.txt", ".#000.txt", "000.txt~", ".DS_Store", "#draft.txt#"]
    for name in ignored:
        write(root, name, text_of(INDONESIAN))
    return expected, ignored


def _without_times(rows: list[Row]) -> list[Row]:
    return sorted(({k: v for k, v in row.items() if k not in ("ingested_at", "seen_at")} for row in rows),
                  key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_kitchen_sink_next_to_the_seeds_changes_nothing_of_theirs(
    tmp_path: Path, seeds_copy: Path, prefect_harness: None
) -> None:
    alone = Corpus.read(SEEDS, tmp_path / "alone", build_json(SEEDS, tmp_path / "alone"))
    expected, ignored = _sink_junk(seeds_copy)
    result = invoke("build", str(seeds_copy), "--out", str(tmp_path / "sink"), "--json",
                    "--max-file-mb", SINK_LIMIT_MB)
    assert result.exit_code == 0, result.output
    sink = Corpus.read(seeds_copy, tmp_path / "sink", json.loads(result.stdout))
    assert len(alone.documents) == 5 and not alone.rejects
    assert len(sink.rejects) == len(expected)
    assert {r["source_path"]: r["reason"] for r in sink.rejects} == expected
    assert not set(ignored) & sink.paths()
    for table in ("documents", "segments", "alignments"):
        assert _without_times(getattr(sink, table)) == _without_times(getattr(alone, table)), table
    assert_nothing_of(PASSWD.read_text(encoding="utf-8"), tmp_path / "sink")
    stats = invoke("stats", str(tmp_path / "sink"), "--json")
    assert stats.exit_code == 0 and json.loads(stats.stdout)["documents"] == 5


# ---------------------------------------------------------------------------------------------------
# Any bytes: the per-file stages (ingest, langtag, segment) give a document or a reject, never an error


def _analyse(data: bytes) -> None:
    """What the build does with one file of these bytes: a reject, or a document whose invariants hold."""
    limit = 1 << 20
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.txt"
        path.write_bytes(data)
        found = fingerprint(InputFile(path, "x.txt", "."), limit)
        result = found if isinstance(found, Rejection) else analyse_file(found, limit, datetime.now(UTC))
    if isinstance(result, Rejection):
        assert result.reason and result.message
        return
    assert 0.0 <= result.document.lang_confidence <= 1.0
    check_document(result.document.model_dump(), [row.model_dump() for row in result.segment_rows()], data)


_PIECES = st.sampled_from([
    "Habari za leo", "mvua", "สวัสดีครับ", "這是文章", "这是", "カタカナ", "한국어", "नमस्कार", "Привет", "שלום",
    "مرحبا", "ሰላም", "# ", "1. ", "一、", "- ", "• ", "\t", "|", ":", "。", ".", "\r", "\n", "\r\n", " ",
    "\x1b[31m", "\x00", "\u200b", "\u0301", "👋🏽", "\x0c", "\x85", "\u2028", "2024-05-03", "©", "<script>",
])
_ENCODE: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-sig": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16": lambda t: t.encode("utf-16"),
    "gb18030": lambda t: t.encode("gb18030"),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_become_a_document_or_a_reject(data: bytes) -> None:
    _analyse(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=50), st.sampled_from(sorted(_ENCODE)))
def test_any_text_in_any_encoding_becomes_a_document_or_a_reject(pieces: list[str], codec: str) -> None:
    _analyse(_ENCODE[codec]("".join(pieces)))
