"""Getting people and chats in: link codes, /start and /link, join requests, profiles and
rosters, /help and the menus per role, /lang, and members the bot cannot reach."""
