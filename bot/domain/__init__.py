"""Pure rules of Courtyard: no I/O, no Telegram, no SQLite.

Frozen dataclasses in, results out; ``now`` is always a parameter; a broken rule raises
:class:`~bot.domain.errors.DomainError` whose key is a message of the catalogs, so it can be
shown to the user in their language.
"""
