"""An album of ten photos (Telegram delivers it as ten messages at once): the first five are
kept, one line says the rest were not, and the category question comes once. Before, photos 6
to 10 each got "That does not answer the question" and the question again, and nothing said
they were dropped (found by a hostile review)."""

from __future__ import annotations

from tests.builders import jpeg, said, stored_photos
from tests.harness import World


async def test_an_album_of_ten_is_answered_once_not_with_five_complaints(team: World) -> None:
    rep = team.rep
    mark = rep.mark()

    for i in range(10):
        await rep.send_photo(jpeg((i * 20, 40, 40)))

    replies = [m.body or "" for m in rep.since(mark)]
    assert len(stored_photos(team)) == 5
    complaints = [r for r in replies if r == said("hazard.unexpected")]
    asked = [r for r in replies if r == said("hazard.ask.category")]
    assert complaints == [] and len(asked) == 1, replies
    assert replies.count(said("hazard.photo.over_max", max=5)) == 1
