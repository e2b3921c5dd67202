"""Lessons learned (the policy's safety knowledge base): closed incidents' root causes and
measures, anonymised when written, searched by place or keyword, and shown near a
destination in /risk and the /trip summary."""

from __future__ import annotations

from dataclasses import dataclass

from fieldbot.crypto import Cipher
from fieldbot.domain.places import Place
from fieldbot.domain.policy import fold_text
from fieldbot.domain.risk import haversine_km
from fieldbot.storage import incidents as store
from fieldbot.storage.db import Database
from fieldbot.storage.incidents import LessonRow

PAGE = 5  # lessons per page of /lessons
SEARCHED = 500  # the newest lessons searched (their texts are encrypted: read, then matched)
MAX_QUERY = 100
NEAR_KM = 50.0  # "near a destination"
_DEGREES = NEAR_KM / 111.0 + 0.01  # a box around the place: the grid's prefilter


@dataclass(frozen=True, slots=True)
class LessonPage:
    lessons: list[LessonRow]
    page: int
    pages: int
    total: int


class LessonService:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher

    async def search(self, query: str, page: int = 0, near: Place | None = None
                     ) -> LessonPage:
        """Return a page of the lessons whose place or texts contain `query` (any case,
        full-width or not), or that lie near `near`; everything when the query is empty."""
        words = fold_text(query[:MAX_QUERY]).split()
        async with self._db.read() as tx:
            found = await store.recent_lessons(tx, SEARCHED, cipher=self._cipher)
        nearby = {lesson.id for lesson in _near(found, near)} if near else set()

        def matches(lesson: LessonRow) -> bool:
            text = fold_text(" ".join((lesson.place, lesson.place_zh, lesson.country,
                                       lesson.grade.value,
                                       lesson.cause, lesson.measures)))
            return lesson.id in nearby or all(word in text for word in words)

        chosen = [lesson for lesson in found if matches(lesson)]
        pages = max(1, -(-len(chosen) // PAGE))
        page = min(max(page, 0), pages - 1)
        return LessonPage(chosen[page * PAGE:(page + 1) * PAGE], page, pages, len(chosen))

    async def near(self, place: Place) -> list[LessonRow]:
        """Return the lessons from incidents within NEAR_KM of a place, newest first."""
        async with self._db.read() as tx:
            boxed = await store.lessons_in_box(tx, place.lat, place.lon, _DEGREES, 50,
                                               cipher=self._cipher)
        return _near(boxed, place)


def _near(lessons: list[LessonRow], place: Place) -> list[LessonRow]:
    return [lesson for lesson in lessons if lesson.lat is not None and lesson.lon is not None
            and haversine_km(place.lat, place.lon, lesson.lat, lesson.lon) <= NEAR_KM]
