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


def _httpx_from_httpcore(httpx, httpcore_error):
    """The httpx exception `map_httpcore_exceptions` raises from an httpcore
    one: its own class, the httpcore error's text, `from` the httpcore error."""
    import httpcore

    mapped = {httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
              httpcore.LocalProtocolError: httpx.LocalProtocolError}[type(httpcore_error)]
    return raised(mapped(str(httpcore_error)), cause=httpcore_error)


def test_httpx_names_an_http2_stream_reset_by_its_code():
    httpx = pytest.importorskip("httpx")
    h2 = pytest.importorskip("h2")
    import h2.errors
    import h2.events
    import httpcore

    from outage.classify.httpx import classify

    def reset(code, remote=True):
        event = h2.events.StreamReset(stream_id=1, error_code=code, remote_reset=remote)
        return _httpx_from_httpcore(httpx, httpcore.RemoteProtocolError(event))

    codes = h2.errors.ErrorCodes
    assert classify(reset(codes.REFUSED_STREAM)) == "stream-refused"
    assert classify(reset(codes.INTERNAL_ERROR)) == "stream-reset(internal-error)"
    assert classify(reset(codes.HTTP_1_1_REQUIRED)) == "stream-reset(http-1-1-required)"
    assert classify(reset(99)) == "stream-reset(99)"  # h2 keeps a code it does not name as an int
    # h2 resetting a stream over what it received is the client refusing the response.
    assert classify(reset(codes.PROTOCOL_ERROR, remote=False)) == "malformed-response"


def test_httpx_names_a_goaway_whatever_its_code():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    import h2.errors
    import h2.events
    import httpcore

    from outage.classify.httpx import classify

    for code in (h2.errors.ErrorCodes.NO_ERROR, h2.errors.ErrorCodes.INTERNAL_ERROR):
        event = h2.events.ConnectionTerminated()
        event.error_code, event.last_stream_id = code, 0
        assert classify(_httpx_from_httpcore(httpx, httpcore.RemoteProtocolError(event))) == "goaway"


def test_httpx_names_a_frame_h2_refused_on_receipt_malformed_and_nothing_else():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    import h2.config
    import h2.connection
    import h2.exceptions
    import httpcore

    from outage.classify.httpx import classify

    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    ping_of_7_bytes = b"\x00\x00\x07\x06\x00\x00\x00\x00\x00" + b"\x00" * 7
    with pytest.raises(h2.exceptions.ProtocolError) as received:
        client.receive_data(ping_of_7_bytes)
    # httpcore passes h2's error on as a LocalProtocolError, though the frame was the server's.
    assert classify(_httpx_from_httpcore(httpx, httpcore.LocalProtocolError(received.value))) == "malformed-response"
    # One raised outside receive_data is the client's own misuse: not the server's bytes.
    misuse = raised(h2.exceptions.ProtocolError("sending on a closed stream"))
    assert classify(_httpx_from_httpcore(httpx, httpcore.LocalProtocolError(misuse))) == "other"
