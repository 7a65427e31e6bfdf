"""Scoring rubrics: data files (locales/rubrics/*.toml), validated on load.

A rubric cites the document it implements and carries a version; every score row keeps
both. Criteria marked ``auto`` are computed from recorded data (see handlers/autoscore.py)
instead of asked. A criterion with ``only_if = "thematic"`` counts only in a month with a
thematic part; otherwise its points move to the criterion named by ``else_to``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

AUTO_KINDS = ("duration", "attendance", "notice_sent", "documents_ahead", "speakers",
              "tasks_done")
EPS = 1e-9


BandId = Literal["tot", "kha", "trung_binh", "kem"]


class RubricError(ValueError):
    pass


class Criterion(BaseModel):
    id: str
    title: str
    title_en: str = ""
    max: float = Field(gt=0)
    auto: Literal["duration", "attendance", "notice_sent", "documents_ahead", "speakers",
                  "tasks_done",
                  # from the meeting's records (minutes, chi ủy, Sổ tay):
                  "committee_met", "minutes_full", "resolution_adopted", "minutes_approved",
                  "shared_in_time", "sotay_ahead", "sotay_on_app"] | None = None
    # Thresholds for auto criteria: [[at least this value, points], ...], highest first.
    steps: list[tuple[float, float]] = Field(default_factory=list)
    params: dict[str, float] = Field(default_factory=dict)
    only_if: Literal["thematic"] | None = None
    else_to: str | None = None
    # Where the cell has only a secretary (no chi ủy), this criterion gets full marks.
    full_without_committee: bool = False


class Group(BaseModel):
    id: str
    title: str
    title_en: str = ""
    max: float = Field(gt=0)
    criteria: list[Criterion]

    @model_validator(mode="after")
    def _adds_up(self) -> Group:
        total = sum(c.max for c in self.criteria)
        if abs(total - self.max) > EPS:
            raise ValueError(f"group {self.id}: criteria maxima add up to {total}, "
                             f"not {self.max}")
        ids = {c.id for c in self.criteria}
        for c in self.criteria:
            if c.only_if and c.else_to not in ids:
                raise ValueError(f"criterion {c.id}: else_to must name a criterion of "
                                 f"group {self.id}")
            if c.auto and c.steps and c.steps[0][1] > c.max + EPS:
                raise ValueError(f"criterion {c.id}: steps give more than its max {c.max}")
        return self


class Band(BaseModel):
    id: BandId
    min: float = Field(ge=0)
    requires_full: list[str] = Field(default_factory=list)


class YearlyRule(BaseModel):
    """One line of a yearly meeting-quality rule: the cell gets ``id`` when every condition
    holds (Phú Thọ: Tốt when every meeting is Khá or better and at least 7 are Tốt)."""

    id: BandId
    all_at_least: BandId | None = None  # every rated meeting of the year this band or better
    count_at_least: dict[BandId, int] = Field(default_factory=dict)  # n meetings band or better
    average_at_least: float | None = None  # the year's mean score

    @property
    def unconditional(self) -> bool:
        return not self.all_at_least and not self.count_at_least \
            and self.average_at_least is None


class Rubric(BaseModel):
    id: str
    version: str
    title: str
    document: str
    # The source: a rubric names the document it implements (number, date, issuer), or
    # says plainly that it is an example; an unsourced file is refused on load.
    document_number: str = ""
    document_date: str = ""  # dd/mm/yyyy
    issuer: str = ""
    example: bool = False
    total: float = 100
    groups: list[Group]
    bands: list[Band]
    # Tried in order, first that holds wins; the last must hold always. Without rules the
    # year is rated by the band its mean score falls in.
    yearly: list[YearlyRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sourced(self) -> Rubric:
        if not self.example and not (self.document_number and self.document_date
                                     and self.issuer):
            raise ValueError("a rubric names its source (document_number, document_date, "
                             "issuer) or sets example = true")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        total = sum(g.max for g in self.groups)
        if abs(total - self.total) > EPS:
            raise ValueError(f"groups add up to {total}, not {self.total}")
        ids = [c.id for c in self.criteria()]
        if len(ids) != len(set(ids)):
            raise ValueError("criterion ids must be unique")
        mins = [b.min for b in self.bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands must be listed from the highest minimum down, no ties")
        if not self.bands or self.bands[-1].min != 0 or self.bands[0].min > self.total:
            raise ValueError(f"bands must cover 0 to {self.total}: the lowest band starts at 0")
        for b in self.bands:
            unknown = set(b.requires_full) - set(ids)
            if unknown:
                raise ValueError(f"band {b.id} requires unknown criteria {sorted(unknown)}")
        bands = {b.id for b in self.bands}
        for r in self.yearly:
            named = {r.id, *r.count_at_least, *([r.all_at_least] if r.all_at_least else [])}
            if named - bands:
                raise ValueError(f"yearly rule {r.id} names unknown bands {sorted(named - bands)}")
        if self.yearly and not self.yearly[-1].unconditional:
            raise ValueError("the last yearly rule must have no condition (it rates the rest)")
        return self

    def criteria(self) -> list[Criterion]:
        return [c for g in self.groups for c in g.criteria]

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria():
            if c.id == cid:
                return c
        raise KeyError(cid)

    def effective_max(self, c: Criterion, thematic: bool) -> float:
        """A criterion's maximum this month, after moving inapplicable points."""
        if c.only_if == "thematic":
            return c.max if thematic else 0.0
        extra = 0.0
        if not thematic:
            for g in self.groups:
                extra += sum(o.max for o in g.criteria
                             if o.only_if == "thematic" and o.else_to == c.id)
        return c.max + extra

    def rate(self, points: dict[str, float], thematic: bool) -> tuple[float, str]:
        """Total and band id, applying the bands' full-marks conditions."""
        total = round(sum(points.values()), 2)
        for band in self.bands:
            if total + EPS < band.min:
                continue
            if all(points.get(cid, 0) + EPS >= self.effective_max(self.criterion(cid), thematic)
                   for cid in band.requires_full):
                return total, band.id
        return total, self.bands[-1].id

    def rate_year(self, counts: dict[str, int], average: float | None) -> str | None:
        """Yearly meeting-quality band from the count of meetings per band and the mean
        score; None for a year without a rated meeting."""
        rated = sum(counts.values())
        if not rated:
            return None
        order = [b.id for b in self.bands]  # best first

        def at_least(band: str) -> int:
            return sum(counts.get(b, 0) for b in order[:order.index(band) + 1])

        for rule in self.yearly:
            if rule.all_at_least and at_least(rule.all_at_least) < rated:
                continue
            if any(at_least(b) < n for b, n in rule.count_at_least.items()):
                continue
            if rule.average_at_least is not None and (
                    average is None or average + EPS < rule.average_at_least):
                continue
            return rule.id
        mean = average or 0.0
        return next(b.id for b in self.bands if mean + EPS >= b.min)


SOURCE_KEYS = ("document_number", "document_date", "issuer", "example")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A rubric that extends another inherits its criteria, never its source."""
    out = {k: v for k, v in base.items() if k not in SOURCE_KEYS}
    out.update({k: v for k, v in over.items() if k != "extends"})
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path.name}: {exc}") from exc


@cache
def load_rubric(rubrics_dir: Path, rubric_id: str) -> Rubric:
    path = Path(rubrics_dir) / f"{rubric_id}.toml"
    if not path.is_file():
        raise RubricError(f"no rubric {rubric_id!r} in {rubrics_dir}")
    data = _read(path)
    if "extends" in data:
        parent = load_rubric(rubrics_dir, data["extends"]).model_dump()
        data = _merge(parent, data)
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RubricError(f"rubric {rubric_id}: {msgs}") from exc


def available(rubrics_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(rubrics_dir).glob("*.toml"))
