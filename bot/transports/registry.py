"""Transport names → factories, imported lazily so optional extras stay optional."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from bot.config import AppConfig
    from bot.transports.base import Transport

# name -> "module:factory"; each factory takes (config, **options) and returns a Transport.
FACTORIES: dict[str, str] = {
    "webchat": "bot.transports.webchat:create",
    "memory": "bot.transports.memory:create",
    "wechaty": "bot.transports.wechaty:create",
    "webhook": "bot.transports.webhook:create",
}


class UnknownTransport(ValueError):
    pass


def build_transport(name: str, config: "AppConfig", **options: Any) -> "Transport":
    target = FACTORIES.get(name)
    if target is None:
        raise UnknownTransport(
            f"未知的 transport '{name}'，可选: {', '.join(sorted(FACTORIES))}"
        )
    module_name, attr = target.split(":")
    factory: Callable[..., "Transport"] = getattr(importlib.import_module(module_name), attr)
    return factory(config, **options)
