"""Language tagging: BCP-47 tag with script, langdetect at the core, guarded by Unicode scripts and checked
by a second detector.

The detectors read the text in NFC (decomposed Vietnamese is Vietnamese), without identifiers joined by
underscores. The script of the letters decides the family of languages a text can be in; langdetect only
chooses inside that family (Devanagari: hi/mr/ne, Cyrillic: bg/mk/ru/uk, ...). Han text is Chinese unless
the document also uses kana (Japanese) or Hangul (Korean), and Traditional and Simplified Chinese are told
apart by the characters that exist in only one of the two standard character sets. Each line votes,
weighted by its letters, and the whole document votes once more; the confidence is the winner's share of
the votes, lowered when the text's letter trigrams are foreign to the winner's langdetect profile (a
language langdetect lacks, read as a neighbour it knows).

A second detector with its own bundled model (py3langid, 140 languages) then reads the same lines, among
the languages of the script including those langdetect has no profile for (Malay, Serbian, Belarusian,
Galician, Amharic, Burmese, ...). It names the language langdetect lacks when both detectors read the
text as the same neighbourhood (Malay beside Indonesian), and where the two disagree the tag is flagged
as uncertain or becomes ``und``. A language written in several scripts carries its script (sr-Cyrl,
sr-Latn), as Chinese does (zh-Hans, zh-Hant).
"""

from __future__ import annotations

import functools
import math
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import regex
from langdetect import DetectorFactory
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.utils.ngram import NGram
from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = [
    "LanguageSignature",
    "LanguageTag",
    "language_signature",
    "one_language_script",
    "same_language",
    "signature_in_script",
    "tag_language",
    "text_script",
]


@dataclass(frozen=True, slots=True)
class LanguageTag:
    lang: str  # BCP-47: sw, th, id, mr, zh-Hant, zh-Hans, ... or "und"
    script: str  # ISO 15924: Latn, Thai, Deva, Hant, Hans, ...
    confidence: float  # 0-1


UNDETERMINED = "und"

# Unicode script name -> ISO 15924 code.
_SCRIPT_CODES: dict[str, str] = {
    "Latin": "Latn",
    "Cyrillic": "Cyrl",
    "Greek": "Grek",
    "Armenian": "Armn",
    "Georgian": "Geor",
    "Hebrew": "Hebr",
    "Arabic": "Arab",
    "Devanagari": "Deva",
    "Bengali": "Beng",
    "Gurmukhi": "Guru",
    "Gujarati": "Gujr",
    "Oriya": "Orya",
    "Tamil": "Taml",
    "Telugu": "Telu",
    "Kannada": "Knda",
    "Malayalam": "Mlym",
    "Sinhala": "Sinh",
    "Thai": "Thai",
    "Lao": "Laoo",
    "Tibetan": "Tibt",
    "Myanmar": "Mymr",
    "Khmer": "Khmr",
    "Ethiopic": "Ethi",
    "Hangul": "Hang",
    "Hiragana": "Hira",
    "Katakana": "Kana",
    "Han": "Hani",
}
# One alternative per script, named by its code: a match's group name is the script of the run.
_LETTER_RUNS = regex.compile(
    "|".join(
        rf"(?P<{code}>[\p{{Script={name}}}&&[\p{{L}}\p{{M}}]]+)" for name, code in _SCRIPT_CODES.items()
    ),
    regex.V1,
)
# A Han, kana or Hangul character spells a syllable, about what two letters of an alphabet do; counting
# it twice keeps a Chinese line from being outweighed by the Latin brand names inside it.
_SYLLABIC_WEIGHT = {"Hani": 2, "Hira": 2, "Kana": 2, "Hang": 2}

# Languages written in each script that langdetect has profiles for. With those of the second detector
# (``_SECOND_LANGUAGES``): several, and the detectors choose among them; one, and the script names the
# language, whether a detector knows it or not; none (Tibetan, ...): "und".
_SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latn": (
        "af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it", "lt",
        "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr", "vi",
    ),
    "Cyrl": ("bg", "mk", "ru", "uk"),
    "Arab": ("ar", "fa", "ur"),
    "Deva": ("hi", "mr", "ne"),
    "Grek": ("el",),
    "Hebr": ("he",),
    "Beng": ("bn",),
    "Guru": ("pa",),
    "Gujr": ("gu",),
    "Taml": ("ta",),
    "Telu": ("te",),
    "Knda": ("kn",),
    "Mlym": ("ml",),
    "Thai": ("th",),
    "Armn": ("hy",),
    "Geor": ("ka",),
    "Sinh": ("si",),
    "Laoo": ("lo",),
    "Khmr": ("km",),
    "Hang": ("ko",),
    "Jpan": ("ja",),
    "Hani": ("zh",),
}
# Languages langdetect has no profile for, per script, that the second detector (py3langid, 140 languages
# of its own model) knows by their two-letter codes. langdetect names its nearest neighbour for them
# (Malay as Indonesian, Serbian as Croatian or Macedonian); the second detector settles the choice between
# a language langdetect knows and these. Its three-letter languages (dialects, historical forms) are left
# out: text in them is in a neighbour's script, and agreeing with that neighbour is the safer error.
_SECOND_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latn": (
        "an", "az", "br", "bs", "eo", "eu", "fo", "fy", "ga", "gd", "gl", "ha", "ht", "ig", "is", "jv", "la",
        "lb", "lg", "ln", "mg", "ms", "mt", "nn", "oc", "om", "qu", "rw", "se", "sn", "sr", "st", "tk", "uz",
        "wa", "xh", "yo", "zu",
    ),
    "Cyrl": ("ba", "be", "kk", "ky", "mn", "sr", "tg", "tt"),
    "Arab": ("ps", "ug"),
    "Deva": ("sa",),
    "Beng": ("as",),
    "Orya": ("or",),
    "Ethi": ("am",),
    "Mymr": ("my",),
}
# The scripts each language is written in (Serbian: Latin and Cyrillic).
_LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    lang: tuple(script for script, langs in [*_SCRIPT_LANGUAGES.items(), *_SECOND_LANGUAGES.items()] if lang in langs)
    for lang in {*(lang for langs in _SCRIPT_LANGUAGES.values() for lang in langs),
                 *(lang for langs in _SECOND_LANGUAGES.values() for lang in langs)}
}

# Below this many (weighted) letters a line is too short to vote, and a document too short to tag.
_MIN_LINE_LETTERS = 12
_MIN_DOCUMENT_LETTERS = 20
# A document counts as Japanese when kana make up this share of its Han and kana characters; a
# Chinese text borrowing one katakana word stays Chinese.
_MIN_KANA_SHARE = 0.1
# A winner with less than this share of the votes is no winner: "und".
_MIN_SHARE = 0.4
# langdetect costs up to ~10 ms per line: long documents are judged on an even sample of lines,
# and a line (a whole paragraph, or a file without line breaks) on its beginning. Ten lines plus the
# whole sample tag 500 generated documents in 5 languages as 16 lines do, in half the time (12 ms/document).
_MAX_VOTING_LINES = 10
_MAX_LINE_CHARS = 2_000
# langdetect always names one of the languages it knows, with certainty even for a language it lacks
# (Zulu as Swahili, Yoruba as Vietnamese). What gives such a text away is the share of its letter
# trigrams that the named language's profile holds: 0.67-0.99 for short texts in 28 profiled languages
# and the seeds, 0.24-0.54 for Yoruba, Maltese, Hawaiian, Zulu and Icelandic. Between these two shares
# the confidence fades to nothing, so the tag is flagged as uncertain or, further off, becomes "und".
_FOREIGN_TRIGRAMS = 0.4
_FAMILIAR_TRIGRAMS = 0.6
_FAMILIARITY_CHARS = 6_000  # enough text to measure the share
# Words joined by underscores are names in code or templates, in no language's spelling.
_IDENTIFIERS = regex.compile(r"\w*[\p{L}\p{N}]_\w*|\w*_[\p{L}\p{N}]\w*")
_COMBINING_MARKS = regex.compile(r"\p{Mn}+")


def tag_language(text: str) -> LanguageTag:
    """BCP-47 language tag, ISO 15924 script and confidence (0-1) of a document. Never raises.

    Text with no letters, or too few to judge, is ``und`` with confidence 0; so is a text whose
    lines do not agree on any language. The detectors see the text in NFC (decomposed Vietnamese reads
    as composed Vietnamese) and without identifiers (``verbose_name_plural``: no language's words); the
    tag does not depend on offsets, so the caller's text is left as it is.
    """
    text = unicodedata.normalize("NFC", text)
    lines = _sample_lines(text)
    line_counts = [_script_counts(line) for line in lines]
    counts = sum(line_counts, Counter[str]())
    if not counts:
        return LanguageTag(UNDETERMINED, "Zyyy", 0.0)
    sample = "\n".join(lines)
    cjk_script = _cjk_script(counts)
    document_script = _dominant_script(counts, cjk_script)
    undetermined = LanguageTag(UNDETERMINED, _display_script(document_script, sample), 0.0)
    if counts.total() < _MIN_DOCUMENT_LETTERS:
        return undetermined

    votes: defaultdict[str, float] = defaultdict(float)
    line_weights: list[int] = []
    for line, line_count in zip(lines, line_counts, strict=True):
        weight = line_count.total()
        if weight < _MIN_LINE_LETTERS:
            continue
        line_weights.append(weight)
        for lang, probability in _detect(line, _dominant_script(line_count, cjk_script)):
            votes[lang] += weight * probability
    # The whole document counts as one more line of average length: it settles close calls
    # between lines and is the only voter when every line is short.
    whole_weight = sum(line_weights) / len(line_weights) if line_weights else counts.total()
    for lang, probability in _detect(sample, document_script):
        votes[lang] += whole_weight * probability

    winner = max(sorted(votes), key=votes.__getitem__)
    share = min(votes[winner] / (sum(line_weights) + whole_weight), 1.0)
    if share < _MIN_SHARE:  # the lines do not agree on a language
        return undetermined
    script = document_script if winner in _all_languages(document_script) else _winner_script(winner)
    in_script = "\n".join(line for line, line_count in zip(lines, line_counts, strict=True)
                          if line_count and _dominant_script(line_count, cjk_script) == script)
    familiarity = 1.0
    if winner in _SCRIPT_LANGUAGES.get(script, ()) and len(_SCRIPT_LANGUAGES[script]) > 1:
        familiarity = _familiarity(in_script.splitlines(), winner)
        if familiarity < 1.0 and _COMBINING_MARKS.search(in_script):
            # Vowel points and other marks that langdetect's profiles, built from unpointed text, lack
            # (fully vowelled Arabic is foreign to its Arabic profile, the same letters without are not).
            unmarked = _COMBINING_MARKS.sub("", in_script)
            familiarity = max(familiarity, _familiarity(unmarked.splitlines(), winner))
    winner, share = _second_opinion(in_script, script, winner, share, familiarity)
    if winner == UNDETERMINED or share < _MIN_SHARE:
        return undetermined
    script = _display_script(script, sample)
    return LanguageTag(_with_script_subtag(winner, script), script, round(share, 4))


def _winner_script(lang: str) -> str:
    """The script of a language that won on lines in a script other than the document's."""
    return _LANGUAGE_SCRIPTS[lang][0] if lang in _LANGUAGE_SCRIPTS else "Zyyy"


def _all_languages(script: str) -> tuple[str, ...]:
    """The languages told apart in ``script``: langdetect's, then the second detector's."""
    return _SCRIPT_LANGUAGES.get(script, ()) + _SECOND_LANGUAGES.get(script, ())


def _second_opinion(text: str, script: str, winner: str, share: float, familiarity: float) -> tuple[str, float]:
    """The tag and confidence of a text in ``script``, from langdetect's ``winner`` (or "und"), its share of
    the votes and how familiar the text is to its profile (``_familiarity``), checked by the second detector.

    The second detector gives each language of the script a probability; its most probable is ``best``.
    - ``best`` is the winner: the tag stands, as sure as langdetect is.
    - ``best`` is a language langdetect lacks, langdetect's winner is the one the second detector ranks
      first among langdetect's own languages, and the two hold nearly all of its probability: both read the
      text alike, and the second detector knows one more language (Malay beside Indonesian, Belarusian
      beside Russian). ``best`` is taken, langdetect's share counting for it; the familiarity is not held
      against it, since a language langdetect lacks is foreign to its profiles by nature.
    - Otherwise the two disagree. The tag goes to the better supported of the two, with at most half the
      confidence: a language langdetect lacks (Irish read as English) or a neighbour in a close pair the
      second detector cannot split (Serbian, Croatian and Bosnian in Latin letters) is flagged as uncertain.
    """
    candidates = _all_languages(script)
    probabilities = _second_detector(text, candidates) if len(candidates) > 1 and text else {}
    if not probabilities:
        return winner, share * familiarity
    best = max(probabilities, key=probabilities.__getitem__)
    if best == winner:
        return winner, share * familiarity
    known = [lang for lang in candidates if lang in _SCRIPT_LANGUAGES.get(script, ())]
    nearest_known = max(known, key=probabilities.__getitem__) if known else UNDETERMINED
    p_best, p_winner = probabilities[best], probabilities.get(winner, 0.0)
    if (best not in known and winner == nearest_known and p_best + p_winner >= _SAME_NEIGHBOURHOOD
            and p_best >= _CLEAR_CHOICE * (p_best + p_winner)):
        return best, (share + p_best) / 2
    if p_best > share * familiarity + p_winner:
        return best, p_best / 2
    return winner, share * familiarity * p_winner / (p_best + p_winner)


# Whether two texts are in one language, cheaply (no langdetect): texts in a script of a single language
# (Thai, Han, Hangul, ...) are; texts in a script of many languages are when their letter trigram profiles
# are alike. Measured on the seeds, two halves of one document (same language, different content) have a
# cosine of 0.79-0.92, translations (Swahili, Indonesian, Thai, Marathi) 0.00-0.24; two English texts 0.75,
# English against Swahili or Indonesian 0.08-0.19. Closely related languages may pass as one language.
_SAME_LANGUAGE_COSINE = 0.5
_SIGNATURE_CHARS = 4_000
_MIN_SIGNATURE_LETTERS = 200
_LOWER_LETTERS = regex.compile(r"\p{L}+")


@dataclass(frozen=True, slots=True)
class LanguageSignature:
    """What ``same_language`` compares: the text's main script and, for a script many languages use, the
    frequencies of its letter trigrams."""

    script: str
    trigrams: Counter[str] | None


def text_script(text: str) -> str | None:
    """The main script of a text (ISO 15924; Han read as Chinese, Japanese or Korean), or None when the text
    has too few letters to tell a language by."""
    counts = sum((_script_counts(line) for line in _sample_lines(text)), Counter[str]())
    return _dominant_script(counts, _cjk_script(counts)) if counts.total() >= _MIN_SIGNATURE_LETTERS else None


def one_language_script(script: str) -> bool:
    """Whether only one language is told apart in this script (Thai, Han, Hangul, ...), or none."""
    return len(_all_languages(script)) <= 1


def language_signature(text: str) -> LanguageSignature | None:
    """The signature of a text's language, or None when the text has too few letters to tell."""
    script = text_script(text)
    return None if script is None else signature_in_script(text, script)


def signature_in_script(text: str, script: str) -> LanguageSignature:
    """The signature of a text whose main script (``text_script``) is known."""
    if one_language_script(script):
        return LanguageSignature(script, None)
    letters = " ".join(_LOWER_LETTERS.findall(text[: 4 * _SIGNATURE_CHARS].lower()))[:_SIGNATURE_CHARS]
    return LanguageSignature(script, Counter(map("".join, zip(letters, letters[1:], letters[2:], strict=False))))


def same_language(a: LanguageSignature, b: LanguageSignature) -> bool:
    """Whether two signed texts are (most likely) in the same language."""
    if a.script != b.script:
        return False
    if a.trigrams is None or b.trigrams is None:
        return a.trigrams is None and b.trigrams is None
    dot = sum(count * b.trigrams[gram] for gram, count in a.trigrams.items() if gram in b.trigrams)
    norms = math.sqrt(sum(c * c for c in a.trigrams.values()) * sum(c * c for c in b.trigrams.values()))
    return norms > 0 and dot / norms >= _SAME_LANGUAGE_COSINE


def _sample_lines(text: str) -> list[str]:
    """The non-blank lines, or an even sample of a long document's, each cut to a bounded length."""
    lines = [line[:_MAX_LINE_CHARS] for line in map(_without_identifiers, text.splitlines()) if line.strip()]
    if len(lines) <= _MAX_VOTING_LINES:
        return lines
    return [lines[i * len(lines) // _MAX_VOTING_LINES] for i in range(_MAX_VOTING_LINES)]


def _without_identifiers(line: str) -> str:
    return _IDENTIFIERS.sub(" ", line) if "_" in line else line


def _script_counts(text: str) -> Counter[str]:
    """Letters (and combining marks) per ISO 15924 script, syllabic characters counted double."""
    counts: Counter[str] = Counter()
    for match in _LETTER_RUNS.finditer(text):
        script = match.lastgroup
        if script is not None:
            counts[script] += len(match.group()) * _SYLLABIC_WEIGHT.get(script, 1)
    return counts


def _cjk_script(counts: Counter[str]) -> str:
    """How the document's Han characters are read: as Japanese, Korean or Chinese."""
    kana = counts["Hira"] + counts["Kana"]
    if kana and kana >= _MIN_KANA_SHARE * (kana + counts["Hani"]):
        return "Jpan"
    if counts["Hang"] and counts["Hang"] >= counts["Hani"]:
        return "Hang"
    return "Hani"


def _dominant_script(counts: Counter[str], cjk_script: str) -> str:
    """The script with most letters, Han and kana merged into the document's CJK reading."""
    merged: Counter[str] = Counter()
    for script, count in counts.items():
        merged[cjk_script if script in ("Hani", "Hira", "Kana") else script] += count
    return max(sorted(merged), key=merged.__getitem__)


def _detect(text: str, script: str) -> Iterable[tuple[str, float]]:
    """Languages of ``text`` with their probabilities, among those written in ``script`` that langdetect
    knows; the script's only language, whoever knows it; or "und" when langdetect knows none or one of
    several (then the second detector chooses)."""
    candidates = _SCRIPT_LANGUAGES.get(script, ())
    everyone = _all_languages(script)
    if len(everyone) == 1:
        return [(everyone[0], 1.0)]
    if len(candidates) <= 1:  # the second detector chooses (``_second_opinion``)
        return [(candidates[0] if candidates else UNDETERMINED, 1.0)]
    return _langdetect(text, candidates) or [(UNDETERMINED, 1.0)]


def _langdetect(text: str, candidates: Sequence[str]) -> list[tuple[str, float]]:
    """langdetect's ``get_probabilities`` with a prior of 1 on each candidate and 0 on the others.

    The same computation as langdetect's ``Detector``, to the bit (a test compares them), but several
    times faster: a language with a zero prior keeps probability 0 for good, so only the candidates'
    probabilities are updated, as one vector; sums run in order (``cumsum``) as langdetect's do.
    Empty when the text has no usable n-gram (e.g. only capitalised words).
    """
    factory = _detector_factory()
    ngrams = _langdetect_ngrams(text)
    if not ngrams:
        return []
    langs = [lang for lang in factory.langlist if lang in candidates]
    columns = [factory.langlist.index(lang) for lang in langs]
    rows = {gram: k for k, gram in enumerate(dict.fromkeys(ngrams))}
    profile = np.stack([_profile_row(gram) for gram in rows])[:, columns]
    # Drawing a row number from this list takes the same random numbers as drawing the n-gram itself.
    draws = [rows[gram] for gram in ngrams]
    rng = random.Random()
    rng.seed(factory.seed)
    langprob = np.zeros(len(langs))
    for _ in range(_LD_TRIALS):
        prob = np.full(len(langs), 1.0 / float(len(langs)))
        weight = (Detector.ALPHA_DEFAULT + rng.gauss(0.0, 1.0) * Detector.ALPHA_WIDTH) / Detector.BASE_FREQ
        factors = weight + profile
        i = 0
        while True:
            prob *= factors[rng.choice(draws)]
            if i % 5 == 0:
                prob /= prob.cumsum()[-1]
                if prob.max() > Detector.CONV_THRESHOLD or i >= Detector.ITERATION_LIMIT:
                    break
            i += 1
        langprob += prob / _LD_TRIALS
    found = [(lang, float(p)) for lang, p in zip(langs, langprob, strict=True) if p > Detector.PROB_THRESHOLD]
    return sorted(found, key=lambda item: item[1], reverse=True)


_LD_TRIALS = 7  # langdetect's n_trial
_LD_MAX_TEXT = 10_000  # langdetect's max_text_length
_LD_SPACES = regex.compile(" {2,}")
_LD_ASCII_LETTERS = regex.compile("[A-z]")  # langdetect's test 'A' <= ch <= 'z'
# langdetect's "non-Latin" characters: from U+0300 on. (It means to leave out the Latin Extended Additional
# block, but compares the block's number with its name, so the block counts too.)
_LD_NON_LATIN = regex.compile("[\u0300-\U0010ffff]")


def _langdetect_ngrams(text: str) -> list[str]:
    """The n-grams langdetect's ``Detector`` draws from for ``text``: its ``append``, ``cleaning_text``
    and ``_extract_ngrams``."""
    text = Detector.URL_RE.sub(" ", text)
    text = Detector.MAIL_RE.sub(" ", text)
    text = _LD_SPACES.sub(" ", NGram.normalize_vi(text)[:_LD_MAX_TEXT])
    if 2 * len(_LD_ASCII_LETTERS.findall(text)) < len(_LD_NON_LATIN.findall(text)):
        text = _LD_ASCII_LETTERS.sub("", text)
    ngrams: list[str] = []
    for word, spaced in _words(text):
        ngrams += _word_ngrams(word, spaced)
    return ngrams


def _words(text: str) -> Iterator[tuple[str, bool]]:
    """The words of ``text`` after langdetect's character normalisation, each with whether a space follows.

    langdetect's n-gram buffer starts afresh at every word, so a word (with the space after it, which
    ends its last n-grams) always gives the same n-grams: they are computed once per word.
    """
    words = text.translate(_NORMALIZED).split(" ")
    last = len(words) - 1
    for k, word in enumerate(words):
        if word:
            yield word, k < last


@functools.lru_cache(maxsize=1 << 16)
def _word_ngrams(word: str, spaced: bool) -> tuple[str, ...]:
    """The 1-3-grams of a normalised word that langdetect's profiles know, in langdetect's order."""
    known = _detector_factory().word_lang_prob_map
    return tuple(
        gram for grams in _ngram_buffers(word + " " * spaced) for n in range(1, len(grams) + 1)
        if (gram := grams[-n:]) != " " and gram in known
    )


@functools.lru_cache(maxsize=1 << 16)
def _word_trigrams(word: str, spaced: bool, lang: str) -> tuple[int, int]:
    """Of the letter trigrams of a normalised word, how many ``lang``'s profile holds, and how many there are."""
    factory = _detector_factory()
    column = factory.langlist.index(lang)
    known = total = 0
    for grams in _ngram_buffers(word + " " * spaced):
        if len(grams) == NGram.N_GRAM and grams.strip():
            probabilities = factory.word_lang_prob_map.get(grams)
            known += probabilities is not None and probabilities[column] > 0
            total += 1
    return known, total


def _ngram_buffers(word: str) -> Iterator[str]:
    """langdetect's ``NGram`` buffer (up to three characters) after each character of a normalised word,
    except inside capitalised words (two capitals in a row), which yield no n-gram."""
    grams, capital = " ", False
    for ch in word:
        last = grams[-1]
        grams = (grams if len(grams) < NGram.N_GRAM else grams[1:]) + ch
        capital = ch.isupper() and (last.isupper() or capital)
        if not capital:
            yield grams


@functools.cache
def _profile_row(gram: str) -> npt.NDArray[np.float64]:
    """An n-gram's probability in every language of the profiles (converted once: it is used often)."""
    return np.array(_detector_factory().word_lang_prob_map[gram], dtype=np.float64)


class _Normalizer(dict[int, str]):
    """``str.translate`` table of langdetect's ``NGram.normalize``, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        self[code] = normalized = str(NGram.normalize(chr(code)))
        return normalized


_NORMALIZED = _Normalizer()


def _familiarity(lines: Iterable[str], lang: str) -> float:
    """1 when the letter trigrams of ``lines`` are at home in ``lang``'s langdetect profile, down to 0
    when too many are foreign to it (see ``_FOREIGN_TRIGRAMS``)."""
    known = total = size = 0
    for line in lines:
        for word, spaced in _words(line):
            word_known, word_total = _word_trigrams(word, spaced, lang)
            known += word_known
            total += word_total
        size += len(line)
        if size >= _FAMILIARITY_CHARS:
            break
    if not total:
        return 1.0
    return min(1.0, max(0.0, (known / total - _FOREIGN_TRIGRAMS) / (_FAMILIAR_TRIGRAMS - _FOREIGN_TRIGRAMS)))


@functools.cache
def _detector_factory() -> DetectorFactory:
    """langdetect's profiles, loaded in a fixed order and with a fixed seed: the same text always
    gets the same answer (langdetect's own loader takes the profiles in directory order)."""
    factory = DetectorFactory()
    profiles = sorted(Path(PROFILES_DIRECTORY).iterdir())
    factory.load_json_profile([path.read_text(encoding="utf-8") for path in profiles])
    factory.set_seed(0)
    return factory


# The share of the second detector's probability that langdetect's winner and a language it lacks must
# hold together for the second detector's choice between them to be taken (see ``_second_opinion``).
_SAME_NEIGHBOURHOOD = 0.95
# ... and of which the language langdetect lacks must have this share: a closer call keeps langdetect's tag,
# with the confidence the second detector leaves it (Indonesian scripture read as Malay 0.53, Indonesian 0.47).
_CLEAR_CHOICE = 2 / 3
_SECOND_MAX_CHARS = 4_000  # of langdetect's sample: enough to tell neighbours apart


def _second_detector(text: str, candidates: Sequence[str]) -> dict[str, float]:
    """The second detector's probabilities (py3langid) of the ``candidates`` for ``text``, summing to 1;
    empty when it finds no feature of any language in the text."""
    identifier = _second_identifier()
    scores = dict(identifier.rank(text[:_SECOND_MAX_CHARS]))
    probabilities = {lang: float(scores[lang]) for lang in candidates if lang in scores}
    total = sum(probabilities.values())
    if not total or not math.isfinite(total):
        return {}
    return {lang: p / total for lang, p in probabilities.items()}


@functools.cache
def _second_identifier() -> LanguageIdentifier:
    """py3langid's bundled model, loaded once (about a second, ~100 MB), with probabilities normalised over
    its languages."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _display_script(script: str, text: str) -> str:
    """The script code reported: Han text is refined to Traditional or Simplified when it can be."""
    if script != "Hani":
        return script
    simplified_only, traditional_only = _han_variants()
    simplified = sum(1 for ch in text if ch in simplified_only)
    traditional = sum(1 for ch in text if ch in traditional_only)
    if traditional > simplified:
        return "Hant"
    if simplified > traditional:
        return "Hans"
    return "Hani"


def _with_script_subtag(lang: str, script: str) -> str:
    """Chinese is tagged with its script (zh-Hant, zh-Hans), and so is a language written in several
    scripts (sr-Cyrl, sr-Latn); other languages imply theirs."""
    if lang == "zh":
        return f"{lang}-{script}" if script in ("Hant", "Hans") else lang
    return f"{lang}-{script}" if len(_LANGUAGE_SCRIPTS.get(lang, ())) > 1 else lang


@functools.cache
def _han_variants() -> tuple[frozenset[str], frozenset[str]]:
    """Characters that are only Simplified, and only Traditional.

    GB 2312 is the standard set of Simplified characters and Big5 of Traditional ones. Its 3,755
    most common characters (GB 2312 level 1) that Big5 lacks are simplified forms; the 5,401 most
    common of Big5 (level 1) that all of GB 2312 lacks are traditional forms. Rare characters are
    left out on both sides: they may simply be missing from the other set.
    """
    trail_bytes = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    common_gb = _decodable("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))
    all_gb = _decodable("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF))
    common_big5 = _decodable("big5", range(0xA4, 0xC7), trail_bytes)
    all_big5 = _decodable("big5", range(0xA4, 0xFA), trail_bytes)
    return frozenset(common_gb - all_big5), frozenset(common_big5 - all_gb)


def _decodable(encoding: str, lead_bytes: Iterable[int], trail_bytes: Iterable[int]) -> set[str]:
    """The Han characters a double-byte encoding has in the given lead/trail byte ranges."""
    trails = list(trail_bytes)
    found: set[str] = set()
    for lead in lead_bytes:
        for trail in trails:
            try:
                ch = bytes((lead, trail)).decode(encoding)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and "\u4e00" <= ch <= "\u9fff":
                found.add(ch)
    return found
