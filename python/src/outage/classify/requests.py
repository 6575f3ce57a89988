"""The neutral class of an exception from Python `requests`."""
import functools
import http.client
import re
import socket

from . import chain, connection_class, has, in_handshake, report as _report, tls_kind


def classify(exc):
    """Order matters: requests' own subclasses say the most, then the chain's
    socket errors and http.client errors tell the ConnectionError family
    apart."""
    import requests
    import urllib3

    ex = requests.exceptions
    links = chain(exc)
    if isinstance(exc, ex.ConnectTimeout):
        return "connect-timeout"
    if isinstance(exc, ex.HTTPError) and exc.response is not None:
        return f"http-status({exc.response.status_code})"
    if isinstance(exc, ex.RetryError):
        # urllib3 gave up on status retries: "too many 503 error responses".
        m = re.search(r"too many (\d{3}) error", str(exc))
        return f"http-status({m.group(1)})" if m else "other"
    if isinstance(exc, ex.TooManyRedirects):
        return "too-many-redirects"
    if isinstance(exc, (ex.InvalidURL, ex.MissingSchema, ex.InvalidSchema, ex.URLRequired)):
        return "invalid-url"
    if isinstance(exc, ex.ContentDecodingError):
        return "decode"
    if isinstance(exc, ex.SSLError):
        return f"tls({tls_kind(links)})"
    # NameResolutionError is absent from urllib3 1.x, which raises the gaierror.
    if has(links, socket.gaierror, getattr(urllib3.exceptions, "NameResolutionError", socket.gaierror)):
        return "dns"
    connection = connection_class(links)
    if connection:
        return connection
    # A read timeout while the body streams arrives as a ConnectionError
    # wrapping urllib3's ReadTimeoutError, not as requests' ReadTimeout; so
    # does one that used up urllib3's retries (MaxRetryError).
    if isinstance(exc, ex.ReadTimeout) or has(links, urllib3.exceptions.ReadTimeoutError):
        return "tls(handshake-timeout)" if in_handshake(links) else "read-timeout"
    if isinstance(exc, ex.Timeout) or has(links, TimeoutError, socket.timeout):
        return "timeout"
    if has(links, urllib3.exceptions.InvalidChunkLength):
        return "malformed-response"  # a chunk-size line that is not hex
    if has(links, http.client.IncompleteRead, urllib3.exceptions.IncompleteRead):
        return "incomplete-body"
    if has(links, http.client.HTTPException):
        return "malformed-response"
    return "other"


def status(exc):
    """The status of the response an HTTPError carries."""
    response = getattr(exc, "response", None)
    return None if response is None else response.status_code


report = functools.partial(_report, classify=classify, status_of=status)
