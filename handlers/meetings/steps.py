"""The registry of what each meeting-cycle step does: ``reminders`` fills it, the sweep in
``cycle`` reads it. Its own module, so neither imports the other's registration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from models.meeting import Meeting
from models.org import Organisation
from models.schedule import ScheduledStep
from models.settings import Settings

StepFn = Callable[[Session, Meeting, Organisation, ScheduledStep, datetime, Settings], None]
STEP_HANDLERS: dict[str, StepFn] = {}


def step_handler(prefix: str) -> Callable[[StepFn], StepFn]:
    def deco(fn: StepFn) -> StepFn:
        STEP_HANDLERS[prefix] = fn
        return fn

    return deco


def handler_for(step: str) -> StepFn | None:
    return STEP_HANDLERS.get(step) or STEP_HANDLERS.get(step.split("_", 1)[0] + "_*")
