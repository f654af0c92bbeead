"""The aiohttp application: routing, authentication, the permission gate and the envelope.

A single middleware wraps every request (known path or not) to log it and apply fault rules,
so faults behave like a proxy in front of the API.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from . import _endpoints as ep
from ._engine import Engine
from ._errors import NO_PERMISSION, NOT_REAL_NAME, UNAUTHORIZED, ApiError, ParamError
from ._fault_responses import render_fault, replaces_answer, wait_before
from ._faults import FaultSet
from ._params import Body
from ._recorder import RequestLog
from ._wire import encode_envelope

__all__ = ["ROUTES", "Route", "build_app"]

logger = logging.getLogger("autodl_async.simulator")

Endpoint = Callable[[Engine, Body], Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    endpoint: Endpoint
    gated: bool  # needs an enterprise-verified account
    source: Literal["json", "query", "none"] = "json"
    real_name: bool = False  # needs a real-name-verified account (creating costs money)
    writes: bool = False  # may change the account: always saved to the state file


_DEV: Final = "/api/v1/dev"
_AUTH_STATUS: Final = {"http401": 401, "http403": 403, "business": 200}
ROUTES: Final = (
    Route("POST", f"{_DEV}/image/private/list", ep.image_list, gated=False),
    Route(
        "POST", f"{_DEV}/deployment", ep.deployment_create, gated=True, real_name=True, writes=True
    ),
    Route("POST", f"{_DEV}/deployment/list", ep.deployment_list, gated=True),
    Route("POST", f"{_DEV}/deployment/container/event/list", ep.event_list, gated=True),
    Route("POST", f"{_DEV}/deployment/container/list", ep.container_list, gated=True),
    Route("PUT", f"{_DEV}/deployment/container/stop", ep.container_stop, gated=True, writes=True),
    Route(
        "PUT", f"{_DEV}/deployment/replica_num", ep.deployment_replica_num, gated=True, writes=True
    ),
    Route("PUT", f"{_DEV}/deployment/operate", ep.deployment_operate, gated=True, writes=True),
    Route("DELETE", f"{_DEV}/deployment", ep.deployment_delete, gated=True, writes=True),
    Route("POST", f"{_DEV}/deployment/blacklist", ep.blacklist_set, gated=True, writes=True),
    Route("GET", f"{_DEV}/deployment/blacklist", ep.blacklist_list, gated=True, source="none"),
    Route("POST", f"{_DEV}/machine/region/gpu_stock", ep.gpu_stock_list, gated=False),
    Route("POST", f"{_DEV}/wallet/balance", ep.wallet_balance, gated=False, source="none"),
    Route(
        "GET",
        f"{_DEV}/deployment/ddp/overview",
        ep.deployment_ddp_overview,
        gated=True,
        source="query",
    ),
)


class EnvelopeResponse(web.Response):
    """A JSON envelope that remembers its `code` for the request log."""

    def __init__(self, status: int, code: str, msg: str, data: Any, request_id: str) -> None:
        super().__init__(
            status=status,
            body=encode_envelope(code, msg, data, request_id),
            content_type="application/json",
        )
        self.code = code


def _authorized(request: web.Request, token: str) -> bool:
    """Bare token, no `Bearer` prefix (docs/api-field-notes.md §2); compared in constant time."""
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), token.encode())


def _handler(engine: Engine, route: Route) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        request_id = engine.world.ids.request_id()
        if not _authorized(request, engine.config.token):
            status = _AUTH_STATUS[engine.config.auth_failure]
            return EnvelopeResponse(status, *UNAUTHORIZED, None, request_id)
        # No await from here on: catching up and acting must be one atomic step.
        engine.catch_up()
        try:
            return _answer_route(engine, route, request, raw, request_id)
        finally:
            engine.persist(force=route.writes)

    return handle


def _answer_route(
    engine: Engine, route: Route, request: web.Request, raw: bytes, request_id: str
) -> EnvelopeResponse:
    if route.gated and not engine.config.enterprise_verified:
        return EnvelopeResponse(200, *NO_PERMISSION, None, request_id)
    if route.real_name and not engine.config.real_name_verified:
        return EnvelopeResponse(200, *NOT_REAL_NAME, None, request_id)
    try:
        if route.source == "json":
            body = Body.from_json(raw)
        elif route.source == "query":
            body = Body.from_query(request.query)
        else:
            body = Body({})
        data = route.endpoint(engine, body)
    except ParamError as exc:
        logger.debug("%s %s rejected: %s", request.method, request.path, exc.detail)
        return EnvelopeResponse(200, exc.code, exc.msg, None, request_id)
    except ApiError as exc:
        return EnvelopeResponse(200, exc.code, exc.msg, None, request_id)
    return EnvelopeResponse(200, "Success", "", data, request_id)


def _logged_body(request: web.Request, raw: bytes) -> dict[str, Any] | None:
    if request.method == "GET":
        return dict(request.query) or None
    try:
        value = msgspec.json.decode(raw) if raw.strip() else None
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None


async def _answer(request: web.Request, handler: Handler) -> web.Response:
    """Run the route; aiohttp's own 404/405 become ordinary plain-text responses."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.Response(status=exc.status, text=exc.text, headers=headers)
    if not isinstance(response, web.Response):
        raise TypeError("simulator routes must return web.Response")
    return response


def _middleware(engine: Engine, faults: FaultSet, log: RequestLog) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        entry = log.start(request.method, request.path, _logged_body(request, raw))
        rule = faults.pick(request.method, request.path)
        if rule is None:
            answer = await _answer(request, handler)
            entry.outcome = answer.code if isinstance(answer, EnvelopeResponse) else answer.status
            return answer
        entry.fault = rule.kind
        await wait_before(rule)
        answer_or_none: web.Response | None = None
        if not replaces_answer(rule):
            answer_or_none = await _answer(request, handler)
            entry.outcome = (
                answer_or_none.code
                if isinstance(answer_or_none, EnvelopeResponse)
                else answer_or_none.status
            )
        response = await render_fault(rule, request, answer_or_none, engine.world.ids.request_id())
        if answer_or_none is None and rule.kind != "reset":
            entry.outcome = response.status
        return response

    return middleware


def build_app(engine: Engine, faults: FaultSet, log: RequestLog) -> web.Application:
    app = web.Application(middlewares=[_middleware(engine, faults, log)])
    for route in ROUTES:
        app.router.add_route(route.method, route.path, _handler(engine, route))
    return app
