"""Did you mean: a mistyped command, or a command written in the resident's own language,
matched to the one we have.

Telegram makes a command only of Latin letters, digits and ``_`` (``/опрос`` and ``/投票`` reach
the bot as plain text, if at all), so words in other scripts are looked up by name in
:data:`LOCAL_NAMES`; Latin words are matched by edit distance against the catalogue.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Final

#: What residents type after a slash in their own language, and the command they mean.
#: Exact words only (folded for case and width): a neighbour's "/ну" is never answered.
LOCAL_NAMES: Final[dict[str, str]] = {
    # Russian
    "старт": "start",
    "начать": "start",
    "помощь": "help",
    "справка": "help",
    "команды": "help",
    "настройки": "settings",
    "опрос": "poll",
    "голосование": "poll",
    "голосовать": "poll",
    "решение": "decide",
    "собрание": "decide",
    "бюллетень": "ballot",
    "напомни": "remind",
    "напомнить": "remind",
    "напоминание": "remind",
    "напоминания": "reminders",
    "объявление": "announce",
    "объявить": "announce",
    "объявления": "announcements",
    "квартира": "unit",
    "квартиры": "units",
    "событие": "event",
    "мероприятие": "event",
    "события": "events",
    "мероприятия": "events",
    "календарь": "calendar",
    "дежурство": "roster",
    "график": "roster",
    "отдам": "offer",
    "одолжу": "offer",
    "нужно": "need",
    "ищу": "need",
    "вещи": "items",
    "навыки": "skills",
    "закупка": "groupbuy",
    "совместнаяпокупка": "groupbuy",
    "цепочка": "chain",
    "предложение": "propose",
    "предложить": "propose",
    "предложения": "proposals",
    "заявка": "report",
    "ремонт": "report",
    "поломка": "report",
    "заявки": "reports",
    "уведомление": "notice",
    "перекличка": "rollcall",
    "инфо": "info",
    "справочник": "info",
    "часы": "hours",
    "правила": "rules",
    "поправка": "amend",
    "слушания": "hearing",
    "слушание": "hearing",
    "тезис": "say",
    "протокол": "minutes",
    "прогресс": "progress",
    "оценка": "review",
    "повестка": "agenda",
    "помощник": "helper",
    "экспорт": "export",
    "закрыть": "close",
    "моиданные": "mydata",
    "забудь": "forgetme",
    "забудьменя": "forgetme",
    # Chinese (Simplified and Traditional)
    "开始": "start",
    "開始": "start",
    "帮助": "help",
    "幫助": "help",
    "帮忙": "help",
    "设置": "settings",
    "設置": "settings",
    "設定": "settings",
    "投票": "poll",
    "问卷": "poll",
    "問卷": "poll",
    "表决": "decide",
    "表決": "decide",
    "决议": "decide",
    "決議": "decide",
    "选票": "ballot",
    "選票": "ballot",
    "提醒": "remind",
    "公告": "announce",
    "户号": "unit",
    "戶號": "unit",
    "房号": "unit",
    "房號": "unit",
    "活动": "event",
    "活動": "event",
    "日历": "calendar",
    "日曆": "calendar",
    "行事曆": "calendar",
    "值班": "roster",
    "排班": "roster",
    "闲置": "offer",
    "閒置": "offer",
    "求助": "need",
    "团购": "groupbuy",
    "團購": "groupbuy",
    "接龙": "chain",
    "接龍": "chain",
    "议题": "propose",
    "議題": "propose",
    "提议": "propose",
    "提議": "propose",
    "报修": "report",
    "報修": "report",
    "通知": "notice",
    "点名": "rollcall",
    "點名": "rollcall",
    "报平安": "rollcall",
    "報平安": "rollcall",
    "信息": "info",
    "資訊": "info",
    "常用信息": "info",
    "公约": "rules",
    "公約": "rules",
    "修改": "amend",
    "听证会": "hearing",
    "聽證會": "hearing",
    "协调会": "coordination",
    "協調會": "coordination",
    "发言": "say",
    "發言": "say",
    "纪要": "minutes",
    "紀要": "minutes",
    "会议纪要": "minutes",
    "會議紀要": "minutes",
    "进度": "progress",
    "進度": "progress",
    "评议": "review",
    "評議": "review",
    "评议会": "review",
    "評議會": "review",
    "议程": "agenda",
    "議程": "agenda",
    "志愿": "hours",
    "志願": "hours",
    "志愿时长": "hours",
    "志願時數": "hours",
    "导出": "export",
    "導出": "export",
    "匯出": "export",
    "关闭": "close",
    "關閉": "close",
    "我的数据": "mydata",
    "我的資料": "mydata",
}


def fold(word: str) -> str:
    """Case, width and compatibility forms folded, spaces and hyphens dropped."""
    folded = unicodedata.normalize("NFKC", word).casefold().replace("ё", "е")
    return "".join(c for c in folded if c not in " -_")


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent swaps (optimal string alignment): 'pol'→'poll' is 1,
    'plol'→'poll' is 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def suggest(word: str, names: Iterable[str], *, strict: bool = False) -> str | None:
    """The command ``word`` most likely means, or None.

    ``strict`` (a group message not addressed to us, where other bots' commands pass by):
    one typo at most, on words of 3 letters or more. Otherwise two typos on longer words, or a
    prefix of exactly one command ('/remi' → remind is ambiguous: remind, remindme, reminders).
    """
    word = fold(word.lstrip("/").split("@", 1)[0])
    if not word:
        return None
    catalogue = list(dict.fromkeys(names))
    if word in LOCAL_NAMES and LOCAL_NAMES[word] in catalogue:
        return LOCAL_NAMES[word]
    if not word.isascii() or word in catalogue or len(word) < 3:
        return None
    limit = 1 if strict or len(word) <= 4 else 2
    best: tuple[int, str] | None = None
    for name in catalogue:
        d = distance(word, name)
        if d <= limit and (best is None or d < best[0]):
            best = (d, name)
    if best is not None:
        return best[1]
    if not strict:
        starts = [name for name in catalogue if name.startswith(word)]
        if len(starts) == 1:
            return starts[0]
    return None
