"""each member's roll calls of a year, counted in a table kept true by triggers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 05:00:00

The year's classification of a bloc added up its 93,000 roll-call rows per member on every
cold view of the year lists (60-80 ms, the lists' longest part); with the counts kept per
member and year it reads 8,000 rows. As 0016 does for a meeting's counts, database
triggers keep them equal to the sums over ``attendance`` joined to held and not-held
meetings of the year, whatever writes either table (the ORM, bulk inserts, a meeting
marked held after its roll call, a period moved, a hand-written fix), on SQLite and
PostgreSQL alike; tests/test_member_year_counts.py checks random edits of both tables.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "member_year_attendance"
# What each count counts (models.reports.DUE / ATTENDED, "unexcused", "excused"); a NULL
# status (an RSVP without a roll call) counts nowhere.
TESTS = {"due": "IN ('present', 'late', 'excused', 'unexcused')",
         "attended": "IN ('present', 'late')",
         "unexcused": "= 'unexcused'",
         "excused": "= 'excused'"}
COUNTED = "IN ('held', 'not_held')"  # the meetings a year's record adds up


def _year(period: str) -> str:
    return f"CAST(substr({period}, 1, 4) AS INTEGER)"


def _sqlite_triggers() -> list[str]:
    def row_year(row: str) -> str:  # NULL when the row's meeting does not count
        return (f"(SELECT {_year('m.period')} FROM meeting m WHERE m.id = {row}.meeting_id "
                f"AND m.status {COUNTED})")

    def apply(row: str, sign: str) -> str:
        sets = ", ".join(f"{c} = {c} {sign} (COALESCE({row}.status, '') {t})"
                         for c, t in TESTS.items())
        add = (f"INSERT OR IGNORE INTO {TABLE} (member_id, year) SELECT {row}.member_id, "
               f"{row_year(row)} WHERE {row_year(row)} IS NOT NULL; " if sign == "+" else "")
        return (f"{add}UPDATE {TABLE} SET {sets} WHERE member_id = {row}.member_id "
                f"AND year = {row_year(row)};")

    def meeting(row: str, sign: str) -> str:
        """Every roll call of meeting ``row`` added or taken off, if it counts."""
        def of(col: str) -> str:
            return (f"(SELECT COALESCE(a.status, '') {TESTS[col]} FROM attendance a "
                    f"WHERE a.meeting_id = {row}.id AND a.member_id = {TABLE}.member_id)")
        sets = ", ".join(f"{c} = {c} {sign} {of(c)}" for c in TESTS)
        where = (f"{row}.status {COUNTED} AND year = {_year(row + '.period')} AND member_id "
                 f"IN (SELECT member_id FROM attendance WHERE meeting_id = {row}.id)")
        add = (f"INSERT OR IGNORE INTO {TABLE} (member_id, year) SELECT member_id, "
               f"{_year(row + '.period')} FROM attendance WHERE meeting_id = {row}.id "
               f"AND {row}.status {COUNTED}; " if sign == "+" else "")
        return f"{add}UPDATE {TABLE} SET {sets} WHERE {where};"

    return [
        f"CREATE TRIGGER trg_{TABLE}_ins AFTER INSERT ON attendance "
        f"BEGIN {apply('NEW', '+')} END",
        f"CREATE TRIGGER trg_{TABLE}_del AFTER DELETE ON attendance "
        f"BEGIN {apply('OLD', '-')} END",
        f"CREATE TRIGGER trg_{TABLE}_upd AFTER UPDATE OF status, meeting_id, member_id "
        "ON attendance WHEN OLD.status IS NOT NEW.status OR OLD.meeting_id != NEW.meeting_id "
        f"OR OLD.member_id != NEW.member_id BEGIN {apply('OLD', '-')} {apply('NEW', '+')} END",
        f"CREATE TRIGGER trg_{TABLE}_meeting AFTER UPDATE OF status, period ON meeting "
        "WHEN OLD.status IS NOT NEW.status OR OLD.period IS NOT NEW.period "
        f"BEGIN {meeting('OLD', '-')} {meeting('NEW', '+')} END",
    ]


def _pg_triggers() -> list[str]:
    def of(row: str, col: str) -> str:
        return f"(COALESCE({row}.status, '') {TESTS[col]})::int"

    def values(row: str) -> str:
        return ", ".join(of(row, c) for c in TESTS)

    upsert = (f"ON CONFLICT (year, member_id) DO UPDATE SET "
              + ", ".join(f"{c} = {TABLE}.{c} + EXCLUDED.{c}" for c in TESTS))
    cols = "member_id, year, " + ", ".join(TESTS)

    def row_year(row: str) -> str:
        return (f"SELECT {_year('period')} INTO y FROM meeting WHERE id = {row}.meeting_id "
                f"AND status {COUNTED};")

    take = ", ".join(f"{c} = {c} - {of('OLD', c)}" for c in TESTS)
    meeting_take = ", ".join(f"{c} = t.{c} - d.{c}" for c in TESTS)
    return [
        f"CREATE FUNCTION {TABLE}_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE y int; BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {row_year('OLD')} "
        f"IF y IS NOT NULL THEN UPDATE {TABLE} SET {take} "
        "WHERE member_id = OLD.member_id AND year = y; END IF; END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN y := NULL; {row_year('NEW')} "
        f"IF y IS NOT NULL THEN INSERT INTO {TABLE} ({cols}) VALUES (NEW.member_id, y, "
        f"{values('NEW')}) {upsert}; END IF; END IF; "
        "RETURN NULL; END $$",
        f"CREATE FUNCTION {TABLE}_meeting() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF OLD.status {COUNTED} THEN UPDATE {TABLE} t SET {meeting_take} FROM "
        f"(SELECT member_id, {values('attendance')} FROM attendance "
        f"WHERE meeting_id = OLD.id) AS d ({', '.join(('member_id', *TESTS))}) "
        f"WHERE t.member_id = d.member_id AND t.year = {_year('OLD.period')}; END IF; "
        f"IF NEW.status {COUNTED} THEN INSERT INTO {TABLE} ({cols}) "
        f"SELECT member_id, {_year('NEW.period')}, {values('attendance')} FROM attendance "
        f"WHERE meeting_id = NEW.id {upsert}; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER trg_{TABLE}_ins_del AFTER INSERT OR DELETE ON attendance "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_row()",
        f"CREATE TRIGGER trg_{TABLE}_upd AFTER UPDATE OF status, meeting_id, member_id "
        "ON attendance FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.meeting_id IS DISTINCT FROM NEW.meeting_id "
        "OR OLD.member_id IS DISTINCT FROM NEW.member_id) "
        f"EXECUTE FUNCTION {TABLE}_row()",
        f"CREATE TRIGGER trg_{TABLE}_meeting AFTER UPDATE OF status, period ON meeting "
        "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.period IS DISTINCT FROM NEW.period) "
        f"EXECUTE FUNCTION {TABLE}_meeting()",
    ]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default='0') for c in TESTS),
        sa.PrimaryKeyConstraint('year', 'member_id'),
    )
    sums = ", ".join(f"SUM(CASE WHEN a.status {t} THEN 1 ELSE 0 END)"
                     for t in TESTS.values())
    op.execute(f"INSERT INTO {TABLE} (member_id, year, {', '.join(TESTS)}) "
               f"SELECT a.member_id, {_year('m.period')}, {sums} FROM attendance a "
               f"JOIN meeting m ON m.id = a.meeting_id WHERE m.status {COUNTED} "
               f"GROUP BY a.member_id, {_year('m.period')}")
    pg = op.get_bind().dialect.name == "postgresql"
    for ddl in _pg_triggers() if pg else _sqlite_triggers():
        op.execute(ddl)
    if pg:
        op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER trg_{TABLE}_meeting ON meeting")
        op.execute(f"DROP TRIGGER trg_{TABLE}_upd ON attendance")
        op.execute(f"DROP TRIGGER trg_{TABLE}_ins_del ON attendance")
        op.execute(f"DROP FUNCTION {TABLE}_meeting()")
        op.execute(f"DROP FUNCTION {TABLE}_row()")
    else:
        for t in ("ins", "del", "upd", "meeting"):
            op.execute(f"DROP TRIGGER trg_{TABLE}_{t}")
    op.drop_table(TABLE)
