"""Texts and keyboards: how the core's data reads in a chat."""
