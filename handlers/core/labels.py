"""Display names for stored enum values, translated at use time."""

from __future__ import annotations

from typing import Any

from models.i18n import N_, _
from models.text import fold

_LABELS: dict[str, str] = {
    # roles
    "secretary": N_("Bí thư"),
    "deputy": N_("Phó Bí thư"),
    "committee": N_("Chi ủy viên"),
    "follower": N_("Cấp ủy viên phụ trách"),
    "officer": N_("Cán bộ theo dõi"),
    # membership
    "full": N_("chính thức"),
    "probationary": N_("dự bị"),
    # meeting kinds
    "regular": N_("Sinh hoạt thường kỳ"),
    "thematic": N_("Sinh hoạt chuyên đề"),
    "extraordinary": N_("Sinh hoạt đột xuất"),
    "committee_meeting": N_("Họp chi ủy"),
    "forum": N_("Diễn đàn"),
    # meeting status
    "planned": N_("đã lên lịch"),
    "in_progress": N_("đang họp"),
    "held": N_("đã họp"),
    "not_held": N_("không đủ điều kiện / không tổ chức"),
    "cancelled": N_("đã hủy"),
    # presence
    "present": N_("Có mặt"),
    "late": N_("Đến muộn"),
    "excused": N_("Vắng có lý do"),
    "unexcused": N_("Vắng không lý do"),
    "exempted": N_("Miễn sinh hoạt"),
    # ratings
    "tot": N_("Tốt"),
    "kha": N_("Khá"),
    "trung_binh": N_("Trung bình"),
    "kem": N_("Kém"),
    # org kinds
    "bloc": N_("Đảng bộ Khối"),
    "base_committee": N_("Đảng bộ cơ sở"),
    "sub_committee": N_("Đảng bộ bộ phận"),
    "base_cell": N_("Chi bộ cơ sở"),
    "cell": N_("Chi bộ"),
    "group": N_("Tổ đảng"),
    # annual classification levels (Quy định 366-QĐ/TW)
    "htxsnv": N_("Hoàn thành xuất sắc nhiệm vụ"),
    "httnv": N_("Hoàn thành tốt nhiệm vụ"),
    "htnv": N_("Hoàn thành nhiệm vụ"),
    "khtnv": N_("Không hoàn thành nhiệm vụ"),
}


def label(value: str | None) -> str:
    if value is None:
        return "—"
    text = _LABELS.get(value)
    return _(text) if text else value


def meeting_kind_label(kind: str) -> str:
    return label("committee_meeting" if kind == "committee" else kind)


def cell_label(name: str, parent: str | None) -> str:
    """A cell with its parent, so same-name cells can be told apart:
    "Chi bộ Văn phòng Sở — Đảng bộ Sở Nội vụ"."""
    return f"{name} — {parent}" if parent else name


def group_of(title: str | None, cell: str) -> str:
    """"nhóm Zalo CB Văn phòng của Chi bộ Văn phòng", but never "nhóm Chi bộ X của Chi bộ
    X": a group named after its cell is just the cell's group."""
    if not title or fold(cell) in fold(title) or fold(title) in fold(cell):
        return _("nhóm của {cell}").format(cell=cell)
    return _("nhóm {title} của {cell}").format(title=title, cell=cell)


def rubric_source(rubric: Any) -> str:
    """What a secretary is shown of a rubric's source: its document, or that it is only an
    example (an unsourced rubric is never presented as a province's)."""
    if rubric.example:
        return _("VÍ DỤ MINH HỌA, không phải văn bản của địa phương nào ({doc})").format(
            doc=rubric.document)
    return _("{number} ngày {date} của {issuer}").format(
        number=rubric.document_number, date=rubric.document_date, issuer=rubric.issuer)
