"""The /hazard draft: what the reporter has answered so far, kept in `user_data` as JSON
between updates (and restarts), and turned into the report the hazard service saves."""

from __future__ import annotations

from enum import IntEnum

from pydantic import BaseModel, Field

from conversations.flows.drafts import DraftModel
from conversations.render.formatting import kept_label
from fieldbot.domain.hazards import Category, HazardReport, PhotoRef, Severity


class Step(IntEnum):
    PHOTOS = 1
    CATEGORY = 2
    SEVERITY = 3
    LOCATION = 4
    DESCRIPTION = 5
    CONFIRM = 6


class Spot(BaseModel):
    label: str
    lat: float
    lon: float
    label_zh: str = ""  # as a Chinese reader names it ("" in a draft from before)

    def named(self, language: str) -> str:
        return kept_label(self.label, self.label_zh, language)


class HazardDraft(DraftModel):
    """What the reporter has answered so far."""

    step: Step = Step.PHOTOS
    photos: list[tuple[str, str]] = Field(default_factory=list)  # (sha256, stored path)
    category: Category | None = None
    severity: Severity | None = None
    spot: Spot | None = None
    by_place_name: bool = False
    choices: list[Spot] = Field(default_factory=list)  # matches offered as buttons
    trip_button: str = ""  # the text of the "my trip's destination" button, if offered
    trip_spot: Spot | None = None
    description: str = ""
    told_extra: bool = False  # told once that photos beyond the most were not kept

    def refs(self) -> list[PhotoRef]:
        return [PhotoRef(sha, path) for sha, path in self.photos]

    def report(self) -> HazardReport:
        assert self.category and self.severity and self.spot
        return HazardReport(self.category, self.severity, self.spot.lat, self.spot.lon,
                            self.spot.label, self.by_place_name, self.description,
                            tuple(self.refs()), self.spot.label_zh)
