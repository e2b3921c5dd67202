"""Channels beyond Telegram: e-mail, SMS, voice calls and an outgoing webhook.

Each is an adapter behind a small port (`base`); one that is not configured is simply absent.
"""
