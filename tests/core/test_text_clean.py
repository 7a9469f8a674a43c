"""Text cleaning at the boundary (core/text_clean.py), and the pieces that store or forward text
accepting any Python str: the staff alerts file and webhook, the staff reply to Rasa."""

from __future__ import annotations

import ast
import json
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from core import rasa_api
from core.alerts import StaffAlerts
from core.settings import PROJECT_ROOT, Settings
from core.text_clean import MAX_DEPTH, clean_text, clean_value, is_clean
from tests.loopback import LoopbackServer
from tests.rasa_env import run_in_rasa

MODULE = PROJECT_ROOT / "core" / "text_clean.py"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("\ud800", "\ufffd"),  # a lone high surrogate
        ("a\udfffb", "a\ufffdb"),  # a lone low surrogate between letters
        ("\x00", " "),  # NUL
        ("\ufffe", "\ufffd"),  # a noncharacter
        ("\uffff", "\ufffd"),
        ("\ufdd0", "\ufffd"),
        ("\U0010ffff", "\ufffd"),
        ("I can't breathe\ud800", "I can't breathe\ufffd"),
        ("\udfff\ud800", "\ufffd\ufffd"),  # low then high: not a pair
        ("\ud83d\ude00", "😀"),  # a pair that was never joined becomes its code point
        ("x\x01y\x1fz\x7f\x85\x9f", "x y z   "),  # C0, DEL, C1
    ],
)
def test_unstorable_code_points_are_replaced(given, expected):
    assert clean_text(given) == expected
    assert not is_clean(given)
    clean_text(given).encode("utf-8")  # strict: no error


@pytest.mark.parametrize(
    "text",
    [
        "😀👍🏽👨‍👩‍👧 🇮🇳",  # emoji, a skin tone, a ZWJ family, a flag
        "नमस्ते, क्या इससे दर्द होता है?",  # Devanagari with combining vowel signs
        "e\u0301 ñ ü 日本語 עברית العربية",
        "line one\nline two\r\n\tindented",
        "\ufffd already replaced, \u200b zero width, \ue000 private use",
        "\U0001fae8",  # an emoji newer than Python 3.10's Unicode database: kept
        "",
    ],
)
def test_text_people_write_is_kept_as_it_is(text):
    assert clean_text(text) == text
    assert is_clean(text)


def test_ten_thousand_characters_of_mixed_text():
    unit = "ok😀\ud800नम\x00\ufffe"
    text = unit * (10_000 // len(unit))
    assert len(text) == 10_000
    cleaned = clean_text(text)
    assert cleaned == "ok😀\ufffdनम \ufffd" * (10_000 // len(unit))
    assert len(cleaned) == 10_000
    plain = "a" * 10_000
    assert clean_text(plain) is plain  # nothing to do: the same object, no copy


def test_every_code_point_is_kept_or_replaced_by_its_rule():
    """The whole code space, one code point at a time, against Unicode's own categories."""
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            expected = " "
        elif unicodedata.category(char) == "Cs" or 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
            expected = "\ufffd"
        else:
            expected = char
        assert clean_text(char) == expected, hex(code)


def test_cleaning_is_linear_time():
    """Inputs that would make a careless implementation quadratic (a million lone high surrogates,
    which could each start a pair) finish in well under the time a quadratic one would need."""
    for text in ("\ud800" * 1_000_000, "\ud800\udc00" * 500_000, "a\x00" * 500_000):
        started = time.perf_counter()
        cleaned = clean_text(text)
        assert time.perf_counter() - started < 5
        cleaned.encode("utf-8")


def test_json_like_values_are_cleaned_throughout():
    value = {
        "k\ud800": ["\x00", 1, 2.5, float("nan"), float("inf"), True, None, ("t\udfff",)],
        "nested": {"deep": "\ufffe"},
    }
    assert clean_value(value) == {
        "k\ufffd": [" ", 1, 2.5, None, None, True, None, ["t\ufffd"]],
        "nested": {"deep": "\ufffd"},
    }
    json.dumps(clean_value(value), allow_nan=False).encode("utf-8")
    deep: list[object] = []
    current = deep
    for _ in range(MAX_DEPTH + 10):
        current.append([])
        current = current[0]  # type: ignore[assignment]
    json.dumps(clean_value(deep))  # cut at MAX_DEPTH, no RecursionError


def test_the_module_uses_the_standard_library_only():
    """The Rasa environment (Python 3.10) imports it from every channel."""
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)
    assert ast.parse((PROJECT_ROOT / "core" / "__init__.py").read_text()).body[1:] == []  # a docstring only


def test_the_rasa_environment_imports_it():
    done = run_in_rasa("from core.text_clean import clean_text; print(ascii(clean_text('a\\ud800\\x00')))")
    assert done.stdout.strip() == "'a\\ufffd '"


# ---------------------------------------------------------------- what stores or forwards text


class Recorder:
    """A loopback HTTP endpoint that keeps the raw bodies it receives and answers `reply`."""

    def __init__(self, reply: bytes = b"{}") -> None:
        self.bodies: list[bytes] = []
        self.received = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                recorder.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(reply)
                recorder.received.set()

        self.server = LoopbackServer(Handler)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()


@pytest.fixture()
def recorder() -> Iterator[Recorder]:
    fake = Recorder()
    yield fake
    fake.close()


def test_an_emergency_alert_with_a_lone_surrogate_is_written_and_posted(tmp_path: Path, recorder: Recorder):
    alerts = StaffAlerts(tmp_path / "alerts.jsonl", recorder.url + "/hook")
    alert = alerts.send("emergency", "web-x\ud800", "webchat", "I can't breathe\ud800\x00", "warning_sign:\udfff")
    assert alert.sender_id == "web-x\ufffd"
    (line,) = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    written = json.loads(line)
    assert written["kind"] == "emergency" and "breathe" not in line  # no patient text (core/alerts.py)
    assert written["sender_id"] == "web-x\ufffd" and written["reason"] == "warning_sign:\ufffd"
    assert recorder.received.wait(10)
    posted = json.loads(recorder.bodies[0].decode("utf-8"))  # strict UTF-8
    assert posted == written


def test_a_staff_reply_with_a_lone_surrogate_reaches_rasa_as_clean_utf8(recorder: Recorder):
    settings = Settings(rasa_url=recorder.url, rasa_token="t" * 24)
    delivery = rasa_api.staff_reply("web-abc", "Call us\ud800 now\x00", "dr\udfff", settings)
    assert delivery.via == ""  # the recorder answers {}
    body = json.loads(recorder.bodies[0].decode("utf-8"))
    assert body == {"sender_id": "web-abc", "text": "Call us\ufffd now ", "author": "dr\ufffd"}


def test_a_sender_id_no_conversation_can_have_is_refused_without_a_request(recorder: Recorder):
    settings = Settings(rasa_url=recorder.url, rasa_token="t" * 24)
    for call in (
        lambda: rasa_api.staff_reply("web-\ud800", "hi", "dr", settings),
        lambda: rasa_api.hand_back("web-\ud800", settings),
    ):
        with pytest.raises(rasa_api.RasaApiError) as raised:
            call()
        assert raised.value.status == 404
    assert recorder.bodies == []


def test_an_answer_from_rasa_that_is_not_json_is_a_clear_error():
    fake = Recorder(reply=b"<html>proxy error</html>")
    try:
        with pytest.raises(rasa_api.RasaApiError, match="not JSON"):
            rasa_api.staff_reply("web-abc", "hi", "dr", Settings(rasa_url=fake.url, rasa_token="t" * 24))
    finally:
        fake.close()
