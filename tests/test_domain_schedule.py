"""Nights and deadlines: destination-local, DST-proof, one per night of the trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain.places import Place
from fieldbot.domain.policy import DEFAULT_POLICY, CheckinPolicy, Policy
from fieldbot.domain.schedule import Night, local_to_utc, next_night, night_for, nights
from fieldbot.domain.trips import Leg, Trip, TripStatus

NEW_YORK = Place("New York", "US", "United States", "New York", 40.71, -74.01, "America/New_York")
KATHMANDU = Place("Kathmandu", "NP", "Nepal", "Bagmati", 27.70, 85.32, "Asia/Kathmandu")
LORD_HOWE = Place(
    "Lord Howe Island", "AU", "Australia", "NSW", -31.55, 159.08, "Australia/Lord_Howe"
)
BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.40, "Europe/Berlin")
TOKYO = Place("Tokyo", "JP", "Japan", "Tokyo", 35.68, 139.69, "Asia/Tokyo")
PAGO_PAGO = Place("Pago Pago", "AS", "American Samoa", "", -14.28, -170.70, "Pacific/Pago_Pago")
KIRITIMATI = Place("Kiritimati", "KI", "Kiribati", "", 1.87, -157.43, "Pacific/Kiritimati")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def trip(*legs: tuple[Place, date, date], trip_id: int = 7) -> Trip:
    return Trip(
        id=trip_id,
        user_id=1,
        legs=tuple(Leg(place, start, end) for place, start, end in legs),
        status=TripStatus.APPROVED,
    )


def with_checkin(reminder: time, deadline: time) -> Policy:
    return replace(DEFAULT_POLICY, checkin=CheckinPolicy(reminder=reminder, deadline=deadline))


def deadlines(t: Trip, policy: Policy = DEFAULT_POLICY) -> dict[date, datetime]:
    return {n.day: n.deadline for n in nights(t, policy)}


def test_new_york_deadline_follows_the_spring_dst_change() -> None:
    t = trip((NEW_YORK, date(2026, 3, 6), date(2026, 3, 9)))

    assert deadlines(t) == {
        date(2026, 3, 6): utc(2026, 3, 7, 2, 0),  # 21:00 EST (UTC-5)
        date(2026, 3, 7): utc(2026, 3, 8, 2, 0),
        date(2026, 3, 8): utc(2026, 3, 9, 1, 0),  # 21:00 EDT (UTC-4), clocks went forward
        date(2026, 3, 9): utc(2026, 3, 10, 1, 0),
    }


def test_new_york_deadline_follows_the_autumn_dst_change() -> None:
    t = trip((NEW_YORK, date(2026, 10, 31), date(2026, 11, 2)))

    assert deadlines(t) == {
        date(2026, 10, 31): utc(2026, 11, 1, 1, 0),  # 21:00 EDT
        date(2026, 11, 1): utc(2026, 11, 2, 2, 0),  # 21:00 EST
        date(2026, 11, 2): utc(2026, 11, 3, 2, 0),
    }


def test_a_deadline_in_the_spring_gap_moves_to_the_end_of_the_gap() -> None:
    # 02:30 does not exist in New York on 8 March 2026: the clocks jump 02:00 -> 03:00 EDT.
    t = trip((NEW_YORK, date(2026, 3, 6), date(2026, 3, 8)))

    assert deadlines(t, with_checkin(time(20, 0), time(2, 30))) == {
        date(2026, 3, 6): utc(2026, 3, 7, 7, 30),  # 02:30 EST the next morning
        date(2026, 3, 7): utc(2026, 3, 8, 7, 0),  # 03:00 EDT: the first instant after the gap
        date(2026, 3, 8): utc(2026, 3, 9, 6, 30),  # 02:30 EDT
    }


def test_a_deadline_in_the_autumn_fold_is_the_earlier_of_the_two() -> None:
    # 01:30 happens twice in New York on 1 November 2026: first EDT, then EST.
    t = trip((NEW_YORK, date(2026, 10, 31), date(2026, 11, 1)))

    assert deadlines(t, with_checkin(time(20, 0), time(1, 30))) == {
        date(2026, 10, 31): utc(2026, 11, 1, 5, 30),  # 01:30 EDT, not 01:30 EST (06:30Z)
        date(2026, 11, 1): utc(2026, 11, 2, 6, 30),  # 01:30 EST
    }


def test_local_to_utc_in_the_spring_gap_returns_the_transition_instant() -> None:
    assert local_to_utc(date(2026, 3, 8), time(2, 0), "America/New_York") == utc(2026, 3, 8, 7)
    assert local_to_utc(date(2026, 3, 8), time(2, 59, 59), "America/New_York") == utc(
        2026, 3, 8, 7
    )
    assert local_to_utc(date(2026, 3, 8), time(3, 0), "America/New_York") == utc(2026, 3, 8, 7)
    assert local_to_utc(date(2026, 3, 8), time(1, 59), "America/New_York") == utc(
        2026, 3, 8, 6, 59
    )


def test_kathmandu_quarter_hour_offset() -> None:
    t = trip((KATHMANDU, date(2026, 5, 1), date(2026, 5, 2)))

    [first, second] = nights(t, DEFAULT_POLICY)

    assert first.reminder_at == utc(2026, 5, 1, 14, 15)  # 20:00 at UTC+5:45
    assert first.deadline == utc(2026, 5, 1, 15, 15)
    assert second.deadline == utc(2026, 5, 2, 15, 15)
    assert first.tz_name == "Asia/Kathmandu"


def test_lord_howe_half_hour_dst_change() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: back at 02:00 on 5 April 2026
    # (UTC+11 -> UTC+10:30) and forward at 02:00 on 4 October 2026 (02:00 -> 02:30).
    t = trip((LORD_HOWE, date(2026, 4, 4), date(2026, 4, 5)))

    assert deadlines(t) == {
        date(2026, 4, 4): utc(2026, 4, 4, 10, 0),
        date(2026, 4, 5): utc(2026, 4, 5, 10, 30),
    }
    spring = trip((LORD_HOWE, date(2026, 10, 3), date(2026, 10, 3)))
    fold = trip((LORD_HOWE, date(2026, 4, 4), date(2026, 4, 4)))
    assert deadlines(spring, with_checkin(time(20, 0), time(2, 15))) == {
        date(2026, 10, 3): utc(2026, 10, 3, 15, 30),  # 02:15 is in the gap: 02:30 at UTC+11
    }
    assert deadlines(fold, with_checkin(time(20, 0), time(1, 45))) == {
        date(2026, 4, 4): utc(2026, 4, 4, 14, 45),  # the first 01:45, at UTC+11
    }


def test_the_night_of_a_travel_day_follows_the_later_leg() -> None:
    t = trip(
        (BERLIN, date(2026, 6, 1), date(2026, 6, 3)),
        (TOKYO, date(2026, 6, 3), date(2026, 6, 4)),
    )

    result = nights(t, DEFAULT_POLICY)

    assert [(n.day, n.leg_index, n.tz_name, n.deadline) for n in result] == [
        (date(2026, 6, 1), 0, "Europe/Berlin", utc(2026, 6, 1, 19)),  # 21:00 CEST
        (date(2026, 6, 2), 0, "Europe/Berlin", utc(2026, 6, 2, 19)),
        (date(2026, 6, 3), 1, "Asia/Tokyo", utc(2026, 6, 3, 12)),  # 21:00 JST
        (date(2026, 6, 4), 1, "Asia/Tokyo", utc(2026, 6, 4, 12)),
    ]
    assert all(n.trip_id == 7 for n in result)
    # Berlin's last window closes when Tokyo's first opens (noon in Tokyo).
    assert result[1].closes_at == result[2].opens_at == utc(2026, 6, 3, 3)


def test_a_gap_between_legs_keeps_the_earlier_legs_zone() -> None:
    t = trip(
        (BERLIN, date(2026, 6, 1), date(2026, 6, 1)),
        (TOKYO, date(2026, 6, 3), date(2026, 6, 3)),
    )

    assert [n.tz_name for n in nights(t, DEFAULT_POLICY)] == [
        "Europe/Berlin",
        "Europe/Berlin",
        "Asia/Tokyo",
    ]


def test_one_night_per_date_inclusive() -> None:
    t = trip((BERLIN, date(2026, 6, 1), date(2026, 6, 1)))

    assert [n.day for n in nights(t, DEFAULT_POLICY)] == [date(2026, 6, 1)]


def test_night_for_finds_the_window_from_noon_to_next_noon() -> None:
    t = trip((BERLIN, date(2026, 6, 1), date(2026, 6, 2)))

    assert night_for(t, DEFAULT_POLICY, utc(2026, 6, 1, 9, 59)) is None  # 11:59 local
    first = night_for(t, DEFAULT_POLICY, utc(2026, 6, 1, 10, 0))
    assert first is not None
    assert first.day == date(2026, 6, 1)
    late = night_for(t, DEFAULT_POLICY, utc(2026, 6, 2, 7, 0))  # 09:00 next morning
    assert late == first
    second = night_for(t, DEFAULT_POLICY, utc(2026, 6, 2, 10, 0))
    assert second is not None
    assert second.day == date(2026, 6, 2)
    assert night_for(t, DEFAULT_POLICY, utc(2026, 6, 3, 10, 0)) is None


def test_next_night_is_the_next_deadline_still_ahead() -> None:
    t = trip((BERLIN, date(2026, 6, 1), date(2026, 6, 2)))

    first = next_night(t, DEFAULT_POLICY, utc(2026, 5, 1))
    assert first is not None
    assert first.day == date(2026, 6, 1)
    at_deadline = next_night(t, DEFAULT_POLICY, first.deadline)
    assert at_deadline is not None
    assert at_deadline.day == date(2026, 6, 2)
    assert next_night(t, DEFAULT_POLICY, utc(2026, 6, 2, 19)) is None


def test_crossing_the_date_line_eastwards_keeps_every_deadline_inside_its_window() -> None:
    # Pago Pago is UTC-11 and Kiritimati UTC+14: the second night opens before the first's
    # deadline. Both deadlines stay reachable.
    t = trip(
        (PAGO_PAGO, date(2026, 6, 1), date(2026, 6, 2)),
        (KIRITIMATI, date(2026, 6, 2), date(2026, 6, 3)),
    )

    result = nights(t, DEFAULT_POLICY)

    for n in result:
        assert n.opens_at <= n.reminder_at <= n.deadline < n.closes_at
        assert night_for(t, DEFAULT_POLICY, n.deadline - timedelta(seconds=1)) == n


def test_naive_now_is_refused() -> None:
    t = trip((BERLIN, date(2026, 6, 1), date(2026, 6, 2)))

    with pytest.raises(ValueError, match="aware"):
        night_for(t, DEFAULT_POLICY, datetime(2026, 6, 1, 12))


ZONES = [
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Europe/Berlin",
    "Asia/Tokyo",
    "America/St_Johns",
    "Pacific/Chatham",
    "Europe/London",
    "America/Santiago",
]


@st.composite
def trips(draw: st.DrawFn) -> Trip:
    start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 1)))
    legs: list[tuple[Place, date, date]] = []
    for _ in range(draw(st.integers(1, 3))):
        length = draw(st.integers(0, 10))
        place = replace(BERLIN, tz_name=draw(st.sampled_from(ZONES)))
        legs.append((place, start, start + timedelta(days=length)))
        start += timedelta(days=length)  # the next leg begins on the travel day
    return trip(*legs)


@st.composite
def checkin_policies(draw: st.DrawFn) -> Policy:
    """Draw a window opening and a reminder and deadline after it, in quarter hours."""
    quarters = draw(st.lists(st.integers(0, 95), min_size=2, max_size=2, unique=True))
    opens = draw(st.integers(0, 95))

    def at(offset: int) -> time:
        minutes = (opens + offset) % 96 * 15
        return time(minutes // 60, minutes % 60)

    checkin = CheckinPolicy(
        reminder=at(min(quarters)), deadline=at(max(quarters)), window_opens=at(0)
    )
    return replace(DEFAULT_POLICY, checkin=checkin)


@given(trips(), checkin_policies())
def test_nights_tile_the_trip_and_every_deadline_is_inside_its_window(
    t: Trip, policy: Policy
) -> None:
    result = nights(t, policy)

    assert [n.day for n in result] == [
        t.start + timedelta(days=i) for i in range((t.end - t.start).days + 1)
    ]
    for n in result:
        assert n.opens_at <= n.reminder_at <= n.deadline < n.closes_at
        assert n.deadline.utcoffset() == timedelta(0)
        assert n.contains(n.deadline - timedelta(microseconds=1))
    for earlier, later in zip(result, result[1:], strict=False):
        if later.opens_at > earlier.deadline:  # always, unless the trip jumps the date line
            assert earlier.closes_at == later.opens_at
    for n in result:
        overlapping = [o for o in result if o != n and o.opens_at < n.closes_at < o.closes_at]
        overlapping += [o for o in result if o != n and o.opens_at < n.opens_at < o.closes_at]
        if not overlapping:
            assert night_for(t, policy, n.reminder_at) == n


def test_night_is_a_value() -> None:
    t = trip((BERLIN, date(2026, 6, 1), date(2026, 6, 1)))

    [n] = nights(t, DEFAULT_POLICY)

    assert n == Night(
        trip_id=7,
        day=date(2026, 6, 1),
        leg_index=0,
        tz_name="Europe/Berlin",
        reminder_at=utc(2026, 6, 1, 18),
        deadline=utc(2026, 6, 1, 19),
        opens_at=utc(2026, 6, 1, 10),
        closes_at=utc(2026, 6, 2, 10),
    )
