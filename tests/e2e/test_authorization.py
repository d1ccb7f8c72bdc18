"""Authorization matrix: every command of the catalogue (bot/domain/commands.py) × resident /
organizer / lead, and the buttons of every registered callback prefix × resident / lead /
stranger from another chat, checked against the intended permission table (README,
"Permission table"; the features' notes). The table below is written by hand on purpose: it is
what we *mean*, and the bot is checked against it — not against ``required_role`` itself.

Run with ``-s`` to see the matrix as it was observed.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from telegram.ext import CallbackQueryHandler

from bot.domain.commands import COMMANDS
from playground import FakeUser
from tests.e2e.conftest import World

RES, ORG, LEAD = "resident", "organizer", "lead"
ROLES = (RES, ORG, LEAD)
REFUSAL = "Sorry, only"  # error.not_allowed in English: "Sorry, only {who} can do that here."
REFUSAL_BUTTON = "can use this button"  # error.not_allowed_button
#: error.not_allowed, and /remind's own refusal in a group (it points to /remindme)
REFUSALS = (REFUSAL, "can be set only by")
STALE = "This button no longer works"  # error.stale_button
INTERNAL = "something went wrong"

#: command -> (arguments, roles that may use it in a group with the default settings:
#: polls and events by everyone, group reminders by organizers).
INTENDED: dict[str, tuple[str, frozenset[str]]] = {
    "start": ("", frozenset({RES, ORG, LEAD})),
    "help": ("", frozenset({RES, ORG, LEAD})),
    "settings": ("", frozenset({LEAD})),
    "grant": ("organizer", frozenset({LEAD})),
    "revoke": ("organizer", frozenset({LEAD})),
    "remind": ("tomorrow 9:00 | bins out", frozenset({ORG, LEAD})),
    "remindme": ("tomorrow 9:00 | water plants", frozenset({RES, ORG, LEAD})),
    "reminders": ("", frozenset({RES, ORG, LEAD})),
    "announce": ("tomorrow 10:00 | Yard cleanup", frozenset({ORG, LEAD})),
    "announcements": ("", frozenset({ORG, LEAD})),
    "unit": ("12", frozenset({RES, ORG, LEAD})),
    "units": ("", frozenset({LEAD})),
    "poll": ("Paint? | Green | Blue", frozenset({RES, ORG, LEAD})),
    "decide": ("Paint the hall", frozenset({ORG, LEAD})),
    "ballot": ("", frozenset({LEAD})),
    "audit": ("", frozenset({LEAD})),
    "meeting": ("Annual meeting | Repair the roof", frozenset({LEAD})),
    "close": ("P999", frozenset({RES, ORG, LEAD})),
    "event": ("Cleanup | tomorrow 10:00 | Yard", frozenset({RES, ORG, LEAD})),
    "events": ("", frozenset({RES, ORG, LEAD})),
    "calendar": ("", frozenset({RES, ORG, LEAD})),
    "roster": ("Stairs | sat 8:00-12:00 | per slot 2", frozenset({RES, ORG, LEAD})),
    "offer": ("Drill | lend", frozenset({RES, ORG, LEAD})),
    "need": ("ladder", frozenset({RES, ORG, LEAD})),
    "items": ("", frozenset({RES, ORG, LEAD})),
    "mine": ("", frozenset({RES, ORG, LEAD})),
    "skill": ("plumbing", frozenset({RES, ORG, LEAD})),
    "skills": ("", frozenset({RES, ORG, LEAD})),
    "groupbuy": ("Rice | 30元 | tomorrow 20:00", frozenset({RES, ORG, LEAD})),
    "chain": ("Dumplings", frozenset({RES, ORG, LEAD})),
    "export": ("P999", frozenset({RES, ORG, LEAD})),
    "rollcall": ("Fire drill", frozenset({ORG, LEAD})),
    "helper": ("on", frozenset({RES, ORG, LEAD})),
    "checkonme": ("", frozenset({RES, ORG, LEAD})),  # private only: answered as such
    "info": ("", frozenset({RES, ORG, LEAD})),
    "hours": ("", frozenset({RES, ORG, LEAD})),
    "rules": ("", frozenset({RES, ORG, LEAD})),
    "amend": ("1 Quiet from 23:00", frozenset({RES, ORG, LEAD})),
    "propose": ("Fix the lights | dark since October", frozenset({RES, ORG, LEAD})),
    "proposals": ("", frozenset({RES, ORG, LEAD})),
    "say": ("T999 LED lamps", frozenset({RES, ORG, LEAD})),
    "review": ("T999 well", frozenset({RES, ORG, LEAD})),
    "hearing": ("T999 | tomorrow 18:00 | Yard", frozenset({ORG, LEAD})),
    "coordination": ("T999 | cost | tomorrow 18:00", frozenset({ORG, LEAD})),
    "minutes": ("T999 | 12 came", frozenset({ORG, LEAD})),
    "agenda": ("T999", frozenset({LEAD})),
    "decline": ("T999 the city does it", frozenset({LEAD})),
    "progress": ("T999 10% ordered", frozenset({LEAD})),
    "report": ("Lift stuck | entrance 2", frozenset({RES, ORG, LEAD})),
    "reports": ("", frozenset({RES, ORG, LEAD})),
    "notice": ("Water off on Tuesday", frozenset({ORG, LEAD})),
    # last: they change or delete what the commands above stored
    "mydata": ("", frozenset({RES, ORG, LEAD})),
    "forgetme": ("", frozenset({RES, ORG, LEAD})),
    "purge": ("", frozenset({LEAD})),
}

#: (setting command, command, roles that may use it then)
VARIANTS: list[tuple[str, str, frozenset[str]]] = [
    ("/settings polls organizers", "poll", frozenset({ORG, LEAD})),
    ("/settings polls leads", "poll", frozenset({LEAD})),
    ("/settings events organizers", "event", frozenset({ORG, LEAD})),
    ("/settings events leads", "roster", frozenset({LEAD})),
    ("/settings reminders everyone", "remind", frozenset({RES, ORG, LEAD})),
    ("/settings reminders leads", "remind", frozenset({LEAD})),
]


def cell(allowed: bool) -> str:
    return "yes" if allowed else "no"


async def cast(world: World) -> dict[str, FakeUser]:
    """Alice leads (Telegram admin), Кэрол is granted organizer, Bob stays a resident."""
    await world.with_bot()
    said = await world.carol.send(world.court, "hi")
    replies = await world.do(world.alice.send(world.court, "/grant organizer", reply_to=said))
    assert replies.sent(world.court), "the grant was not answered"
    return {RES: world.bob, ORG: world.carol, LEAD: world.alice}


async def refused(world: World, who: FakeUser, text: str) -> tuple[bool, str]:
    replies = await world.do(who.send(world.court, text))
    said = replies.text(world.court)
    assert INTERNAL not in said, (text, said)
    return any(marker in said for marker in REFUSALS), said


async def test_every_command_against_the_permission_table(world: World) -> None:
    people = await cast(world)
    assert {c.name for c in COMMANDS} == set(INTENDED), "a command is missing from the table"
    observed: dict[str, dict[str, bool]] = {}
    wrong = []
    for name, (args, allowed) in INTENDED.items():
        observed[name] = {}
        for role in ROLES:
            no, said = await refused(world, people[role], f"/{name} {args}".strip())
            observed[name][role] = not no
            if no == (role in allowed):
                wrong.append((name, role, "expected " + cell(role in allowed), said[:120]))
    lines = ["| Command | Resident | Organizer | Lead |", "|---|---|---|---|"]
    lines += [
        f"| `/{n}` | " + " | ".join(cell(observed[n][r]) for r in ROLES) + " |" for n in observed
    ]
    print("\n".join(lines))
    assert not wrong, wrong


async def test_group_settings_move_the_permission(world: World) -> None:
    people = await cast(world)
    wrong = []
    for setting, name, allowed in VARIANTS:
        set_reply = (await world.do(world.alice.send(world.court, setting))).text(world.court)
        assert REFUSAL not in set_reply and INTERNAL not in set_reply, set_reply
        args = INTENDED[name][0]
        for role in ROLES:
            no, said = await refused(world, people[role], f"/{name} {args}")
            if no == (role in allowed):
                wrong.append((setting, name, role, said[:120]))
        print(f"{setting}: /{name} -> " + ", ".join(r for r in ROLES if r in allowed))
    assert not wrong, wrong


# --- buttons -----------------------------------------------------------------------------------


def registered_prefixes(world: World) -> set[str]:
    found = set()
    for handlers in world.app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = getattr(handler.pattern, "pattern", handler.pattern)
                match = re.match(r"\^([a-z]{2}):", str(pattern))
                if match:
                    found.add(match.group(1))
    return found


def snapshot(path: Path) -> dict[str, list[Any]]:
    """Every feature table (not the bookkeeping of who was seen or which update was handled)."""
    skip = {"updates_seen", "members", "chats", "delivery_failures", "sqlite_sequence"}
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] not in skip and not r[0].startswith(("sqlite_", "items_fts"))
        ]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}
    finally:
        conn.close()


def buttons_of(world: World, chat: Any) -> list[str]:
    data = []
    for message in chat.bot_messages:
        markup = message.reply_markup
        if markup is None:
            continue
        for row in markup.inline_keyboard:
            data += [b.callback_data for b in row if isinstance(b.callback_data, str)]
    return data


async def make_cards(world: World, chat: Any, lead: FakeUser) -> None:
    for text in (
        "/poll Paint? | Green | Blue",
        "/decide Paint the hall",
        "/meeting Annual meeting | Repair the roof | Paint the stairwell",
        "/event Cleanup | tomorrow 10:00 | Yard | 5",
        "/roster Stairs | sat 8:00-12:00 | per slot 2",
        "/offer Drill | lend",
        "/skill plumbing",
        "/groupbuy Rice | 30元 | tomorrow 20:00",
        "/chain Dumplings",
        "/rollcall Fire drill",
        "/report Lift stuck | entrance 2",
        "/notice Water off on Tuesday | confirm by in 3 days",
        "/rules draft 1. Quiet after 22:00\n2. Bicycles in the bicycle room",
        "/amend 1 Quiet after 23:00",
        "/propose Fix the lights | dark since October",
        "/remind tomorrow 9:00 | bins out",
        "/reminders",
        "/settings",
        "/units",
    ):
        replies = await world.do(lead.send(chat, text))
        assert INTERNAL not in replies.text(chat), text


#: Buttons only a lead (or the card's creator, who is the lead here) may press.
LEAD_ONLY = re.compile(
    r"^(st:|rp:[sdn]:|nt:[wrp]:|un:[arp]|dc:[rc]:|mt:[rc]:|pl:[mac]:|pp:[cpr]:|gb:c:|ch:c:|rc:x:|hr:[adr]:|tp:[avw]:)"
)


async def test_buttons_refuse_residents_and_forged_chats(world: World, tmp_path: Path) -> None:
    await world.with_bot()
    birch = world.fake.group("Birch Court", admins=[world.bob], members=[world.alice])
    await world.do(world.fake.add_bot(birch, by=world.bob))
    await make_cards(world, world.court, world.alice)
    court_data = sorted(set(buttons_of(world, world.court)))
    prefixes = registered_prefixes(world)
    seen = {d.split(":", 1)[0] for d in court_data}
    print("registered prefixes:", sorted(prefixes), "on the cards:", sorted(seen))
    db = world.services.settings.db_path
    rows = []
    wrong = []
    target = world.fake.last_bot_message(birch)
    assert target is not None
    for data in court_data:
        # 1. a stranger: Bob leads Birch Court and presses Maple Court's data on a Birch card
        before = snapshot(db)
        query = await world.bob.press(target, data, check=False)
        await world.settle()
        answer = world.fake.callback_answer(str(query.id))
        text = str((answer or {}).get("text") or "")
        # st: carries no row id: it acts on the chat it is pressed in (Birch, led by Bob)
        stranger_ok = data.startswith("st:") or (
            answer is not None and STALE in text and snapshot(db) == before
        )
        # 2. a resident of Maple Court (Bob, English) presses the real card
        card = next(
            m
            for m in world.court.bot_messages
            if m.reply_markup
            and any(b.callback_data == data for row in m.reply_markup.inline_keyboard for b in row)
        )
        replies = await world.do(world.bob.press(card, data))
        answers = replies.answers()
        if len(answers) != 1:
            wrong.append(("resident press answered", len(answers), "times", data))
            continue
        [resident] = answers
        r_text = str(resident.get("text") or "")
        assert INTERNAL not in r_text, (data, r_text)
        resident_refused = bool(resident.get("show_alert")) and " only " in f" {r_text.lower()}"
        lead_only = bool(LEAD_ONLY.match(data))
        shown = "refused" if resident_refused else "allowed"
        rows.append((data, f"{shown} ({r_text[:50]})", stranger_ok))
        if not stranger_ok:
            wrong.append(("stranger", data, text))
        if lead_only and not resident_refused:
            wrong.append(("resident pressed a lead button", data, r_text))
    print("| Button | Resident | Stranger (forged chat) |")
    print("|---|---|---|")
    for data, resident_cell, stranger_ok in rows:
        print(f"| `{data}` | {resident_cell} | {'refused' if stranger_ok else 'NOT refused'} |")
    assert not wrong, wrong
    assert not wrong, wrong


# --- non-members -------------------------------------------------------------------------------

NOT_MEMBER = "Only members of this group can take part"  # membership.not_member_button
#: Buttons that take part (votes, ballots, sign-ups, slots, orders, requests): members only.
COUNTING = re.compile(
    r"^(pl:v:|rp:m:|nt:g:|dc:v:|mt:v:|ev:|rs:t:|rs:n:|rs:d:|rc:[ohc]:|gb:[pm]:|it:|sk:|hr:[su]:|tp:[sfr]:|ts:)"
)


async def test_a_non_member_presses_every_button_and_nothing_changes(world: World) -> None:
    """A public group (anyone can read it and press its buttons, as in Telegram): a person who
    is not in it presses every button of every card; the counting ones say why, politely,
    and no feature table changes."""
    oak = world.fake.group(
        "Oak Court", admins=[world.alice], members=[world.bob], supergroup=True, username="oak"
    )
    await world.do(world.fake.add_bot(oak, by=world.alice))
    await world.do(world.bob.send(oak, "/offer Drill | lend"))
    for label in ("1-01 50", "1-02 60"):
        await world.do(world.alice.send(oak, f"/units add {label}"))
    await make_cards(world, oak, world.alice)
    data = sorted(set(buttons_of(world, oak)))
    counting = [d for d in data if COUNTING.match(d)]
    assert {d[:3] for d in counting} >= {"pl:", "dc:", "mt:", "ev:", "rs:", "gb:", "it:", "sk:"}, (
        data
    )
    stranger = world.fake.user("Mallory", language_code="en")
    db = world.services.settings.db_path
    before = snapshot(db)
    wrong = []
    for item in data:
        card = next(
            m
            for m in oak.bot_messages
            if m.reply_markup
            and any(b.callback_data == item for row in m.reply_markup.inline_keyboard for b in row)
        )
        replies = await world.do(stranger.press(card, item))
        answers = replies.answers()
        text = str(answers[0].get("text") or "") if len(answers) == 1 else ""
        if len(answers) != 1 or INTERNAL in text:
            wrong.append((item, "answered", answers))
        elif COUNTING.match(item) and not (answers[0].get("show_alert") and NOT_MEMBER in text):
            wrong.append((item, "not refused as a non-member", text))
        elif snapshot(db) != before:
            wrong.append((item, "changed the database", text))
            before = snapshot(db)
        print(f"| `{item}` | {text[:60]} |")
    assert not wrong, wrong
    assert len(world.fake.calls_to("getChatMember", user_id=stranger.id)) == 1
