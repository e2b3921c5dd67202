from __future__ import annotations

import json
from datetime import timedelta

from tests.harness import World


async def test_admin_invites_a_manager_who_enrols_with_the_link(world: World) -> None:
    await world.admin.send("/start")
    await world.admin.send("/invite manager north")
    assert "https://t.me/fieldbot_test_bot?start=" in world.admin.last.body
    assert world.fake.sent[-1].protect_content
    await world.enrol(world.manager, "manager", "north")
    assert "manager" in world.manager.texts()[0]
    member = await world.services.enrolment.member(world.manager.id)
    assert member is not None and member.role == "manager" and member.team == "north"


async def test_an_invite_works_once(world: World) -> None:
    await world.admin.send("/invite staff north")
    code = world.admin.last.body.split("start=")[1].split()[0]
    await world.rep.send(f"/start {code}")
    await world.fake.user(9999, "Eve").send(f"/start {code}")
    assert "already been used" in world.fake.users[9999].last.body
    assert await world.services.enrolment.member(9999) is None


async def test_an_expired_invite_is_refused(world: World) -> None:
    await world.admin.send("/invite staff north")
    code = world.admin.last.body.split("start=")[1].split()[0]
    world.clock.advance(timedelta(hours=72, seconds=1))
    await world.rep.send(f"/start {code}")
    assert "expired" in world.rep.last.body
    assert await world.services.enrolment.member(world.rep.id) is None


async def test_an_unknown_code_is_refused(world: World) -> None:
    await world.rep.send("/start not-a-real-code")
    assert "not valid" in world.rep.last.body


async def test_a_stranger_gets_one_sentence_and_nothing_is_stored(world: World) -> None:
    stranger = world.fake.user(7777, "Stan")
    await stranger.send("/trip")
    assert stranger.texts() == ["This is a private safety bot; ask your manager for an invite.\n"
                                "这是公司内部的出差安全机器人，请向您的部门负责人索取邀请链接。"]
    chinese = world.fake.user(7778, "Li", "zh-hans")
    await chinese.send("/trip")
    assert chinese.texts() == ["这是公司内部的出差安全机器人，请向您的部门负责人索取邀请链接。"]
    async with world.services.db.read() as conn:
        async with conn.execute("SELECT COUNT(*) FROM users WHERE id = 7777") as cur:
            assert (await cur.fetchone())[0] == 0
        async with conn.execute("SELECT COUNT(*) FROM ptb_state") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_a_stranger_who_keeps_writing_is_not_answered_every_time(world: World) -> None:
    stranger = world.fake.user(7777, "Stan")
    for _ in range(10):
        await stranger.send("hello?")
    assert len(stranger.messages) == 3


async def test_a_rep_asking_for_a_manager_command_is_told_politely(team: World) -> None:
    await team.rep.send("/team")
    assert team.rep.last.body == "Sorry, that command is for managers and safety officers."
    await team.rep.send("/invite staff north")
    assert "for managers" in team.rep.last.body


async def test_a_manager_invites_staff_only_into_their_own_team(team: World) -> None:
    await team.manager.send("/invite manager north")
    assert "cannot invite that role" in team.manager.last.body
    await team.manager.send("/invite staff south")
    assert "team: north" in team.manager.last.body


async def test_start_greets_an_enrolled_member_in_their_language(team: World) -> None:
    zh = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(zh, "staff", "north")
    assert "您好" in zh.last.body
    await zh.send("/help")
    assert "/trip – 填写行程计划" in zh.last.body


async def test_help_is_role_aware(team: World) -> None:
    await team.rep.send("/help")
    assert "/team" not in team.rep.last.body
    await team.manager.send("/help")
    assert "/team" in team.manager.last.body


async def test_language_switch(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    assert team.rep.last.body == "好的，之后我会用中文与您沟通。"
    await team.rep.send("/help")
    assert "报平安" in team.rep.last.body


async def test_an_unknown_command_gets_a_hint(team: World) -> None:
    await team.rep.send("/frobnicate")
    assert "/help" in team.rep.last.body


def _menu(world: World, chat_id: int | None = None) -> list[str]:
    scope = {"type": "default"} if chat_id is None else {"type": "chat", "chat_id": chat_id}
    stored = world.fake.commands.get((json.dumps(scope, sort_keys=True), ""), [])
    return [c["command"] for c in stored]


async def test_leads_get_their_own_command_menu_and_reps_the_common_one(team: World) -> None:
    assert "team" not in _menu(team) and "sos" in _menu(team)
    assert {"team", "alerts", "hazards", "report", "sos"} <= set(_menu(team, team.manager.id))
    assert _menu(team, team.rep.id) == []  # reps use the default menu
    await team.manager.send("/language")
    await team.manager.press("中文")
    key = (json.dumps({"type": "chat", "chat_id": team.manager.id}, sort_keys=True), "")
    descriptions = {c["command"]: c["description"] for c in team.fake.commands[key]}
    assert descriptions["team"] == "团队看板：谁在哪里、谁超时未报"


async def test_invite_takes_the_chinese_role_words(world: World) -> None:
    await world.admin.send("/start")
    words = [("部门负责人", "manager"), ("销售代表", "staff"), ("安全专员", "officer"),
             ("Ｍａｎａｇｅｒ", "manager")]  # full-width letters, as a Chinese keyboard types them
    for user_id, (word, role) in enumerate(words, start=7001):
        await world.admin.send(f"/invite {word} 华北")
        code = world.admin.last.body.split("start=")[1].split()[0]
        await world.fake.user(user_id, "Made-up", "zh-hans").send(f"/start {code}")
        member = await world.services.enrolment.member(user_id)
        assert member is not None and (member.role, member.team) == (role, "华北")
    await world.admin.send("/invite 老板 华北")
    assert "Usage: /invite" in world.admin.last.body
