"""Getting people and chats in: link codes, /start and /link, join requests, profiles and
rosters, /help and /lang, and members the bot cannot reach."""
