"""``courtyard playground``: the fake Telegram, its web page and (optionally) the demo building,
on an event loop of their own in a background thread, while the real bot runs in the main
thread exactly as ``courtyard run`` runs it, polling the fake's Bot API over loopback HTTP.

Only the ``courtyard playground`` command imports this module; the bot's own code never imports
the playground (``tests/test_layers.py`` checks it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable

from playground.demo import LANGUAGES, Cast, build_demo, make_cast
from playground.page import PlaygroundPage, continue_numbering, numbers_from_now, words
from playground.server import FakeTelegram

__all__ = ["Playground"]

_LOGGER = logging.getLogger("playground")


class Playground:
    """Start with :meth:`start` (returns once the page answers); :meth:`stop` ends it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        language: str = "en",
        demo: bool = False,
        forum: bool = False,
        bot_username: str = "courtyard_bot",
    ) -> None:
        self.host = host
        self.port = port
        self.language = language if language in LANGUAGES else "en"
        self.demo = demo
        self.forum = forum
        #: a fresh token each time: nothing real can be reached with it
        self.token = f"{100000 + secrets.randbelow(900000)}:PLAYGROUND-{secrets.token_hex(12)}"
        self.fake = FakeTelegram(self.token, bot_username=bot_username, bot_first_name="Courtyard")
        self.page = PlaygroundPage(self.fake, host=host, port=port)
        self.page.language = self.language
        #: set once the demo is built (or failed: then ``demo_error`` says why)
        self.demo_done = threading.Event()
        self.demo_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="playground", daemon=True)

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def api_url(self) -> str:
        """What ``COURTYARD_API_URL`` must be for the bot to talk to this fake Telegram."""
        return self.fake.base_url

    def start(self, timeout: float = 10.0) -> Playground:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the playground did not start in time")
        if self._failure is not None:
            raise self._failure
        return self

    def stop(self, timeout: float = 5.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)

    def call(self, function: Callable[[], object]) -> None:
        """Run ``function`` on the playground's loop (the world lives there)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(function)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged once it has returned
            if not self._ready.is_set():
                self._failure = exc
                self._ready.set()
            else:
                _LOGGER.exception("the playground stopped")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        cast = make_cast(self.fake, self.language, demo=self.demo, forum=self.forum)
        # ids go on from where an earlier playground on the same database stopped
        continue_numbering(self.fake, list(self.fake.chats.values()), numbers_from_now())
        self.page.continue_ids = True
        self.page.home = cast.group
        self.page.roles = {cast.lead.id: words(self.language, "role.lead")}
        resident = words(self.language, "role.resident")
        self.page.roles.update({person.id: resident for person in cast.residents})
        await self.fake.start()
        try:
            await self.page.start()
        except BaseException:
            await self.fake.stop()
            raise
        self._ready.set()
        tasks = [asyncio.create_task(self._announce(), name="playground-announce")]
        if self.demo:
            tasks.append(asyncio.create_task(self._demo(cast), name="playground-demo"))
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.page.stop()
            await self.fake.stop()

    async def _bot_polls(self) -> None:
        """Until the bot asks for updates (a long poll is answered, so recorded, only later)."""
        while self.fake._poll_waiter is None and not self.fake.calls_to("getUpdates"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # a waiting long poll notifies nobody: look again

    async def _announce(self) -> None:
        """Print the page's address once the bot is up (it answers from the first click)."""
        await self._bot_polls()
        preparing = "; the demo building is being prepared" if self.demo else ""
        print(
            f"Courtyard playground: open {self.url} in your browser (Ctrl-C stops it{preparing})",
            flush=True,
        )

    async def _demo(self, cast: Cast) -> None:
        def progress(text: str) -> None:
            self.page.status = text
            self.page.changed()

        try:
            progress(words(self.language, "status.preparing", step="…"))
            await self._bot_polls()
            await build_demo(self.fake, cast, self.language, progress)
        except (TimeoutError, LookupError, ValueError) as exc:
            self.demo_error = str(exc).splitlines()[0]
            _LOGGER.error("the demo building could not be prepared: %s", exc)
            progress(words(self.language, "status.failed", why=self.demo_error))
        finally:
            self.demo_done.set()


def default_timezone(language: str) -> str:
    """A time zone where the chosen language's demo building plausibly stands."""
    return {"zh": "Asia/Shanghai", "zh-hant": "Asia/Taipei", "ru": "Europe/Moscow"}.get(
        language, "UTC"
    )


def run(
    *,
    port: int,
    language: str,
    demo: bool,
    db: str | None,
    host: str = "127.0.0.1",
    forum: bool = False,
) -> int:
    """``courtyard playground``: the page, the fake Telegram, and the bot as ``courtyard run``
    runs it (same settings, same start-up checks, same polling), until Ctrl-C."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    from bot.__main__ import cmd_migrate, cmd_run

    if db is not None and not Path(db).expanduser().resolve().parent.is_dir():
        folder = Path(db).expanduser().resolve().parent
        print(f"courtyard: --db {db}: the folder {folder} does not exist", file=sys.stderr)
        return 2
    playground = Playground(host=host, port=port, language=language, demo=demo, forum=forum)
    try:
        playground.start()
    except OSError as exc:
        print(
            f"courtyard: cannot serve the playground on {host}:{port} ({exc.strerror or exc}); "
            "is another program using that port? Choose another with --port.",
            file=sys.stderr,
        )
        return 1
    with contextlib.ExitStack() as stack:
        stack.callback(playground.stop)
        if db is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="courtyard-")))
            db_path = folder / "playground.sqlite3"
        else:
            db_path = Path(db).expanduser().resolve()
            folder = db_path.parent
        # the bot's settings, as `courtyard run` reads them: these win over a .env file
        os.environ["COURTYARD_TOKEN"] = playground.token
        os.environ["COURTYARD_API_URL"] = playground.api_url
        os.environ["COURTYARD_DB"] = str(db_path)
        os.environ["COURTYARD_LANGUAGE"] = playground.language
        os.environ.setdefault("COURTYARD_TIMEZONE", default_timezone(playground.language))
        os.environ.setdefault("COURTYARD_BACKUP_HOURS", "0")
        os.environ.setdefault("COURTYARD_BACKUP_DIR", str(folder / "backups"))
        os.environ.setdefault("COURTYARD_KEYS_DIR", f"{db_path}.keys")
        os.environ.pop("COURTYARD_WEBHOOK_URL", None)
        status = cmd_migrate()
        if status != 0:
            return status
        print(f"the playground's database: {db_path}; starting the bot", flush=True)
        try:
            return cmd_run()
        except KeyboardInterrupt:  # Ctrl-C before the bot was up: a normal end too
            return 0
