"""Telegram-facing adapters: parse -> authorize -> domain + storage -> render -> outbox."""
