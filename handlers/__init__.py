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
    group_link,
    profile,
    reachability,
    scoring,
    score_confirm,
    minutes,
    minutes_review,
    resolution,
    committee,
    sotay,
    sotay_reminders,
    auto_override,
    minutes_book,
    status,
    tasks,
)
