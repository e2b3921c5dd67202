"""The channel rules, pure: which channels a step uses and when, who was reached, the call cap,
Telegram down, SMS acknowledgements; and the policy's [channels] and [emergency_contact]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain.channels import (
    ANSWERED_BY_MACHINE,
    Attempt,
    Planned,
    Reach,
    answered_by_machine,
    may_call,
    outage_goes_on,
    parse_ack_reply,
    person_reach,
    plan,
    step_not_reached,
    telegram_down,
)
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.policy import ChannelPolicy, EmergencyContactPolicy
from fieldbot.policy_file import PolicyError, load_policy

NOW = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)
POLICY = ChannelPolicy()
EVERY = frozenset({"telegram", "sms", "call", "email"})


def test_a_managers_step_goes_on_telegram_now_and_by_sms_and_call_after_fallback() -> None:
    later = NOW + timedelta(minutes=5)
    assert plan(POLICY, AlertKind.MISSED, Tier.MANAGER, EVERY, NOW) == (
        Planned("telegram", NOW), Planned("sms", later), Planned("call", later))


@pytest.mark.parametrize(("kind", "tier"), [(AlertKind.SOS, Tier.OFFICERS),
                                            (AlertKind.DURESS, Tier.OFFICERS),
                                            (AlertKind.EMERGENCY, Tier.EMERGENCY)])
def test_sos_and_emergency_go_on_every_channel_at_once(kind: AlertKind, tier: Tier) -> None:
    planned = plan(POLICY, kind, tier, EVERY, NOW)
    assert [p.channel for p in planned] == ["telegram", "sms", "call", "email"]
    assert {p.due_at for p in planned} == {NOW}


def test_while_telegram_is_down_a_leads_step_goes_at_once_but_the_reps_waits() -> None:
    lead = plan(POLICY, AlertKind.MISSED, Tier.OFFICERS, EVERY, NOW, telegram_down=True)
    rep = plan(POLICY, AlertKind.MISSED, Tier.REP, EVERY, NOW, telegram_down=True)
    assert {p.due_at for p in lead} == {NOW}
    assert rep == (Planned("telegram", NOW), Planned("sms", NOW + timedelta(minutes=5)))


def test_a_channel_without_a_confirmed_point_or_not_configured_is_skipped() -> None:
    planned = plan(POLICY, AlertKind.SOS, Tier.OFFICERS, {"telegram", "email"}, NOW)
    assert [p.channel for p in planned] == ["telegram", "email"]


@given(st.lists(st.integers(min_value=0, max_value=7200), max_size=30),
       st.integers(min_value=0, max_value=10))
def test_calls_never_exceed_the_hourly_cap(offsets: list[int], cap: int) -> None:
    """Placing a call whenever may_call allows never puts more than `cap` in any hour."""
    placed: list[datetime] = []
    for offset in sorted(offsets):
        now = NOW + timedelta(seconds=offset)
        if may_call(placed, now, cap):
            placed.append(now)
    for first in placed:
        assert sum(1 for p in placed if first <= p < first + timedelta(hours=1)) <= cap


def test_telegram_counts_as_down_after_failing_for_telegram_down_after() -> None:
    after = timedelta(minutes=2)
    assert not telegram_down(None, NOW, after)
    assert not telegram_down(NOW - timedelta(seconds=119), NOW, after)
    assert telegram_down(NOW - timedelta(minutes=2), NOW, after)


def test_an_outage_another_process_saw_goes_on_only_if_it_saw_it_lately() -> None:
    after = timedelta(minutes=2)
    assert outage_goes_on(NOW - timedelta(seconds=30), NOW, after)  # a restart
    assert outage_goes_on(NOW - after, NOW, after)
    assert not outage_goes_on(NOW - after - timedelta(seconds=1), NOW, after)
    assert not outage_goes_on(NOW - timedelta(hours=3), NOW, after)  # died long ago
    assert not outage_goes_on(NOW + timedelta(minutes=1), NOW, after)  # a clock set back


def a(uid: int, channel: str, state: str, delivery: str = "") -> Attempt:
    return Attempt(uid, channel, state, delivery)


def test_a_failed_sms_after_an_unanswered_telegram_message_is_not_reached() -> None:
    assert person_reach([a(1, "telegram", "sent"), a(1, "sms", "sent", "undelivered")]) \
        is Reach.NOT_REACHED
    assert person_reach([a(1, "telegram", "sent"), a(1, "sms", "sent", "delivered")]) \
        is Reach.REACHED
    assert person_reach([a(1, "telegram", "sent"), a(1, "call", "pending")]) is Reach.UNDECIDED
    # Telegram down: its message still retried, her SMS and call failed: she was not reached.
    assert person_reach([a(1, "telegram", "pending"), a(1, "sms", "sent", "undelivered"),
                         a(1, "call", "sent", "no-answer")]) is Reach.NOT_REACHED
    assert person_reach([a(1, "telegram", "pending")]) is Reach.UNDECIDED
    assert person_reach([a(1, "telegram", "sent")]) is Reach.REACHED
    assert person_reach([a(1, "telegram", "failed")]) is Reach.NOT_REACHED


def test_a_step_moves_on_only_when_nobody_was_reached() -> None:
    mia_missed = [a(1, "telegram", "sent"), a(1, "call", "sent", "no-answer")]
    assert step_not_reached(mia_missed)
    assert not step_not_reached([*mia_missed, a(2, "telegram", "sent")])
    assert not step_not_reached([])


_STATES = st.sampled_from(["pending", "sending", "sent", "failed"])
_DELIVERIES = st.sampled_from(["", "sent", "delivered", "failed", "no-answer", "busy"])
_CHANNELS = st.sampled_from(["telegram", "sms", "call", "email"])


@given(st.lists(st.tuples(st.integers(1, 3), _CHANNELS, _STATES, _DELIVERIES), max_size=12))
def test_a_step_with_anything_decisive_waiting_or_anyone_reached_never_moves_on(
    rows: list[tuple[int, str, str, str]],
) -> None:
    attempts = [Attempt(*row) for row in rows]
    if step_not_reached(attempts):
        for person in {x.recipient for x in attempts}:
            mine = [x for x in attempts if x.recipient == person]
            # A Telegram message still retried waits for nothing once her others went out.
            decisive = [x for x in mine if x.channel != "telegram"] or mine
            assert not any(x.state in ("pending", "sending") for x in decisive)
        assert not any(x.delivery in ("delivered",) for x in attempts)


@pytest.mark.parametrize(("text", "alert"), [
    ("1", None), ("ACK", None), ("ack", None), ("Ack A-12", 12), ("ACK a12", 12),
    ("ＡＣＫ　Ａ－１２", 12), ("确认", None), ("  1. ", None), ("ok", None), ("1 7", 7),
    # typed in a hurry at night: trailing punctuation, an emoji, Chinese punctuation
    ("ACK!!", None), ("ack,", None), ("Ack 👍", None), ("收到！！", None), ("确认。", None),
    ("ACK A-12!!", 12), ("ok...", None), ("确认收到", None), ("收到了！", None),
])
def test_sms_replies_that_acknowledge(text: str, alert: int | None) -> None:
    reply = parse_ack_reply(text)
    assert reply is not None and reply.alert_id == alert


@pytest.mark.parametrize("text", ["", "112", "hello", "ACK ALL", "2", "1\u202e2", "a" * 500,
                                  "ok?", "确认？", "ack a", "ok thanks", "1!2"])
def test_sms_replies_that_do_not(text: str) -> None:
    assert parse_ack_reply(text) is None


# --- the policy file ------------------------------------------------------------------------


def test_channels_and_emergency_contact_are_read_from_the_policy_file(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, '[channels]\nfallback_after = "2m"\n'
                                          'manager = ["telegram", "call"]\n'
                                          "max_calls_per_hour = 3\n"
                                          '[emergency_contact]\nnotify = "sms"\n'
                                          'company_phone = "+4930000000"\n'))
    assert policy.channels.fallback_after == timedelta(minutes=2)
    assert policy.channels.manager == ("telegram", "call")
    assert policy.channels.max_calls_per_hour == 3
    assert policy.channels.officers == ChannelPolicy().officers  # unchanged default
    assert policy.emergency_contact.notify == "sms"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "words"), [
    ('[channels]\nmanager = ["telegram", "pager"]\n', "channels: manager: unknown channel"),
    ('[channels]\nmanager = ["sms"]\n', 'must include "telegram"'),
    ('[channels]\nsos = "sms"\n', "channels.sos"),
    ("[channels]\nmax_calls_per_hour = -1\n", "max_calls_per_hour"),
    ('[channels]\nfax = ["telegram"]\n', "channels.fax: unknown key"),
    ('[emergency_contact]\nnotify = "call"\n', "notify must be one of"),
    ('[emergency_contact]\nnotify = "sms"\n', "company_phone is required"),
    ('[emergency_contact]\nmessage_en = "Call {boss}"\n', "unknown placeholder {boss}"),
    ('[emergency_contact]\nmessage_zh = ""\n', "message_zh must not be empty"),
])
def test_a_bad_channels_policy_stops_start_up_naming_the_key(
    tmp_path: Path, text: str, words: str,
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, text))
    assert words in str(caught.value)


def test_the_defaults_work_without_any_policy_file() -> None:
    policy = load_policy(None)
    assert policy.channels == ChannelPolicy()
    assert policy.emergency_contact == EmergencyContactPolicy()
    assert policy.emergency_contact.notify == "off"


_KINDS = st.sampled_from(list(AlertKind))
_TIERS = st.sampled_from(list(Tier))


@given(_KINDS, _TIERS, st.sets(st.sampled_from(["telegram", "sms", "call", "email", "webhook"])),
       st.booleans(), st.integers(min_value=0, max_value=3600))
def test_telegram_always_goes_now_and_nothing_waits_longer_than_fallback_after(
    kind: AlertKind, tier: Tier, usable: set[str], down: bool, fallback: int,
) -> None:
    policy = ChannelPolicy(fallback_after=timedelta(seconds=fallback))
    planned = plan(policy, kind, tier, usable, NOW, telegram_down=down)
    assert planned[0] == Planned("telegram", NOW)
    assert all(NOW <= p.due_at <= NOW + policy.fallback_after for p in planned)
    assert {p.channel for p in planned[1:]} <= usable - {"telegram"}
    if kind in (AlertKind.SOS, AlertKind.DURESS) and tier is not Tier.REP:
        assert {p.due_at for p in planned} == {NOW}  # an SOS never waits


@pytest.mark.parametrize(("answerer", "machine"), [
    ("human", False), ("unknown", False), ("", False),  # unsure: a person, who may press 1
    ("machine_start", True), ("machine_end_beep", True), ("machine_end_other", True),
    ("fax", True),
])
def test_voicemail_or_a_fax_reached_nobody(answerer: str, machine: bool) -> None:
    assert answered_by_machine(answerer) is machine
    left = Attempt(1, "call", "sent", ANSWERED_BY_MACHINE)
    assert person_reach([Attempt(1, "telegram", "sent"), left]) is Reach.NOT_REACHED
