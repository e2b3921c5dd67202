"""What a start of the bot loads before it polls: libraries that only some features use load
with their first use (issue 17: start in a second). bench/footprint.py measures the start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Each loads with its feature: PostgreSQL, a photo, a phone number, the bot's HTTP server.
LOADED_WHEN_USED = ("asyncpg", "PIL", "pillow_heif", "phonenumbers", "starlette", "uvicorn")

# What `fieldbot run` imports before its first getUpdates (conversations.cli._run).
_START = """
import json, sys
import conversations.cli, conversations.runtime.bootstrap, conversations.runtime.runner
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
"""


def test_a_start_loads_no_library_that_only_a_feature_uses() -> None:
    done = subprocess.run([sys.executable, "-c", _START % (LOADED_WHEN_USED,)],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert json.loads(done.stdout) == []


def test_the_features_find_their_libraries_when_used() -> None:
    use = """
import io, json, sys
from PIL import Image
from fieldbot.services.contacts import parse_phone
from fieldbot.services.photos import clean
out = io.BytesIO(); Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "PNG")
cleaned, extension = clean(out.getvalue())
print(json.dumps([parse_phone("0151 23456700", "DE"), extension, len(cleaned) > 0]))
"""
    done = subprocess.run([sys.executable, "-c", use], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    assert json.loads(done.stdout) == ["+4915123456700", "png", True]
