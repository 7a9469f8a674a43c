"""An event's class found by its type name with one dictionary lookup, not a walk over every event class.

Rasa 3.6 turns each stored event back into an object with `Event.resolve_by_type(type_name)`, which walks
every subclass of `Event` (about 26, each checked with `inspect.isabstract`) until one has that type name:
reading a conversation of 52 events from PostgreSQL took about 10 ms, 4 of them in that walk
(docs/benchmarks.md, "Where Rasa's CPU goes in a turn"), and the walk runs again for every event the action
server sends back. `install()` puts a lookup in front of Rasa's own function: a type name seen once is
answered from a dictionary with the class Rasa's walk found for it; anything else (an unknown name, Rasa's
`default`, the old "topic" event) still goes through Rasa's function, so the same names resolve to the same
classes and the same unknown names fail with the same error. `bot.rasa_run` installs it before Rasa starts
(`make run`, `make run-cluster`).

Runs inside the Rasa server (Python 3.10 environment).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.shared.core.events import Event

log = logging.getLogger(__name__)
T = TypeVar("T")

_shipped: Any = Event.resolve_by_type
"""Rasa's own `Event.resolve_by_type` (a static method), kept for the names the lookup does not hold."""
_classes: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type`, answered from a dictionary for every name Rasa resolved before."""
    found = _classes.get(type_name)
    if found is not None:
        return found
    found = _shipped(type_name, default)
    # only a class Rasa found by this very name is remembered (not `default`, not the "topic" None)
    if found is not None and getattr(found, "type_name", None) == type_name:
        _classes[type_name] = found
    return found


def timed_both(measure: Callable[[], T]) -> tuple[T, T]:
    """`measure()` with Rasa's own walk, then with the lookup (scripts/turn_cost_probe.py); installed after."""
    Event.resolve_by_type = staticmethod(_shipped)  # type: ignore[assignment]
    shipped = measure()
    install()
    return shipped, measure()


def install() -> None:
    """Makes `Event.resolve_by_type` use the lookup (idempotent)."""
    if Event.__dict__["resolve_by_type"].__func__ is not resolve_by_type:
        Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
        log.debug("event classes are found by type name with a dictionary")
