"""Courtyard: a small Telegram bot that lets a building's residents govern it in their group."""

__version__ = "0.1.0"

import os as _os

# python-telegram-bot 22 is moving time periods (RetryAfter.retry_after, ...) from int seconds to
# datetime.timedelta and warns on every use of the old form; Courtyard uses the new form.
_os.environ.setdefault("PTB_TIMEDELTA", "true")
