"""Fault-injecting HTTP servers for Python tests, from `outage serve`.

    with outage.serve("sequence", step=["reset", "status --code 503", "ok"]) as server:
        fetch_with_retries(server.url)
    assert len(server.journal()) == 3

The pytest plugin adds the fixture `outage_server`, a factory whose servers
stop at the end of the test: `server = outage_server("reset")`.
"""

from ._server import (
    STOP_TIMEOUT,
    WAIT_TIMEOUT,
    JournalTimeout,
    OutageError,
    OutageNotFound,
    Server,
    find_binary,
    option_flags,
    serve,
    start,
)

__version__ = "0.1.0"

__all__ = [
    "STOP_TIMEOUT",
    "WAIT_TIMEOUT",
    "JournalTimeout",
    "OutageError",
    "OutageNotFound",
    "Server",
    "find_binary",
    "option_flags",
    "serve",
    "start",
]
