"""The neutral class of an exception from Python `httpx`."""
import functools
import socket
import ssl

from . import chain, connection_class, has, in_handshake, report as _report, tls_kind


def classify(exc):
    """httpx's own classes say the stage (connect, read, protocol); the
    chain's socket, ssl, h11 and h2 errors say what happened there."""
    import httpx

    links = chain(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return f"http-status({exc.response.status_code})"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too-many-redirects"
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "invalid-url"
    if isinstance(exc, httpx.DecodingError):
        return "decode"
    if isinstance(exc, httpx.TimeoutException):
        return _timeout(exc, links)
    if has(links, socket.gaierror):
        return "dns"
    if isinstance(exc, httpx.ConnectError) and has(links, ssl.SSLError):
        return f"tls({tls_kind(links)})"
    http2 = _http2(links)
    if http2:
        return http2
    connection = connection_class(links)
    if connection:
        return connection
    if isinstance(exc, httpx.RemoteProtocolError):
        return _protocol(str(exc), links)
    return "other"


def _timeout(exc, links):
    import httpx

    if in_handshake(links):
        return "tls(handshake-timeout)"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect-timeout"
    return "read-timeout" if isinstance(exc, httpx.ReadTimeout) else "timeout"


def _http2(links):
    """The class of what the server's HTTP/2 frames did, or None. httpcore
    raises RemoteProtocolError with the h2 event itself as its argument: a
    `StreamReset` (RST_STREAM) or a `ConnectionTerminated` (GOAWAY); httpx
    raises its own RemoteProtocolError from that one. A frame h2 cannot
    accept raises one of h2's ProtocolErrors inside `receive_data`, which
    httpcore passes on as a LocalProtocolError, though the fault is the
    server's."""
    try:
        import h2.errors
        import h2.events
        import h2.exceptions
    except ImportError:  # no HTTP/2 without h2
        return None
    for event in (arg for e in links for arg in e.args):
        if isinstance(event, h2.events.StreamReset):
            if not event.remote_reset:  # h2 reset the stream over what it received
                return "malformed-response"
            if event.error_code == h2.errors.ErrorCodes.REFUSED_STREAM:
                return "stream-refused"
            return f"stream-reset({_code_name(event.error_code)})"
        if isinstance(event, h2.events.ConnectionTerminated):
            return "goaway"
    for e in links:
        if isinstance(e, h2.exceptions.ProtocolError) and _raised_in(e, "receive_data"):
            return "malformed-response"
    return None


def _code_name(code):
    """An HTTP/2 error code as outage writes it: h2's `ErrorCodes` member in
    kebab-case (`INTERNAL_ERROR` is `internal-error`), or the number h2 keeps
    for a code the RFC does not name."""
    name = getattr(code, "name", None)
    return name.lower().replace("_", "-") if name else str(int(code))


def _raised_in(exc, function):
    """True when `exc` was raised inside a call of `function`."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == function:
            return True
        tb = tb.tb_next
    return False


def _protocol(message, links):
    """h11's protocol errors reach httpx as text only."""
    if message.startswith("peer closed connection without sending complete message body"):
        return "incomplete-body"
    # h11 parses a response head only once it holds all of it, so httpcore says
    # "Server disconnected without sending a response" both when the server
    # sent nothing and when it sent bytes that never made a whole head (a
    # head cut short, or bytes that are not HTTP). Only the bytes h11 still
    # buffers tell the two apart.
    if message.startswith("Server disconnected without sending a response"):
        return "malformed-response" if _unparsed_bytes(links) else "empty-reply"
    return "malformed-response"


def _unparsed_bytes(links):
    """The bytes h11 received but never parsed, found on the connection that
    raised (`self._h11_state` in a frame of httpcore's traceback)."""
    for e in links:
        tb = e.__traceback__
        while tb is not None:
            h11_state = getattr(tb.tb_frame.f_locals.get("self"), "_h11_state", None)
            if h11_state is not None:
                return h11_state.trailing_data[0]
            tb = tb.tb_next
    return b""


def status(exc):
    """The status of the response an HTTPStatusError carries."""
    response = getattr(exc, "response", None) if type(exc).__name__ == "HTTPStatusError" else None
    return None if response is None else response.status_code


report = functools.partial(_report, classify=classify, status_of=status)
