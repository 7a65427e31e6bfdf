"""Platform-neutral conversation logic. Importing the package registers every story."""

from handlers import forms, menus, onboarding, profile  # noqa: F401
