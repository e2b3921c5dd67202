"""Run a fake Twilio REST API on a loopback port: python -m faketwilio --port N."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from faketwilio.api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER, FakeTwilio
from faketwilio.server import serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m faketwilio", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--number", default=DEFAULT_NUMBER, help="our Twilio number")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    fake = FakeTwilio(args.account_sid, args.auth_token, (args.number,))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with serve(fake, args.host, args.port) as base_url:
        print(f"faketwilio listening on {base_url}", flush=True)  # noqa: T201
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
