"""Keys of open secret votes, kept outside the database, its write-ahead log and its backups.

A secret decision's ballots and an anonymous poll's voter keys depend on one random key per
vote. The key is a file in the keys folder (``COURTYARD_KEYS_DIR``, by default
``<database file>.keys`` beside the database; folder 0700, files 0600). ``courtyard backup``
copies the database only, never this folder. When the vote closes, the result is computed and
committed first, then the key is destroyed (overwritten, flushed, unlinked, the folder flushed):
from then on no copy of the database — the live file, its WAL, a backup taken while the vote was
open — holds anything that reveals a choice.

* A secret decision's choice is stored only sealed (:func:`seal`): an HMAC-SHA256 keystream
  with a random nonce per ballot and an HMAC tag bound to the decision and the unit, padded to
  one length so that "for" and "against" look alike. The ``choice`` column stays NULL.
* An anonymous poll's voter key is ``HMAC-SHA256(poll key, user id)``; the poll key is the key
  file itself (nothing of it in the database).

Start-up (:func:`sweep`, before any scheduled closing runs): keys of votes that are closed or
gone are destroyed (a crash between the commit and the destruction); an open vote without its
key — a backup restored after the vote closed, or a lost keys folder — gets a new key, its old
sealed ballots can no longer be read and count as not cast (an anonymous poll's unreadable voter
rows are removed), and the group is told that the ballots cast before must be cast again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hmac
import logging
import os
import re
import secrets as random
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from storage.db import Database, DatabaseError, DatabaseGone

log = logging.getLogger(__name__)

DECISION: Final = "decision"
POLL: Final = "poll"
KINDS: Final = (DECISION, POLL)

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 16
TAG_BYTES: Final = 16
#: Every sealed plaintext is padded to this many bytes: the length of a sealed choice says
#: nothing about the choice.
PAD: Final = 16
_NAME = re.compile(r"^(decision|poll)-([0-9]{1,19})\.key$")


class KeysError(DatabaseError):
    """The keys folder cannot be used (permissions, a file in its place, a full disk)."""


class SealError(Exception):
    """A sealed value that cannot be opened (wrong key, altered, or not a sealed value)."""


@functools.lru_cache(maxsize=256)
def _subkey(key: bytes, purpose: bytes) -> bytes:
    return hmac.digest(key, b"courtyard-seal-v1:" + purpose, "sha256")


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    enc = _subkey(key, b"enc")
    out = b""
    block = 0
    while len(out) < length:
        out += hmac.digest(enc, nonce + block.to_bytes(4, "big"), "sha256")
        block += 1
    return out[:length]


def _tag(key: bytes, context: bytes, nonce: bytes, body: bytes) -> bytes:
    mac = _subkey(key, b"mac")
    data = len(context).to_bytes(4, "big") + context + nonce + body
    return hmac.digest(mac, data, "sha256")[:TAG_BYTES]


def seal(key: bytes, context: str, plaintext: str) -> bytes:
    """``nonce || ciphertext || tag``; ``context`` (e.g. ``decision:3:17``) is authenticated,
    so a sealed value copied to another unit or vote does not open."""
    raw = plaintext.encode("utf-8")
    if len(raw) > PAD - 1:
        raise ValueError("too long to seal")
    padded = bytes([len(raw)]) + raw + b"\0" * (PAD - 1 - len(raw))
    nonce = random.token_bytes(NONCE_BYTES)
    body = bytes(a ^ b for a, b in zip(padded, _stream(key, nonce, PAD), strict=True))
    return nonce + body + _tag(key, context.encode(), nonce, body)


def unseal(key: bytes, context: str, sealed: bytes) -> str:
    if not isinstance(sealed, bytes | bytearray) or len(sealed) != NONCE_BYTES + PAD + TAG_BYTES:
        raise SealError("not a sealed value")
    nonce, body, tag = (
        bytes(sealed[:NONCE_BYTES]),
        bytes(sealed[NONCE_BYTES : NONCE_BYTES + PAD]),
        bytes(sealed[NONCE_BYTES + PAD :]),
    )
    if not hmac.compare_digest(tag, _tag(key, context.encode(), nonce, body)):
        raise SealError("the key does not open this value")
    padded = bytes(a ^ b for a, b in zip(body, _stream(key, nonce, PAD), strict=True))
    size = padded[0]
    if size > PAD - 1:
        raise SealError("damaged")
    return padded[1 : 1 + size].decode("utf-8")


def ballot_context(decision_id: int, unit_id: int) -> str:
    return f"{DECISION}:{decision_id}:{unit_id}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class KeyStore:
    """The keys folder of one database. Keys are cached in memory once read."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._cache: dict[tuple[str, int], bytes] = {}

    def path(self, kind: str, ref_id: int) -> Path:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of key: {kind}")
        return self.folder / f"{kind}-{int(ref_id)}.key"

    def _ensure_folder(self) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            mode = stat.S_IMODE(self.folder.stat().st_mode)
            if mode != 0o700:
                os.chmod(self.folder, 0o700)
        except OSError as exc:
            raise self._problem(exc) from exc
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise self._problem(PermissionError(13, "not writable"))

    def _problem(self, exc: OSError) -> KeysError:
        return KeysError(
            f"cannot use the keys folder {self.folder} ({exc.strerror or exc}): Courtyard keeps "
            "the keys of open secret votes there. Give the user running it write permission "
            "on it, or set COURTYARD_KEYS_DIR to a folder it may write (never the backup folder)."
        )

    def create(self, kind: str, ref_id: int, key: bytes | None = None) -> bytes:
        """A new random key for this vote (or ``key``, moved out of an older database). An old
        file of the same name is destroyed first: it belonged to a vote that a restored backup
        no longer has."""
        self._ensure_folder()
        target = self.path(kind, ref_id)
        if target.exists():
            self.destroy(kind, ref_id)
        key = random.token_bytes(KEY_BYTES) if key is None else key
        partial = target.with_name(f".{target.name}.{random.token_hex(4)}.new")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, key)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise self._problem(exc) from exc
        _fsync_dir(self.folder)
        self._cache[(kind, int(ref_id))] = key
        return key

    def get(self, kind: str, ref_id: int) -> bytes | None:
        cached = self._cache.get((kind, int(ref_id)))
        if cached is not None:
            return cached
        try:
            key = self.path(kind, ref_id).read_bytes()
        except FileNotFoundError:
            return None
        if len(key) != KEY_BYTES:
            log.warning("the key file %s is damaged; it is ignored", self.path(kind, ref_id))
            return None
        self._cache[(kind, int(ref_id))] = key
        return key

    def destroy(self, kind: str, ref_id: int) -> bool:
        """Overwrite the key file, flush it, unlink it, flush the folder. True if it existed."""
        self._cache.pop((kind, int(ref_id)), None)
        _subkey.cache_clear()  # nothing derived from a destroyed key stays in memory either
        target = self.path(kind, ref_id)
        try:
            fd = os.open(target, os.O_WRONLY)
        except FileNotFoundError:
            return False
        try:
            size = max(os.fstat(fd).st_size, KEY_BYTES)
            os.write(fd, random.token_bytes(size))
            os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, b"\0" * size)
            os.fsync(fd)
        finally:
            os.close(fd)
        target.unlink()
        _fsync_dir(self.folder)
        return True

    def held(self) -> list[tuple[str, int]]:
        """The (kind, id) of every key file in the folder."""
        if not self.folder.is_dir():
            return []
        found = []
        for entry in self.folder.iterdir():
            match = _NAME.match(entry.name)
            if match:
                found.append((match.group(1), int(match.group(2))))
            elif entry.name.endswith(".new"):  # a key being written when the process died
                with contextlib.suppress(OSError):
                    entry.unlink()
        return sorted(found)


def default_folder(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".keys")


_stores: dict[Path, KeyStore] = {}


def _norm(db_path: Path) -> Path:
    return Path(os.path.abspath(db_path))


def configure(db_path: Path, folder: Path | None) -> KeyStore:
    """Use ``folder`` for the keys of the database at ``db_path`` (None: the default)."""
    store = KeyStore(folder if folder is not None else default_folder(db_path))
    _stores[_norm(db_path)] = store
    return store


def keys_for(db_path: Path) -> KeyStore:
    """The key store of a database (the default folder unless :func:`configure` said else)."""
    found = _stores.get(_norm(db_path))
    if found is None:
        found = configure(db_path, None)
    return found


# --- start-up ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lost:
    """An open vote whose ballots cast before were sealed with a key that no longer exists."""

    kind: str
    ref_id: int
    chat_id: int
    title: str
    ballots: int


@dataclass(slots=True)
class Sweep:
    destroyed: list[tuple[str, int]] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)
    adopted: list[tuple[str, int]] = field(default_factory=list)  # moved out of the database
    lost: list[Lost] = field(default_factory=list)


def _open_votes(conn: sqlite3.Connection) -> dict[tuple[str, int], tuple[int, str]]:
    votes: dict[tuple[str, int], tuple[int, str]] = {}
    for row in conn.execute(
        "SELECT id, chat_id, title FROM decisions WHERE status = 'open' AND secret = 1"
    ):
        votes[(DECISION, int(row[0]))] = (int(row[1]), str(row[2]))
    for row in conn.execute(
        "SELECT id, chat_id, question FROM polls WHERE status = 'open' AND anonymous = 1"
    ):
        votes[(POLL, int(row[0]))] = (int(row[1]), str(row[2]))
    return votes


def sweep(db_path: Path, store: KeyStore | None = None) -> Sweep:
    """Bring the keys folder and the database into line (see the module text). Blocking, on
    its own connection: run at start-up, before scheduled closings, and after a /purge."""
    from storage import pg

    store = store or keys_for(db_path)
    store._ensure_folder()  # a folder the bot cannot use is one sentence at start, not later
    done = Sweep()
    url = pg.routed(db_path)
    if url is not None:  # PostgreSQL: the same checks, then VACUUM for what they deleted
        conn: Any = pg.SyncConnection(url)
        try:
            _sweep_on(conn, store, done)
            if done.adopted or done.lost:
                conn.vacuum(("decision_ballots", "poll_votes", "polls"))
        finally:
            conn.close()
        _log_sweep(done)
        return done
    # mode=rw: connecting never creates the file (a plain connect would leave an empty
    # database where the real one vanished, which the next start would take for a new one)
    uri = f"{Path(db_path).resolve().as_uri()}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
    except sqlite3.OperationalError as exc:
        if not Path(db_path).exists():
            raise DatabaseGone(
                f"the database file {db_path} is gone: the sealed ballots were not checked"
            ) from exc
        raise
    try:
        conn.execute("PRAGMA secure_delete = ON")
        _sweep_on(conn, store, done)
        if done.adopted or done.lost:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _log_sweep(done)
    return done


def _sweep_on(conn: Any, store: KeyStore, done: Sweep) -> None:
    """The sweep's one transaction, on a ``sqlite3`` connection or a
    :class:`storage.pg.SyncConnection`."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        votes = _open_votes(conn)
        for kind, ref_id in store.held():
            if (kind, ref_id) not in votes and store.destroy(kind, ref_id):
                done.destroyed.append((kind, ref_id))
        for (kind, ref_id), (chat_id, title) in sorted(votes.items()):
            _check_vote(conn, store, done, kind, ref_id, chat_id, title)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")
        raise


def _log_sweep(done: Sweep) -> None:
    for kind, ref_id in done.destroyed:
        log.info("destroyed the key of closed %s %s", kind, ref_id)
    for lost in done.lost:
        log.warning(
            "%s %s is open but its key is gone (restored from an older backup?): %d ballot(s)"
            " cast before cannot be read",
            lost.kind,
            lost.ref_id,
            lost.ballots,
        )


def _check_vote(
    conn: sqlite3.Connection,
    store: KeyStore,
    done: Sweep,
    kind: str,
    ref_id: int,
    chat_id: int,
    title: str,
) -> None:
    key = store.get(kind, ref_id)
    if kind == POLL:
        legacy = conn.execute("SELECT secret FROM polls WHERE id = ?", (ref_id,)).fetchone()
        if key is None and legacy is not None and legacy[0]:
            # a poll opened before the key store: its secret moves out of the database
            store.create(kind, ref_id, bytes(legacy[0]))
            conn.execute("UPDATE polls SET secret = NULL WHERE id = ?", (ref_id,))
            done.adopted.append((kind, ref_id))
            return
        if key is None:
            rows = conn.execute(
                "SELECT count(*) FROM poll_votes WHERE poll_id = ?", (ref_id,)
            ).fetchone()[0]
            conn.execute("DELETE FROM poll_votes WHERE poll_id = ?", (ref_id,))
            store.create(kind, ref_id)
            done.created.append((kind, ref_id))
            if rows:
                done.lost.append(Lost(kind, ref_id, chat_id, title, int(rows)))
        return
    if key is None:
        key = store.create(kind, ref_id)
        done.created.append((kind, ref_id))
        sealed = conn.execute(
            "SELECT count(*) FROM decision_ballots WHERE decision_id = ? AND sealed IS NOT NULL",
            (ref_id,),
        ).fetchone()[0]
        if sealed:
            done.lost.append(Lost(kind, ref_id, chat_id, title, int(sealed)))
    # ballots stored in the clear by an older Courtyard are sealed now
    plain = conn.execute(
        "SELECT unit_id, choice FROM decision_ballots WHERE decision_id = ? AND choice IS NOT NULL",
        (ref_id,),
    ).fetchall()
    for unit_id, choice in plain:
        conn.execute(
            "UPDATE decision_ballots SET sealed = ?, choice = NULL"
            " WHERE decision_id = ? AND unit_id = ?",
            (seal(key, ballot_context(ref_id, int(unit_id)), str(choice)), ref_id, unit_id),
        )
    if plain:
        done.adopted.append((kind, ref_id))


def open_choice(
    store: KeyStore, decision_id: int, unit_id: int, sealed: bytes | None
) -> str | None:
    """A sealed ballot's choice, or None (no sealed value, no key, or a key that does not open
    it: a ballot from before a restore whose key was destroyed counts as not cast)."""
    if sealed is None:
        return None
    key = store.get(DECISION, decision_id)
    if key is None:
        return None
    try:
        return unseal(key, ballot_context(decision_id, unit_id), bytes(sealed))
    except SealError:
        return None


def destroy_all(store: KeyStore, refs: Iterable[tuple[str, int]]) -> None:
    for kind, ref_id in refs:
        store.destroy(kind, ref_id)


async def prune(db: Database) -> list[tuple[str, int]]:
    """Destroy the keys of votes that are no longer open (their group was purged). Under the
    write lock: a vote being created holds it until its key and its row are both there."""
    store = keys_for(db.path)
    async with db.write() as conn:
        rows = await conn.execute_fetchall(
            "SELECT 'decision', id FROM decisions WHERE status = 'open' AND secret = 1"
            " UNION ALL SELECT 'poll', id FROM polls WHERE status = 'open' AND anonymous = 1"
        )
        still = {(str(r[0]), int(r[1])) for r in rows}
        gone = [held for held in store.held() if held not in still]
        for kind, ref_id in gone:
            store.destroy(kind, ref_id)
    return gone


# --- helpers for storage/decisions.py ---------------------------------------------------------


def seal_choice(db_path: Path, decision_id: int, unit_id: int, choice: str) -> bytes:
    """A secret decision's choice, sealed under the decision's key (made at its first ballot)."""
    store = keys_for(db_path)
    key = store.get(DECISION, decision_id) or store.create(DECISION, decision_id)
    return seal(key, ballot_context(decision_id, unit_id), choice)


def opened(db_path: Path, decision_id: int, ballot: Any, sealed: bytes | None) -> Any:
    """``ballot`` (a StoredBallot) with its sealed choice opened (see :func:`open_choice`)."""
    if sealed is None:
        return ballot
    choice = open_choice(keys_for(db_path), decision_id, ballot.unit_id, sealed)
    return dataclasses.replace(ballot, choice=choice)
