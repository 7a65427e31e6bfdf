"""Wrong link codes, so guessing codes is slowed down (``/start``, ``/link``).

Three limits, all counted in the database (the bot may run as several stateless workers
behind the webhook, and a restart must not reset an attacker's count):

- per account: MAX_WRONG wrong codes within WINDOW, then the account waits;
- per cell for group codes (``/link`` typed in a group: the cell the group is bound to,
  or the group itself while unbound): GROUP_MAX_WRONG within WINDOW, then only the
  accounts of cell leaders and officers may still try a code there;
- per deployment: past DEPLOY_MAX_WRONG within WINDOW or DEPLOY_MAX_WRONG_DAY within
  LOOKBACK the deployment is *guarded*: an account that typed a wrong code within
  LOOKBACK waits until the guard lifts, a fresh account still gets its try. A member typing
  their own code right (first try, or an account already linked) is never refused; a
  guess spread over many accounts gets one try per fresh account instead of MAX_WRONG.

Codes are 8 characters from a 32-letter alphabet: 40 bits. Guesses a deployment allows
per day: at most DEPLOY_MAX_WRONG_DAY (200) plus one per fresh account an attacker
brings; one account alone, MAX_WRONG per WINDOW (480 a day) until the guard trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Index, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

MAX_WRONG = 5  # wrong codes allowed per account within WINDOW
WINDOW = timedelta(minutes=15)
GROUP_MAX_WRONG = 10  # wrong group codes per cell (or unbound group) within WINDOW
DEPLOY_MAX_WRONG = 30  # wrong codes per deployment within WINDOW before the guard
DEPLOY_MAX_WRONG_DAY = 200  # … and within LOOKBACK
LOOKBACK = timedelta(hours=24)  # how long a wrong code marks an account, rows are kept


class CodeAttempt(SQLModel, table=True):
    __tablename__ = "code_attempt"
    __table_args__ = (Index("ix_code_attempt_user", "platform", "user_id", "at"),
                      Index("ix_code_attempt_scope", "scope", "at"),
                      Index("ix_code_attempt_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    at: datetime
    # "cell:<id>" or "chat:<platform>:<id>" for a group code typed in a group; None for
    # a member code (/start).
    scope: str | None = Field(default=None, max_length=100)


@dataclass(frozen=True)
class Refusal:
    """Why a code attempt is refused now, and for how long."""

    reason: str  # "account" | "group" | "deployment"
    wait: timedelta


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _wait(session: Session, where: list, limit: int, window: timedelta,
          now: datetime) -> timedelta | None:
    """None while fewer than ``limit`` rows match within ``window``; else how long until
    enough of them have aged out for one more try."""
    n = session.exec(select(func.count()).select_from(CodeAttempt)
                     .where(CodeAttempt.at > now - window, *where)).one()
    if n < limit:
        return None
    # the (n - limit + 1)-th oldest must leave the window
    at = session.exec(select(CodeAttempt.at).where(CodeAttempt.at > now - window, *where)
                      .order_by(col(CodeAttempt.at)).offset(n - limit).limit(1)).first()
    if at is None:
        return None
    return max(_aware(at) + window - now, timedelta(minutes=1))


def refusal(session: Session, *, platform: str, user_id: str, now: datetime,
            scope: str | None = None, trusted: bool = False) -> Refusal | None:
    """Whether this account may try a code now. ``trusted``: an account linked to an
    active member (group scope: a cell leader or officer), who is not held back by the
    group's or the deployment's limits, only by its own."""
    mine = [CodeAttempt.platform == platform, CodeAttempt.user_id == user_id]
    wait = _wait(session, mine, MAX_WRONG, WINDOW, now)
    if wait is not None:
        return Refusal("account", wait)
    if trusted:
        return None
    if scope is not None:
        wait = _wait(session, [CodeAttempt.scope == scope], GROUP_MAX_WRONG, WINDOW, now)
        if wait is not None:
            return Refusal("group", wait)
    guard = [w for w in (_wait(session, [], DEPLOY_MAX_WRONG, WINDOW, now),
                         _wait(session, [], DEPLOY_MAX_WRONG_DAY, LOOKBACK, now))
             if w is not None]
    if not guard:
        return None
    last_wrong = session.exec(select(func.max(CodeAttempt.at)).where(
        *mine, CodeAttempt.at > now - LOOKBACK)).one()
    if last_wrong is None:
        return None  # a fresh account gets its try even while guarded
    return Refusal("deployment", min(max(guard), _aware(last_wrong) + LOOKBACK - now))


def record_wrong(session: Session, *, platform: str, user_id: str, now: datetime,
                 scope: str | None = None) -> None:
    """Count one wrong code, forgetting attempts older than LOOKBACK (everyone's: the
    table holds a day of wrong codes at most)."""
    session.execute(delete(CodeAttempt).where(CodeAttempt.at <= now - LOOKBACK))
    session.add(CodeAttempt(platform=platform, user_id=user_id[:64], at=now,
                            scope=scope[:100] if scope else None))
    session.flush()
