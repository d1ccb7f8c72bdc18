"""Courtyard: a small Telegram bot that lets a building's residents govern it in their group."""

__version__ = "0.1.0"
