from __future__ import annotations

from datetime import timedelta

from tests.harness import World


def dump(label, user, n=3):
    print(f"=== {label}")
    for m in user.messages[-n:]:
        print("---", len(m.body), repr(m.body)[:700], m.buttons)


async def zh(user):
    user.language_code = "zh-hans"
    await user.send("/language")
    await user.press("中文")


async def test_explore_zh_drill(team: World) -> None:
    await zh(team.officer)
    await zh(team.manager)
    await team.officer.send("/drill")
    dump("teams", team.officer, 1)
    await team.officer.press("north（1人）")
    dump("confirm", team.officer, 1)
    await team.officer.press("🧪 开始演练")
    dump("started", team.officer, 1)
    await team.advance(timedelta(minutes=30))
    dump("mgr", team.manager, 1)
    await team.advance(timedelta(minutes=3))
    await team.manager.press("确认收到")
    dump("mgr after ack", team.manager, 2)
    dump("result", team.officer, 1)
    await team.officer.send("/report")
    dump("report", team.officer, 1)
    dump("rep", team.rep, 3)
