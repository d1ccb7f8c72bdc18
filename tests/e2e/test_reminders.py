"""Reminders and scheduled announcements, end to end: typed in three languages, confirmed
with the exact local time, listed, cancelled, paused, fired by the real JobQueue, and kept
across restarts (late within grace with a note; missed beyond it; never twice)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.i18n import format_datetime
from playground import FakeTelegram
from storage import posts, scheduled
from storage.db import Database, to_db
from tests.e2e.conftest import World, start_app, stop_app


async def make_due(world: World, post_id: int, *, ago: timedelta = timedelta(seconds=1)) -> None:
    """Move a post's pending occurrence into the past (instead of waiting for it)."""
    due = world.services.clock() - ago
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ?"
            " WHERE kind = 'post' AND ref_id = ? AND status = 'pending'",
            (to_db(due), to_db(due), post_id),
        )


async def fire_due(world: World, chat_id: int, *, expect: str | None = None) -> str:
    """Arm what is due and wait for the bot to say it (a real JobQueue job)."""
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    call = await world.fake.wait_for("sendMessage", since=mark, timeout=10, chat_id=chat_id)
    text = str(call.params["text"])
    if expect is not None:
        assert expect in text, text
    return text


async def eventually(check, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline
    """Wait for a scheduled job's work to finish (jobs are not update handlers: settle() does not
    see them)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def post_status(world: World, post_id: int) -> str:
    post = await posts.get(world.services.db, post_id)
    assert post is not None
    return post.status


async def last_post(world: World) -> posts.Post:
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM posts")
    post = await posts.get(world.services.db, row["id"])
    assert post is not None
    return post


async def test_private_reminder_is_confirmed_listed_and_fired(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(
        world.bob.send(world.bob.private, "/remind in 2 hours call the plumber")
    )
    text = replies.text(world.bob.private)
    assert "I will remind you" in text and "(UTC)" in text and "call the plumber" in text
    post = await last_post(world)
    assert post.kind == "reminder" and post.target_chat_id == world.bob.id and post.rrule is None

    listed = await world.do(world.bob.send(world.bob.private, "/reminders"))
    assert "call the plumber" in listed.text(world.bob.private)

    await make_due(world, post.id)
    said = await fire_due(world, world.bob.private.id, expect="Reminder: call the plumber")
    assert "offline" not in said  # on time: no late note

    async def done() -> bool:
        return await post_status(world, post.id) == "done"

    await eventually(done)
    # it never fires twice: even armed again and given time, it stays said once
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    await asyncio.sleep(0.3)
    said_it = [
        c
        for c in world.fake.calls_to("sendMessage", chat_id=world.bob.private.id)
        if c.ok and "Reminder: call the plumber" in c.params["text"]
    ]
    assert len(said_it) == 1


async def test_group_reminder_needs_organizer_by_default(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/remind tomorrow 9:00 bins"))
    assert "/remindme" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM posts") is None
    replies = await world.do(world.alice.send(world.court, "/remind tomorrow 9:00 | bins out"))
    assert "I will remind this group" in replies.text(world.court)


async def test_remindme_without_start_gives_a_link_and_falls_back_to_the_group(
    world: World,
) -> None:
    await world.with_bot()
    replies = await world.do(
        world.bob.send(world.court, "/remindme in 30 minutes pick up the parcel")
    )
    text = replies.text(world.court)
    assert "t.me/courtyard_bot?start=" in text and "Start" in text
    again = await world.do(world.bob.send(world.court, "/remindme in 40 minutes and the milk"))
    assert "t.me/courtyard_bot?start=" in again.text(world.court)  # still not started
    post = await posts.get(world.services.db, (await last_post(world)).id - 1)
    assert post is not None
    await make_due(world, post.id)
    said = await fire_due(world, world.court.id)
    assert "pick up the parcel" in said and f"tg://user?id={world.bob.id}" in said


async def test_remindme_after_start_is_private(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.court, "/remindme in 1 hour water the plants"))
    assert "privately" in replies.text(world.court)
    post = await last_post(world)
    await make_due(world, post.id)
    await fire_due(world, world.bob.private.id, expect="water the plants")


async def test_reminders_in_chinese_and_russian(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language zh"))
    await world.do(world.alice.send(world.court, "/settings timezone Asia/Shanghai"))
    replies = await world.do(world.alice.send(world.court, "/remind 每周二晚上8点 倒垃圾"))
    text = replies.text(world.court)
    assert "每周二" in text and "20:00" in text and "(Asia/Shanghai)" in text
    post = await last_post(world)
    assert post.rrule == "FREQ=WEEKLY;BYDAY=TU" and post.text == "倒垃圾"

    await world.do(world.alice.send(world.court, "/settings language ru"))
    await world.do(world.alice.send(world.court, "/settings timezone Europe/Moscow"))
    replies = await world.do(world.alice.send(world.court, "/remind завтра в 9:00 вынести мусор"))
    text = replies.text(world.court)
    assert "09:00" in text and "(Europe/Moscow)" in text and "вынести мусор" in text


async def test_bad_times_get_clear_answers(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    text = (await world.do(world.bob.send(world.bob.private, "/remind yesterday 9:00 x"))).text(
        world.bob.private
    )
    assert "in the past" in text
    text = (await world.do(world.bob.send(world.bob.private, "/remind blorp the cat"))).text(
        world.bob.private
    )
    assert "could not understand the time" in text
    text = (await world.do(world.bob.send(world.bob.private, "/remind tomorrow 9:00"))).text(
        world.bob.private
    )
    assert "What should I say" in text
    text = (await world.do(world.bob.send(world.bob.private, "/remind"))).text(world.bob.private)
    assert "Write when and what" in text
    assert await world.services.db.fetchone("SELECT id FROM posts") is None


async def test_cancel_is_final(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.bob.send(world.bob.private, "/remind in 2 hours stretch"))
    post = await last_post(world)
    await world.do(world.bob.send(world.bob.private, "/reminders"))
    listing = world.fake.last_bot_message(world.bob.private)
    replies = await world.do(world.bob.press(listing, f"pp:c:{post.id}"))
    assert replies.answer_text() == "Cancelled."
    assert (await posts.get(world.services.db, post.id)).status == "cancelled"
    await make_due(world, post.id)  # even if its time comes, nothing is said
    row = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = 'post' AND ref_id = ?", (post.id,)
    )
    assert row["status"] == "cancelled"
    # a second press on the old list is answered, not obeyed
    replies = await world.do(world.bob.press(listing, f"pp:c:{post.id}", check=False))
    assert "already finished or cancelled" in replies.answer_text()


async def test_strangers_cannot_cancel_and_forged_ids_are_refused(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/announce tomorrow 10:00 | Yard cleanup"))
    post = await last_post(world)
    await world.do(world.alice.send(world.court, "/announcements"))
    listing = world.fake.last_bot_message(world.court)
    replies = await world.do(world.bob.press(listing, f"pp:c:{post.id}", check=False))
    assert replies.answers()[0]["show_alert"]
    assert (await posts.get(world.services.db, post.id)).status == "active"
    for data in ("pp:c:999999", "pp:x:1", "pp:c:abc", "pp:c"):
        replies = await world.do(world.alice.press(listing, data, check=False))
        assert "no longer works" in replies.answer_text(), data


async def test_recurring_announcement_pins_pauses_and_resumes(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    replies = await world.do(
        world.alice.send(world.court, "/announce every monday 9:00 | Bins go out tonight | pin")
    )
    text = replies.text(world.court)
    assert "every Monday" in text and "pin" in text
    post = await last_post(world)
    assert post.pin and post.rrule == "FREQ=WEEKLY;BYDAY=MO"
    await make_due(world, post.id)
    await fire_due(world, world.court.id, expect="📢 Bins go out tonight")
    await world.settle()
    assert world.fake.calls_to("pinChatMessage", chat_id=world.court.id)
    nxt = await scheduled.pending_for(world.services.db, "post", post.id)
    assert nxt is not None and nxt.run_at > world.services.clock()
    assert nxt.run_at.weekday() == 0 and nxt.run_at.hour == 9  # Monday 09:00 UTC

    await world.do(world.alice.send(world.court, "/announcements"))
    listing = world.fake.last_bot_message(world.court)
    replies = await world.do(world.alice.press(listing, f"pp:p:{post.id}"))
    assert "Paused" in replies.answer_text()
    assert (await scheduled.pending_for(world.services.db, "post", post.id)).status == "paused"
    listing = world.fake.message(world.court, listing.message_id)
    replies = await world.do(world.alice.press(listing, f"pp:r:{post.id}"))
    assert replies.answer_text() == "Resumed."
    resumed = await scheduled.pending_for(world.services.db, "post", post.id)
    assert resumed.status == "pending" and resumed.run_at > world.services.clock()


async def test_a_reminder_due_during_downtime_fires_once_late_with_a_note(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.bob.send(world.bob.private, "/remind in 3 hours feed the cat"))
    await world.do(world.bob.send(world.bob.private, "/remind in 4 hours old news"))
    late, stale = await world.services.db.fetchall("SELECT id FROM posts ORDER BY id")
    await stop_app(app)  # the bot is down...

    # ...while one falls due 30 minutes ago (inside the grace) and one 5 hours ago (beyond it)
    db = await Database.open(db_path)
    async with db.write() as conn:
        for post_id, ago in (
            (late["id"], timedelta(minutes=30)),
            (stale["id"], timedelta(hours=5)),
        ):
            await conn.execute(
                "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'post' AND ref_id = ?",
                (to_db(datetime.now(UTC) - ago), to_db(datetime.now(UTC) - ago), post_id),
            )
    await db.close()

    mark = fake.mark()
    app = await start_app(fake, db_path)
    world.app = app
    try:
        first = await fake.wait_for("sendMessage", since=mark, timeout=10, chat_id=world.bob.id)
        await world.settle()
        await asyncio.sleep(0.3)
        texts = [
            c.params["text"]
            for c in fake.calls_to("sendMessage", chat_id=world.bob.id)[:]
            if c.index >= mark and c.ok
        ]
        assert first is not None
        assert sum("feed the cat" in t for t in texts) == 1
        assert any("feed the cat" in t and "offline" in t for t in texts)
        assert sum("old news" in t for t in texts) == 1
        assert any("missed a scheduled message" in t and "old news" in t for t in texts)
        statuses = await world.services.db.fetchall(
            "SELECT status FROM scheduled WHERE kind = 'post' ORDER BY ref_id"
        )
        assert [r["status"] for r in statuses] == ["done", "missed"]
    finally:
        await stop_app(app)

    # a third start fires nothing again
    mark = fake.mark()
    app = await start_app(fake, db_path)
    try:
        await World(fake, app).settle()
        assert [
            c for c in fake.calls_to("sendMessage", chat_id=world.bob.id) if c.index >= mark
        ] == []
    finally:
        await stop_app(app)


async def test_weekly_digest_lists_the_coming_week_and_skips_an_empty_one(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings digest every sunday 18:00"))
    assert "Weekly digest on" in replies.text(world.court)
    row = await world.services.db.fetchone(
        "SELECT id, run_at FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
    )
    assert row is not None
    # an empty week posts nothing
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE id = ?2",
            (to_db(world.services.clock() - timedelta(seconds=1)), row["id"]),
        )
    mark = world.fake.mark()
    assert await world.services.scheduler.fire(row["id"]) == "done"
    assert [
        c for c in world.fake.calls_to("sendMessage", chat_id=world.court.id) if c.index >= mark
    ] == []
    # with an announcement in the coming week, the digest lists it
    await world.do(world.alice.send(world.court, "/announce in 2 days | Water off 10:00-12:00"))
    nxt = await world.services.db.fetchone(
        "SELECT id FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
    )
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE id = ?2",
            (to_db(world.services.clock() - timedelta(seconds=1)), nxt["id"]),
        )
    mark = world.fake.mark()
    assert await world.services.scheduler.fire(nxt["id"]) == "done"
    [call] = [
        c for c in world.fake.calls_to("sendMessage", chat_id=world.court.id) if c.index >= mark
    ]
    assert "The week ahead" in call.params["text"] and "Water off" in call.params["text"]
    replies = await world.do(world.alice.send(world.court, "/settings digest off"))
    assert "digest off" in replies.text(world.court)
    assert (
        await world.services.db.fetchone(
            "SELECT id FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
        )
        is None
    )


async def test_posts_keep_their_wall_time_when_the_group_fixes_its_zone(world: World) -> None:
    """Groups start in UTC; residents set things up; then a lead sets the real zone. Every
    Monday 9:00 must stay 9:00 for the residents, in the new zone."""
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/announce every monday 9:00 | Bins tonight"))
    weekly = await last_post(world)
    await world.do(world.alice.send(world.court, "/remind in 3 days | water the courtyard"))
    once = await last_post(world)
    before = await scheduled.pending_for(world.services.db, "post", once.id)
    assert before is not None

    replies = await world.do(world.alice.send(world.court, "/settings timezone Asia/Shanghai"))
    assert "Asia/Shanghai" in replies.text(world.court)

    row = await scheduled.pending_for(world.services.db, "post", weekly.id)
    assert row is not None
    local = row.run_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert row.run_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    assert (await posts.get(world.services.db, weekly.id)).tz == "Asia/Shanghai"
    # the one-off keeps its wall time too: 8 hours earlier in absolute time
    after = await scheduled.pending_for(world.services.db, "post", once.id)
    assert after is not None and before.run_at - after.run_at == timedelta(hours=8)
    listed = (await world.do(world.alice.send(world.court, "/announcements"))).text(world.court)
    assert "09:00 (Asia/Shanghai)" in listed


async def test_a_personal_reminder_is_shown_only_to_its_owner(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.bob.send(world.court, "/remindme tomorrow 8:00 move my car"))
    personal = await last_post(world)
    await world.do(world.alice.send(world.court, "/remind tomorrow 9:00 | bins out"))
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.alice.private, "/remind tomorrow 7:00 call mum"))

    # a lead's /reminders in the group: the group's reminders, nobody's personal ones
    replies = await world.do(world.alice.send(world.court, "/reminders"))
    listed = replies.text(world.court)
    assert "bins out" in listed
    assert "move my car" not in listed and "Bob" not in listed and "call mum" not in listed
    assert "/remindme" in listed  # where personal reminders are to be found
    listing = world.fake.last_bot_message(world.court)
    buttons = str(listing.reply_markup.to_dict() if listing and listing.reply_markup else "")
    assert f"pp:c:{personal.id}" not in buttons

    # a resident's /reminders in the group does not show their own personal ones either
    replies = await world.do(world.bob.send(world.court, "/reminders"))
    assert "move my car" not in replies.text(world.court)

    # privately, each sees their own and only their own
    mine = (await world.do(world.bob.send(world.bob.private, "/reminders"))).text(world.bob.private)
    assert "move my car" in mine and "bins out" not in mine and "call mum" not in mine
    hers = await world.do(world.alice.send(world.alice.private, "/reminders"))
    assert "call mum" in hers.text(world.alice.private)
    assert "move my car" not in hers.text(world.alice.private)

    # and a lead cannot cancel it with forged button data in the group
    replies = await world.do(world.alice.press(listing, f"pp:c:{personal.id}", check=False))
    assert "no longer works" in replies.answer_text()
    assert await post_status(world, personal.id) == "active"
    # its owner still can, from their private list
    private_list = world.fake.last_bot_message(world.bob.private)
    replies = await world.do(world.bob.press(private_list, f"pp:c:{personal.id}"))
    assert await post_status(world, personal.id) == "cancelled"


async def test_hourly_posts_have_a_floor_and_every_rule_reads_in_words(world: World) -> None:
    """Issue 12: "every 30 minutes" floods a group and is refused with the reason; "every 2
    hours" goes, and fires again two hours later; fortnightly and nth-weekday rules are said in
    words in all three languages (never just "repeating")."""
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/announce every 30 minutes | Tea"))
    assert "at most every 60 minutes" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM posts") is None

    replies = await world.do(world.alice.send(world.court, "/announce every 2 hours | Tea"))
    assert "every 2 hours · next" in replies.text(world.court)
    post = await last_post(world)
    assert post.rrule == "FREQ=HOURLY;INTERVAL=2"
    await make_due(world, post.id)
    await fire_due(world, world.court.id, expect="Tea")
    first_due = world.services.clock()

    async def armed_again() -> bool:
        row = await world.services.db.fetchone(
            "SELECT run_at FROM scheduled WHERE kind = 'post' AND ref_id = ?"
            " AND status = 'pending'",
            (post.id,),
        )
        return row is not None

    await eventually(armed_again)
    row = await world.services.db.fetchone(
        "SELECT run_at FROM scheduled WHERE kind = 'post' AND ref_id = ? AND status = 'pending'",
        (post.id,),
    )
    following = datetime.fromisoformat(row["run_at"]).replace(tzinfo=UTC)
    assert timedelta(minutes=100) < following - first_due <= timedelta(hours=2)

    replies = await world.do(
        world.alice.send(world.court, "/announce every 2 weeks on tuesday 20:00 | Committee")
    )
    now = world.services.clock()
    ahead = (1 - now.weekday()) % 7
    tuesday = (now + timedelta(days=ahead)).replace(hour=20, minute=0, second=0, microsecond=0)
    if tuesday <= now:
        tuesday += timedelta(days=7)
    shown = format_datetime(tuesday, "en", "UTC")
    assert f"every 2 weeks on Tuesday · next {shown}" in replies.text(world.court)

    await world.do(world.alice.send(world.court, "/settings language zh"))
    replies = await world.do(
        world.alice.send(world.court, "/announce 每隔一周的周三晚上8点 | 开会")
    )
    assert "每隔一周的周三 · 下次" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/announce 每半小时 | 喝水"))
    assert "最多每60分钟" in replies.text(world.court)
    await world.do(world.alice.send(world.court, "/settings language ru"))
    replies = await world.do(
        world.alice.send(world.court, "/announce каждый первый понедельник месяца в 19:00 | Сбор")
    )
    assert "каждый первый понедельник месяца · в следующий раз" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/announce каждые 15 минут | Чай"))
    assert "не чаще чем раз в 60 минут" in replies.text(world.court)


async def test_a_private_reminder_may_repeat_more_often_than_a_group_post(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.bob.private, "/remind every 5 minutes stretch"))
    assert "at most every 15 minutes" in replies.text(world.bob.private)
    replies = await world.do(world.bob.send(world.bob.private, "/remind every 20 minutes stretch"))
    assert "every 20 minutes · next" in replies.text(world.bob.private)
    assert (await last_post(world)).rrule == "FREQ=MINUTELY;INTERVAL=20"


async def test_a_range_is_confirmed_with_its_end_and_fires_at_its_start(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(
        world.bob.send(world.bob.private, "/remind tomorrow 4-5pm call the plumber")
    )
    text = replies.text(world.bob.private)
    assert "16:00–17:00 (UTC)" in text and "call the plumber" in text
    post = await last_post(world)
    assert post.first_local.hour == 16 and post.first_local.minute == 0
    assert post.text == "call the plumber"
