"""`chibot member-data export|erase`: one member's personal data (Nghị định 13/2023) after
a played month, written out as JSON and erased under a pseudonym, with the cell's minutes
and attendance figures unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.__main__ import main
from bot.demo import run_demo
from handlers.records.data import minutes_data
from handlers.records.doctext import minutes_text
from models.attendance import Attendance
from models.audit import AuditEntry
from models.db import make_engine
from models.form import FormState
from models.meeting import Meeting
from models.member import Identity, LinkCode, Member
from models.org import Organisation
from models.outbox import OutboxMessage
from models.records import Opinion
from models.settings import Settings

OANH = "Lý Thị Kim Oanh"  # present, spoke, presented an agenda item, took the minutes


@pytest.fixture
async def played(settings: Settings, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Settings:
    summary = await run_demo(settings, keep=True, write=lambda _line: None,
                             out_dir=tmp_path / "demo")
    assert summary["status"] == "held"
    monkeypatch.setenv("CHIBOT_DATABASE__URL", settings.database_url)
    monkeypatch.setenv("CHIBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CHIBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return settings


def _member(s: Session, name: str) -> Member:
    return s.exec(select(Member).where(Member.full_name == name)).one()


def _minutes(s: Session) -> tuple[object, str]:
    meeting = s.exec(select(Meeting).where(Meeting.status == "held")).one()
    cell = s.get(Organisation, meeting.cell_id)
    assert cell is not None
    d = minutes_data(s, meeting, cell, "Hà Tĩnh")
    figures = (d.total, d.due, d.present, len(d.absent), len(d.opinions), d.vote,
               len(d.tasks), [a.excused for a in d.absent])
    return figures, minutes_text(d)


def test_export_writes_everything_stored_about_the_member(
        played: Settings, tmp_path: Path) -> None:
    out = tmp_path / "oanh.json"
    assert main(["member-data", "export", "--member", OANH, "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    engine = make_engine(played.database_url)
    with Session(engine) as s:
        oanh = _member(s, OANH)
        n_att = len(s.exec(select(Attendance).where(Attendance.member_id == oanh.id)).all())
        n_ops = len(s.exec(select(Opinion).where(Opinion.member_id == oanh.id)).all())
        n_msgs = len(s.exec(select(OutboxMessage).where(
            OutboxMessage.chat_id == f"dm-{oanh.id}")).all())
    engine.dispose()
    assert data["member"]["full_name"] == OANH and data["member"]["cell"]
    assert data["member"]["id"] == oanh.id
    assert {a["platform"] for a in data["accounts"]} == {"console"}
    assert len(data["attendance"]) == n_att >= 1
    assert data["attendance"][0]["status"] == "present"
    assert data["attendance"][0]["meeting"]["period"] == "2026-12"
    assert len(data["opinions"]) == n_ops >= 1
    assert data["minutes_roles"] == [{"meeting": data["attendance"][0]["meeting"],
                                      "chair": False, "minute_taker": True}]
    assert any(m["table"] == "agendaitem" and OANH in m["text"] for m in data["mentions"])
    assert len(data["messages"]) == n_msgs >= 1  # the reminders she was sent
    for key in ("roles", "fees", "tasks", "scores_submitted", "classification", "audit",
                "forms", "join_requests", "link_codes", "guest_at"):
        assert isinstance(data[key], list), key
    # Unknown and ambiguous names change nothing and say so.
    assert main(["member-data", "export", "--member", "Không Có Ai"]) == 1


def test_erase_needs_yes_and_a_member_who_left(played: Settings,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["member-data", "erase", "--member", OANH]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["member-data", "erase", "--member", OANH, "--yes"]) == 1
    assert "vẫn đang sinh hoạt" in capsys.readouterr().err
    engine = make_engine(played.database_url)
    with Session(engine) as s:
        oanh = _member(s, OANH)  # untouched
        assert s.exec(select(Identity).where(Identity.member_id == oanh.id)).first()
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "member.erased")).first() \
            is None
    engine.dispose()


def test_erase_pseudonymises_and_keeps_the_records_true(
        played: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(played.database_url)
    with Session(engine) as s:
        oanh = _member(s, OANH)
        mid = oanh.id
        oanh.active = False  # she has moved to another cell
        oanh.phone = "0912345678"
        s.add(FormState(platform="console", chat_id=f"dm-{mid}", user_id=f"m{mid}",
                        kind="profile", step="x", data={"name": OANH}))
        s.add(LinkCode(code="ERASEME1", purpose="member", member_id=mid,
                       expires_at=oanh.created_at))
        s.commit()
        figures_before, text_before = _minutes(s)
    assert OANH in text_before

    assert main(["member-data", "erase", "--member", OANH, "--yes"]) == 0
    assert f"Đảng viên #{mid}" in capsys.readouterr().out

    with Session(engine) as s:
        m = s.get(Member, mid)
        assert m is not None and m.full_name == f"Đảng viên #{mid}"
        assert (m.phone, m.birth_date, m.party_code) == (None, None, None)
        assert OANH not in m.import_key
        for model, where in ((Identity, Identity.member_id == mid),
                             (LinkCode, LinkCode.member_id == mid),
                             (FormState, FormState.user_id == f"m{mid}"),
                             (OutboxMessage, OutboxMessage.chat_id == f"dm-{mid}")):
            assert s.exec(select(model).where(where)).first() is None, model
        assert s.exec(select(Attendance).where(Attendance.member_id == mid)).first()
        # Her opinions keep their place in the minutes, under the pseudonym.
        ops = s.exec(select(Opinion).where(Opinion.member_id == mid)).all()
        assert ops and all(o.speaker == f"Đảng viên #{mid}" for o in ops)
        figures_after, text_after = _minutes(s)
        assert figures_after == figures_before  # the counts stay true
        assert OANH not in text_after and f"Đảng viên #{mid}" in text_after
        assert "Kim Oanh" not in json.dumps(
            [o.payload for o in s.exec(select(OutboxMessage))], ensure_ascii=False)
        erased = s.exec(select(AuditEntry).where(AuditEntry.action == "member.erased")).one()
        assert erased.entity_id == mid and erased.detail["accounts"] == 1
        assert OANH not in json.dumps(erased.detail, ensure_ascii=False)
    # Other members are untouched.
    with Session(engine) as s:
        assert _member(s, "Hồ Đức Thắng").full_name == "Hồ Đức Thắng"
    engine.dispose()
