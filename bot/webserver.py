"""The app's one web server: the web chat's page and API and the staff console share it.

The app (bot.app.Stairwell) owns it: a transport that serves pages (the web chat) adds its routes
with ``Transport.use_web`` and says where it listens (``web_address``); the staff console is mounted
under ``/staff/`` (bot.console) when ``web.console`` is on, whatever the transport, so a bot on
wechaty or the webhook bridge serves the console on ``web.host:web.port``.
"""
from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("stairwell.web")

MAX_BODY = 256 * 1024


class WebServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=MAX_BODY)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Listen; OSError (a busy port) propagates to the CLI, which says so in one line."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("web server on http://%s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
