"""Annual classification (Quy định 366-QĐ/TW): levels, and the conditions that exclude a
level, loaded from data (locales/classification/*.toml) like the rubrics."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

LEVELS = ("htxsnv", "httnv", "htnv", "khtnv")  # best first
LevelId = Literal["htxsnv", "httnv", "htnv", "khtnv"]
BandId = Literal["tot", "kha", "trung_binh", "kem"]


class ClassificationError(ValueError):
    pass


def rank(level: str) -> int:
    """0 for the best level; lower is better."""
    return LEVELS.index(level)


def at_most(level: str, cap: str) -> str:
    return level if rank(level) >= rank(cap) else cap


class Condition(BaseModel):
    id: str
    applies_to: Literal["member", "org"]
    title: str
    max_level: LevelId
    cites: str
    bot_default: bool = False


class Targets(BaseModel):
    org_good_or_better: float = Field(ge=0, le=1)
    org_excellent: float = Field(ge=0, le=1)
    member_good_or_better: float = Field(ge=0, le=1)


class Rules(BaseModel):
    id: str
    version: str
    title: str
    document: str
    document_number: str = ""
    document_date: str = ""
    issuer: str = ""
    example: bool = False
    excellent_cap: float = Field(ge=0, le=1)
    # A cell's year is rated only with this many of its 12 regular meetings held.
    min_held_meetings: int = Field(default=9, ge=1, le=12)
    # Named in a refusal by a `bot_default` condition: who set that ceiling.
    default_source: str = "quy định của Đảng ủy Khối"
    targets: Targets
    org_proposal: dict[BandId, LevelId]
    conditions: list[Condition]

    @model_validator(mode="after")
    def _sourced(self) -> Rules:
        if not self.example and not (self.document_number and self.issuer):
            raise ValueError("rules name their source (document_number, issuer) or set "
                             "example = true")
        if len({c.id for c in self.conditions}) != len(self.conditions):
            raise ValueError("condition ids must be unique")
        return self

    def blocking(self, applies_to: str, facts: set[str], level: str) -> list[Condition]:
        """The conditions that hold (``facts``) and exclude ``level``."""
        return [c for c in self.conditions if c.applies_to == applies_to and c.id in facts
                and rank(level) < rank(c.max_level)]

    def ceiling(self, applies_to: str, facts: set[str]) -> str:
        """The best level the holding conditions allow."""
        best = LEVELS[0]
        for c in self.conditions:
            if c.applies_to == applies_to and c.id in facts:
                best = at_most(best, c.max_level)
        return best

    def source(self, c: Condition) -> str:
        """Whose ceiling ``c`` is: its own citation, or the deployment's for a default."""
        return self.default_source if c.bot_default else c.cites


@cache
def load_rules(directory: Path, rules_id: str) -> Rules:
    path = Path(directory) / f"{rules_id}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ClassificationError(f"{path.name}: {exc}") from exc
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ClassificationError(f"classification {rules_id}: {msgs}") from exc


def excellent_allowed(excellent: int, good_or_better: int, cap: float) -> bool:
    """The 20% cap: HTXSNV at most ``cap`` of those rated HTTNV or better in a unit."""
    return excellent <= cap * good_or_better + 1e-9
