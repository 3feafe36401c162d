"""A real, throw-away PostgreSQL server for the tests.

Why: the project's rule is "real parts, not mocks".  The database layer (SQLAlchemy 2 + Alembic
on psycopg 3) is tested against the same kind of server it runs on in production, not SQLite and
not a mocked session, so that SQL dialect, transactions, constraints and migrations behave as they
really do.

How:

* The tests start the server themselves: ``initdb`` a fresh cluster in a temporary directory, start
  it with ``pg_ctl``, create the database ``veidlapas``, and stop it (``pg_ctl stop -m fast``) at the
  end.  Nothing is installed, configured or left running outside that directory.  The binaries come
  from the Debian package ``postgresql`` (``/usr/lib/postgresql/<version>/bin``), which ``make test``
  installs; :func:`find_binaries` picks the newest installed version.
* Loopback only: the server listens on 127.0.0.1 on a free port and puts its unix socket in the
  temporary directory; authentication is ``trust`` for those two (and nothing else), which is safe
  because nothing outside this machine can reach the server.
* Durability is switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``): the data is
  thrown away anyway and start-up and tests are much faster.
* PostgreSQL refuses to run as root.  When the tests run as root (as in CI), every PostgreSQL
  command runs as the ``postgres`` system user created by the Debian package (``runuser -u
  postgres -- ...``), the cluster's files are owned by that user, and the superuser role is
  ``postgres``.  Otherwise the binaries run as the current user and the role has the current
  user's name.

Usage (e.g. in a session-scoped fixture)::

    with PostgresServer() as pg:
        engine = sqlalchemy.create_engine(pg.url)
        other_url = pg.create_database("test_one")

If PostgreSQL is not installed, :class:`PostgresUnavailable` is raised with a message saying how
to install it; whether that fails or skips the tests (it must fail when ``CI=true``) is for the
caller to decide.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg
from psycopg import sql

__all__ = ["DEFAULT_DATABASE", "PostgresServer", "PostgresUnavailable", "find_binaries"]

DEFAULT_DATABASE = "veidlapas"
POSTGRES_USER = "postgres"  # the system user (and role) created by Debian's `postgresql` package
START_TIMEOUT = 30  # seconds
STOP_TIMEOUT = 30  # seconds
DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
INSTALL_HINT = (
    "Run `make test` (it installs the Debian package `postgresql`) "
    "or install it yourself: `sudo apt-get install postgresql`."
)
# Linux limits a unix socket path to 107 bytes; ".s.PGSQL.<port>" needs up to 15 of them.
MAX_SOCKET_DIR = 107 - len("/.s.PGSQL.65535")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed (or cannot be run) on this machine."""


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def find_binaries() -> Path:
    """The ``bin`` directory of the newest installed PostgreSQL (one with ``initdb`` and ``pg_ctl``).

    Looks in Debian's ``/usr/lib/postgresql/<version>/bin`` first, then for ``initdb`` on ``PATH``.
    Raises :class:`PostgresUnavailable` if there is none.
    """
    candidates = [
        bin_dir
        for bin_dir in map(Path, glob.glob(DEBIAN_GLOB))
        if _is_executable(bin_dir / "initdb") and _is_executable(bin_dir / "pg_ctl")
    ]
    if candidates:
        return max(candidates, key=_version_key)
    on_path = shutil.which("initdb")
    if on_path and _is_executable(Path(on_path).parent / "pg_ctl"):
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        f"PostgreSQL is not installed: no initdb and pg_ctl in {DEBIAN_GLOB} or on PATH. "
        f"The tests need a real PostgreSQL server (they start it themselves). {INSTALL_HINT}"
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _runuser() -> str:
    """Path of `runuser` (util-linux; in /usr/sbin, which a non-login PATH may lack), or ""."""
    return shutil.which("runuser") or next(
        (path for path in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(path, os.X_OK)), ""
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no server log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or f"(server log {path} is empty)"


class PostgresServer:
    """A PostgreSQL cluster in ``base_dir`` (a fresh temporary directory if omitted).

    ``base_dir`` holds ``data/`` (the cluster), ``socket/`` (the unix socket) and ``postgres.log``.
    When running as root it must be traversable by the ``postgres`` user (every parent directory
    needs the ``x`` bit for others -- pytest's ``tmp_path`` under root is *not*: it is 0700); the
    default, a ``tempfile.mkdtemp()`` directory in /tmp made 0755, is.  A directory created here is
    removed again by :meth:`stop`.
    """

    def __init__(self, base_dir: Path | None = None, *, database: str = DEFAULT_DATABASE) -> None:
        self._own_base_dir = base_dir is None
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.database = database
        self.bin_dir: Path | None = None
        self.port: int | None = None
        self.as_root = os.geteuid() == 0
        self.user = POSTGRES_USER if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        self._running = False

    # -- paths --------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base() / "socket"

    @property
    def log_path(self) -> Path:
        return self._base() / "postgres.log"

    def _base(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("PostgresServer has not been started")
        return self.base_dir

    # -- URLs ---------------------------------------------------------------------------------

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver, TCP on 127.0.0.1) of ``database`` on this server."""
        if self.port is None:
            raise RuntimeError("PostgresServer has not been started")
        user, database = quote(self.user, safe=""), quote(database, safe="")
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``veidlapas`` database."""
        return self.url_for(self.database)

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A plain psycopg connection (autocommit) to ``database``, for set-up chores."""
        if self.port is None:
            raise RuntimeError("PostgresServer has not been started")
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
            sslmode="disable",
        )

    # -- databases ----------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (owned by the superuser) and return its SQLAlchemy URL."""
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting any sessions still using it."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- running commands ---------------------------------------------------------------------

    def _command(self, program: str, *args: str | os.PathLike[str]) -> list[str]:
        assert self.bin_dir is not None
        argv = [str(self.bin_dir / program), *map(str, args)]
        if self.as_root:
            argv = [_runuser(), "-u", POSTGRES_USER, "--", *argv]
        return argv

    def _run(
        self, program: str, *args: str | os.PathLike[str], timeout: float
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._command(program, *args),
            cwd=self._base(),  # a directory the postgres user can enter (not /root)
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _fail(self, what: str, result: subprocess.CompletedProcess | None = None) -> PostgresUnavailable:
        parts = [f"PostgreSQL test server: {what}."]
        if result is not None:
            output = (result.stdout + result.stderr).strip()
            parts.append(f"`{' '.join(result.args)}` exited with {result.returncode}:\n{output}")
        parts.append(f"Last lines of the server log {self.log_path}:\n{_tail(self.log_path)}")
        return PostgresUnavailable("\n".join(parts))

    # -- set-up -------------------------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        if self.base_dir is None:
            self.base_dir = Path(tempfile.mkdtemp(prefix="veidlapas-pg-"))
            self.base_dir.chmod(0o755)
        else:
            self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir = self.base_dir.resolve()
        if len(str(self.socket_dir)) > MAX_SOCKET_DIR:
            raise PostgresUnavailable(
                f"PostgreSQL test server: base directory {self.base_dir} is too long for a unix "
                f"socket path (at most {MAX_SOCKET_DIR} characters for {self.socket_dir}); use a "
                "shorter one, e.g. the default tempfile.mkdtemp() directory."
            )
        if self.data_dir.exists():
            raise PostgresUnavailable(f"PostgreSQL test server: {self.data_dir} exists already")
        for directory in (self.data_dir, self.socket_dir):
            directory.mkdir(mode=0o700)
        self.log_path.touch(mode=0o600)
        if self.as_root:
            self._check_postgres_user_can_reach(self.base_dir)
            account = pwd.getpwnam(POSTGRES_USER)
            for path in (self.data_dir, self.socket_dir, self.log_path):
                os.chown(path, account.pw_uid, account.pw_gid)

    def _check_postgres_user_can_reach(self, directory: Path) -> None:
        if not _runuser():
            raise PostgresUnavailable(
                "PostgreSQL test server: running as root needs `runuser` (package util-linux) "
                "to start PostgreSQL as the `postgres` user."
            )
        try:
            account = pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise PostgresUnavailable(
                "PostgreSQL test server: running as root, but there is no `postgres` system user "
                f"to run PostgreSQL as (PostgreSQL refuses to run as root). {INSTALL_HINT}"
            ) from None
        groups = set(os.getgrouplist(POSTGRES_USER, account.pw_gid))
        for path in (directory, *directory.parents):
            st = path.stat()
            if st.st_uid == account.pw_uid:
                ok = st.st_mode & 0o100
            elif st.st_gid in groups:
                ok = st.st_mode & 0o010
            else:
                ok = st.st_mode & 0o001
            if not ok:
                raise PostgresUnavailable(
                    f"PostgreSQL test server: the `postgres` user cannot enter {path} "
                    f"(mode {st.st_mode & 0o777:o}), a parent of {directory}. Use a base directory "
                    "under /tmp whose parents are 0755, e.g. PostgresServer() without base_dir."
                )

    def _initdb(self) -> None:
        result = self._run(
            "initdb",
            "--pgdata",
            self.data_dir,
            "--username",
            self.user,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
            timeout=120,
        )
        if result.returncode != 0:
            raise self._fail("initdb failed", result)
        # Written by us (root or the owner) into the cluster, so ownership is kept.
        with (self.data_dir / "pg_hba.conf").open("w") as hba:
            hba.write(
                "# Test server: trust, but only the unix socket (in a private directory) and loopback.\n"
                "local all all trust\n"
                "host  all all 127.0.0.1/32 trust\n"
            )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# --- veidlapas test server ---\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = {_conf_quote(str(self.socket_dir))}\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "logging_collector = off\n"
                "log_min_messages = warning\n"
                "max_connections = 200\n"
            )

    def _pg_ctl_start(self, port: int) -> subprocess.CompletedProcess:
        return self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            self.data_dir,
            "--log",
            self.log_path,
            "--wait",
            "--timeout",
            str(START_TIMEOUT),
            "--options",
            f"-p {port}",
            timeout=START_TIMEOUT + 15,
        )

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise self._fail(
                        f"server does not accept connections on port {self.port}: {exc}"
                    ) from exc
                time.sleep(0.1)

    def start(self) -> PostgresServer:
        """initdb, start on a free loopback port, wait until it accepts connections, create ``veidlapas``."""
        if self._running:
            return self
        self.bin_dir = find_binaries()
        atexit.register(self.stop)  # safety net if the caller never stops it
        try:
            self._prepare_dirs()
            self._initdb()
            for attempt in range(3):  # another process may take the free port before the server binds it
                self.port = _free_port()
                result = self._pg_ctl_start(self.port)
                if result.returncode == 0:
                    break
                log_tail = _tail(self.log_path, 10)
                port_taken = "could not bind" in log_tail or "already in use" in log_tail
                if not port_taken or attempt == 2:
                    raise self._fail("the server did not start", result)
            self._running = True
            self._wait_until_accepting()
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    # -- tear-down ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``); harmless if it is not running."""
        atexit.unregister(self.stop)
        if self.base_dir is None or self.bin_dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            try:
                result = self._run(
                    "pg_ctl",
                    "stop",
                    "--pgdata",
                    self.data_dir,
                    "--mode",
                    "fast",
                    "--wait",
                    "--timeout",
                    str(STOP_TIMEOUT),
                    timeout=STOP_TIMEOUT + 15,
                )
                stopped = result.returncode == 0
            except subprocess.TimeoutExpired:
                stopped = False
            if not stopped:
                self._kill_leftover()
        self._running = False
        if self._own_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _kill_leftover(self) -> None:
        """Last resort: SIGQUIT (immediate shutdown) the postmaster named in postmaster.pid."""
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)  # raises ProcessLookupError (an OSError) once it is gone
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)

    # -- context manager ----------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port {self.port}" if self._running else "stopped"
        return f"<PostgresServer {state} in {self.base_dir}>"
