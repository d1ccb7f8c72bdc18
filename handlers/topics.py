"""Where a feature's follow-ups go in a forum supergroup.

A row remembers the topic it was created in (``thread_id``, migrations 0022 and 0023). What it
posts later without an update to answer — a reminder, a closing, a status told in the group —
goes there, also once its card was deleted (a reply to the card no longer carries the topic)
and after a restart. A topic closed or deleted meanwhile gets the message in General, starting
the first time with the translated note (bot/outbox.py)."""

from __future__ import annotations

from typing import Any

from bot.i18n import t


def topic(lang: str, thread_id: int | None) -> dict[str, Any]:
    """The outbox's ``thread_id`` and ``moved_note`` for a message to a row's topic, in the
    group's language ``lang`` (``thread_id`` None: General, nothing to say)."""
    return {
        "thread_id": thread_id,
        "moved_note": t(lang, "topic.moved_to_general") if thread_id is not None else None,
    }
