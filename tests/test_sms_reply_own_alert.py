"""A bare "1" by SMS means the newest alert its sender may acknowledge: not a reminder of her
own missed check-in that was texted to her too. Before, a manager who travels and replied "1"
to a colleague's SOS text was told "you cannot acknowledge an alert about yourself", and the
SOS stayed unacknowledged (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.builders import BERLIN, DEADLINE, REMINDER, at, plan_for, said
from tests.channel_world import PUBLIC, channel_world, share_phone


async def test_a_reply_1_to_a_colleagues_sos_is_not_taken_for_ones_own_reminder(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[sos]\nrepeat_every = "1h"\n')
    async with channel_world(tmp_path, policy=policy, db=tmp_path / "f.db") as reach:
        phone = await share_phone(reach, reach.manager)
        # Mia manages team north and travels herself (Max is her fellow manager).
        max_ = reach.fake.user(2022, "Max")
        await reach.enrol(max_, "manager", "north")
        await plan_for(reach, reach.manager, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        # 20:00 Berlin: Rita raises an SOS; Mia is texted "Reply 1 to acknowledge".
        await at(reach, REMINDER)
        await reach.rep.send("/sos")
        await reach.tick()
        # 21:00 Berlin: Mia is busy on the phone with Rita and misses her own check-in; her
        # urgent reminder reaches her by SMS at 21:05 ("Open Telegram and tap I'm safe").
        for minutes in (0, 5):
            await at(reach, DEADLINE + timedelta(minutes=minutes))
        texts = [m.body for m in reach.twilio.sms_to(phone)]
        assert "Reply 1 to acknowledge" in texts[0] and "A-1" in texts[0]
        assert "you have not checked in" in texts[-1]

        # Mia answers the only text that asked for a reply: "1".
        answer = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", phone, "1")

        async with reach.services.db.read() as conn, conn.execute(
                "SELECT state, acked_by FROM alerts WHERE id = 1") as cur:
            sos = tuple(await cur.fetchone() or ())
        assert sos == ("acknowledged", reach.manager.id), answer.text
        assert said("channel.reply.acknowledged", alert="A-1") in answer.text
