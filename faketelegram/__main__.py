"""Run a fake Telegram Bot API on a loopback port: python -m faketelegram --port N."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from faketelegram.api import DEFAULT_TOKEN, FakeTelegram
from faketelegram.server import serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m faketelegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default="fieldbot_test_bot")
    parser.add_argument(
        "--timeout-delay",
        type=float,
        default=30.0,
        help="seconds a request hit by an injected Timeout hangs",
    )
    parser.add_argument("--no-control", action="store_true", help="disable /_control/")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    fake = FakeTelegram(token=args.token, username=args.username)
    fake.timeout_delay = args.timeout_delay
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with serve(fake, args.host, args.port, control=not args.no_control) as base_url:
        print(f"faketelegram listening on {base_url}", flush=True)  # noqa: T201
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
