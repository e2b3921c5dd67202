from __future__ import annotations

from datetime import timedelta

from tests.builders import rows
from tests.harness import World
from tests.test_incidents_tryit import record_and_close

RED = "🔴 Red (level one)"
RECORD = "✅ Record the incident"


def dump(label, user, n=3):
    print(f"=== {label}")
    for m in user.messages[-n:]:
        print("---", repr(m.body)[:700], m.buttons)


async def test_explore_lessons(team: World) -> None:
    await record_and_close(team)
    for q in ["/lessons 曼谷", "/lessons bangkok", "/lessons a", "/lessons " + "x" * 500,
              "/lessons '; DROP TABLE lessons; --", "/lessons 泰国", "/lessons Thailand",
              "/lessons   ", "/lessons kerb", "/lessons <b>", "/lessons 🍕"]:
        await team.rep.send(q)
        dump(q[:40], team.rep, 1)
    team.rep.language_code = "zh-hans"
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.send("/lessons 曼谷")
    dump("zh 曼谷", team.rep, 1)
    await team.rep.send("/risk 曼谷")
    dump("zh risk", team.rep, 1)


async def test_explore_lessons_zh_recorded(team: World) -> None:
    team.manager.language_code = "zh-hans"
    await team.manager.send("/language")
    await team.manager.press("中文")
    await team.manager.send("/incident")
    dump("zh incident", team.manager, 1)
    await team.manager.press("🔴 红色（一级）")
    await team.manager.send("曼谷")
    dump("zh place", team.manager, 3)
    print(await rows(team, "SELECT country, lat, lon FROM incidents"))


async def test_explore_old_buttons(team: World) -> None:
    await record_and_close(team)
    await team.officer.send("/incident")
    dump("officer incident", team.officer, 2)
    t = await team.officer.press_data("incidents:handover:1")
    print("toast", t and t.text)
    dump("officer handover closed", team.officer, 1)
    t = await team.officer.press_data("incidents:show:1")
    print("toast", t and t.text)
    dump("officer show closed", team.officer, 1)
    t = await team.rep.press_data("incidents:show:1")
    print("rep toast", t and t.text)
    t = await team.manager.press_data("review:start:1")
    print("mgr review toast", t and t.text)
    t = await team.manager.press_data("incidents:show:99999999999999")
    print("mgr forged", t and t.text)
    t = await team.manager.press_data("incidents:handover:1")
    print("mgr handover", t and t.text)
    dump("mgr", team.manager, 1)


async def test_explore_deadlines(team: World) -> None:
    await team.manager.send("/incident")
    await team.manager.press(RED)
    await team.manager.send("Bangkok")
    await team.manager.press("Nobody in particular")
    await team.manager.send("desc")
    await team.manager.press(RECORD)
    dump("opened", team.manager, 1)
    await team.advance(timedelta(hours=20))
    dump("reminder", team.manager, 1)
