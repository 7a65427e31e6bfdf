"""Deny by default: who sees which cell."""

from sqlmodel import Session, select

from models.org import Organisation
from tests.helpers import Driver


def _cell_id(driver: Driver, name: str, base: str) -> int:
    with Session(driver.app.engine) as s:
        base_org = s.exec(select(Organisation).where(Organisation.name == base)).one()
        cell = s.exec(select(Organisation).where(Organisation.name == name,
                                                 Organisation.parent_id == base_org.id)).one()
        return cell.id or 0


async def test_member_sees_own_cell_but_not_another(driver: Driver) -> None:
    own = _cell_id(driver, "Chi bộ Văn phòng Sở", "Đảng bộ Sở Tài chính")
    other = _cell_id(driver, "Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
    out = await driver.say("Phạm Thị Thu Hà", f"/chibo {own}")
    assert "Nguyễn Văn An" in out[0]
    out = await driver.say("Phạm Thị Thu Hà", f"/chibo {other}")
    assert "không có quyền" in out[0] and "Dương Văn Thành" not in out[0]


async def test_officer_sees_subtree_only(driver: Driver) -> None:
    # Nguyễn Văn An is officer of Đảng bộ Sở Tài chính, not of Sở Giáo dục.
    inside = _cell_id(driver, "Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
    outside = _cell_id(driver, "Chi bộ Phòng Giáo dục Trung học",
                       "Đảng bộ Sở Giáo dục và Đào tạo")
    assert "Dương Văn Thành" in (await driver.say("Nguyễn Văn An", f"/chibo {inside}"))[0]
    assert "không có quyền" in (await driver.say("Nguyễn Văn An", f"/chibo {outside}"))[0]


async def test_bloc_officer_sees_every_cell(driver: Driver) -> None:
    far = _cell_id(driver, "Chi bộ Phòng Giáo dục Trung học", "Đảng bộ Sở Giáo dục và Đào tạo")
    out = await driver.say("Đỗ Mạnh Cường", f"/chibo {far}")
    assert "Lâm Văn Sơn" in out[0]


async def test_secretary_codes_only_for_own_cell(driver: Driver) -> None:
    out = await driver.say("Dương Văn Thành", "/code Lâm Văn Sơn")
    assert "Không tìm thấy" in out[0]
    out = await driver.say("Phạm Thị Thu Hà", "/code Ngô Thị Mai")
    assert "không có quyền" in out[0]
