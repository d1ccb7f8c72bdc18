"""House rules: versions (one draft per group, ratified versions numbered 1, 2, ...), the
amendments to a draft, and the households that support them.

A draft is frozen while its ratification (a formal decision, storage/decisions.py) is open:
neither its text nor its amendments change, so the households vote on one text. When the
decision closes approved, :func:`ratify` numbers the draft as the next version (in force from
then on, keyed by the decision id: once, however often it is called); rejected, it simply
stays a draft (its decision closed) that may be amended and put to the vote again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain import house_rules as rules
from bot.domain.errors import DomainError
from storage.db import Database, from_db, to_db

DRAFT = "draft"
RATIFIED = "ratified"
DISCARDED = "discarded"

PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    chat_id: int
    status: str
    number: int | None
    preamble: str
    articles: tuple[str, ...]
    creator_id: int
    creator_name: str
    created_at: datetime
    updated_at: datetime
    message_id: int | None
    decision_id: int | None
    rule: str | None
    ratified_at: datetime | None
    thread_id: int | None = None  # the forum topic its draft was started in (None: General)

    @property
    def has_text(self) -> bool:
        return bool(self.articles)


@dataclass(frozen=True, slots=True)
class Amendment:
    id: int
    chat_id: int
    version_id: int
    article: int | None
    base: str | None
    text: str
    author_id: int
    author_name: str
    status: str
    reason: str | None
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    message_id: int | None
    supports: int
    thread_id: int | None = None  # the forum topic it was proposed in (None: General)


_V_COLS = (
    "id, chat_id, status, number, preamble, articles, creator_id, creator_name, created_at,"
    " updated_at, message_id, decision_id, rule, ratified_at, thread_id"
)
_A_COLS = (
    "a.id, a.chat_id, a.version_id, a.article, a.base, a.text, a.author_id, a.author_name,"
    " a.status, a.reason, a.decided_by, a.created_at, a.decided_at, a.message_id, a.thread_id,"
    " (SELECT count(*) FROM rules_supports s WHERE s.amendment_id = a.id) AS supports"
)


def _version(row: aiosqlite.Row) -> Version:
    return Version(
        id=row["id"],
        chat_id=row["chat_id"],
        status=row["status"],
        number=row["number"],
        preamble=row["preamble"],
        articles=tuple(json.loads(row["articles"])),
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        message_id=row["message_id"],
        decision_id=row["decision_id"],
        rule=row["rule"],
        ratified_at=from_db(row["ratified_at"]) if row["ratified_at"] else None,
        thread_id=row["thread_id"],
    )


def _amendment(row: aiosqlite.Row) -> Amendment:
    return Amendment(
        id=row["id"],
        chat_id=row["chat_id"],
        version_id=row["version_id"],
        article=row["article"],
        base=row["base"],
        text=row["text"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        status=row["status"],
        reason=row["reason"],
        decided_by=row["decided_by"],
        created_at=from_db(row["created_at"]),
        decided_at=from_db(row["decided_at"]) if row["decided_at"] else None,
        message_id=row["message_id"],
        supports=int(row["supports"]),
        thread_id=row["thread_id"],
    )


def _json(articles: Sequence[str]) -> str:
    return json.dumps(list(articles), ensure_ascii=False)


# --- versions --------------------------------------------------------------------------------


async def get(db: Database, version_id: int) -> Version | None:
    row = await db.fetchone(f"SELECT {_V_COLS} FROM rules_versions WHERE id = ?", (version_id,))
    return _version(row) if row else None


async def draft_of(db: Database, chat_id: int) -> Version | None:
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND status = 'draft'",
        (chat_id,),
    )
    return _version(row) if row else None


async def current(db: Database, chat_id: int) -> Version | None:
    """The version in force: the ratified one with the highest number."""
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND status = 'ratified'"
        " ORDER BY number DESC LIMIT 1",
        (chat_id,),
    )
    return _version(row) if row else None


async def by_number(db: Database, chat_id: int, number: int) -> Version | None:
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND number = ?",
        (chat_id, number),
    )
    return _version(row) if row else None


async def ratified(db: Database, chat_id: int) -> list[Version]:
    """Every ratified version of the group, newest first."""
    rows = await db.fetchall(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND status = 'ratified'"
        " ORDER BY number DESC",
        (chat_id,),
    )
    return [_version(r) for r in rows]


async def by_decision(db: Database, decision_id: int) -> Version | None:
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE decision_id = ?", (decision_id,)
    )
    return _version(row) if row else None


async def voting_drafts(db: Database, chat_id: int | None = None) -> list[Version]:
    """Drafts (of one chat, or all) whose ratification decision has closed: to settle after a
    crash between the close and its hook."""
    where = "" if chat_id is None else " AND v.chat_id = ?"
    rows = await db.fetchall(
        f"SELECT {_V_COLS} FROM rules_versions v WHERE v.status = 'draft'{where}"
        " AND v.decision_id IS NOT NULL AND EXISTS (SELECT 1 FROM decisions d"
        "  WHERE d.id = v.decision_id AND d.status = 'closed')",
        () if chat_id is None else (chat_id,),
    )
    return [_version(r) for r in rows]


async def _decision_open(conn: aiosqlite.Connection, decision_id: int | None) -> bool:
    if decision_id is None:
        return False
    row = await (
        await conn.execute("SELECT status FROM decisions WHERE id = ?", (decision_id,))
    ).fetchone()
    return row is not None and row["status"] == "open"


async def start_draft(
    db: Database,
    chat_id: int,
    *,
    creator_id: int,
    creator_name: str,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[Version, bool]:
    """The group's draft: the one there is, else a new one starting from the version in
    force (so that amendments can be made to it), in the forum topic ``thread_id``. Returns
    (draft, created)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND status = 'draft'",
                (chat_id,),
            )
        ).fetchone()
        if row is not None:
            return _version(row), False
        base = await (
            await conn.execute(
                "SELECT preamble, articles FROM rules_versions WHERE chat_id = ?"
                " AND status = 'ratified' ORDER BY number DESC LIMIT 1",
                (chat_id,),
            )
        ).fetchone()
        cur = await conn.execute(
            "INSERT INTO rules_versions (chat_id, preamble, articles, creator_id, creator_name,"
            " created_at, updated_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                base["preamble"] if base else "",
                base["articles"] if base else "[]",
                creator_id,
                creator_name,
                to_db(now),
                to_db(now),
                thread_id,
            ),
        )
        version_id = cur.lastrowid
        assert version_id is not None
        row = await (
            await conn.execute(f"SELECT {_V_COLS} FROM rules_versions WHERE id = ?", (version_id,))
        ).fetchone()
        assert row is not None
        return _version(row), True


async def set_text(db: Database, version_id: int, text: rules.Text, now: datetime) -> int:
    """Replace the draft's text (a lead sent it anew). Refused while its ratification is open
    (``rules.voting``) or when it is no draft any more (``rules.no_draft``). Returns how many
    pending amendments name an article the new text no longer has."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT status, decision_id FROM rules_versions WHERE id = ?", (version_id,)
            )
        ).fetchone()
        if row is None or row["status"] != DRAFT:
            raise DomainError("rules.no_draft")
        if await _decision_open(conn, row["decision_id"]):
            raise DomainError("rules.voting")
        await conn.execute(
            "UPDATE rules_versions SET preamble = ?, articles = ?, updated_at = ? WHERE id = ?",
            (text.preamble, _json(text.articles), to_db(now), version_id),
        )
        lost = await (
            await conn.execute(
                "SELECT count(*) FROM rules_amendments WHERE version_id = ? AND status = 'pending'"
                " AND article > ?",
                (version_id, len(text.articles)),
            )
        ).fetchone()
        return int(lost[0]) if lost else 0


async def set_message(db: Database, version_id: int, message_id: int) -> None:
    await db.write_one(
        "UPDATE rules_versions SET message_id = ? WHERE id = ?", (message_id, version_id)
    )


async def by_message(db: Database, chat_id: int, message_id: int) -> Version | None:
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND message_id = ?",
        (chat_id, message_id),
    )
    return _version(row) if row else None


async def discard(db: Database, version_id: int, now: datetime) -> list[int]:
    """Drop the draft (not while its ratification is open): its pending amendments are
    withdrawn. Returns the ids of those amendments (their cards change)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT status, decision_id FROM rules_versions WHERE id = ?", (version_id,)
            )
        ).fetchone()
        if row is None or row["status"] != DRAFT:
            raise DomainError("rules.no_draft")
        if await _decision_open(conn, row["decision_id"]):
            raise DomainError("rules.voting")
        ids = [
            int(r[0])
            for r in await (
                await conn.execute(
                    "SELECT id FROM rules_amendments WHERE version_id = ? AND status = 'pending'",
                    (version_id,),
                )
            ).fetchall()
        ]
        await conn.execute(
            "UPDATE rules_amendments SET status = 'withdrawn', decided_at = ?"
            " WHERE version_id = ? AND status = 'pending'",
            (to_db(now), version_id),
        )
        await conn.execute(
            "UPDATE rules_versions SET status = 'discarded', updated_at = ? WHERE id = ?",
            (to_db(now), version_id),
        )
        return ids


async def open_ratification(
    db: Database, version_id: int, decision_id: int, rule: str, now: datetime
) -> bool:
    """Link the draft to its ratification decision, unless another one is open already."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT status, decision_id FROM rules_versions WHERE id = ?", (version_id,)
            )
        ).fetchone()
        if row is None or row["status"] != DRAFT:
            return False
        if await _decision_open(conn, row["decision_id"]):
            return False
        await conn.execute(
            "UPDATE rules_versions SET decision_id = ?, rule = ?, updated_at = ? WHERE id = ?",
            (decision_id, rule, to_db(now), version_id),
        )
        return True


async def ratify(db: Database, decision_id: int, now: datetime) -> Version | None:
    """The draft of this (approved, closed) decision becomes the next version. None if it was
    settled already or is no draft of this decision."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT id, chat_id FROM rules_versions WHERE decision_id = ? AND status = 'draft'",
                (decision_id,),
            )
        ).fetchone()
        if row is None:
            return None
        numbers = [
            int(r[0])
            for r in await (
                await conn.execute(
                    "SELECT number FROM rules_versions WHERE chat_id = ? AND number IS NOT NULL",
                    (row["chat_id"],),
                )
            ).fetchall()
        ]
        number = rules.next_version(numbers)
        await conn.execute(
            "UPDATE rules_versions SET status = 'ratified', number = ?, ratified_at = ?,"
            " updated_at = ? WHERE id = ?",
            (number, to_db(now), to_db(now), row["id"]),
        )
        found = await (
            await conn.execute(f"SELECT {_V_COLS} FROM rules_versions WHERE id = ?", (row["id"],))
        ).fetchone()
        assert found is not None
        return _version(found)


async def previous(db: Database, chat_id: int, number: int) -> Version | None:
    """The ratified version before ``number``."""
    row = await db.fetchone(
        f"SELECT {_V_COLS} FROM rules_versions WHERE chat_id = ? AND status = 'ratified'"
        " AND number < ? ORDER BY number DESC LIMIT 1",
        (chat_id, number),
    )
    return _version(row) if row else None


# --- amendments ------------------------------------------------------------------------------


async def propose(
    db: Database,
    version_id: int,
    *,
    article: int | None,
    text: str,
    author_id: int,
    author_name: str,
    now: datetime,
    thread_id: int | None = None,
) -> Amendment:
    """Store an amendment to the draft (checked against the draft as it is in the same
    transaction): ``rules.no_draft``, ``rules.voting``, ``rules.no_article``,
    ``rules.same_text``."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id, status, articles, decision_id FROM rules_versions WHERE id = ?",
                (version_id,),
            )
        ).fetchone()
        if row is None or row["status"] != DRAFT:
            raise DomainError("rules.no_draft")
        if await _decision_open(conn, row["decision_id"]):
            raise DomainError("rules.voting")
        articles = json.loads(row["articles"])
        rules.check_article(article, len(articles))
        base = articles[article - 1] if article is not None else None
        if base is not None and base == text:
            raise DomainError("rules.same_text", number=article)
        cur = await conn.execute(
            "INSERT INTO rules_amendments (chat_id, version_id, article, base, text, author_id,"
            " author_name, created_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["chat_id"],
                version_id,
                article,
                base,
                text,
                author_id,
                author_name,
                to_db(now),
                thread_id,
            ),
        )
        amendment_id = cur.lastrowid
        assert amendment_id is not None
    found = await amendment(db, amendment_id)
    assert found is not None
    return found


async def amendment(db: Database, amendment_id: int) -> Amendment | None:
    row = await db.fetchone(
        f"SELECT {_A_COLS} FROM rules_amendments a WHERE a.id = ?", (amendment_id,)
    )
    return _amendment(row) if row else None


async def amendment_by_message(db: Database, chat_id: int, message_id: int) -> Amendment | None:
    row = await db.fetchone(
        f"SELECT {_A_COLS} FROM rules_amendments a WHERE a.chat_id = ? AND a.message_id = ?",
        (chat_id, message_id),
    )
    return _amendment(row) if row else None


async def amendments(db: Database, version_id: int, status: str | None = None) -> list[Amendment]:
    if status is None:
        rows = await db.fetchall(
            f"SELECT {_A_COLS} FROM rules_amendments a WHERE a.version_id = ? ORDER BY a.id",
            (version_id,),
        )
    else:
        rows = await db.fetchall(
            f"SELECT {_A_COLS} FROM rules_amendments a WHERE a.version_id = ? AND a.status = ?"
            " ORDER BY a.id",
            (version_id, status),
        )
    return [_amendment(r) for r in rows]


async def set_amendment_message(db: Database, amendment_id: int, message_id: int) -> None:
    await db.write_one(
        "UPDATE rules_amendments SET message_id = ? WHERE id = ?", (message_id, amendment_id)
    )


async def support(
    db: Database, amendment_id: int, units: Sequence[int], user_id: int, now: datetime, *, on: bool
) -> int:
    """Support (``on``) or withdraw the support of these households for a pending amendment
    of a draft not being voted on (``rules.amendment_closed``, ``rules.voting``). Returns how
    many households changed."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT a.chat_id, a.status, v.decision_id FROM rules_amendments a"
                " JOIN rules_versions v ON v.id = a.version_id WHERE a.id = ?",
                (amendment_id,),
            )
        ).fetchone()
        if row is None or row["status"] != PENDING:
            raise DomainError("rules.amendment_closed")
        if await _decision_open(conn, row["decision_id"]):
            raise DomainError("rules.voting")
        changed = 0
        for unit_id in units:
            if on:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO rules_supports (amendment_id, chat_id, unit_id,"
                    " user_id, at) VALUES (?, ?, ?, ?, ?)",
                    (amendment_id, row["chat_id"], unit_id, user_id, to_db(now)),
                )
            else:
                cur = await conn.execute(
                    "DELETE FROM rules_supports WHERE amendment_id = ? AND unit_id = ?",
                    (amendment_id, unit_id),
                )
            changed += max(cur.rowcount, 0)
        return changed


async def supporting_units(db: Database, amendment_id: int) -> set[int]:
    rows = await db.fetchall(
        "SELECT unit_id FROM rules_supports WHERE amendment_id = ?", (amendment_id,)
    )
    return {int(r[0]) for r in rows}


async def decide(
    db: Database,
    amendment_id: int,
    *,
    accept: bool,
    reason: str | None,
    by_id: int,
    by_name: str,
    now: datetime,
) -> Amendment:
    """A lead accepts (the draft's article is replaced, or the new article added, in the same
    transaction) or declines a pending amendment. Refusals: ``rules.amendment_closed``,
    ``rules.voting``, ``rules.amend_outdated`` (the article is no longer the text the
    amendment was written against: declined, it may be proposed again)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT a.status, a.article, a.base, a.text, a.version_id, v.articles,"
                " v.status AS vs, v.decision_id FROM rules_amendments a"
                " JOIN rules_versions v ON v.id = a.version_id WHERE a.id = ?",
                (amendment_id,),
            )
        ).fetchone()
        if row is None or row["status"] != PENDING or row["vs"] != DRAFT:
            raise DomainError("rules.amendment_closed")
        if await _decision_open(conn, row["decision_id"]):
            raise DomainError("rules.voting")
        if accept:
            articles = json.loads(row["articles"])
            number = row["article"]
            if number is not None and (
                number > len(articles) or articles[number - 1] != row["base"]
            ):
                # the article changed since (another amendment, a new text): this amendment
                # was written against a text that is gone, and may name another article now
                raise DomainError("rules.amend_outdated", id=amendment_id, number=number)
            changed = rules.amend(articles, number, row["text"])
            await conn.execute(
                "UPDATE rules_versions SET articles = ?, updated_at = ? WHERE id = ?",
                (_json(changed), to_db(now), row["version_id"]),
            )
        await conn.execute(
            "UPDATE rules_amendments SET status = ?, reason = ?, decided_by = ?,"
            " decided_by_id = ?, decided_at = ? WHERE id = ?",
            (ACCEPTED if accept else DECLINED, reason, by_name, by_id, to_db(now), amendment_id),
        )
    found = await amendment(db, amendment_id)
    assert found is not None
    return found


async def withdraw(db: Database, amendment_id: int, author_id: int, now: datetime) -> bool:
    """The author withdraws their pending amendment."""
    changed = await db.write_one(
        "UPDATE rules_amendments SET status = 'withdrawn', decided_at = ?"
        " WHERE id = ? AND author_id = ? AND status = 'pending'",
        (to_db(now), amendment_id, author_id),
    )
    return changed == 1
