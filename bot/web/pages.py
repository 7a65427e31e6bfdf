"""The pages behind the session: home, organisation (bloc, base organisation, cell),
meeting, member, lists, and the downloads (each page's tables as .xlsx and .csv, under
the page's own access check). Each function runs in a worker thread with its own
database session and returns a :class:`Reply`; the figures come from
``handlers.views`` (the same calls as the chat's and the workbook's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.web.render import render
from handlers.committee.exports import cells_csv, workbook
from handlers.committee.status import decode, encode
from handlers.core.access import Actor
from handlers.views import downloads as dl
from handlers.views import overview as ov
from handlers.views import pages as pv
from handlers.views.lists import lists
from handlers.views.scope import Home, actor_for, home, may_see_member, may_see_org
from handlers.views.trends import chart
from handlers.year.flags import _level_text as level_label
from handlers.year.sheets import _stage as stage_label
from models.files import StoredFile
from models.i18n import _
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation
from models.records import DocType, latest_revision
from models.reports import Period, month, quarter, year
from models.settings import Settings
from models.text import as_id
from models.web import WebSession


@dataclass
class Reply:
    status: int
    body: str | bytes = ""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None


@dataclass
class Viewer:
    ws: WebSession
    actor: Actor
    home: Home
    settings: Settings
    today: date
    locale: str
    now: datetime

    @classmethod
    def load(cls, s: Session, ws: WebSession, settings: Settings, now: datetime) -> Viewer:
        actor = actor_for(s, ws.member_id)
        m = actor.member
        return cls(ws, actor, home(s, actor), settings,
                   now.astimezone(ZoneInfo(settings.timezone)).date(),
                   (m.locale if m is not None else None) or settings.locale, now)

    @property
    def top(self) -> Organisation | None:
        return self.home.org


def _period(v: Viewer, query: dict[str, str]) -> Period:
    return decode(query.get("p", "")) or month(v.today.year, v.today.month)


def _nav(p: Period) -> dict[str, str]:
    """Codes of the previous and next period and of the three kinds around ``p``."""
    y, m = int(p.first[:4]), int(p.months[-1][5:7])
    nxt = (month(y + (m == 12), 1 if m == 12 else m + 1) if p.kind == "month" else
           quarter(y + (m == 12), 1 if m == 12 else m // 3 + 1) if p.kind == "quarter"
           else year(y + 1))
    return {"prev": encode(ov.previous(p)), "next": encode(nxt),
            "month": encode(month(y, m)), "quarter": encode(quarter(y, (m - 1) // 3 + 1)),
            "year": encode(year(y))}


def _denied(v: Viewer) -> Reply:
    return Reply(403, render("message.html", title=_("Không có quyền truy cập"), text=_(
        "Đồng chí không có quyền xem trang này. Mỗi người chỉ xem được phần việc của "
        "mình: cán bộ theo dõi các tổ chức mình phụ trách, bí thư chi bộ của mình, đảng "
        "viên trang của mình."), viewer=v))


def _page(v: Viewer, template: str, period: Period | None, **ctx: Any) -> Reply:
    return Reply(200, render(template, viewer=v, period=period,
                             code=encode(period) if period else "",
                             nav=_nav(period) if period else {}, **ctx))


def _org(s: Session, match: dict[str, str]) -> Organisation | None:
    ident = as_id(match.get("id"))
    return s.get(Organisation, ident) if ident is not None else None


# -- pages ------------------------------------------------------------------------------
def home_page(s: Session, v: Viewer, match: dict[str, str], query: dict[str, str]) -> Reply:
    p = encode(_period(v, query))
    if v.home.org is not None:
        return Reply(303, redirect=f"/web/org/{v.home.org.id}?p={p}")
    if v.home.member is not None:
        return Reply(303, redirect=f"/web/member/{v.home.member.id}?p={p}")
    return _denied(v)


def org_page(s: Session, v: Viewer, match: dict[str, str], query: dict[str, str]) -> Reply:
    org = _org(s, match)
    if org is None or not may_see_org(s, v.actor, org):
        return _denied(v)
    period = _period(v, query)
    o = ov.overview(s, org, period, v.settings, v.today)
    crumbs = pv.crumbs(s, org, v.top)
    if org.is_cell:
        return _page(v, "cell.html", period, org=org, ov=o, crumbs=crumbs,
                     meetings=pv.meeting_table(s, org, period, v.settings),
                     members=pv.member_table(s, org, period, v.settings))
    return _page(v, "org.html", period, org=org, ov=o, crumbs=crumbs,
                 children=pv.child_table(s, org, period, v.settings))


def _meeting(s: Session, match: dict[str, str]) -> tuple[Meeting | None, Organisation | None]:
    """The meeting the URL names and its cell (None where either is missing)."""
    ident = as_id(match.get("id"))
    m = s.get(Meeting, ident) if ident is not None else None
    return m, (s.get(Organisation, m.cell_id) if m is not None else None)


def meeting_page(s: Session, v: Viewer, match: dict[str, str],
                 query: dict[str, str]) -> Reply:
    m, cell = _meeting(s, match)
    if m is None or cell is None or not may_see_org(s, v.actor, cell):
        return _denied(v)
    mv = pv.meeting_view(s, m, v.settings)
    period = month(int(m.period[:4]), int(m.period[5:7]))
    return _page(v, "meeting.html", period, mv=mv, crumbs=pv.crumbs(s, cell, v.top))


def member_page(s: Session, v: Viewer, match: dict[str, str],
                query: dict[str, str]) -> Reply:
    ident = as_id(match.get("id"))
    member = s.get(Member, ident) if ident is not None else None
    if member is None or not may_see_member(s, v.actor, member):
        return _denied(v)
    period = _period(v, query)
    mv = pv.member_view(s, member, period, v.settings)
    crumbs = pv.crumbs(s, mv.cell, v.top) if mv.cell is not None and v.top is not None \
        else []
    return _page(v, "member.html", period, mv=mv, crumbs=crumbs)


def doc_download(s: Session, v: Viewer, match: dict[str, str],
                 query: dict[str, str]) -> Reply:
    """A meeting's final biên bản or nghị quyết (.docx), for those who may see the cell."""
    m, cell = _meeting(s, match)
    kind = match.get("kind", "")
    if m is None or cell is None or kind not in (DocType.MINUTES.value, DocType.RESOLUTION.value) \
            or not may_see_org(s, v.actor, cell):
        return _denied(v)
    rev = latest_revision(s, m.id or 0, kind, final=True)
    f = s.get(StoredFile, rev.file_id) if rev is not None else None
    if f is None:
        return Reply(404, render("message.html", title=_("Chưa có văn bản"), text=_(
            "Buổi sinh hoạt này chưa có văn bản chính thức."), viewer=v))
    return _file(f.data, f.filename, "application/vnd.openxmlformats-officedocument."
                                     "wordprocessingml.document")


def export_download(s: Session, v: Viewer, match: dict[str, str],
                    query: dict[str, str]) -> Reply:
    """The committee's workbook (.xlsx) or cells sheet (.csv) for the page's scope and
    period: the same files /baocao and `chibot report` write."""
    org = _org(s, match)
    fmt = match.get("fmt", "")
    if org is None or fmt not in ("xlsx", "csv") or not may_see_org(s, v.actor, org):
        return _denied(v)
    period = _period(v, query)
    name = f"bao-cao-{org.id}-{encode(period)}.{fmt}"
    if fmt == "xlsx":
        return _file(workbook(s, org, period, v.settings), name, dl.XLSX)
    return _file(cells_csv(s, org, period, v.settings), name, dl.CSV)


def _bad_format(v: Viewer) -> Reply:
    return Reply(404, render("message.html", title=_("Không có tệp này"), text=_(
        "Chỉ tải được tệp Excel (.xlsx) hoặc CSV của các bảng trên trang."), viewer=v))


def _download(data: bytes, name: str, fmt: str) -> Reply:
    return _file(data, f"{name}.{fmt}", dl.XLSX if fmt == "xlsx" else dl.CSV)


def meeting_download(s: Session, v: Viewer, match: dict[str, str],
                     query: dict[str, str]) -> Reply:
    """A meeting page's tables, for those who may see the page (its cell)."""
    m, cell = _meeting(s, match)
    if m is None or cell is None or not may_see_org(s, v.actor, cell):
        return _denied(v)
    fmt = match.get("fmt", "")
    if fmt not in ("xlsx", "csv"):
        return _bad_format(v)
    return _download(dl.meeting_file(pv.meeting_view(s, m, v.settings), fmt),
                     f"buoi-sinh-hoat-{m.id}", fmt)


def member_download(s: Session, v: Viewer, match: dict[str, str],
                    query: dict[str, str]) -> Reply:
    """A member page's tables: the member themself, or who may see their cell."""
    ident = as_id(match.get("id"))
    member = s.get(Member, ident) if ident is not None else None
    if member is None or not may_see_member(s, v.actor, member):
        return _denied(v)
    fmt = match.get("fmt", "")
    if fmt not in ("xlsx", "csv"):
        return _bad_format(v)
    period = _period(v, query)
    mv = pv.member_view(s, member, period, v.settings)
    return _download(dl.member_file(mv, int(period.months[-1][:4]), fmt),
                     f"dang-vien-{member.id}-{encode(period)}", fmt)


def lists_download(s: Session, v: Viewer, match: dict[str, str],
                   query: dict[str, str]) -> Reply:
    """The lists of an organisation's year, every row (``?t=`` picks the CSV's list)."""
    org = _org(s, match)
    if org is None or not may_see_org(s, v.actor, org):
        return _denied(v)
    fmt, table = match.get("fmt", ""), query.get("t", "dieu8")
    if fmt not in ("xlsx", "csv") or table not in dl.LIST_TABLES:
        return _bad_format(v)
    period = _period(v, query)
    ls = lists(s, org, period, v.settings, v.now, full=True)
    name = f"danh-sach-{org.id}-{encode(period)}" + (f"-{table}" if fmt == "csv" else "")
    return _download(dl.lists_file(ls, fmt, table), name, fmt)


def lists_page(s: Session, v: Viewer, match: dict[str, str],
               query: dict[str, str]) -> Reply:
    org = _org(s, match)
    if org is None or not may_see_org(s, v.actor, org):
        return _denied(v)
    period = _period(v, query)
    return _page(v, "lists.html", period, org=org, crumbs=pv.crumbs(s, org, v.top),
                 ls=lists(s, org, period, v.settings, v.now), level_text=level_label,
                 stage_text=stage_label)


def trend_image(s: Session, v: Viewer, match: dict[str, str],
                query: dict[str, str]) -> Reply:
    """Twelve months up to the period, as an SVG the page shows with <img>."""
    org = _org(s, match)
    if org is None or not may_see_org(s, v.actor, org):
        return _denied(v)
    return Reply(200, render("trend.svg", c=chart(s, org, _period(v, query))), "image/svg+xml")


def _file(data: bytes, name: str, content_type: str) -> Reply:
    from bot.platforms.served_files import Served

    headers = Served(content_type, name).headers()
    headers.pop("Content-Type", None)
    return Reply(200, data, content_type, headers)


PageFn = Callable[[Session, Viewer, dict[str, str], dict[str, str]], Reply]


def page_routes() -> list[tuple[str, PageFn]]:
    return [("/web", home_page), ("/web/", home_page), ("/web/org/{id}", org_page),
            ("/web/meeting/{id}", meeting_page), ("/web/member/{id}", member_page),
            ("/web/doc/{id}/{kind}", doc_download),
            ("/web/export/{id}/{fmt}", export_download), ("/web/trend/{id}", trend_image),
            ("/web/lists/{id}", lists_page),
            ("/web/export/meeting/{id}/{fmt}", meeting_download),
            ("/web/export/member/{id}/{fmt}", member_download),
            ("/web/export/lists/{id}/{fmt}", lists_download)]
