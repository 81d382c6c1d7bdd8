"""What every page is given: the background helper, the database, settings and app events."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject

from app.gui.app_settings import AppSettings
from app.gui.database_holder import DatabaseHolder
from app.gui.events import AppEvents
from app.gui.operations import Operations
from app.gui.passwords import PasswordProvider
from app.gui.prompts import Prompts


@dataclass
class AppContext:
    settings: AppSettings
    prompts: Prompts
    ops: Operations
    passwords: PasswordProvider
    database: DatabaseHolder
    events: AppEvents

    @classmethod
    def create(
        cls, settings: AppSettings, prompts: Prompts | None = None, parent: QObject | None = None
    ) -> AppContext:
        prompts = prompts or Prompts()
        ops = Operations(parent, present_error=prompts.present_error)
        passwords = PasswordProvider(prompts.ask_password, prompts.notice)
        return cls(
            settings=settings,
            prompts=prompts,
            ops=ops,
            passwords=passwords,
            database=DatabaseHolder(ops, passwords, parent),
            events=AppEvents(parent),
        )
