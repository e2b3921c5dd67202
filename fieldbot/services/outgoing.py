"""What the Telegram layer needs to send: the message a `Messenger` delivers and the priority of
an SOS (the rate limiter lets it pass first). Named here so that the Telegram layer never
imports storage."""

from __future__ import annotations

from fieldbot.storage.outbox import PRIORITY_SOS, OutboxMessage

__all__ = ["PRIORITY_SOS", "OutboxMessage"]
