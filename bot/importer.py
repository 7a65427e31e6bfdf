"""Load the organisation tree and members from a bloc office's sheet (CSV or XLSX).

One row per member. All-or-nothing: any bad row aborts the file and nothing is written.
Re-importing the same file changes nothing; a changed row updates its member. A member is
recognised by the party card number when the sheet has one, else by cell, name and birth
date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.sheet_reader import SheetError, read_rows
from handlers.forms.amounts import parse_amount
from handlers.forms.errors import Invalid
from handlers.onboarding.help import refresh_menu
from models.base import utcnow
from models.member import Member, Membership, Role, RoleAssignment
from models.org import Organisation, OrgKind, add_org
from models.text import clean_text, fold, latin_lookalikes, strip_bidi

# Header aliases, compared diacritics-insensitively.
COLUMNS: dict[str, tuple[str, ...]] = {
    "base": ("dang bo co so", "to chuc co so dang", "co so dang", "base organisation"),
    "sub": ("dang bo bo phan", "sub committee"),
    "cell": ("chi bo", "cell"),
    "name": ("ho va ten", "ho ten", "full name", "name"),
    "code": ("ma dang vien", "so the dang vien", "so the", "party card"),
    "role": ("chuc vu", "vai tro", "chuc vu dang", "role"),
    "membership": ("loai dang vien", "dang vien", "membership"),
    "status": ("trang thai", "tinh trang sinh hoat", "status"),
    "exempt_reason": ("ly do mien", "ly do mien sinh hoat", "exempt reason"),
    "birth": ("ngay sinh", "date of birth", "birth date"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "phone"),
    "follows": ("phu trach chi bo", "cap uy phu trach chi bo", "follows cell"),
    "fee": ("muc dong", "muc_dong", "muc dong dang phi", "muc dang phi", "dang phi",
            "dang phi hang thang", "fee"),
}
REQUIRED = ("base", "name")
# Column sizes of the store (models.member, models.org): longer values are refused.
NAME_MAX, ORG_NAME_MAX, CODE_MAX = 120, 200, 40

CELL_ROLES = {"bi thu": Role.SECRETARY, "pho bi thu": Role.DEPUTY,
              "chi uy vien": Role.COMMITTEE, "chi uy": Role.COMMITTEE}
BASE_OFFICER = ("dang uy vien", "can bo dang uy", "uy vien ban thuong vu")
BLOC_OFFICER = ("can bo khoi", "can bo ban to chuc", "can bo van phong", "ban to chuc",
                "van phong dang uy khoi")
PLAIN = ("dang vien", "")
MEMBERSHIP = {"chinh thuc": Membership.FULL, "du bi": Membership.PROBATIONARY, "": Membership.FULL}
STATUS = {"": "active", "dang sinh hoat": "active", "sinh hoat": "active",
          "mien sinh hoat": "exempted", "mien": "exempted",
          "tam vang": "on_leave", "chuyen sinh hoat tam thoi": "on_leave",
          "da chuyen di": "left", "chuyen di": "left", "da chuyen": "left", "ra khoi dang": "left"}


@dataclass
class RowError:
    row: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    orgs_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Cells changed on the way in (bidirectional controls, look-alike letters), by row.
    notes: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    base: str
    sub: str
    cell: str
    name: str
    code: str
    roles: list[tuple[str, str]]  # (scope: cell|base|bloc, role)
    membership: str
    status: str
    exempt_reason: str
    birth: date | None
    phone: str
    follows: list[str]
    fee: int | None = None  # the usual monthly fee; None: the column is absent or empty


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(clean_text(str(v)).split())


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:20]):
        folded = [fold(_cell_text(c)) for c in row]
        found: dict[str, int] = {}
        for key, aliases in COLUMNS.items():
            for j, h in enumerate(folded):
                if h in aliases and key not in found:
                    found[key] = j
        if all(k in found for k in REQUIRED):
            return i, found
    return None


def _parse_birth(v: Any) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = _cell_text(v)
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"ngày sinh “{s}” không đúng dạng dd/mm/yyyy")


def _parse_fee(v: Any) -> int | None:
    """The "Mức đóng" cell: a whole number of đồng (50000, 50.000, 50k); empty is None."""
    if v in (None, ""):
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not float(v).is_integer() or not 1_000 <= v <= 10_000_000:
            raise ValueError(f"mức đóng “{v}” không hợp lệ (số đồng, ví dụ 50000)")
        return int(v)
    try:
        return parse_amount(_cell_text(v), max_amount=10_000_000)
    except Invalid as exc:
        raise ValueError(f"mức đóng “{_cell_text(v)[:20]}”: {exc}") from None


def _parse_roles(text: str) -> list[tuple[str, str]]:
    roles: list[tuple[str, str]] = []
    for part in text.replace(";", ",").split(","):
        p = fold(part)
        if p in CELL_ROLES:
            roles.append(("cell", CELL_ROLES[p].value))
        elif p in BASE_OFFICER:
            roles.append(("base", Role.OFFICER.value))
        elif p in BLOC_OFFICER:
            roles.append(("bloc", Role.OFFICER.value))
        elif p not in PLAIN:
            raise ValueError(f"chức vụ “{part.strip()}” không rõ (dùng: Bí thư, Phó Bí thư, "
                             "Chi ủy viên, Đảng viên, Đảng ủy viên, Cán bộ Ban Tổ chức)")
    return roles


def _tidy(number: int, what: str, value: str, notes: list[RowError]) -> str:
    """A name as chats and documents will show it: bidirectional controls (a right-to-left
    override flips the chat line after the name) dropped, Cyrillic/Greek letters drawn like
    Latin ones made Latin; each change noted for the report. A name mixing scripts in a
    way that cannot be made Latin is refused."""
    clean = strip_bidi(value)
    if clean != value:
        notes.append(RowError(number, f"{what} “{clean[:40]}”: đã bỏ ký tự điều khiển hướng "
                                      "chữ (làm đảo chiều dòng chữ)"))
    latin, ok = latin_lookalikes(clean)
    if not ok:
        raise ValueError(f"{what} “{clean[:40]}” trộn chữ Latinh với chữ Kirin/Hy Lạp")
    if latin != clean:
        notes.append(RowError(number, f"{what} “{clean[:40]}” có chữ Kirin/Hy Lạp giống chữ "
                                      f"Latinh: đã đổi thành “{latin[:40]}”"))
    return " ".join(latin.split())


def _parse(number: int, raw: list[Any], cols: dict[str, int],
           notes: list[RowError] | None = None) -> _Row:
    notes = [] if notes is None else notes
    names = {"name": "họ và tên", "base": "tên đảng bộ cơ sở", "sub": "tên đảng bộ bộ phận",
             "cell": "tên chi bộ"}
    tidied: dict[str, str] = {}

    def get(key: str) -> Any:
        j = cols.get(key)
        value = raw[j] if j is not None and j < len(raw) else None
        if key in names and value is not None:
            if key not in tidied:
                tidied[key] = _tidy(number, names[key], _cell_text(value), notes)
            return tidied[key]
        return value

    name = _cell_text(get("name"))
    base = _cell_text(get("base"))
    if not name:
        raise ValueError("thiếu họ và tên")
    if not base:
        raise ValueError("thiếu tên đảng bộ/chi bộ cơ sở")
    if len(name) > NAME_MAX:
        raise ValueError(f"họ và tên “{name[:40]}…” dài {len(name)} ký tự, tối đa {NAME_MAX}")
    if any(ch.isdigit() for ch in name):
        raise ValueError(f"họ và tên “{name[:40]}” không hợp lệ")
    for what, value in (("đảng bộ cơ sở", base), ("đảng bộ bộ phận", _cell_text(get("sub"))),
                        ("chi bộ", _cell_text(get("cell")))):
        if len(value) > ORG_NAME_MAX:
            raise ValueError(f"tên {what} “{value[:40]}…” dài {len(value)} ký tự, tối đa "
                             f"{ORG_NAME_MAX}")
    if len(_cell_text(get("code"))) > CODE_MAX:
        raise ValueError(f"mã đảng viên “{_cell_text(get('code'))[:20]}…” dài quá {CODE_MAX} "
                         "ký tự")
    membership = fold(_cell_text(get("membership")))
    if membership not in MEMBERSHIP:
        raise ValueError(f"loại đảng viên “{_cell_text(get('membership'))}” không rõ "
                         "(Chính thức / Dự bị)")
    status = fold(_cell_text(get("status")))
    if status not in STATUS:
        raise ValueError(f"trạng thái “{_cell_text(get('status'))}” không rõ (Đang sinh hoạt / "
                         "Miễn sinh hoạt / Tạm vắng / Đã chuyển đi)")
    phone = "".join(ch for ch in _cell_text(get("phone")) if ch.isdigit() or ch == "+")
    if phone and not 9 <= len(phone.lstrip("+")) <= 12:
        raise ValueError(f"số điện thoại “{_cell_text(get('phone'))}” không hợp lệ")
    follows = [c.strip() for c in _cell_text(get("follows")).replace(";", ",").split(",")
               if c.strip()]
    return _Row(number=number, base=base, sub=_cell_text(get("sub")), cell=_cell_text(get("cell")),
                fee=_parse_fee(get("fee")),
                name=name, code=_cell_text(get("code")).upper(),
                roles=_parse_roles(_cell_text(get("role"))),
                membership=MEMBERSHIP[membership].value, status=STATUS[status],
                exempt_reason=_cell_text(get("exempt_reason"))[:200],
                birth=_parse_birth(get("birth")), phone=phone, follows=follows)


def _key(r: _Row) -> str:
    if r.code:
        return f"code:{r.code}"
    birth = r.birth.isoformat() if r.birth else ""
    key = f"n:{fold(r.base)}/{fold(r.sub)}/{fold(r.cell)}/{fold(r.name)}/{birth}"
    # Long names would overflow the column (300): such keys are hashed, stable all the same.
    return key if len(key) <= 300 else "h:" + hashlib.sha256(key.encode()).hexdigest()


class _Tree:
    """Finds or creates organisation nodes by name path, counting what it creates."""

    def __init__(self, session: Session, bloc_name: str, timezone: str) -> None:
        self.s = session
        self.created = 0
        bloc = session.exec(select(Organisation).where(Organisation.parent_id == None,  # noqa: E711
                                                       Organisation.kind == OrgKind.BLOC.value)
                            ).first()
        if bloc is None:
            bloc = add_org(session, name=bloc_name, kind=OrgKind.BLOC.value, parent=None,
                           timezone=timezone)
            self.created += 1
        self.bloc = bloc
        self._cache: dict[tuple[int, str], Organisation] = {}

    def child(self, parent: Organisation, name: str, kind: str) -> Organisation:
        key = (parent.id or 0, fold(name))
        if key in self._cache:
            return self._cache[key]
        for o in self.s.exec(select(Organisation).where(Organisation.parent_id == parent.id)):
            if fold(o.name) == fold(name):
                if o.kind != kind and {o.kind, kind} == {OrgKind.BASE_CELL.value,
                                                          OrgKind.BASE_COMMITTEE.value}:
                    o.kind = kind  # a chi bộ cơ sở that now has cells becomes a đảng bộ
                    self.s.add(o)
                self._cache[key] = o
                return o
        org = add_org(self.s, name=name, kind=kind, parent=parent)
        self.created += 1
        self._cache[key] = org
        return org

    def place(self, r: _Row, base_kind: str) -> tuple[Organisation, Organisation]:
        base = self.child(self.bloc, r.base, base_kind)
        if not r.cell:
            return base, base
        parent = self.child(base, r.sub, OrgKind.SUB_COMMITTEE.value) if r.sub else base
        return base, self.child(parent, r.cell, OrgKind.CELL.value)


def import_rows(
    engine: Engine, raw_rows: list[list[Any]], *, bloc_name: str, timezone: str
) -> ImportReport:
    report = ImportReport()
    header = _find_header(raw_rows)
    if header is None:
        report.errors.append(RowError(0, "không tìm thấy dòng tiêu đề có cột “Họ và tên” và "
                                         "“Đảng bộ cơ sở”"))
        return report
    head_idx, cols = header
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rows[head_idx + 1:], start=head_idx + 2):
        if not any(_cell_text(c) for c in raw):
            continue
        report.rows += 1
        try:
            row = _parse(i, raw, cols, report.notes)
        except ValueError as exc:
            report.errors.append(RowError(i, str(exc)))
            continue
        key = _key(row)
        if key in seen:
            report.errors.append(RowError(i, f"trùng với dòng {seen[key]}"))
            continue
        seen[key] = i
        parsed.append(row)
    # A base organisation with cells under it is a đảng bộ cơ sở; else a chi bộ cơ sở.
    has_cells = {fold(r.base) for r in parsed if r.cell}
    for r in parsed:
        if any(scope == "cell" for scope, _ in r.roles) and not r.cell \
                and fold(r.base) in has_cells:
            report.errors.append(RowError(r.number, "chức vụ ở chi bộ nhưng thiếu tên chi bộ"))
    if report.errors:
        return report
    with Session(engine) as s:
        tree = _Tree(s, bloc_name, timezone)
        placed = [(r, *tree.place(r, OrgKind.BASE_COMMITTEE.value if fold(r.base) in has_cells
                                   else OrgKind.BASE_CELL.value)) for r in parsed]
        for r, base, cell in placed:
            try:
                _upsert(s, tree, r, base, cell, report)
            except ValueError as exc:
                report.errors.append(RowError(r.number, str(exc)))
        report.orgs_created = tree.created
        if report.errors:
            s.rollback()
            return report
        s.commit()
    return report


def _upsert(s: Session, tree: _Tree, r: _Row, base: Organisation, cell: Organisation,
            report: ImportReport) -> None:
    key = _key(r)
    m = s.exec(select(Member).where(Member.import_key == key)).first()
    values = {
        "party_code": r.code or None, "full_name": r.name, "cell_id": cell.id,
        "membership": r.membership, "exempted": r.status == "exempted",
        "exempt_reason": (r.exempt_reason or None) if r.status == "exempted" else None,
        "on_leave": r.status == "on_leave", "active": r.status != "left",
        "birth_date": r.birth, "phone": r.phone or None,
    }
    if r.fee is not None:  # a sheet without the column keeps what is known
        values["fee_amount"] = r.fee
    created = m is None
    if m is None:
        m = Member(import_key=key, **values)
        s.add(m)
        s.flush()
        changed = True
    else:
        changed = any(getattr(m, k) != v for k, v in values.items())
        for k, v in values.items():
            setattr(m, k, v)
    wanted: set[tuple[int, str]] = set()
    for scope, role in r.roles:
        org = {"cell": cell, "base": base, "bloc": tree.bloc}[scope]
        wanted.add((org.id or 0, role))
    for name in r.follows:
        followed = _find_cell(s, base, name)
        if followed is None:
            raise ValueError(f"chi bộ phụ trách “{name}” không có trong {base.name}")
        wanted.add((followed.id or 0, Role.FOLLOWER.value))
    have = {(ra.org_id, ra.role): ra for ra in
            s.exec(select(RoleAssignment).where(RoleAssignment.member_id == m.id))}
    for k in set(have) - wanted:
        s.delete(have[k])
        changed = True
    for org_id, role in wanted - set(have):
        s.add(RoleAssignment(member_id=m.id or 0, org_id=org_id, role=role))
        changed = True
    if wanted != set(have) and not created:  # a secretary appointed, a role ended
        s.flush()
        refresh_menu(s, m, utcnow())
    if created:
        report.created += 1
    elif changed:
        m.updated_at = utcnow()
        s.add(m)
        report.updated += 1
    else:
        report.unchanged += 1


def _find_cell(s: Session, base: Organisation, name: str) -> Organisation | None:
    for o in s.exec(select(Organisation).where(Organisation.path.startswith(base.path))):
        if o.is_cell and fold(o.name) == fold(name):
            return o
    return None


def import_file(engine: Engine, path: Path | str, *, bloc_name: str,
                timezone: str) -> ImportReport:
    p = Path(path)
    if not p.is_file():
        return ImportReport(errors=[RowError(0, f"không có tệp {p}")])
    try:
        rows = read_rows(p)
    except SheetError as exc:
        return ImportReport(errors=[RowError(0, f"tệp bị từ chối: {exc}")])
    except Exception as exc:  # a corrupt workbook
        return ImportReport(errors=[RowError(0, f"không đọc được tệp: {exc}")])
    return import_rows(engine, rows, bloc_name=bloc_name, timezone=timezone)


def format_report(report: ImportReport) -> Iterable[str]:
    if report.ok:
        yield (f"Đã nhập {report.rows} dòng: {report.created} đảng viên mới, "
               f"{report.updated} cập nhật, {report.unchanged} không đổi; "
               f"{report.orgs_created} tổ chức mới.")
    else:
        yield f"Tệp bị từ chối, không ghi gì vào cơ sở dữ liệu ({len(report.errors)} lỗi):"
        for e in report.errors:
            yield f"  dòng {e.row}: {e.reason}" if e.row else f"  {e.reason}"
    if report.notes:
        yield f"Đã làm sạch {len(report.notes)} ô (xin sửa cả trong tệp gốc):"
        for e in report.notes:
            yield f"  dòng {e.row}: {e.reason}"
