"""Decision rules in words (bot.i18n.rule_name / rule_label / rule_choices): every rule has a
name in every language, a name of a rule without a statute is accepted when typed, and the
code one types stands beside the name in <code>."""

from __future__ import annotations

import pytest

from bot.domain.decisions import RULE_NAMES, STATUTORY, RuleChoices, RuleText, parse_rule
from bot.domain.languages import SUPPORTED
from bot.i18n import language_choices, rule_choices, rule_label, rule_name, t


@pytest.mark.parametrize("lang", SUPPORTED)
def test_every_rule_has_a_name_in_words(lang: str) -> None:
    names = [rule_name(lang, code) for code in RULE_NAMES]
    assert len(set(names)) == len(names), names  # no two rules read alike
    for code, name in zip(RULE_NAMES, names, strict=True):
        assert lang == "en" or code not in name, (lang, code, name)
        assert f"<code>{code}</code>" in rule_label(lang, code)
    listed = rule_choices(lang)
    assert all(f"<code>{code}</code>" in listed for code in RULE_NAMES)


@pytest.mark.parametrize("lang", SUPPORTED)
@pytest.mark.parametrize("code", [c for c in RULE_NAMES if c not in STATUTORY])
def test_a_rule_read_on_a_card_can_be_typed(lang: str, code: str) -> None:
    """ "/rules 表决 简单多数", "/decide … | правило=две трети голосов": what the bot calls a rule
    is what a lead may type."""
    assert parse_rule(rule_name(lang, code)).name == code


def test_a_quorum_is_named_and_a_stored_oddity_shown_as_it_is() -> None:
    assert rule_name("zh_Hans", "two-thirds quorum=1/2") == "三分之二多数，法定人数 1/2"
    assert rule_name("ru", "majority quorum=2/3") == "простое большинство, кворум 2/3"
    assert rule_label("zh_Hant", "majority") == "簡單多數（<code>majority</code>）"
    assert rule_name("en", "") == ""  # a house rules version without a rule
    assert rule_name("en", "no-such-rule") == "no-such-rule"


def test_languages_are_listed_in_the_readers_words() -> None:
    assert language_choices("ru") == (
        "английский (<code>en</code>), упрощённый китайский (<code>zh</code>),"
        " традиционный китайский (<code>zh-hant</code>) или русский (<code>ru</code>)"
    )
    assert language_choices("zh_Hans") == (
        "英语（<code>en</code>）、简体中文（<code>zh</code>）、繁体中文（<code>zh-hant</code>）"
        "或俄语（<code>ru</code>）"
    )


@pytest.mark.parametrize("lang", SUPPORTED)
def test_the_panels_button_has_a_short_name_for_every_rule(lang: str) -> None:
    short = [rule_name(lang, code, short=True) for code in RULE_NAMES]
    assert len(set(short)) == len(short), short
    assert all(len(name) <= 27 for name in short), short  # a phone cuts a longer button
    assert all(
        lang == "en" or code not in name for code, name in zip(RULE_NAMES, short, strict=True)
    )


def test_a_rule_handed_to_a_message_is_worded_for_its_reader() -> None:
    """A refusal or a confirmation carries RuleText / RuleChoices; each reader gets the words
    of their own language (the alert of a ratification, the refusal of a quorum)."""
    rule = RuleText("cn-278")
    assert t("ru", "rules.ratify_confirm", rule=rule).startswith(
        "Вынести проект на голосование? Один голос от квартиры, правило: ст. 278 ГК КНР —"
        " обычные вопросы (<code>cn-278</code>)."
    )
    assert t("zh_Hans", "decision.fixed_quorum", rule=RuleText("ru-oss")) == (
        "“俄罗斯业主大会·过半数（<code>ru-oss</code>）”的法定人数由法律规定，不能更改。"
    )
    assert "全體一致（<code>unanimous</code>）" in t(
        "zh_Hant", "decision.unknown_rule", value="x", choices=RuleChoices("majority, …")
    )
    assert str(rule) == "cn-278"  # as a plain string it is still the code (logs, storage)
