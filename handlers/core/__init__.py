"""The conversation's plumbing: routing an update to its story, the per-update context,
who may do what, menus, labels, and reaching members and chats."""
