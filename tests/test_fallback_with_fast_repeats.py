"""With repeat_every shorter than fallback_after, a silent lead is still texted and called
(promise 40). Before, each step's SMS was planned fallback_after after it, the next repeat
planned its own before that was due, and the sender withdrew the earlier one as superseded,
every time: no SMS or call ever went out (found by a hostile review of the escalation core)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.builders import BERLIN, DEADLINE, at, plan_trip
from tests.channel_world import channel_world, share_phone


async def test_a_silent_manager_is_phoned_even_when_the_ladder_repeats_faster(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[escalation]\nrepeat_every = "2m"\n', encoding="utf-8")
    async with channel_world(tmp_path, policy=policy) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        for minute in range(0, 46):
            await at(world, DEADLINE + timedelta(minutes=minute))
        assert any("Alert A-1" in t for t in world.manager.texts())  # Telegram: yes
        # 15 minutes after her first alert, unacknowledged: the SMS and the call.
        texts, calls = world.twilio.sms_to(phone), world.twilio.calls_to(phone)
        assert texts and calls
        # Not one per 2-minute repeat: one each time the last one went and fallback_after ran.
        assert len(texts) <= 4, [m.body for m in texts]
