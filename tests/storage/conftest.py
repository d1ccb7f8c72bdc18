"""The storage suite on SQLite and, when a PostgreSQL is available, on PostgreSQL too.

Every test runs once per backend (``[sqlite]``, ``[postgresql]``). The PostgreSQL runs need
``COURTYARD_TEST_PG=1`` (a throwaway cluster) or ``COURTYARD_TEST_PG_URL`` (see tests/pg.py);
without them they are skipped. Tests of SQLite's own machinery (the file, its journal, its
integrity check, files of earlier releases) are listed in :data:`SQLITE_ONLY` with the reason
and run on SQLite alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg
from tests.pg import use_postgresql  # noqa: F401  (the fixture)

_FILE = "the SQLite file itself (journal, integrity check, deleted or replaced file, pragmas)"
_OLD = "a SQLite file of an earlier release, upgraded (PostgreSQL starts at the baseline)"
_FTS = "reads SQLite's FTS5 index (PostgreSQL searches with pg_trgm)"

#: Tests of SQLite's own machinery, run on SQLite alone: test name -> why.
SQLITE_ONLY = {
    "test_db.py::test_empty_database_is_migrated_to_latest": _FILE,
    "test_db.py::test_pragmas": _FILE,
    "test_db.py::test_newer_database_is_refused": _FILE + "; test_pg.py has its own",
    "test_db.py::test_missing_folder_and_memory_are_refused": _FILE,
    "test_db.py::test_not_a_database_file": _FILE,
    "test_db.py::test_upgrade_from_the_first_schema_keeps_data": _OLD,
    "test_db.py::test_open_without_create_refuses_a_missing_file": _FILE,
    "test_db.py::test_a_write_to_a_deleted_file_is_not_reported_done": _FILE,
    "test_db.py::test_a_replaced_file_or_wal_is_noticed": _FILE,
    "test_db.py::test_no_new_database_over_the_wal_of_a_deleted_one": _FILE,
    "test_db.py::test_a_process_that_never_creates_databases": _FILE,
    "test_decisions.py::test_open_decisions_of_the_release_before_take_the_register_as_"
    "their_electorate": _OLD,
    "test_ids_forever.py::test_every_table_of_ours_never_reuses_an_id": (
        "reads sqlite_sequence (PostgreSQL's identity columns never reuse a value)"
    ),
    "test_ids_forever.py::test_the_release_before_migrates_with_every_row_and_above_every_"
    "remembered_id": _OLD,
    "test_ids_forever.py::test_restoring_an_older_backup_never_hands_out_an_id_shown_since": (
        "courtyard backup/restore copy the SQLite file (pg_dump on PostgreSQL)"
    ),
    "test_members.py::test_the_schema_refuses_unknown_statuses": "opens the file with sqlite3",
    "test_outcomes_announced.py::test_rows_closed_before_the_migration_are_not_announced_"
    "again": _OLD,
    "test_privacy.py::test_purge_group_empties_every_table_of_that_group_only": _FTS,
    "test_scrub.py::test_anonymous_voter_keys_leave_no_trace_in_the_file": _FILE,
    "test_scrub.py::test_scrub_truncates_the_write_ahead_log": _FILE,
    "test_secrets.py::test_a_database_from_before_the_key_store_is_moved_out_at_start": _OLD,
    "test_secrets.py::test_the_sweep_never_makes_a_database_where_one_vanished": _FILE,
    "test_sharing.py::test_index_follows_updates_deletes_and_migration": _FTS,
    "test_close.py": "drives SQLite's reader thread (create_function)",
    "test_transaction.py::test_a_vote_press_is_one_round_trip": (
        "counts trips to SQLite's writer thread"
    ),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("backend") != "postgresql":
            continue
        name = f"{item.path.name}::{item.originalname}"  # type: ignore[attr-defined]
        if item.path.parent.name != "storage":
            continue
        reason = SQLITE_ONLY.get(name) or SQLITE_ONLY.get(item.path.name)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(params=["sqlite", "postgresql"], autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "postgresql":
        if not pg.wanted():
            pytest.skip("PostgreSQL: set COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL")
        request.getfixturevalue("use_postgresql")
    yield request.param


def pytest_sessionfinish() -> None:
    pg.stop()
