"""Segmenter: layouts on small made-up texts, the seed files, invariants for any text, and sizes."""

from __future__ import annotations

import itertools
import re
import textwrap
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.segment import Segment, segment_text

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


def kinds(text: str, script: str | None = None) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in segment_text(text, script)]


def of_kind(segments: list[Segment], kind: str) -> list[str]:
    return [s.text for s in segments if s.kind == kind]


# --- layouts -------------------------------------------------------------------------------------------

ONE_LINE_PER_PARAGRAPH = "\n".join([
    "Posted on",
    "How River Towns Grew Along the Trade Routes",
    "Merchants who moved salt and cloth upstream stopped at the same bends every season. Over decades "
    "those stops became markets, then villages, then walled towns with their own councils.",
    "The earliest records describe ferries, warehouses and a toll on every boat that passed.",
    "Why the bends mattered",
    "Three things made a river bend a good place to stop:",
    "Shelter: the inner bank is calm water where boats can tie up safely overnight.",
    "Depth: the outer bank is deep enough for heavy barges even in the dry months.",
    "Timber: forests on the floodplain gave wood for repairs and for fires.",
    "Later the towns competed for the same traders.",
    "What changed with the railway",
    "When the railway reached the valley, goods moved faster overland and the ferries lost their trade.",
])


def test_one_line_per_paragraph_layout() -> None:
    segments = segment_text(ONE_LINE_PER_PARAGRAPH)
    assert [s.kind for s in segments] == [
        "boilerplate", "title", "paragraph", "paragraph", "heading", "paragraph",
        "list_item", "list_item", "list_item", "paragraph", "heading", "paragraph",
    ]
    assert of_kind(segments, "heading") == ["Why the bends mattered", "What changed with the railway"]
    assert [s.section for s in segments] == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2]
    assert all(s.line_start == s.line_end == s.ordinal + 1 for s in segments)


EVERY_LINE_BULLETED = """\
Notes from the Harbour Survey
What the divers found:
- The north wall has shifted by about a hand's width since the last survey ten years ago.
- Two mooring rings are missing and one is cracked through.
Costs of the repair
- Replacing the rings is cheap, but the wall needs a cofferdam and a summer of work.
- The council has set aside half of the estimate and asks the port for the rest.
Next steps
- A second survey in spring will decide between repair and rebuilding the wall.
"""


def test_layout_where_every_content_line_is_a_bullet() -> None:
    segments = segment_text(EVERY_LINE_BULLETED)
    assert segments[0].kind == "title"
    assert of_kind(segments, "heading") == ["Costs of the repair", "Next steps"]
    # The line ending in ':' introduces a list: a paragraph, not a heading.
    assert segments[1].kind == "paragraph"
    assert len(of_kind(segments, "list_item")) == 5
    assert all(not text.startswith("-") for text in of_kind(segments, "list_item"))


WRAPPED = """\
The Keeper's Year

Posted by Ilse Varga
12 March 2021

The keeper climbed the stairs every evening at dusk, counting
each step as his father had taught him, and lit the great lamp
before the fishing boats came home.

Early years

He was born on the island and never left it for more than a
week. The village school had one room and a stove that smoked
whenever the wind came from the north.

He carried three things:

- a brass key to the lamp room, worn smooth by decades of use and
  polished every Sunday morning
- a notebook
- a pencil

Later years

When the lamp was automated he stayed on as a caretaker, painting
the railings and answering letters from children.

Share
"""


def test_hard_wrapped_prose_is_joined() -> None:
    segments = segment_text(WRAPPED)
    paragraphs = [s for s in segments if s.kind == "paragraph"]
    assert paragraphs[0].text.startswith("The keeper climbed the stairs every evening at dusk, counting each")
    assert (paragraphs[0].line_start, paragraphs[0].line_end) == (6, 8)
    assert paragraphs[1].text.endswith("a stove that smoked whenever the wind came from the north.")
    items = [s for s in segments if s.kind == "list_item"]
    assert [s.text for s in items] == [
        "a brass key to the lamp room, worn smooth by decades of use and polished every Sunday morning",
        "a notebook", "a pencil",
    ]
    assert (items[0].line_start, items[0].line_end) == (18, 19)
    assert of_kind(segments, "heading") == ["Early years", "Later years"]
    assert of_kind(segments, "boilerplate") == ["Posted by Ilse Varga", "12 March 2021", "Share"]


def test_wrapped_paragraphs_between_underlined_headings_and_lists_are_joined() -> None:
    # Hangul wrapped at 40 characters (textwrap counts characters, a terminal shows them twice as wide).
    paragraph = ("파일 백업이란 간단히 말해서 안전하게 지키기 위한 사본을 만드는 것입니다. 원본 파일을 잃어버리거나 "
                 "손상되었을 때를 대비합니다. 이 사본은 원본 데이터를 복원하는 데 사용할 수 있습니다.")
    blocks = ["중요한 파일 백업\n" + "=" * 9, textwrap.fill(paragraph, 40), "백업 주기\n" + "-" * 5,
              textwrap.fill(paragraph, 40), "\n".join(f"- 항목 {n}." for n in range(1, 9)),
              textwrap.fill(paragraph, 40)]
    text = "\n\n".join(blocks) + "\n"
    segments = [s for s in segment_text(text, "Kore") if s.kind != "boilerplate"]
    assert [s.kind for s in segments] == ["title", "paragraph", "heading", "paragraph", *["list_item"] * 8,
                                          "paragraph"]
    assert [s.text for s in segments if s.kind == "paragraph"] == [paragraph] * 3


def test_wrapped_lines_of_a_script_without_spaces_join_without_space() -> None:
    line = "很久以前在一個遙遠的山村裡住著一位老人他每天早上都去河邊釣魚"
    text = f"山村的故事\n\n{line}，\n{line}。\n\n{line}，\n{line}。\n"
    segments = segment_text(text, "Hant")
    assert segments[0].kind == "title"
    assert [s.text for s in segments[1:]] == [f"{line}，{line}。"] * 2
    assert [(s.line_start, s.line_end) for s in segments[1:]] == [(3, 4), (6, 7)]


def test_unwrapped_blank_separated_layout_keeps_lines_apart() -> None:
    text = (
        "A Walk Through the Old Mill\n\nAuthor\n  • photo\n    Name\n    Odile\n    Mastodon\n\n"
        "The mill stood empty for thirty years before the village bought it back and opened it again.\n"
        "Inside, the wheel still turns when the river is high enough in spring.\n\n"
        "The machinery\n\nEvery gear was cast in the same foundry downriver, and most are still original.\n"
    )
    segments = segment_text(text)
    assert [s.kind for s in segments] == [
        "title", "boilerplate", "boilerplate", "boilerplate", "boilerplate", "boilerplate",
        "paragraph", "paragraph", "heading", "paragraph",
    ]


def test_reworded_or_repeated_title_is_a_second_title_line() -> None:
    body = "\nThe orchard gave apples for a century before the frost of that winter killed the old trees.\n"
    reworded = kinds("Apple Harvests of the Old Orchard\nHarvests From the Old Apple Orchard" + body)
    assert [kind for kind, _ in reworded[:2]] == ["title", "title"]
    repeated = kinds("Apple Harvests of the Old Orchard\nApple harvests of the old orchard" + body)
    assert [kind for kind, _ in repeated[:2]] == ["title", "title"]
    unrelated = kinds("Apple Harvests of the Old Orchard\nIntroduction" + body)
    assert [kind for kind, _ in unrelated[:2]] == ["title", "heading"]


def test_a_numbered_title_and_its_reworded_repeat_are_title_lines() -> None:
    body = "The orchard gave apples for a century before the frost of that winter killed the old trees.\n"
    assert kinds("36. Apple Harvests\n\nApple-Harvests\n" + body)[:2] == [
        ("title", "Apple Harvests"), ("title", "Apple-Harvests")]


def test_title_repeated_in_the_body_is_boilerplate() -> None:
    text = (
        "Building a Stone Bridge\nThe masons worked through two summers to close the arch over the gorge.\n"
        "Building a stone bridge\nThey used no mortar at all, only the weight of the stones.\n"
    )
    assert [kind for kind, _ in kinds(text)] == ["title", "paragraph", "boilerplate", "paragraph"]


def test_markdown_and_numbered_headings() -> None:
    markdown = "# Garden Notes\n\nWhat we learned this year.\n\n## Soil\n\nLoam suits most vegetables.\n"
    assert kinds(markdown) == [
        ("title", "Garden Notes"), ("paragraph", "What we learned this year."),
        ("heading", "Soil"), ("paragraph", "Loam suits most vegetables."),
    ]
    numbered = (
        "Annual Report\n1. Overview\nThe year was calm and the harvest was good for most of the farmers.\n"
        "2. Finances\nIncome rose by a tenth while costs stayed flat.\nWe spent it on:\n1. roads\n2. wells\n"
    )
    assert kinds(numbered) == [
        ("title", "Annual Report"), ("heading", "Overview"),
        ("paragraph", "The year was calm and the harvest was good for most of the farmers."),
        ("heading", "Finances"), ("paragraph", "Income rose by a tenth while costs stayed flat."),
        ("paragraph", "We spent it on:"), ("list_item", "roads"), ("list_item", "wells"),
    ]
    chapters = "第一章 起源\n很久以前，山村裡住著一位老人。\n第二章 旅程\n老人決定離開村莊，去看看世界。\n"
    # The first line opens chapter one of a numbered series: a heading, like the second, not a title.
    assert [kind for kind, _ in kinds(chapters, "Hans")] == ["heading", "paragraph", "heading", "paragraph"]


def test_short_lines_after_a_colon_are_list_items_and_a_poem_has_no_headings() -> None:
    recipe = "Bread\nFor one loaf you need:\nFlour\nWater\nBake it for an hour in a hot oven.\n"
    assert [k for k, _ in kinds(recipe)] == ["title", "paragraph", "list_item", "list_item", "paragraph"]
    poem = "Winter\nsnow on the roof\nsmoke from the chimney\na dog asleep\nthe kettle sings\n"
    assert [kind for kind, _ in kinds(poem)] == ["title"] + ["paragraph"] * 4


@pytest.mark.parametrize(("line", "expected"), [
    ("- dash item", "dash item"),
    ("* star item", "star item"),
    ("•glued bullet", "glued bullet"),
    ("  ◦ nested bullet", "nested bullet"),
    ("– en dash item", "en dash item"),
    ("12. twelfth", "twelfth"),
    ("3) third", "third"),
    ("(b) second letter", "second letter"),
    ("iv) fourth", "fourth"),
    ("二、第二項", "第二項"),
    ("（三）第三項", "第三項"),
    ("① 第一", "第一"),
    ("2.背景說明", "背景說明"),
])
def test_list_markers_are_removed(line: str, expected: str) -> None:
    text = f"Intro line that sets up the list below:\n{line}\n- another item here\n"
    segments = segment_text(text)
    assert segments[1].text == expected
    assert segments[1].kind == "list_item"


@pytest.mark.parametrize("line", ["-5 degrees overnight, the coldest night of the year.",
                                  "2025. That was the year the bridge opened.",
                                  "*emphasis* is not a bullet."])
def test_lines_that_only_look_like_markers_keep_their_text(line: str) -> None:
    assert segment_text(f"Some words before it.\n{line}\n")[1].text == line


def test_marker_only_lines_are_kept() -> None:
    segments = segment_text("Para one is here.\n- \n•\n1.\n")
    assert [(s.text, s.line_start) for s in segments[1:]] == [("-", 2), ("•", 3), ("1.", 4)]


def test_stamps_and_dates_are_boilerplate_but_a_heading_with_a_year_is_not() -> None:
    text = (
        "Published on 3 May 2024\nThe Ferry Timetable\n2024-05-03 10:30\n"
        "The ferry now leaves every hour from the old pier, weather permitting, all year round.\n"
        "Plans for 2026\nA second boat will join the route once the new pier is finished.\nRead more\n"
    )
    assert [kind for kind, _ in kinds(text)] == [
        "boilerplate", "title", "boilerplate", "paragraph", "heading", "paragraph", "boilerplate",
    ]


@pytest.mark.parametrize(("line", "kind"), [
    ("Posted by Ilse", "boilerplate"), ("Updated: 4 June", "boilerplate"), ("Share", "boilerplate"),
    # A date between two paragraphs is content (it opens the next block), not a publication stamp.
    ("May 3, 2024", "heading"), ("2024年5月3日", "heading"),
    ("Published works", "heading"), ("Sharing the harvest", "heading"), ("Goals for 2030", "heading"),
])
def test_stamp_words_need_a_stamp_shape(line: str, kind: str) -> None:
    text = f"Some words before it.\n{line}\nA paragraph that follows the line, long enough to be prose.\n"
    assert segment_text(text)[1].kind == kind


def test_table_rows_are_segments() -> None:
    text = "Prices\n| item | price |\n|------|-------|\n| tea | 2 |\nname\tage\nAda\t36\n"
    segments = segment_text(text)
    assert [s.line_start for s in segments] == [1, 2, 3, 4, 5, 6]
    assert {s.kind for s in segments[1:]} <= {"paragraph", "boilerplate"}
    assert segments[5].text == "Ada 36"


def test_line_breaks_are_only_lf_crlf_and_cr() -> None:
    text = "first\r\nsecond\rthird\nfourth\x0bstill fourth\x85and\u2028this\x0cto\u2029o\n\n"
    segments = segment_text(text)
    assert [(s.line_start, s.line_end) for s in segments] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert segments[3].text == "fourth still fourth and this to o"
    assert text[segments[3].char_start:segments[3].char_end] == text[text.index("fourth"):-2]


def test_hard_cases_keep_their_characters() -> None:
    text = "\u200bzero width\nשלום עולם, מה שלומך היום?\ne\u0301te\u0301 🙂🙂 \x07bell\n"
    segments = segment_text(text)
    assert [s.text for s in segments] == [
        "\u200bzero width", "שלום עולם, מה שלומך היום?",
        "été 🙂🙂 \x07bell",
    ]
    assert text[segments[2].char_start:segments[2].char_end] == "e\u0301te\u0301 🙂🙂 \x07bell"


def test_empty_and_blank_texts_have_no_segments() -> None:
    assert segment_text("") == []
    assert segment_text(" \n\t\r\n\u3000\r") == []


# --- headings found by their shape, in any script and numbering ------------------------------------------

def headings(text: str, script: str | None = None) -> list[str]:
    return of_kind(segment_text(text, script), "heading")


def numbered_statute(label: str, numerals: list[str], body: list[str], title: str, end: str = ".") -> str:
    """A short statute: a title, a preamble, then numbered articles of one or two short paragraphs."""
    lines = [title, body[0]]
    for index, numeral in enumerate(numerals):
        lines.append(f"{label} {numeral}{end}")
        lines.append(body[1 + index % (len(body) - 1)])
        if index % 2:
            lines.append(body[1 + (index + 1) % (len(body) - 1)])
    return "\n".join(lines) + "\n"


SWAHILI = ["Wanachama wa chama cha ushirika wamekubaliana kanuni zifuatazo.",
           "Kila mwanachama ana haki ya kupiga kura katika mkutano mkuu.",
           "Mkutano mkuu utafanyika mara moja kila mwaka.",
           "Hesabu za chama zitakaguliwa na mkaguzi huru."]
MALAY = ["Ahli-ahli koperasi telah bersetuju dengan peraturan yang berikut.",
         "Setiap ahli berhak mengundi dalam mesyuarat agung.",
         "Mesyuarat agung hendaklah diadakan sekali setahun.",
         "Akaun koperasi hendaklah diaudit oleh juruaudit bebas."]
HINDI = ["सहकारी समिति के सदस्य निम्नलिखित नियमों पर सहमत हुए हैं।",
         "प्रत्येक सदस्य को आम सभा में मत देने का अधिकार है।",
         "आम सभा वर्ष में एक बार आयोजित की जाएगी।",
         "समिति के खातों की जांच एक स्वतंत्र लेखा परीक्षक करेगा।"]
THAI = ["สมาชิกของสหกรณ์ได้ตกลงตามข้อบังคับดังต่อไปนี้",
        "สมาชิกทุกคนมีสิทธิออกเสียงในที่ประชุมใหญ่",
        "ให้จัดการประชุมใหญ่ปีละหนึ่งครั้ง",
        "บัญชีของสหกรณ์ต้องได้รับการตรวจสอบโดยผู้สอบบัญชีอิสระ"]
ARABIC = ["اتفق أعضاء الجمعية التعاونية على القواعد التالية.",
          "لكل عضو الحق في التصويت في الجمعية العامة.",
          "تعقد الجمعية العامة مرة واحدة في السنة.",
          "تدقق حسابات الجمعية من قبل مدقق مستقل."]
CHINESE = ["合作社的社员同意以下规则。", "每个社员都有权在大会上投票。", "大会每年举行一次。",
           "合作社的账目由独立审计师审核。"]
RUSSIAN = ["Члены кооператива согласились со следующими правилами.",
           "Каждый член имеет право голосовать на общем собрании.",
           "Общее собрание проводится один раз в год.",
           "Счета кооператива проверяет независимый аудитор."]
ENGLISH = ["The members of the cooperative have agreed to the following rules.",
           "Every member has the right to vote at the general meeting.",
           "The general meeting shall be held once a year.",
           "The accounts shall be audited by an independent auditor."]


@pytest.mark.parametrize(("label", "numerals", "body", "end", "script"), [
    ("Kifungu cha", ["1", "2", "3", "4"], SWAHILI, ".", "Latn"),
    ("Perkara", ["1", "2", "3", "4"], MALAY, ".", "Latn"),
    ("अनुच्छेद", ["१", "२", "३", "४"], HINDI, ".", "Deva"),
    ("अनुच्छेद", ["१", "२", "३", "४"], HINDI, "", "Deva"),
    ("ข้อ", ["๑", "๒", "๓", "๔"], THAI, "", "Thai"),
    ("المادة", ["١", "٢", "٣", "٤"], ARABIC, ".", "Arab"),
    ("Статья", ["1", "2", "3", "4"], RUSSIAN, ".", "Cyrl"),
    ("Chapter", ["I", "II", "III", "IV"], ENGLISH, ".", "Latn"),
    ("Article", ["9", "10", "11", "12"], ENGLISH, ":", "Latn"),
], ids=["sw-period", "ms-period", "hi-deva-period", "hi-deva", "th-thai-digits", "ar-indic-digits",
        "ru-period", "en-roman", "en-colon"])
def test_numbered_article_headings_in_any_script(
        label: str, numerals: list[str], body: list[str], end: str, script: str) -> None:
    text = numbered_statute(label, numerals, body, "Kanuni / Rules / नियम", end)
    segments = segment_text(text, script)
    assert [h for h in of_kind(segments, "heading")] == [f"{label} {n}{end}" for n in numerals]
    assert segments[-1].section == 4
    assert segments[0].kind == "title"


@pytest.mark.parametrize(("numerals", "tail"), [
    (["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"], "条"),
    (["１", "２", "３", "４"], "条"),
    (["1", "2", "3", "4"], "條"),
])
def test_han_article_headings_with_native_and_full_width_numerals(numerals: list[str], tail: str) -> None:
    text = numbered_statute("第", numerals, CHINESE, "合作社章程", "").replace("第 ", "第")
    text = text.replace("\n第", "\n第").replace("第" + numerals[0] + "\n", "第" + numerals[0] + tail + "\n")
    for numeral in numerals[1:]:
        text = text.replace("第" + numeral + "\n", "第" + numeral + tail + "\n")
    assert headings(text, "Hans") == [f"第{n}{tail}" for n in numerals]


def test_korean_counters_glued_to_the_number() -> None:
    text = (
        "1장. 개요 -- 조합은 무엇인가?\n조합은 전 세계의 자원봉사자들이 함께 만든 단체이다.\n"
        "1 시작\n조합은 1993년에 설립되었다.\n2 이름\n이름은 두 창립자의 이름에서 왔다.\n"
        "2장. 지도자\n조합에는 여러 지도자가 있었다.\n"
    )
    assert headings(text, "Kore")[0::3] == ["1장. 개요 -- 조합은 무엇인가?", "2장. 지도자"]
    articles = "조합 규약\n제1조\n모든 조합원은 투표할 수 있다.\n제2조\n총회는 매년 열린다.\n제3조\n감사.\n"
    assert headings(articles, "Kore") == ["제1조", "제2조", "제3조"]


def test_numbered_headings_punctuated_unevenly_are_one_pattern() -> None:
    text = "Sheria Ndogo\nKifungu cha 1.\nKila mtu.\nKifungu cha 2\nHakuna mtu.\nKifungu cha 3.\nWote.\n"
    assert headings(text) == ["Kifungu cha 1.", "Kifungu cha 2", "Kifungu cha 3."]


def test_a_short_paragraph_between_numbered_headings_does_not_hide_them() -> None:
    # Three short lines in a row are no headings by themselves (a poem); the repeated numbered label is.
    text = "Sheria Ndogo\nKifungu cha 1.\nKila mtu.\nKifungu cha 2.\nHakuna mtu.\nKifungu cha 3.\nWote.\n"
    assert headings(text) == ["Kifungu cha 1.", "Kifungu cha 2.", "Kifungu cha 3."]


def test_multi_level_numbering_and_a_table_of_contents() -> None:
    text = (
        "Installation Guide\n"
        "1 Preparing the host\n"
        "Check that the host has enough memory and a recent kernel before you start.\n"
        "1.1 Memory\n"
        "Two gigabytes are enough for a small site; add more for every hundred users.\n"
        "1.2 Kernel\n"
        "Any kernel released in the last five years works.\n"
        "2 Installing the package\n"
        "Run the installer as an ordinary user; it asks for a password when it needs one.\n"
        "2.1 Checking the result\n"
        "The installer prints the address of the service when it has finished.\n"
    )
    assert headings(text) == ["1 Preparing the host", "1.1 Memory", "1.2 Kernel", "2 Installing the package",
                              "2.1 Checking the result"]


@pytest.mark.parametrize("rule", ["=", "-", "~"])
def test_underlined_headings(rule: str) -> None:
    text = (
        "Harbour Survey\n==============\n\n"
        "The divers inspected the north wall over three days in calm weather and took many photographs.\n\n"
        f"Findings\n{rule * 8}\n\n"
        "The wall has shifted by a hand's width since the last survey; two rings are missing.\n"
        "Costs of the repair\n" + rule * 19 + "\n"
        "Not known yet.\n"
    )
    segments = segment_text(text)
    assert segments[0].kind == "title"
    assert of_kind(segments, "heading") == ["Findings", "Costs of the repair"]
    assert {s.kind for s in segments if not any(c.isalnum() for c in s.text)} == {"boilerplate"}
    assert segments[-1].section == 2


def test_all_capital_headings_in_cased_scripts() -> None:
    text = (
        "Отчёт о работе\n"
        "ВВЕДЕНИЕ\n"
        "В этом году кооператив открыл новый склад.\n"
        "ФИНАНСЫ\n"
        "Доходы выросли.\n"
        "Расходы остались прежними.\n"
        "Долгов нет.\n"
        "PLANS FOR NEXT YEAR\n"
        "More trucks.\n"
    )
    assert headings(text, "Cyrl") == ["ВВЕДЕНИЕ", "ФИНАНСЫ", "PLANS FOR NEXT YEAR"]


def test_short_lines_that_read_as_sentences_are_not_headings() -> None:
    prose = "The herons stood in the shallows until the mist had lifted from the water at last.\n"
    assert headings("The Ferry\n" + prose + "and the boats waited at the landing\n" + prose) == []
    assert headings("The Ferry\n" + prose + "Then, when the sun came up, the ferryman woke and went down\n"
                    + prose) == []
    assert headings("渡船\n他们说。我们为什么要等呢？\n" + "他们在岸边等了很久，直到太阳升起，渡船终于来了。\n") == []
    question = "Why does my battery run down faster, even when the screen is off?\n"
    assert headings("The Ferry\n" + prose + question + prose) == [question.strip()]


def test_greek_question_headings() -> None:
    text = (
        "ΤΙ ΕΙΝΑΙ Ο ΧΡΩΜΑΤΙΚΟΣ ΧΩΡΟΣ;\n\nΈνας χρωματικός χώρος είναι μια περιοχή χρωμάτων.\n\n"
        "Πώς βαθμονομώ την οθόνη μου;\n\nΜπορείτε να βαθμονομήσετε την οθόνη σας με ένα χρωματόμετρο.\n"
    )
    segments = segment_text(text, "Grek")
    assert [s.kind for s in segments] == ["title", "paragraph", "heading", "paragraph"]


def test_numbered_list_between_headings_is_still_a_list() -> None:
    text = (
        "Rules\nArticle 1.\nEveryone may join.\nArticle 2.\nMembers must:\n"
        "1. pay the fee on time every year;\n2. attend the general meeting;\n3. respect the rules.\n"
        "Article 3.\nThe fee is set by the meeting.\n"
    )
    segments = segment_text(text)
    assert of_kind(segments, "heading") == ["Article 1.", "Article 2.", "Article 3."]
    assert of_kind(segments, "list_item") == [
        "pay the fee on time every year;", "attend the general meeting;", "respect the rules."]


def test_a_repeated_label_without_increasing_numbers_is_not_a_heading_pattern() -> None:
    text = (
        "Diary\nWe walked to the lake and back before lunch and saw nobody at all.\n"
        "Room 12.\nThe room was cold.\nRoom 4.\nThe room was warm.\nRoom 30.\nThe room was dark.\n"
    )
    assert headings(text) == []


def test_parts_numbered_by_a_lone_numeral_are_headings() -> None:
    prose = ["The valley was quiet that winter and the river froze from bank to bank.",
             "In spring the ice broke up.",
             "By summer the new bridge was open and the ferry stopped running."]
    for end in (".", ""):
        parts = "".join(f"{numeral}{end}\n{prose[n]}\n" for n, numeral in enumerate(["I", "II", "III"]))
        assert headings("A Year on the River\n" + parts) == [f"I{end}", f"II{end}", f"III{end}"]


def test_a_rule_under_a_sentence_does_not_make_it_a_heading() -> None:
    text = "Notes\nThe meeting ended early because of the storm.\n---\nShort.\n"
    assert headings(text) == []


VERSES = ["the river runs under the stones all through the winter", "the herons stand in the shallows",
          "and the mist lifts from the water when the sun comes over the far hill at last",
          "the boats wait", "nobody calls across the water to the other bank in the evening",
          "the ferryman sleeps", "the lamps of the village go out one by one along the shore"]


def test_numbered_verses_are_body_and_numbered_chapters_headings() -> None:
    text = "".join(f"{chapter}. Song of the {name}\n\n" + "".join(f"{n} {v}\n" for n, v in enumerate(VERSES, 1))
                   + "\n" for chapter, name in ((4, "River"), (5, "Hill"), (6, "Shore")))
    segments = segment_text(text)
    assert of_kind(segments, "heading") == ["Song of the River", "Song of the Hill", "Song of the Shore"]
    assert [s.text for s in segments if s.section == 1][1:3] == ["1 " + VERSES[0], "2 " + VERSES[1]]


def test_lines_of_a_text_made_of_short_lines_are_not_headings() -> None:
    verses = "The Ferry\n" + "\n".join(VERSES * 2) + "\n"
    assert headings(verses) == []
    messages = "\n".join([
        "Delete selected items", "Successfully deleted 3 items.", "Cannot delete the item", "Are you sure?",
        "Administration", "All", "Yes", "No", "Any date", "Today", "Past 7 days",
        "Please enter the correct username and password for a staff account.", "Action:", "Add another item",
        "Remove", "Change", "action time", "user", "content type", "object id", "No fields changed.",
    ]) + "\n"
    assert headings(messages) == []


def test_short_lines_at_the_top_of_a_text_of_short_lines_are_no_author_box() -> None:
    messages = "删除所选项目\n成功删除了 3 个项目。\n无法删除\n你确定吗？\n管理\n全部\n是\n否\n未知\n任意日期\n今天\n"
    assert "boilerplate" not in {s.kind for s in segment_text(messages, "Hans")}
    verses = "Song of the Ferry\nthe boats wait\nthe herons stand\nthe ferryman sleeps\n" + "\n".join(VERSES) + "\n"
    assert "boilerplate" not in {s.kind for s in segment_text(verses)}


def test_hard_wrapped_paragraphs_opened_by_a_verse_number_are_joined() -> None:
    text = (
        "[12] The River\n\n"
        "(1) The river runs under the stones all through the winter and the (2)\n"
        "herons stand in the shallows until the mist lifts from the water. (3)\n"
        "The boats wait at the landing for the ferryman, who sleeps.\n\n"
        "(4) Nobody calls across the water to the other bank in the evening, and\n"
        "the lamps of the village go out one by one along the shore. (5) At\n"
        "dawn the first boat leaves the landing with the baker and his bread.\n"
    )
    segments = segment_text(text)
    assert [(s.line_start, s.line_end) for s in segments] == [(1, 1), (3, 5), (7, 9)]
    assert headings(text) == []


# --- one sentence per line, as aligners' users bring it ----------------------------------------------------

SENTENCE_PER_LINE = """\
Der lange Weg
auf den Gipfel
9. September 1988
Wir brachen um 4.45 Uhr auf , als es noch dunkel war .
Sicherlich .
Der Weg war steil und vereist .
Basta .
Am 10. September 1988 standen wir oben .
2. Oktober 1988
Der Abstieg dauerte zwei Tage .
"""


def test_sentence_per_line_keeps_dates_numbers_and_short_lines() -> None:
    segments = segment_text(SENTENCE_PER_LINE)
    assert len(segments) == 10
    assert [s.text for s in segments] == SENTENCE_PER_LINE.splitlines()
    assert "boilerplate" not in {s.kind for s in segments}
    assert [s.kind for s in segments[:2]] == ["title", "title"]
    assert segments[4].kind == segments[6].kind == "paragraph"


@pytest.mark.parametrize(("line", "text"), [
    ("9. September 1988", "9. September 1988"),
    ("C. S. Lewis wrote to his brother every week.", "C. S. Lewis wrote to his brother every week."),
    ("1. Utangulizi", "Utangulizi"),
    ("IV. Shule na Maktaba", "Shule na Maktaba"),
])
def test_a_lone_number_is_a_marker_only_before_a_heading(line: str, text: str) -> None:
    body = "The valley was quiet that winter and the river froze from bank to bank .\n"
    assert segment_text(body + line + "\n" + body)[1].text == text


def test_subtitle_byline_and_place_under_a_title_stay_content() -> None:
    text = ("Der Berg\nEin Bericht\nVon Hans Muster\nZürich 1988\nWir brachen früh auf , als es noch dunkel war .\n"
            "Der Weg war steil und vereist .\n")
    assert "boilerplate" not in {s.kind for s in segment_text(text)}


def test_a_numbered_list_keeps_its_markers_stripped() -> None:
    text = "Steps to follow.\n1. Open the valve.\n2. Wait a minute.\n3. Close it again.\n"
    assert of_kind(segment_text(text), "list_item") == ["Open the valve.", "Wait a minute.", "Close it again."]


def test_copyright_byline_and_dates_at_the_edges_are_boilerplate() -> None:
    text = (
        "Le pont de pierre\n"
        "Par Jeanne Martin — publié le 3 mai 2024 à 10 h 30\n"
        "Les maçons ont travaillé deux étés pour fermer l'arche au-dessus de la gorge.\n"
        "12 juin 1931\n"
        "Ce jour-là, le premier train a traversé le pont sous les applaudissements du village.\n"
        "© 2024 Journal de la Vallée, reproduction autorisée avec mention de la source et du lien\n"
    )
    assert [kind for kind, _ in kinds(text)] == [
        "title", "boilerplate", "paragraph", "heading", "paragraph", "boilerplate"]
    assert kinds("3 May 2024\n" + text)[0] == ("boilerplate", "3 May 2024")


def test_a_dated_byline_without_separator_is_content_but_no_heading() -> None:
    text = (
        "The Stone Bridge\n=================\n\nWritten by Ada Stone and Tom Reed, revised 01/06/94\n\n"
        "Why a bridge?\n-------------\n\nThe ferry could not cross when the river was high, so the village "
        "voted to build a bridge of stone.\n"
    )
    segments = [s for s in segment_text(text) if s.kind != "boilerplate"]
    assert [(s.kind, s.text) for s in segments[:3]] == [
        ("title", "The Stone Bridge"), ("paragraph", "Written by Ada Stone and Tom Reed, revised 01/06/94"),
        ("heading", "Why a bridge?")]


# --- seeds ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SEEDS, ids=[p.name for p in SEEDS])
def test_seed_structure(path: Path) -> None:
    segments = segment_text(path.read_text(encoding="utf-8"))
    headings = of_kind(segments, "heading")
    assert 10 <= len(headings) <= 12
    assert segments[-1].section == len(headings)
    titles = [s for s in segments if s.kind == "title"]
    assert titles and all(s.section == 0 for s in titles)
    # Every seed opens with a publication stamp.
    assert segments[0].kind == "boilerplate"
    assert all(len(h) < 80 for h in headings)


def test_seed_translations_have_the_same_number_of_sections() -> None:
    counts = {path.name: segment_text(path.read_text(encoding="utf-8"))[-1].section for path in SEEDS}
    assert len(set(counts.values())) == 1, counts


# --- invariants for any text ---------------------------------------------------------------------------

ALPHABET = [
    *"aZ 9.:,?!-*•1)(#|\t",
    "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\u2029", "\u3000", "\u200b",
    "\u0301", "漢", "字", "。", "ก", "ไ", "ש", "🙂", "\x00", "\x07", "一、", "第一章",
]
LINE_SHAPES = [
    "", " ", "Title of Things", "Short heading", "A sentence that ends like prose does, with a period.",
    "Intro to a list:", "- item one", "  • nested item", "1. first", "(a) lettered",
    "Label: a longer sentence.",
    "# Markdown head", "| a | b |", "Published on", "2024-01-02", "Share", "x" * 75, "漢字的標題",
    "很長的中文句子，很長的中文句子，很長的中文句子。", "ประโยคภาษาไทย ที่ยาวพอสมควร", "-", "\u200b", "🙂",
]
texts = st.one_of(
    st.lists(st.sampled_from(ALPHABET), max_size=80).map("".join),
    st.text(max_size=200),
    st.lists(st.tuples(st.sampled_from(LINE_SHAPES), st.sampled_from(["\n", "\r\n", "\r", "\n\n"])),
             max_size=40).map(lambda pairs: "".join(a + b for a, b in pairs)),
)
scripts = st.sampled_from([None, "Latn", "Hant", "Thai"])


def source_lines(text: str) -> list[tuple[int, str]]:
    """(offset, content) of every line, split the way an editor does."""
    lines: list[tuple[int, str]] = []
    position = 0
    for match in re.finditer(r"\r\n|\r|\n", text):
        lines.append((position, text[position:match.start()]))
        position = match.end()
    if position < len(text):
        lines.append((position, text[position:]))
    return lines


@settings(max_examples=300, deadline=None)
@given(texts, scripts)
def test_segments_cover_every_non_blank_line_once(text: str, script: str | None) -> None:
    segments = segment_text(text, script)
    lines = source_lines(text)
    non_blank = [number for number, (_, line) in enumerate(lines, 1) if line.strip()]
    covered = [n for s in segments for n in range(s.line_start, s.line_end + 1) if lines[n - 1][1].strip()]
    assert covered == non_blank
    assert [s.ordinal for s in segments] == list(range(len(segments)))
    for before, after in itertools.pairwise(segments):
        assert before.line_end < after.line_start


@settings(max_examples=300, deadline=None)
@given(texts, scripts)
def test_offsets_text_and_sections(text: str, script: str | None) -> None:
    segments = segment_text(text, script)
    lines = source_lines(text)
    headings = 0
    for segment in segments:
        first_offset, first = lines[segment.line_start - 1]
        last_offset, last = lines[segment.line_end - 1]
        assert first.strip() and last.strip()
        assert segment.char_start == first_offset + len(first) - len(first.lstrip())
        assert segment.char_end == last_offset + len(last.rstrip())
        assert segment.text and segment.text == unicodedata.normalize("NFC", segment.text)
        assert segment.text == " ".join(segment.text.split())
        headings += segment.kind == "heading"
        assert segment.section == headings
    assert segment_text(text, script) == segments


# --- sizes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    ("word " * 20_000)[:100_000],
    "漢" * 100_000,
    "a" * 50_000 + ": " + "|" * 49_998,
    "a\n" * 20_000,
    "- item\r\n" * 20_000,
    "Label: a longer sentence.\n" * 20_000,
    "Heading\n\nA paragraph of prose that runs on for a while, then stops.\n\n" * 7_000,
], ids=["latin-line", "han-line", "colon-pipes-line", "tiny-lines", "bullets", "labels", "blocks"])
def test_large_inputs_stay_linear(text: str) -> None:
    # A guard against quadratic blow-ups, not a speed target (bench/ measures speed): these inputs take
    # ~0.05-0.4 s; a quadratic pass over 20,000 lines or 100,000 characters would take minutes.
    started = time.perf_counter()
    segments = segment_text(text)
    assert time.perf_counter() - started < 15.0
    assert segments


def test_a_bracketed_number_opening_a_line_of_text_numbered_inline_is_kept_as_text() -> None:
    """Verses numbered inside the running text: a line that happens to start at "(15)" is no list item,
    and keeps its number; a list numbered (1), (2) with no numbers inside its lines keeps its markers."""
    text = ("The Pen\n\n(13) Proud and boastful besides (14) because he has wealth and sons\n"
            "(15) When Our verses are recited to him, he says: tales of the ancients\n"
            "(16) We shall brand him on the snout\n")
    segments = segment_text(text)[1:]
    assert [s.kind for s in segments] == ["paragraph"]
    assert segments[0].text.startswith("(13) Proud") and "(15) When" in segments[0].text
    listed = segment_text("Steps:\n\n(1) Open the lid\n(2) Take the cable out\n")
    assert [s.kind for s in listed][-2:] == ["list_item", "list_item"]
    assert listed[-1].text == "Take the cable out"


def test_text_wrapped_by_characters_at_spaces_only_is_joined_despite_long_unwrapped_paragraphs() -> None:
    # Chinese with Latin terms, hard-wrapped at 40 characters by a wrapper that breaks at spaces only (Python's
    # textwrap): its lines are ragged in display columns, and paragraphs without spaces stay one long line,
    # so neither the columns nor the longest lines tell the wrap width; the filled lines, in characters, do.
    wrapped = ("只有带有安全更新的纯净的 stable release 版本可以提供最佳的稳定性。运行大多数 stable release "
               "版本的软件包之中混合一些来自 testing 或 unstable release 版本的软件包会比运行纯净的 unstable "
               "release 版本冒更大的风险，这是因为库版本的不匹配导致的。")
    unspaced = "如果你无法做到这些预防措施中的任何一个那你可能还没做好使用测试版的准备" * 3 + "。"
    blocks = ["软件包管理", textwrap.fill(wrapped, 40, break_long_words=False), unspaced, unspaced,
              textwrap.fill(wrapped, 40, break_long_words=False), unspaced]
    text = "\n\n".join(blocks) + "\n"
    assert len(textwrap.fill(wrapped, 40, break_long_words=False).splitlines()) > 2
    segments = [s for s in segment_text(text, "Hans") if s.kind != "boilerplate"]
    assert [s.text.replace(" ", "") for s in segments[1:]] == [
        wrapped.replace(" ", ""), unspaced, unspaced, wrapped.replace(" ", ""), unspaced]


def test_a_dash_that_wrapping_moved_to_the_start_of_a_line_stays_text() -> None:
    # A wrapper breaks at any space, also before a dash inside a sentence: the line that then opens with
    # "- " and a lowercase word continues the sentence; a dash item after a finished sentence is a list item.
    sentence = ("Perhaps our Lord will give us something better than the gardens we lost - to our Lord we turn "
                "in hope, and to Him we direct our prayers, and in Him we trust for everything that we need.")
    lines = textwrap.wrap(sentence, 72, break_on_hyphens=False)
    assert lines[1].startswith("- to")
    text = "\n\n".join(["The garden", "\n".join(lines), "\n".join(lines), "Things to bring:\n- water\n- bread"]) + "\n"
    segments = [s for s in segment_text(text) if s.kind != "boilerplate"]
    assert [(s.kind, s.text) for s in segments] == [
        ("title", "The garden"), ("paragraph", sentence), ("paragraph", sentence), ("paragraph", "Things to bring:"),
        ("list_item", "water"), ("list_item", "bread")]


def test_a_dash_opening_a_sentence_inside_a_wrapped_paragraph_stays_text() -> None:
    # The dash opens the next sentence ("... gifts? - But no, ..."), so its word is capitalised; the line
    # after it goes on at the dash's own indent: the paragraph continues. A dash item whose wrapped text
    # is indented under its words, after a filled line, stays a list item.
    paragraph = ("(21) Who is it that could provide for you if He withheld His provisions? "
                 "- But no, they persist in insolence and aversion, every one of them, for all their days "
                 "(22) Then is one who walks fallen on his face better guided or one who walks upright on a "
                 "straight path? (23) Say, It is He who has produced you and made for you hearing and vision.")
    lines = textwrap.wrap(paragraph, 72, break_on_hyphens=False)
    assert lines[1].startswith("- But") and len(lines) > 3
    item = textwrap.wrap("This may include documents, spreadsheets, email, calendar appointments, financial "
                         "data, family photos, or any other personal files that you keep.", 72,
                         initial_indent="- ", subsequent_indent="  ")
    intro = textwrap.wrap("Here is what is usually worth a copy, listed with the places where the desktop "
                          "keeps it for you, in the order of how hard it would be to make", 72)
    assert len(intro) == 2 and len(intro[-1]) + 2 >= 0.8 * 72
    text = "The chapter\n\n" + "\n".join(lines) + "\n\n" + "\n".join(intro + item) + "\n"
    segments = [s for s in segment_text(text) if s.kind != "boilerplate"]
    assert [(s.kind, s.text) for s in segments] == [
        ("title", "The chapter"), ("paragraph", paragraph), ("paragraph", " ".join(intro)),
        ("list_item", " ".join(x.strip() for x in item)[2:])]


def test_a_list_of_long_lowercase_dash_items_in_a_wrapped_text_stays_a_list() -> None:
    paragraph = " ".join(["the wrapped paragraph of this document goes on in lines of about sixty characters"] * 4)
    items = ["- install the package with pip and check that the command runs on your machine",
             "- read the guide about the configuration file and the options of every command",
             "- run the tests of the project before you send any change for review by others"]
    text = "Setting up\n\n" + "\n".join(textwrap.wrap(paragraph, 60)) + ".\n\n" + "\n".join(items) + "\n"
    segments = [s for s in segment_text(text) if s.kind != "boilerplate"]
    assert [s.kind for s in segments] == ["title", "paragraph", "list_item", "list_item", "list_item"]
