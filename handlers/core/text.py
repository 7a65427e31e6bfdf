"""The stories' text helpers; they live in :mod:`models.text`, below the handlers, so adapters,
the importer and models use them without importing a handler."""

from models.text import (
    MAX_ID,
    as_id,
    choice_key,
    fold,
    match_choice,
    match_words,
    parse_command,
)

__all__ = ["MAX_ID", "as_id", "choice_key", "fold", "match_choice", "match_words",
           "parse_command"]
