"""The knowledge base's contract with the shared material: same topic ids, every passage
sourced from a real seed, and no evaluation question copied into the training data."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from core.settings import Settings
from knowledge.passages import load_passages
from knowledge.taxonomy import load_topics
from knowledge.text import normalize

SETTINGS = Settings()


def test_vendored_topics_match_the_shared_taxonomy(shared_dir: Path) -> None:
    shared = yaml.safe_load((shared_dir / "eval" / "topics.yml").read_text())["topics"]
    assert [t["id"] for t in shared] == list(load_topics(SETTINGS.topics_file))


def test_every_source_is_a_seed_article(shared_dir: Path) -> None:
    seeds = {p.name for p in (shared_dir / "seeds").iterdir()}
    for passage in load_passages(SETTINGS.passages_dir):
        assert set(passage.sources) <= seeds, passage.id


def test_no_evaluation_question_is_copied_into_the_knowledge_base(shared_dir: Path) -> None:
    ours = {normalize(q) for p in load_passages(SETTINGS.passages_dir) for q in p.questions}
    anchors = yaml.safe_load(SETTINGS.calibration_file.read_text())
    ours |= {normalize(q) for group in anchors.values() for q in group}
    for path in (shared_dir / "eval").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            for turn in json.loads(line)["turns"] if line.strip() else []:
                assert normalize(turn["text"]) not in ours, f"copied from {path.name}: {turn['text']!r}"


def test_every_topic_has_a_general_first_passage() -> None:
    ids = {p.id for p in load_passages(SETTINGS.passages_dir)}
    for topic in load_topics(SETTINGS.topics_file):
        assert f"{topic}-01" in ids


def test_follow_up_fields_of_the_taxonomy_name_real_tags() -> None:
    """`subject:` in topics.yml is the tag a follow-up looks for among passages ("how many sessions
    for that?" after pigmentation), so a subject no passage carries would quietly do nothing."""
    topics = load_topics(SETTINGS.topics_file)
    tags = {tag for p in load_passages(SETTINGS.passages_dir) for tag in p.tags}
    subjects = {t.subject for t in topics.values() if t.subject}
    assert subjects and subjects <= tags, subjects - tags
    comparisons = [t.id for t in topics.values() if t.comparison]
    assert "compare_botox" in comparisons and "pain" not in comparisons


def _stated_as_fact(text: str, claim: str) -> bool:
    """The claim appears without being negated ("not guaranteed") or attributed ("some clinics claim")."""
    start = text.find(claim)
    while start != -1:
        before = text[max(0, start - 20) : start]
        if not any(w in before for w in ("not ", "never ", "n't ", "no ")):
            return not any(w in text for w in ("claim", "sales", "some clinics", "advert", "promis"))
        start = text.find(claim, start + 1)
    return False


def test_no_sales_claim_is_stated_as_fact() -> None:
    claims = [
        "results are permanent",
        "completely painless",
        "safe for everyone",
        "safe for all skin types",
        "no side effects",
        "guaranteed",
    ]
    for passage in load_passages(SETTINGS.passages_dir):
        for claim in claims:
            assert not _stated_as_fact(passage.answer.lower(), claim), (passage.id, claim)
