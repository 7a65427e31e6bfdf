"""What a step's parser raises (re-exported by :mod:`handlers.forms.engine`)."""

from __future__ import annotations


class Invalid(Exception):
    """An answer the step refuses; the message (already translated) says why."""


class Again(Exception):
    """The answer was taken (the parser updated ``data``) but the step is asked again,
    e.g. after an edit of the roll call; the message says what changed. ``short``: in
    one line (the step's ``short`` text), not the whole prompt again."""

    def __init__(self, message: str = "", *, short: bool = False) -> None:
        super().__init__(message)
        self.short = short
