"""The photos of a hazard report never sent are hers and are known: /forgetme deletes them at
once, the retention purge deletes them like any other photo, and one person's Cancel never
deletes a picture a colleague's draft holds too (one file per content). Before, only saved
reports' photos were known: a draft's photo outlived erasure and every purge, and Rita's Cancel
took Cato's photo out of his red alert (found by a hostile review; migration 0021)."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import RED, ROAD, SEND, SPOT, jpeg, said, stored_photos
from tests.harness import OTHER_REP_ID, World


async def test_forgetme_with_a_hazard_draft_leaves_no_photo_of_hers(team: World) -> None:
    rep = team.rep
    await rep.send("/hazard")
    await rep.send_photo(jpeg())
    assert len(stored_photos(team)) == 1  # the draft's photo, cleaned and stored

    await rep.send("/forgetme")
    await rep.press(said("forgetme.button_erase"))
    assert rep.last.body == said("forgetme.done")

    assert stored_photos(team) == []  # at once, not at a purge


async def test_a_photo_sent_out_of_the_blue_then_forgetme_leaves_nothing(team: World) -> None:
    rep = team.rep
    await rep.send_photo(jpeg((10, 120, 30)))  # starts a report with it (Cancel would delete it)
    assert len(stored_photos(team)) == 1

    await rep.send("/forgetme")
    await rep.press(said("forgetme.button_erase"))

    assert stored_photos(team) == []


async def test_a_draft_photo_left_behind_is_purged_like_every_other_photo(team: World) -> None:
    # A photo sent by mistake starts a report; she never presses Cancel: purged like any other.
    await team.rep.send_photo(jpeg((200, 200, 10)))
    await team.advance(team.settings.retention + timedelta(days=30))
    await team.advance(timedelta(days=1))  # the daily purge has run since

    assert stored_photos(team) == []


async def test_one_reps_cancel_does_not_delete_a_colleagues_photo(team: World) -> None:
    cato = team.fake.user(OTHER_REP_ID, "Cato", "en")
    await team.enrol(cato, "staff", "north")
    forwarded = jpeg((90, 90, 90))  # the same picture, forwarded to both of them

    await cato.send("/hazard")
    await cato.send_photo(forwarded)
    await team.rep.send_photo(forwarded)  # Rita: "report a hazard with it?"
    await team.rep.press("Cancel")  # ... no: "the photo is deleted"

    await cato.press("Done")
    await cato.press(ROAD)
    await cato.press(RED)
    await cato.share_location(*SPOT)
    await cato.send("Broken glass all over the underpass")
    mark = team.manager.mark()
    await cato.press(SEND)

    alert = team.manager.since(mark)[-1]
    assert "Reported by: Cato" in (alert.caption or alert.body or "")
    assert alert.photo_bytes is not None


async def test_no_photo_pressed_after_one_was_sent_deletes_it(team: World) -> None:
    """"No photo" on the first question, after a photo was sent: it goes, as Cancel's do
    (found by a review: it stayed on disk until a purge)."""
    await team.rep.send("/hazard")
    first = team.rep.last
    await team.rep.send_photo(jpeg((30, 60, 90)))
    assert len(stored_photos(team)) == 1
    await team.rep.press("No photo", first)
    assert stored_photos(team) == []
