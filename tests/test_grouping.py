"""Grouping translations into works without folders: anchors, similarity, assignment, the index."""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval.grouping import evaluate_grouping, pairwise_scores
from tasks.grouping import (
    DEFAULT_THRESHOLD,
    WorkIndex,
    WorkProfile,
    assign_work,
    group_documents,
    merge_profiles,
    profile_document,
    similarity,
)
from tasks.langtag import tag_language
from tasks.segment import segment_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Three short works with no link to the seeds or to each other, each in three languages (two of them
# in English): numbers written with local separators and digits, names transliterated or not.
UNRELATED: dict[str, dict[tuple[str, str], str]] = {
    "bridge": {
        ("en", "Latn"): """The Øresund Bridge

The Øresund Bridge links Copenhagen in Denmark with Malmö in Sweden. It opened on 1 July 2000 after \
four years of construction.

Construction

The bridge is 7,845 metres long and joins a tunnel of 4,050 metres through the artificial island of \
Peberholm. Engineers from Sweden and Denmark worked with the consortium Sundlink on the project, which \
cost about 30.1 billion Danish kroner.

Traffic

In 2019 about 21,000 vehicles crossed every day, and trains carry commuters between the two cities \
every 20 minutes. The crossing also appears in the television series The Bridge.
""",
        ("de", "Latn"): """Die Öresundbrücke

Die Öresundbrücke verbindet Kopenhagen in Dänemark mit Malmö in Schweden. Sie wurde am 1. Juli 2000 \
nach vier Jahren Bauzeit eröffnet.

Bau

Die Brücke ist 7845 Meter lang und schließt an einen 4050 Meter langen Tunnel durch die künstliche \
Insel Peberholm an. Ingenieure aus Schweden und Dänemark arbeiteten mit dem Konsortium Sundlink an dem \
Projekt, das etwa 30,1 Milliarden dänische Kronen kostete.

Verkehr

Im Jahr 2019 fuhren täglich rund 21.000 Fahrzeuge über die Brücke, und Züge bringen Pendler alle 20 \
Minuten zwischen den beiden Städten hin und her. Die Verbindung ist auch in der Fernsehserie Die Brücke \
zu sehen.
""",
        ("ru", "Cyrl"): """Эресуннский мост

Эресуннский мост соединяет Копенгаген в Дании с Мальмё в Швеции. Он был открыт 1 июля 2000 года после \
четырёх лет строительства.

Строительство

Длина моста составляет 7 845 метров, он переходит в тоннель длиной 4 050 метров через искусственный \
остров Пеберхольм. Инженеры из Швеции и Дании работали над проектом вместе с консорциумом Sundlink; \
стоимость составила около 30,1 млрд датских крон.

Движение

В 2019 году по мосту ежедневно проезжало около 21 000 автомобилей, а поезда возят пассажиров между \
двумя городами каждые 20 минут. Переправа также появляется в телесериале «Мост».
""",
    },
    "telescope": {
        ("en", "Latn"): """James Webb Space Telescope

The James Webb Space Telescope (JWST) was launched on 25 December 2021 on an Ariane 5 rocket from \
Kourou in French Guiana. It is a joint project of NASA, ESA and the Canadian Space Agency.

The mirror

Its primary mirror is 6.5 metres wide and is made of 18 hexagonal segments coated with gold. The \
telescope observes in the infrared and works at about minus 233 degrees Celsius.

The orbit

JWST orbits the Sun near the second Lagrange point, about 1.5 million kilometres from Earth. The \
mission cost about 10 billion US dollars.
""",
        ("es", "Latn"): """Telescopio espacial James Webb

El telescopio espacial James Webb (JWST) fue lanzado el 25 de diciembre de 2021 en un cohete Ariane 5 \
desde Kourou, en la Guayana Francesa. Es un proyecto conjunto de la NASA, la ESA y la Agencia Espacial \
Canadiense.

El espejo

Su espejo primario mide 6,5 metros de ancho y está formado por 18 segmentos hexagonales recubiertos de \
oro. El telescopio observa en el infrarrojo y funciona a unos 233 grados bajo cero.

La órbita

El JWST orbita el Sol cerca del segundo punto de Lagrange, a unos 1,5 millones de kilómetros de la \
Tierra. La misión costó unos 10 000 millones de dólares estadounidenses.
""",
        ("hi", "Deva"): """जेम्स वेब अंतरिक्ष दूरबीन

जेम्स वेब अंतरिक्ष दूरबीन (JWST) को २५ दिसंबर २०२१ को फ्रेंच गयाना के कौरू से एरियन ५ रॉकेट द्वारा \
प्रक्षेपित किया गया। यह नासा, ईएसए और कनाडाई अंतरिक्ष एजेंसी की संयुक्त परियोजना है।

दर्पण

इसका प्राथमिक दर्पण ६.५ मीटर चौड़ा है और सोने की परत चढ़े १८ षट्कोणीय खंडों से बना है। यह दूरबीन अवरक्त \
प्रकाश में देखती है और लगभग शून्य से २३३ डिग्री सेल्सियस नीचे काम करती है।

कक्षा

JWST पृथ्वी से लगभग १५ लाख किलोमीटर दूर दूसरे लैग्रेंज बिंदु के पास सूर्य की परिक्रमा करता है। इस मिशन \
की लागत लगभग १० अरब अमेरिकी डॉलर रही।
""",
    },
    "festival": {
        ("fr", "Latn"): """Le Festival d'Avignon

Le Festival d'Avignon a été fondé en 1947 par Jean Vilar. Chaque mois de juillet, la ville accueille \
des centaines de spectacles de théâtre et de danse.

La Cour d'honneur

Le lieu principal est la Cour d'honneur du Palais des papes, qui compte environ 2 000 places. En 2023, \
le festival a vendu plus de 115 000 billets.

Le Off

À côté du programme officiel, le festival Off réunit chaque année plus de 1 500 spectacles dans 140 \
lieux de la ville.
""",
        ("it", "Latn"): """Il Festival di Avignone

Il Festival di Avignone fu fondato nel 1947 da Jean Vilar. Ogni luglio la città ospita centinaia di \
spettacoli di teatro e di danza.

La Corte d'onore

Il luogo principale è la Corte d'onore del Palazzo dei Papi, che conta circa 2.000 posti. Nel 2023 il \
festival ha venduto più di 115.000 biglietti.

L'Off

Accanto al programma ufficiale, il festival Off riunisce ogni anno più di 1.500 spettacoli in 140 \
luoghi della città.
""",
        ("ja", "Jpan"): """アヴィニョン演劇祭

アヴィニョン演劇祭は１９４７年にジャン・ヴィラールによって創設された。毎年７月、町では数百の演劇やダンスの公演が行われる。

名誉の中庭

主会場は教皇庁宮殿の名誉の中庭で、約２０００席がある。２０２３年、演劇祭は１１万５０００枚以上のチケットを販売した。

オフ

公式プログラムと並行して、「オフ」では毎年１５００以上の公演が町の１４０か所で上演される。
""",
    },
}


@cache
def _pile() -> tuple[dict[str, WorkProfile], dict[str, str]]:
    """Profiles of the seeds and of the unrelated works, and the work each document belongs to."""
    profiles: dict[str, WorkProfile] = {}
    gold: dict[str, str] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        tag = tag_language(text)
        profiles[path.name] = profile_document(segment_text(text, tag.script), tag.lang)
        gold[path.name] = "seeds"
    for work, documents in UNRELATED.items():
        for (lang, script), text in documents.items():
            doc_id = f"{work}.{lang}"
            profiles[doc_id] = profile_document(segment_text(text, script), lang)
            gold[doc_id] = work
    return profiles, gold


def _partition(assignment: Mapping[str, str]) -> set[frozenset[str]]:
    groups: defaultdict[str, set[str]] = defaultdict(set)
    for doc_id, work_id in assignment.items():
        groups[work_id].add(doc_id)
    return {frozenset(group) for group in groups.values()}


def _profile(text: str, lang: str = "en", script: str = "Latn") -> WorkProfile:
    return profile_document(segment_text(text, script), lang)


# --- anchors ---------------------------------------------------------------------------------------------


def test_numbers_are_read_across_scripts_and_locales() -> None:
    profile = _profile(
        "Figures\n\nIn ２０２５ and २०२४ the count rose from ๑๒ to ٣٤, then to 7,845 or 7.845 or 7 845, "
        "and 21 000 cars; a rate of 9,5 is 9.5 too.\n", lang="en",
    )
    numbers = {key for key in profile.anchors if key.startswith("n:")}
    assert numbers == {"n:2025", "n:2024", "n:12", "n:34", "n:7845", "n:21000", "n:9.5"}


def test_names_of_latin_text_are_told_from_words_capitalised_by_their_place() -> None:
    profile = _profile(
        "A Title In Title Case\n\nThe company met Alibaba Cloud and the NASA team in Kourou. Kourou is "
        "far. The trip was long, and the team met LatePost.\n\nA HEADING IN CAPITALS\n\nThe end came.\n"
    )
    words = {key for key in profile.anchors if key.startswith("w:")}
    assert {"w:alibaba", "w:cloud", "w:nasa", "w:kourou", "w:latepost"} <= words
    assert not {"w:the", "w:title", "w:case", "w:trip", "w:company", "w:heading", "w:capitals"} & words
    assert {"w:nasa", "w:latepost"}.isdisjoint(profile.soft | profile.weak)


def test_capitals_of_a_language_that_capitalises_its_nouns_are_weak_evidence() -> None:
    profiles, _ = _pile()
    german, english = profiles["bridge.de"], profiles["bridge.en"]
    assert {"w:peberholm", "w:sundlink", "w:tunnel"} <= german.weak
    assert {"w:peberholm", "w:sundlink"} <= english.soft


def test_a_transliterated_name_meets_its_latin_spelling() -> None:
    latin = _profile("Deal\n\nThe lab was founded with Alibaba and Zhejiang partners last spring.\n")
    devanagari = _profile("सौदा\n\nयह प्रयोगशाला अलीबाबाचे भागीदार यांनी स्थापन केली.\n", lang="mr", script="Deva")
    unrelated = _profile("सौदा\n\nयह प्रयोगशाला भागीदार यांनी स्थापन केली.\n", lang="mr", script="Deva")
    assert similarity(latin, devanagari) > 0
    assert similarity(latin, unrelated) == 0


def test_profiles_survive_pickling() -> None:
    profiles, _ = _pile()
    for profile in profiles.values():
        assert pickle.loads(pickle.dumps(profile)) == profile


# --- similarity and merging --------------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_similarity_is_symmetric_and_between_0_and_1(data: st.DataObject) -> None:
    profiles, _ = _pile()
    a, b = (profiles[data.draw(st.sampled_from(sorted(profiles)))] for _ in range(2))
    assert 0.0 <= similarity(a, b) <= 1.0
    assert similarity(a, b) == pytest.approx(similarity(b, a))


def test_translations_are_similar_and_unrelated_works_are_not() -> None:
    profiles, gold = _pile()
    same = [similarity(profiles[a], profiles[b]) for a in profiles for b in profiles
            if a < b and gold[a] == gold[b] and profiles[a].langs != profiles[b].langs]
    other = [similarity(profiles[a], profiles[b]) for a in profiles for b in profiles if gold[a] != gold[b]]
    assert min(same) >= DEFAULT_THRESHOLD
    assert max(other) < 0.1


@pytest.mark.parametrize("work", sorted(UNRELATED))
def test_the_same_anchors_in_another_arrangement_make_another_text(work: str) -> None:
    (first, first_script), *others = UNRELATED[work]
    reference = _profile(UNRELATED[work][first, first_script], first, first_script)
    for lang, script in others:
        paragraphs = UNRELATED[work][lang, script].strip().split("\n\n")
        # Title, then the last section, the middle one, and the opening paragraph last.
        moved = "\n\n".join([paragraphs[0], *paragraphs[4:], *paragraphs[2:4], paragraphs[1]])
        translation = similarity(reference, _profile(UNRELATED[work][lang, script], lang, script))
        rearranged = similarity(reference, _profile(moved, lang, script))
        assert rearranged < DEFAULT_THRESHOLD <= translation


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_merging_profiles_is_commutative_and_associative(data: st.DataObject) -> None:
    profiles, _ = _pile()
    a, b, c = (profiles[data.draw(st.sampled_from(sorted(profiles)))] for _ in range(3))
    assert merge_profiles(a, b) == merge_profiles(b, a)
    assert merge_profiles(merge_profiles(a, b), c) == merge_profiles(a, merge_profiles(b, c))


# --- assignment --------------------------------------------------------------------------------------


def test_a_work_that_has_the_language_is_never_a_candidate() -> None:
    profiles, _ = _pile()
    swahili = next(p for p in profiles.values() if p.langs == {"sw"})
    indonesian = next(p for p in profiles.values() if p.langs == {"id"})
    assert assign_work(swahili, [("copy", swahili)]).work_id is None
    assert assign_work(swahili, [("copy", swahili), ("other", indonesian)]).work_id == "other"


def test_two_close_candidates_of_different_works_leave_the_document_alone() -> None:
    profiles, _ = _pile()
    english = profiles["telescope.en"]
    spanish = profiles["telescope.es"]
    # Two works that both look like the document and cannot be one work (both are Spanish).
    match = assign_work(english, [("a", spanish), ("b", spanish)])
    assert match.work_id is None
    assert match.confidence == match.runner_up_confidence > 0.35


def test_the_seeds_and_unrelated_works_are_grouped_as_written() -> None:
    profiles, gold = _pile()
    assert _partition(group_documents(profiles)) == _partition(gold)


def test_documents_in_the_same_language_are_never_one_work() -> None:
    profiles, _ = _pile()
    twins = {f"{doc_id}.copy": profile for doc_id, profile in profiles.items()}
    grouped = group_documents({**profiles, **twins})
    langs_of: defaultdict[str, list[str]] = defaultdict(list)
    for doc_id, work_id in grouped.items():
        langs_of[work_id] += sorted({**profiles, **twins}[doc_id].langs)
    assert all(len(langs) == len(set(langs)) for langs in langs_of.values())
    assert all(grouped[doc_id] != grouped[f"{doc_id}.copy"] for doc_id in profiles)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(sorted(_pile()[0])))
def test_placing_documents_one_at_a_time_in_any_order_gives_the_same_works(order: list[str]) -> None:
    profiles, gold = _pile()
    index = WorkIndex()
    for doc_id in order:
        index.place(doc_id, profiles[doc_id])
    assert _partition(index.assignments()) == _partition(gold)


def test_grouping_a_pile_does_not_depend_on_the_order_of_its_documents() -> None:
    profiles, _ = _pile()
    ids = sorted(profiles)
    expected = group_documents(profiles)
    for order in (ids[::-1], ids[1::2] + ids[::2]):
        assert group_documents({doc_id: profiles[doc_id] for doc_id in order}) == expected


def test_documents_of_undetermined_language_can_join_each_other() -> None:
    profiles, _ = _pile()
    undetermined = {doc_id: replace(profiles[doc_id], langs=frozenset({"und"}))
                    for doc_id in ("telescope.en", "telescope.es", "bridge.en")}
    index = WorkIndex()
    for doc_id, profile in undetermined.items():
        index.place(doc_id, profile)
    assert _partition(index.assignments()) == {frozenset({"telescope.en", "telescope.es"}), frozenset({"bridge.en"})}


def test_given_works_are_joined_but_never_merged() -> None:
    profiles, _ = _pile()
    index = WorkIndex()
    index.add("webb-en", "telescope.en", profiles["telescope.en"])
    index.add("webb-es", "telescope.es", profiles["telescope.es"])
    assert index.place("telescope.hi", profiles["telescope.hi"]) in {"webb-en", "webb-es"}
    assert len(index) == 2
    assert index.place("bridge.de", profiles["bridge.de"]) == "bridge.de"


# --- the benchmark -----------------------------------------------------------------------------------


def test_pairwise_scores_count_pairs_of_documents() -> None:
    gold = {"a": 1, "b": 1, "c": 1, "d": 2}
    scores = pairwise_scores(gold, {"a": "x", "b": "x", "c": "y", "d": "y"})
    assert scores == {"precision": 0.5, "recall": 1 / 3, "f1": 0.4, "false_merges": 1.0}


def test_a_generated_pile_of_similar_works_is_regrouped_without_false_merges() -> None:
    report = evaluate_grouping(n_works=12, seed=1, orders=2)
    assert report["canonical_false_merges"] == report["false_merges"] == 0
    assert report["canonical_f1"] >= 0.98
    assert report["min_f1"] >= 0.98


def test_merging_all_profiles_at_once_equals_merging_them_one_by_one() -> None:
    import functools

    from eval.grouping import generate_pile, profile_pile
    from tasks.grouping import merge_all_profiles, merge_profiles

    profiles = list(profile_pile(generate_pile(3, seed=7)).values())
    for k in range(1, len(profiles) + 1):
        assert merge_all_profiles(profiles[:k]) == functools.reduce(merge_profiles, profiles[:k])


# --- texts without numbers or names --------------------------------------------------------------------

DJANGO_PO = Path(__file__).resolve().parent / "data" / "django_po"


def test_texts_without_anchors_are_grouped_by_their_outline() -> None:
    """Two texts (Django's admin and auth strings, no digits) in nine languages with distinct tags: almost no
    anchor, so the outline (as many paragraphs, long where the others are long) has to group them."""
    profiles: dict[str, WorkProfile] = {}
    for folder in ("one_text", "other_text"):
        for lang in ("en", "es", "pt", "hi", "mr", "hr", "id", "zh_Hans", "zh_Hant"):
            text = (DJANGO_PO / folder / f"{lang}.txt").read_text(encoding="utf-8")
            tag = tag_language(text)
            profiles[f"{folder}/{lang}"] = profile_document(segment_text(text, tag.script), tag.lang)
    works: defaultdict[str, set[str]] = defaultdict(set)
    for doc_id, work in group_documents(profiles).items():
        works[work].add(doc_id.split("/")[0])
    assert sorted(map(sorted, works.values())) == [["one_text"], ["other_text"]]


def test_an_outline_alone_is_no_evidence_when_the_lengths_do_not_follow_each_other() -> None:
    text = (DJANGO_PO / "one_text" / "en.txt").read_text(encoding="utf-8")
    paragraphs = text.strip().split("\n\n")
    shuffled = "\n\n".join([paragraphs[0], *sorted(paragraphs[1:], key=len)])
    original = profile_document(segment_text(text), "en")
    assert similarity(original, replace(original, langs=frozenset({"fr"}))) >= DEFAULT_THRESHOLD
    assert similarity(original, profile_document(segment_text(shuffled), "fr")) < DEFAULT_THRESHOLD
