"""Photos cannot exhaust memory: shape and pixels bounded before decoding, one at a time each.

Every image is generated here (black or flat colours), every person made up.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from bench.photos import png_of
from fieldbot.services.photos import MAX_ASPECT, PhotoProblem, PhotoRejected, PhotoStore, clean
from tests.builders import ORIENTATION, encoded, loaded_cipher, made_up
from tests.harness import World

RITA, SAM = 4004, 4014
STRIP = png_of(1, 50_000_000)  # 243 KB of PNG, 200 MB of pixels, 50 million rows


def test_the_strip_is_refused_by_its_shape_without_decoding_it() -> None:
    assert len(STRIP) < 300 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(PhotoRejected) as refused:
            clean(STRIP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.problem is PhotoProblem.SHAPE
    assert peak < 2 * 1024 * 1024  # a copy or two of the file at most, no pixels


def test_a_declared_fifty_thousand_square_png_is_refused_as_a_bomb() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(PhotoRejected) as refused:
            clean(png_of(50_000, 50_000, 2, pixels=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.problem is PhotoProblem.BOMB
    assert peak < 1024 * 1024


# Pillow allocates pixels in C, out of tracemalloc's sight: the real figure is the resident
# memory of a process that checks the strip (bench/photos.py measures more cases).
_CHECK_IN_A_PROCESS = """
import json, resource, sys
from fieldbot.services.photos import PhotoRejected, clean
data = open(sys.argv[1], "rb").read()
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    clean(data)
    outcome = "accepted"
except PhotoRejected as refused:
    outcome = refused.problem.value
print(json.dumps([outcome, start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))
"""


def test_checking_the_strip_keeps_the_process_small(tmp_path: Path) -> None:
    photo = tmp_path / "strip.png"
    photo.write_bytes(STRIP)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _CHECK_IN_A_PROCESS, str(photo)],
                          capture_output=True, text=True, check=True, cwd=root,
                          env=dict(os.environ, PYTHONPATH=str(root)))
    outcome, start_kb, peak_kb = json.loads(done.stdout)
    assert outcome == "shape"
    assert peak_kb - start_kb < 20 * 1024  # it peaked 1.2 GB higher when it was decoded


@pytest.mark.parametrize(("width", "height", "accepted"), [
    (2000, 2000 // MAX_ASPECT, True),  # a long panorama still fits
    (2000 // MAX_ASPECT, 2000, True),
    (2100, 2100 // (MAX_ASPECT + 1), False),
    (3, 40_000, False),
])
def test_the_shape_limit(width: int, height: int, accepted: bool) -> None:
    data = png_of(width, height, 2)
    if accepted:
        cleaned, _ = clean(data)
        assert Image.open(io.BytesIO(cleaned)).size == (width, height)
    else:
        with pytest.raises(PhotoRejected) as refused:
            clean(data)
        assert refused.value.problem is PhotoProblem.SHAPE


def test_a_large_transparent_photo_is_scaled_down_upright_with_its_alpha() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    big = Image.new("RGBA", (5200, 2600), (200, 40, 40, 128))
    cleaned, extension = clean(encoded(big, "PNG", exif=exif, compress_level=1))
    image = Image.open(io.BytesIO(cleaned))
    assert extension == "png" and image.mode == "RGBA"
    assert image.size == (1280, 2560)
    pixel = image.getpixel((10, 10))
    assert isinstance(pixel, tuple)
    assert all(abs(got - want) <= 2 for got, want in zip(pixel, (200, 40, 40, 128), strict=True))


async def test_one_persons_photos_are_checked_one_at_a_time_others_meanwhile(
        tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, loaded_cipher())
    slow = png_of(4000, 3000, 2)  # a few hundred ms to decode
    quick = encoded(made_up(), "JPEG")
    finished: list[str] = []

    async def add(name: str, data: bytes, owner: int) -> None:
        await store.add(data, owner=owner)
        finished.append(name)

    rita_big = asyncio.create_task(add("rita-big", slow, RITA))
    rita_small = asyncio.create_task(add("rita-small", quick, RITA))
    sam_small = asyncio.create_task(add("sam-small", encoded(made_up(colour=(9, 9, 9)), "JPEG"),
                                        SAM))
    await asyncio.gather(rita_big, rita_small, sam_small)
    assert finished.index("rita-big") < finished.index("rita-small")  # hers, in order
    assert finished[0] == "sam-small"  # Sam's photo did not wait for Rita's


async def test_the_strip_sent_as_a_file_gets_a_friendly_refusal(team: World) -> None:
    rep = team.rep
    await rep.send("/hazard")
    await rep.send_document(STRIP, "strip.png", "image/png")
    assert "long, thin strip rather than a photo" in rep.last.body
    assert "The rest of your report is kept" in rep.last.body
    await rep.send_photo(encoded(made_up(), "JPEG"))
    assert "Photo 1 of 5 added" in (rep.last.body or "")  # the report goes on
    folder = team.settings.data_dir / "photos"
    assert len(list(folder.iterdir())) == 1
