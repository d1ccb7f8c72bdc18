"""Formal decisions: one ballot per unit, counted the way building law counts.

Every number here is an ``int`` (a count of units) or a :class:`~fractions.Fraction` (areas in m²
and every ratio); a float never enters: :class:`Unit` refuses a float area.

Counting (where the issue is silent, these are the choices, and the README repeats them):

* "Registered" below means registered in the decision's *electorate*: the units and areas fixed
  when it opened (changed only by a lead's audited act), never the live register.

* A unit participates when it has a ballot: "for", "against" or "abstain". A registered unit
  without a ballot does not participate. Ballots for labels that are not registered (a unit
  removed mid-vote) do not count at all; :attr:`Outcome.ignored` lists them.
* Abstentions participate (they help the quorum and sit in the denominator of every "of the
  participating" threshold) but are not "for": for approval they weigh like "against".
* A threshold is met when the achieved fraction is strictly above it ("more than", ``strict``)
  or at or above it ("at least"). When the denominator is zero (nobody voted, no units, no area)
  the achieved fraction is 0 and no threshold is met, so nothing passes without a vote.
* Units are counted as owners: one unit, one vote, whoever in it presses the button. (The law
  counts persons; the bot cannot tell who owns which unit. The count is advisory, not a legal
  ballot.)

Rules (:data:`RULE_NAMES`):

* ``majority``: for > 1/2 of the participating units (a tie is not approved).
* ``two-thirds``: for ≥ 2/3 of the participating units (exactly 2/3 is approved).
* ``three-quarters``: for ≥ 3/4 of the participating units.
* ``unanimous``: every participating unit for (an abstention or an "against" blocks it), and at
  least one ballot.
* These four take an optional ``quorum=<fraction>``: participating units ≥ that fraction of all
  registered units ("quorum=1/2", "quorum=50%", "quorum=0.5"; 0 < quorum ≤ 1).
* ``cn-278``: Civil Code of the PRC, art. 278 (as in force from 2021-01-01), ordinary matters.
  Participation ("参与表决"): units holding ≥ 2/3 of the total area AND ≥ 2/3 of all units.
  Approval: > 1/2 ("过半数") of the participating area AND > 1/2 of the participating units.
* ``cn-278-special``: art. 278 items 6–8 (raising the maintenance fund, rebuilding, changing the
  use of common parts — an elevator install): participation as above; approval ≥ 3/4
  ("四分之三以上"; "以上" includes the number itself, Civil Code art. 1259) of the participating
  area AND ≥ 3/4 of the participating units.
* ``ru-oss``: Housing Code of the RF, owners' general meeting: quorum — participants hold
  > 1/2 of all area (art. 45 part 3); approval — > 1/2 of the participating area (art. 46 part 1).
* ``ru-oss-two-thirds``: quorum as ``ru-oss``; approval ≥ 2/3 of the area of ALL units.
* The statutory rules (``cn-278*``, ``ru-oss*``) have their quorum fixed by law; adding
  ``quorum=`` to them is refused (``decision.fixed_quorum``).

Rules that count by area need the area of every registered unit: :func:`evaluate` raises
``DomainError("decision.missing_area", units=<how many units lack it>)`` otherwise.

Monotonicity: a "for" ballot from a unit that had not voted never turns an approved decision
into a rejected one, under every rule here. (Quorums only grow. A "for" adds the same amount u
to the "for" part and to the participating whole of an "of the participating" ratio f/p, and
(f+u)/(p+u) ≥ f/p because f ≤ p; an "of all" ratio only grows.) Turning a ballot into "for"
likewise never hurts. Abstentions and "against" ballots are NOT monotone: a late abstention can
complete the quorum and so turn a rejection into an approval, and can turn an approval into a
rejection by growing the participating whole.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Final

from bot.domain.errors import DomainError

FOR: Final[str] = "for"
AGAINST: Final[str] = "against"
ABSTAIN: Final[str] = "abstain"
CHOICES: Final[tuple[str, ...]] = (FOR, AGAINST, ABSTAIN)


class Stage(enum.Enum):
    QUORUM = "quorum"
    APPROVAL = "approval"


class Basis(enum.Enum):
    UNITS = "units"
    AREA = "area"


_REASONS: Final[dict[tuple[Stage, Basis], str]] = {
    (Stage.QUORUM, Basis.UNITS): "decision.no_quorum_units",
    (Stage.QUORUM, Basis.AREA): "decision.no_quorum_area",
    (Stage.APPROVAL, Basis.UNITS): "decision.short_units",
    (Stage.APPROVAL, Basis.AREA): "decision.short_area",
}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One test of a rule.

    Quorum tests compare participation with all registered units (or their area); approval
    tests compare "for" with the participating units (``of_all`` False) or with all of them.
    ``strict``: the achieved fraction must be more than ``required``; otherwise at least.
    """

    stage: Stage
    basis: Basis
    required: Fraction
    strict: bool
    of_all: bool

    @property
    def reason(self) -> str:
        """The key that explains a failure of this test."""
        return _REASONS[self.stage, self.basis]

    def met_by(self, achieved: Fraction) -> bool:
        return achieved > self.required if self.strict else achieved >= self.required


def _quorum(basis: Basis, required: Fraction, *, strict: bool = False) -> Requirement:
    return Requirement(Stage.QUORUM, basis, required, strict=strict, of_all=True)


def _approval(
    basis: Basis, required: Fraction, *, strict: bool, of_all: bool = False
) -> Requirement:
    return Requirement(Stage.APPROVAL, basis, required, strict=strict, of_all=of_all)


_HALF: Final[Fraction] = Fraction(1, 2)
_TWO_THIRDS: Final[Fraction] = Fraction(2, 3)
_THREE_QUARTERS: Final[Fraction] = Fraction(3, 4)
_CN_QUORUM: Final[tuple[Requirement, ...]] = (
    _quorum(Basis.AREA, _TWO_THIRDS),
    _quorum(Basis.UNITS, _TWO_THIRDS),
)
_RU_QUORUM: Final[Requirement] = _quorum(Basis.AREA, _HALF, strict=True)

_SPECS: Final[dict[str, tuple[Requirement, ...]]] = {
    "majority": (_approval(Basis.UNITS, _HALF, strict=True),),
    "two-thirds": (_approval(Basis.UNITS, _TWO_THIRDS, strict=False),),
    "three-quarters": (_approval(Basis.UNITS, _THREE_QUARTERS, strict=False),),
    "unanimous": (_approval(Basis.UNITS, Fraction(1), strict=False),),
    "cn-278": (
        *_CN_QUORUM,
        _approval(Basis.AREA, _HALF, strict=True),
        _approval(Basis.UNITS, _HALF, strict=True),
    ),
    "cn-278-special": (
        *_CN_QUORUM,
        _approval(Basis.AREA, _THREE_QUARTERS, strict=False),
        _approval(Basis.UNITS, _THREE_QUARTERS, strict=False),
    ),
    "ru-oss": (_RU_QUORUM, _approval(Basis.AREA, _HALF, strict=True)),
    "ru-oss-two-thirds": (
        _RU_QUORUM,
        _approval(Basis.AREA, _TWO_THIRDS, strict=False, of_all=True),
    ),
}

#: Canonical rule names, in the order they are offered.
RULE_NAMES: Final[tuple[str, ...]] = tuple(_SPECS)
#: Rules whose quorum is set by law (``quorum=`` is refused).
STATUTORY: Final[frozenset[str]] = frozenset(
    {"cn-278", "cn-278-special", "ru-oss", "ru-oss-two-thirds"}
)


def rule_name_key(name: str) -> str:
    """The catalog key of a rule's name in words: ``cn-278-special`` ->
    ``decision.rule_cn_278_special`` ("《民法典》第二百七十八条·重大事项")."""
    return "decision.rule_" + name.replace("-", "_")


#: Keys built at run time (tests/test_i18n.py checks they exist in every catalog).
DYNAMIC_KEYS: Final[frozenset[str]] = frozenset(
    key for n in RULE_NAMES for key in (rule_name_key(n), rule_name_key(n) + "_short")
)


class RuleText(str):
    """A rule's canonical spelling (:attr:`Rule.text`) handed to a message: ``bot.i18n`` shows
    it by its name in the reader's language, with the code one types beside it ("简单多数
    （<code>majority</code>）"). As a plain ``str`` it is the code."""

    __slots__ = ()


class RuleChoices(str):
    """Every rule, for a refusal: ``bot.i18n`` lists them by name with their codes. As a plain
    ``str`` it is the codes, comma-separated."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A counting rule: a name of :data:`RULE_NAMES` and an optional quorum of units."""

    name: str
    quorum: Fraction | None = None

    def __post_init__(self) -> None:
        if self.name not in _SPECS:
            raise ValueError(f"unknown rule {self.name!r}")
        if self.quorum is not None:
            if not isinstance(self.quorum, Fraction) or not 0 < self.quorum <= 1:
                raise ValueError(f"bad quorum {self.quorum!r}")
            if self.name in STATUTORY:
                raise ValueError(f"{self.name} has a fixed quorum")

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        extra = () if self.quorum is None else (_quorum(Basis.UNITS, self.quorum),)
        return extra + _SPECS[self.name]

    @property
    def needs_area(self) -> bool:
        """Whether the rule counts by floor area (then every unit needs one)."""
        return any(r.basis is Basis.AREA for r in self.requirements)

    @property
    def text(self) -> str:
        """The canonical spelling, read back by :func:`parse_rule`: "two-thirds quorum=1/2"."""
        return self.name if self.quorum is None else f"{self.name} quorum={self.quorum}"


_RULE_ALIASES: Final[dict[str, str]] = {
    "majority": "majority",
    "simple-majority": "majority",
    "过半数": "majority",
    "過半數": "majority",
    "多数": "majority",
    "多數": "majority",
    "большинство": "majority",
    "простое-большинство": "majority",
    "简单多数": "majority",
    "簡單多數": "majority",
    "two-thirds": "two-thirds",
    "two-thirds-majority": "two-thirds",
    "三分之二多数": "two-thirds",
    "三分之二多數": "two-thirds",
    "2/3": "two-thirds",
    "三分之二": "two-thirds",
    "две-трети": "two-thirds",
    "две-трети-голосов": "two-thirds",
    "three-quarters": "three-quarters",
    "three-fourths": "three-quarters",
    "three-quarters-majority": "three-quarters",
    "四分之三多数": "three-quarters",
    "四分之三多數": "three-quarters",
    "3/4": "three-quarters",
    "四分之三": "three-quarters",
    "три-четверти": "three-quarters",
    "три-четверти-голосов": "three-quarters",
    "unanimous": "unanimous",
    "unanimity": "unanimous",
    "一致": "unanimous",
    "一致同意": "unanimous",
    "全体一致": "unanimous",
    "全體一致": "unanimous",
    "единогласно": "unanimous",
    "единогласие": "unanimous",
    "cn-278": "cn-278",
    "cn278": "cn-278",
    "cn-278-special": "cn-278-special",
    "cn278-special": "cn-278-special",
    "ru-oss": "ru-oss",
    "осс": "ru-oss",
    "ru-oss-two-thirds": "ru-oss-two-thirds",
    "ru-oss-2/3": "ru-oss-two-thirds",
    "осс-2/3": "ru-oss-two-thirds",
}
_RULE_PREFIX_RE: Final[re.Pattern[str]] = re.compile(r"^(?:rule|правило|规则|規則)\s*[=:]\s*")
_QUORUM_RE: Final[re.Pattern[str]] = re.compile(
    r"(?:quorum|кворум|法定人数|法定人數)\s*[=:]\s*(\S*)"
)
_FRACTION_RE: Final[re.Pattern[str]] = re.compile(r"(\d+)/(\d+)|(\d+(?:[.,]\d+)?)(%?)")


def parse_rule(text: str) -> Rule:
    """``"two-thirds quorum=1/2"``, ``"cn-278-special"``, ``"majority, quorum=50%"`` -> a Rule.

    Names are read case-insensitively with spaces or underscores for dashes ("Two thirds"), and
    a few en/zh/ru aliases ("2/3", "三分之二", "две трети"). A leading ``rule=`` is allowed.
    Refusals: ``decision.unknown_rule`` (value, choices), ``decision.bad_quorum`` (value),
    ``decision.fixed_quorum`` (rule).
    """
    raw = unicodedata.normalize("NFKC", text).strip().casefold()
    raw = _RULE_PREFIX_RE.sub("", raw)
    quorum: Fraction | None = None
    match = _QUORUM_RE.search(raw)
    if match is not None:
        quorum = _parse_quorum(match.group(1))
        raw = raw[: match.start()] + " " + raw[match.end() :]
    key = re.sub(r"[\s_]+", "-", raw.strip(" ,;"))
    name = _RULE_ALIASES.get(key)
    if name is None:
        raise DomainError(
            "decision.unknown_rule",
            value=text.strip()[:64],
            choices=RuleChoices(", ".join(RULE_NAMES)),
        )
    if quorum is not None and name in STATUTORY:
        raise DomainError("decision.fixed_quorum", rule=RuleText(name))
    return Rule(name, quorum)


def _parse_quorum(text: str) -> Fraction:
    match = _FRACTION_RE.fullmatch(text)
    value: Fraction | None = None
    if match is not None:
        if match.group(1) is not None:
            if int(match.group(2)) != 0:
                value = Fraction(int(match.group(1)), int(match.group(2)))
        else:
            value = Fraction(match.group(3).replace(",", "."))
            if match.group(4):
                value /= 100
    if value is None or not 0 < value <= 1:
        raise DomainError("decision.bad_quorum", value=text[:32])
    return value


_CHOICE_WORDS: Final[dict[str, str]] = {
    "for": FOR,
    "yes": FOR,
    "赞成": FOR,
    "贊成": FOR,
    "同意": FOR,
    "за": FOR,
    "да": FOR,
    "against": AGAINST,
    "no": AGAINST,
    "反对": AGAINST,
    "反對": AGAINST,
    "不同意": AGAINST,
    "против": AGAINST,
    "нет": AGAINST,
    "abstain": ABSTAIN,
    "abstention": ABSTAIN,
    "弃权": ABSTAIN,
    "棄權": ABSTAIN,
    "воздержался": ABSTAIN,
    "воздержалась": ABSTAIN,
    "воздержаться": ABSTAIN,
}

#: What a choice may end (or begin) with as people type it: "Against.", "за!", "弃权。"
#: (after NFKC, the full-width 。！， are still theirs; ！ and ， become ASCII).
_CHOICE_ENDS: Final[str] = ".!,;。！，、 \t\n"


def parse_choice(text: str) -> str:
    """The choice of ``/ballot ... for|against|abstain`` (en/zh/ru words), or a DomainError."""
    word = unicodedata.normalize("NFKC", text).strip(_CHOICE_ENDS).casefold()
    choice = _CHOICE_WORDS.get(word)
    if choice is None:
        raise DomainError(
            "decision.bad_choice", value=text.strip()[:32], choices=", ".join(CHOICES)
        )
    return choice


@dataclass(frozen=True, slots=True)
class Unit:
    """A registered unit; ``area`` in m², exact, or None when unknown."""

    label: str
    area: Fraction | None = None

    def __post_init__(self) -> None:
        if self.area is None:
            return
        if not isinstance(self.area, Fraction):
            raise TypeError(f"area of {self.label!r} must be a Fraction, not {self.area!r}")
        if self.area <= 0:
            raise ValueError(f"area of {self.label!r} must be positive: {self.area}")


@dataclass(frozen=True, slots=True)
class Ballot:
    """The ballot of one unit: ``choice`` is one of :data:`CHOICES`."""

    label: str
    choice: str

    def __post_init__(self) -> None:
        if self.choice not in CHOICES:
            raise ValueError(f"bad choice {self.choice!r}")


@dataclass(frozen=True, slots=True)
class Check:
    """One requirement measured: ``achieved = part / whole`` (0 when ``whole`` is 0).

    E.g. by area, for 710 of 1000 participating m² against "at least 3/4":
    ``part=710, whole=1000, achieved=71/100, requirement.required=3/4, met=False``.
    """

    requirement: Requirement
    part: Fraction
    whole: Fraction
    achieved: Fraction
    met: bool

    @property
    def required(self) -> Fraction:
        return self.requirement.required


@dataclass(frozen=True, slots=True)
class Outcome:
    """The count of a decision under a rule. Areas are None when some unit has no area."""

    rule: Rule
    units: int
    area: Fraction | None
    participating_units: int
    participating_area: Fraction | None
    for_units: int
    against_units: int
    abstain_units: int
    for_area: Fraction | None
    against_area: Fraction | None
    abstain_area: Fraction | None
    #: registered units without a ballot
    not_voted: int
    #: every requirement of the rule, quorum tests first, in the rule's order
    checks: tuple[Check, ...]
    quorum_met: bool
    approved: bool
    #: keys of the failed tests, in order, without repeats (empty when approved)
    reasons: tuple[str, ...]
    #: labels of ballots for units that are not registered (not counted), sorted
    ignored: tuple[str, ...]
    #: the totals it was computed from (all a secret decision keeps at closing)
    totals: Totals


def evaluate(rule: Rule, units: Iterable[Unit], ballots: Iterable[Ballot]) -> Outcome:
    """Count ``ballots`` (at most one per unit) of the registered ``units`` under ``rule``.

    A unit that did not vote does not participate; abstentions participate and are not "for"
    (see the module docstring). Raises ``DomainError("decision.missing_area", units=n)`` when
    the rule counts by area and n registered units have no area. Two units or two ballots with
    one label are a programming error (ValueError).
    """
    registered: dict[str, Unit] = {}
    for unit in units:
        if unit.label in registered:
            raise ValueError(f"unit {unit.label!r} registered twice")
        registered[unit.label] = unit
    missing = sum(1 for u in registered.values() if u.area is None)
    if missing and rule.needs_area:
        raise DomainError("decision.missing_area", units=missing)

    counted: dict[str, str] = {}
    ignored: set[str] = set()
    for ballot in ballots:
        if ballot.label in counted or ballot.label in ignored:
            raise ValueError(f"two ballots for {ballot.label!r}")
        if ballot.label in registered:
            counted[ballot.label] = ballot.choice
        else:
            ignored.add(ballot.label)

    unit_count = {choice: 0 for choice in CHOICES}
    area_sum = {choice: Fraction(0) for choice in CHOICES}
    total_area = Fraction(0)
    for label, unit in registered.items():
        total_area += unit.area or 0
        choice = counted.get(label)
        if choice is not None:
            unit_count[choice] += 1
            area_sum[choice] += unit.area or 0
    totals = Totals(
        units=len(registered),
        area=None if missing else total_area,
        for_units=unit_count[FOR],
        against_units=unit_count[AGAINST],
        abstain_units=unit_count[ABSTAIN],
        for_area=None if missing else area_sum[FOR],
        against_area=None if missing else area_sum[AGAINST],
        abstain_area=None if missing else area_sum[ABSTAIN],
    )
    return evaluate_totals(rule, totals, ignored=tuple(sorted(ignored)))


@dataclass(frozen=True, slots=True)
class Totals:
    """What a count needs and nothing more: how many registered units (and their area) chose
    what. Areas are None when some registered unit has no area. A secret decision keeps only
    these at closing (the per-unit choices are discarded), so its outcome is recomputed from
    them exactly."""

    units: int
    area: Fraction | None
    for_units: int
    against_units: int
    abstain_units: int
    for_area: Fraction | None
    against_area: Fraction | None
    abstain_area: Fraction | None

    def __post_init__(self) -> None:
        counts = (self.units, self.for_units, self.against_units, self.abstain_units)
        if any(not isinstance(n, int) or n < 0 for n in counts):
            raise ValueError(f"bad unit counts {counts!r}")
        if self.for_units + self.against_units + self.abstain_units > self.units:
            raise ValueError("more ballots than units")
        areas = (self.area, self.for_area, self.against_area, self.abstain_area)
        if any(a is None for a in areas) and any(a is not None for a in areas):
            raise ValueError("areas must be all known or all unknown")
        for a in areas:
            if a is not None and (not isinstance(a, Fraction) or a < 0):
                raise ValueError(f"bad area {a!r}")

    @property
    def participating_units(self) -> int:
        return self.for_units + self.against_units + self.abstain_units

    @property
    def participating_area(self) -> Fraction | None:
        if self.for_area is None or self.against_area is None or self.abstain_area is None:
            return None
        return self.for_area + self.against_area + self.abstain_area

    @property
    def not_voted(self) -> int:
        return self.units - self.participating_units

    @property
    def not_voted_area(self) -> Fraction | None:
        part = self.participating_area
        return None if self.area is None or part is None else self.area - part

    def with_rest(self, choice: str | None) -> Totals:
        """These totals if every unit that has not voted voted ``choice`` (None: stays away)."""
        if choice is None:
            return self
        rest_area = self.not_voted_area
        n = self.not_voted

        def add(area: Fraction | None) -> Fraction | None:
            return None if area is None or rest_area is None else area + rest_area

        if choice == FOR:
            return replace(self, for_units=self.for_units + n, for_area=add(self.for_area))
        if choice == AGAINST:
            return replace(
                self, against_units=self.against_units + n, against_area=add(self.against_area)
            )
        if choice == ABSTAIN:
            return replace(
                self, abstain_units=self.abstain_units + n, abstain_area=add(self.abstain_area)
            )
        raise ValueError(f"bad choice {choice!r}")


def evaluate_totals(rule: Rule, totals: Totals, *, ignored: tuple[str, ...] = ()) -> Outcome:
    """The outcome from the totals alone (see :func:`evaluate`, which builds them). Raises
    ``DomainError("decision.missing_area", units=0)`` when the rule counts by area and the totals
    have none (the number of units lacking one is not known here)."""
    if rule.needs_area and totals.area is None:
        raise DomainError("decision.missing_area", units=0)
    participating = totals.participating_units
    zero = Fraction(0)
    participating_area = totals.participating_area or zero
    for_area = totals.for_area or zero
    total_area = totals.area or zero

    def measure(requirement: Requirement) -> Check:
        units_basis = requirement.basis is Basis.UNITS
        if requirement.stage is Stage.QUORUM:
            part = Fraction(participating) if units_basis else participating_area
        else:
            part = Fraction(totals.for_units) if units_basis else for_area
        if requirement.of_all:
            whole = Fraction(totals.units) if units_basis else total_area
        else:
            whole = Fraction(participating) if units_basis else participating_area
        achieved = part / whole if whole else Fraction(0)
        met = bool(whole) and requirement.met_by(achieved)
        return Check(requirement, part, whole, achieved, met)

    checks = tuple(measure(r) for r in rule.requirements)
    failed = [c.requirement.reason for c in checks if not c.met]
    return Outcome(
        rule=rule,
        units=totals.units,
        area=totals.area,
        participating_units=participating,
        participating_area=totals.participating_area,
        for_units=totals.for_units,
        against_units=totals.against_units,
        abstain_units=totals.abstain_units,
        for_area=totals.for_area,
        against_area=totals.against_area,
        abstain_area=totals.abstain_area,
        not_voted=totals.not_voted,
        checks=checks,
        quorum_met=all(c.met for c in checks if c.requirement.stage is Stage.QUORUM),
        approved=not failed,
        reasons=tuple(dict.fromkeys(failed)),
        ignored=ignored,
        totals=totals,
    )


def certain(rule: Rule, totals: Totals) -> bool | None:
    """Is the outcome already settled, whatever the units that have not voted do?

    ``True``: approved under every way they could vote (for, against, abstain, or stay away);
    ``False``: rejected under every way; ``None``: it can still go either way. Cast ballots are
    taken as they stand (a unit may still change its ballot until closing).

    Why three scenarios suffice (each non-voter can do four things, and abstentions are not
    monotone): "against" and "abstain" weigh the same in every test, so there are three
    behaviours. *Approval is possible* iff it happens when every non-voter votes "for": a "for"
    from a non-voter never undoes an approval (module docstring), so from any approving
    assignment, turning the others into "for" keeps it approved. *Rejection is possible* iff
    some single test can fail, and each test is at its lowest in one of two scenarios:
    participation (quorum) when every non-voter stays away; a "for" share of the participants
    when every non-voter votes against (the whole grows, the part does not) — or stays away
    when nobody has voted yet (a zero whole fails); a "for" share of all units when nobody adds
    a "for" (either scenario). Tested against brute force over every assignment.
    """
    if not evaluate_totals(rule, totals.with_rest(FOR)).approved:
        return False
    if totals.not_voted == 0:
        return True
    for rest in (None, AGAINST):
        if not evaluate_totals(rule, totals.with_rest(rest)).approved:
            return None
    return True
