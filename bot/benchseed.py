"""`chibot bench-seed`: a bloc-scale data set for the query benchmarks.

Defaults: 100 base organisations × 5 cells = 500 cells, 16 members each (8,000), ten
years of monthly regular meetings (60,000), their roll calls (~960,000 rows) and scores.
Bulk inserts through SQLAlchemy Core; deterministic for a given seed.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member, RoleAssignment
from models.org import Organisation
from models.score import Score

RATINGS = ((90, "tot"), (70, "kha"), (50, "trung_binh"), (0, "kem"))


def _rating(total: float) -> str:
    return next(r for lo, r in RATINGS if total >= lo)


def seed(engine: Engine, *, bases: int = 100, cells_per_base: int = 5,
         members_per_cell: int = 16, years: int = 10, last_year: int = 2026,
         rng_seed: int = 1, log=print) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rng = random.Random(rng_seed)
    started = time.perf_counter()
    with Session(engine) as s:
        bloc = Organisation(name="Đảng bộ Khối (bench)", kind="bloc", path="")
        s.add(bloc)
        s.flush()
        bloc.path = f"/{bloc.id}/"
        orgs: list[dict] = []  # type: ignore[type-arg]
        next_id = (bloc.id or 0) + 1
        cell_ids: list[int] = []
        for b in range(bases):
            bid = next_id
            next_id += 1
            orgs.append({"id": bid, "parent_id": bloc.id, "kind": "base_committee",
                         "name": f"Đảng bộ cơ sở {b + 1:03d}", "path": f"{bloc.path}{bid}/",
                         "timezone": "Asia/Ho_Chi_Minh", "locale": "vi", "active": True,
                         "created_at": datetime.now(UTC)})
            for c in range(cells_per_base):
                cid = next_id
                next_id += 1
                cell_ids.append(cid)
                orgs.append({"id": cid, "parent_id": bid, "kind": "cell",
                             "name": f"Chi bộ {c + 1}", "path": f"{bloc.path}{bid}/{cid}/",
                             "timezone": "Asia/Ho_Chi_Minh", "locale": "vi", "active": True,
                             "created_at": datetime.now(UTC)})
        s.execute(insert(Organisation), orgs)
        now = datetime.now(UTC)
        members = [{"import_key": f"bench:{cid}:{i}", "full_name": f"Đảng viên {cid}-{i}",
                    "cell_id": cid, "membership": "full", "exempted": i == 15,
                    "on_leave": False, "active": True, "created_at": now, "updated_at": now}
                   for cid in cell_ids for i in range(members_per_cell)]
        s.execute(insert(Member), members)
        s.flush()
        member_ids = {cid: [] for cid in cell_ids}  # type: ignore[var-annotated]
        for mid, cid in s.execute(text("SELECT id, cell_id FROM member WHERE import_key "
                                       "LIKE 'bench:%' ORDER BY id")):
            member_ids[cid].append(mid)
        s.execute(insert(RoleAssignment), [
            {"member_id": member_ids[cid][0], "org_id": cid, "role": "secretary"}
            for cid in cell_ids])
        s.commit()
        log(f"  tree and {len(members)} members in {time.perf_counter() - started:.1f}s")
        counts = {"cells": len(cell_ids), "members": len(members), "meetings": 0,
                  "attendance": 0}
        for y in range(last_year - years + 1, last_year + 1):
            meetings = []
            for m in range(1, 13):
                at = datetime(y, m, 3, 0, 30, tzinfo=UTC)
                for cid in cell_ids:
                    held = rng.random() > 0.03
                    meetings.append({
                        "cell_id": cid, "kind": "regular", "seq": 0, "period": f"{y}-{m:02d}",
                        "scheduled_at": at, "timezone": "Asia/Ho_Chi_Minh", "duration_min": 90,
                        "status": "held" if held else "planned", "started_at": at if held else None,
                        "ended_at": at + timedelta(minutes=rng.choice((80, 95, 110)))
                        if held else None, "speakers_count": rng.randint(3, 9) if held else None,
                        "thematic_part": m % 3 == 0, "revision": 0, "agenda_rev": 0,
                        "manual_time": False, "created_at": now, "updated_at": now})
            ids = list(s.execute(insert(Meeting).returning(Meeting.id, Meeting.cell_id,
                                                           Meeting.status), meetings))
            att, scores = [], []
            for mid, cid, status in ids:
                if status != "held":
                    continue
                for i, member in enumerate(member_ids[cid]):
                    r = rng.random()
                    st = "exempted" if i == 15 else ("present" if r < 0.88 else "late"
                                                     if r < 0.92 else "excused" if r < 0.98
                                                     else "unexcused")
                    att.append({"meeting_id": mid, "member_id": member, "status": st})
                total = rng.choice((72, 81, 86, 90, 92, 95, 63))
                scores.append({"meeting_id": mid, "kind": "cell", "revision": 1,
                               "is_current": True, "rubric_id": "hd42-2025",
                               "rubric_version": "2025.10", "total": total,
                               "rating": _rating(total), "submitted_at": now})
            for i in range(0, len(att), 20_000):
                s.execute(insert(Attendance), att[i:i + 20_000])
            s.execute(insert(Score), scores)
            s.commit()
            counts["meetings"] += len(ids)
            counts["attendance"] += len(att)
            log(f"  {y}: {len(ids)} meetings, {len(att)} roll-call rows "
                f"({time.perf_counter() - started:.1f}s)")
    analyze(engine)
    log(f"  statistics gathered (ANALYZE; VACUUM too on PostgreSQL) "
        f"({time.perf_counter() - started:.1f}s)")
    return counts


# Rows the triggers of migrations 0016-0018 update once per roll call or score loaded (a
# meeting's ~15 times, a member's year ~12 times): ten years loaded at once leave PostgreSQL
# ~10 dead versions of each, which a server gathering that history month by month reclaims
# as it goes (autovacuum; new versions reuse the space). Rewritten compactly, as they would
# be there: meeting 172 -> 11 MB, member_year_attendance 46 -> 4 MB on the 10-year bloc,
# whose seq and bitmap scans read every dead version (the year lists' levels 43 -> 24 ms).
REWRITTEN = ("meeting", "member_year_attendance")


def analyze(engine: Engine) -> None:
    """Planner statistics after a bulk load: without them PostgreSQL plans the year
    summary as if the tables were empty (49 s instead of ~0.1 s on the 10-year bloc).
    On PostgreSQL also VACUUM, as autovacuum soon does after a load in production: its
    visibility map lets the year queries read the covering attendance index alone; and
    the tables the triggers rewrote row by row compacted (REWRITTEN)."""
    pg = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if pg:
            conn.execute(text(f"VACUUM (FULL) {', '.join(REWRITTEN)}"))
        conn.execute(text("VACUUM ANALYZE" if pg else "ANALYZE"))
