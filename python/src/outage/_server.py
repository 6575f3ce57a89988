"""Start `outage serve`, hand out its URL, read its journal, stop it."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import queue
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union
from urllib.parse import urlsplit

#: How long a server has to exit after SIGTERM before it gets SIGKILL.
#: `outage serve` promises about 4 seconds whatever its connections are doing.
STOP_TIMEOUT = 5.0

#: How long `wait_for` waits when no timeout is given.
WAIT_TIMEOUT = 5.0

Attempt = Dict[str, Any]
Value = Union[str, int, float, bool, datetime.timedelta]

# The options `serve` passes itself.
_RESERVED = ("--journal", "--write-ca")


class OutageError(RuntimeError):
    """`outage serve` could not start, stopped badly, or did not do what was waited for."""


class OutageNotFound(OutageError, FileNotFoundError):
    """No `outage` binary: not given as `binary=`, not in `$OUTAGE_BIN`, not on PATH."""


class JournalTimeout(OutageError, TimeoutError):
    """`Server.wait_for` saw fewer attempts end than it waited for, within its timeout."""


def find_binary(binary: Union[str, "os.PathLike[str]", None] = None) -> str:
    """The `outage` binary to run: `binary`, else `$OUTAGE_BIN`, else `outage` on PATH.

    A `binary` or `$OUTAGE_BIN` that is given but is not an executable file is
    an error rather than a reason to look further, so a test never runs a
    binary other than the one it was pointed at.
    """
    hint = (
        "pass binary='/path/to/outage', set OUTAGE_BIN=/path/to/outage, "
        "or put `outage` on PATH (`cargo build --features cli` builds target/debug/outage)"
    )
    if binary is not None:
        found = shutil.which(os.fspath(binary))
        if found is None:
            raise OutageNotFound(f"binary={os.fspath(binary)!r} is not an executable file; {hint}")
        return os.path.abspath(found)
    env = os.environ.get("OUTAGE_BIN")
    if env:
        found = shutil.which(env)
        if found is None:
            raise OutageNotFound(f"OUTAGE_BIN={env!r} is not an executable file; {hint}")
        return os.path.abspath(found)
    found = shutil.which("outage")
    if found is None:
        raise OutageNotFound(f"no outage binary found: {hint}")
    return found


def _duration(value: datetime.timedelta) -> str:
    micros = value // datetime.timedelta(microseconds=1)
    if micros % 1000 == 0:
        return f"{micros // 1000}ms"
    return f"{micros}us"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.timedelta):
        return _duration(value)
    return str(value)


def option_flags(params: Dict[str, Any]) -> List[str]:
    """Keyword options as `outage serve` flags.

    `retry_after="2s"` is `--retry-after=2s`; `True` is `true`; a
    `timedelta` is a duration in milliseconds; a list or tuple repeats the
    flag (`step=["reset", "ok"]`); a dict sets a table's entries
    (`headers={"X-A": "1"}` is `--headers.X-A=1`); `None` leaves it out.
    """
    flags: List[str] = []
    for key, value in params.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if flag in _RESERVED:
            raise ValueError(f"{key}=: serve() passes {flag} itself")
        if isinstance(value, dict):
            flags += [f"{flag}.{k}={_text(v)}" for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            flags += [f"{flag}={_text(v)}" for v in value]
        else:
            flags.append(f"{flag}={_text(value)}")
    return flags


def _describe(attempt: Attempt) -> str:
    request = attempt.get("request") or {}
    line = " ".join(str(request[k]) for k in ("method", "target") if k in request)
    return f"#{attempt.get('index')} {line or '(no request)'}: {attempt.get('action')} ({attempt.get('ending')})"


def _read_first_line(stream: Any, lines: "queue.Queue[bytes]") -> None:
    # The URL, then whatever else comes, so that the pipe never fills.
    try:
        lines.put(stream.readline())
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        lines.put(b"")


class Server:
    """A running `outage serve`: its URL, its journal, and how to stop it.

    Made by `serve()` (a context manager), `start()`, or the pytest fixture
    `outage_server`. The journal can still be read after the server stops:
    it is read one last time, complete, before the temporary files go.
    """

    def __init__(self, fault: str, argv: List[str], directory: str, journal_path: str, ca: Optional[str]):
        self.fault = fault
        #: The command line that was run.
        self.argv = argv
        #: Path of the CA certificate (PEM) of an https server, else None.
        #: The file goes when the server stops.
        self.ca = ca
        #: Path of the JSON-lines journal `outage serve --journal` writes.
        self.journal_path = journal_path
        #: The base URL, from the first line of the server's stdout.
        self.url = ""
        #: The exit code once stopped: 0 for a clean stop.
        self.returncode: Optional[int] = None
        self.process: Optional[subprocess.Popen] = None
        self._directory = directory
        self._log_path = os.path.join(directory, "stderr.log")
        self._lines: "queue.Queue[bytes]" = queue.Queue()
        self._reader: Optional[threading.Thread] = None
        self._final_journal: Optional[List[Attempt]] = None
        self._final_log: Optional[str] = None
        self._killed = False
        self._stopped = False

    # Starting and stopping.

    def _start(self, timeout: float) -> None:
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log
            )
        self._reader = threading.Thread(
            target=_read_first_line, args=(self.process.stdout, self._lines), daemon=True
        )
        self._reader.start()
        try:
            first = self._lines.get(timeout=timeout)
        except BaseException as error:
            self._kill()
            if not isinstance(error, queue.Empty):
                raise  # an interrupt, with the server killed
            raise OutageError(
                f"{self.command} printed no URL within {timeout:g} s, so it was killed; "
                f"its stderr:\n{self.log()}"
            ) from None
        url = first.decode("utf-8", "replace").strip()
        if not url.startswith(("http://", "https://")):
            if not first:
                # Its stdout closed: it is exiting, with a message on stderr.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(STOP_TIMEOUT)
            self._kill()
            if not first:
                what = f"exited with code {self.process.returncode} before printing its URL"
            else:
                what = f"printed {url!r} where its URL was expected, so it was killed"
            raise OutageError(f"{self.command} {what}; its stderr:\n{self.log()}")
        self.url = url

    def _kill(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
            self._killed = True
        self.process.wait(STOP_TIMEOUT)
        self.returncode = self.process.returncode
        self._close()

    def _close(self) -> None:
        assert self.process is not None
        if self._reader is not None:
            self._reader.join(1.0)
        if self.process.stdout is not None and not (self._reader and self._reader.is_alive()):
            self.process.stdout.close()

    def stop(self, check: bool = False) -> Optional[int]:
        """Stop the server: SIGTERM, then SIGKILL if it is still running after
        `STOP_TIMEOUT` seconds. Reads the journal and stderr one last time,
        removes the temporary files, and returns the exit code. Stopping a
        stopped server does nothing.

        With `check=True`, raises `OutageError` unless the server exited 0
        on SIGTERM, as `outage serve` promises.
        """
        if not self._stopped:
            self._stopped = True
            try:
                self._stop_process()
            finally:
                if self.process is not None and self.process.poll() is None:
                    self.process.kill()  # interrupted while waiting
                try:
                    self._final_log = self._read_log()
                    self._final_journal = self._read_journal()
                finally:
                    shutil.rmtree(self._directory, ignore_errors=True)
        if check and self.returncode != 0:
            if self._killed:
                what = f"did not exit within {STOP_TIMEOUT:g} s of SIGTERM and was killed"
            else:
                what = f"exited with code {self.returncode}"
            raise OutageError(f"{self.command} {what}; its stderr:\n{self.log()}")
        return self.returncode

    def _stop_process(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self._killed = True
                self.process.wait(STOP_TIMEOUT)
        self.returncode = self.process.returncode
        self._close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        self.stop(check=kind is None)

    # What it saw.

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 0

    @property
    def command(self) -> str:
        return "outage serve " + shlex.join(self.argv[2:])

    def _read_journal(self) -> List[Attempt]:
        try:
            with open(self.journal_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        # A line is complete once its newline is written; a tail without one
        # is still being written.
        attempts = [json.loads(line) for line in data.split(b"\n")[:-1] if line.strip()]
        attempts.sort(key=lambda a: a.get("index", 0))
        return attempts

    def _read_log(self) -> str:
        try:
            with open(self._log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def journal(self) -> List[Attempt]:
        """The attempts that have ended, in the order they started (by `index`).

        Each is a dict of the journal's fields: `index`, `connection`,
        `started` and `ended` (seconds from the server's start), `peer`,
        `request`, `route`, `bytes_received`, `bytes_sent`, `action`,
        `ending`. An attempt is journaled as it ends, a moment after the
        client saw its end; `wait_for(n)` waits for that. After `stop()`,
        the complete journal.
        """
        if self._final_journal is not None:
            return list(self._final_journal)
        return self._read_journal()

    @property
    def attempts(self) -> int:
        """How many attempts have ended so far."""
        return len(self.journal())

    def gaps(self) -> List[float]:
        """Seconds from each attempt's start to the next one's: a retry schedule."""
        journal = self.journal()
        return [b["started"] - a["started"] for a, b in zip(journal, journal[1:])]

    def log(self) -> str:
        """What the server wrote on stderr: one line per attempt, and any error."""
        if self._final_log is not None:
            return self._final_log
        return self._read_log()

    def wait_for(self, n: int, timeout: float = WAIT_TIMEOUT) -> List[Attempt]:
        """Wait until at least `n` attempts have ended, then return the journal.

        Raises `JournalTimeout` after `timeout` seconds, and `OutageError` at
        once if the server has stopped with fewer.
        """
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            journal = self.journal()
            if len(journal) >= n:
                return journal
            if not self.running:
                # Read once more: the last lines are written as it exits.
                self.stop()
                journal = self.journal()
                if len(journal) >= n:
                    return journal
                raise OutageError(
                    f"{self.command} stopped (exit code {self.returncode}) after "
                    f"{len(journal)} attempts, short of {n}:{self._list(journal)}\n"
                    f"its stderr:\n{self.log()}"
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise JournalTimeout(
                    f"waited {timeout:g} s for {n} attempts to end at {self.url}, "
                    f"{len(journal)} did:{self._list(journal)}\n"
                    "(an attempt is journaled when it ends: a request on a kept-alive "
                    "connection ends when the next request on it arrives or the "
                    "connection closes, so close the response or the session)"
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)

    @staticmethod
    def _list(journal: List[Attempt]) -> str:
        return "".join(f"\n  {_describe(a)}" for a in journal)

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped ({self.returncode})"
        return f"<outage.Server {self.fault} {self.url or '(no URL)'} pid={self.process and self.process.pid} {state}>"


def start(
    fault: str,
    *options: Any,
    binary: Union[str, "os.PathLike[str]", None] = None,
    tls: bool = False,
    http2: bool = False,
    timeout: float = 10.0,
    **params: Any,
) -> Server:
    """Start `outage serve FAULT [OPTIONS...]` and return it running; the
    caller stops it (`server.stop()`, or `with start(...) as server:`).
    See `serve()` for the arguments."""
    exe = find_binary(binary)
    tokens = [str(o) for o in options] + option_flags(params)
    for token in tokens:
        if token.split("=", 1)[0] in _RESERVED:
            raise ValueError(f"{token}: serve() passes {token.split('=', 1)[0]} itself")
    fault = str(fault)
    tls_fault = fault.startswith("tls-")
    # A sequence, chance or routes with a tls-* fault among its steps is
    # https as a whole; outage refuses --write-ca for a plain HTTP server.
    https = tls or tls_fault or "--tls" in tokens or any("tls-" in t for t in tokens)
    argv = [exe, "serve", fault, *tokens]
    if tls and not tls_fault and "--tls" not in tokens:
        argv.append("--tls")
    if http2 and "--http2" not in tokens:
        argv.append("--http2")
    directory = tempfile.mkdtemp(prefix="outage-py-")
    try:
        journal = os.path.join(directory, "journal.jsonl")
        argv += ["--journal", journal]
        ca = None
        if https:
            ca = os.path.join(directory, "ca.pem")
            argv += ["--write-ca", ca]
        server = Server(fault, argv, directory, journal, ca)
        server._start(timeout)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return server


@contextlib.contextmanager
def serve(
    fault: str,
    *options: Any,
    binary: Union[str, "os.PathLike[str]", None] = None,
    tls: bool = False,
    http2: bool = False,
    timeout: float = 10.0,
    **params: Any,
) -> Iterator[Server]:
    """Run `outage serve FAULT` for the length of a `with` block.

    Options go as on the command line, `serve("status", "--code", "503")`,
    or as keywords, `serve("status", code=503, retry_after="2s")`. The binary
    is `binary`, else `$OUTAGE_BIN`, else `outage` on PATH. `tls=True` serves
    the fault behind TLS; for an https server `server.ca` is the path of its
    CA certificate. `http2=True` serves HTTP/2 as well (prior knowledge on
    http, ALPN on https); the `h2-*` faults always do. A server that prints no URL within `timeout` seconds is
    killed and `OutageError` raised with its stderr.

    On leaving the block the server gets SIGTERM (SIGKILL after
    `STOP_TIMEOUT` seconds) and its temporary files are removed; its journal
    stays readable on the `Server`. If the block ended normally, a server
    that did not exit 0 raises `OutageError`.
    """
    server = start(fault, *options, binary=binary, tls=tls, http2=http2, timeout=timeout, **params)
    try:
        yield server
    except BaseException:
        server.stop()
        raise
    server.stop(check=True)
