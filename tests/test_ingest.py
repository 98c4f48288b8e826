"""Ingest: which files are inputs, their fingerprints, and how their bytes become text (or a reject)."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tasks.ingest import (
    DecodedText,
    Fingerprint,
    InputFile,
    Rejection,
    decode_bytes,
    discover_inputs,
    fingerprint,
    read_document,
)

FRENCH = (
    "Le café de la gare ouvre à six heures.\n"
    "On y sert des crêpes, du thé et des œufs brouillés — « un délice », dit-on.\n"
    "Les prix ont augmenté de 5 € depuis l’été dernier.\n"
)
GERMAN = (
    "Der Bäcker öffnet um sechs Uhr.\n"
    "Er verkauft Brötchen, Brezeln und süße Törtchen.\n"
    "Die Straße ist ruhig, bis die Schüler kommen.\n"
)
TRADITIONAL_CHINESE = (
    "臺灣的夜市非常熱鬧，每到晚上都擠滿了遊客。\n"
    "這裡有許多傳統小吃，例如蚵仔煎、臭豆腐和珍珠奶茶。\n"
    "很多人喜歡在週末和家人一起去逛夜市。\n"
)
SIMPLIFIED_CHINESE = (
    "北京是中国的首都，也是一座历史悠久的城市。\n"
    "这里有故宫、长城和天坛等著名景点，每年吸引大量游客。\n"
    "很多人喜欢在周末和家人一起去公园散步。\n"
)
THAI = (
    "วันนี้อากาศดีมาก เราไปเดินเล่นที่สวนสาธารณะด้วยกัน\n"
    "ในสวนมีคนออกกำลังกายหลายคน และมีเด็ก ๆ เล่นว่าว\n"
    "ตอนเย็นเรากลับบ้านไปกินข้าว แม่ทำอาหารอร่อยหลายอย่าง\n"
)
RUSSIAN = (
    "Сегодня хорошая погода, и мы идём гулять в парк.\n"
    "В парке много людей занимаются спортом, а дети запускают воздушного змея.\n"
)
JAPANESE = (
    "今日はとても良い天気なので、公園へ散歩に行きました。\n"
    "公園では多くの人が運動していて、子供たちは凧を揚げていました。\n"
)
KOREAN = (
    "오늘은 날씨가 아주 좋아서 우리는 공원에 산책하러 갔습니다.\n"
    "공원에는 운동하는 사람들이 많았고 아이들은 연을 날리고 있었습니다.\n"
)
GREEK = (
    "Σήμερα ο καιρός είναι πολύ ωραίος και πηγαίνουμε βόλτα στο πάρκο.\n"
    "Στο πάρκο πολλοί άνθρωποι αθλούνται.\n"
)
ARABIC = (
    "الطقس جميل اليوم، لذلك ذهبنا إلى الحديقة للتنزه.\n"
    "في الحديقة كان هناك الكثير من الناس يمارسون الرياضة.\n"
)
HEBREW = (
    "היום מזג האוויר יפה מאוד ואנחנו הולכים לטייל בפארק.\n"
    "בפארק יש הרבה אנשים שעושים ספורט.\n"
)
POLISH = (
    "Dzisiaj jest piękna pogoda, więc idziemy na spacer do parku.\n"
    "W parku wielu ludzi uprawia sport, a dzieci puszczają latawce.\n"
    "Wieczorem wrócimy do domu na kolację, którą przygotuje babcia.\n"
)
BULGARIAN = (
    "Днес времето е хубаво и отиваме на разходка в парка.\n"
    "В парка много хора спортуват, а децата пускат хвърчила.\n"
)


def decoded(data: bytes) -> DecodedText:
    result = decode_bytes(data)
    assert isinstance(result, DecodedText), result
    assert data.decode(result.encoding) == result.text  # the recorded codec reproduces the text
    return result


def rejected(data: bytes) -> Rejection:
    result = decode_bytes(data, source_path="w/x.txt")
    assert isinstance(result, Rejection), result
    assert result.source_path == "w/x.txt"
    return result


# ---------------------------------------------------------------------------------------------------
# decode_bytes


@pytest.mark.parametrize(
    ("text", "written_as", "recorded_as"),
    [
        (FRENCH, "utf-8", "utf-8"),
        (THAI, "utf-8", "utf-8"),
        (FRENCH, "cp1252", "cp1252"),
        # A Latin-1 file holds no byte in 0x80-0x9F and so reads the same in cp1252, its superset.
        (GERMAN, "latin-1", "cp1252"),
        (TRADITIONAL_CHINESE, "big5", "big5"),
        (SIMPLIFIED_CHINESE, "gb18030", "gb18030"),
        (SIMPLIFIED_CHINESE + "表情符号只有 GB18030 能编码：😀\n", "gb18030", "gb18030"),
        (THAI, "tis-620", "cp874"),
        (THAI, "cp874", "cp874"),
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "koi8_r", "koi8_r"),
        (BULGARIAN, "cp1251", "cp1251"),
        (JAPANESE, "shift_jis", "cp932"),
        (JAPANESE, "euc_jp", "euc_jp"),
        (KOREAN, "euc_kr", "cp949"),
        (GREEK, "cp1253", "cp1253"),
        (ARABIC, "cp1256", "cp1256"),
        (HEBREW, "cp1255", "cp1255"),
        (POLISH, "cp1250", "cp1250"),
    ],
)
def test_decodes_each_encoding_of_realistic_text(text: str, written_as: str, recorded_as: str) -> None:
    result = decoded(text.encode(written_as))
    assert result.text == text
    assert result.encoding == recorded_as


@pytest.mark.parametrize(
    ("bom", "codec", "recorded_as"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
)
def test_byte_order_mark_decides_and_is_stripped(bom: bytes, codec: str, recorded_as: str) -> None:
    text = TRADITIONAL_CHINESE + FRENCH
    result = decoded(bom + text.encode(codec))
    assert result.text == text
    assert result.encoding == recorded_as


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_nul_bytes(codec: str) -> None:
    result = decoded(GERMAN.encode(codec))
    assert (result.text, result.encoding) == (GERMAN, codec)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("codec", ["utf-8", "cp1252", "utf-16"])
def test_line_endings_are_kept_as_they_are(newline: str, codec: str) -> None:
    text = FRENCH.replace("\n", newline)
    assert decoded(text.encode(codec)).text == text


def test_mixed_line_endings_are_kept_so_offsets_point_into_the_file() -> None:
    text = "Première ligne\r\nDeuxième ligne\rTroisième ligne\nQuatrième\r\n"
    result = decoded(text.encode("cp1252"))
    assert result.text == text
    assert result.text.index("Troisième") == text.index("Troisième")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n\t\r\n  ",
        codecs.BOM_UTF8,
        codecs.BOM_UTF8 + b" \n",
        " \n".encode("utf-16"),
        "\u3000\n".encode(),
    ],
)
def test_no_text_is_empty(data: bytes) -> None:
    result = rejected(data)
    assert result.reason == "empty"
    assert "add its text or remove it" in result.message


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", FRENCH)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "PNG image"),
        (_zip_bytes(), "ZIP archive"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF document"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"plain words\x00\x00\x01\x02 then more words", "NUL bytes"),
        (bytes(range(1, 9)) * 20 + b"some text", "control characters"),
    ],
)
def test_binary_files_are_rejected_with_what_they_look_like(data: bytes, kind: str) -> None:
    result = rejected(data)
    assert result.reason == "binary"
    assert kind in result.message
    assert "export it as a .txt file or remove it" in result.message


def test_bytes_no_encoding_reads_cleanly_are_undecodable() -> None:
    result = rejected(bytes(range(0x80, 0x100)) * 8)
    assert result.reason == "undecodable"
    assert "convert it to UTF-8 or remove it" in result.message


def test_truncated_utf16_is_undecodable() -> None:
    result = rejected(codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le")[:-1])
    assert result.reason == "undecodable"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_become_text_or_a_reject(data: bytes) -> None:
    result = decode_bytes(data)
    if isinstance(result, DecodedText):
        assert data.decode(result.encoding) == result.text
        assert result.text.strip()
    else:
        assert result.reason in {"empty", "binary", "undecodable"}
        assert result.message


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=200))
def test_any_utf8_text_comes_back_unchanged(text: str) -> None:
    assume(text.strip() and not text.startswith(("\ufeff", "%PDF-", "GIF8")))
    assert decode_bytes(text.encode("utf-8")) == DecodedText(text, "utf-8")


# ---------------------------------------------------------------------------------------------------
# discover_inputs


def write(path: Path, text: str = "some text\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def reasons(rejections: list[Rejection]) -> dict[str, str]:
    return {r.source_path: r.reason for r in rejections}


def test_finds_matching_files_sorted_with_their_work(tmp_path: Path) -> None:
    for name in ["w2/b.txt", "w1/sub/c.txt", "a.txt", "w1/a.txt", "w1/notes.md"]:
        write(tmp_path / name)
    files, rejections = discover_inputs(tmp_path)
    assert [(f.source_path, f.work_id) for f in files] == [
        ("a.txt", "."),
        ("w1/a.txt", "w1"),
        ("w1/sub/c.txt", "w1/sub"),
        ("w2/b.txt", "w2"),
    ]
    assert all(f.path.is_absolute() and f.path.read_text() == "some text\n" for f in files)
    assert rejections == []


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("*.txt", ["a.txt"]),
        ("w1/*.txt", ["w1/a.txt"]),
        ("**/*.md", ["w1/notes.md"]),
        ("w1/**/*.txt", ["w1/a.txt", "w1/sub/c.txt"]),
        ("**/sub/*", ["w1/sub/c.txt"]),
    ],
)
def test_glob_selects_the_inputs(tmp_path: Path, glob: str, expected: list[str]) -> None:
    for name in ["a.txt", "w1/a.txt", "w1/sub/c.txt", "w1/notes.md"]:
        write(tmp_path / name)
    files, _ = discover_inputs(tmp_path, glob)
    assert [f.source_path for f in files] == expected


def test_hidden_and_backup_files_are_silently_ignored(tmp_path: Path) -> None:
    for name in [
        ".hidden/a.txt", "w/.secret.txt", "w/a.txt~", "w/.#a.txt", "w/#a.txt#", "w/.DS_Store",
        "w/a.txt.swp", "w/.a.txt.swp", ".git/config",
    ]:
        write(tmp_path / name)
    write(tmp_path / "w/a.txt")
    files, rejections = discover_inputs(tmp_path, "**/*")
    assert [f.source_path for f in files] == ["w/a.txt"]
    assert rejections == []


def test_symlink_inside_root_is_followed(tmp_path: Path) -> None:
    target = write(tmp_path / "w/a.txt")
    (tmp_path / "v").mkdir()
    (tmp_path / "v/alias.txt").symlink_to("../w/a.txt")
    (tmp_path / "linked").symlink_to("w", target_is_directory=True)
    files, rejections = discover_inputs(tmp_path)
    assert {f.source_path: f.path for f in files} == {
        "linked/a.txt": target,
        "v/alias.txt": target,
        "w/a.txt": target,
    }
    assert rejections == []


def test_symlinks_leading_outside_root_are_rejected_unread(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "w/a.txt")
    outside = write(tmp_path / "elsewhere/secret.txt", "not part of the corpus")
    (root / "w/secret.txt").symlink_to(outside)
    (root / "w/passwd.txt").symlink_to("/etc/passwd")
    (root / "elsewhere").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "w/unrelated.md").symlink_to("/etc/hostname")  # not an input: no reject either
    files, rejections = discover_inputs(root)
    assert [f.source_path for f in files] == ["w/a.txt"]
    assert reasons(rejections) == {
        "elsewhere": "outside_input",
        "w/passwd.txt": "outside_input",
        "w/secret.txt": "outside_input",
    }
    assert all("outside the input folder" in r.message for r in rejections)


def test_symlink_loops_are_rejected_not_walked_forever(tmp_path: Path) -> None:
    write(tmp_path / "w/a.txt")
    (tmp_path / "w/back").symlink_to("..", target_is_directory=True)
    (tmp_path / "w/self.txt").symlink_to("self.txt")
    (tmp_path / "w/ping.txt").symlink_to("pong.txt")
    (tmp_path / "w/pong.txt").symlink_to("ping.txt")
    files, rejections = discover_inputs(tmp_path)
    assert [f.source_path for f in files] == ["w/a.txt"]
    assert reasons(rejections) == {
        "w/back": "symlink_loop",
        "w/ping.txt": "symlink_loop",
        "w/pong.txt": "symlink_loop",
        "w/self.txt": "symlink_loop",
    }


def test_broken_symlink_and_pipe_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to("nowhere.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    files, rejections = discover_inputs(tmp_path)
    assert files == []
    assert reasons(rejections) == {"gone.txt": "broken_link", "pipe.txt": "not_a_file"}


def test_file_name_that_is_not_utf8_is_rejected_readably(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    with open(os.fsencode(tmp_path / "w") + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"text\n")
    files, rejections = discover_inputs(tmp_path)
    assert files == []
    assert reasons(rejections) == {"w/caf\\xe9.txt": "bad_name"}
    assert "rename it" in rejections[0].message


@pytest.fixture
def locked_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "locked"
    write(folder / "a.txt")
    folder.chmod(0)
    yield folder
    folder.chmod(0o755)


def test_unlistable_folder_is_rejected(tmp_path: Path, locked_folder: Path) -> None:
    if os.access(locked_folder, os.R_OK):
        pytest.skip("running as a user who can read any folder (root)")
    write(tmp_path / "b.txt")
    files, rejections = discover_inputs(tmp_path)
    assert [f.source_path for f in files] == ["b.txt"]
    assert reasons(rejections) == {"locked": "unreadable"}


def test_folder_that_fails_to_list_is_rejected_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "b.txt")
    write(tmp_path / "denied/a.txt")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path).name == "denied":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, rejections = discover_inputs(tmp_path)
    assert [f.source_path for f in files] == ["b.txt"]
    (rejection,) = rejections
    assert (rejection.source_path, rejection.reason) == ("denied", "unreadable")
    assert "Permission denied" in rejection.message and "make it readable" in rejection.message


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        discover_inputs(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------------
# fingerprint and read_document


def input_file(path: Path) -> InputFile:
    return InputFile(path, f"w/{path.name}", "w")


def test_fingerprint_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = FRENCH.encode("cp1252")
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    result = fingerprint(input_file(path), max_bytes=10_000)
    assert result == Fingerprint(input_file(path), hashlib.sha256(data).hexdigest(), len(data))


def test_too_large_is_rejected_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    with path.open("wb") as handle:
        handle.truncate(16 << 30)  # sparse: hashing its 16 GiB would take a minute, measuring it does not
    started = time.monotonic()
    result = fingerprint(input_file(path), max_bytes=100)
    assert time.monotonic() - started < 2
    assert isinstance(result, Rejection)
    assert result.reason == "too_large"
    assert "17,179,869,184 bytes" in result.message and "limit of 100" in result.message


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.touch()
    result = fingerprint(input_file(path), max_bytes=100)
    assert isinstance(result, Rejection)
    assert (result.reason, result.content_sha256) == ("empty", hashlib.sha256(b"").hexdigest())


def test_vanished_file_is_rejected(tmp_path: Path) -> None:
    result = fingerprint(input_file(tmp_path / "gone.txt"), max_bytes=100)
    assert isinstance(result, Rejection)
    assert result.reason == "vanished"


def test_unreadable_file_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user who can read any file (root)")
    result = fingerprint(input_file(path), max_bytes=100)
    assert isinstance(result, Rejection)
    assert result.reason == "unreadable"


def test_open_error_is_an_unreadable_reject_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "a.txt")

    def deny(*args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", deny)
    result = fingerprint(input_file(path), max_bytes=100)
    assert isinstance(result, Rejection)
    assert result.reason == "unreadable"
    assert "Permission denied" in result.message and "chmod a+r" in result.message


def fingerprinted(path: Path, max_bytes: int = 10_000) -> Fingerprint:
    result = fingerprint(input_file(path), max_bytes)
    assert isinstance(result, Fingerprint)
    return result


def test_read_document_decodes_and_returns_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(TRADITIONAL_CHINESE.encode("big5"))
    fp = fingerprinted(path)
    assert read_document(fp, 10_000) == (DecodedText(TRADITIONAL_CHINESE, "big5"), fp.content_sha256)


def test_file_changed_after_fingerprint_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "first version\n")
    fp = fingerprinted(path)
    path.write_text("second version\n", encoding="utf-8")
    result = read_document(fp, 10_000)
    assert isinstance(result, Rejection)
    assert result.reason == "changed_during_run"
    assert result.content_sha256 == hashlib.sha256(b"second version\n").hexdigest()


def test_file_grown_past_the_limit_after_fingerprint_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "short\n")
    fp = fingerprinted(path, max_bytes=100)
    write(path, "long\n" * 100)
    result = read_document(fp, 100)
    assert isinstance(result, Rejection)
    assert result.reason == "too_large"


def test_decoding_reject_carries_path_and_hash(tmp_path: Path) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00"
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    result = read_document(fingerprinted(path), 10_000)
    assert result == Rejection(
        "w/a.txt", "binary",
        "w/a.txt looks like a PNG image, not plain text; export it as a .txt file or remove it.",
        hashlib.sha256(data).hexdigest(),
    )
