"""The pytest fixture `outage_server`, which the package registers through
the pytest11 entry point."""

import os
import time
import urllib.request

import outage


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def fetch_with_retries(url, attempts=3, backoff=0.1):
    """The code under test: retry on any connection error or HTTP error."""
    for attempt in range(attempts):
        try:
            return fetch(url)
        except OSError as error:
            if hasattr(error, "close"):
                error.close()  # an HTTPError holds its response
            if attempt == attempts - 1:
                raise
        time.sleep(backoff)


def test_the_fixture_is_registered_by_the_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.hasplugin("outage")


def test_the_fixture_starts_servers(outage_server):
    first = outage_server("ok", body="first")
    second = outage_server("status", "--code", "204")
    assert isinstance(first, outage.Server) and first.running and second.running
    assert fetch(first.url) == (200, b"first")
    assert fetch(second.url) == (204, b"")
    assert first.wait_for(1)[0]["action"] == "answered 200"


def test_a_retry_test_in_five_lines(outage_server):
    server = outage_server("sequence", step=["reset", "status --code 503", "ok"])
    assert fetch_with_retries(server.url) == (200, b"ok\n")
    assert server.wait_for(3)[-1]["action"] == "answered 200"
    assert all(gap >= 0.1 for gap in server.gaps())


INNER = '''
import os


def test_starts(outage_server):
    server = outage_server("hang")
    other = outage_server("tls-ok")
    with open("servers.txt", "w") as f:
        for s in (server, other):
            f.write(f"{s.pid} {os.path.dirname(s.journal_path)}\\n")
    assert server.running and other.running
'''


def test_the_fixture_stops_every_server_at_teardown(pytester):
    pytester.makepyfile(INNER)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    for line in (pytester.path / "servers.txt").read_text().splitlines():
        pid, directory = line.split()
        assert not os.path.exists(directory)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            pass
        else:
            raise AssertionError(f"outage serve (pid {pid}) still running after teardown")


def test_the_fixture_fails_a_test_whose_server_died(pytester):
    pytester.makepyfile(
        """
        import os, signal

        def test_dies(outage_server):
            server = outage_server("ok")
            os.kill(server.pid, signal.SIGKILL)
            server.process.wait(5)
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*OutageError*exited with code -9*"])
