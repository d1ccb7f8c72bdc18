"""Privacy over every table: what we hold about a person (/mydata), forgetting them
(/forgetme), purging a group (/purge) and the retention purge of old, finished things.

:data:`PERSONAL` names every column that holds a Telegram user id or a person's name. A test
reads the schema and fails when a migration adds such a column that is not listed here, so a new
feature cannot be forgotten by /mydata and /forgetme.

Forgetting, table by table (see /work/notes or the README for the reasons):

* removed: the person's member rows, unit claims, votes in public polls (open and closed), event
  sign-ups, roster slots, their own listings (items, skills, needs, with their requests and loan
  history), their requests for others' items, orders in open group buys, chain lines, reminders
  they created, and their private chat with its settings and personal reminders;
* kept without the person (user id replaced by a placeholder that links to nobody, name by
  "former resident" / "a lead" in the group's language): ballots of formal decisions (the unit
  voted; a paper ballot they recorded says "a lead"), the audit lines, loans of others' items
  they borrowed, orders in closed group buys (the organizer's accounts), and everything they
  created for the group (polls, decisions, events, rosters, group buys, chains, announcements);
* untouched because it is not linkable: anonymous-poll rows (an HMAC under a per-poll key
  kept outside the database, deleted at closing with the key).

Afterwards :func:`scrub` rebuilds the search index and truncates the write-ahead log, so that
no byte of the database files holds the person.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import aiosqlite

from storage.db import Database, to_db

#: Every column holding a person's Telegram user id ("id") or name ("name"), per table.
#: ``voter`` is "id or hmac": the user id as text in public polls, an HMAC in anonymous ones.
PERSONAL: Final[dict[str, dict[str, str]]] = {
    "members": {"user_id": "id", "display_name": "name"},
    "start_links": {"user_id": "id"},
    "unit_members": {"user_id": "id", "decided_by": "id"},
    "unit_requests": {"user_id": "id", "decided_by": "id"},
    "polls": {"creator_id": "id", "closed_by": "id"},
    "poll_votes": {"voter": "id or hmac", "user_id": "id"},
    "decisions": {
        "creator_id": "id",
        "creator_name": "name",
        "closed_by": "name",
        "closed_by_id": "id",
    },
    "decision_ballots": {"by_id": "id", "by_name": "name"},
    "decision_audit": {"by_id": "id", "by_name": "name"},
    "events": {"creator_id": "id", "creator_name": "name"},
    "event_signups": {"user_id": "id", "name": "name"},
    "rosters": {"creator_id": "id", "creator_name": "name"},
    "roster_volunteers": {"user_id": "id", "name": "name"},
    "items": {"owner_id": "id", "owner_name": "name"},
    "item_requests": {"user_id": "id", "user_name": "name"},
    "loans": {"borrower_id": "id", "borrower_name": "name"},
    "groupbuys": {"organizer_id": "id", "organizer_name": "name"},
    "groupbuy_orders": {"user_id": "id", "user_name": "name"},
    "chains": {"creator_id": "id", "creator_name": "name"},
    "chain_lines": {"user_id": "id", "user_name": "name"},
    "posts": {"creator_id": "id", "creator_name": "name"},
    "prompts": {"author_id": "id", "member_id": "id"},
    "rules_versions": {"creator_id": "id", "creator_name": "name"},
    "rules_amendments": {
        "author_id": "id",
        "author_name": "name",
        "decided_by": "name",
        "decided_by_id": "id",
    },
    "rules_supports": {"user_id": "id"},
    "rollcalls": {"creator_id": "id", "creator_name": "name"},
    "reports": {"reporter_id": "id", "reporter_name": "name"},
    "report_log": {"by_id": "id", "by_name": "name"},
    "report_metoo": {"user_id": "id"},
    "report_copies": {"user_id": "id"},
    "report_handlers": {"user_id": "id", "name": "name"},
    "notices": {"author_id": "id", "author_name": "name"},
    "notice_confirms": {"user_id": "id"},
    "rollcall_answers": {"user_id": "id", "name": "name"},
    "rollcall_helpers": {"user_id": "id"},
    "check_on_me": {"user_id": "id"},
    "volunteer_hours": {"user_id": "id"},
    "volunteer_prefs": {"user_id": "id"},
    "proposals": {"author_id": "id"},
    "proposal_followers": {"user_id": "id"},
    "proposal_statements": {"author_id": "id"},
    "proposal_minutes": {"by_id": "id"},
    "proposal_progress": {"by_id": "id"},
    "meetings": {
        "creator_id": "id",
        "creator_name": "name",
        "closed_by": "name",
        "closed_by_id": "id",
    },
    "meeting_answers": {"by_id": "id", "by_name": "name"},
    # a private chat's id is its user's id
    "chats": {"id": "id (private chats)"},
}

#: The user id written where a row must stay but the person must go. Telegram user ids are
#: positive; 0 is nobody. Where the user id is part of a unique key, ``-row id`` is used.
NOBODY: Final[int] = 0

#: Retention purge: the scheduled kind (one pending row per group, daily).
RETENTION_KIND: Final[str] = "retention_purge"


@dataclass(frozen=True, slots=True)
class Placeholders:
    """What stands in for a forgotten person, in one group's language."""

    former: str  # "former resident"
    lead: str  # "a lead" (a paper ballot they recorded)


@dataclass(slots=True)
class Forgotten:
    """What /forgetme changed, for the handler to finish after the commit."""

    removed: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    disarm: list[int] = field(default_factory=list)
    delete_cards: list[tuple[int, int]] = field(default_factory=list)  # (chat id, message id)
    polls: set[int] = field(default_factory=set)  # open polls whose card changes
    rosters: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)
    groupbuys: set[int] = field(default_factory=set)
    chains: set[int] = field(default_factory=set)
    rules_amendments: set[int] = field(default_factory=set)  # amendment cards naming them
    rollcalls: set[int] = field(default_factory=set)  # roll-call cards that listed them
    reports: set[int] = field(default_factory=set)  # report cards that named or counted them
    notices: set[int] = field(default_factory=set)  # notice cards that named or counted them
    events: set[int] = field(default_factory=set)  # cards that showed their name as creator
    decisions: set[int] = field(default_factory=set)  # cards that named them as closing it
    cards_edited: int = 0  # own listings' cards too old to delete, edited to drop the name
    cards_stuck: int = 0  # ... that Telegram would neither delete nor edit

    @property
    def total(self) -> int:
        return sum(self.removed.values()) + sum(self.anonymised.values())


# --- /mydata ----------------------------------------------------------------------------------


async def _rows(db: Database, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetchall(sql, params)]


async def collect(db: Database, user_id: int) -> dict[str, Any]:
    """Every stored row about ``user_id`` across all chats, as plain JSON-ready data.

    Secret decisions: only that a ballot exists, never its choice or note. Anonymous polls: not
    looked up (their rows are keyed by an HMAC, not by the user id)."""
    u = (user_id,)
    g = "(SELECT title FROM chats c WHERE c.id = t.chat_id) AS grp"
    data: dict[str, Any] = {}
    data["private_chat"] = await _rows(
        db,
        "SELECT language, timezone, settings, joined_at FROM chats"
        " WHERE id = ? AND type = 'private'",
        u,
    )
    data["memberships"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.display_name, t.role, t.status FROM members t"
        " WHERE t.user_id = ?",
        u,
    )
    data["unit_claims"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, u.label AS unit, t.status, t.requested_at"
        " FROM unit_members t JOIN units u ON u.id = t.unit_id WHERE t.user_id = ?",
        u,
    )
    data["unit_requests"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.label AS unit, t.status, t.requested_at"
        " FROM unit_requests t WHERE t.user_id = ?",
        u,
    )
    votes = await _rows(
        db,
        f"SELECT t.chat_id, {g}, p.id AS poll, p.question, p.options, p.status, t.choices,"
        " t.voted_at FROM poll_votes t JOIN polls p ON p.id = t.poll_id"
        " WHERE t.user_id = ? AND p.anonymous = 0",
        u,
    )
    for v in votes:
        options = json.loads(v.pop("options"))
        mask = v.pop("choices")
        v["chosen"] = [o for i, o in enumerate(options) if mask >> i & 1]
    data["poll_votes"] = votes
    data["polls_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS poll, t.question, t.status, t.created_at"
        " FROM polls t WHERE t.creator_id = ?",
        u,
    )
    ballots = await _rows(
        db,
        f"SELECT t.chat_id, {g}, d.id AS decision, d.title, d.secret, d.status, t.label AS unit,"
        " t.choice, t.paper, t.note, t.cast_at FROM decision_ballots t"
        " JOIN decisions d ON d.id = t.decision_id WHERE t.by_id = ?",
        u,
    )
    for b in ballots:
        b["secret"] = bool(b["secret"])
        b["paper"] = bool(b["paper"])
        if b["secret"]:
            b["choice"] = None  # never shown, not even to the voter
            b["note"] = None
    data["decision_ballots"] = ballots
    audit = await _rows(
        db,
        f"SELECT t.chat_id, {g}, d.id AS decision, d.secret, t.label AS unit, t.choice, t.paper,"
        " t.at FROM decision_audit t JOIN decisions d ON d.id = t.decision_id WHERE t.by_id = ?",
        u,
    )
    for a in audit:
        a["secret"] = bool(a["secret"])
        a["paper"] = bool(a["paper"])
        if a["secret"]:
            a["choice"] = None
    data["decision_audit"] = audit
    data["decisions_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS decision, t.title, t.status, t.created_at"
        " FROM decisions t WHERE t.creator_id = ?",
        u,
    )
    answers = await _rows(
        db,
        f"SELECT t.chat_id, {g}, m.id AS meeting, m.title, m.status, t.label AS unit,"
        " t.item, i.title AS item_title, t.choice, t.paper, t.cast_at FROM meeting_answers t"
        " JOIN meetings m ON m.id = t.meeting_id JOIN meeting_items i"
        " ON i.meeting_id = t.meeting_id AND i.number = t.item WHERE t.by_id = ?",
        u,
    )
    for a in answers:
        a["paper"] = bool(a["paper"])
    data["meeting_answers"] = answers
    data["meetings_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS meeting, t.title, t.status, t.created_at"
        f" FROM meetings t WHERE t.creator_id = ? UNION ALL SELECT t.chat_id, {g}, t.id,"
        " t.title, t.status, t.created_at FROM meetings t WHERE t.closed_by_id = ?"
        " AND t.creator_id != ?",
        (user_id, user_id, user_id),
    )
    data["events_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS event, t.title, t.place, t.starts_at, t.status"
        " FROM events t WHERE t.creator_id = ?",
        u,
    )
    data["event_signups"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, e.id AS event, e.title, e.starts_at, t.name, t.guests,"
        " t.going FROM event_signups t JOIN events e ON e.id = t.event_id WHERE t.user_id = ?",
        u,
    )
    data["rosters_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS roster, t.title, t.status, t.created_at"
        " FROM rosters t WHERE t.creator_id = ?",
        u,
    )
    data["roster_slots"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, r.id AS roster, r.title, s.starts_at, s.ends_at, t.name,"
        " t.taken_at FROM roster_volunteers t JOIN roster_slots s ON s.id = t.slot_id"
        " JOIN rosters r ON r.id = s.roster_id WHERE t.user_id = ?",
        u,
    )
    data["items"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS item, t.kind, t.mode, t.owner_name, t.title, t.note,"
        " t.photo IS NOT NULL AS has_photo, t.status, t.created_at, t.expires_at"
        " FROM items t WHERE t.owner_id = ?",
        u,
    )
    data["item_requests"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, i.id AS item, i.title, t.user_name, t.created_at"
        " FROM item_requests t JOIN items i ON i.id = t.item_id WHERE t.user_id = ?",
        u,
    )
    data["loans"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, i.id AS item, i.title, t.borrower_name, t.lent_at, t.due_at,"
        " t.returned_at, t.status FROM loans t JOIN items i ON i.id = t.item_id"
        " WHERE t.borrower_id = ?",
        u,
    )
    data["groupbuys_organized"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS groupbuy, t.title, t.status, t.created_at"
        " FROM groupbuys t WHERE t.organizer_id = ?",
        u,
    )
    data["groupbuy_orders"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, b.id AS groupbuy, b.title, t.user_name, t.quantity, t.paid,"
        " t.picked, t.updated_at FROM groupbuy_orders t JOIN groupbuys b ON b.id = t.groupbuy_id"
        " WHERE t.user_id = ?",
        u,
    )
    data["chains_created"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS chain, t.title, t.status, t.created_at"
        " FROM chains t WHERE t.creator_id = ?",
        u,
    )
    data["chain_lines"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, c.id AS chain, c.title, t.user_name, t.text, t.updated_at"
        " FROM chain_lines t JOIN chains c ON c.id = t.chain_id WHERE t.user_id = ?",
        u,
    )
    data["reports"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS report, t.reporter_name, t.what, t.place, t.category,"
        " t.private, t.status, t.reason, t.created_at FROM reports t WHERE t.reporter_id = ?",
        u,
    )
    data["report_changes_made"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.report_id AS report, t.status, t.by_name, t.reason, t.at"
        " FROM report_log t WHERE t.by_id = ?",
        u,
    )
    data["report_me_too"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.report_id AS report, t.household, t.at FROM report_metoo t"
        " WHERE t.user_id = ?",
        u,
    )
    data["report_handler_of"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.category, t.name, t.added_at FROM report_handlers t"
        " WHERE t.user_id = ?",
        u,
    )
    data["report_private_copies"] = await _rows(
        db, "SELECT report_id AS report, message_id FROM report_copies WHERE user_id = ?", u
    )
    data["notices_posted"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS notice, t.author_name, t.text, t.deadline,"
        " t.status, t.created_at FROM notices t WHERE t.author_id = ?",
        u,
    )
    data["notices_confirmed"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.notice_id AS notice, t.household, t.at"
        " FROM notice_confirms t WHERE t.user_id = ?",
        u,
    )
    data["rollcalls_started"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS rollcall, t.title, t.status, t.opened_at"
        " FROM rollcalls t WHERE t.creator_id = ?",
        u,
    )
    data["rollcall_answers"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, r.id AS rollcall, r.title, h.label AS unit, t.name, t.answer,"
        " t.note, t.answered_at FROM rollcall_answers t JOIN rollcalls r ON r.id = t.rollcall_id"
        " LEFT JOIN rollcall_units h ON h.id = t.unit_id WHERE t.user_id = ?",
        u,
    )
    data["rollcall_helper"] = await _rows(
        db, f"SELECT t.chat_id, {g}, t.since FROM rollcall_helpers t WHERE t.user_id = ?", u
    )
    data["check_on_me"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.note, t.created_at, t.expires_at FROM check_on_me t"
        " WHERE t.user_id = ?",
        u,
    )
    data["volunteer_hours"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, r.title AS roster, s.starts_at, s.ends_at, t.minutes, t.status,"
        " t.claimed_at, t.decided_at FROM volunteer_hours t"
        " JOIN roster_slots s ON s.id = t.slot_id JOIN rosters r ON r.id = s.roster_id"
        " WHERE t.user_id = ?",
        u,
    )
    data["volunteer_thanks_public"] = await _rows(
        db, f"SELECT t.chat_id, {g}, t.public FROM volunteer_prefs t WHERE t.user_id = ?", u
    )
    data["house_rules_drafted"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS version, t.number, t.status, t.created_at"
        " FROM rules_versions t WHERE t.creator_id = ?",
        u,
    )
    data["house_rules_amendments"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS amendment, t.article, t.text, t.author_name, t.status,"
        " t.reason, t.created_at FROM rules_amendments t WHERE t.author_id = ?",
        u,
    )
    data["house_rules_amendments_decided"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS amendment, t.status, t.reason, t.decided_by,"
        " t.decided_at FROM rules_amendments t WHERE t.decided_by_id = ?",
        u,
    )
    data["house_rules_supports"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.amendment_id AS amendment, n.label AS unit, t.at"
        " FROM rules_supports t LEFT JOIN units n ON n.id = t.unit_id WHERE t.user_id = ?",
        u,
    )
    data["reminders_and_announcements"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS post, t.kind, t.text, t.first_local, t.tz, t.rrule,"
        " t.status, t.creator_name FROM posts t WHERE t.creator_id = ? OR t.target_chat_id = ?",
        (user_id, user_id),
    )
    # proposals: supports, statement votes and review answers are the household's (no person)
    data["proposals"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.id AS proposal, t.title, t.stage, t.created_at"
        " FROM proposals t WHERE t.author_id = ?",
        u,
    )
    data["proposal_statements"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.proposal_id AS proposal, t.text, t.created_at"
        " FROM proposal_statements t WHERE t.author_id = ?",
        u,
    )
    data["proposals_followed"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.proposal_id AS proposal FROM proposal_followers t"
        " WHERE t.user_id = ?",
        u,
    )
    data["proposal_records"] = await _rows(
        db,
        f"SELECT t.chat_id, {g}, t.proposal_id AS proposal, 'minutes' AS kind, t.created_at"
        f" FROM proposal_minutes t WHERE t.by_id = ? UNION ALL SELECT t.chat_id, {g},"
        " t.proposal_id, 'progress', t.created_at FROM proposal_progress t WHERE t.by_id = ?",
        (user_id, user_id),
    )
    return data


# --- /forgetme --------------------------------------------------------------------------------


async def _ids(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[int]:
    return [int(r[0]) for r in await (await conn.execute(sql, params)).fetchall()]


async def _cancel_refs(conn: aiosqlite.Connection, kind: str, ref_ids: list[int]) -> list[int]:
    """Cancel the open scheduled rows of these feature rows; returns their ids to disarm."""
    stale: list[int] = []
    for ref in ref_ids:
        stale += await _ids(
            conn,
            "SELECT id FROM scheduled WHERE kind = ? AND ref_id = ?"
            " AND status IN ('pending', 'paused')",
            (kind, ref),
        )
        await conn.execute(
            "UPDATE scheduled SET status = 'cancelled' WHERE kind = ? AND ref_id = ?"
            " AND status IN ('pending', 'paused')",
            (kind, ref),
        )
    return stale


async def forget(
    db: Database, user_id: int, placeholders: Callable[[str], Placeholders]
) -> Forgotten:
    """Remove or anonymise everything about ``user_id``, in one transaction.

    ``placeholders(language)`` gives the stand-in words in a group's language. Sign-ups to open
    events should be withdrawn first through the events rule (waitlists move up); what remains
    here is deleted outright."""
    done = Forgotten()
    u = (user_id,)

    async def run(kind: dict[str, int], label: str, sql: str, params: tuple[Any, ...]) -> None:
        cur = await conn.execute(sql, params)
        if cur.rowcount > 0:
            kind[label] = kind.get(label, 0) + cur.rowcount

    async with db.write() as conn:
        langs = {
            int(r[0]): str(r[1])
            for r in await (await conn.execute("SELECT id, language FROM chats")).fetchall()
        }

        async def anon(label: str, table: str, id_col: str, name_col: str | None) -> None:
            chat_ids = await _ids(
                conn, f"SELECT DISTINCT chat_id FROM {table} WHERE {id_col} = ?", u
            )
            for chat_id in chat_ids:
                words = placeholders(langs.get(chat_id, "en"))
                if name_col is None:
                    sql = f"UPDATE {table} SET {id_col} = ? WHERE {id_col} = ? AND chat_id = ?"
                    await run(done.anonymised, label, sql, (NOBODY, user_id, chat_id))
                    continue
                await run(
                    done.anonymised,
                    label,
                    f"UPDATE {table} SET {id_col} = ?, {name_col} = ?"
                    f" WHERE {id_col} = ? AND chat_id = ?",
                    (NOBODY, words.former, user_id, chat_id),
                )

        # public polls: the vote is withdrawn; open cards change, and a closed card that
        # listed them is redrawn without their name (its final counts do not change)
        done.polls.update(
            await _ids(
                conn,
                "SELECT DISTINCT v.poll_id FROM poll_votes v JOIN polls p ON p.id = v.poll_id"
                " WHERE v.user_id = ? AND (p.status = 'open' OR p.message_id IS NOT NULL)",
                u,
            )
        )
        await run(done.removed, "poll_votes", "DELETE FROM poll_votes WHERE user_id = ?", u)
        await anon("polls", "polls", "creator_id", None)
        await run(
            done.anonymised,
            "polls",
            "UPDATE polls SET closed_by = ? WHERE closed_by = ?",
            (NOBODY, user_id),
        )

        # decisions: ballots stay counted for their unit, without the person
        for chat_id in await _ids(
            conn,
            "SELECT DISTINCT chat_id FROM decision_ballots WHERE by_id = ?"
            " UNION SELECT DISTINCT chat_id FROM decision_audit WHERE by_id = ?",
            (user_id, user_id),
        ):
            words = placeholders(langs.get(chat_id, "en"))
            for table in ("decision_ballots", "decision_audit"):
                await run(
                    done.anonymised,
                    table,
                    f"UPDATE {table} SET by_id = ?,"
                    " by_name = CASE paper WHEN 1 THEN ? ELSE ? END"
                    " WHERE by_id = ? AND chat_id = ?",
                    (NOBODY, words.lead, words.former, user_id, chat_id),
                )
        # a decision closed early by them names them: "a lead" closed it (found by the id
        # stored beside the name, so a rename since does not hide it, and by the name)
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM decisions WHERE closed_by_id = ?", u
        ):
            words = placeholders(langs.get(chat_id, "en"))
            done.decisions.update(
                await _ids(
                    conn,
                    "SELECT id FROM decisions WHERE closed_by_id = ? AND chat_id = ?"
                    " AND message_id IS NOT NULL",
                    (user_id, chat_id),
                )
            )
            await run(
                done.anonymised,
                "decisions",
                "UPDATE decisions SET closed_by = ?, closed_by_id = NULL"
                " WHERE closed_by_id = ? AND chat_id = ?",
                (words.lead, user_id, chat_id),
            )
        for chat_id, name in [
            (int(r[0]), str(r[1]))
            for r in await (
                await conn.execute("SELECT chat_id, display_name FROM members WHERE user_id = ?", u)
            ).fetchall()
        ]:
            words = placeholders(langs.get(chat_id, "en"))
            await run(
                done.anonymised,
                "decisions",
                "UPDATE decisions SET closed_by = ? WHERE chat_id = ? AND closed_by = ?"
                " AND closed_by_id IS NULL",
                (words.lead, chat_id, name),
            )
        await anon("decisions", "decisions", "creator_id", "creator_name")

        # meetings: a household's answers stay counted for its unit, without the person; a
        # meeting they opened or closed early stays the group's ("a lead")
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM meeting_answers WHERE by_id = ?", u
        ):
            words = placeholders(langs.get(chat_id, "en"))
            await run(
                done.anonymised,
                "meeting_answers",
                "UPDATE meeting_answers SET by_id = ?,"
                " by_name = CASE paper WHEN 1 THEN ? ELSE ? END WHERE by_id = ? AND chat_id = ?",
                (NOBODY, words.lead, words.former, user_id, chat_id),
            )
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM meetings WHERE closed_by_id = ?", u
        ):
            words = placeholders(langs.get(chat_id, "en"))
            await run(
                done.anonymised,
                "meetings",
                "UPDATE meetings SET closed_by = ?, closed_by_id = NULL"
                " WHERE closed_by_id = ? AND chat_id = ?",
                (words.lead, user_id, chat_id),
            )
        await anon("meetings", "meetings", "creator_id", "creator_name")

        # events and rosters: what they created stays; their own places go. Every card that
        # showed them is redrawn, closed or past ones too (a bot may edit its messages however
        # old they are)
        done.events.update(
            await _ids(
                conn,
                "SELECT id FROM events WHERE creator_id = ? AND message_id IS NOT NULL"
                " UNION SELECT DISTINCT e.id FROM event_signups s"
                " JOIN events e ON e.id = s.event_id"
                " WHERE s.user_id = ? AND e.message_id IS NOT NULL",
                (user_id, user_id),
            )
        )
        await anon("events", "events", "creator_id", "creator_name")
        await run(done.removed, "event_signups", "DELETE FROM event_signups WHERE user_id = ?", u)
        done.rosters.update(
            await _ids(
                conn,
                "SELECT DISTINCT s.roster_id FROM roster_volunteers v"
                " JOIN roster_slots s ON s.id = v.slot_id JOIN rosters r ON r.id = s.roster_id"
                " WHERE v.user_id = ? AND (r.status = 'open' OR r.message_id IS NOT NULL)"
                " UNION SELECT id FROM rosters WHERE creator_id = ? AND message_id IS NOT NULL",
                (user_id, user_id),
            )
        )
        await anon("rosters", "rosters", "creator_id", "creator_name")
        await run(
            done.removed, "roster_volunteers", "DELETE FROM roster_volunteers WHERE user_id = ?", u
        )

        # sharing: their own listings go (with their cards); their requests and chain lines go
        own = await (
            await conn.execute("SELECT id, chat_id, card_id FROM items WHERE owner_id = ?", u)
        ).fetchall()
        own_ids = [int(r["id"]) for r in own]
        done.delete_cards += [(int(r["chat_id"]), int(r["card_id"])) for r in own if r["card_id"]]
        done.disarm += await _cancel_refs(conn, "item_expiry", own_ids)
        for item_id in own_ids:
            loan_ids = await _ids(conn, "SELECT id FROM loans WHERE item_id = ?", (item_id,))
            done.disarm += await _cancel_refs(conn, "loan_remind", loan_ids)
            done.disarm += await _cancel_refs(conn, "loan_overdue", loan_ids)
        await run(done.removed, "items", "DELETE FROM items WHERE owner_id = ?", u)
        done.items.update(
            await _ids(
                conn,
                "SELECT DISTINCT r.item_id FROM item_requests r JOIN items i ON i.id = r.item_id"
                " WHERE r.user_id = ? AND (i.status IN ('open', 'lent') OR i.card_id IS NOT NULL)",
                u,
            )
        )
        await run(done.removed, "item_requests", "DELETE FROM item_requests WHERE user_id = ?", u)
        # loans of others' things: the owner keeps the history, without the borrower's name;
        # reminders to the borrower are cancelled (nobody to send them to)
        borrowed = await (
            await conn.execute("SELECT id, item_id, status FROM loans WHERE borrower_id = ?", u)
        ).fetchall()
        out = [int(r["id"]) for r in borrowed if r["status"] == "out"]
        done.disarm += await _cancel_refs(conn, "loan_remind", out)
        done.disarm += await _cancel_refs(conn, "loan_overdue", out)
        done.items.update(int(r["item_id"]) for r in borrowed if r["status"] == "out")
        await anon("loans", "loans", "borrower_id", "borrower_name")

        done.groupbuys.update(
            await _ids(
                conn,
                "SELECT DISTINCT o.groupbuy_id FROM groupbuy_orders o"
                " JOIN groupbuys b ON b.id = o.groupbuy_id"
                " WHERE o.user_id = ? AND (b.status = 'open' OR b.card_id IS NOT NULL)",
                u,
            )
        )
        await run(
            done.removed,
            "groupbuy_orders",
            "DELETE FROM groupbuy_orders WHERE user_id = ? AND groupbuy_id IN"
            " (SELECT id FROM groupbuys WHERE status = 'open')",
            u,
        )
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM groupbuy_orders WHERE user_id = ?", u
        ):
            words = placeholders(langs.get(chat_id, "en"))
            await run(
                done.anonymised,
                "groupbuy_orders",
                "UPDATE groupbuy_orders SET user_id = -id, user_name = ?"
                " WHERE user_id = ? AND chat_id = ?",
                (words.former, user_id, chat_id),
            )
        done.groupbuys.update(
            await _ids(
                conn,
                "SELECT id FROM groupbuys WHERE organizer_id = ?"
                " AND (status = 'open' OR card_id IS NOT NULL)",
                u,
            )
        )
        await anon("groupbuys", "groupbuys", "organizer_id", "organizer_name")
        done.chains.update(
            await _ids(
                conn,
                "SELECT DISTINCT l.chain_id FROM chain_lines l JOIN chains c ON c.id = l.chain_id"
                " WHERE l.user_id = ? AND (c.status = 'open' OR c.card_id IS NOT NULL)",
                u,
            )
        )
        await run(done.removed, "chain_lines", "DELETE FROM chain_lines WHERE user_id = ?", u)
        done.chains.update(
            await _ids(
                conn,
                "SELECT id FROM chains WHERE creator_id = ?"
                " AND (status = 'open' OR card_id IS NOT NULL)",
                u,
            )
        )
        await anon("chains", "chains", "creator_id", "creator_name")

        # roll-calls: a household's answer stays the household's, without the person or their
        # line; an answer of a resident without a household was only theirs and goes; being a
        # helper, a /checkonme line, volunteer hours and the thank-you choice go
        done.rollcalls.update(
            await _ids(
                conn,
                "SELECT DISTINCT a.rollcall_id FROM rollcall_answers a"
                " JOIN rollcalls r ON r.id = a.rollcall_id"
                " WHERE a.user_id = ? AND a.unit_id IS NULL AND r.message_id IS NOT NULL"
                " UNION SELECT id FROM rollcalls WHERE creator_id = ? AND message_id IS NOT NULL",
                (user_id, user_id),
            )
        )
        await run(
            done.removed,
            "rollcall_answers",
            "DELETE FROM rollcall_answers WHERE user_id = ? AND unit_id IS NULL",
            u,
        )
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM rollcall_answers WHERE user_id = ?", u
        ):
            await run(
                done.anonymised,
                "rollcall_answers",
                "UPDATE rollcall_answers SET user_id = ?, name = ?, note = NULL"
                " WHERE user_id = ? AND chat_id = ?",
                (NOBODY, placeholders(langs.get(chat_id, "en")).former, user_id, chat_id),
            )
        await anon("rollcalls", "rollcalls", "creator_id", "creator_name")
        for table in ("rollcall_helpers", "check_on_me", "volunteer_hours", "volunteer_prefs"):
            await run(done.removed, table, f"DELETE FROM {table} WHERE user_id = ?", u)

        # house rules: drafts and amendments are the group's record and stay without the
        # person ("former resident"; a lead's decision on an amendment: "a lead"); a
        # household's support stays the household's, without who pressed
        done.rules_amendments.update(
            await _ids(
                conn,
                "SELECT id FROM rules_amendments WHERE (author_id = ? OR decided_by_id = ?)"
                " AND message_id IS NOT NULL",
                (user_id, user_id),
            )
        )
        await anon("rules_versions", "rules_versions", "creator_id", "creator_name")
        await anon("rules_amendments", "rules_amendments", "author_id", "author_name")
        for chat_id in await _ids(
            conn, "SELECT DISTINCT chat_id FROM rules_amendments WHERE decided_by_id = ?", u
        ):
            await run(
                done.anonymised,
                "rules_amendments",
                "UPDATE rules_amendments SET decided_by = ?, decided_by_id = NULL"
                " WHERE decided_by_id = ? AND chat_id = ?",
                (placeholders(langs.get(chat_id, "en")).lead, user_id, chat_id),
            )
        await run(
            done.anonymised,
            "rules_supports",
            "UPDATE rules_supports SET user_id = ? WHERE user_id = ?",
            (NOBODY, user_id),
        )

        # reminders they created go; announcements (the group's) stay without their name
        reminders = await _ids(
            conn, "SELECT id FROM posts WHERE creator_id = ? AND kind = 'reminder'", u
        )
        done.disarm += await _cancel_refs(conn, "post", reminders)
        await run(
            done.removed,
            "posts",
            "DELETE FROM posts WHERE creator_id = ? AND kind = 'reminder'",
            u,
        )
        await anon("posts", "posts", "creator_id", "creator_name")

        # proposals: what they proposed, said or recorded stays the group's, without them;
        # following one ends (supports, statement votes and review answers are the unit's)
        for table, col in (
            ("proposals", "author_id"),
            ("proposal_statements", "author_id"),
            ("proposal_minutes", "by_id"),
            ("proposal_progress", "by_id"),
        ):
            await run(
                done.anonymised,
                table,
                f"UPDATE {table} SET {col} = ? WHERE {col} = ?",
                (NOBODY, user_id),
            )
        await run(
            done.removed,
            "proposal_followers",
            "DELETE FROM proposal_followers WHERE user_id = ?",
            u,
        )

        # repair reports: a private report was theirs alone and goes (its overdue rows too);
        # a group report stays the group's, without them ("former resident"), as do the
        # changes they made as a handler; Me too, Got it, being a handler and private copies
        # go (the counts drop by their household)
        private_reports = await _ids(
            conn, "SELECT id FROM reports WHERE reporter_id = ? AND private = 1", u
        )
        done.disarm += await _cancel_refs(conn, "report_overdue", private_reports)
        await run(
            done.removed,
            "reports",
            "DELETE FROM reports WHERE reporter_id = ? AND private = 1",
            u,
        )
        done.reports.update(
            await _ids(
                conn,
                "SELECT id FROM reports WHERE reporter_id = ? AND message_id IS NOT NULL"
                " UNION SELECT report_id FROM report_metoo WHERE user_id = ?"
                " UNION SELECT report_id FROM report_log WHERE by_id = ?",
                (user_id, user_id, user_id),
            )
        )
        await anon("reports", "reports", "reporter_id", "reporter_name")
        await anon("report_log", "report_log", "by_id", "by_name")
        for table in ("report_metoo", "report_copies", "report_handlers"):
            await run(done.removed, table, f"DELETE FROM {table} WHERE user_id = ?", u)
        done.notices.update(
            await _ids(
                conn,
                "SELECT id FROM notices WHERE author_id = ? AND message_id IS NOT NULL"
                " UNION SELECT notice_id FROM notice_confirms WHERE user_id = ?",
                (user_id, user_id),
            )
        )
        await anon("notices", "notices", "author_id", "author_name")
        await run(
            done.removed, "notice_confirms", "DELETE FROM notice_confirms WHERE user_id = ?", u
        )

        # households: their claims go; the units stay (ballots are the unit's)
        await run(done.removed, "unit_members", "DELETE FROM unit_members WHERE user_id = ?", u)
        await run(
            done.anonymised,
            "unit_members",
            "UPDATE unit_members SET decided_by = NULL WHERE decided_by = ?",
            u,
        )
        await run(done.removed, "unit_requests", "DELETE FROM unit_requests WHERE user_id = ?", u)
        await run(
            done.anonymised,
            "unit_requests",
            "UPDATE unit_requests SET decided_by = NULL WHERE decided_by = ?",
            u,
        )
        await run(done.removed, "members", "DELETE FROM members WHERE user_id = ?", u)
        await run(
            done.removed,
            "prompts",
            "DELETE FROM prompts WHERE author_id = ? OR member_id = ?",
            (user_id, user_id),
        )

        # their private chat: language, zone, personal reminders (cascade)
        done.disarm += await _ids(
            conn,
            "SELECT id FROM scheduled WHERE chat_id = ? AND status IN ('pending', 'paused')",
            u,
        )
        await run(done.removed, "start_links", "DELETE FROM start_links WHERE user_id = ?", u)
        await run(done.removed, "chats", "DELETE FROM chats WHERE id = ? AND type = 'private'", u)
    return done


async def scrub(db: Database) -> None:
    """After forgetting: leave nothing of the deleted rows in the file.

    The search index (FTS5) only marks a deleted listing as deleted: its trigrams stay in the
    index's shadow tables (``items_fts_data``) until segments are merged. Rebuilding the index
    from the listings that remain writes it anew (the old pages are freed, and overwritten
    because ``secure_delete`` is on). Then the write-ahead log, which still holds the pages as
    they were before, is folded into the file and truncated. On PostgreSQL the search index is
    a ``pg_trgm`` index on the listings themselves, and ``db.scrub`` vacuums the tables."""
    if db.dialect == "sqlite":
        async with db.write() as conn:
            await conn.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')")
            await conn.execute("INSERT INTO items_fts (items_fts) VALUES ('optimize')")
    await db.scrub()


async def rows_about(db: Database, user_id: int) -> dict[str, int]:
    """How many rows still hold ``user_id`` in a personal id column, per table (0 after
    /forgetme; anonymous-poll HMACs are not counted: they are not the id)."""
    found: dict[str, int] = {}
    for table, columns in PERSONAL.items():
        for column, what in columns.items():
            if not what.startswith("id"):
                continue
            sql = f"SELECT count(*) FROM {table} WHERE {column} = ?"
            params: tuple[Any, ...] = (user_id,)
            if table == "poll_votes" and column == "voter":
                params = (str(user_id),)
            row = await db.fetchone(sql, params)
            if row is not None and row[0]:
                found[f"{table}.{column}"] = int(row[0])
    return found


# --- /purge -----------------------------------------------------------------------------------


async def purge_group(db: Database, chat_id: int) -> list[int] | None:
    """Delete a group and everything that belongs to it (every table cascades from chats).
    Returns the scheduled row ids to disarm, or None if the chat was not known."""
    async with db.write() as conn:
        stale = await _ids(
            conn,
            "SELECT id FROM scheduled WHERE chat_id = ? AND status IN ('pending', 'paused')",
            (chat_id,),
        )
        cur = await conn.execute(
            "DELETE FROM chats WHERE id = ? AND type IN ('group', 'supergroup')", (chat_id,)
        )
        if cur.rowcount != 1:
            return None
        await conn.execute(
            "DELETE FROM chat_migrations WHERE new_id = ? OR old_id = ?", (chat_id, chat_id)
        )
    return stale


# --- retention --------------------------------------------------------------------------------


async def purge_old(db: Database, chat_id: int, cutoff: datetime) -> dict[str, int]:
    """Delete a group's finished things whose end is before ``cutoff``: closed polls,
    decisions, owners' meetings, group buys and chains (by closing time), events (by their end,
    or start),
    rosters (by their last slot), returned loans (by return), withdrawn, given or expired
    listings (by their listing end; no loan newer than the cutoff), settled repair reports
    (fixed, confirmed, duplicate, not ours: by their last change), closed notices and those whose
    confirm-by time passed, finished proposals (reviewed, declined, expired: by their last
    stage, with their statements, minutes and answers), delivery failures, done reminders and
    finished scheduled rows.
    Idempotent. Returns deleted counts per table."""
    c = to_db(cutoff)
    counts: dict[str, int] = {}
    statements = {
        "polls": (
            "DELETE FROM polls WHERE chat_id = ? AND status = 'closed' AND closed_at < ?",
            (chat_id, c),
        ),
        "decisions": (
            "DELETE FROM decisions WHERE chat_id = ? AND status = 'closed' AND closed_at < ?",
            (chat_id, c),
        ),
        "meetings": (
            "DELETE FROM meetings WHERE chat_id = ? AND status = 'closed' AND closed_at < ?",
            (chat_id, c),
        ),
        "events": (
            "DELETE FROM events WHERE chat_id = ? AND coalesce(ends_at, starts_at) < ?",
            (chat_id, c),
        ),
        "rosters": (
            "DELETE FROM rosters WHERE chat_id = ? AND created_at < ? AND NOT EXISTS"
            " (SELECT 1 FROM roster_slots s WHERE s.roster_id = rosters.id AND s.ends_at >= ?)",
            (chat_id, c, c),
        ),
        "groupbuys": (
            "DELETE FROM groupbuys WHERE chat_id = ? AND status = 'closed' AND closed_at < ?",
            (chat_id, c),
        ),
        "chains": (
            "DELETE FROM chains WHERE chat_id = ? AND status = 'closed' AND closed_at < ?",
            (chat_id, c),
        ),
        "loans": (
            "DELETE FROM loans WHERE chat_id = ? AND status = 'returned' AND returned_at < ?",
            (chat_id, c),
        ),
        "items": (
            "DELETE FROM items WHERE chat_id = ? AND status IN ('withdrawn', 'given', 'expired')"
            " AND coalesce(expires_at, created_at) < ? AND NOT EXISTS (SELECT 1 FROM loans l"
            " WHERE l.item_id = items.id AND (l.status = 'out' OR l.returned_at >= ?))",
            (chat_id, c, c),
        ),
        "posts": (
            "DELETE FROM posts WHERE chat_id = ? AND status IN ('done', 'cancelled')"
            " AND created_at < ? AND NOT EXISTS (SELECT 1 FROM scheduled s WHERE s.kind = 'post'"
            " AND s.ref_id = posts.id AND (s.status IN ('pending', 'paused', 'running')"
            " OR coalesce(s.fired_at, s.run_at) >= ?))",
            (chat_id, c, c),
        ),
        "reports": (
            "DELETE FROM reports WHERE chat_id = ? AND status IN ('fixed', 'confirmed',"
            " 'duplicate', 'not_ours') AND changed_at < ?",
            (chat_id, c),
        ),
        "notices": (
            "DELETE FROM notices WHERE chat_id = ? AND (status = 'closed' AND closed_at < ?"
            " OR deadline < ?)",
            (chat_id, c, c),
        ),
        "proposals": (
            "DELETE FROM proposals WHERE chat_id = ? AND stage IN ('reviewed', 'declined',"
            " 'expired') AND stage_at < ?",
            (chat_id, c),
        ),
        "delivery_failures": (
            "DELETE FROM delivery_failures WHERE chat_id = ? AND failed_at < ?",
            (chat_id, c),
        ),
        "scheduled": (
            "DELETE FROM scheduled WHERE chat_id = ?"
            " AND status IN ('done', 'cancelled', 'missed', 'failed')"
            " AND coalesce(fired_at, run_at) < ?",
            (chat_id, c),
        ),
    }
    async with db.write() as conn:
        for table, (sql, params) in statements.items():
            cur = await conn.execute(sql, params)
            if cur.rowcount > 0:
                counts[table] = cur.rowcount
    return counts


async def ensure_retention_rows(
    db: Database, first_run: Callable[[str], datetime], now: datetime
) -> list[tuple[int, datetime]]:
    """One pending retention row for every active group that has none (idempotent).
    ``first_run(timezone)`` is when a new row first runs. Returns (row id, run at) to arm."""
    added: list[tuple[int, datetime]] = []
    async with db.write() as conn:
        missing = await (
            await conn.execute(
                # NOT IN over one list of the groups that have a row: a NOT EXISTS per group
                # walked every retention row through the (kind, ref_id) index, 10 000 x 10 000
                # rows holding the write lock ~20 s with 10 000 groups (bench/scale_bench.py).
                "SELECT id, timezone FROM chats WHERE type IN ('group', 'supergroup')"
                " AND active = 1 AND id NOT IN (SELECT chat_id FROM scheduled WHERE kind = ?"
                " AND status IN ('pending', 'paused', 'running') AND chat_id IS NOT NULL)",
                (RETENTION_KIND,),
            )
        ).fetchall()
        for row in missing:
            run_at = first_run(str(row["timezone"]))
            cur = await conn.execute(
                "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, status, created_at)"
                " VALUES (?, ?, NULL, ?, ?, 'pending', ?)",
                (row["id"], RETENTION_KIND, to_db(run_at), to_db(run_at), to_db(now)),
            )
            assert cur.lastrowid is not None
            added.append((cur.lastrowid, run_at))
    return added
