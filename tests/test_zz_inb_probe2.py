from datetime import date, timedelta
from tests.builders import BERLIN, DEADLINE, REMINDER, at, plan_for
from tests.channel_world import PUBLIC, share_phone
from tests.harness import World

async def test_probe(reach: World) -> None:
    phone = await share_phone(reach, reach.manager)
    max_ = reach.fake.user(2022, 'Max')
    await reach.enrol(max_, 'manager', 'north')
    await plan_for(reach, reach.manager, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(reach, REMINDER)
    await reach.rep.send("/sos")
    await reach.tick()
    for m in (0, 5, 10):
        await at(reach, DEADLINE + timedelta(minutes=m))
        print(m, [s.body[:90] for s in reach.twilio.sms_to(phone)][-2:])
    reply = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", phone, "1")
    print(reply.text)
    async with reach.services.db.read() as conn, conn.execute(
            "SELECT id, kind, user_id, state, acked_by FROM alerts ORDER BY id") as cur:
        print([tuple(r) for r in await cur.fetchall()])
