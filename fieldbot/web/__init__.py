"""The bot's one HTTP server (Starlette routes served by uvicorn) and its core routes.

It knows nothing of Telegram: the Telegram layer hands it the routes it needs (the webhook,
provider callbacks, acknowledgement pages) and anyone may add more (`serve(extra=...)`).
"""
