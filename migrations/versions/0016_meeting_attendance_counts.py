"""each meeting's roll-call counts on its row, kept true by triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 21:00:00

A bloc's year of web figures added up 93,000 roll-call rows per statement (60-80 ms);
with the counts on the meeting row it reads 6,000 meetings. Database triggers keep the
counts equal to a COUNT over ``attendance`` whatever writes it (the ORM, bulk inserts of
``chibot bench-seed`` and the importer, the member-data eraser, a hand-written fix), on
SQLite and PostgreSQL alike; tests/test_attendance_counts.py checks random edits.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("attended_count", "due_count", "unexcused_count")
# What each count counts (models.reports.ATTENDED / DUE and "unexcused"); a NULL status
# (an RSVP without a roll call) counts nowhere.
TESTS = {"attended_count": "IN ('present', 'late')",
         "due_count": "IN ('present', 'late', 'excused', 'unexcused')",
         "unexcused_count": "= 'unexcused'"}


def _delta(row: str, sign: str, cast: str) -> str:
    """``col = col ± (row.status matches)`` for every count (``cast``: SQLite's boolean is
    already 0/1; PostgreSQL's needs ``::int``)."""
    return ", ".join(f"{c} = {c} {sign} (COALESCE({row}.status, '') {t}){cast}"
                     for c, t in TESTS.items())


def _sqlite_triggers() -> list[str]:
    def upd(row: str, sign: str) -> str:
        return f"UPDATE meeting SET {_delta(row, sign, '')} WHERE id = {row}.meeting_id;"
    return [
        "CREATE TRIGGER trg_attendance_counts_ins AFTER INSERT ON attendance "
        f"BEGIN {upd('NEW', '+')} END",
        "CREATE TRIGGER trg_attendance_counts_del AFTER DELETE ON attendance "
        f"BEGIN {upd('OLD', '-')} END",
        "CREATE TRIGGER trg_attendance_counts_upd AFTER UPDATE OF status, meeting_id "
        "ON attendance WHEN OLD.status IS NOT NEW.status OR OLD.meeting_id != NEW.meeting_id "
        f"BEGIN {upd('OLD', '-')} {upd('NEW', '+')} END",
    ]


def _pg_triggers() -> list[str]:
    def upd(row: str, sign: str) -> str:
        return f"UPDATE meeting SET {_delta(row, sign, '::int')} WHERE id = {row}.meeting_id;"
    return [
        "CREATE FUNCTION attendance_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {upd('OLD', '-')} END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {upd('NEW', '+')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_attendance_counts_ins_del AFTER INSERT OR DELETE ON attendance "
        "FOR EACH ROW EXECUTE FUNCTION attendance_counts()",
        "CREATE TRIGGER trg_attendance_counts_upd AFTER UPDATE OF status, meeting_id "
        "ON attendance FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.meeting_id IS DISTINCT FROM NEW.meeting_id) "
        "EXECUTE FUNCTION attendance_counts()",
    ]


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        for c in COLUMNS:
            batch_op.add_column(sa.Column(c, sa.Integer(), nullable=False, server_default='0'))
    sets = ", ".join(
        f"{c} = (SELECT COUNT(*) FROM attendance a WHERE a.meeting_id = meeting.id "
        f"AND a.status {t})" for c, t in TESTS.items())
    op.execute(f"UPDATE meeting SET {sets} WHERE EXISTS "
               "(SELECT 1 FROM attendance a WHERE a.meeting_id = meeting.id)")
    pg = op.get_bind().dialect.name == "postgresql"
    for ddl in _pg_triggers() if pg else _sqlite_triggers():
        op.execute(ddl)
    if pg:  # the backfill left a dead version of each meeting row: fresh statistics now;
        # VACUUM (not allowed in a transaction) is autovacuum's, or the operator's
        op.execute("ANALYZE meeting")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_attendance_counts_upd ON attendance")
        op.execute("DROP TRIGGER trg_attendance_counts_ins_del ON attendance")
        op.execute("DROP FUNCTION attendance_counts()")
    else:
        for t in ("ins", "del", "upd"):
            op.execute(f"DROP TRIGGER trg_attendance_counts_{t}")
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        for c in reversed(COLUMNS):
            batch_op.drop_column(c)
