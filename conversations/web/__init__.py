"""The bot's web pages (served by the bot's one HTTP server)."""
