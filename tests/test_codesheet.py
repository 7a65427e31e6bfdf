"""`chibot code --cell X --all`: one printable sheet with a card per member (name, a fresh
one-time code, a QR code of the bot's deep link) and the cell's group code; every code on
it redeems through /start (members) and /link (the group)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlmodel import Session, select

from bot.__main__ import main
from bot.app import App
from handlers.onboarding.codesheet import _qr_png
from models.member import CODE_ALPHABET, Identity, LinkCode, Member, cell_members
from models.messages import Chat, Incoming, Sender
from models.org import ChatBinding, Organisation
from tests.helpers import QLNS, SEC


@pytest.fixture
def cli_env(sample: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("CHIBOT_DATABASE__URL", sample.settings.database_url)
    monkeypatch.setenv("CHIBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CHIBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return sample


def _cards(path: Path) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The sheet's text before the cards, and (name, code, QR picture bytes) per card."""
    doc = Document(str(path))
    intro = "\n".join(p.text for p in doc.paragraphs)
    cards = []
    for row in doc.tables[0].rows:
        for cell in row.cells:
            texts = [p.text for p in cell.paragraphs if p.text]
            if not texts:
                continue  # the empty end of the last row
            blips = cell._tc.findall(".//" + qn("a:blip"))
            assert len(blips) == 1
            blob = doc.part.related_parts[blips[0].get(qn("r:embed"))].blob
            name, code, start = texts
            assert start == f"/start {code}"
            cards.append((name, code, blob))
    return intro, cards


def _tg(text: str, user: str, uid: str, chat: Chat | None = None) -> Incoming:
    return Incoming(platform="telegram", update_id=uid, chat=chat or Chat(user, "private"),
                    sender=Sender(user, "Đảng viên"), text=text)


def test_sheet_has_one_redeemable_code_per_member(cli_env: App, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    app = cli_env
    monkeypatch.setenv("CHIBOT_TELEGRAM__BOT_USERNAME", "@chibo_test_bot")
    out = tmp_path / "sheet.docx"
    assert main(["code", "--cell", QLNS, "--all", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    intro, cards = _cards(out)
    with Session(app.engine) as s:
        cell = s.exec(select(Organisation).where(Organisation.name == QLNS)).one()
        members = {m.full_name: m.id for m in cell_members(s, cell_id=cell.id or 0)}
        group = s.exec(select(LinkCode).where(LinkCode.purpose == "chat")).one()
        issued = {c.code: c for c in s.exec(select(LinkCode).where(LinkCode.purpose == "member"))}
    assert sorted(n for n, _c, _b in cards) == sorted(members)  # one card per member
    assert len({c for _n, c, _b in cards}) == len(cards) == len(issued)
    for name, code, blob in cards:
        assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
        assert issued[code].member_id == members[name]  # the card's code is that member's
        assert blob == _qr_png(f"https://t.me/chibo_test_bot?start={code}").getvalue()
    assert f"/link {group.code}" in intro and group.org_id == cell.id
    assert "@chibo_test_bot" in intro and group.code in printed
    assert "bot_username" not in printed

    # Every code redeems in the chat: each member links a Telegram account with /start.
    for i, (_name, code, _b) in enumerate(cards):
        app.handle(_tg(f"/start {code}", user=str(5000 + i), uid=f"s{i}"))
    with Session(app.engine) as s:
        linked = {i.member_id: i.platform_user_id for i in s.exec(
            select(Identity).where(Identity.platform == "telegram"))}
        assert linked == {members[name]: str(5000 + i) for i, (name, _c, _b) in enumerate(cards)}
        assert all(c.used_at for c in s.exec(select(LinkCode).where(LinkCode.purpose == "member")))
    # ... and the secretary binds the group with the sheet's group code.
    sec_user = linked[members[SEC]]
    app.handle(_tg(f"/link {group.code}", user=sec_user, uid="g1",
                   chat=Chat("-1001", "group", "Chi bộ QLNS")))
    with Session(app.engine) as s:
        binding = s.exec(select(ChatBinding).where(ChatBinding.chat_id == "-1001")).one()
        assert binding.org_id == cell.id and binding.active


def test_sheet_without_bot_username_holds_the_code_and_says_so(
        cli_env: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CHIBOT_TELEGRAM__BOT_USERNAME", raising=False)
    assert main(["code", "--cell", QLNS, "--all"]) == 0
    printed = capsys.readouterr().out
    assert "telegram.bot_username" in printed
    sheet = tmp_path / "ma-lien-ket-chi-bo-phong-quan-ly-ngan-sach.docx"
    intro, cards = _cards(sheet)
    # the deployer is told the config key; the members' sheet only says what the QR holds
    assert "Mã QR trên phiếu chỉ chứa mã." in intro and "bot_username" not in intro
    assert cards and all(blob == _qr_png(code).getvalue() for _n, code, blob in cards)


def test_all_needs_a_cell_and_issues_nothing_otherwise(cli_env: App,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["code", "--member", SEC, "--all"]) == 2
    assert "--all" in capsys.readouterr().err
    assert main(["code", "--cell", "Chi bộ không có", "--all"]) == 1
    with Session(cli_env.engine) as s:
        assert s.exec(select(LinkCode)).first() is None
        assert s.exec(select(Member)).first() is not None
