"""Privacy storage on a real SQLite file: every personal column is known, /mydata finds every
row and never a secret choice, /forgetme leaves no user id behind while ballots stay counted,
/purge empties a group, and the retention purge deletes only what ended long enough ago."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import chats, privacy
from storage.db import Database, to_db

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP, OTHER = -1001, -1002
BOB, CAROL, ALICE = 7, 8, 1
WORDS = privacy.Placeholders(former="former resident", lead="a lead")

#: A column that looks like it holds a person: a user id or a name.
PERSONAL_LOOKING = re.compile(
    r"^(user_id|voter|name|display_name|.*_by|by_id|by_name|decided_by"
    r"|(creator|owner|borrower|organizer|organiser|user|member|person|author|sender|voter"
    r"|recorded_by|assignee|guest|resident)_(id|name))$"
)


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id, title in ((GROUP, "Maple"), (OTHER, "Oak")):
        await chats.ensure(
            database, chat_id, type="group", title=title, defaults=ChatSettings(), now=NOW
        )
    await chats.ensure(database, BOB, type="private", title=None, defaults=ChatSettings(), now=NOW)
    yield database
    await database.close()


async def test_every_personal_column_is_known_to_privacy(db: Database) -> None:
    """Fails when a migration adds a table or column holding a user id or a name that
    /mydata and /forgetme do not know about: add it to storage.privacy.PERSONAL and handle it
    in collect() and forget()."""
    unknown = []
    for table in await db.tables():
        for col in await db.fetchall(f'PRAGMA table_info("{table}")'):
            name = col["name"]
            if PERSONAL_LOOKING.match(name) and name not in privacy.PERSONAL.get(table, {}):
                unknown.append(f"{table}.{name}")
    assert unknown == [], f"personal columns privacy does not handle: {unknown}"
    # and every listed column exists (a rename must update the list)
    for table, columns in privacy.PERSONAL.items():
        names = {c["name"] for c in await db.fetchall(f'PRAGMA table_info("{table}")')}
        assert set(columns) <= names, table


def test_the_guard_would_catch_new_columns() -> None:
    for name in ("user_id", "creator_id", "owner_name", "borrower_id", "closed_by", "author_id"):
        assert PERSONAL_LOOKING.match(name), name
    for name in ("chat_id", "poll_id", "title", "label", "status", "message_id", "card_id"):
        assert not PERSONAL_LOOKING.match(name), name


async def seed(db: Database, *, at: datetime = NOW, tag: str = "") -> dict[str, int]:
    """Bob and Carol in every table of GROUP; Bob also in OTHER."""
    t = to_db(at)
    later = to_db(at + timedelta(days=3))
    ids: dict[str, int] = {}
    async with db.write() as c:

        async def ins(sql: str, params: tuple[object, ...]) -> int:
            cur = await c.execute(sql, params)
            assert cur.lastrowid is not None
            return cur.lastrowid

        for chat_id, uid, name in (
            (GROUP, BOB, "Bob Baker"),
            (GROUP, CAROL, "Carol"),
            (OTHER, BOB, "Bob B."),
            (GROUP, ALICE, "Alice"),
        ):
            await c.execute(
                "INSERT OR IGNORE INTO members (chat_id, user_id, display_name) VALUES (?, ?, ?)",
                (chat_id, uid, name),
            )
        unit = await ins(
            "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)",
            (GROUP, "3-502" + tag, t),
        )
        unit2 = await ins(
            "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)",
            (GROUP, "3-503" + tag, t),
        )
        ids["unit"] = unit
        for u, uid, by in ((unit, BOB, ALICE), (unit2, CAROL, BOB)):
            await c.execute(
                "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at,"
                " decided_by) VALUES (?, ?, ?, 'approved', ?, ?)",
                (u, GROUP, uid, t, by),
            )
        opts = json.dumps(["Green", "Blue"])
        ids["poll"] = await ins(
            "INSERT INTO polls (chat_id, creator_id, question, options, created_at)"
            " VALUES (?, ?, 'Gate colour?', ?, ?)",
            (GROUP, BOB, opts, t),
        )
        ids["anon_poll"] = await ins(
            "INSERT INTO polls (chat_id, creator_id, question, options, anonymous, secret,"
            " created_at) VALUES (?, ?, 'Fence?', ?, 1, x'00', ?)",
            (GROUP, CAROL, opts, t),
        )
        for uid, choice in ((BOB, 1), (CAROL, 2)):
            await c.execute(
                "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ids["poll"], GROUP, str(uid), uid, choice, t),
            )
        await c.execute(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices)"
            " VALUES (?, ?, 'a1b2c3', NULL, 2)",
            (ids["anon_poll"], GROUP),
        )
        ids["decision"] = await ins(
            "INSERT INTO decisions (chat_id, title, rule, secret, creator_id, creator_name,"
            " created_at, closes_at) VALUES (?, 'Intercom', 'majority', 1, ?, 'Bob Baker', ?, ?)",
            (GROUP, BOB, t, later),
        )
        for u, label, choice, by, by_name, paper in (
            (unit, "3-502" + tag, "against", BOB, "Bob Baker", 0),
            (unit2, "3-503" + tag, "for", BOB, "Bob Baker", 1),  # a paper ballot Bob recorded
        ):
            await c.execute(
                "INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice,"
                " by_id, by_name, paper, note, cast_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ids["decision"], GROUP, u, label, choice, by, by_name, paper, "signed form", t),
            )
            await c.execute(
                "INSERT INTO decision_audit (decision_id, chat_id, label, choice, by_id,"
                " by_name, paper, at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                (ids["decision"], GROUP, label, by, by_name, paper, t),
            )
        ids["event"] = await ins(
            "INSERT INTO events (chat_id, creator_id, creator_name, title, starts_at, created_at)"
            " VALUES (?, ?, 'Bob Baker', 'Cleanup', ?, ?)",
            (GROUP, BOB, later, t),
        )
        for seq, uid, name in ((1, BOB, "Bob Baker"), (2, CAROL, "Carol")):
            await c.execute(
                "INSERT INTO event_signups (event_id, chat_id, user_id, name, seq, going)"
                " VALUES (?, ?, ?, ?, ?, 1)",
                (ids["event"], GROUP, uid, name, seq),
            )
        ids["roster"] = await ins(
            "INSERT INTO rosters (chat_id, creator_id, creator_name, title, per_slot, created_at)"
            " VALUES (?, ?, 'Bob Baker', 'Gate duty', 2, ?)",
            (GROUP, BOB, t),
        )
        slot = await ins(
            "INSERT INTO roster_slots (roster_id, chat_id, position, starts_at, ends_at)"
            " VALUES (?, ?, 1, ?, ?)",
            (ids["roster"], GROUP, later, later),
        )
        for uid, name in ((BOB, "Bob Baker"), (CAROL, "Carol")):
            await c.execute(
                "INSERT INTO roster_volunteers (slot_id, chat_id, user_id, name, taken_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (slot, GROUP, uid, name, t),
            )
        ids["bob_item"] = await ins(
            "INSERT INTO items (chat_id, kind, mode, owner_id, owner_name, title, search,"
            " card_id, created_at, expires_at) VALUES (?, 'offer', 'lend', ?, 'Bob Baker',"
            " 'Drill', 'drill', 55, ?, ?)",
            (GROUP, BOB, t, later),
        )
        ids["carol_item"] = await ins(
            "INSERT INTO items (chat_id, kind, mode, owner_id, owner_name, title, search,"
            " status, created_at, expires_at) VALUES (?, 'offer', 'lend', ?, 'Carol', 'Ladder',"
            " 'ladder', 'lent', ?, ?)",
            (GROUP, CAROL, t, later),
        )
        await c.execute(
            "INSERT INTO item_requests (item_id, chat_id, user_id, user_name, created_at)"
            " VALUES (?, ?, ?, 'Carol', ?)",
            (ids["bob_item"], GROUP, CAROL, t),
        )
        await c.execute(
            "INSERT INTO item_requests (item_id, chat_id, user_id, user_name, created_at)"
            " VALUES (?, ?, ?, 'Bob Baker', ?)",
            (ids["carol_item"], GROUP, BOB, t),
        )
        ids["loan"] = await ins(
            "INSERT INTO loans (item_id, chat_id, borrower_id, borrower_name, lent_at)"
            " VALUES (?, ?, ?, 'Bob Baker', ?)",
            (ids["carol_item"], GROUP, BOB, t),
        )
        await c.execute(
            "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
            " VALUES (?, 'loan_remind', ?, ?, ?, ?)",
            (GROUP, ids["loan"], later, later, t),
        )
        for status, key in (("open", "gb_open"), ("closed", "gb_closed")):
            ids[key] = await ins(
                "INSERT INTO groupbuys (chat_id, organizer_id, organizer_name, title,"
                " price_cents, closes_at, status, created_at, closed_at)"
                " VALUES (?, ?, 'Carol', 'Rice', 500, ?, ?, ?, ?)",
                (GROUP, CAROL, later, status, t, t if status == "closed" else None),
            )
            await c.execute(
                "INSERT INTO groupbuy_orders (groupbuy_id, chat_id, user_id, user_name, quantity,"
                " updated_at) VALUES (?, ?, ?, 'Bob Baker', 2, ?)",
                (ids[key], GROUP, BOB, t),
            )
        ids["chain"] = await ins(
            "INSERT INTO chains (chat_id, creator_id, creator_name, title, created_at)"
            " VALUES (?, ?, 'Carol', 'Dumplings', ?)",
            (GROUP, CAROL, t),
        )
        await c.execute(
            "INSERT INTO chain_lines (chain_id, chat_id, user_id, user_name, text, updated_at)"
            " VALUES (?, ?, ?, 'Bob Baker', '20 pork please', ?)",
            (ids["chain"], GROUP, BOB, t),
        )
        for kind, chat_id, target in (
            ("reminder", GROUP, GROUP),
            ("reminder", GROUP, BOB),
            ("announcement", GROUP, GROUP),
        ):
            post = await ins(
                "INSERT INTO posts (kind, chat_id, target_chat_id, creator_id, creator_name,"
                " text, first_local, tz, created_at) VALUES (?, ?, ?, ?, 'Bob Baker', 'bins',"
                " '2026-11-22T09:00:00', 'UTC', ?)",
                (kind, chat_id, target, BOB, t),
            )
            await c.execute(
                "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
                " VALUES (?, 'post', ?, ?, ?, ?)",
                (target, post, later, later, t),
            )
            ids[f"post_{kind}_{target}"] = post
    return ids


async def test_mydata_finds_every_row_and_never_a_secret_choice(db: Database) -> None:
    ids = await seed(db)
    data = await privacy.collect(db, BOB)
    assert len(data["memberships"]) == 2  # both groups
    assert {m["grp"] for m in data["memberships"]} == {"Maple", "Oak"}
    assert [c["unit"] for c in data["unit_claims"]] == ["3-502"]
    assert [v["chosen"] for v in data["poll_votes"]] == [["Green"]]
    assert [p["poll"] for p in data["polls_created"]] == [ids["poll"]]
    ballots = data["decision_ballots"]
    assert len(ballots) == 2 and all(b["secret"] and b["choice"] is None for b in ballots)
    assert all(b["note"] is None for b in ballots)
    assert all(a["choice"] is None for a in data["decision_audit"])
    for section in (
        "event_signups",
        "events_created",
        "roster_slots",
        "rosters_created",
        "items",
        "item_requests",
        "loans",
        "chain_lines",
        "private_chat",
    ):
        assert len(data[section]) == 1, section
    assert len(data["groupbuy_orders"]) == 2
    assert len(data["reminders_and_announcements"]) == 3
    text = json.dumps(data, default=str)
    assert "against" not in text and '"for"' not in text  # secret choices
    assert "a1b2c3" not in text  # anonymous poll rows are not linkable to Bob
    # Carol's file holds nothing of Bob's
    carol = json.dumps(await privacy.collect(db, CAROL), default=str)
    assert "Bob" not in carol and "against" not in carol and "20 pork" not in carol


async def test_forget_leaves_no_user_id_and_keeps_ballots_counted(db: Database) -> None:
    ids = await seed(db)
    assert await privacy.rows_about(db, BOB)
    done = await privacy.forget(db, BOB, lambda lang: WORDS)
    assert await privacy.rows_about(db, BOB) == {}
    # nothing with his name either
    for table, columns in privacy.PERSONAL.items():
        for column, what in columns.items():
            if what == "name":
                row = await db.fetchone(f"SELECT count(*) FROM {table} WHERE {column} LIKE 'Bob%'")
                assert row is not None and row[0] == 0, f"{table}.{column}"
    ballots = await db.fetchall(
        "SELECT label, choice, by_id, by_name FROM decision_ballots ORDER BY label"
    )
    assert [tuple(b) for b in ballots] == [
        ("3-502", "against", 0, "former resident"),
        ("3-503", "for", 0, "a lead"),  # the paper ballot he recorded: "a lead"
    ]
    audit = await db.fetchall("SELECT by_name FROM decision_audit ORDER BY label")
    assert [a[0] for a in audit] == ["former resident", "a lead"]
    # his open poll vote is withdrawn (Carol's stays); the anonymous row is untouched
    votes = await db.fetchall("SELECT voter FROM poll_votes ORDER BY voter")
    assert [v[0] for v in votes] == ["8", "a1b2c3"]
    assert done.polls == {ids["poll"]}
    # his listing and its card go; Carol's ladder keeps its loan history, without him
    assert await db.fetchone("SELECT 1 FROM items WHERE id = ?", (ids["bob_item"],)) is None
    assert done.delete_cards == [(GROUP, 55)]
    loan = await db.fetchone("SELECT borrower_id, borrower_name FROM loans")
    assert loan is not None and tuple(loan) == (0, "former resident")
    remind = await db.fetchone("SELECT status FROM scheduled WHERE kind = 'loan_remind'")
    assert remind is not None and remind[0] == "cancelled"
    # the open group buy loses his order; the closed one keeps it anonymously
    orders = await db.fetchall("SELECT groupbuy_id, user_id, user_name FROM groupbuy_orders")
    assert len(orders) == 1 and orders[0]["groupbuy_id"] == ids["gb_closed"]
    assert orders[0]["user_id"] < 0 and orders[0]["user_name"] == "former resident"
    # reminders gone (scheduled rows cancelled or cascaded), the announcement anonymised
    posts = await db.fetchall("SELECT kind, creator_id, creator_name FROM posts")
    assert [tuple(p) for p in posts] == [("announcement", 0, "former resident")]
    pending = await db.fetchall("SELECT ref_id FROM scheduled WHERE status = 'pending'")
    assert [p[0] for p in pending] == [ids["post_announcement_-1001"]]
    # his private chat is gone; the groups and Carol are intact
    assert await chats.get(db, BOB) is None
    assert await chats.get(db, GROUP) is not None
    carol = await privacy.collect(db, CAROL)
    assert len(carol["memberships"]) == 1 and len(carol["event_signups"]) == 1
    assert len(carol["roster_slots"]) == 1 and len(carol["items"]) == 1
    # the unit stays in the register; Carol's claim approved by him stays, without him
    claim = await db.fetchone("SELECT user_id, decided_by FROM unit_members")
    assert claim is not None and tuple(claim) == (CAROL, None)
    # a second time: nothing left to do
    again = await privacy.forget(db, BOB, lambda lang: WORDS)
    assert again.total == 0


async def test_purge_group_empties_every_table_of_that_group_only(db: Database) -> None:
    await seed(db)
    stale = await privacy.purge_group(db, GROUP)
    assert stale is not None and len(stale) >= 3
    for table in await db.tables():
        cols = {c["name"] for c in await db.fetchall(f'PRAGMA table_info("{table}")')}
        if "chat_id" in cols:
            row = await db.fetchone(f'SELECT count(*) FROM "{table}" WHERE chat_id = ?', (GROUP,))
            assert row is not None and row[0] == 0, table
    fts = await db.fetchone("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'drill'")
    assert fts is not None and fts[0] == 0
    assert await chats.get(db, GROUP) is None
    other = await db.fetchone("SELECT count(*) FROM members WHERE chat_id = ?", (OTHER,))
    assert other is not None and other[0] == 1
    assert await privacy.purge_group(db, GROUP) is None  # twice: nothing there
    assert await privacy.purge_group(db, BOB) is None  # never a private chat


async def test_retention_purges_only_what_ended_before_the_cutoff(db: Database) -> None:
    old = NOW - timedelta(days=400)
    ids = await seed(db, at=old)
    recent = await seed(db, at=NOW, tag="r")
    ended = to_db(old + timedelta(days=1))
    async with db.write() as c:
        await c.execute(
            "UPDATE polls SET status = 'closed', closed_at = ? WHERE id = ?", (ended, ids["poll"])
        )
        for table in ("groupbuys", "chains"):
            await c.execute(
                f"UPDATE {table} SET status = 'closed', closed_at = ? WHERE created_at = ?",
                (ended, to_db(old)),
            )
        await c.execute(
            "UPDATE decisions SET status = 'closed', closed_at = ? WHERE created_at = ?",
            (ended, to_db(old)),
        )
        await c.execute(
            "UPDATE loans SET status = 'returned', returned_at = ? WHERE lent_at = ?",
            (ended, to_db(old)),
        )
        await c.execute("UPDATE items SET status = 'withdrawn' WHERE id = ?", (ids["bob_item"],))
        # the recent seed's things are closed too, but ended yesterday
        await c.execute(
            "UPDATE polls SET status = 'closed', closed_at = ? WHERE id = ?",
            (to_db(NOW - timedelta(days=1)), recent["poll"]),
        )
    counts = await privacy.purge_old(db, GROUP, NOW - timedelta(days=365))
    for table in ("polls", "decisions", "events", "rosters", "groupbuys", "chains", "items"):
        assert counts.get(table, 0) >= 1, (table, counts)
    left = await db.fetchall("SELECT id FROM polls WHERE chat_id = ? ORDER BY id", (GROUP,))
    # the old open anonymous poll stays (never closed), the recent ones stay
    assert ids["poll"] not in [r[0] for r in left] and recent["poll"] in [r[0] for r in left]
    assert ids["anon_poll"] in [r[0] for r in left]
    # Carol's old ladder is still lent out (status 'lent'): kept, with its open loan
    assert await db.fetchone("SELECT 1 FROM items WHERE id = ?", (ids["carol_item"],))
    # the other group is untouched, and a second run deletes nothing more
    assert await privacy.purge_old(db, GROUP, NOW - timedelta(days=365)) == {}
    assert await db.fetchone("SELECT 1 FROM members WHERE chat_id = ?", (OTHER,))


async def test_retention_rows_one_per_group_idempotent(db: Database) -> None:
    first = NOW + timedelta(hours=1)
    added = await privacy.ensure_retention_rows(db, lambda zone: first, NOW)
    assert sorted(r for r, _ in added) == sorted(r for r, _ in added) and len(added) == 2
    assert await privacy.ensure_retention_rows(db, lambda zone: first, NOW) == []
    rows = await db.fetchall(
        "SELECT chat_id FROM scheduled WHERE kind = ? ORDER BY chat_id", (privacy.RETENTION_KIND,)
    )
    assert [r[0] for r in rows] == [OTHER, GROUP]  # groups only, not Bob's private chat
    # rows move with a supergroup migration like every chat row
    await chats.migrate(db, GROUP, -100999, NOW)
    moved = await db.fetchone(
        "SELECT count(*) FROM scheduled WHERE kind = ? AND chat_id = -100999",
        (privacy.RETENTION_KIND,),
    )
    assert moved is not None and moved[0] == 1
