"""``python -m bot check-wechaty``: is the Wechaty gateway usable by this bot?

Connects exactly as the bot does (WechatyTransport), prints the logged-in account, makes a
ding/dong round trip and lists the rooms, then exits 0. Otherwise it says what failed and exits
non-zero:

====  ==========================================================================
 2    configuration: a missing/malformed environment variable, extra not installed
 3    the gateway rejected the token (UNAUTHENTICATED)
 4    gateway unreachable, closed the connection (TLS gateway?) or never answered
 5    connected, but no WeChat account logged in within the timeout
 6    logged in, but no DONG came back for a Ding (a silent gateway)
====  ==========================================================================

Every step is bounded by ``--timeout`` (overall, not per step), so it never hangs.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Callable, Sequence

from bot.events import Connected, Disconnected

EXIT_OK, EXIT_CONFIG, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_NOT_LOGGED_IN, EXIT_NO_DONG = 0, 2, 3, 4, 5, 6


async def check(endpoint: str, token: str, timeout: float = 10.0, *,
                out: Callable[[str], None] = print) -> int:
    from bot.transports.wechaty import (
        WechatyAuthError,
        WechatyConfigError,
        WechatyTransport,
        read_settings,
    )

    try:
        endpoint, token = read_settings(endpoint, token)
    except WechatyConfigError as exc:
        out(f"✗ {exc}")
        return EXIT_CONFIG
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    connected = asyncio.Event()
    account: list[Connected] = []

    async def on_event(event: object) -> None:
        if isinstance(event, Connected):
            account.append(event)
            connected.set()
        elif isinstance(event, Disconnected):
            connected.clear()

    transport = WechatyTransport(
        endpoint, token, start_timeout=timeout, rpc_timeout=min(timeout, 10.0),
        connect_timeout=min(timeout, 5.0), ding_interval=max(1.0, timeout),
        dong_timeout=max(1.0, timeout), backoff_initial=timeout, backoff_max=timeout,
    )
    out(f"… 连接网关 / connecting to {endpoint}")
    try:
        try:
            await asyncio.wait_for(transport.start(on_event), left() + 1.0)
        except WechatyAuthError as exc:
            out(f"✗ {exc}")
            return EXIT_AUTH
        except WechatyConfigError as exc:
            out(f"✗ {exc}")
            return EXIT_CONFIG
        except asyncio.TimeoutError:
            pass
        if not connected.is_set() and transport.last_disconnect_reason:
            out(f"✗ {transport.last_disconnect_reason}")
            return EXIT_UNREACHABLE
        try:
            await asyncio.wait_for(connected.wait(), left())
        except asyncio.TimeoutError:
            if transport.last_disconnect_reason:
                out(f"✗ {transport.last_disconnect_reason}")
                return EXIT_UNREACHABLE
            session = transport._session
            if session is None or not session.got_events:
                out(f"✗ 网关在 {timeout:.0f}s 内没有应答 / the gateway at {endpoint} did not "
                    f"answer within {timeout:.0f}s (a TLS gateway, or a hung one?)")
                return EXIT_UNREACHABLE
            out(f"✗ 网关已连接，但没有微信账号登录（请在网关上扫码）/ connected, but no WeChat "
                f"account logged in within {timeout:.0f}s (scan the QR code on the gateway)")
            return EXIT_NOT_LOGGED_IN
        me = account[-1]
        out(f"✓ 已登录 / logged in as {me.self_name or '?'} ({me.self_id})")
        try:
            rtt = await transport.ping(timeout=left())
        except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001
            out(f"✗ Ding 之后没有收到 DONG / no DONG after a Ding within {timeout:.0f}s "
                f"({type(exc).__name__})")
            return EXIT_NO_DONG
        out(f"✓ ding/dong 往返 / round trip {rtt * 1000:.0f} ms")
        try:
            rooms = await asyncio.wait_for(transport.list_rooms(), left())
        except Exception as exc:  # noqa: BLE001
            out(f"! 无法列出群 / could not list rooms: {type(exc).__name__}: {exc}")
            rooms = []
        out(f"✓ {len(rooms)} 个群 / rooms:")
        for room_id, topic in rooms:
            out(f"    {topic or '(无群名 / no topic)'}  [{room_id}]")
        return EXIT_OK
    finally:
        try:
            await asyncio.wait_for(transport.stop(), 5.0)
        except Exception:  # noqa: BLE001
            pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot check-wechaty",
        description="检查 Wechaty 网关 / check the Wechaty puppet service gateway "
                    "(WECHATY_PUPPET_SERVICE_ENDPOINT, WECHATY_PUPPET_SERVICE_TOKEN)",
    )
    parser.add_argument("--endpoint", help="host:port (default: $WECHATY_PUPPET_SERVICE_ENDPOINT)")
    parser.add_argument("--token", help="default: $WECHATY_PUPPET_SERVICE_TOKEN")
    parser.add_argument("--timeout", type=float, default=10.0, help="overall seconds (10)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    # the transport's own warnings would repeat what the check prints
    logging.getLogger("stairwell.transport.wechaty").setLevel(logging.ERROR)
    try:
        return asyncio.run(check(args.endpoint, args.token, args.timeout))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
