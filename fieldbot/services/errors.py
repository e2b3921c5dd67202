"""The storage's failures the callers of the services may meet (a database that cannot be used
now; one whose server refuses the URL), under the services' name: the Telegram layer and the
CLI never import the storage."""

from fieldbot.storage.db import DatabaseRefused, StorageUnavailable

__all__ = ["DatabaseRefused", "StorageUnavailable"]
