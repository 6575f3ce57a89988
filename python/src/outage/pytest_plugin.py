"""The pytest plugin, registered through the `pytest11` entry point."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List

import pytest

from ._server import OutageError, Server, start


@pytest.fixture
def outage_server() -> Iterator[Callable[..., Server]]:
    """A factory: `outage_server(fault, *options, **keywords)` starts
    `outage serve` as `outage.serve()` does and returns the running `Server`.
    Every server it started is stopped when the test ends, and its journal
    stays readable; a server that did not stop cleanly fails the test."""
    servers: List[Server] = []

    def factory(fault: str, *options: Any, **keywords: Any) -> Server:
        server = start(fault, *options, **keywords)
        servers.append(server)
        return server

    yield factory
    errors = []
    for server in reversed(servers):
        try:
            server.stop(check=True)
        except OutageError as error:
            errors.append(error)
    if errors:
        raise errors[0]
