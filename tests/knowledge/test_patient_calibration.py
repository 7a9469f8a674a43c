"""The search confidence is calibrated on patients' own words too: the training split of the labelled
patient messages (understanding/corpus/train), never the held-out split. Changing those messages makes the
index stale; a bad line never stops a build."""

from __future__ import annotations

import json
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings
from knowledge.index import Sources, patient_probes


def write(folder: Path, *items: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "answer.jsonl"
    path.write_text("\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


def message(text: str, route: str = "answer", lang: str = "en", topics=("pain",), after=None) -> dict:
    return {"id": text[:8], "text": text, "route": route, "topics": list(topics), "lang": lang, "after": after}


def test_first_messages_in_english_and_hinglish_are_probes_and_others_are_not(tmp_path):
    write(
        tmp_path,
        message("does it hurt a lot"),
        message("kitna dard hota hai", lang="hinglish"),
        message("क्या दर्द होता है", lang="hi"),  # the Hindi path, not this index
        message("and after that?", after="x1"),  # a follow-up needs its context
        message("best pizza near me", route="out_of_scope", topics=()),
        message("thanks a lot", route="smalltalk", topics=()),  # routed before retrieval
        message("I take warfarin, can I?", route="medical"),
        "{not json",
        '"a string"',
    )
    probes = patient_probes(tmp_path)
    assert [(p.text, p.topics) for p in probes] == [
        ("does it hurt a lot", ("pain",)),
        ("kitna dard hota hai", ("pain",)),
        ("best pizza near me", ()),
    ]


def test_no_folder_means_no_probes(tmp_path):
    assert patient_probes(None) == [] and patient_probes(tmp_path / "missing") == []


def test_the_index_uses_the_training_split_only_and_goes_stale_when_it_changes(tmp_path):
    settings = Settings()
    assert settings.calibration_messages_dir == PROJECT_ROOT / "understanding" / "corpus" / "train"
    folder = tmp_path / "train"
    write(folder, message("does it hurt a lot"))
    sources = Sources(settings.passages_dir, settings.calibration_file, tmp_path, patient_messages_dir=folder)
    before = sources.fingerprint()
    write(folder, message("does it hurt a lot"), message("is it painful"))
    assert sources.fingerprint() != before
