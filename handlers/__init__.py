"""Platform-neutral conversation logic. Importing the package registers every story."""

from handlers import (  # noqa: F401
    attendance,
    forms,
    joinrequests,
    meetings,
    menus,
    minutes,
    minutes_review,
    onboarding,
    profile,
    reminders,
    resolution,
    scoring,
    status,
    tasks,
)
