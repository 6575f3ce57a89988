"""Name a Python HTTP client's exception in outage's neutral classes, and
report it in the probe protocol.

One module per client (`outage.classify.requests`, `.urllib3`, `.httpx`,
`.aiohttp`) holds `classify(exc)`, the neutral class (`"reset"`,
`"tls(expired)"`, `"http-status(503)"` ...), and `report(outcome, status=None,
exc=None)`, which prints the protocol's JSON line and returns the probe's exit
code:

    from outage.classify.httpx import report
    try:
        response = httpx.get(url)
    except Exception as exc:
        sys.exit(report("error", exc=exc))
    sys.exit(report("response", status=response.status_code))

This package imports no client: each module imports its own client lazily,
when it classifies. What is shared lives here: walking an exception's chain,
naming classes, and TLS verify codes.
"""
import errno
import http.client
import importlib
import json
import socket
import ssl
import sys
import traceback

UNIVERSAL = (Exception, BaseException, object)

# OpenSSL verify codes: 9 not yet valid and 10 expired (outside the validity
# window), 62 host name and 64 IP address mismatch; any other (18 self-signed,
# 19 self-signed in chain, 20 unknown issuer, ...) is an untrusted chain.
VERIFY_CODES = {9: "expired", 10: "expired", 62: "hostname", 64: "hostname"}


def require(name):
    """The client library `name`, imported; when this Python lacks it, print
    the protocol's `skipped` line, which skips the scenario with the reason,
    and exit. A probe calls this before anything else touches the client."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        reason = (f"{name} is not installed for {sys.executable} ({error}); `make clients` "
                  "installs the pinned clients into .venv: put .venv/bin first on PATH")
        print(json.dumps({"outcome": "skipped", "message": reason}))
        sys.exit(3)


def qualname(cls):
    """`module.Class`, builtins bare (`OSError`). A class defined in a private
    module (`httpx._exceptions`) is named where its package exports it
    (`httpx.ConnectError`), as user code writes it."""
    module = cls.__module__
    if module == "builtins":
        return cls.__name__
    top = module.split(".")[0]
    private = any(part.startswith("_") for part in module.split("."))
    if private and getattr(sys.modules.get(top), cls.__name__, None) is cls:
        module = top
    return f"{module}.{cls.__name__}"


def is_a(cls):
    """Every name `cls` also is, most specific first, without the universal bases."""
    return [qualname(c) for c in cls.__mro__ if c not in UNIVERSAL]


def chain(exc, attributes=("reason",)):
    """Every exception linked to `exc`, breadth first: __cause__, __context__,
    each of `attributes` (urllib3's `.reason`, aiohttp's `.os_error` ...), and
    exceptions passed as args (requests wraps urllib3's error in args[0];
    ProtocolError carries the socket error in args[1])."""
    seen, todo = [], [exc]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, *(getattr(e, a, None) for a in attributes), *e.args]
    return seen


def has(links, *types):
    return any(isinstance(e, types) for e in links)


def errnos(links):
    return {getattr(e, "errno", None) for e in links}


def connection_class(links):
    """empty-reply, refused or reset, from the socket errors in the chain;
    None when there is none. RemoteDisconnected is a ConnectionResetError
    (and a BadStatusLine), so it comes first: it means the peer closed, with
    a FIN, before sending any status line at all."""
    if has(links, http.client.RemoteDisconnected):
        return "empty-reply"
    if has(links, ConnectionRefusedError) or errno.ECONNREFUSED in errnos(links):
        return "refused"
    if has(links, ConnectionResetError) or errno.ECONNRESET in errnos(links):
        return "reset"
    return None


def tls_kind(links):
    """expired, hostname or untrusted from a certificate verification error in
    the chain; anything else, such as WRONG_VERSION_NUMBER (plain HTTP on an
    https URL) or an EOF in the middle of the handshake, is a protocol failure."""
    for e in links:
        # aiohttp's ClientConnectorCertificateError is an SSLCertVerificationError
        # without a verify code; the ssl module's error it wraps has one.
        code = getattr(e, "verify_code", None)
        if isinstance(e, ssl.SSLCertVerificationError) and code is not None:
            return VERIFY_CODES.get(code, "untrusted")
    return "protocol"


def in_handshake(links):
    """True when a timeout in the chain was raised inside ssl's do_handshake."""
    return any(frame.name == "do_handshake"
               for e in links if isinstance(e, (TimeoutError, socket.timeout))
               for frame in traceback.extract_tb(e.__traceback__))


def report(outcome, status=None, exc=None, *, classify, status_of=lambda exc: None):
    """Print the probe protocol's JSON line; return the exit code (0 for a
    response, 1 for an error). `classify` names `exc`'s neutral class, and
    `status_of` finds the status an HTTP error carried."""
    if exc is None:
        obj = dict(outcome=outcome, native=None, is_a=[], **{"class": None},
                   message=f"{status} {http.client.responses.get(status, '')}".strip(),
                   status=status)
    else:
        obj = dict(outcome=outcome, native=qualname(type(exc)), is_a=is_a(type(exc)),
                   **{"class": _safe(classify, exc)}, message=" ".join(str(exc).split()),
                   status=status if status is not None else _safe(status_of, exc, None))
    print(json.dumps(obj))
    return 0 if outcome == "response" else 1


def _safe(function, exc, fallback="other"):
    try:
        return function(exc)
    except Exception:  # a probe must always print its JSON line
        return fallback
