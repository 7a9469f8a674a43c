"""The load test of the assistant: patients writing on the REST channel and the web widget, and a few staff members
in the console, through the public port of the cluster (`make run-cluster`, docs/deploy.md). Run by
scripts/bench_cluster.py (`make bench-cluster`) in its own environment, .venv-load (`scripts/setup-env.sh load`),
or by hand against a running cluster:

    .venv-load/bin/locust -f scripts/load/locustfile.py --host http://127.0.0.1:8080 \\
        --headless -u 52 -r 5 -t 3m RestPatient WidgetPatient StaffUser
    # staff need an account: MESO_LOAD_STAFF_USER=... MESO_LOAD_STAFF_PASSWORD=... (python -m console create-user)

Users:
- RestPatient: one patient at a time, each a conversation of 3-15 messages on the REST channel (a new sender per
  conversation), thinking between messages (--think-time, 10 s on average: uniform between half and one and a
  half times it; the first message after a pause of up to that time, so that patients do not all start at once).
  Most messages are ordinary questions about mesotherapy; ~3 % of conversations ask for a person
  at some turn and ~1 % describe a warning sign (--handoff-share, --emergency-share); either ends the
  conversation, as the patient then waits for staff or calls. Every message but small talk is new to the
  servers, as a real patient's is (each gets a number of its own; --repeat-texts sends the lists word for word,
  which lets the action server answer from the embeddings it remembers).
- WidgetPatient: the same conversations through the widget's API: a session first, each message with the cursor
  of the last answer, and while thinking the history every 3 s for staff replies (the widget's open panel does).
- StaffUser (--staff-users of them, 2 by default): logged into the console, refreshing the handoff queue and its
  alert counts every 5 s, as the queue screen does, and now and then opening the transcript of a waiting patient
  and following it (its updates every 3 s) for a few rounds.

Every patient message is one request named "patient turn" (both channels): its response time is a turn as the
patient waits for it. A turn fails when the answer is not a 200, holds no reply text, has no reply metadata
(../shared/CONTRACT.md; REST only, the widget keeps it on the server), or when a warning sign did not get the
urgent reply (kind `emergency`). With --bare (a stock Rasa bot, no reply metadata) only a reply text is checked.

Only the standard library and Locust: this file runs in .venv-load, not in the project's environments.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from locust import HttpUser, constant, events, task

TURN = "patient turn"
REQUEST_TIMEOUT = 30.0
"""Seconds before a request counts as failed (the channels answer within the dialogue timeout, 8 s)."""
WIDGET_POLL_SECONDS = 3.0
"""The widget asks for new messages (staff replies) this often while its panel is open (widget/widget.js)."""
QUEUE_REFRESH_SECONDS = 5.0
"""The console's queue screen and its alerts refresh this often (console/static/js/handoffs.js, alerts.js)."""
TRANSCRIPT_POLL_SECONDS = 3.0
"""An open transcript asks for what is new this often (console/static/js/transcript.js)."""

# Ordinary questions a patient might ask before booking, written for this load test.
QUESTIONS = [
    "what is mesotherapy exactly?",
    "does mesotherapy hurt?",
    "how many sessions will I need?",
    "how long does a session take?",
    "how long do the results last?",
    "is there any downtime afterwards?",
    "how much does one session cost?",
    "can mesotherapy help with hair loss?",
    "does it work for cellulite on the thighs?",
    "can it reduce dark circles under my eyes?",
    "what is actually in the injections?",
    "how soon will I see a difference?",
    "can I wear make-up after a session?",
    "is it safe?",
    "what side effects are common?",
    "will I bruise afterwards?",
    "can I go to the gym the same day?",
    "how should I prepare for my first appointment?",
    "is it better than botox?",
    "what's the difference between mesotherapy and PRP?",
    "can men have it too?",
    "do you numb the skin first?",
    "how often should I come back for maintenance?",
    "does it help with acne scars?",
    "can it tighten loose skin on the neck?",
    "is it suitable for pigmentation?",
    "how long until I can wash my face?",
    "can I drink alcohol after the treatment?",
    "is it ok to go in the sun after a session?",
    "what happens during the first consultation?",
    "will my skin look swollen right after?",
    "does it help with a double chin?",
]
FOLLOW_UPS = [
    "how many sessions for that?",
    "and how much would that cost?",
    "how long would that take to work?",
    "what about PRP then?",
    "ok, and is there any downtime with that?",
    "does that hurt much?",
]
SMALL_TALK = ["hi", "hello there", "thanks!", "ok great, thank you", "are you a real person?"]
CLINIC = [
    "what are your opening hours?",
    "where is the clinic?",
    "can I book an appointment for next week?",
    "what's your phone number?",
]
HANDOFF = [
    "can I talk to a real person please?",
    "I'd like to speak to someone from the clinic",
    "please put me through to a nurse",
    "can a human call me back?",
]
WARNING_SIGNS = [
    "my lip has swollen up and I can't breathe properly",
    "since the injections an hour ago my throat feels tight and I'm wheezing",
    "the skin next to where they injected has gone white and blotchy and it really hurts",
    "I had meso yesterday and now the vision in one eye is blurry",
    "I had my session this morning and now my chest is tight and I feel faint",
]


# -- options ---------------------------------------------------------------------------------------


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument(
        "--think-time",
        type=float,
        default=10.0,
        env_var="MESO_LOAD_THINK_SECONDS",
        help="a patient's average pause between two messages, in seconds (default 10)",
    )
    parser.add_argument(
        "--handoff-share",
        type=float,
        default=0.03,
        env_var="MESO_LOAD_HANDOFF_SHARE",
        help="the share of conversations that ask for a person (default 0.03)",
    )
    parser.add_argument(
        "--emergency-share",
        type=float,
        default=0.01,
        env_var="MESO_LOAD_EMERGENCY_SHARE",
        help="the share of conversations that describe a warning sign (default 0.01)",
    )
    parser.add_argument(
        "--staff-users", type=int, default=2, env_var="MESO_LOAD_STAFF_USERS", help="staff in the console (default 2)"
    )
    parser.add_argument(
        "--repeat-texts",
        action="store_true",
        default=False,
        env_var="MESO_LOAD_REPEAT_TEXTS",
        help="send the lists' questions word for word (the servers then remember their embeddings); by default each "
        "question gets a number of its own, as every real patient's message is new",
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        default=False,
        env_var="MESO_LOAD_BARE",
        help="the target is a stock Rasa bot: no reply metadata, so only a reply text is checked",
    )


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None:
        StaffUser.fixed_count = max(0, int(options.staff_users))


def _options_of(user: HttpUser) -> Any:
    return user.environment.parsed_options


# -- conversations ---------------------------------------------------------------------------------


@dataclass
class Message:
    text: str
    warning_sign: bool = False


@dataclass
class Conversation:
    """One patient's messages, drawn when the conversation starts."""

    messages: list[Message] = field(default_factory=list)

    @classmethod
    def draw(
        cls, rng: random.Random, handoff_share: float, emergency_share: float, repeat_texts: bool = False
    ) -> Conversation:
        def new(text: str) -> str:
            # a real patient's every question is new to the servers: none of its embeddings is remembered
            return text if repeat_texts else f"{text} (question {rng.randrange(10**6)})"

        turns = rng.randint(3, 15)
        texts: list[Message] = []
        if rng.random() < 0.4:
            texts.append(Message(rng.choice(SMALL_TALK[:2])))
        while len(texts) < turns:
            pick = rng.random()
            if pick < 0.6 or not texts:
                texts.append(Message(new(rng.choice(QUESTIONS))))
            elif pick < 0.8:
                texts.append(Message(new(rng.choice(FOLLOW_UPS))))
            elif pick < 0.9:
                texts.append(Message(new(rng.choice(CLINIC))))
            else:
                texts.append(Message(rng.choice(SMALL_TALK)))
        special = rng.random()
        if special < emergency_share:
            at = rng.randint(1, turns - 1)
            texts = [*texts[:at], Message(new(rng.choice(WARNING_SIGNS)), warning_sign=True)]
        elif special < emergency_share + handoff_share:
            at = rng.randint(1, turns - 1)
            texts = [*texts[:at], Message(new(rng.choice(HANDOFF)))]
        return cls(texts)


def http_problem(response: Any) -> str:
    """A failed request's reason: its status, or the connection's error when there was no answer (status 0)."""
    if response.status_code:
        return f"HTTP {response.status_code}"
    error = getattr(response, "error", None)
    return f"no answer ({type(error).__name__ if error else 'connection'})"


def think(user: HttpUser) -> float:
    mean = float(_options_of(user).think_time)
    return random.uniform(0.5 * mean, 1.5 * mean)


class Patient(HttpUser):
    """One patient after another, each a conversation; a message per task, thinking in between."""

    abstract = True

    def on_start(self) -> None:
        self.rng = random.Random()
        self.conversation: Conversation | None = None
        self.turn = 0

    def first_pause(self) -> float:
        """Patients arrive at random moments, not all at once when a step starts its users."""
        return self.rng.uniform(0, float(_options_of(self).think_time))

    def next_message(self) -> tuple[Message, bool]:
        """The next message to send, and whether it opens a new conversation."""
        opens = self.conversation is None or self.turn >= len(self.conversation.messages)
        if opens:
            options = _options_of(self)
            self.conversation = Conversation.draw(
                self.rng, options.handoff_share, options.emergency_share, options.repeat_texts
            )
            self.turn = 0
        assert self.conversation is not None
        message = self.conversation.messages[self.turn]
        self.turn += 1
        return message, opens

    def check(self, message: Message, texts: list[str], kind: str | None, has_meta: bool) -> str | None:
        """Why the turn failed, or None."""
        if not texts:
            return "no reply text"
        if not any(t.strip() for t in texts):
            return "an empty reply"
        if _options_of(self).bare:
            return None
        if not has_meta:
            return "no reply metadata"
        if message.warning_sign and kind != "emergency":
            return f"a warning sign without the urgent reply (kind {kind})"
        return None


class RestPatient(Patient):
    """A patient on the REST channel (an integration that has collected consent)."""

    weight = 4
    wait_time = think

    def on_start(self) -> None:
        super().on_start()
        self.sender = ""
        time.sleep(self.first_pause())  # cooperative: Locust runs on gevent

    @task
    def say(self) -> None:
        message, opens = self.next_message()
        if opens:
            self.sender = f"load-{uuid.uuid4().hex[:16]}"
        body = {"sender": self.sender, "message": message.text, "metadata": {"consent": True}}
        with self.client.post(
            "/webhooks/rest/webhook", json=body, name=TURN, timeout=REQUEST_TIMEOUT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            try:
                replies = response.json()
            except ValueError:
                response.failure("not JSON")
                return
            if not isinstance(replies, list):
                response.failure("not a list of messages")
                return
            texts = [str(m["text"]) for m in replies if isinstance(m, dict) and m.get("text") is not None]
            metas = [
                m["custom"]["meta"]
                for m in replies
                if isinstance(m, dict)
                and isinstance(m.get("custom"), dict)
                and isinstance(m["custom"].get("meta"), dict)
            ]
            kind = metas[-1].get("kind") if metas else None
            problem = self.check(message, texts, kind, bool(metas))
            if problem:
                response.failure(problem)


class WidgetPatient(Patient):
    """A patient in the web widget: a session, messages with the cursor, the history every 3 s in between."""

    weight = 1
    wait_time = constant(WIDGET_POLL_SECONDS)

    def on_start(self) -> None:
        super().on_start()
        self.token = ""
        self.cursor = 0
        self.send_at = time.monotonic() + self.first_pause()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task
    def tick(self) -> None:
        if time.monotonic() >= self.send_at:
            self.say()
            self.send_at = time.monotonic() + think(self)
        elif self.token and self.cursor:
            self.poll()

    def start_session(self) -> bool:
        with self.client.post(
            "/webhooks/webchat/session",
            json={"consent": True},
            name="widget: session",
            timeout=REQUEST_TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(http_problem(response))
                return False
            self.token = str(response.json().get("session") or "")
            self.cursor = 0
            if not self.token:
                response.failure("no session token")
            return bool(self.token)

    def say(self) -> None:
        message, opens = self.next_message()
        if (opens or not self.token) and not self.start_session():
            self.conversation = None  # start again at the next message
            return
        body = {"message": message.text, "consent": True, "after": self.cursor}
        with self.client.post(
            "/webhooks/webchat/webhook",
            json=body,
            headers=self.auth,
            name=TURN,
            timeout=REQUEST_TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            try:
                turn = response.json()
            except ValueError:
                response.failure("not JSON")
                return
            self.cursor = int(turn.get("cursor") or self.cursor)
            texts = [str(m.get("text")) for m in turn.get("messages") or [] if m.get("role") == "bot" and m.get("text")]
            # the widget's turn carries the kind (emergency, handoff or null); the metadata stays on the server
            problem = self.check(message, texts, turn.get("kind"), has_meta=True)
            if problem:
                response.failure(problem)

    def poll(self) -> None:
        with self.client.get(
            f"/webhooks/webchat/history?after={self.cursor}",
            headers=self.auth,
            name="widget: poll",
            timeout=REQUEST_TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            self.cursor = max(self.cursor, int(response.json().get("cursor") or 0))


class StaffUser(HttpUser):
    """A clinician with the console open on the handoff queue, now and then reading a waiting patient's chat."""

    fixed_count = 2
    wait_time = constant(QUEUE_REFRESH_SECONDS)

    def on_start(self) -> None:
        self.alerts_cursor: int | None = None
        self.logged_in = False
        username, password = os.environ.get("MESO_LOAD_STAFF_USER"), os.environ.get("MESO_LOAD_STAFF_PASSWORD")
        if not username or not password:
            raise RuntimeError("StaffUser needs MESO_LOAD_STAFF_USER and MESO_LOAD_STAFF_PASSWORD (a console account)")
        with self.client.post(
            "/api/auth/login",
            json={"username": username, "password": password},
            name="staff: login",
            timeout=REQUEST_TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            self.client.headers["X-CSRF-Token"] = str(response.json().get("csrf_token") or "")
            self.logged_in = True

    @task
    def queue(self) -> None:
        if not self.logged_in:
            return
        params = {} if self.alerts_cursor is None else {"after": self.alerts_cursor}
        with self.client.get(
            "/api/handoffs/counts", params=params, name="staff: alerts", timeout=REQUEST_TIMEOUT, catch_response=True
        ) as response:
            if response.status_code == 200:
                self.alerts_cursor = int(response.json().get("cursor") or 0)
            else:
                response.failure(http_problem(response))
        with self.client.get(
            "/api/handoffs",
            params={"limit": 25},
            name="staff: handoff queue",
            timeout=REQUEST_TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            waiting = [str(i["sender_id"]) for i in response.json().get("items") or [] if i.get("sender_id")]
        if waiting and random.random() < 0.25:
            self.read_transcript(random.choice(waiting))

    def read_transcript(self, sender_id: str) -> None:
        with self.client.get(
            f"/api/conversations/{sender_id}", name="staff: transcript", timeout=REQUEST_TIMEOUT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(http_problem(response))
                return
            opened = response.json()
        view, cursor = opened.get("view"), int(opened.get("cursor") or 0)
        if not view:
            return
        for _ in range(3):
            time.sleep(TRANSCRIPT_POLL_SECONDS)  # cooperative: Locust runs on gevent
            with self.client.get(
                f"/api/conversations/{sender_id}/updates",
                params={"view": view, "after": cursor},
                name="staff: transcript update",
                timeout=REQUEST_TIMEOUT,
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(http_problem(response))
                    return
                cursor = max(cursor, int(response.json().get("cursor") or 0))
