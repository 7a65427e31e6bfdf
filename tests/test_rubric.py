from pathlib import Path

import pytest

from models.rubric import RubricError, available, load_rubric

RUBRICS = Path(__file__).resolve().parent.parent / "locales" / "rubrics"


def test_shipped_rubrics_load_and_add_up() -> None:
    assert {"hd42-2025", "phutho-2024", "binhthuan-2025"} <= set(available(RUBRICS))
    for rid in available(RUBRICS):
        r = load_rubric(RUBRICS, rid)
        assert sum(g.max for g in r.groups) == r.total == 100
        assert r.document and r.version
    assert len(load_rubric(RUBRICS, "phutho-2024").groups) == 4


def test_thematic_points_move_to_regular_content() -> None:
    r = load_rubric(RUBRICS, "hd42-2025")
    regular, thematic = r.criterion("conduct_regular"), r.criterion("conduct_thematic")
    assert r.effective_max(regular, thematic=False) == 15
    assert r.effective_max(thematic, thematic=False) == 0
    assert r.effective_max(regular, thematic=True) == 10
    assert r.effective_max(thematic, thematic=True) == 5


def _full(r, thematic=False):  # type: ignore[no-untyped-def]
    return {c.id: r.effective_max(c, thematic) for c in r.criteria()}


def test_bands_and_band_conditions() -> None:
    hd = load_rubric(RUBRICS, "hd42-2025")
    pts = _full(hd)
    assert hd.rate(pts, False) == (100, "tot")
    pts["results_tasks"] = 20  # 90
    assert hd.rate(pts, False) == (90, "tot")
    pts["results_tasks"] = 0  # 70
    assert hd.rate(pts, False) == (70, "kha")
    pts["conduct_regular"] = 0  # 55
    assert hd.rate(pts, False) == (55, "trung_binh")
    pts["chair_steer"] = 0
    pts["prep_content"] = 0  # 48
    assert hd.rate(pts, False) == (48, "kem")
    bt = load_rubric(RUBRICS, "binhthuan-2025")
    pts = _full(bt)
    pts["attendance"] = 4  # 99 points, but attendance is not full: Khá, not Tốt
    assert bt.rate(pts, False) == (99, "kha")
    assert hd.rate(pts, False) == (99, "tot")


@pytest.mark.parametrize(("body", "message"), [
    ("groups[0].max = 6", "add up"),
    ("bands[3].min = 10", "cover 0"),
    ('bands[0].requires_full = ["nope"]', "unknown criteria"),
    ("bands[1].min = 95", "highest minimum down"),
])
def test_broken_rubrics_are_refused(tmp_path: Path, body: str, message: str) -> None:
    import json
    import tomllib

    src = tomllib.loads((RUBRICS / "hd42-2025.toml").read_text(encoding="utf-8"))
    target, _, value = body.partition(" = ")
    node: object = src
    parts = target.replace("]", "").split(".")
    for part in parts[:-1]:
        name, _, idx = part.partition("[")
        node = node[name][int(idx)] if idx else node[name]  # type: ignore[index]
    last, _, idx = parts[-1].partition("[")
    node[last] = json.loads(value)  # type: ignore[index]
    (tmp_path / "bad.toml").write_text(_dump(src), encoding="utf-8")
    with pytest.raises(RubricError, match=message):
        load_rubric(tmp_path, "bad")


def _dump(data: dict) -> str:  # type: ignore[type-arg]
    import json

    lines = []
    for k, v in data.items():
        if not isinstance(v, list):
            lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
    for table in ("bands", "groups"):
        for item in data[table]:
            lines.append(f"[[{table}]]")
            for k, v in item.items():
                if k != "criteria":
                    lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
            for c in item.get("criteria", []):
                lines.append(f"[[{table}.criteria]]")
                for ck, cv in c.items():
                    if isinstance(cv, dict):
                        pairs = ", ".join(f"{a} = {json.dumps(b)}" for a, b in cv.items())
                        cv_s = "{" + pairs + "}"
                        lines.append(f"{ck} = {cv_s}")
                    else:
                        lines.append(f"{ck} = {json.dumps(cv, ensure_ascii=False)}")
    return "\n".join(lines)


def test_yearly_meeting_quality_rating() -> None:
    pt = load_rubric(RUBRICS, "phutho-2024")  # Tốt: every meeting Khá or better, 7 Tốt
    assert pt.rate_year({"tot": 7, "kha": 5}, 88.0) == "tot"
    assert pt.rate_year({"tot": 6, "kha": 6}, 91.0) == "kha"  # the mean never gives Tốt
    assert pt.rate_year({"tot": 11, "trung_binh": 1}, 92.0) == "kha"  # one below Khá
    assert pt.rate_year({"kha": 2, "trung_binh": 10}, 60.0) == "trung_binh"
    assert pt.rate_year({"kem": 3}, 40.0) == "kem"
    assert pt.rate_year({}, None) is None
    hd = load_rubric(RUBRICS, "hd42-2025")  # no rule: the band of the year's mean score
    assert hd.rate_year({"tot": 1, "kha": 2}, 85.5) == "kha"
    assert hd.rate_year({"tot": 3}, 90.0) == "tot"


@pytest.mark.parametrize(("rules", "message"), [
    ([{"id": "tot", "all_at_least": "kha"}], "last yearly rule"),
    ([{"id": "tot", "count_at_least": {"xuat_sac": 2}}, {"id": "kem"}], "yearly"),
])
def test_broken_yearly_rules_are_refused(rules: list, message: str) -> None:  # type: ignore[type-arg]
    from pydantic import ValidationError

    from models.rubric import Rubric

    data = load_rubric(RUBRICS, "hd42-2025").model_dump()
    data["yearly"] = rules
    with pytest.raises(ValidationError, match=message):
        Rubric.model_validate(data)
