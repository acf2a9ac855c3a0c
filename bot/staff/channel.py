"""The WeCom group robot as an outbox target, so staff alerts are persisted and retried like chat.

New urgent tickets, overdue escalations, the daily digest and emergency receipts are
queued in the outbox with transport "wecom"; a second outbox worker sends them
through the robot (which keeps WeCom's 20-a-minute and 2,048-byte limits).
"""
from __future__ import annotations

import logging
from typing import Any

from bot.events import Outgoing
from bot.staff.wecom import KEY_ENV, WeComError, WeComRobot
from bot.transports.base import EventHandler, TransportBase, TransportError

log = logging.getLogger(__name__)

CHANNEL = "wecom"


class WeComStaffTransport(TransportBase):
    name = CHANNEL
    idempotent_sends = False

    def __init__(self, robot: WeComRobot) -> None:
        self.robot = robot

    async def start(self, on_event: EventHandler) -> None:  # send only: nothing comes in
        return None

    async def stop(self) -> None:
        await self.robot.close()

    async def send(self, message: Outgoing) -> str:
        try:
            await self.robot.send_text(message.text)
        except WeComError as exc:
            raise TransportError(f"WeCom {exc}", retryable=exc.retryable) from exc
        return f"wecom:{message.key}"


def from_env(**options: Any) -> WeComStaffTransport | None:
    """The staff channel when STAIRWELL_WECOM_KEY is set, else None (the channel is optional)."""
    import os

    if not os.environ.get(KEY_ENV):
        return None
    # No retries inside the robot: the outbox retries with back-off and keeps the row's state.
    return WeComStaffTransport(WeComRobot.from_env(**{"max_retries": 0, **options}))
