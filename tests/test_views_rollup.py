"""The web view's aggregates keep every figure: the attendance subquery filtered to the
subtree gives a base organisation or a cell exactly its rows of the whole bloc's
aggregate, and the view's roll-ups (handlers/views/rollup.py: summary, children, the
trend's months) equal the statements the workbook runs. On the demo bloc."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from handlers.views import rollup
from handlers.views import trends as vt
from models import reports
from models.meeting import Meeting
from models.org import CELL_KINDS, Organisation
from tests.webutil import seeded

PERIODS = [reports.month(2026, 11), reports.month(2026, 3), reports.quarter(2026, 3),
           reports.year(2026), reports.year(2025)]


@pytest.fixture
def bloc(engine, settings):  # type: ignore[no-untyped-def]
    seeded(engine, settings)
    with Session(engine) as s:
        return s.exec(select(Organisation).where(Organisation.parent_id.is_(None))).one()


def _subtrees(s: Session, bloc: Organisation) -> list[Organisation]:
    orgs = list(s.exec(select(Organisation).where(Organisation.id != bloc.id)
                       .order_by(Organisation.path)))
    assert {o.kind for o in orgs} & set(CELL_KINDS) and len(orgs) > len(
        [o for o in orgs if o.is_cell]), "the demo bloc has base organisations and cells"
    return orgs


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label)
def test_subtree_aggregates_equal_the_blocs_rows_of_that_subtree(engine, bloc, period) -> None:
    with Session(engine) as s:
        bloc = s.get(Organisation, bloc.id)
        whole_cells = reports.cell_rows(s, bloc, period)
        whole_meetings = reports.meeting_rows(s, bloc, period)
        cell_of = dict(s.exec(select(Meeting.id, Meeting.cell_id)
                              .where(Meeting.period.in_(period.months))).all())
        assert sum(c["due"] for c in whole_cells) > 0, "something to add up"
        kept = 0
        for org in _subtrees(s, bloc):
            mine = [c for c in whole_cells if c["path"].startswith(org.path)]
            assert reports.cell_rows(s, org, period) == mine, org.name
            ids = {c["cell_id"] for c in mine}
            assert reports.meeting_rows(s, org, period) == [
                m for m in whole_meetings if cell_of[m["meeting_id"]] in ids], org.name
            assert reports.summary(s, org, period) == rollup.summary_of(mine), org.name
            kept += sum(c["due"] for c in mine if not org.is_cell)
        assert kept == sum(c["due"] for c in whole_cells)  # every roll call under a base


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label)
def test_rollups_equal_the_workbooks_statements(engine, bloc, period) -> None:
    with Session(engine) as s:
        for org in [s.get(Organisation, bloc.id), *_subtrees(s, bloc)]:
            assert org is not None
            assert rollup.summary(s, org, period) == reports.summary(s, org, period)
            if not org.is_cell:
                assert rollup.child_rows(s, org, period) == sorted(
                    reports.child_rows(s, org, period), key=lambda r: r["name"])


def _old_series(s: Session, org: Organisation, period: reports.Period) -> dict:  # type: ignore[type-arg]
    """The trend as it was computed before: child_rows and summary of each month."""
    months = reports.months_back(period.months[-1], 12)
    out: dict = {"rate": {}, "score": {}, "not_met": []}  # type: ignore[type-arg]
    for i, mo in enumerate(months):
        p = reports.month(int(mo[:4]), int(mo[5:]))
        rows = ([{**r, "org_id": org.id} for r in reports.cell_rows(s, org, p)] if org.is_cell
                else reports.child_rows(s, org, p))
        for r in rows:
            out["rate"].setdefault(r["org_id"], [None] * 12)[i] = \
                100 * r["attended"] / r["due"] if r["due"] else None
            out["score"].setdefault(r["org_id"], [None] * 12)[i] = r["score"]
        out["not_met"].append(reports.summary(s, org, p)["not_met"])
    return out


def _nan_to_none(values: list[float]) -> list[float | None]:
    return [None if v != v else pytest.approx(v) for v in values]


def test_trend_from_one_statement_equals_each_months_rows(engine, bloc) -> None:
    with Session(engine) as s:
        for org in [s.get(Organisation, bloc.id), *_subtrees(s, bloc)]:
            assert org is not None
            new = vt.series(s, org, reports.month(2026, 11))
            old = _old_series(s, org, reports.month(2026, 11))
            assert new["not_met"] == old["not_met"], org.name
            assert set(new["rate"]) == set(old["rate"]), org.name
            for oid in new["rate"]:
                assert _nan_to_none(new["rate"][oid]) == old["rate"][oid], org.name
                assert _nan_to_none(new["score"][oid]) == old["score"][oid], org.name


@pytest.mark.parametrize("year", [2025, 2026])
def test_subtree_year_record_and_plan_equal_the_blocs_rows(engine, bloc, year) -> None:
    """The year's member record and thematic plan read only the subtree's rows; a base
    organisation or a cell still gets exactly its rows of the whole bloc's."""
    from models.plan import plan_rows
    from models.review import year_record

    with Session(engine) as s:
        bloc = s.get(Organisation, bloc.id)
        records, plan = year_record(s, bloc, year), plan_rows(s, bloc, year)
        paths = {o.id: o.path for o in s.exec(select(Organisation))}
        assert sum(r["due"] for r in records) > 0 and sum(r["unpaid"] for r in records) > 0
        for org in _subtrees(s, bloc):
            assert year_record(s, org, year) == [
                r for r in records if paths[r["cell_id"]].startswith(org.path)], org.name
            assert plan_rows(s, org, year) == [
                r for r in plan if paths[r["cell_id"]].startswith(org.path)], org.name
