"""Language tagging: script-guarded langdetect, BCP-47 tags, honest confidence, langdetect's answers kept."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langdetect.lang_detect_exception import LangDetectException

from tasks import langtag
from tasks.langtag import LanguageTag, language_signature, same_language, tag_language

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

SEED_LANGUAGES = {"000": "sw", "001": "th", "002": "id", "003": "mr", "004": "zh-Hant"}


@pytest.mark.parametrize("prefix", sorted(SEED_LANGUAGES))
def test_seeds_are_tagged_right(prefix: str) -> None:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    tag = tag_language(path.read_text(encoding="utf-8"))
    assert tag.lang == SEED_LANGUAGES[prefix]
    assert tag.confidence > 0.9


# Made-up texts: two sentences about a library, in each language.
SENTENCES = {
    "en": "The library opens at nine in the morning and closes late in the evening.\n"
    "Children come after school to read books and do their homework together.",
    "fr": "La bibliothèque ouvre à neuf heures du matin et ferme tard le soir.\n"
    "Les enfants viennent après l'école pour lire des livres et faire leurs devoirs.",
    "de": "Die Bibliothek öffnet um neun Uhr morgens und schließt spät am Abend.\n"
    "Kinder kommen nach der Schule, um Bücher zu lesen und Hausaufgaben zu machen.",
    "es": "La biblioteca abre a las nueve de la mañana y cierra tarde por la noche.\n"
    "Los niños vienen después de la escuela para leer libros y hacer sus deberes.",
    "sw": "Maktaba hufunguliwa saa tatu asubuhi na hufungwa jioni sana.\n"
    "Watoto huja baada ya shule kusoma vitabu na kufanya kazi zao za nyumbani.",
    "id": "Perpustakaan buka pukul sembilan pagi dan tutup larut malam.\n"
    "Anak-anak datang sepulang sekolah untuk membaca buku dan mengerjakan pekerjaan rumah.",
    "vi": "Thư viện mở cửa lúc chín giờ sáng và đóng cửa muộn vào buổi tối.\n"
    "Trẻ em đến sau giờ học để đọc sách và làm bài tập về nhà.",
    "ru": "Библиотека открывается в девять утра и закрывается поздно вечером.\n"
    "Дети приходят после школы, чтобы читать книги и делать домашние задания.",
    "uk": "Бібліотека відкривається о дев'ятій ранку і зачиняється пізно ввечері.\n"
    "Діти приходять після школи, щоб читати книжки та робити домашні завдання.",
    "ar": "تفتح المكتبة في التاسعة صباحا وتغلق في وقت متأخر من المساء.\n"
    "يأتي الأطفال بعد المدرسة لقراءة الكتب وأداء واجباتهم المنزلية.",
    "fa": "کتابخانه ساعت نه صبح باز می‌شود و دیر وقت در شب بسته می‌شود.\n"
    "بچه‌ها بعد از مدرسه می‌آیند تا کتاب بخوانند و تکالیفشان را انجام دهند.",
    "hi": "पुस्तकालय सुबह नौ बजे खुलता है और शाम को देर से बंद होता है।\n"
    "बच्चे स्कूल के बाद किताबें पढ़ने और अपना गृहकार्य करने आते हैं।",
    "mr": "ग्रंथालय सकाळी नऊ वाजता उघडते आणि संध्याकाळी उशिरा बंद होते.\n"
    "मुले शाळेनंतर पुस्तके वाचण्यासाठी आणि गृहपाठ करण्यासाठी येतात.",
    "th": "ห้องสมุดเปิดเก้าโมงเช้าและปิดดึก\nเด็ก ๆ มาหลังเลิกเรียนเพื่ออ่านหนังสือและทำการบ้าน",
    "el": "Η βιβλιοθήκη ανοίγει στις εννέα το πρωί και κλείνει αργά το βράδυ.",
    "he": "הספרייה נפתחת בתשע בבוקר ונסגרת מאוחר בערב.",
    "ka": "ბიბლიოთეკა დილის ცხრა საათზე იხსნება და საღამოს გვიან იკეტება.",
    "ko": "도서관은 아침 아홉 시에 문을 열고 저녁 늦게 닫습니다.\n"
    "아이들은 방과 후에 책을 읽고 숙제를 하러 옵니다.",
    "ja": "図書館は朝九時に開き、夜遅くに閉まります。\n"
    "子供たちは放課後に本を読んだり宿題をしたりするために来ます。",
    "zh-Hans": "图书馆早上九点开门，晚上很晚才关门。\n孩子们放学后来这里读书和写作业。",
    "zh-Hant": "圖書館早上九點開門，晚上很晚才關門。\n孩子們放學後來這裡讀書和寫作業。",
}
SCRIPTS = {
    "en": "Latn", "fr": "Latn", "de": "Latn", "es": "Latn", "sw": "Latn", "id": "Latn", "vi": "Latn",
    "ru": "Cyrl", "uk": "Cyrl", "ar": "Arab", "fa": "Arab", "hi": "Deva", "mr": "Deva", "th": "Thai",
    "el": "Grek", "he": "Hebr", "ka": "Geor", "ko": "Hang", "ja": "Jpan",
    "zh-Hans": "Hans", "zh-Hant": "Hant",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_short_texts_in_many_languages(lang: str) -> None:
    tag = tag_language(SENTENCES[lang])
    assert (tag.lang, tag.script) == (lang, SCRIPTS[lang])
    assert tag.confidence > 0.9


def test_simplified_and_traditional_chinese_are_told_apart() -> None:
    simplified = "这个问题很难回答，我们需要更多时间来讨论。经济发展带来了许多变化。"
    traditional = "這個問題很難回答，我們需要更多時間來討論。經濟發展帶來了許多變化。"
    assert tag_language(simplified) == LanguageTag("zh-Hans", "Hans", 1.0)
    assert tag_language(traditional) == LanguageTag("zh-Hant", "Hant", 1.0)


def test_chinese_without_telling_characters_is_plain_zh() -> None:
    tag = tag_language("我和你在山上看日出，天很高，水很清，大家都很好。")
    assert (tag.lang, tag.script) == ("zh", "Hani")


def test_kanji_with_kana_is_japanese_and_kanji_lines_follow_the_document() -> None:
    text = "東京大学\n" * 3 + SENTENCES["ja"]
    assert tag_language(text).lang == "ja"
    assert tag_language("東京大学の図書館").lang == "und"  # too short to tell


def test_latin_brand_names_do_not_flip_a_non_latin_document() -> None:
    chinese = (
        "Apple iPhone 15 Pro Max 與 Samsung Galaxy S24 Ultra 的比較："
        "蘋果的新手機在相機和電池方面都有明顯的進步。"
    )
    thai = "Zero One Wanwu และ Alibaba Cloud ร่วมกันตั้งห้องปฏิบัติการ AI เพื่อพัฒนาโมเดลขนาดใหญ่"
    assert tag_language(chinese).lang == "zh-Hant"
    assert tag_language(thai).lang == "th"


@pytest.mark.parametrize(
    ("first", "second"), [("en", "fr"), ("sw", "id"), ("sw", "th"), ("ru", "ar")]
)
def test_half_and_half_gets_a_low_confidence(first: str, second: str) -> None:
    tag = tag_language(SENTENCES[first] + "\n" + SENTENCES[second])
    assert tag.lang in {first, second, "und"}
    assert tag.confidence < 0.75


def test_many_languages_in_one_file_is_und() -> None:
    text = "\n".join(SENTENCES[lang] for lang in ("en", "fr", "de", "es", "sw", "id", "vi"))
    assert tag_language(text) == LanguageTag("und", "Latn", 0.0)


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("", "Zyyy"),
        ("   \n\t", "Zyyy"),
        ("🎉🎉🎉 👍 🙂", "Zyyy"),
        ("12345 678 90\n3.14159", "Zyyy"),
        ("Hello!", "Latn"),
        ("Habari yako?", "Latn"),
        ("สวัสดี", "Thai"),
        ("你好", "Hani"),
    ],
)
def test_too_little_text_is_und_with_zero_confidence(text: str, script: str) -> None:
    assert tag_language(text) == LanguageTag("und", script, 0.0)


def test_script_langdetect_does_not_know_is_und() -> None:
    amharic = "ቤተ መጻሕፍቱ ጠዋት በሦስት ሰዓት ይከፈታል እና ምሽት ላይ ይዘጋል። ልጆች ከትምህርት በኋላ ይመጣሉ።"
    tag = tag_language(amharic)
    assert (tag.lang, tag.script, tag.confidence) == ("und", "Ethi", 0.0)


def test_latin_letters_langdetect_has_no_ngrams_for_are_und() -> None:
    clicks = " ".join(["ǂǃǁ"] * 8)  # Latin-script click letters: no language profile has them
    assert tag_language(clicks) == LanguageTag("und", "Latn", 0.0)


def test_tags_are_the_same_in_a_fresh_process() -> None:
    texts = [SENTENCES["sw"] + "\n" + SENTENCES["id"], SENTENCES["hi"], SENTENCES["en"] + SENTENCES["fr"]]
    here = [tag_language(text) for text in texts]
    assert [tag_language(text) for text in texts] == here
    code = (
        "import json, sys\n"
        "from tasks.langtag import tag_language\n"
        "tags = [tag_language(text) for text in json.load(sys.stdin)]\n"
        "print(json.dumps([[t.lang, t.script, t.confidence] for t in tags]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True, check=True,
        cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(result.stdout) == [[t.lang, t.script, t.confidence] for t in here]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_tag(text: str) -> None:
    tag = tag_language(text)
    assert 0.0 <= tag.confidence <= 1.0
    assert (tag.lang == "und") == (tag.confidence == 0.0)
    assert tag.lang not in {"zh-cn", "zh-tw"}
    assert "-" not in tag.lang or tag.lang in {"zh-Hant", "zh-Hans"}


def _langdetect_itself(text: str, candidates: tuple[str, ...]) -> list[tuple[str, float]]:
    """langdetect's own answer, with the candidates as the prior, on the profiles tag_language loads."""
    detector = langtag._detector_factory().create()
    detector.set_prior_map(dict.fromkeys(candidates, 1.0))
    detector.append(text)
    try:
        return [(language.lang, language.prob) for language in detector.get_probabilities()]
    except LangDetectException:
        return []


# Letters of several scripts, capitals, digits, spaces, punctuation, a URL and an e-mail address: all the
# paths of langdetect's text cleaning and n-gram extraction.
_MIXED_TEXT = st.lists(
    st.sampled_from([
        *"aeiouknstmrlhgwy", *"AEKMNST", *"áéèñüßçğşı", *"абвгдеклмнорст", *"करतमनलसहकीा", *"ابتثجحدرسعلمنوي",
        " ", " ", "  ", ".", ",", "!", "-", "'", "\n", "1", "9", "https://example.org/a?b=1 ", "ana@example.com ",
        "\u0300", "\u1ea0", "ạ", "ǅ", "ΣΑ", "İ", "\u2019", "\t", "\u00a0",
    ]),
    max_size=120,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(_MIXED_TEXT, st.sampled_from(["Latn", "Cyrl", "Deva", "Arab"]))
def test_the_fast_langdetect_gives_langdetects_own_answer_to_the_bit(text: str, script: str) -> None:
    candidates = langtag._SCRIPT_LANGUAGES[script]
    assert langtag._langdetect(text, candidates) == _langdetect_itself(text, candidates)


@pytest.mark.parametrize("prefix", sorted(SEED_LANGUAGES))
def test_the_fast_langdetect_agrees_on_whole_seed_documents(prefix: str) -> None:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    text = path.read_text(encoding="utf-8")
    for script in ("Latn", "Deva"):
        candidates = langtag._SCRIPT_LANGUAGES[script]
        assert langtag._langdetect(text, candidates) == _langdetect_itself(text, candidates)


def _seed_texts() -> dict[str, str]:
    return {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}


def test_two_parts_of_one_document_are_in_one_language() -> None:
    for prefix, text in _seed_texts().items():
        first, second = text[: len(text) // 2], text[len(text) // 2:]
        a, b = language_signature(first), language_signature(second)
        assert a is not None and b is not None and same_language(a, b), prefix


def test_translations_are_not_in_one_language() -> None:
    signatures = {prefix: language_signature(text) for prefix, text in _seed_texts().items()}
    for (p, a), (q, b) in itertools.combinations(signatures.items(), 2):
        assert a is not None and b is not None and not same_language(a, b), (p, q)


def test_a_short_text_has_no_language_signature() -> None:
    assert language_signature("Habari za asubuhi, rafiki yangu.") is None
