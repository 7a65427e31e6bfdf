"""Platform-neutral conversation logic. Importing the package registers every story
(in this order, which is the order of the command menu and /help)."""

from handlers import (  # noqa: F401, I001  (order matters)
    forms,
    schedule_view,
    agenda_form,
    meetings,
    rsvp,
    attendance,
    joinrequests,
    menus,
    onboarding,
    profile,
    scoring,
    score_confirm,
    status,
    tasks,
)
