"""A cell's meetings over time: the schedule and its rules, the cycle's steps and reminders,
the agenda, the chi ủy's preparation, rescheduling and meetings not held."""
