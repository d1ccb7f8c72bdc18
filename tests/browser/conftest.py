"""Browser fixtures: ``courtyard playground`` as a real process, and headless Chromium driving
its page through selenium.

The browser is the system's (Debian's ``chromium`` and ``chromium-driver``, given by explicit
paths, so selenium never downloads one). Where none is installed the tests are skipped, unless
``COURTYARD_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then a missing browser is a failure.
``COURTYARD_SCREENSHOTS=<folder>`` keeps the screenshots the tests take there (the README's are
made with ``COURTYARD_SCREENSHOTS=docs/screenshots``); otherwise they go to a temporary folder.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("COURTYARD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = (
    os.environ.get("COURTYARD_CHROMEDRIVER")
    or shutil.which("chromedriver")
    or "/usr/bin/chromedriver"
)
REQUIRED = os.environ.get("COURTYARD_REQUIRE_BROWSER") == "1"
WAIT = 30.0  # generous: the machine running the tests may be busy (a failure only waits longer)


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, DRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "driver" not in getattr(item, "fixturenames", ()):
            continue  # the page's server is tested without a browser too
        item.add_marker(pytest.mark.browser)
        if reason is not None and not REQUIRED:
            item.add_marker(pytest.mark.skip(reason=f"no browser: {reason}"))


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("COURTYARD_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def driver(downloads: Path) -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        pytest.fail(f"COURTYARD_REQUIRE_BROWSER=1 but {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1180,860",
        "--lang=en-GB",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    browser = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield browser
    finally:
        browser.quit()


@dataclass
class Running:
    """A ``courtyard playground`` process and what it printed."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTYARD_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = str(tmp)
    return env


def start_playground(tmp: Path, *args: str, timeout: float = 30.0) -> Running:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", "0", *args],
        cwd=tmp,
        env=_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []  # everything it prints, kept for the failure message

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:  # closed here, at the end of the output, by the one reading it
            for line in process.stdout:
                lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        found = re.search(r"open (http://\S+)", line)
        if found:
            running = Running(process, found.group(1), seen, reader)
            threading.Thread(target=_keep, args=(lines, seen), daemon=True).start()
            return running
    process.kill()
    process.wait()
    reader.join(5)
    raise AssertionError("courtyard playground did not start:\n" + "".join(seen))


def _keep(lines: queue.Queue[str], seen: list[str]) -> None:
    while True:
        seen.append(lines.get())


def stop_playground(running: Running) -> int:
    running.process.send_signal(signal.SIGINT)  # Ctrl-C, as a person stops it
    try:
        return running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()
        raise
    finally:
        assert running.reader is not None
        running.reader.join(5)  # the reader has seen the end of the output and closed it


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Running]:
    running = start_playground(tmp_path, "--db", str(tmp_path / "playground.sqlite3"))
    try:
        yield running
    finally:
        status = stop_playground(running)
        assert status == 0, "courtyard playground ended badly:\n" + "".join(running.lines[-40:])


class Page:
    """The playground page as a person uses it: choose who you are, open a chat, write, press."""

    def __init__(self, driver: Any, url: str, screenshots: Path) -> None:
        self.driver = driver
        self.url = url
        self.screenshots = screenshots
        driver.get(url)
        self.until(lambda: self.find_all("[data-testid=chat-group]"), "the page to load")

    # ------------------------------------------------------------------ reading

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def one(self, css: str) -> Any:
        found = self.until(lambda: self.find_all(css), css)
        return found[0]

    def until(self, condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        from selenium.common.exceptions import StaleElementReferenceException

        def check(_: Any) -> Any:
            try:
                return condition()
            except StaleElementReferenceException:
                return False

        try:
            return self._waiter(timeout).until(check)
        except Exception as exc:
            texts = "\n".join(m.text[:200] for m in self.find_all("#messages > *")[-5:])
            raise AssertionError(f"waited for {what}; the chat shows:\n{texts}") from exc

    def _waiter(self, timeout: float) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.05)

    def bot_messages(self) -> list[Any]:
        return self.find_all("[data-testid=bot-message]")

    def bot_says(self, pattern: str, timeout: float = WAIT) -> Any:
        """The newest bot message whose text matches ``pattern`` (a regular expression)."""
        wanted = re.compile(pattern)

        def found() -> Any:
            for message in reversed(self.bot_messages()):
                if wanted.search(message.text):
                    return message
            return None

        return self.until(found, f"a bot message matching {pattern!r}", timeout)

    # ------------------------------------------------------------------ acting

    def be(self, name: str) -> None:
        from selenium.webdriver.support.ui import Select

        select = Select(self.one("[data-testid=who]"))
        for option in select.options:
            if option.text.split(" · ")[0] == name:
                select.select_by_visible_text(option.text)
                return
        raise AssertionError(f"no {name!r} in the switcher: {[o.text for o in select.options]}")

    def open_group(self) -> None:
        self.one("[data-testid=chat-group]").click()

    def open_private(self) -> None:
        self.one("[data-testid=chat-private]").click()

    def write(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.one("[data-testid=composer-text]")
        box.clear()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self.until(lambda: box.get_attribute("value") == "", "the message to be sent")

    def press(self, message: Any, label: str) -> None:
        """Click the button of ``message`` whose label contains ``label``."""
        for button in message.find_elements("css selector", "[data-testid=button]"):
            if label in button.text:
                button.click()
                return
        labels = [b.text for b in message.find_elements("css selector", "[data-testid=button]")]
        raise AssertionError(f"no button {label!r} on the message; its buttons: {labels}")

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"playground-{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def page(driver: Any, playground: Running, screenshots: Path) -> Page:
    return Page(driver, playground.url, screenshots)
