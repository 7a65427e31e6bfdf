"""The month's fees as a form: what the fee button opens, and where "tất cả" asks once for
the amounts it does not know yet.

Step 1 (skipped when /dangphi already gave the items): the month's list with each usual
amount; one tap "all paid at their usual amount", or the items typed as for /dangphi
("tất cả; 8 chưa"). Step 2 (only when some usual amounts are unknown, e.g. the first
month without a "Mức đóng" column): one message listing those members; the secretary
answers with their amounts in that order. Nothing is written before the last answer.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.core.access import led_cells
from handlers.core.context import Ctx
from handlers.fees.payments import Entry, _label, _listing, read_items, record_entries
from handlers.forms import engine as forms
from handlers.forms.amounts import parse_amount
from handlers.forms.engine import Choice, Form, Invalid, Step
from models.i18n import _
from models.member import Member, cell_members
from models.org import Organisation
from models.text import fold

Data = dict[str, Any]
UNPAID = ("chua", "chua dong", "khong", "no", "-")
ALL_PAID = "tất cả"


class FeeForm(Form):
    kind = "fees"
    confirm = False  # a month's fees are re-recorded by sending them again

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        return data.get("cell_id") in led_cells(ctx.actor)

    def _cell(self, ctx: Ctx, data: Data) -> Organisation:
        cell = ctx.session.get(Organisation, data["cell_id"])
        assert cell is not None
        return cell

    def _missing(self, ctx: Ctx, data: Data) -> list[Member]:
        by_id = {m.id: m for m in cell_members(ctx.session, cell_id=data["cell_id"])}
        return [by_id[i] for i in data.get("missing", []) if i in by_id]

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        def listing(c: Ctx, d: Data) -> str:
            cell = self._cell(c, d)
            return _listing(c.session, cell, d["period"],
                            cell_members(c.session, cell_id=cell.id or 0))

        def ask_missing(c: Ctx, d: Data) -> str:
            names = [f"{i}. {m.full_name}" for i, m in enumerate(self._missing(c, d), 1)]
            return "\n".join([
                _("Chưa biết mức đóng của {n} đồng chí:").format(n=len(names)), *names,
                _("Đồng chí gửi số tiền của từng người theo thứ tự trên, cách nhau bằng dấu "
                  "chấm phẩy, ví dụ “100.000; 90k; chưa” (“chưa” là chưa đóng). Lần sau bot "
                  "nhớ mức này.")])

        return [
            Step("items", listing,
                 choices=lambda c, d: [Choice(ALL_PAID, _("✅ Tất cả đã đóng theo mức thường "
                                                          "lệ"))],
                 parse=lambda c, d, t: t.strip()[:2000],
                 when=lambda c, d: not d.get("given")),
            Step("amounts", ask_missing, parse=self._amounts,
                 when=lambda c, d: bool(d.get("missing"))),
        ]

    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        if step.name == "items":
            entries, errors, missing = read_items(ctx, self._cell(ctx, data), data["period"],
                                                  str(value))
            if errors or not (entries or missing):
                raise Invalid("\n".join(errors or [_("Không có mục nào để ghi.")]))
            data["entries"] = [[e.member.id, e.paid, e.amount] for e in entries]
            data["missing"] = [m.id for m in missing]
            return
        data[step.name] = value

    def _amounts(self, ctx: Ctx, data: Data, text: str) -> list[list[Any]]:
        missing = self._missing(ctx, data)
        parts = [p.strip() for p in re.split(r"[;\n]+", text) if p.strip()]
        if len(parts) != len(missing):
            raise Invalid(_("Cần {n} số tiền theo thứ tự, nhận được {k}. Các số cách nhau bằng "
                            "dấu chấm phẩy “;”.").format(n=len(missing), k=len(parts)))
        out: list[list[Any]] = []
        errors = []
        for i, (m, part) in enumerate(zip(missing, parts, strict=True), 1):
            if fold(part) in UNPAID:
                out.append([m.id, False, 0])
                continue
            try:
                out.append([m.id, True, parse_amount(
                    part, max_amount=ctx.settings.year.fee_max_amount)])
            except Invalid as exc:
                errors.append(f"{i}. {m.full_name}: {exc}")
        if errors:
            raise Invalid("\n".join(errors))
        return out

    def summary(self, ctx: Ctx, data: Data) -> str:
        return _("Đảng phí tháng {month}").format(month=_label(data["period"]))

    def finish(self, ctx: Ctx, data: Data) -> None:
        by_id = {m.id: m for m in cell_members(ctx.session, cell_id=data["cell_id"])}
        entries = [Entry(by_id[mid], bool(paid), int(amount))
                   for mid, paid, amount in [*data.get("entries", []), *data.get("amounts", [])]
                   if mid in by_id]
        if not entries:
            ctx.reply(_("Không có mục nào để ghi."))
            return
        record_entries(ctx, self._cell(ctx, data), data["period"], entries)


forms.register(FeeForm())
