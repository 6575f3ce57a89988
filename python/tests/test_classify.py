"""The shared classifiers, on exceptions built by hand: no server, no network."""
import http.client
import json
import ssl

import pytest

from outage.classify import chain, is_a, qualname, report, tls_kind


def raised(exc, cause=None):
    """`exc` as Python leaves it after `raise exc from cause`."""
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def test_qualname_writes_builtins_bare_and_modules_in_full():
    assert qualname(OSError) == "OSError"
    assert qualname(http.client.RemoteDisconnected) == "http.client.RemoteDisconnected"


def test_is_a_leaves_out_the_universal_bases():
    assert is_a(ConnectionRefusedError) == ["ConnectionRefusedError", "ConnectionError", "OSError"]


def test_chain_walks_cause_context_reason_and_args():
    inner = ConnectionResetError(104, "reset")
    wrapper = Exception("wrapped", inner)
    wrapper.reason = ValueError("reason")
    outer = raised(RuntimeError("outer"), cause=wrapper)
    kinds = [type(e) for e in chain(outer)]
    assert kinds == [RuntimeError, Exception, ValueError, ConnectionResetError]


def test_tls_kind_reads_the_verify_code_and_skips_errors_without_one():
    expired = ssl.SSLCertVerificationError(1, "certificate has expired")
    expired.verify_code = 10
    without_code = ssl.SSLCertVerificationError(1, "no code")
    assert tls_kind([without_code, expired]) == "expired"
    assert tls_kind([ssl.SSLError(1, "wrong version number")]) == "protocol"


def test_report_prints_one_json_line_and_returns_the_exit_code(capsys):
    assert report("error", exc=ConnectionResetError(104, "reset"), classify=lambda e: "reset") == 1
    line = json.loads(capsys.readouterr().out)
    assert line["native"] == "ConnectionResetError" and line["class"] == "reset"
    assert report("response", status=200, classify=None) == 0
    assert json.loads(capsys.readouterr().out)["message"] == "200 OK"


def test_a_failing_classifier_still_reports_other(capsys):
    report("error", exc=OSError("x"), classify=lambda e: 1 / 0)
    assert json.loads(capsys.readouterr().out)["class"] == "other"


def test_urllib3_refusal_is_not_a_connect_timeout():
    urllib3 = pytest.importorskip("urllib3")
    from outage.classify.urllib3 import classify

    ex = urllib3.exceptions
    refused = raised(ex.NewConnectionError(None, "refused"), cause=ConnectionRefusedError(111, "refused"))
    assert isinstance(refused, ex.ConnectTimeoutError)
    assert classify(ex.MaxRetryError(None, "/", reason=refused)) == "refused"
    assert classify(ex.MaxRetryError(None, "/", reason=ex.ConnectTimeoutError(None, "timed out"))) == "connect-timeout"


def test_urllib3_retries_given_up_on_a_status_name_it():
    urllib3 = pytest.importorskip("urllib3")
    from outage.classify.urllib3 import classify

    ex = urllib3.exceptions
    gave_up = ex.MaxRetryError(None, "/", reason=ex.ResponseError("too many 503 error responses"))
    assert classify(gave_up) == "http-status(503)"
    redirects = ex.MaxRetryError(None, "/", reason=ex.ResponseError("too many redirects"))
    assert classify(redirects) == "too-many-redirects"


def test_aiohttp_parse_error_is_malformed_and_carries_no_status():
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp.http_exceptions import BadStatusLine

    from outage.classify.aiohttp import classify, status

    parse = raised(aiohttp.ClientResponseError(None, (), status=400), cause=BadStatusLine(b"xx"))
    assert (classify(parse), status(parse)) == ("malformed-response", None)
    real = aiohttp.ClientResponseError(None, (), status=503)
    assert (classify(real), status(real)) == ("http-status(503)", 503)


def test_aiohttp_server_disconnected_after_part_of_a_head_is_not_an_empty_reply():
    aiohttp = pytest.importorskip("aiohttp")
    from outage.classify.aiohttp import classify

    assert classify(aiohttp.ServerDisconnectedError()) == "empty-reply"
    assert classify(aiohttp.ServerDisconnectedError(message=object())) == "malformed-response"


def test_httpx_names_its_protocol_errors_by_their_text():
    httpx = pytest.importorskip("httpx")
    from outage.classify.httpx import classify

    assert classify(httpx.RemoteProtocolError("Server disconnected without sending a response.")) == "empty-reply"
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete message body (received 1 bytes, expected 2)")
    assert classify(cut) == "incomplete-body"
    assert classify(httpx.RemoteProtocolError("illegal status line")) == "malformed-response"
