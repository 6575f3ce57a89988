"""The neutral class of an exception from Python `aiohttp`."""
import functools

from . import chain, connection_class, has, report as _report, tls_kind

# Where aiohttp keeps the error beneath its own.
LINKS = ("reason", "os_error", "certificate_error")


def classify(exc):
    import aiohttp
    from aiohttp.http_exceptions import ContentEncodingError

    links = chain(exc, LINKS)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too-many-redirects"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "malformed-response" if _parse_error(links) else f"http-status({exc.status})"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid-url"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError)):
        return f"tls({tls_kind(links)})"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect-timeout"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return "read-timeout"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        # Its message is the part of a head that arrived before the close, or
        # the text "Server disconnected" when nothing did.
        return "empty-reply" if isinstance(exc.message, str) else "malformed-response"
    # asyncio's TLS layer reports a close (FIN) in the middle of the handshake
    # as a bare ConnectionResetError, with no errno: not a reset.
    if isinstance(exc, aiohttp.ClientConnectorError) and _bare_reset(links):
        return "tls(protocol)"
    connection = connection_class(links)
    if connection:
        return connection
    if isinstance(exc, aiohttp.ClientPayloadError):
        if has(links, ContentEncodingError):
            return "decode"
        # A reset while the body streams survives only in the message, as
        # the repr of the ConnectionResetError.
        return "reset" if "ConnectionResetError(" in str(exc) else "incomplete-body"
    return "other"


def _bare_reset(links):
    return any(isinstance(e, ConnectionResetError) and not e.args for e in links)


def _parse_error(links):
    """aiohttp turns a response it cannot parse into a ClientResponseError
    whose status (400) the server never sent."""
    from aiohttp.http_exceptions import HttpProcessingError

    return has(links, HttpProcessingError)


def status(exc):
    """The status a ClientResponseError carries, unless aiohttp made it up: a
    parse error carries 400 and TooManyRedirects 0, statuses never sent."""
    return exc.status if classify(exc).startswith("http-status") else None


report = functools.partial(_report, classify=classify, status_of=status)
