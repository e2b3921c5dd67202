"""The organisation's check-in and escalation policy: validated numbers, no I/O.

Every number here can be changed by the operator's policy file (see ``fieldbot.policy_file``);
``DEFAULT_POLICY`` is the company policy of DESIGN.md §3. Invariants are checked when a policy
is built, so a policy that exists is one the ladder and the schedule can rely on.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from types import MappingProxyType
from typing import Any

from fieldbot.domain.crisis_policy import DrillPolicy, IncidentPolicy

_DAY = timedelta(days=1)
_ZERO = timedelta(0)
LEVELS = range(1, 5)  # risk levels that may carry their own ladder; 0 (unknown) uses the base


def _fmt(delta: timedelta) -> str:
    """Render a duration the way the policy file spells it ("1h30m", "45s", "0s")."""
    if delta < _ZERO:
        return "-" + _fmt(-delta)
    if delta % timedelta(seconds=1):
        return str(delta)
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (seconds, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def _since(start: time, t: time) -> timedelta:
    """Return how long after `start` the wall-clock time `t` next comes round (0 to 24h)."""

    def as_delta(x: time) -> timedelta:
        return timedelta(hours=x.hour, minutes=x.minute, seconds=x.second)

    return (as_delta(t) - as_delta(start)) % _DAY


def fold_text(text: str) -> str:
    """Return `text` compared the way people mean it: NFKC (full-width "ＡＢ" is "AB"), case
    folded, format characters (zero-width spaces and joiners) dropped, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


@dataclass(frozen=True, slots=True)
class CheckinPolicy:
    """When the rep is reminded and by when she must check in, in destination local time.

    A night's check-in window opens at `window_opens` on its date and runs until the next
    night's window opens. The reminder and the deadline are the first times of day after the
    window opens, so a deadline of "02:30" with a "20:00" reminder falls after midnight.
    """

    reminder: time
    deadline: time
    duress_word: str = ""
    window_opens: time = time(12, 0)
    snooze: timedelta = timedelta(minutes=30)  # how much later "30 more minutes" moves it
    max_snoozes: int = 2  # how often a night's deadline may be moved

    def __post_init__(self) -> None:
        for name in ("reminder", "deadline", "window_opens"):
            value: time = getattr(self, name)
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a local time of day without a time zone")
            if value.microsecond:
                raise ValueError(f"{name} must be given to the second")
        if self.reminder_offset >= self.deadline_offset:
            raise ValueError(
                f"reminder ({self.reminder:%H:%M:%S}) must come before deadline "
                f"({self.deadline:%H:%M:%S}), counting from the check-in window opening at "
                f"{self.window_opens:%H:%M:%S}"
            )
        if self.snooze <= _ZERO:
            raise ValueError(f"snooze ({_fmt(self.snooze)}) must be positive")
        if isinstance(self.max_snoozes, bool) or self.max_snoozes < 0:
            raise ValueError("max_snoozes must be a whole number, 0 or more")
        word = self.duress_word
        if word != word.strip() or any(not ch.isprintable() for ch in word):
            raise ValueError("duress_word must not start or end with spaces or contain controls")

    @property
    def reminder_offset(self) -> timedelta:
        """Return the wall-clock time from the window opening to the reminder."""
        return _since(self.window_opens, self.reminder)

    @property
    def deadline_offset(self) -> timedelta:
        """Return the wall-clock time from the window opening to the deadline."""
        return _since(self.window_opens, self.deadline)

    def is_duress(self, text: str) -> bool:
        """Return whether a check-in text contains the duress word.

        A plain substring match on folded text: word boundaries do not exist in Chinese, and a
        false SOS costs far less than a duress signal that goes unheard. Folding (see
        `fold_text`) makes case, full-width letters, invisible characters and runs of spaces
        irrelevant: a phone's keyboard must not decide whether the signal is heard.
        """
        word = fold_text(self.duress_word)
        return bool(word) and word in fold_text(text)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The ladder after a missed deadline; every delay is counted from the deadline.

    Rep reminders later than `manager_after` are not sent: by then the manager has the alert
    (this lets a high-risk level shorten `manager_after` without restating `rep_reminders`).
    When `manager_after == officers_after` the manager step is folded into the officers step,
    whose recipients include every manager of the team.
    """

    rep_reminders: tuple[timedelta, ...]
    manager_after: timedelta
    officers_after: timedelta
    repeat_every: timedelta
    emergency_after_missed_nights: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "rep_reminders", tuple(self.rep_reminders))
        for i, delay in enumerate(self.rep_reminders):
            if delay < _ZERO:
                raise ValueError(f"rep_reminders[{i}] ({delay}) must not be negative")
            if i and delay <= self.rep_reminders[i - 1]:
                raise ValueError("rep_reminders must be in increasing order without repeats")
        if self.manager_after < _ZERO:
            raise ValueError(f"manager_after ({_fmt(self.manager_after)}) must not be negative")
        if self.manager_after > self.officers_after:
            raise ValueError(
                f"manager_after ({_fmt(self.manager_after)}) must not be later than "
                f"officers_after ({_fmt(self.officers_after)})"
            )
        if self.repeat_every <= _ZERO:
            raise ValueError(f"repeat_every ({_fmt(self.repeat_every)}) must be positive")
        if isinstance(self.emergency_after_missed_nights, bool) or (
            self.emergency_after_missed_nights < 1
        ):
            raise ValueError("emergency_after_missed_nights must be a whole number of at least 1")

    @property
    def rep_steps(self) -> tuple[timedelta, ...]:
        """Return the rep reminders that are actually sent (those up to `manager_after`)."""
        return tuple(d for d in self.rep_reminders if d <= self.manager_after)


@dataclass(frozen=True, slots=True)
class SosPolicy:
    repeat_every: timedelta

    def __post_init__(self) -> None:
        if self.repeat_every <= _ZERO:
            raise ValueError(f"repeat_every ({_fmt(self.repeat_every)}) must be positive")


CHANNELS = ("telegram", "sms", "call", "email", "webhook")  # what a [channels] list may name


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """Which channels each tier uses and when (DESIGN.md §10); the rules are
    `domain.channels`. Telegram is always one of them: it carries the buttons."""

    fallback_after: timedelta = timedelta(minutes=5)  # Telegram unacknowledged -> the others
    telegram_down_after: timedelta = timedelta(minutes=2)  # failing this long -> all at once
    manager: tuple[str, ...] = ("telegram", "sms", "call")
    officers: tuple[str, ...] = ("telegram", "sms", "call", "email")
    sos: tuple[str, ...] = ("telegram", "sms", "call", "email")  # all at once, no waiting
    emergency: tuple[str, ...] = ("telegram", "sms", "call", "email")
    rep: tuple[str, ...] = ("telegram", "sms")  # urgent reminders to the rep
    max_calls_per_hour: int = 6  # per person, never exceeded

    def __post_init__(self) -> None:
        for name in ("fallback_after", "telegram_down_after"):
            value: timedelta = getattr(self, name)
            if value < _ZERO:
                raise ValueError(f"{name} ({_fmt(value)}) must not be negative")
        for name in ("manager", "officers", "sos", "emergency", "rep"):
            listed = tuple(getattr(self, name))
            object.__setattr__(self, name, listed)
            unknown = [c for c in listed if c not in CHANNELS]
            if unknown:
                raise ValueError(f"{name}: unknown channel {unknown[0]!r}; expected some of "
                                 + ", ".join(CHANNELS))
            if len(set(listed)) != len(listed):
                raise ValueError(f"{name}: a channel is listed twice")
            if "telegram" not in listed:
                raise ValueError(f"{name}: must include \"telegram\" (it carries the buttons)")
        calls = self.max_calls_per_hour
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
            raise ValueError("max_calls_per_hour must be a whole number, 0 or more")


NOTIFY = ("off", "sms", "sms+call")
CONTACT_PLACEHOLDERS = frozenset({"name", "company_phone"})


@dataclass(frozen=True, slots=True)
class EmergencyContactPolicy:
    """Whether the trip's emergency contact (family, rarely enrolled) is reached by the bot
    itself at the EMERGENCY tier, and in the organisation's own words."""

    notify: str = "off"  # "off": the officers call, as the procedure tells them
    message_en: str = (
        "This is the travel safety desk of {name}'s employer. {name} has missed several "
        "daily check-ins on a work trip and our safety officers are looking for them now. "
        "If you have heard from {name}, please call {company_phone}."
    )
    message_zh: str = (
        "这里是{name}所在公司的差旅安全值班。{name}出差期间已连续多天未报平安，安全专员正在"
        "全力联系。如您与{name}有联系，请致电{company_phone}。"
    )
    company_phone: str = ""  # the safety desk's number, for {company_phone}

    def __post_init__(self) -> None:
        if self.notify not in NOTIFY:
            raise ValueError(f"notify must be one of {', '.join(NOTIFY)}, not {self.notify!r}")
        for name in ("message_en", "message_zh"):
            text: str = getattr(self, name)
            if not text.strip():
                raise ValueError(f"{name} must not be empty")
            try:
                used = {field for _, field, _, _ in string.Formatter().parse(text) if field}
            except ValueError:
                raise ValueError(f"{name}: unbalanced {{ or }}") from None
            unknown = used - CONTACT_PLACEHOLDERS
            if unknown:
                raise ValueError(f"{name}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                                 "use {name} and {company_phone}")
        if self.notify != "off" and not self.company_phone.strip():
            raise ValueError("company_phone is required when notify is not \"off\" (the "
                             "family needs a number to call back)")


@dataclass(frozen=True, slots=True)
class VisitPolicy:
    """Client visits (DESIGN.md §11): the timer, the pairs rule after dark, the visit's own
    short ladder (delays counted from the visit's expected end) and how long notes live."""

    max_length: timedelta = timedelta(hours=8)
    remind_before: timedelta = timedelta(minutes=10)
    after_dark: tuple[time, time] = (time(19, 0), time(6, 0))  # local time at the visit place
    extend_by: timedelta = timedelta(minutes=30)
    max_extensions: int = 3
    rep_reminders: tuple[timedelta, ...] = (timedelta(0), timedelta(minutes=5))
    manager_after: timedelta = timedelta(minutes=10)
    officers_after: timedelta = timedelta(minutes=20)
    repeat_every: timedelta = timedelta(minutes=10)
    notes_expire: timedelta = timedelta(days=365)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rep_reminders", tuple(self.rep_reminders))
        object.__setattr__(self, "after_dark", tuple(self.after_dark))
        for name in ("max_length", "extend_by", "notes_expire"):
            value: timedelta = getattr(self, name)
            if value <= _ZERO:
                raise ValueError(f"{name} ({_fmt(value)}) must be positive")
        if self.remind_before < _ZERO:
            raise ValueError(f"remind_before ({_fmt(self.remind_before)}) must not be negative")
        if len(self.after_dark) != 2 or any(t.tzinfo is not None for t in self.after_dark):
            raise ValueError("after_dark must be two local times of day, [from, until]")
        if isinstance(self.max_extensions, bool) or self.max_extensions < 0:
            raise ValueError("max_extensions must be a whole number, 0 or more")
        self.escalation  # noqa: B018 -- the ladder's own invariants, checked now

    @property
    def escalation(self) -> EscalationPolicy:
        """Return the visit's ladder, in the shape every ladder has (no EMERGENCY streak)."""
        return EscalationPolicy(
            rep_reminders=self.rep_reminders, manager_after=self.manager_after,
            officers_after=self.officers_after, repeat_every=self.repeat_every,
            emergency_after_missed_nights=1,
        )


@dataclass(frozen=True, slots=True)
class RollcallPolicy:
    """A roll-call's patience (DESIGN.md §12): silence is met with a second question after
    `remind_after`, then the person's manager is told after `manager_after` (both counted
    from the start of the roll-call)."""

    remind_after: timedelta = timedelta(minutes=15)
    manager_after: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.remind_after <= _ZERO:
            raise ValueError(f"remind_after ({_fmt(self.remind_after)}) must be positive")
        if self.manager_after <= self.remind_after:
            raise ValueError(
                f"manager_after ({_fmt(self.manager_after)}) must be later than "
                f"remind_after ({_fmt(self.remind_after)})"
            )


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy; `per_level` holds complete ladders for risk levels that differ."""

    checkin: CheckinPolicy
    escalation: EscalationPolicy
    sos: SosPolicy
    per_level: Mapping[int, EscalationPolicy] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    channels: ChannelPolicy = field(default_factory=ChannelPolicy)
    emergency_contact: EmergencyContactPolicy = field(default_factory=EmergencyContactPolicy)
    visit: VisitPolicy = field(default_factory=VisitPolicy)
    incident: IncidentPolicy = field(default_factory=IncidentPolicy)  # [incident], DESIGN §12
    drill: DrillPolicy = field(default_factory=DrillPolicy)  # [drill]
    rollcall: RollcallPolicy = field(default_factory=RollcallPolicy)

    def __post_init__(self) -> None:
        for level in self.per_level:
            if isinstance(level, bool) or level not in LEVELS:
                raise ValueError(f"per-level ladders are for risk levels 1-4, not {level!r}")
        object.__setattr__(self, "per_level", MappingProxyType(dict(self.per_level)))

    def escalation_for(self, level: int) -> EscalationPolicy:
        """Return the ladder for a trip of risk `level` (0 = unknown uses the base ladder)."""
        if level != 0 and level not in LEVELS:
            raise ValueError(f"risk level must be 0-4, not {level!r}")
        return self.per_level.get(level, self.escalation)


def apply_overrides(base: EscalationPolicy, overrides: Mapping[str, Any]) -> EscalationPolicy:
    """Return `base` with some of its fields replaced (a per-level ladder)."""
    return replace(base, **overrides)


BASE_ESCALATION = EscalationPolicy(
    rep_reminders=(timedelta(0), timedelta(minutes=15)),
    manager_after=timedelta(minutes=30),
    officers_after=timedelta(minutes=60),
    repeat_every=timedelta(minutes=30),
    emergency_after_missed_nights=3,
)

# DESIGN.md §3: high-risk destinations (levels 3-4) use shorter delays. A policy file's
# [risk.levelN] section replaces the built-in overrides for that level.
DEFAULT_LEVEL_OVERRIDES: Mapping[int, Mapping[str, Any]] = MappingProxyType(
    {
        3: MappingProxyType(
            {
                "rep_reminders": (timedelta(0), timedelta(minutes=10)),
                "manager_after": timedelta(minutes=20),
                "officers_after": timedelta(minutes=40),
                "repeat_every": timedelta(minutes=20),
            }
        ),
        4: MappingProxyType(
            {
                "rep_reminders": (timedelta(0), timedelta(minutes=5)),
                "manager_after": timedelta(minutes=10),
                "officers_after": timedelta(minutes=20),
                "repeat_every": timedelta(minutes=15),
            }
        ),
    }
)

DEFAULT_POLICY = Policy(
    checkin=CheckinPolicy(reminder=time(20, 0), deadline=time(21, 0), duress_word=""),
    escalation=BASE_ESCALATION,
    sos=SosPolicy(repeat_every=timedelta(minutes=5)),
    per_level={
        level: apply_overrides(BASE_ESCALATION, overrides)
        for level, overrides in DEFAULT_LEVEL_OVERRIDES.items()
    },
)
