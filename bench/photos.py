"""Photo checks: peak memory (RSS) of the worst photos a person can send (issue 10, item 7).

    python bench/photos.py [--before DIR]

Each case runs in a fresh Python process that imports the photo checks, reads one generated
PNG and checks it (or, for "at once", several people's photos together through the store); the
figure is that process's peak resident memory (ru_maxrss), which includes what Pillow allocates
in C. `--before DIR` also runs every case against another checkout of the code (for example
`git archive <commit> fieldbot | tar -x -C DIR`), so a row shows before and after. The images
are made up: black pixels, compressed here in a few seconds without ever holding them decoded.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CHANNELS = {0: 1, 2: 3, 6: 4}  # PNG colour types: grey, RGB, RGBA
_BLOCK = 1 << 20


def png_of(width: int, height: int, colour_type: int = 6, *, pixels: bool = True) -> bytes:
    """Return a PNG of width x height black pixels; `pixels=False` declares them and stops.

    The rows are compressed in blocks flushed so that identical blocks compress to identical
    bytes: one block is compressed, repeated, and the checksum computed over the real rows.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    if not pixels:
        idat = zlib.compress(b"\x00" * 64)
    else:
        row = b"\x00" * (1 + width * _CHANNELS[colour_type])
        per_block = max(1, _BLOCK // len(row))
        block = row * per_block
        whole, rest = divmod(height, per_block)
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: we add the zlib frame
        packed_block = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
        tail = deflate.compress(row * rest) + deflate.flush()
        adler = 1
        for _ in range(whole):
            adler = zlib.adler32(block, adler)
        adler = zlib.adler32(row * rest, adler)
        idat = b"\x78\xda" + packed_block * whole + tail + struct.pack(">I", adler)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# Runs in the measured process: check one photo, or several people's at once through the store.
_CHILD = """
import asyncio, inspect, json, resource, sys, tempfile, time
from pathlib import Path
from fieldbot.services.photos import PhotoRejected, PhotoStore, clean
data = Path(sys.argv[1]).read_bytes()
people = int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
try:
    if people == 1:
        clean(data)
    else:
        async def at_once():
            folder = Path(tempfile.mkdtemp())
            if "cipher" in inspect.signature(PhotoStore).parameters:  # stored encrypted now
                from cryptography.fernet import Fernet
                from pydantic import SecretStr

                from fieldbot.crypto import Cipher
                cipher = Cipher(key=SecretStr(Fernet.generate_key().decode()),
                                key_file=folder / "unused.key")
                cipher.load(create=False)
                store = PhotoStore(folder, cipher)
            else:
                store = PhotoStore(folder)
            # The code before per-person turns had no owner: each photo was on its own then.
            own = "owner" in inspect.signature(store.add).parameters
            await asyncio.gather(*(store.add(data, owner=n) if own else store.add(data)
                                   for n in range(people)))
        asyncio.run(at_once())
    outcome = "accepted"
except PhotoRejected as refused:
    outcome = "refused (" + refused.problem.value + ")"
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - began,
                  "start_mb": before / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CASES = [  # what, width, height, colour type, real pixels?, people at once
    ("1 x 50,000,000 RGBA PNG (the reported strip)", 1, 50_000_000, 6, True, 1),
    ("50,000 x 50,000 declared PNG (header only)", 50_000, 50_000, 2, False, 1),
    ("8,000 x 6,000 RGBA PNG (48 MP, accepted)", 8_000, 6_000, 6, True, 1),
    ("7,071 x 7,071 RGBA PNG (50 MP, the largest accepted)", 7_071, 7_071, 6, True, 1),
    ("4 people send the 50 MP RGBA PNG at once", 7_071, 7_071, 6, True, 4),
]


def measure(code: Path, photo: Path, people: int) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(photo), str(people)], env=env,
                          cwd=code, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def figure(result: dict[str, object]) -> str:
    return (f"{result['outcome']}, peak RSS {float(str(result['peak_mb'])):,.0f} MB "
            f"(process at start {float(str(result['start_mb'])):,.0f} MB), "
            f"{float(str(result['seconds'])):.2f} s")


def main(before: Path | None) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.common import record

    rows: list[tuple[str, str, str]] = []
    command = "python bench/photos.py" + (" --before DIR" if before else "")
    with tempfile.TemporaryDirectory() as tmp:
        for what, width, height, colour_type, pixels, people in CASES:
            photo = Path(tmp) / "photo.png"
            data = png_of(width, height, colour_type, pixels=pixels)
            photo.write_bytes(data)
            label = f"{what}, {len(data) / 1024:,.0f} KB"
            if before is not None:
                line = f"before: {figure(measure(before, photo, people))}"
                print(label, line, flush=True)
                rows.append((label, line, command))
            line = f"after: {figure(measure(ROOT, photo, people))}"
            print(label, line, flush=True)
            rows.append((label, line, command))
    record("Photos: peak memory of the worst cases", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout of the code to compare")
    args = parser.parse_args()
    main(args.before)
