"""Builds the engine, router, outbox sender and adapters from settings; starts and stops."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine

import handlers  # noqa: F401  (registers every story)
from bot.intake import UpdateIntake
from bot.sender import OutboxSender
from handlers.core.router import Router
from handlers.onboarding.help import default_menu
from models import i18n
from models.base import utcnow
from models.db import make_engine, migrate
from models.dberrors import DbHealth
from models.messages import Incoming, Messenger, register_capabilities
from models.settings import Settings

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        messengers: list[Messenger] | None = None,
        migrate_db: bool = True,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        i18n.configure(settings.locales_dir, settings.locale)
        self.engine = engine or make_engine(settings.database_url, settings.database.echo)
        if migrate_db:
            migrate(self.engine)
        self.router = Router(self.engine, settings, clock)
        self.health = DbHealth()  # one log line per outage, whoever notices it
        self.intake = UpdateIntake(self.router, self.health)
        self.menu = default_menu()  # handed to adapters as data (they never import handlers)
        self.messengers: dict[str, Messenger] = {}
        self.sender = OutboxSender(self.engine, {}, settings.outbox, clock, health=self.health)
        for m in messengers or []:
            self.add_messenger(m)

    def add_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger
        register_capabilities(messenger.platform, messenger.capabilities)
        self.sender = OutboxSender(self.engine, self.messengers, self.settings.outbox,
                                   self.clock, health=self.health)

    def handle(self, incoming: Incoming) -> bool:
        """Synchronous handling for the console and tests (no waiting for the database)."""
        return self.router.handle(incoming)

    async def receive(self, incoming: Incoming) -> bool:
        """What the adapters call: off the event loop, waiting out database outages."""
        return await self.intake.handle(incoming)

    async def receive_many(self, incoming: Sequence[Incoming]) -> list[bool]:
        """A batch (Telegram's polling), in one transaction when nothing in it fails."""
        return await self.intake.handle_many(incoming)

    def close(self) -> None:
        self.engine.dispose()
