"""Figures a bloc can sign, charts and workbook (issue 24): cells that did not meet are
shown ("Không họp", a grey row), counts have whole-number ticks and value labels, levels
by their Vietnamese names, "Tháng" is a date, every sheet has an autofilter."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import App
from handlers.committee.charts import chart_figure, not_met
from handlers.committee.exports import workbook
from handlers.year.sheets import levels_chart_figure
from models import reports
from models.org import Organisation
from tests.test_status import month as month
from tests.yearplay import held, org

NOV = reports.month(2026, 11)


def _bloc(s: Session) -> Organisation:
    return s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()


def test_rating_chart_shows_cells_that_did_not_meet_with_labels(month: App) -> None:
    with Session(month.engine) as s:
        not_met = reports.summary(s, _bloc(s), NOV)["not_met"]
        fig = chart_figure(s, _bloc(s), NOV)
    ax = fig.axes[1]
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["Tốt", "Khá", "Trung bình", "Kém", "Không họp"]
    heights = [int(p.get_height()) for p in ax.patches]
    assert heights == [1, 1, 0, 0, not_met] and not_met > 0
    labels = [t.get_text() for t in ax.texts]
    assert labels == [str(h) for h in heights]  # the value on every bar
    assert all(float(t).is_integer() for t in ax.get_yticks())


def test_not_met_counts_only_meetings_that_were_due(month: App) -> None:
    """The year's "Không họp" bar counts the meetings that were due and did not take
    place: not the months before the cells were in the bot (no meeting), nor December's
    meetings still to come (it counted 12 months a cell for the whole year)."""
    at = datetime(2026, 11, 30, tzinfo=UTC)
    with Session(month.engine) as s:
        bloc = _bloc(s)
        in_november = not_met(s, bloc, NOV, now=at)
        in_the_year = not_met(s, bloc, reports.year(2026), now=at)
        cells = len(reports.cell_rows(s, bloc, NOV))
    assert 0 < in_november < cells
    assert in_the_year == in_november


def test_levels_chart_names_levels_in_vietnamese_with_counts(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, "Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
        for mo in range(1, 13):
            held(s, cell, 2026, mo, {}, (92, "tot"))
        s.commit()
        fig = levels_chart_figure(s, org(s, "Đảng bộ Sở Tài chính"), 2026, sample.settings)
    cells_ax, members_ax = fig.axes
    names = [t.get_text().replace("\n", " ") for t in members_ax.get_xticklabels()]
    assert names == ["Hoàn thành xuất sắc nhiệm vụ", "Hoàn thành tốt nhiệm vụ",
                     "Hoàn thành nhiệm vụ", "Không hoàn thành nhiệm vụ", "Không xếp loại"]
    assert "HTTNV" not in " ".join(names)
    assert [int(p.get_height()) for p in members_ax.patches][1] == 7
    assert [t.get_text() for t in cells_ax.texts] == ["0", "1", "0", "0", "1"]
    for ax in (cells_ax, members_ax):
        assert all(float(t).is_integer() for t in ax.get_yticks())


def test_workbook_months_are_dates_sheets_filter_and_unmet_cells_are_grey(month: App) -> None:
    with Session(month.engine) as s:
        data = workbook(s, _bloc(s), reports.year(2026), month.settings)
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        assert ws.auto_filter.ref == ws.dimensions, ws.title
    meetings = wb["Buổi sinh hoạt"]
    assert meetings["C1"].value == "Tháng"
    assert meetings["C2"].number_format == "mm/yyyy"
    assert all(isinstance(r[0], datetime) and r[0].day == 1
               for r in meetings.iter_rows(min_row=2, min_col=3, max_col=3, values_only=True))
    cells = wb["Chi bộ"]
    for row in cells.iter_rows(min_row=2):
        met = bool(row[2].value)
        grey = row[0].fill.fgColor.rgb.endswith("D9D9D9")
        assert grey == (not met), row[0].value
    notes = [r[0] for r in wb["Tổng hợp"].iter_rows(values_only=True)]
    assert "Dòng tô xám" in notes
