"""Running the bot: bootstrap, runner, update handling, rate limit, persistence, messenger."""
