"""The app: wires config, storage, router, dispatcher, outbox and one transport."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlmodel import Session

from bot.clock import Clock
from bot.config import AppConfig, OutboxConfig
from bot.dispatcher import Dispatcher
from bot.handling import load_handlers
from bot.events import Event, Outgoing
from bot.outbox import OutboxWorker
from bot.services import Services
from bot.transports.base import Transport
from bot.webapi import StorageViews
from bot.webserver import WebServer
from common.privacy import reserve_name
from domain.seeding import seed_if_changed
from schedules import runtime
from schedules.scheduler import Leadership, attach_reporting, build_scheduler, reconcile
from schedules.timing import use_holidays
from storage import directory, ledger
from storage.checkpoints import Checkpointer
from storage.cluster import Presence
from storage.db import create_db_engine, init_schema, lazy_commit_engine, startup_lock, writer
from storage.models import OutboxItem

log = logging.getLogger("stairwell")


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/")


class Stairwell:
    def __init__(
        self,
        config: AppConfig,
        transport: Transport,
        *,
        clock: Clock | None = None,
        database_url: str | None = None,
        router=None,
        run_scheduler: bool = True,
        staff_transport: Transport | None = None,
        web_address: tuple[str, int] | None = None,
    ) -> None:
        """``web_address``: where the staff console listens when the transport serves no pages of
        its own (the CLI passes config web.host/web.port; tests of the memory transport pass none:
        no web server)."""
        from nlp.router import default_router

        from content import validate_all

        load_handlers()  # every module of the handlers package registers its commands and routes
        validate_all()  # content files (FAQ, 便民, legal aid): a bad entry stops the start, named
        self.config = config
        reserve_name(config.bot.name)  # a resident may not pass for the bot under its name
        self.transport = transport
        self.clock = clock or Clock()
        use_holidays(config.holidays, self.clock.now())  # config's holidays: beyond the library's tables
        # SQLite's log is checkpointed by a thread of its own, not in a COMMIT on the event loop
        self.engine = create_db_engine(database_url or config.storage.resolved_url(), checkpoints_apart=True)
        self.checkpointer = Checkpointer(self.engine)
        self.account = config.bot.running_account()  # several accounts may share the database
        self.presence = Presence(self.engine)  # this process's own connection: liveness and the scheduler lock
        with startup_lock(self.engine):  # two processes starting at once: one migrates and seeds first
            init_schema(self.engine)
            with Session(self.engine) as session:
                seed_if_changed(session, config, self.clock.now())
                if config.ledger.demo:  # the demo community's households, into an empty ledger only
                    ledger.seed_demo(session, self.clock.now(), self.clock.local().date())
                session.commit()
        self.services = Services(
            config=config,
            engine=self.engine,
            clock=self.clock,
            router=router or default_router(),
            transport_name=transport.name,
            account=self.account,
        )
        # Messages from WeChat commit without waiting for the disk on PostgreSQL (see there)
        self.message_engine = self.engine if transport.acknowledges else lazy_commit_engine(self.engine)
        self.services.lazy_engine = self.message_engine if self.message_engine is not self.engine else None
        self.dispatcher = Dispatcher(self.services)
        self.outbox = OutboxWorker(
            self.engine,
            transport,
            config.outbox_for(transport.name),
            self.clock,
            on_failure=self._report_failure,
            account=self.account,
            presence=self.presence,
            sealed=self.services.sealed,
        )
        # The optional WeCom staff group: its own outbox worker over the same table.
        if staff_transport is None:
            from bot.staff.channel import from_env  # the wiring's job; the core never sees it

            staff_transport = from_env()
        self.staff_outbox = (
            OutboxWorker(
                self.engine, staff_transport,
                OutboxConfig(room_interval_seconds=0, per_minute=20, jitter_seconds=0, max_length=4000),
                self.clock, on_failure=self._report_failure, account=self.account, presence=self.presence,
            )
            if staff_transport is not None
            else None
        )
        self.services.stable_ids = transport.stable_ids
        self.services.staff_channel = staff_transport.name if staff_transport is not None else None
        self.services.wake_outbox = self._wake_outboxes
        self.services.on_connected = self._resume_schedules
        self.scheduler = build_scheduler(self.engine, config) if run_scheduler else None
        self.leadership = (
            Leadership(self.scheduler, self.presence, config.schedules.leader_check_seconds)
            if self.scheduler is not None else None
        )
        self.services.scheduler = self.scheduler
        self.web = self._web_server(web_address)
        self.started = False

    def _web_server(self, address: tuple[str, int] | None) -> WebServer | None:
        """The app's web server (bot.webserver): the transport's pages (the web chat, unless
        web.demo_chat is off) and the staff console (web.console); None when there is neither."""
        where = self.transport.web_address or address
        settings = self.config.web
        pages = self.transport.web_address is not None and settings.demo_chat
        if where is None or not (pages or settings.console):
            return None
        server = WebServer(*where)
        if pages:
            self.transport.use_web(server)
        if settings.console:
            from bot.console import setup_console

            setup_console(server.app, self)
            if not pages:  # the address alone opens the console
                server.app.router.add_get("/", _to_console)
        return server

    @property
    def web_port(self) -> int | None:
        """The port the web server listens on once started (None: no web server)."""
        return self.web.bound_port if self.web is not None else None

    async def on_event(self, event: Event) -> list[Outgoing]:
        return await self.dispatcher.handle(event)

    async def start(self) -> None:
        self.transport.bind_views(StorageViews(self.engine))  # the web chat shows rooms and history
        if self.presence.postgres:
            self.presence.connection()  # seen alive (pg_stat_activity) before any row is claimed
        self.checkpointer.start()
        self.outbox.start()
        if self.staff_outbox is not None:
            self.staff_outbox.start()
        runtime.install(self.services)
        if self.scheduler is not None:
            # Processes starting together: one at a time creates APScheduler's job table (its
            # check-then-CREATE raced on PostgreSQL) and writes the config's jobs. Paused until
            # the transport is connected, so nothing fires into a dead link.
            with startup_lock(self.engine):
                self.scheduler.start(paused=True)
                attach_reporting(self.scheduler, self._report_to_admins, self.config)
                reconcile(self.scheduler, self.config, self.clock.now())
        if self.web is not None:
            await self.web.start()  # OSError (a busy port) goes to the CLI
        await self.transport.start(self.on_event)
        if not self.transport.connects_later:
            self._resume_schedules()
        self.started = True
        log.info("Stairwell started with transport %s", self.transport.name)

    def _resume_schedules(self) -> None:
        """Connected: run the jobs, if no other process on the database runs them already."""
        if self.leadership is not None and self.scheduler is not None and self.scheduler.running:
            self.leadership.ready()

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0.01)  # let a job that already started finish its transaction
        await self.outbox.stop()  # first: a send in progress still has its transport
        if self.staff_outbox is not None:
            await self.staff_outbox.stop()
            await self.staff_outbox.transport.stop()
        await self.transport.stop()
        if self.web is not None:
            await self.web.stop()
        runtime.install(None)
        self.presence.close()  # the scheduler lock goes with it: another process takes over
        self.checkpointer.stop()
        self.engine.dispose()
        if self.message_engine is not self.engine:
            self.message_engine.dispose()
        self.started = False

    def _report_to_admins(self, text: str, key: str) -> None:
        # Reads the admins, then writes: BEGIN IMMEDIATE on SQLite, or a deferred read meeting the
        # outbox threads' commits fails at once ("database is locked") and the report is lost.
        with Session(writer(self.engine)) as session:
            for admin in directory.admins(session):
                self.services.queue(session, key=f"{key}:{admin.id}", to=admin.id, text=text)
            session.commit()
        self.outbox.wake()

    def _wake_outboxes(self) -> None:
        self.outbox.wake()
        if self.staff_outbox is not None:
            self.staff_outbox.wake()

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until the outboxes have sent everything due now."""
        await self.outbox.drain(timeout)
        if self.staff_outbox is not None:
            await self.staff_outbox.drain(timeout)

    def _report_failure(self, item: OutboxItem, error: str) -> None:
        """Tell admins privately that a message could not be sent (never about a failure report)."""
        if item.key.startswith("failed:"):
            return
        where = item.room_id or item.to
        self._report_to_admins(
            f"【发送失败】发往 {where} 的消息未能送达（{error[:80]}）：{item.text[:60]}", f"failed:{item.id}"
        )
