"""What every draft flow shares (conversations/flows/drafts.py), seen through /hazard, the
second flow that uses it besides /trip: an old Confirm, Continue / Start over, /cancel."""

from __future__ import annotations

from conversations.i18n import plain, text
from faketelegram.models import FakeMessage
from tests.builders import RED, ROAD, SEND, SPOT, rows, said
from tests.harness import REP_ID, World


async def report_up_to_the_summary(world: World) -> tuple[FakeMessage, str]:
    """Rita reports a road hazard at SPOT and stops at the summary; return it and its
    Send button's data."""
    rep = world.rep
    await rep.send("/hazard")
    await rep.press("No photo")
    await rep.press(ROAD)
    await rep.press(RED)
    await rep.share_location(*SPOT)
    await rep.send("Open manhole on the pavement")
    summary = rep.last
    return summary, summary.button_data(SEND)


async def test_the_old_confirm_of_a_sent_report_says_it_was_sent_already(team: World) -> None:
    summary, data = await report_up_to_the_summary(team)
    await team.rep.press(SEND)

    toast = await team.rep.press_data(data, summary)

    assert toast is not None and toast.text == plain(text("en", "hazard.already_saved"))
    assert len(await rows(team, "SELECT id FROM hazards")) == 1


async def test_a_report_sent_before_saved_keys_were_dicts_is_still_recognised(
    team: World,
) -> None:
    summary, data = await report_up_to_the_summary(team)
    await team.rep.press(SEND)
    assert team.app is not None
    team.app.user_data[REP_ID]["hazard_saved"] = data.rsplit(":", 1)[-1]  # the older form

    toast = await team.rep.press_data(data, summary)

    assert toast is not None and toast.text == plain(text("en", "hazard.already_saved"))


async def test_hazard_again_offers_to_continue_the_report_put_aside(team: World) -> None:
    await team.rep.send("/hazard")
    await team.rep.press("No photo")
    await team.rep.press(ROAD)
    await team.rep.send("/hazard")
    assert team.rep.last.body == said("hazard.open")

    await team.rep.press(plain(text("en", "hazard.button.resume")))

    assert team.rep.last.body.startswith(said("hazard.ask.severity", levels="").split("\n")[0])


async def test_cancel_drops_the_report_and_start_over_begins_a_new_one(team: World) -> None:
    await team.rep.send("/hazard")
    await team.rep.press("No photo")
    await team.rep.send("/cancel")
    assert team.rep.last.body == said("cancel.done")

    await team.rep.send("/hazard")

    assert team.rep.last.body == said("hazard.ask.photos", max=5)


async def test_typing_under_the_continue_offer_shows_the_offer_again(team: World) -> None:
    """Rita is offered to continue her trip plan and types the place instead of pressing:
    she is shown the offer again, not the list of commands."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/help")  # the plan is put aside
    await team.rep.send("/trip")
    assert team.rep.last.body == said("trip.open")

    await team.rep.send("Paris")

    assert team.rep.last.body == said("trip.open")
    await team.rep.press(plain(text("en", "trip.button.resume")))
    assert team.rep.last.body != said("trip.open")  # her plan's next question, Berlin kept
    assert "Berlin" in str(team.app.user_data[REP_ID]) if team.app else False


async def test_typing_with_nothing_put_aside_gets_the_short_help(team: World) -> None:
    await team.rep.send("Paris")
    assert team.rep.last.body == said("fallback.staff")


async def test_an_old_offers_continue_after_the_draft_was_cancelled_starts_nothing(
        team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/help")  # put aside
    await team.rep.send("/trip")
    offer = team.rep.last
    await team.rep.press(plain(text("en", "trip.button.restart")), offer)
    await team.rep.send("/cancel")  # the new plan is dropped: nothing is left to continue
    received = len(team.rep.messages)

    toast = await team.rep.press_data("trip:resume", offer)

    assert toast is not None and toast.text == plain(text("en", "guard.stale_button"))
    assert len(team.rep.messages) == received  # no new plan's first question
