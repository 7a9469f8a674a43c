"""Retrieval on the real index: the right topic for paraphrases patients type, abstention
for questions the knowledge base does not cover, and clean results for odd input."""

from __future__ import annotations

import pytest

from knowledge.results import Result

pytestmark = pytest.mark.slow

# Paraphrases written for this test: not passage variants, not evaluation questions.
PARAPHRASES = {
    "downtime": [
        "will i need to take leave from office after the injections",
        "can i go straight back to my job afterwards",
        "how soon can I get back to normal routine",
    ],
    "pain": [
        "is the needle going to be very painful",
        "how much does meso therapy sting",
        "injection lagwate waqt dard zyada hota hai?",
    ],
    "results_timeline": [
        "after how many weeks will i notice a difference",
        "when will my skin start looking better",
        "result dikhne mein kitna time lagta hai",
    ],
    "cost": [
        "what are your charges for mesotherapy",
        "how much money for one meso session",
        "meso therapy ka rate kya hai",
    ],
    "compare_botox": [
        "should i choose botox or mesotherapy",
        "is meso same as botox injections",
        "difference between botox and meso",
    ],
    "compare_microneedling": [
        "microneedling or meso which one is better for my skin",
        "is mesotherapy the same thing as microneedling",
        "difference between dermapen microneedling and meso",
    ],
    "compare_liposuction": [
        "mesotherapy instead of lipo surgery",
        "is liposuction better than meso for belly fat",
        "lipo vs meso which is less risky",
    ],
}

OUT_OF_SCOPE = [
    "who is the prime minister",
    "how much is a nose job",
    "what is the weather in delhi",
    "book me a flight to dubai",
    "do you sell phone chargers",
    "best pizza place near me",
]


# Hinglish phrased around an English-only embedding model: "meso therapy ... kya hai" pulls
# the query toward "what is mesotherapy". Measured in docs/benchmarks.md; the fine-tuned
# model (python -m knowledge finetune) gets it right.
KNOWN_WEAK = {"meso therapy ka rate kya hai"}


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        pytest.param(t, q, marks=pytest.mark.xfail(reason="known weakness, see KNOWN_WEAK", strict=False))
        if q in KNOWN_WEAK
        else (t, q)
        for t, qs in PARAPHRASES.items()
        for q in qs
    ],
)
def test_paraphrase_finds_its_topic(retriever, topic: str, text: str) -> None:
    result = retriever.search(text)
    assert result.topics[0] == topic, (result.decision, result.topics[:3])
    assert result.decision in ("answer", "unsure")
    if result.decision == "unsure":
        assert topic in result.candidates


def test_most_paraphrases_are_answered_outright(retriever) -> None:
    results = [(t, retriever.search(q)) for t, qs in PARAPHRASES.items() for q in qs]
    answered = sum(r.decision == "answer" and r.topics[0] == t for t, r in results)
    assert answered >= 0.8 * len(results)


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_question_is_not_answered(retriever, text: str) -> None:
    result = retriever.search(text)
    assert result.decision in ("out_of_scope", "unsure"), (result.topics[:3], result.confidence)


def test_answer_carries_passage_and_calibrated_confidence(retriever) -> None:
    result = retriever.search("does mesotherapy hurt a lot")
    assert result.decision == "answer"
    assert result.top is not None and result.top.passage_id.startswith("pain-")
    assert 0.5 <= result.confidence <= 1.0
    assert result.hits == tuple(sorted(result.hits, key=lambda h: -h.score))


def test_unsure_offers_candidates(retriever) -> None:
    result = retriever.search("sessions")
    assert result.decision in ("unsure", "answer")
    if result.decision == "unsure":
        assert 1 <= len(result.candidates) <= 3


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀🙏",
        "?!?!...",
        "दर्द होता है क्या",
        "美容注射は痛いですか",
        "a" * 10_000,
        "does it hurt " * 800,
        "\x00\x01 mesotherapy \ufffd",
    ],
    ids=["empty", "whitespace", "emoji", "punctuation", "devanagari", "japanese", "10k-a", "10k-words", "control"],
)
def test_odd_input_gives_a_clean_result(retriever, text: str) -> None:
    result = retriever.search(text)
    assert isinstance(result, Result)
    assert result.decision in ("answer", "unsure", "out_of_scope", "empty")
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.query) <= 1000


def test_blank_and_emoji_only_are_empty(retriever) -> None:
    for text in ("", "   ", "🙂🙂"):
        assert retriever.search(text).decision == "empty"


def test_long_repeated_question_still_answers(retriever) -> None:
    assert retriever.search("does it hurt " * 800).topics[0] == "pain"
