"""A throwaway PostgreSQL cluster for tests and benchmarks (never for production).

:func:`start` makes a cluster in a temporary folder with Debian's server binaries
(``/usr/lib/postgresql/<n>/bin``, or ``COURTYARD_PG_BIN``), listening on 127.0.0.1 on a free
port, trusting local connections, and returns a :class:`Cluster` with its ``url``. ``initdb``
refuses to run as root, so when this process is root the cluster's folder is given to the
``nobody`` user and the server runs as that user (``runuser``). :meth:`Cluster.stop` stops the
server and deletes the folder.

``python -m storage.pgcluster`` starts one, prints its URL and keeps it until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The user a cluster runs as when this process is root (initdb refuses root).
RUN_AS = "nobody"


def bin_dir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: ``COURTYARD_PG_BIN``, else the newest
    ``/usr/lib/postgresql/*/bin``, else the folder of ``initdb`` on the PATH."""
    explicit = os.environ.get("COURTYARD_PG_BIN")
    if explicit:
        return Path(explicit)

    def major(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=major)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def available() -> bool:
    return bin_dir() is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int
    user: str = "courtyard"
    _as: str | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as is not None:
            command = ["runuser", "-u", self._as, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)

    def stop(self) -> None:
        pg_ctl = bin_dir()
        if pg_ctl is not None and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run(str(pg_ctl / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start(*, fsync: bool = False) -> Cluster:
    """Start a new empty cluster; ``fsync=False`` (tests) trades durability for speed."""
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError(
            "no PostgreSQL server binaries found (install Debian's postgresql package or set "
            "COURTYARD_PG_BIN)"
        )
    folder = Path(tempfile.mkdtemp(prefix="courtyard-pg-"))
    run_as = None
    if os.geteuid() == 0:
        run_as = RUN_AS
        entry = pwd.getpwnam(RUN_AS)
        os.chmod(folder, 0o755)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(folder, _free_port(), _as=run_as)
    try:
        cluster._run(
            str(binaries / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            cluster.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {folder} "
            f"-c fsync={'on' if fsync else 'off'} -c synchronous_commit={'on' if fsync else 'off'} "
            "-c full_page_writes=off -c max_connections=200"
        )
        cluster._run(
            str(binaries / "pg_ctl"),
            "-D",
            str(cluster.data),
            "-l",
            str(folder / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


if __name__ == "__main__":  # pragma: no cover - a convenience for people
    running = start()
    print(running.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
