"""chibot application wiring: config, i18n, outbox, scheduler, platform adapters."""
