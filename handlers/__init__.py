"""Platform-neutral conversation logic. Importing the package registers every story."""

from handlers import (  # noqa: F401
    attendance,
    forms,
    joinrequests,
    meetings,
    menus,
    onboarding,
    profile,
    reachability,
    reminders,
    scoring,
    status,
    tasks,
)
