"""The storage's failure the callers of the services may meet (a database that cannot be used
now), under the services' name: the Telegram layer and the CLI never import the storage."""

from fieldbot.storage.db import StorageUnavailable

__all__ = ["StorageUnavailable"]
