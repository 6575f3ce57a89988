"""outage.serve() against the real `outage` binary ($OUTAGE_BIN), with the
standard library's clients and, where installed, requests. Loopback only;
every server binds a port the OS picks; every wait is bounded."""

import datetime
import http.client
import os
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.request

import pytest

import outage

FIELDS = {
    "index",
    "connection",
    "started",
    "ended",
    "peer",
    "request",
    "route",
    "bytes_received",
    "bytes_sent",
    "action",
    "ending",
}


def get_with_retries(url, delays=(0.1, 0.2), timeout=5, context=None):
    """A small retry loop, the kind of code these servers are for: retry on
    any connection error or 5xx, sleeping `delays[i]` before retry i+1."""
    for delay in (*delays, None):
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
                return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()
                if error.code < 500:
                    raise
            if delay is None:
                raise
        time.sleep(delay)


def test_a_503_is_answered_and_journaled():
    with outage.serve("status", "--code", "503", "--header", "Retry-After: 2") as server:
        assert server.url.startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(server.url + "/orders?id=7", timeout=5)
        raised.value.close()
        assert raised.value.code == 503
        assert raised.value.headers["Retry-After"] == "2"
        [attempt] = server.wait_for(1)
    assert FIELDS <= set(attempt)
    assert attempt["index"] == 0
    assert attempt["action"] == "answered 503"
    assert attempt["request"]["method"] == "GET"
    assert attempt["request"]["target"] == "/orders?id=7"
    assert attempt["peer"].startswith("127.0.0.1:")
    assert attempt["bytes_received"] > 0 and attempt["bytes_sent"] > 0
    assert 0 <= attempt["started"] <= attempt["ended"]
    assert server.attempts == 1
    assert server.gaps() == []


def test_keyword_options_with_http_client():
    with outage.serve("status", code=503, retry_after="2s", body="busy") as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            connection.request("POST", "/jobs", body=b"{}", headers={"Connection": "close"})
            response = connection.getresponse()
            assert (response.status, response.getheader("Retry-After"), response.read()) == (
                503,
                "2",
                b"busy",
            )
        finally:
            connection.close()
        [attempt] = server.wait_for(1)
    assert attempt["request"]["method"] == "POST"
    assert attempt["action"] == "answered 503"


def test_a_503_with_requests():
    requests = pytest.importorskip("requests")

    def status_of(url):
        # requests keeps a connection open while its response lives (close()
        # only hands it back to the pool), and outage journals a request on a
        # kept-alive connection when the connection's next request or its end
        # comes; so the response goes with this call, as in most client code.
        return requests.get(url, timeout=5).status_code

    with outage.serve("status", code=503) as server:
        assert status_of(server.url) == 503
        assert server.wait_for(1)[0]["action"] == "answered 503"


def test_a_retry_loop_meets_reset_then_503_then_ok():
    with outage.serve("sequence", step=["reset", "status --code 503", "ok"]) as server:
        assert get_with_retries(server.url) == (200, b"ok\n")
        journal = server.wait_for(3)
        assert len(journal) == 3
        assert [a["action"] for a in journal] == [
            "reset after the request",
            "answered 503",
            "answered 200",
        ]
        assert journal[0]["ending"] == "server-rst"
        first, second = server.gaps()
        # Start to start: each at least the loop's sleep, and not much more.
        assert 0.1 <= first < 2.1
        assert 0.2 <= second < 2.2
    assert len(server.journal()) == 3


def test_a_retry_loop_with_requests_and_urllib3_retry():
    requests = pytest.importorskip("requests")
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=3, backoff_factor=0.1, status_forcelist=[503], allowed_methods=None)
    with outage.serve("sequence", "--step", "reset", "--step", "status --code 503", "--step", "ok") as server:
        with requests.Session() as session:
            session.mount("http://", HTTPAdapter(max_retries=retry))
            assert session.get(server.url, timeout=5).status_code == 200
    # After the block the journal is complete, kept-alive connections and all;
    # an answered request whose connection was still open when the server
    # stopped reads "cut short by server stop after 104 bytes sent; planned:
    # answered 200", hence endswith below.
    journal = server.journal()
    assert len(journal) == 3
    assert journal[0]["action"] == "reset after the request"
    assert journal[1]["action"] == "answered 503"
    assert journal[2]["action"].endswith("answered 200")
    # urllib3 retries the first failure at once, then backs off 0.2 s.
    assert server.gaps()[1] >= 0.2


def test_tls_ok_is_trusted_through_its_ca():
    with outage.serve("tls-ok") as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert os.path.isfile(server.ca)
        context = ssl.create_default_context(cafile=server.ca)
        with urllib.request.urlopen(server.url, timeout=5, context=context) as response:
            assert (response.status, response.read()) == (200, b"ok\n")
        # Without the CA the same server is an unknown issuer.
        with pytest.raises(urllib.error.URLError) as raised:
            urllib.request.urlopen(server.url, timeout=5, context=ssl.create_default_context())
        assert isinstance(raised.value.reason, ssl.SSLCertVerificationError)
        journal = server.wait_for(2)
    assert journal[0]["action"].startswith("TLS handshake done")
    assert journal[0]["action"].endswith("answered 200")
    assert journal[1]["action"].startswith("TLS handshake failed")


def test_any_fault_behind_tls():
    with outage.serve("sequence", step=["status --code 503", "ok"], tls=True) as server:
        assert server.url.startswith("https://")
        context = ssl.create_default_context(cafile=server.ca)
        assert get_with_retries(server.url, context=context) == (200, b"ok\n")
        assert [a["action"].split("; ")[-1] for a in server.wait_for(2)] == ["answered 503", "answered 200"]


def test_a_sequence_with_a_tls_step_gets_a_ca():
    with outage.serve("sequence", step=["tls-expired", "tls-ok"]) as server:
        assert server.url.startswith("https://")
        context = ssl.create_default_context(cafile=server.ca)
        with pytest.raises(urllib.error.URLError) as raised:
            urllib.request.urlopen(server.url, timeout=5, context=context)
        assert "expired" in str(raised.value.reason)
        with urllib.request.urlopen(server.url, timeout=5, context=context) as response:
            assert response.status == 200


def test_wait_for_times_out_within_its_bound():
    with outage.serve("ok") as server:
        started = time.monotonic()
        with pytest.raises(outage.JournalTimeout) as raised:
            server.wait_for(1, timeout=0.3)
        took = time.monotonic() - started
        assert 0.3 <= took < 2
        assert "waited 0.3 s for 1 attempts" in str(raised.value)
        assert isinstance(raised.value, TimeoutError)


def test_a_kept_alive_request_ends_when_its_connection_does():
    with outage.serve("ok") as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            connection.request("GET", "/")
            assert connection.getresponse().read() == b"ok\n"
            # Answered, but the attempt has not ended: the connection is open.
            with pytest.raises(outage.JournalTimeout, match="kept-alive"):
                server.wait_for(1, timeout=0.3)
        finally:
            connection.close()
        assert server.wait_for(1)[0]["ending"] == "client-fin"


def test_the_process_and_its_files_are_gone_after_the_block():
    with outage.serve("tls-ok") as server:
        pid, journal, ca = server.pid, server.journal_path, server.ca
        directory = os.path.dirname(journal)
        assert os.path.isfile(ca) and os.path.isdir(directory)
        os.kill(pid, 0)  # running
    assert server.returncode == 0
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not os.path.exists(journal)
    assert not os.path.exists(ca)
    assert not os.path.exists(directory)


def test_an_error_in_the_block_still_stops_the_server():
    with pytest.raises(ZeroDivisionError):
        with outage.serve("ok") as server:
            pid, directory = server.pid, os.path.dirname(server.journal_path)
            1 / 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not os.path.exists(directory)


def test_stopping_cuts_a_hanging_attempt_short_within_the_bound():
    with outage.serve("hang") as server:
        client = socket.create_connection((server.host, server.port), timeout=5)
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        started = time.monotonic()
    took = time.monotonic() - started
    client.close()
    assert took < outage.STOP_TIMEOUT
    assert server.returncode == 0
    [attempt] = server.journal()
    assert attempt["action"].startswith("cut short by server stop")


def test_servers_run_side_by_side_on_ports_of_their_own():
    with outage.serve("ok") as first, outage.serve("ok", body="two") as second:
        assert first.port != second.port
        assert get_with_retries(first.url, delays=()) == (200, b"ok\n")
        assert get_with_retries(second.url, delays=()) == (200, b"two")


def test_a_bad_option_reports_outage_s_message(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(outage.OutageError, match="exited with code 2 before printing its URL") as raised:
        with outage.serve("status", code="abc"):
            pass
    assert "expected a status code" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_prints_no_url_is_killed_after_the_timeout(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    mute = tmp_path / "mute-outage"
    mute.write_text("#!/bin/sh\necho 'starting, slowly' >&2\nexec sleep 30\n")
    mute.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(outage.OutageError, match="printed no URL within 0.5 s") as raised:
        with outage.serve("ok", binary=mute, timeout=0.5):
            pass
    assert time.monotonic() - started < 3
    assert "starting, slowly" in str(raised.value)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_missing_binary_names_every_way_to_give_one(monkeypatch, tmp_path):
    monkeypatch.delenv("OUTAGE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(outage.OutageNotFound) as raised:
        with outage.serve("ok"):
            pass
    message = str(raised.value)
    assert "binary=" in message and "OUTAGE_BIN" in message and "PATH" in message
    assert isinstance(raised.value, FileNotFoundError)

    with pytest.raises(outage.OutageNotFound, match="binary='/nonexistent/outage'"):
        outage.find_binary("/nonexistent/outage")
    monkeypatch.setenv("OUTAGE_BIN", str(tmp_path / "outage"))
    with pytest.raises(outage.OutageNotFound, match="OUTAGE_BIN="):
        outage.find_binary()


def test_keyword_options_become_flags():
    assert outage.option_flags(
        {
            "code": 503,
            "retry_after": "2s",
            "step": ["reset", "status --code 503"],
            "headers": {"X-A": "1"},
            "delay": datetime.timedelta(milliseconds=1500),
            "flag": True,
            "unset": None,
        }
    ) == [
        "--code=503",
        "--retry-after=2s",
        "--step=reset",
        "--step=status --code 503",
        "--headers.X-A=1",
        "--delay=1500ms",
        "--flag=true",
    ]
    with pytest.raises(ValueError, match="--journal"):
        outage.option_flags({"journal": "x.jsonl"})


def test_http2_is_served_to_a_client_that_speaks_it():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    with outage.serve("ok", http2=True) as server:
        with httpx.Client(http1=False, http2=True, timeout=5) as client:
            response = client.get(server.url)
        assert (response.http_version, response.status_code) == ("HTTP/2", 200)
        # A client that speaks HTTP/1.1 is served HTTP/1.1 on the same port.
        assert get_with_retries(server.url) == (200, b"ok\n")
        lines = [a["request"]["version"] for a in server.wait_for(2)]
        assert sorted(lines) == ["HTTP/1.1", "HTTP/2"]
