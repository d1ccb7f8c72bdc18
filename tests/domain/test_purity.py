"""The domain stays pure: it imports nothing of Telegram, SQLite, the scheduler or outer layers."""

import ast
from pathlib import Path

FORBIDDEN = {"telegram", "aiosqlite", "sqlite3", "apscheduler", "handlers", "storage", "httpx"}
ALLOWED_OURS = {"bot.domain"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_domain_imports_nothing_impure() -> None:
    domain = Path(__file__).resolve().parents[2] / "bot" / "domain"
    files = sorted(domain.rglob("*.py"))
    assert files, "bot/domain has no modules"
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {module}"
            if top == "bot":
                assert any(module.startswith(a) for a in ALLOWED_OURS), f"{path.name}: {module}"
