"""Platform-neutral conversation logic. Importing the package registers every story."""

from handlers import (  # noqa: F401
    attendance,
    fees,
    forms,
    joinrequests,
    meetings,
    menus,
    notheld,
    onboarding,
    profile,
    reminders,
    scoring,
    status,
    tasks,
)
