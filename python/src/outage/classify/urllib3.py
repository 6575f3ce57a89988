"""The neutral class of an exception from `urllib3` used directly."""
import functools
import http.client
import re
import socket

from . import chain, connection_class, has, in_handshake, report as _report, tls_kind


def classify(exc):
    """Order matters: what urllib3 gave up on first, then the chain's socket
    and http.client errors, which say more than urllib3's wrappers."""
    import urllib3

    ex = urllib3.exceptions
    links = chain(exc)
    if isinstance(exc, ex.MaxRetryError) and isinstance(exc.reason, ex.ResponseError):
        return _gave_up_on_responses(str(exc.reason))
    if has(links, ex.LocationValueError, ex.URLSchemeUnknown):
        return "invalid-url"
    if has(links, ex.DecodeError):
        return "decode"
    if has(links, ex.SSLError):
        return f"tls({tls_kind(links)})"
    if has(links, socket.gaierror, ex.NameResolutionError):
        return "dns"
    # NewConnectionError is a subclass of ConnectTimeoutError: a refused
    # connection must be told apart before any timeout is.
    connection = connection_class(links)
    if connection:
        return connection
    if has(links, ex.ConnectTimeoutError) and not has(links, ex.NewConnectionError):
        return "connect-timeout"
    if has(links, ex.ReadTimeoutError, TimeoutError, socket.timeout):
        return "tls(handshake-timeout)" if in_handshake(links) else "read-timeout"
    if has(links, ex.InvalidChunkLength) or _bad_chunk_size(links):
        return "malformed-response"  # a chunk-size line that is not hex
    if has(links, http.client.IncompleteRead, ex.IncompleteRead):
        return "incomplete-body"
    if has(links, http.client.HTTPException, ex.HeaderParsingError, ex.InvalidHeader):
        return "malformed-response"
    return "other"


def _bad_chunk_size(links):
    """http.client, which decodes the chunks when urllib3 reads a whole body,
    raises IncompleteRead(b'') from the ValueError of a chunk-size line that
    is not hexadecimal."""
    return any(isinstance(e, http.client.IncompleteRead) and isinstance(e.__context__, ValueError)
               for e in links)


def _gave_up_on_responses(reason):
    """Retry ran out on responses: "too many 503 error responses", or "too
    many redirects"."""
    if "redirect" in reason:
        return "too-many-redirects"
    m = re.search(r"too many (\d{3}) error", reason)
    return f"http-status({m.group(1)})" if m else "other"


report = functools.partial(_report, classify=classify)
