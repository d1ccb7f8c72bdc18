"""A newcomer's walk through the playground's page, for what the first tests do not show: forum
topics, the page in Traditional Chinese, a ``t.me/<bot>?start=`` button that opens the
person's private chat, files sent from the page (a CSV register in private, a house rules draft
as a reply, a photo with a caption) — each a click or a typed line, as a person would do it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from playground.page import words
from tests.browser.conftest import WAIT, Page, start_playground, stop_playground


def topic(page: Page, name: str) -> Any:
    """Open the forum topic ``name`` of the open group."""
    found = page.until(
        lambda: [t for t in page.find_all("[data-testid=topic]") if name in t.text],
        f"the topic {name!r} in the list",
    )[0]
    found.click()
    page.until(lambda: name in page.one("[data-testid=chat-title]").text, f"{name!r} opened")
    return found


def press_data(page: Page, message: Any, prefix: str) -> None:
    """Click the button of ``message`` whose callback data starts with ``prefix``."""
    for button in message.find_elements("css selector", "[data-testid=button]"):
        if (button.get_attribute("data-data") or "").startswith(prefix):
            button.click()
            return
    raise AssertionError(f"no button {prefix}… on the message: {message.text}")


def bot_writes(page: Page, pattern: str, timeout: float = WAIT) -> Any:
    """The newest bot message whose own text (not the message it quotes) matches."""
    wanted = re.compile(pattern)

    def found() -> Any:
        for message in reversed(page.bot_messages()):
            if any(wanted.search(t.text) for t in message.find_elements("css selector", ".text")):
                return message
        return None

    return page.until(found, f"the bot to write {pattern!r}", timeout)


def send_file(page: Page, path: Path) -> None:
    """Choose ``path`` in the page's file picker (the paper clip)."""
    field = page.one("[data-testid=file]")
    page.driver.execute_script("arguments[0].hidden = false", field)  # a picker, not a click
    field.send_keys(str(path))


@pytest.fixture
def forum(driver: Any, tmp_path: Path, screenshots: Path) -> Iterator[Page]:
    running = start_playground(tmp_path, "--forum")
    try:
        yield Page(driver, running.url, screenshots)
    finally:
        assert stop_playground(running) == 0, "".join(running.lines[-40:])


def test_a_resident_signs_up_in_the_events_topic_and_a_lead_closes_a_topic(forum: Page) -> None:
    page = forum
    page.be("Alice Adams")
    page.open_group()
    names = [
        t.find_element("css selector", ".topic-name").text
        for t in page.find_all("[data-testid=topic]")
    ]
    assert names == ["General", "Repairs", "Events", "Sell & give away"]  # General first
    page.one("[data-testid=add-bot]").click()
    page.bot_says(r"Hello, Maple Court")  # in General, where the bot was added
    topic(page, "Events")
    assert not page.bot_messages()  # nothing of General shows in Events
    page.write("/event Courtyard cleanup | Saturday 10:00 | By the playground | 5")
    card = page.bot_says(r"Courtyard cleanup")
    card_id = card.get_attribute("data-id")

    page.be("Bob Baker")
    page.open_group()
    assert not [m for m in page.bot_messages() if "Courtyard cleanup" in m.text]  # General
    topic(page, "Events")
    card = page.until(
        lambda: [m for m in page.bot_messages() if m.get_attribute("data-id") == card_id],
        "the event card in Bob's Events",
    )[0]
    page.press(card, "Going")
    toast = page.until(lambda: page.find_all("[data-testid=toast]"), "the press's answer")[0]
    assert "going" in toast.text.lower(), toast.text
    page.until(
        lambda: [
            m
            for m in page.bot_messages()
            if m.get_attribute("data-id") == card_id and "Bob Baker" in m.text
        ],
        "the card in Events to show Bob going",
    )
    page.write("/events")  # what Bob asks in a topic is answered in that topic
    page.bot_says(r"Upcoming events")
    page.shot("topics")
    topic(page, "General")  # neither the card nor the answer to /events is in General
    assert not [m for m in page.bot_messages() if re.search("Courtyard cleanup|Upcoming", m.text)]

    # a lead makes a topic and closes it: residents can read it, not write in it
    page.be("Alice Adams")
    page.open_group()
    page.one("[data-testid=topic-name]").send_keys("Parking")
    page.one("[data-testid=create-topic]").click()
    page.until(lambda: "Parking" in page.one("[data-testid=chat-title]").text, "Parking opened")
    page.one("[data-testid=close-topic]").click()
    page.until(
        lambda: [s for s in page.find_all("[data-testid=service]") if "closed" in s.text],
        "the topic's closing",
    )
    page.one("[data-testid=reopen-topic]")
    page.be("Bob Baker")
    page.open_group()
    topic(page, "Parking")
    assert page.one("[data-testid=topic-closed]").is_displayed()
    assert page.one("#composer").get_attribute("aria-disabled") == "true"


def test_the_page_and_the_building_in_traditional_chinese(
    driver: Any, tmp_path: Path, screenshots: Path
) -> None:
    running = start_playground(tmp_path, "--lang", "zh-hant", "--forum")
    try:
        page = Page(driver, running.url, screenshots)
        assert page.driver.find_element("css selector", "html").get_attribute("lang") == "zh-Hant"
        assert page.one("[data-testid=menu-button]").text == words("zh-hant", "page.menu")
        assert page.one("[data-testid=send]").text == "傳送"
        page.be("林怡君")
        page.open_group()
        assert "楓林社區" in page.one("[data-testid=chat-title]").text
        listed = " ".join(t.text for t in page.find_all("[data-testid=topic]"))
        assert all(name in listed for name in ("綜合區", "報修", "活動", "二手買賣與贈送"))
        page.one("[data-testid=add-bot]").click()
        welcome = page.bot_says(r"楓林社區的各位鄰居，大家好")
        assert "幫我設定" in welcome.text  # the group speaks Traditional Chinese, not Simplified
        # the menu is the group's, in Traditional Chinese (Telegram's own "zh" menus are Simplified)
        page.one("[data-testid=menu-button]").click()
        poll = page.until(
            lambda: [c for c in page.find_all("[data-testid=command]") if "/poll" in c.text],
            "the menu to list /poll",
        )[0]
        assert "帶按鈕的快速投票" in poll.text, poll.text
        page.one("[data-testid=menu-button]").click()
        topic(page, "活動")
        page.write("/event 中庭大掃除 | 週六 10:00 | 兒童遊戲區旁 | 6")
        card_id = page.bot_says(r"中庭大掃除").get_attribute("data-id")
        page.be("陳冠宇")
        page.open_group()
        topic(page, "活動")
        page.press(page.bot_says(r"中庭大掃除"), "參加")
        page.until(
            lambda: [
                m
                for m in page.bot_messages()
                if m.get_attribute("data-id") == card_id and "陳冠宇" in m.text
            ],
            "the card to show 陳冠宇 going",
        )
        page.shot("zh-hant-topics")
    finally:
        assert stop_playground(running) == 0


def test_a_start_link_button_opens_the_private_chat_and_sends_start(page: Page) -> None:
    page.be("Alice Adams")
    page.open_group()
    page.one("[data-testid=add-bot]").click()
    page.bot_says(r"Hello, Maple Court")
    page.be("Bob Baker")  # Bob never started the bot: it cannot write to him first
    page.open_group()
    page.write("/remindme tomorrow 18:00 take the bins out")
    answer = page.bot_says(r"I cannot write to you privately yet")
    button = answer.find_element("css selector", "[data-testid=link-button]")
    assert re.match(r"https://t\.me/courtyard_bot\?start=\w+", button.get_attribute("data-url"))
    button.click()
    # the page opened Bob's private chat with the bot and sent /start <token> there
    page.until(
        lambda: page.one("[data-testid=chat-private]").get_attribute("class") == "open",
        "Bob's private chat to open",
    )
    mine = page.until(
        lambda: [m for m in page.find_all("[data-testid=message]") if "/start " in m.text],
        "Bob's /start with the link's token",
    )[0]
    assert re.search(r"/start \w+", mine.text), mine.text
    page.bot_says(r"take the bins out")  # the link's promise: his reminders, listed
    page.until(lambda: not page.find_all("[data-testid=start]"), "the Start bar to go")
    page.shot("deep-link")


def test_files_sent_from_the_page_a_register_a_rules_draft_and_a_photo(
    page: Page, tmp_path: Path
) -> None:
    page.be("Alice Adams")
    page.open_group()
    page.one("[data-testid=add-bot]").click()
    page.bot_says(r"Hello, Maple Court")
    # the register, as a CSV file sent to the bot in private
    page.open_private()
    page.one("[data-testid=start]").click()
    page.bot_says(r"Hello, Alice")
    register = tmp_path / "register.csv"
    register.write_text("unit,area\n1-101,62.5\n1-102,48\n1-201,75.2\n", "utf-8")
    send_file(page, register)
    page.until(
        lambda: [d for d in page.find_all("[data-testid=document]") if "register.csv" in d.text],
        "the CSV in the chat",
    )
    question = page.until(
        lambda: [
            m
            for m in page.bot_messages()
            if any(
                (b.get_attribute("data-data") or "").startswith("un:i:")
                for b in m.find_elements("css selector", "[data-testid=button]")
            )
        ],
        "the bot to ask which group the register is for",
    )[-1]
    press_data(page, question, "un:i:")
    page.bot_says(r"Imported into Maple Court: 3 added")

    # a house rules draft: the text as a .txt file sent as a reply to the draft's card
    page.open_group()
    page.write("/rules draft")
    # the draft's card, not the instructions sent just before it ("Reply to the draft's card")
    card = bot_writes(page, r"Draft of the house rules")
    card.find_element("css selector", "[data-testid=reply]").click()
    rules = tmp_path / "house-rules.txt"
    rules.write_text("1. Quiet hours are 22:00 to 7:00.\n2. Bicycles go in the rack.\n", "utf-8")
    send_file(page, rules)
    draft = bot_writes(page, r"Quiet hours are 22:00 to 7:00")
    assert "Bicycles go in the rack" in draft.text

    # a picture goes as a photo, with its caption: a repair report with the photo
    from PIL import Image

    picture = tmp_path / "broken-lamp.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "PNG")
    picture.write_bytes(buffer.getvalue())
    box = page.one("[data-testid=composer-text]")
    box.send_keys("/report The lamp by the entrance is broken")
    send_file(page, picture)
    page.until(lambda: page.find_all("[data-testid=photo]"), "the photo in the chat")
    report = bot_writes(page, r"lamp by the entrance is broken")
    assert report.find_elements("css selector", "[data-testid=button]"), report.text  # its card
