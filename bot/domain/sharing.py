"""Sharing between neighbours: items to lend or give, things needed, skills, group buys and
sign-up chains (接龙). Pure rules only: parsing what residents type, exact money, totals,
loan timing and chain line replacement.

Money is always an integer number of cents (fen, kopecks) with an optional currency sign kept
for display; nothing here ever touches a float.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from bot.domain import when as when_
from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.text import one_line as text_one_line

MAX_TITLE: Final = 100
MAX_NOTE: Final = 300
MAX_LINE: Final = 200
MAX_QUANTITY: Final = 999
MAX_CENTS: Final = 100_000_000_00  # 100 million in any currency: a typo, not a group buy
MAX_TERMS: Final = 5
#: FTS5's trigram tokenizer needs three characters; shorter words are matched with LIKE.
TRIGRAM: Final = 3

LEND: Final = "lend"
GIVE: Final = "give"

_LEND_WORDS: Final = WordSet(
    {
        "lend",
        "loan",
        "to lend",
        "borrow",
        "借",
        "出借",
        "可借",
        "借用",
        "外借",
        "одолжу",
        "одолжить",
        "взаймы",
        "на время",
        "дам на время",
    }
)
_GIVE_WORDS: Final = WordSet(
    {
        "give",
        "give away",
        "giveaway",
        "free",
        "for free",
        "送",
        "赠送",
        "免费",
        "白送",
        "免费送",
        "отдам",
        "отдать",
        "даром",
        "бесплатно",
        "дарю",
        "подарю",
    }
)

#: A chain reply that is only a dash removes the sender's line.
_REMOVE_MARKS: Final = frozenset({"-", "—", "–", "−", "--"})


def one_line(text: str) -> str:
    """Whitespace (line breaks too) collapsed to single spaces, NFC, stripped; nothing
    invisible kept (bot.domain.text.one_line)."""
    return text_one_line(unicodedata.normalize("NFC", text))


def _limited(text: str, limit: int, key: str) -> str:
    if len(text) > limit:
        raise DomainError(key, limit=limit)
    return text


def mode_of(word: str) -> str | None:
    """``lend`` / ``give`` for a mode word in en, zh or ru, else ``None``."""
    folded = one_line(word).casefold()
    if folded in _LEND_WORDS:
        return LEND
    if folded in _GIVE_WORDS:
        return GIVE
    return None


@dataclass(frozen=True, slots=True)
class Offer:
    title: str
    mode: str  # lend | give
    note: str


def parse_offer(text: str) -> Offer:
    """``<item> [| lend or give] [| note]``. The mode may be left out (lend) and the two
    optional parts may come in either order: a part that is a mode word is the mode."""
    segments = [one_line(s) for s in text.split("|")]
    title = segments[0] if segments else ""
    if not title:
        raise DomainError("sharing.offer_usage")
    mode: str | None = None
    notes: list[str] = []
    for segment in segments[1:]:
        if not segment:
            continue
        found = mode_of(segment)
        if found is not None and mode is None:
            mode = found
        else:
            notes.append(segment)
    return Offer(
        title=_limited(title, MAX_TITLE, "sharing.title_too_long"),
        mode=mode or LEND,
        note=_limited(" | ".join(notes), MAX_NOTE, "sharing.note_too_long"),
    )


def parse_need(text: str) -> str:
    title = one_line(text)
    if not title:
        raise DomainError("sharing.need_usage")
    return _limited(title, MAX_TITLE, "sharing.title_too_long")


def parse_skill(text: str) -> str:
    skill = one_line(text)
    if not skill:
        raise DomainError("sharing.skill_usage")
    return _limited(skill, MAX_TITLE, "sharing.title_too_long")


def fold(text: str) -> str:
    """What search compares, on both sides: NFKC (full-width "ｄｒｉｌｌ" is "drill"),
    case-folded, one line, and "ё" as "е" (Russian writers use either)."""
    return one_line(unicodedata.normalize("NFKC", text)).casefold().replace("ё", "е")


def search_text(*parts: str) -> str:
    """What the search index holds for a listing: folded (see :func:`fold`), one line."""
    return fold(" ".join(p for p in parts if p))


def search_terms(query: str) -> list[str]:
    """The words of a search, folded, without duplicates, at most ``MAX_TERMS``."""
    terms: list[str] = []
    for word in fold(query).split():
        word = word.strip(".,;:!?()[]\"'«»，。！？、；：（）")
        if word and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def fts_phrase(term: str) -> str:
    """One term as an FTS5 phrase (quotes doubled): nothing in it is query syntax."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """``%term%`` with ``\\``, ``%`` and ``_`` escaped (use ``ESCAPE '\\'``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def needs_like(term: str) -> bool:
    return len(term) < TRIGRAM


# --- money ----------------------------------------------------------------------------------

_CURRENCIES: Final[tuple[tuple[str, str], ...]] = (
    # (what residents type, casefolded) -> the sign shown
    ("rmb", "¥"),
    ("cny", "¥"),
    ("元", "¥"),
    ("块钱", "¥"),
    ("块", "¥"),
    ("¥", "¥"),
    ("￥", "¥"),
    ("rub", "₽"),
    ("руб.", "₽"),
    ("руб", "₽"),
    ("р.", "₽"),
    ("р", "₽"),
    ("₽", "₽"),
    ("usd", "$"),
    ("$", "$"),
    ("eur", "€"),
    ("€", "€"),
    ("gbp", "£"),
    ("£", "£"),
)
_SUFFIX_SIGNS: Final = frozenset({"₽"})
_AMOUNT: Final = re.compile(r"(\d{1,12})(?:[.,](\d{1,2}))?")


@dataclass(frozen=True, slots=True)
class Money:
    cents: int
    currency: str = ""  # a sign for display ("¥", "₽", "$"...), "" when none was typed


def _split_currency(text: str) -> tuple[str, str]:
    raw = unicodedata.normalize("NFKC", text).strip().casefold()
    raw = raw.replace("￥", "¥")
    sign = ""
    for word, shown in _CURRENCIES:
        if raw.startswith(word):
            raw, sign = raw[len(word) :], shown
            break
        if raw.endswith(word):
            raw, sign = raw[: -len(word)], shown
            break
    return "".join(raw.split()), sign


def parse_money(text: str, *, key: str = "sharing.bad_price") -> Money:
    """ "12.50", "¥12.5", "12,50 ₽", "30元", "$3" -> integer cents and the sign."""
    digits, sign = _split_currency(text)
    match = _AMOUNT.fullmatch(digits)
    if match is None:
        raise DomainError(key, text=one_line(text)[:40])
    whole, frac = match.group(1), match.group(2) or ""
    cents = int(whole) * 100 + int(frac.ljust(2, "0") or "0")
    if cents > MAX_CENTS:
        raise DomainError(key, text=one_line(text)[:40])
    return Money(cents, sign)


def format_money(
    cents: int, currency: str = "", *, decimal: str = ".", locale: str | None = None
) -> str:
    """Exact: 1250 -> "¥12.50", "12,50 ₽" (with ``decimal=","``), "12.50". With a ``locale``,
    the amount is grouped as that language writes it (Babel's number patterns):
    123456789 -> "¥1,234,567.89" (en, zh), "1 234 567,89 ₽" (ru, no-break spaces)."""
    if locale is not None:
        amount = Decimal(cents).scaleb(-2)
        number = format_decimal(amount, format="#,##0.00", locale=locale)
    else:
        sign = "-" if cents < 0 else ""
        whole, frac = divmod(abs(cents), 100)
        number = f"{sign}{whole}{decimal}{frac:02d}"
    if not currency:
        return number
    if currency in _SUFFIX_SIGNS:
        return f"{number}\N{NO-BREAK SPACE}{currency}" if locale else f"{number} {currency}"
    return f"{currency}{number}"


# --- group buys -----------------------------------------------------------------------------

UNITS: Final = "units"
MONEY: Final = "money"
_MIN_UNITS: Final = re.compile(r"(\d{1,6})(?:\s+\S.{0,30}|[^\d\s.,].{0,30})?")


@dataclass(frozen=True, slots=True)
class Minimum:
    kind: str  # units | money
    value: int  # a quantity, or cents


def parse_minimum(text: str) -> Minimum:
    """ "10", "10 boxes", "10箱", "10 шт" are quantities; "¥300", "300元", "300.00", "3000 ₽"
    are money (a currency sign or decimals say so)."""
    raw = one_line(text)
    digits, sign = _split_currency(raw)
    if sign or re.fullmatch(r"\d{1,12}[.,]\d{1,2}", digits):
        money = parse_money(raw, key="sharing.bad_minimum")
        if money.cents <= 0:
            raise DomainError("sharing.bad_minimum", text=raw[:40])
        return Minimum(MONEY, money.cents)
    match = _MIN_UNITS.fullmatch(raw)
    if match is None or int(match.group(1)) <= 0:
        raise DomainError("sharing.bad_minimum", text=raw[:40])
    return Minimum(UNITS, int(match.group(1)))


@dataclass(frozen=True, slots=True)
class GroupBuySpec:
    title: str
    price: Money
    closes_at: datetime
    minimum: Minimum | None


def parse_groupbuy(text: str, *, lang: str, tz: str, now: datetime) -> GroupBuySpec:
    """``<item> | <price per unit> | <closes when> [| minimum total]``."""
    segments = [s.strip() for s in text.split("|")]
    if len(segments) < 3 or len(segments) > 4 or not all(segments[:3]):
        raise DomainError("sharing.groupbuy_usage")
    title = _limited(one_line(segments[0]), MAX_TITLE, "sharing.title_too_long")
    price = parse_money(segments[1])
    if price.cents <= 0:
        raise DomainError("sharing.bad_price", text=segments[1][:40])
    closes = when_.parse(segments[2], lang=lang, tz=tz, now=now)
    if closes.rrule is not None:
        raise DomainError("sharing.once_only")
    minimum = parse_minimum(segments[3]) if len(segments) == 4 and segments[3] else None
    return GroupBuySpec(title, price, closes.first, minimum)


def change_quantity(current: int, delta: int) -> int:
    """+1 / -1 on a resident's quantity, kept within 0..MAX_QUANTITY."""
    new = current + delta
    if new < 0:
        raise DomainError("sharing.gb_nothing_to_remove")
    if new > MAX_QUANTITY:
        raise DomainError("sharing.gb_too_many", limit=MAX_QUANTITY)
    return new


@dataclass(frozen=True, slots=True)
class Totals:
    units: int
    cents: int
    people: int
    reached: bool | None  # None when there is no minimum


def totals(quantities: Sequence[int], price_cents: int, minimum: Minimum | None) -> Totals:
    """Exact totals of a group buy: units, money (cents), buyers, minimum reached."""
    ordered = [q for q in quantities if q > 0]
    units = sum(ordered)
    cents = units * price_cents
    reached: bool | None = None
    if minimum is not None:
        reached = (units if minimum.kind == UNITS else cents) >= minimum.value
    return Totals(units=units, cents=cents, people=len(ordered), reached=reached)


# --- chains (接龙) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainSpec:
    title: str
    closes_at: datetime | None


def parse_chain(text: str, *, lang: str, tz: str, now: datetime) -> ChainSpec:
    """``<title> [| <closes when>]``."""
    title_part, bar, when_part = text.partition("|")
    title = one_line(title_part)
    if not title:
        raise DomainError("sharing.chain_usage")
    title = _limited(title, MAX_TITLE, "sharing.title_too_long")
    closes_at = None
    if bar and when_part.strip():
        closes = when_.parse(when_part.strip(), lang=lang, tz=tz, now=now)
        if closes.rrule is not None:
            raise DomainError("sharing.once_only")
        closes_at = closes.first
    return ChainSpec(title, closes_at)


def chain_line(text: str) -> str | None:
    """A reply to a chain as the sender's line: one line, at most ``MAX_LINE`` characters;
    ``None`` means "remove my line" (a reply that is only a dash)."""
    line = one_line(text)
    if not line:
        raise DomainError("sharing.chain_empty_line")
    if line in _REMOVE_MARKS:
        return None
    return _limited(line, MAX_LINE, "sharing.chain_line_too_long")


def replace_line(
    lines: Sequence[tuple[int, str]], user_id: int, text: str | None
) -> list[tuple[int, str]]:
    """One line per person: a new line replaces the old one in place (its number stays),
    a first line goes to the end, ``None`` removes the person's line."""
    result: list[tuple[int, str]] = []
    replaced = False
    for uid, line in lines:
        if uid == user_id:
            if text is not None and not replaced:
                result.append((uid, text))
            replaced = True
        else:
            result.append((uid, line))
    if not replaced and text is not None:
        result.append((user_id, text))
    return result


# --- loans and listings ---------------------------------------------------------------------

#: Loan lengths offered as buttons, in days.
LOAN_DAYS: Final = (3, 7, 14)
#: A loan due at a button's day is due at this local time.
DUE_TIME: Final = time(20, 0)
#: The borrower is reminded this long before the due time (half the loan if it is shorter).
REMIND_LEAD: Final = timedelta(days=1)
MIN_LEAD: Final = timedelta(minutes=30)


def due_in_days(now: datetime, days: int, tz: str) -> datetime:
    """The due moment of an n-day loan: that day at ``DUE_TIME``, local wall time."""
    if days not in LOAN_DAYS:
        raise DomainError("error.stale_button")
    local = now.astimezone(ZoneInfo(tz))
    day = local.date() + timedelta(days=days)
    return datetime.combine(day, DUE_TIME, tzinfo=ZoneInfo(tz))


def parse_due(text: str, *, lang: str, tz: str, now: datetime) -> datetime:
    """A due time typed by the owner ("next Sunday", "下周日", "через 3 дня"): once, ahead."""
    found = when_.parse(text, lang=lang, tz=tz, now=now)
    if found.rrule is not None:
        raise DomainError("sharing.once_only")
    return found.first


def reminder_time(now: datetime, due: datetime) -> datetime | None:
    """When to remind the borrower: a day before the due time, or half-way for a shorter
    loan; ``None`` when the loan is too short for a reminder to help."""
    lead = min(REMIND_LEAD, (due - now) / 2)
    if lead < MIN_LEAD:
        return None
    return due - lead


def expires_at(now: datetime, days: int) -> datetime:
    if days < 1:
        raise ValueError("a listing lasts at least one day")
    return now + timedelta(days=days)
