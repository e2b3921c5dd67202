"""The instant receipt: "I'm safe" is answered at once with a toast, the edit follows later.

The toast (answerCallbackQuery) is outside Telegram's ~30 messages/s; the reminder's edit into
the receipt is not, and waits for the budget at low priority without holding the handler.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from telegram import Update

from conversations.runtime.bootstrap import build_application
from conversations.runtime.ratelimit import PriorityRateLimiter
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import outbox
from tests.harness import GAZETTEER, World

# A fixture place: real coordinates and zone, a made-up trip.
BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
# Berlin is UTC+1 in December: the reminder goes at 20:00 local = 19:00 UTC.
REMINDER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
TOAST = "✅ Checked in — thank you"


async def plan_trip(world: World) -> None:
    member = await world.services.enrolment.member(world.rep.id)
    assert member is not None
    plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 3)),),
                    lodging="Hotel Fixture", contact_name="Sam Fixture",
                    contact_phone="+4917000000", contact_user_id=None,
                    night_visits=False, companion="")
    submitted = await world.services.trips.submit(member, plan, "receipt-test")
    assert submitted.trip is not None and submitted.trip.status == "approved"


async def at_reminder(world: World) -> None:
    await plan_trip(world)
    world.clock.set(REMINDER)
    await world.tick()
    assert world.rep.last.buttons[0][0] in ("✅ I'm safe", "✅ 报平安")


async def checked_in(world: World) -> bool:
    async with world.services.db.read() as conn, conn.execute(
        "SELECT state FROM nights WHERE user_id = ?", (world.rep.id,)
    ) as cur:
        return [tuple(row) for row in await cur.fetchall()].count(("checked_in",)) == 1


async def test_im_safe_is_answered_with_a_toast_and_the_reminder_becomes_the_receipt(
    team: World,
) -> None:
    await at_reminder(team)
    reminder = team.rep.last
    received = len(team.rep.messages)
    toast = await team.rep.press("✅ I'm safe")
    assert toast is not None and toast.text == TOAST and not toast.show_alert
    assert "checked in for tonight" in (reminder.body or "")  # the reminder itself, edited
    assert reminder.buttons == []
    assert len(team.rep.messages) == received
    assert await checked_in(team)


async def test_pressed_again_the_toast_still_says_checked_in(team: World) -> None:
    await at_reminder(team)
    reminder = team.rep.last
    await team.rep.press("✅ I'm safe", reminder)
    toast = await team.rep.press_data("checkin:safe", reminder)  # a second client's tap
    assert toast is not None and toast.text == TOAST
    assert "already checked in" in (team.rep.last.body or "")


async def test_a_rep_writing_chinese_gets_the_toast_in_chinese(world: World) -> None:
    world.rep.language_code = "zh-hans"
    await world.enrol_team()
    await at_reminder(world)
    toast = await world.rep.press(world.rep.last.buttons[0][0])
    assert toast is not None and toast.text == "✅ 已报平安，谢谢"


async def test_with_no_check_in_due_the_toast_does_not_claim_one(team: World) -> None:
    toast = await team.rep.press_data("checkin:safe")  # a reminder from an old trip
    assert toast is not None and toast.text == "✅ Thanks. No check-in is due right now."


class Budget:
    """The rate limiter's clock: flows while set up, then stands still (no token comes back)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.flowing = True

    def __call__(self) -> float:
        if self.flowing:
            self.now += 1.0  # a second per look: the bucket is always full again
        return self.now


class ThrottledWorld(World):
    """The World with Telegram's budget enforced by a limiter whose clock the test holds."""

    def __init__(self, tmp: Path, **settings: Any) -> None:
        super().__init__(tmp, **settings)
        self.budget = Budget()

    async def start(self) -> Any:
        self.app = build_application(
            self.settings, self.clock, request=self._request(),
            get_updates_request=self._request(), gazetteer=GAZETTEER,
            limiter=PriorityRateLimiter(rate=30.0, burst=1, clock=self.budget),
        )
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        return self.app

    async def _dispatch(self, data: dict[str, Any]) -> None:
        """Return once the handler is done, without waiting for what it handed off."""
        assert self.app is not None
        # A handler that waited for the used-up budget would never return: fail, not hang.
        await asyncio.wait_for(self.app.process_update(Update.de_json(data, self.app.bot)), 30)


async def test_the_toast_comes_while_telegrams_budget_is_used_up(tmp_path: Path) -> None:
    world = ThrottledWorld(tmp_path)
    await world.start()
    try:
        await world.enrol_team()
        await at_reminder(world)
        reminder = world.rep.last
        world.budget.flowing = False  # the reminder took the last message of the budget

        toast = await world.rep.press("✅ I'm safe")  # returns once the handler is done

        assert toast is not None and toast.text == TOAST
        assert await checked_in(world)
        assert reminder.buttons != []  # the edit still waits for the budget
        assert world.fake.calls_to("editMessageText") == []
        world.budget.flowing = True
        assert world.app is not None
        await world.app.bot_data.followups.settle()
        assert "checked in for tonight" in (reminder.body or "") and reminder.buttons == []
    finally:
        world.budget.flowing = True
        await world.stop()


class BusyEveningWorld(ThrottledWorld):
    """Telegram's budget at its real pace (30 messages/s, no burst), on the event loop's clock."""

    async def start(self) -> Any:
        self.app = build_application(
            self.settings, self.clock, request=self._request(),
            get_updates_request=self._request(), gazetteer=GAZETTEER,
            limiter=PriorityRateLimiter(rate=30.0, burst=1),
        )
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        return self.app


async def test_an_sos_is_answered_in_full_before_the_evenings_receipts(tmp_path: Path) -> None:
    """The SOS receipt and its "pressed it by mistake" offer overtake the receipts' edits
    waiting for Telegram's budget: the rep's next update (her live location) waits for the
    SOS handler, which once waited for every receipt queued before it (31 s in rush.py)."""
    async with BusyEveningWorld(tmp_path).running() as world:
        await world.enrol_team()
        await at_reminder(world)
        reminder = world.rep.last
        for _ in range(60):  # two seconds of Telegram's budget: sixty edits of the receipt
            await world.rep.press_data("checkin:safe", reminder)
        await world.rep.send("/sos")
        sent = [call for call in world.fake.calls
                if call.method in ("sendMessage", "editMessageText") and call.status == 200]
        offer = next(i for i, call in enumerate(sent)
                     if "by mistake" in str(call.params.get("reply_markup", "")))
        receipts = [i for i, call in enumerate(sent)
                    if "checked in" in str(call.params.get("text", ""))]
        assert len(receipts) < 60  # some still wait for the budget: the SOS went first
        assert all(i < offer for i in receipts)


async def test_an_sos_receipt_does_not_wait_while_its_handler_drains_the_bulk(
        tmp_path: Path) -> None:
    """Ninety notices wait in the outbox with no drain under way (a roll-call's questions
    after its drain's share): the SOS handler sends the SOS, then its receipt, and leaves the
    notices to the next drain instead of sending them first (three seconds at 30/s)."""
    async with BusyEveningWorld(tmp_path).running() as world:
        await world.enrol_team()
        now = world.clock.now()
        async with world.services.db.transaction() as tx:
            for n in range(90):
                await outbox.enqueue(
                    tx, dedupe=f"bulk:{n}", recipient=world.manager.id, kind="skip_notice",
                    params={"subject_name": "Fixture Rep", "reason": "made-up", "day":
                            "2026-12-01", "tz": "Europe/Berlin"},
                    priority=outbox.PRIORITY_NOTICE, now=now, cipher=world.services.cipher)
        start = len(world.fake.calls)
        await world.rep.send("/sos")
        sent = [call for call in world.fake.calls[start:]
                if call.method == "sendMessage" and call.status == 200]
        receipt = next(i for i, call in enumerate(sent)
                       if int(call.params.get("chat_id", 0)) == world.rep.id)
        notices = [i for i, call in enumerate(sent)
                   if "made-up" in str(call.params.get("text", ""))]
        assert len([i for i in notices if i < receipt]) < 30


async def test_the_evenings_check_in_holds_the_write_lock_for_one_statement(team: World) -> None:
    # In the rush every check-in queues for the one write lock: it is held for a single
    # compare-and-set (tonight as read, no alert open), not for BEGIN, three statements and a
    # COMMIT; the reads around it go to the reader and do not queue there at all.
    await at_reminder(team)
    async with team.statements() as seen:
        await team.rep.press("✅ I'm safe")
    assert await checked_in(team)
    moved = [sql for sql in seen if "nights" in sql and not sql.startswith("SELECT")]
    assert len(moved) == 1 and moved[0].startswith("UPDATE nights SET state"), moved
    # Nothing opened a transaction before it (the harness then saves the conversation state
    # in one, as the bot does every minute).
    assert not [sql for sql in seen[: seen.index(moved[0])] if sql.startswith("BEGIN")]


async def test_the_evenings_check_in_does_not_look_into_the_outbox(team: World) -> None:
    # It put nothing there (no alert to end, no duress word): its handler has nothing to send
    # and skips the look, by button and by command alike.
    await at_reminder(team)
    async with team.statements() as seen:
        toast = await team.rep.press("✅ I'm safe")
        await team.rep.send("/checkin")
    assert await checked_in(team)
    assert toast is not None and toast.text == TOAST
    assert "already checked in" in team.rep.last.body
    assert not [sql for sql in seen if "outbox" in sql], seen
