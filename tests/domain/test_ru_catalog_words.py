"""The Russian catalogs against the parsers and Russian grammar (issue 13).

Words a Russian text tells residents to type (in ``<code>``) must be words the bot reads, and
mean what the text says; examples must work as typed; plural keys must read right for 1, 2,
5 and 21; no text left with the words the native pass removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.domain import decisions, roles, settings, sharing
from bot.domain.roles import Role
from bot.domain.settings import Who
from bot.i18n import Html, t, tn

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"<code>(.*?)</code>")


def _ru_messages() -> dict[str, object]:
    found: dict[str, object] = {}
    for path in sorted((ROOT / "locales" / "ru" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="ru_RU"):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    found[key] = message.string
    return found


RU = _ru_messages()


def _codes(key: str) -> list[str]:
    text = RU[key]
    assert isinstance(text, str), key
    return CODE.findall(text)


@pytest.mark.parametrize(
    ("key", "parse", "expected"),
    [
        ("error.unknown_who", settings.parse_who, [Who.EVERYONE, Who.ORGANIZERS, Who.LEADS]),
        (
            "decision.bad_choice",
            decisions.parse_choice,
            [decisions.FOR, decisions.AGAINST, decisions.ABSTAIN],
        ),
        ("error.unknown_on_off", settings.parse_on_off, [True, False]),
    ],
)
def test_the_russian_words_a_refusal_offers_are_read(
    key: str, parse: Callable[[str], object], expected: list[object]
) -> None:
    words = _codes(key)
    assert [parse(w) for w in words] == expected, words
    assert all(re.fullmatch(r"[а-яё]+", w) for w in words), words  # Russian, not en codes


@pytest.mark.parametrize(
    "word",
    ["администраторы", "Администраторы", "администратор", "админы", "руководители"],
)
def test_what_the_texts_call_group_admins_is_read_as_leads(word: str) -> None:
    assert settings.parse_who(word) is Who.LEADS


def test_organizer_in_the_singular_is_read() -> None:
    assert settings.parse_who("организатор") is Who.ORGANIZERS


@pytest.mark.parametrize("choice", decisions.CHOICES)
def test_a_ballot_choice_as_shown_is_read_back_and_has_no_gender(choice: str) -> None:
    shown = RU[f"decision.choice_{choice}"]
    assert isinstance(shown, str)
    assert decisions.parse_choice(shown) == choice
    assert not re.search(r"(л|ла|лся|лась)$", shown), shown  # 'воздержался' was masculine


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("playground.demo.offer_drill", sharing.LEND),
        ("playground.demo.offer_stroller", sharing.GIVE),
        ("cmd.offer.example", sharing.LEND),
    ],
)
def test_the_russian_offer_examples_use_russian_mode_words(key: str, mode: str) -> None:
    text = RU[key]
    assert isinstance(text, str) and text.startswith("/offer ")
    body = text.removeprefix("/offer ")
    assert sharing.parse_offer(body).mode == mode
    word = body.split("|")[1].strip()
    assert re.fullmatch(r"[а-яё ]+", word), word  # 'lend'/'give' were left in English


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("notice.card_count_unregistered", {}, ["житель", "жителя", "жителей", "житель"]),
        (
            "report.private_sent",
            {"ref": "F1"},
            ["ответственному", "ответственным", "ответственным", "ответственному"],
        ),
        ("rules.draft_head", {"articles": None}, ["статья", "статьи", "статей", "статья"]),
        (
            "rules.history_item",
            {"articles": None, "number": 2, "date": "1 мая", "rule": "majority", "ref": "D1"},
            ["статья", "статьи", "статей", "статья"],
        ),
        (
            "rules.decision_title",
            {"articles": None, "number": 2},
            ["статья", "статьи", "статей", "статья"],
        ),
    ],
)
def test_plural_forms_read_right_for_1_2_5_21(
    key: str, params: dict[str, object], expected: list[str]
) -> None:
    for n, word in zip((1, 2, 5, 21), expected, strict=True):
        filled = {k: (n if v is None else v) for k, v in params.items()}
        text = tn("ru", key, n, **filled)
        assert re.search(rf"\b{n} {word}\b", text), (n, text)


def test_no_name_after_a_preposition_in_the_loan_texts() -> None:
    text = t("ru", "sharing.lend_done", title="Дрель", who=Html("Ольга"), due="пт", tag="#1")
    assert "у Ольга" not in text and text.startswith("📦 Ольга: «Дрель» у вас")
    for key in ("sharing.remind_borrower", "sharing.overdue_owner", "sharing.dm_want_other"):
        shown = RU[key]
        assert isinstance(shown, str)
        assert not re.search(r"\bу \{(who|owner)\}", shown), shown


def test_the_retired_words_are_gone() -> None:
    """руководитель for an admin, masculine-past buttons, parenthesised day counts."""
    for path in sorted((ROOT / "locales" / "ru" / "LC_MESSAGES").glob("*.po")):
        name, text = path.name, path.read_text("utf-8")
        strings = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        assert not re.search(r"[Рр]уководител", strings), name
        assert "(дней: {days})" not in strings, name
        for button in ('"📦 Одолжил…"', '"✅ Отдал"', '"воздержался"', "внёс(ла)", "«Старт»"):
            assert button not in strings, (name, button)


@pytest.mark.parametrize(
    ("words", "key", "value"),
    [
        (["мероприятия", "администраторы"], settings.SettingKey.EVENTS, "администраторы"),
        (["опросы", "организаторы"], settings.SettingKey.POLLS, "организаторы"),
        (["напоминания_о_мероприятиях", "1ч"], settings.SettingKey.EVENT_REMINDERS, "1ч"),
    ],
)
def test_settings_typed_with_the_words_the_panel_shows(
    words: list[str], key: settings.SettingKey, value: str
) -> None:
    assert settings.split_setting_args(words) == (key, value)
    assert "Мероприятия" in str(RU["settings.btn_events"])


def test_the_russian_setting_names_a_refusal_offers_are_read() -> None:
    words = _codes("error.unknown_setting")
    assert len(words) >= 10, words
    keys = [settings.parse_setting_key(w) for w in words]
    assert len(set(keys)) == len(keys)  # ten different settings, none a synonym twice
    assert roles.parse_grantable_role(_codes("error.unknown_role")[0]) is Role.ORGANIZER


@pytest.mark.parametrize(
    "key", ["cmd.grant.example", "cmd.revoke.example", "settings.hint", "error.grant_needs_reply"]
)
def test_the_russian_grant_examples_name_a_role_that_is_read(key: str) -> None:
    text = str(RU[key])
    for role in re.findall(r"/(?:grant|revoke) (\w+)", text):
        assert roles.parse_grantable_role(role) is Role.ORGANIZER
        assert re.fullmatch(r"[а-яё]+", role), role  # 'organizer' was left in English
