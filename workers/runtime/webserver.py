"""Requests the HTTP parser refuses: a clear 4xx and one log line, not a 400 and a traceback.

aiohttp, under Faust's web driver, refuses a request line or a header line over 8,190 bytes
(``LineTooLong``); its ``RequestHandler.handle_error`` then answers ``400`` with the parser's
message and logs the exception with its traceback at ERROR, once per request. A client asking
for ``/api/entities/{key}`` with a 20,000-character key got exactly that. Here the answer is
``414 URI Too Long`` (``431`` for a header line) with a JSON body, and one WARNING line without
the request's bytes; other malformed requests keep aiohttp's status and get one line too.
Errors in our own views still go to aiohttp (a traceback there is a bug to see).

Every key a table holds fits the limit: entity names are at most
``workers.extract.rules.MAX_NAME_CHARS`` characters (< 1 KB percent-encoded).

An aiohttp internal, in the runtime room: ``RequestHandler.handle_error(request, status, exc,
message)`` is replaced once per process (the same signature in aiohttp 3.8-3.14; 3.14.5 here,
the version faust-streaming 0.15.3 resolves to). Faust creates the handler per connection, so
there is no setting to pass a subclass through.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import Response, StreamResponse

log = logging.getLogger("newsflow.web")

_aiohttp_handle_error = RequestHandler.handle_error


def _request_target(exc: LineTooLong) -> bool:
    """Whether the over-long line was the request target (else a header line)."""
    line = exc.args[0] if exc.args else ""
    if isinstance(line, bytes | bytearray):
        return line.startswith((b"/", b"http:", b"https:", b"*"))
    return "status line" in str(line).lower()  # aiohttp's pure-Python parser


def refusal(exc: HttpProcessingError, remote: str | None) -> Response:
    """The answer to a request the parser refused, and its one log line."""
    if isinstance(exc, LineTooLong):
        target = _request_target(exc)
        status = 414 if target else 431
        what = "request line" if target else "header line"
        limit = exc.args[1] if len(exc.args) > 1 else "?"
        error = f"{what} too long (over {limit} bytes)"
    else:
        status = exc.code if 400 <= exc.code < 500 else 400
        error = "malformed HTTP request"
    level = logging.WARNING if isinstance(exc, LineTooLong) else logging.INFO
    log.log(level, "refused a request from %s: %s (%d)", remote, error, status)
    resp = Response(
        status=status,
        text=f'{{"error": "{error}"}}',
        content_type="application/json",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
    resp.force_close()
    return resp


def _handle_error(
    self: RequestHandler,
    request: BaseRequest,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> StreamResponse:
    if isinstance(exc, HttpProcessingError) and request.writer.output_size == 0:
        return refusal(exc, request.remote)
    return _aiohttp_handle_error(self, request, status, exc, message)


def install() -> None:
    """Answer refused requests as above, in this process (idempotent)."""
    RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]
