"""Staff replies and updates reaching the web widget (issue 15): the widget asks `GET history?after=<cursor>`
every 3 s while its panel is open. With nothing new the answer is only the cursor (one indexed count on
the server, not a read of the whole conversation); a staff reply stored since is in the next answer, with
the handoff state; a cursor the server does not hold (a reset, an erased conversation) reads it all.
Real servers (tests/e2e/conftest.py); across Rasa processes: tests/e2e/test_cluster.py."""

from __future__ import annotations

import pytest

from tests.e2e.webchat import WebChat

pytestmark = pytest.mark.e2e


def test_a_poll_with_nothing_new_is_only_the_cursor_and_a_staff_reply_comes_with_the_next(assistant):
    chat = WebChat.start(assistant.url)
    turn = chat.say("I would like to talk to a person please")
    cursor = turn["cursor"]
    assert turn["handoff"] is True
    assert cursor == assistant.event_count(chat.sender_id)

    assert chat.history(cursor) == {"messages": [], "cursor": cursor}
    assert chat.history(cursor) == {"messages": [], "cursor": cursor}  # polling changes nothing

    status, _ = assistant.staff_reply(chat.sender_id, "Hello, this is Dr Rao: how can I help?")
    assert status == 200
    update = chat.history(cursor)
    assert [m["text"] for m in update["messages"]] == ["Hello, this is Dr Rao: how can I help?"]
    assert update["cursor"] > cursor and update["handoff"] is True
    assert chat.history(update["cursor"]) == {"messages": [], "cursor": update["cursor"]}


def test_a_cursor_the_server_does_not_hold_reads_the_whole_conversation(assistant):
    chat = WebChat.start(assistant.url)
    turn = chat.say("does mesotherapy hurt")
    cursor = turn["cursor"]
    ahead = chat.history(cursor + 5)  # the widget holds a cursor from before a reset
    assert ahead["cursor"] == cursor and ahead["handoff"] is False
    first_read = chat.history(0)  # a reload
    assert first_read["cursor"] == cursor and "handoff" in first_read
    assert first_read["messages"][0]["role"] == "user"
