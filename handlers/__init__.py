"""Platform-neutral conversation logic, one package per thing users do. Importing the
package registers every story (in this order, which is the order of the command menu
and /help)."""

# ruff: noqa: F401, I001  (order matters)
from handlers.forms import engine
from handlers.forms import resume
from handlers.meetings import schedule_view
from handlers.meetings import agenda_form
from handlers.meetings import manage
from handlers.meetings import notice
from handlers.attendance import rsvp
from handlers.attendance import rollcall
from handlers.fees import payments
from handlers.fees import entry_form
from handlers.onboarding import joinrequests
from handlers.core import menus
from handlers.meetings import notheld
from handlers.onboarding import start
from handlers.onboarding import help
from handlers.year import plan
from handlers.onboarding import group_link
from handlers.onboarding import profile
from handlers.onboarding import reachability
from handlers.year import review
from handlers.year import approve
from handlers.scoring import submit
from handlers.scoring import confirm
from handlers.records import minutes
from handlers.records import minutes_review
from handlers.records import resolution
from handlers.meetings import chiuy
from handlers.records import sotay
from handlers.records import sotay_reminders
from handlers.scoring import override
from handlers.scoring import rubric_choice
from handlers.records import minutes_book
from handlers.committee import status
from handlers.records import tasks
from handlers.views import web_command
