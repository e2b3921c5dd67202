"""The rules of hazard reports: what a verified one does to the risk around it, its reach, its
points. Pure: no Telegram, no database, no clock."""

from __future__ import annotations

import pytest

from fieldbot.domain.hazards import (
    MAX_RADIUS_KM,
    Category,
    HazardReport,
    Severity,
    headline,
    points_for,
    radius_km,
    risk_level_of,
)
from fieldbot.domain.risk import RiskLevel


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.RED, RiskLevel.ORANGE),  # a verified red report nearby: at least orange
        (Severity.ORANGE, RiskLevel.YELLOW),
        (Severity.YELLOW, RiskLevel.YELLOW),  # "increased caution" is never lowered
        (Severity.BLUE, RiskLevel.BLUE),
    ],
)
def test_a_verified_report_raises_its_area_by_policy(severity: Severity,
                                                     level: RiskLevel) -> None:
    assert risk_level_of(severity) is level


def test_only_red_and_orange_are_urgent() -> None:
    assert [s for s in Severity if s.urgent] == [Severity.ORANGE, Severity.RED]


def test_a_report_located_by_a_place_name_covers_the_town_around_it() -> None:
    assert radius_km(Category.CRIME, by_place_name=False) == 1.0
    assert radius_km(Category.CRIME, by_place_name=True) == 10.0
    assert radius_km(Category.WEATHER, by_place_name=True) == 25.0
    assert all(radius_km(c, True) <= MAX_RADIUS_KM for c in Category)


def test_points_grow_with_severity() -> None:
    points = [points_for(s) for s in Severity]
    assert points == sorted(points) and points[0] > 0


def test_a_report_needs_valid_coordinates_and_a_short_description() -> None:
    with pytest.raises(ValueError, match="coordinates"):
        HazardReport(Category.ROAD, Severity.RED, 91.0, 0.0, "Nowhere", False, "x")
    with pytest.raises(ValueError, match="too long"):
        HazardReport(Category.ROAD, Severity.RED, 0.0, 0.0, "Null Island", False, "x" * 1001)


def test_the_headline_is_one_short_line() -> None:
    title = headline("Berlin, Germany", "Open manhole\n\non the   pavement " + "x" * 200)
    assert title.startswith("Berlin, Germany: Open manhole on the pavement")
    assert len(title) <= len("Berlin, Germany: ") + 80 and title.endswith("…")
