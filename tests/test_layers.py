"""The one-way dependency: the playground (the simulated Telegram) uses the bot; the product's
running code (bot/, handlers/, storage/) never imports the playground. The one exception is the
``courtyard playground`` command, which imports it inside its own branch of ``main``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("bot", "handlers", "storage")
#: the only place the product may name the playground (an import inside a function)
ALLOWED = {Path("bot/__main__.py")}


def _imports(tree: ast.AST) -> list[tuple[ast.AST, str, bool]]:
    """(node, module name, at module level?) for every import in the tree."""
    found: list[tuple[ast.AST, str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = top and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                found.extend((child, alias.name, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child, child.module, inside))
            elif (
                isinstance(child, ast.Call)
                and getattr(child.func, "id", "") == "__import__"
                and child.args
                and isinstance(child.args[0], ast.Constant)
            ):
                found.append((child, str(child.args[0].value), inside))
            visit(child, inside)

    visit(tree, True)
    return found


def _playground(name: str) -> bool:
    return name == "playground" or name.startswith("playground.")


def test_the_product_never_imports_the_playground() -> None:
    offenders = []
    scanned = 0
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            scanned += 1
            tree = ast.parse(path.read_text("utf-8"), filename=str(relative))
            for node, module, top in _imports(tree):
                if not _playground(module):
                    continue
                if relative in ALLOWED and not top:
                    continue
                offenders.append(f"{relative}:{getattr(node, 'lineno', '?')} imports {module}")
    assert scanned > 40  # the scan saw the product
    assert not offenders, "the product imports the playground:\n" + "\n".join(offenders)


def test_the_scan_sees_every_way_of_importing() -> None:
    source = (
        "import playground\n"
        "from playground.server import FakeTelegram\n"
        "import os, playground.world as w\n"
        "def f():\n    from playground import launch\n"
        "x = __import__('playground.page')\n"
    )
    found = [(module, top) for _, module, top in _imports(ast.parse(source)) if _playground(module)]
    assert found == [
        ("playground", True),
        ("playground.server", True),
        ("playground.world", True),
        ("playground", False),
        ("playground.page", True),
    ]


def test_running_the_bot_loads_no_playground_module() -> None:
    """What ``courtyard run`` imports (the app, every feature, the command line) in a fresh
    interpreter leaves the playground unloaded."""
    code = (
        "import sys\n"
        "import bot.__main__, bot.app, bot.webhook\n"
        "bot.__main__.parser().parse_args(['run'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'playground')\n"
        "print(loaded)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_page_ships_with_the_package() -> None:
    from importlib import resources

    web = resources.files("playground").joinpath("web")
    for name in ("index.html", "app.js", "style.css"):
        assert web.joinpath(name).read_bytes()
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"playground" = ["web/*.html", "web/*.js", "web/*.css"]' in pyproject
