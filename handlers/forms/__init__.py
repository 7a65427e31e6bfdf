"""The forms engine (steps, validation, persisted state, resume) and the typed-value parsers
every form shares."""
