"""The /status line on the upper-level committee member's attendance (once a quarter)."""

from __future__ import annotations

from sqlmodel import Session

from handlers.meetings.schedule_rules import quarter_months
from models.i18n import _
from models.org import Organisation
from models.records import cells_without_upper_attendee


def upper_attendee_line(s: Session, org: Organisation, last_month: str) -> str:
    """Cells under ``org`` with no upper-level attendee in the quarter of ``last_month``."""
    months = quarter_months(last_month)
    q = (int(last_month[5:]) - 1) // 3 + 1
    missing = cells_without_upper_attendee(s, org.path, months)
    if org.is_cell:
        return (_("Quý {q}: chưa có cấp ủy cấp trên dự sinh hoạt.") if missing
                else _("Quý {q}: đã có cấp ủy cấp trên dự sinh hoạt.")).format(q=q)
    names = ", ".join(name for _id, name in missing[:20])
    more = len(missing) - 20
    return _("Chưa có cấp ủy cấp trên dự sinh hoạt trong quý {q}: {n} chi bộ{names}.").format(
        q=q, n=len(missing), names=(": " + names + (f" (+{more})" if more > 0 else ""))
        if missing else "")
