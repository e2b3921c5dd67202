"""`fieldbot demo --lang zh` plays the same evening in Chinese, pressing buttons by catalog key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conversations.cli.demo import run_demo


def test_the_demo_plays_the_evening_in_chinese(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conversations.cli", "demo", "--lang", "zh"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
        env={"PATH": "/usr/bin", "PTB_TIMEDELTA": "true"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Rita（销售代表） ▶ [中文]" in out  # her Telegram says English: she picks 中文
    assert "bot → Rita（销售代表）: 📍 目的地：柏林，德国" in out  # typed 柏林，德国
    assert "bot → Rita（销售代表）: ✅ 行程计划已保存" in out
    assert "bot → Rita（销售代表）: ⚠️ 还没收到您的报平安（第1次提醒，编号 A-1）" in out
    assert "bot → Mia（部门负责人）: 🚨 警报 A-1" in out
    assert "bot → Mia（部门负责人）: ✅ 解除警报 A-1" in out
    assert "Alert A-" not in out and "All clear" not in out
    assert out.rstrip().endswith("=== 演示结束：逐级通知和解除警报都正常 ===")


async def test_there_is_no_demo_in_other_languages() -> None:
    with pytest.raises(ValueError, match="no demo in 'fr'"):
        await run_demo(language="fr")
