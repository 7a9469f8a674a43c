"""The knowledge loop through the console API: a reviewer proposes a question variant for a passage
(or flags one) from a knowledge gap or a thumbs-down, an admin approves or rejects, every step is in
the audit log, an approval reaches the assistant through the overlay file, and the approved variants
export as a patch that applies cleanly to the YAML passages and leaves them lint-clean.

Each test has its own copy of the knowledge base (the patch is applied to it) and its own overlay file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from console.app import create_app
from console.knowledge_patch import add_questions
from core.patient_ref import patient_reference
from core.settings import PROJECT_ROOT, Settings
from knowledge import overlay
from knowledge.lint import lint
from knowledge.passages import load_passages
from tests.console.conftest import Console

SENDER = "web-gap0000000000000001"
STRAWBERRY = "will i look like a strawberry"


def copy_knowledge(to: Path) -> Path:
    """A copy of the knowledge base (passages, translations, topics) under to/knowledge."""
    source = PROJECT_ROOT / "knowledge"
    for part in ("passages", "translations"):
        shutil.copytree(source / part, to / "knowledge" / part)
    shutil.copy(source / "topics.yml", to / "knowledge" / "topics.yml")
    return to / "knowledge"


@pytest.fixture()
def loop(db_url, tmp_path) -> Console:
    knowledge = copy_knowledge(tmp_path / "repo")
    settings = Settings(
        console_db_url=db_url,
        tracker_db_url=db_url,
        alerts_file=tmp_path / "alerts.jsonl",
        passages_dir=knowledge / "passages",
        topics_file=knowledge / "topics.yml",
        knowledge_overlay_file=tmp_path / "var" / "overlay.json",
        retention_interval_minutes=0,
    )
    return Console(TestClient(create_app(settings)), settings)


def as_(loop: Console, username: str) -> Console:
    """The same app, another logged-in browser."""
    other = Console(TestClient(loop.client.app), loop.settings)
    other.login(username)
    return other


def propose(console: Console, text: str = STRAWBERRY, passage_id: str = "side_effects-02", **more) -> dict:
    body = {"passage_id": passage_id, "text": text, "origin": "gap", "sender_id": SENDER, **more}
    response = console.client.post("/api/knowledge/proposals", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def decide(console: Console, proposal_id: int, verb: str = "approve", note: str = "") -> dict:
    response = console.client.post(f"/api/knowledge/proposals/{proposal_id}/{verb}", json={"note": note})
    assert response.status_code == 200, response.text
    return response.json()


def audit_rows(admin: Console, action: str) -> list[dict]:
    response = admin.client.get("/api/audit", params={"action": action})
    assert response.status_code == 200, response.text
    return response.json()["items"]


# ------------------------------------------------------------------------------------ the loop


def test_a_reviewer_proposes_an_admin_approves_and_the_assistant_gets_it(loop):
    rita, ada = as_(loop, "rita"), as_(loop, "ada")
    proposed = propose(rita)
    assert proposed["status"] == "pending" and proposed["kind"] == "variant"
    assert proposed["passage_title"] == "How long redness and swelling last"
    # where it came from is kept, as the patient reference only: never the sender id
    assert (proposed["origin"], proposed["origin_ref"]) == ("gap", patient_reference(SENDER))
    assert SENDER not in json.dumps(proposed)
    assert not loop.settings.knowledge_overlay_file.exists()  # nothing reaches the assistant before approval

    waiting = ada.client.get("/api/knowledge/proposals").json()
    assert [p["id"] for p in waiting] == [proposed["id"]]

    approved = decide(ada, proposed["id"], note="good wording")
    assert approved["status"] == "approved" and approved["decided_by"] == "ada"
    assert approved["decision_note"] == "good wording"
    assert approved["live"] is True and approved["in_yaml"] is False
    live = overlay.read(loop.settings.knowledge_overlay_file)
    assert live.version == 1
    assert live.variants == (overlay.OverlayVariant("side_effects-02", STRAWBERRY, proposed["id"]),)

    # one decision wins: a second one is refused, and the overlay is not written again
    again = ada.client.post(f"/api/knowledge/proposals/{proposed['id']}/reject", json={})
    assert again.status_code == 409 and "approved already by ada" in again.json()["detail"]
    assert overlay.read(loop.settings.knowledge_overlay_file).version == 1

    # a second approval: a new version holding both
    second = propose(rita, "can i fly on a plane the day after", "aftercare-04")
    decide(ada, second["id"])
    live = overlay.read(loop.settings.knowledge_overlay_file)
    assert live.version == 2 and [v.text for v in live.variants] == [STRAWBERRY, "can i fly on a plane the day after"]

    # everything is audited, with the passage as the target and no patient text or sender id
    (proposal_audit,) = [r for r in audit_rows(ada, "knowledge_propose") if json.loads(r["detail"])["proposal"] == 1]
    assert (proposal_audit["actor"], proposal_audit["target"]) == ("rita", "side_effects-02")
    approvals = audit_rows(ada, "knowledge_approve")
    assert [json.loads(r["detail"])["overlay_version"] for r in approvals] == [2, 1]
    assert all(SENDER not in json.dumps(r) and "strawberry" not in json.dumps(r) for r in approvals)


def test_reject_and_flag(loop):
    rita, ada = as_(loop, "rita"), as_(loop, "ada")
    proposed = propose(rita, "do i turn into a tomato", origin="thumbs_down")
    rejected = decide(ada, proposed["id"], "reject", note="too vague")
    assert (rejected["status"], rejected["decision_note"], rejected["live"]) == ("rejected", "too vague", False)
    assert not loop.settings.knowledge_overlay_file.exists()

    response = rita.client.post(
        "/api/knowledge/flags",
        json={
            "passage_id": "pain-01",
            "note": "Patients ask about\nnumbing cream  timing; not covered.",
            "origin": "thumbs_down",
        },
    )
    assert response.status_code == 201, response.text
    flag = response.json()
    assert (flag["kind"], flag["text"], flag["note"]) == (
        "flag",
        "",
        "Patients ask about numbing cream timing; not covered.",
    )
    assert flag["origin_ref"] is None
    assert decide(ada, flag["id"])["status"] == "approved"
    assert not loop.settings.knowledge_overlay_file.exists()  # a flag changes no answer

    assert [json.loads(r["detail"])["proposal"] for r in audit_rows(ada, "knowledge_reject")] == [proposed["id"]]
    assert [r["target"] for r in audit_rows(ada, "knowledge_flag")] == ["pain-01"]
    listed = {p["id"]: p["status"] for p in rita.client.get("/api/knowledge/proposals").json()}
    assert listed == {proposed["id"]: "rejected", flag["id"]: "approved"}
    assert rita.client.get("/api/knowledge/proposals", params={"status": "pending"}).json() == []


def test_roles(loop):
    rita, cleo, ada = as_(loop, "rita"), as_(loop, "cleo"), as_(loop, "ada")
    body = {"passage_id": "pain-01", "text": "does the gun hurt", "origin": "gap"}
    # clinicians read gaps and passages but do not propose
    assert cleo.client.get("/api/passages", params={"q": "hurt"}).status_code == 200
    assert cleo.client.post("/api/knowledge/proposals", json=body).status_code == 403
    assert cleo.client.post("/api/knowledge/flags", json={**body, "note": "missing"}).status_code == 403
    assert cleo.client.get("/api/knowledge/proposals").status_code == 403
    proposed = propose(rita, **body)
    # reviewers propose, only admins decide and export
    for verb in ("approve", "reject"):
        assert rita.client.post(f"/api/knowledge/proposals/{proposed['id']}/{verb}", json={}).status_code == 403
    assert rita.client.get("/api/knowledge/patch").status_code == 403
    # admins may propose too; unknown proposals are 404 and wrong ids 422, never 500
    assert (
        ada.client.post("/api/knowledge/proposals", json={**body, "text": "does the gun hurt a lot"}).status_code == 201
    )
    assert ada.client.post("/api/knowledge/proposals/999/approve", json={}).status_code == 404
    for bad in ("0", "-3", str(2**63), "abc"):
        assert ada.client.post(f"/api/knowledge/proposals/{bad}/approve", json={}).status_code == 422
    anonymous = TestClient(loop.client.app)
    assert anonymous.get("/api/knowledge/proposals").status_code == 401
    assert anonymous.get("/api/knowledge/patch").status_code == 401


def test_the_passage_picker_searches_titles(loop):
    rita = as_(loop, "rita")
    found = rita.client.get("/api/passages", params={"q": "Redness SWELLING"}).json()
    assert [p["id"] for p in found] == ["side_effects-02"]
    assert found[0]["title"] == "How long redness and swelling last" and found[0]["questions"] >= 8
    assert len(rita.client.get("/api/passages").json()) == len(load_passages(loop.settings.passages_dir))
    assert rita.client.get("/api/passages", params={"q": "\x00 zzz"}).json() == []


BAD_VARIANTS = [
    ("side_effects-02", "ok", "3 to 300 characters"),
    ("side_effects-02", "   \n\t  ", "3 to 300 characters"),
    ("side_effects-02", "x" * 301, "3 to 300 characters"),
    ("no_such-01", STRAWBERRY, "there is no passage"),
    ("side_effects-02", "call me on +44 7700 900123 about redness", "phone number"),
    ("side_effects-02", "mail rita@example.com about redness", "phone number, email"),
    ("side_effects-02", "क्या दर्द होता है", "Latin letters"),
    ("side_effects-02", "🙂🙂🙂", "Latin letters"),
    ("side_effects-02", "red \ufffd face", "could not be read"),
    ("side_effects-02", "red \ud800 face", "valid string"),  # a lone surrogate: refused by validation, not a 500
    ("pain-01", "Does it STING a lot?!", "the passage already has this question"),
    ("downtime-01", "does it sting a lot", "pain-01 already has this question"),
]


@pytest.mark.parametrize(("passage_id", "text", "why"), BAD_VARIANTS)
def test_bad_variants_are_refused_with_a_reason(loop, passage_id, text, why):
    rita = as_(loop, "rita")
    body = json.dumps({"passage_id": passage_id, "text": text, "origin": "gap"})  # \ud800 escaped, as JSON allows
    response = rita.client.post("/api/knowledge/proposals", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert why in json.dumps(response.json()["detail"])


def test_odd_bodies_get_422_not_500(loop):
    rita = as_(loop, "rita")
    propose(rita)
    duplicate = rita.client.post(
        "/api/knowledge/proposals",
        json={"passage_id": "side_effects-01", "text": "Will I look like a strawberry?", "origin": "gap"},
    )
    assert duplicate.status_code == 422 and "proposed already (#1, pending" in duplicate.json()["detail"]
    for body in (
        {},
        {"passage_id": "pain-01", "text": "does the gun hurt"},  # no origin
        {"passage_id": "pain-01", "text": "does the gun hurt", "origin": "email"},
        {"passage_id": ["pain-01"], "text": "does the gun hurt", "origin": "gap"},
        {"passage_id": "pain-01", "text": None, "origin": "gap"},
        {"passage_id": "pain-01", "text": "does the gun hurt", "origin": "gap", "sender_id": "x" * 256},
        {"passage_id": "x" * 65, "text": "does the gun hurt", "origin": "gap"},
    ):
        assert rita.client.post("/api/knowledge/proposals", json=body).status_code == 422, body
    for note in ("", "no", "x" * 1001):
        flag = {"passage_id": "pain-01", "note": note, "origin": "gap"}
        assert rita.client.post("/api/knowledge/flags", json=flag).status_code == 422, note
    # control characters and NUL are cleaned, not stored (PostgreSQL refuses NUL in text)
    cleaned = propose(rita, "does\x00the\x07gun   hurt", "pain-01")
    assert cleaned["text"] == "does the gun hurt"


def test_approving_a_variant_that_clashes_now_is_refused(loop):
    rita, ada = as_(loop, "rita"), as_(loop, "ada")
    proposed = propose(rita, STRAWBERRY)
    # meanwhile someone added the same question to another passage's YAML by hand
    path = loop.settings.passages_dir / "downtime" / "downtime-02.yml"
    path.write_text(add_questions(path.read_text(encoding="utf-8"), [STRAWBERRY]), encoding="utf-8")
    response = ada.client.post(f"/api/knowledge/proposals/{proposed['id']}/approve", json={})
    assert response.status_code == 409 and "downtime-02 already has this question" in response.json()["detail"]
    assert not loop.settings.knowledge_overlay_file.exists()
    assert decide(ada, proposed["id"], "reject")["status"] == "rejected"


# ------------------------------------------------------------------------------------ the patch

TRICKY = 'can i go out "normal" next day: yes/no? #asking \\ café'


def test_the_patch_applies_cleanly_and_the_knowledge_base_stays_lint_clean(loop, tmp_path):
    rita, ada = as_(loop, "rita"), as_(loop, "ada")
    wanted = {
        "side_effects-02": [STRAWBERRY, "- will the redness stay for a week?"],
        "aftercare-04": ["can i fly on a plane the day after"],
        "downtime-01": [TRICKY],
    }
    for passage_id, texts in wanted.items():
        for text in texts:
            decide(ada, propose(rita, text, passage_id)["id"])
    pending = propose(rita, "is a sauna ok the same evening", "aftercare-04")  # not approved: not in the patch
    rejected = propose(rita, "will i look like a tomato", "side_effects-02")
    decide(ada, rejected["id"], "reject")

    response = ada.client.get("/api/knowledge/patch")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/x-diff")
    assert response.headers["content-disposition"].startswith('attachment; filename="knowledge-variants-')
    patch = response.text
    assert "# 4 variant(s) for 3 passage(s)" in patch
    assert "+++ b/knowledge/passages/side_effects/side_effects-02.yml" in patch
    assert "sauna" not in patch and "tomato" not in patch
    assert json.loads(audit_rows(ada, "knowledge_patch")[0]["detail"])["variants"] == 4

    # applied to a copy of the knowledge base with git apply (and checked with patch(1) as well)
    copy = copy_knowledge(tmp_path / "copy")
    (tmp_path / "variants.patch").write_text(patch, encoding="utf-8")
    for check in (["git", "apply", "--check", "-v"], ["patch", "-p1", "--dry-run", "-i"]):
        done = subprocess.run(
            [*check, str(tmp_path / "variants.patch")], cwd=copy.parent, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        ["git", "apply", str(tmp_path / "variants.patch")], cwd=copy.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    issues = lint(copy / "passages", copy / "topics.yml", None, copy / "translations")
    assert [str(i) for i in issues if i.level == "error"] == []
    questions = {p.id: p.questions for p in load_passages(copy / "passages")}
    original = {p.id: p.questions for p in load_passages(loop.settings.passages_dir)}
    for passage_id, texts in wanted.items():
        assert questions[passage_id] == (*original[passage_id], *texts)
    changed = {pid for pid in questions if questions[pid] != original[pid]}
    assert changed == set(wanted)
    # only the questions changed: every other field parses as before
    for passage_id in wanted:
        topic = passage_id.split("-")[0]
        after = yaml.safe_load((copy / "passages" / topic / f"{passage_id}.yml").read_text(encoding="utf-8"))
        before = yaml.safe_load((loop.settings.passages_dir / topic / f"{passage_id}.yml").read_text(encoding="utf-8"))
        assert {k: v for k, v in after.items() if k != "questions"} == {
            k: v for k, v in before.items() if k != "questions"
        }

    # once it has landed in the console's own knowledge base, the variants are "in the YAML" and the
    # next patch holds nothing (the overlay's copies are now redundant)
    done = subprocess.run(
        ["git", "apply", str(tmp_path / "variants.patch")],
        cwd=loop.settings.passages_dir.parent.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "# 0 variant(s) for 0 passage(s)" in ada.client.get("/api/knowledge/patch").text
    approved = ada.client.get("/api/knowledge/proposals", params={"status": "approved"}).json()
    assert len(approved) == 4 and all(p["in_yaml"] and p["live"] for p in approved)
    # and the same question can no longer be proposed: it is a question of the passage now
    again = rita.client.post(
        "/api/knowledge/proposals",
        json={"passage_id": "aftercare-04", "text": "can i fly on a plane the day after", "origin": "gap"},
    )
    assert again.status_code == 422
    assert pending["status"] == "pending"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        # items indented, a comment and a blank line after the list
        (
            'id: x-01\nquestions:\n  - "a"\n  - b  # why\n\n# end of questions\nsources:\n  - s\n',
            'id: x-01\nquestions:\n  - "a"\n  - b  # why\n  - "new: one"\n\n# end of questions\nsources:\n  - s\n',
        ),
        # items at the start of the line, questions last, no newline at the end of the file
        ("id: x-01\nquestions:\n- a\n- b", 'id: x-01\nquestions:\n- a\n- b\n- "new: one"\n'),
        # a flow list
        (
            'id: x-01\nquestions: [a, "b"]\nsources: [s]\n',
            'id: x-01\nquestions:\n  - "a"\n  - "b"\n  - "new: one"\nsources: [s]\n',
        ),
        # no questions at all
        ("id: x-01\nsources: [s]\n", 'id: x-01\nsources: [s]\nquestions:\n  - "new: one"\n'),
    ],
)
def test_variants_are_added_in_the_files_own_style(original, expected):
    changed = add_questions(original, ["new: one"])
    assert changed == expected
    assert yaml.safe_load(changed)["questions"][-1] == "new: one"
