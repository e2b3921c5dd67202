"""The /trip draft: what the rep has answered so far, kept in `user_data` as JSON between
updates (and restarts), and turned into the plan the trip service saves."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from enum import IntEnum

from pydantic import BaseModel, Field

from conversations.flows.drafts import DraftModel
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg, Trip, TripStatus
from fieldbot.services.trips import TripPlan


class Step(IntEnum):
    DESTINATION = 1
    START = 2
    END = 3
    MORE = 4
    LODGING = 5
    CONTACT = 6
    NIGHTS = 7
    COMPANION = 8
    CONFIRM = 9
    EDIT = 10


class PlaceData(BaseModel):
    name: str
    country_code: str
    country_name: str
    region: str
    lat: float
    lon: float
    tz_name: str
    geonameid: int | None = None
    name_zh: str = ""

    @classmethod
    def of(cls, place: Place) -> PlaceData:
        return cls(**asdict(place))

    def place(self) -> Place:
        return Place(**self.model_dump())


class LegData(BaseModel):
    place: PlaceData
    start: date | None = None
    end: date | None = None


class TripDraft(DraftModel):
    """What the rep has answered so far; the last leg may still lack its dates."""

    step: Step = Step.DESTINATION
    editing: bool = False  # a field was picked from the Edit menu: back to the summary after
    legs: list[LegData] = Field(default_factory=list)
    choices: list[PlaceData] = Field(default_factory=list)  # matches offered as buttons
    lodging: str | None = None  # "" = not yet known
    contact_name: str = ""
    contact_phone: str = ""
    contact_user_id: int | None = None
    night_visits: bool = False
    companion: str = ""

    def legs_tuple(self) -> tuple[Leg, ...]:
        return tuple(Leg(leg.place.place(), leg.start, leg.end) for leg in self.legs
                     if leg.start is not None and leg.end is not None)

    def plan(self) -> TripPlan:
        return TripPlan(
            legs=self.legs_tuple(), lodging=self.lodging or "", contact_name=self.contact_name,
            contact_phone=self.contact_phone, contact_user_id=self.contact_user_id,
            night_visits=self.night_visits, companion=self.companion,
        )

    def as_trip(self, risk_level: int) -> Trip:
        """Return the plan as an unsaved trip, for the summary."""
        plan = self.plan()
        return Trip(
            id=0, user_id=0, legs=plan.legs, status=TripStatus.AWAITING_APPROVAL,
            lodging=plan.lodging, contact_name=plan.contact_name,
            contact_phone=plan.contact_phone, night_visits=plan.night_visits,
            companion=plan.companion, risk_level=risk_level,
        )
