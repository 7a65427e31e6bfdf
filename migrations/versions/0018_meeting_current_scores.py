"""each meeting's current cell and confirmed score on its row, kept true by triggers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 08:00:00

Every figure of a subtree's meetings (the web view's pages, the trend, the workbook's cell
sheet) joined each meeting to its current "cell" and "confirmed" score: for a bloc's year,
6,000 meetings against a score table of ten years (PostgreSQL hashed all 58,000 rows
twice, ~20 ms; SQLite made 12,000 index searches). As 0016 does for the roll-call counts,
database triggers copy the current scores' total and rating onto the meeting row whatever
writes ``score`` (a new revision, a correction, a confirmation, a deletion, bulk inserts),
on SQLite and PostgreSQL alike; tests/test_meeting_scores.py checks random edits.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("cell", "confirmed")  # models.score.ScoreKind
FIELDS = {"total": sa.Float(), "rating": sa.String(length=16)}


# (meeting column, score kind, score column): cell_total, cell_rating, …
COLUMNS = [(f"{k}_{f}", k, f) for k in KINDS for f in FIELDS]


def _sets(meeting: str) -> str:
    """Each column from the kind's current score (the newest, should two be current)."""
    return ", ".join(
        f"{col} = (SELECT s.{field} FROM score s WHERE s.meeting_id = {meeting} AND "
        f"s.kind = '{kind}' AND s.is_current ORDER BY s.id DESC LIMIT 1)"
        for col, kind, field in COLUMNS)


def _refresh(meeting_id: str, only_if: str = "TRUE") -> str:
    return f"UPDATE meeting SET {_sets('meeting.id')} WHERE id = {meeting_id} AND {only_if};"


WATCHED = "meeting_id, kind, is_current, total, rating"


def _sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER trg_meeting_scores_ins AFTER INSERT ON score "
        f"BEGIN {_refresh('NEW.meeting_id')} END",
        "CREATE TRIGGER trg_meeting_scores_del AFTER DELETE ON score "
        f"BEGIN {_refresh('OLD.meeting_id')} END",
        f"CREATE TRIGGER trg_meeting_scores_upd AFTER UPDATE OF {WATCHED} ON score "
        f"BEGIN {_refresh('OLD.meeting_id')} "  # the new meeting too, if the score moved
        f"{_refresh('NEW.meeting_id', 'NEW.meeting_id IS NOT OLD.meeting_id')} END",
    ]


def _pg_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}"
                          for c in WATCHED.split(", "))
    return [
        "CREATE FUNCTION meeting_scores() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_refresh('OLD.meeting_id')} END IF; "
        "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.meeting_id <> OLD.meeting_id) "
        f"THEN {_refresh('NEW.meeting_id')} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_meeting_scores_ins_del AFTER INSERT OR DELETE ON score "
        "FOR EACH ROW EXECUTE FUNCTION meeting_scores()",
        f"CREATE TRIGGER trg_meeting_scores_upd AFTER UPDATE OF {WATCHED} ON score "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION meeting_scores()",
    ]


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        for col, _kind, field in COLUMNS:
            batch_op.add_column(sa.Column(col, FIELDS[field], nullable=True))
    op.execute(f"UPDATE meeting SET {_sets('meeting.id')} WHERE EXISTS "
               "(SELECT 1 FROM score s WHERE s.meeting_id = meeting.id AND s.is_current)")
    pg = op.get_bind().dialect.name == "postgresql"
    for ddl in _pg_triggers() if pg else _sqlite_triggers():
        op.execute(ddl)
    if pg:
        op.execute("ANALYZE meeting")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_meeting_scores_upd ON score")
        op.execute("DROP TRIGGER trg_meeting_scores_ins_del ON score")
        op.execute("DROP FUNCTION meeting_scores()")
    else:
        for t in ("ins", "del", "upd"):
            op.execute(f"DROP TRIGGER trg_meeting_scores_{t}")
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        for col, _kind, _field in reversed(COLUMNS):
            batch_op.drop_column(col)
