"""The officers' web view (issue 22): aiohttp routes added to `chibot run`'s HTTP
server, Telegram Mini App launch-data and one-time-link sign-in, Jinja2 templates and
static assets shipped in the package (no CDN, no request leaves the server)."""
