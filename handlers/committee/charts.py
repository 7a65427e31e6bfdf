"""The committee's PNG chart: the attendance trend over 12 months and the distribution of
meeting ratings for the period.

Months without a meeting are gaps in the trend, not 0%; the rating counts have whole-number
ticks and their values on the bars, with the cells that did not meet as "Không họp"; the
85% target line is labelled.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from handlers.core.labels import label
from models import reports
from models.base import utcnow
from models.i18n import _
from models.meeting import Meeting, MeetingKind, MeetingStatus
from models.org import CELL_KINDS, Organisation
from models.reports import Period

TARGET = 85  # % attendance the committee aims for
BANDS = ("tot", "kha", "trung_binh", "kem")
COLOURS = ("#2E7D32", "#1565C0", "#F9A825", "#C62828")
NOT_MET_COLOUR = "#9E9E9E"


def not_met(session: Session, root: Organisation, period: Period,
            now: datetime | None = None) -> int:
    """Regular meetings of the subtree's cells in the period that were due and did not
    take place (marked not held, or still planned after their time): the "Không họp" bar
    beside the ratings of those held. Meetings still to come, and months before a cell
    was in the bot (no meeting row), are not counted."""
    when = now or utcnow()
    stmt = (select(func.count()).select_from(Meeting)
            .join(Organisation, Organisation.id == Meeting.cell_id)
            .where(Organisation.path.startswith(root.path),
                   Organisation.kind.in_(list(CELL_KINDS)),
                   Meeting.kind == MeetingKind.REGULAR.value,
                   Meeting.period.in_(list(period.months)),
                   or_(Meeting.status == MeetingStatus.NOT_HELD.value,
                       and_(Meeting.status == MeetingStatus.PLANNED.value,
                            Meeting.scheduled_at < when))))
    return int(session.exec(stmt).one())


def trend_series(session: Session, root: Organisation,
                 period: Period) -> tuple[list[str], list[float]]:
    """Month labels ("11/26") and attendance in % over the 12 months up to the period;
    NaN for a month without a meeting (a gap in the line)."""
    months = reports.months_back(period.months[-1], 12)
    rates = {r["period"]: (100 * r["attended"] / r["due"] if r["due"] else math.nan)
             for r in reports.trend(session, root, months)}
    return [f"{p[5:]}/{p[2:4]}" for p in months], [rates.get(p, math.nan) for p in months]


def chart_figure(session: Session, root: Organisation, period: Period,
                 now: datetime | None = None) -> Any:
    """The matplotlib figure (tests inspect it; ``chart_png`` renders it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    xs, ys = trend_series(session, root, period)
    rat = reports.ratings(session, root, period)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    positions = list(range(len(xs)))  # every month keeps its place, with or without data
    ax1.plot(positions, ys, marker="o", color="#B22222", label=_("Tỷ lệ dự họp"))
    ax1.axhline(TARGET, linestyle="--", color="grey", linewidth=1,
                label=_("Mục tiêu {p}%").format(p=TARGET))
    ax1.annotate(f"{TARGET}%", (positions[-1] + 0.5, TARGET), xytext=(2, 0),
                 textcoords="offset points", va="center", fontsize="small", color="grey",
                 annotation_clip=False)
    ax1.set_xticks(positions, xs)
    ax1.set_xlim(-0.5, len(xs) - 0.5)
    ax1.set_ylim(0, 100)
    ax1.set_title(_("Tỷ lệ dự họp (%)"))
    ax1.tick_params(axis="x", labelrotation=45)
    ax1.legend(loc="lower left", fontsize="small")
    if all(math.isnan(y) for y in ys):
        ax1.text(0.5, 0.5, _("Chưa có buổi sinh hoạt nào"), transform=ax1.transAxes,
                 ha="center", va="center", color="grey")
    # Cells that did not meet are a bar of their own ("không họp"), not left out.
    counts = [int(rat.get(k, 0)) for k in BANDS] + [not_met(session, root, period, now)]
    bars = ax2.bar([label(k) for k in BANDS] + [_("Không họp")], counts,
                   color=(*COLOURS, NOT_MET_COLOUR))
    ax2.bar_label(bars)
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylim(bottom=0, top=max(1, *counts) * 1.15)
    ax2.set_ylabel(_("Số buổi"))  # held meetings by rating, and those not held
    ax2.set_title(_("Xếp loại buổi sinh hoạt — {period}").format(period=period.label))
    fig.suptitle(root.name)
    fig.tight_layout()
    return fig


def chart_png(session: Session, root: Organisation, period: Period,
              now: datetime | None = None) -> bytes:
    import matplotlib.pyplot as plt

    fig = chart_figure(session, root, period, now)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
