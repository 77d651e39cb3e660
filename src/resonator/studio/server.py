"""The studio's web server: a Starlette (ASGI) application served by uvicorn.

Security, in one place (:class:`Guard`, wrapping the whole application):

* every request, HTTP or WebSocket, must carry the run's random token (``?token=`` in the URL,
  or the ``X-Studio-Token`` header); without it: 403;
* the ``Host`` header must name the address the studio listens on (loopback names by
  default): a page on another site that rebinds its DNS name to 127.0.0.1 is refused;
* an ``Origin`` (or ``Sec-Fetch-Site``) from another site is refused: no cross-site requests
  from other pages in the same browser; WebSockets must send the studio's own origin;
* request bodies are capped (:data:`MAX_BODY_BYTES`: 413 beyond), jobs are bounded
  (:class:`~.jobs.Jobs`), validation runs on at most two worker threads;
* responses forbid framing and inline scripts (Content-Security-Policy) and are not cached.

Paths are confined by :class:`~.workspace.Workspace`. Work that can take more than a few
milliseconds (validation, plans, renders, checks) runs on threads, never on the event loop.
"""
from __future__ import annotations

import contextlib
import hmac
import json
import math
from pathlib import Path
from urllib.parse import parse_qs

from ..errors import ResonatorError
from .jobs import Jobs, os_message
from .workspace import ChangedOnDisk, StudioPathError, Workspace, sha256_text

STATIC = Path(__file__).resolve().parent / "static"
#: largest request body accepted (a recipe is a few KiB)
MAX_BODY_BYTES = 2 << 20
TOKEN_HEADER = b"x-studio-token"


def _finite(o):
    """JSON has no NaN or infinity: they become null."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def to_json(data) -> bytes:
    """Strict JSON bytes of ``data`` (numpy values converted, NaN/inf as null)."""
    from ..check.report import _default  # numpy values as plain numbers

    text = json.dumps(data, default=_default)
    return json.dumps(_finite(json.loads(text)), allow_nan=False).encode()


class Guard:
    """ASGI middleware: token, Host, Origin, body size and security headers (module doc).

    Parameters
    ----------
    app : ASGI application
    token : str
        The run's secret.
    hosts : iterable of str
        Accepted ``Host`` header values (``"127.0.0.1:8123"``, ``"localhost:8123"``, ...).
    max_body : int
        Largest request body in bytes.
    """

    def __init__(self, app, token: str, hosts, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.token = token.encode()
        self.hosts = {h.lower() for h in hosts}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.max_body = max_body

    async def _refuse(self, scope, receive, send, status: int, message: str):
        if scope["type"] == "websocket":
            await send({"type": "websocket.http.response.start", "status": status,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "websocket.http.response.body", "body": message.encode()})
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": message.encode()})

    def problem(self, scope) -> tuple[int, str] | None:
        """Why a request is refused, or None when it may pass."""
        headers = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.lower(), v)
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            return 403, ("resonator studio: refused: this server answers only to "
                         f"{sorted(self.hosts)[0]} (Host header {host!r})")
        origin = headers.get(b"origin")
        if origin is not None and origin.decode("latin-1").lower() not in self.origins:
            return 403, "resonator studio: refused: a request from another site (Origin)"
        if scope["type"] == "websocket" and origin is None:
            return 403, "resonator studio: refused: a WebSocket without an Origin"
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
        if site in ("cross-site", "same-site"):
            return 403, "resonator studio: refused: a request from another site"
        given = headers.get(TOKEN_HEADER)
        if given is None:
            qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (qs.get("token") or [""])[0].encode("latin-1")
        if not hmac.compare_digest(given, self.token):
            return 403, ("resonator studio: this address needs the token of the running "
                         "studio: open the URL that 'resonator studio' printed")
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        refused = self.problem(scope)
        if refused is not None:
            return await self._refuse(scope, receive, send, *refused)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await self._refuse(scope, receive, send, 413,
                                      f"resonator studio: request body larger than "
                                      f"{self.max_body} bytes")
        seen = 0

        async def capped_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # answered 413 by Starlette's exception handling
                    from starlette.exceptions import HTTPException

                    raise HTTPException(413, f"resonator studio: request body larger than "
                                             f"{self.max_body} bytes")
            return message

        async def secure_send(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy",
                     b"default-src 'self'; script-src 'self'; style-src 'self' "
                     b"'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
                     b"media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
                     b"form-action 'none'"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message = dict(message, headers=headers)
            await send(message)
        await self.app(scope, capped_receive, secure_send)


def create_app(workspace: Workspace, *, token: str, hosts, open_path: str | None = None,
               max_jobs: int = 1, max_body: int = MAX_BODY_BYTES, streamer=None):
    """The studio's ASGI application.

    Parameters
    ----------
    workspace : Workspace
        The folder served (reads, writes, renders).
    token : str
        The run's secret: required on every request.
    hosts : iterable of str
        Accepted ``Host`` header values (see :class:`Guard`).
    open_path : str, optional
        The file the page opens first.
    max_jobs : int >= 1
        Renders and checks allowed to run at once.
    max_body : int
        Largest request body in bytes.
    streamer : callable(websocket, workspace), optional
        The live-audio WebSocket handler (:func:`resonator.studio.audio.play_socket` with its
        source); None serves the page without live audio.

    Returns
    -------
    Guard
        The Starlette application wrapped in the security middleware.
    """
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles

    from ..loading import load
    from . import actions
    from .diagnostics import diagnose

    jobs = Jobs(max_running=max_jobs)
    light = anyio.CapacityLimiter(2)  # validation as you type, listings
    building = anyio.CapacityLimiter(1)  # the slower build passes: never in typing's way
    page = (STATIC / "index.html").read_text(encoding="utf-8")

    def ok(data, status: int = 200) -> Response:
        return Response(to_json(data), status_code=status, media_type="application/json")

    def fail(status: int, message: str, **extra) -> Response:
        return ok(dict(extra, error=message), status)

    async def body(request: Request) -> dict:
        raw = await request.body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise StudioPathError("the request body is not JSON", status=400) from None
        if not isinstance(data, dict):
            raise StudioPathError("the request body must be a JSON object", status=400)
        return data

    def handles(fn):
        async def endpoint(request: Request):
            try:
                return await fn(request)
            except StudioPathError as exc:
                return fail(exc.status, str(exc))
            except ChangedOnDisk as exc:
                return fail(409, str(exc), changed_on_disk=True)
            except ResonatorError as exc:
                return fail(400, str(exc))
            except OSError as exc:  # a read-only folder, a full disk: one line, no traceback
                return fail(500, os_message(exc))
        return endpoint

    async def index(request: Request):
        html = page.replace("{{TOKEN}}", token)
        return HTMLResponse(html)

    def listing() -> dict:  # (walks the folder: on a thread)
        return {"files": workspace.entries(), "audio": workspace.audio_files()}

    async def state(request: Request):
        return ok(dict(await anyio.to_thread.run_sync(listing, limiter=light),
                       folder=str(workspace.root), open=open_path,
                       shipped=str(workspace.shipped) if workspace.shipped else None,
                       live_audio=streamer is not None,
                       live_audio_reason=None if streamer is not None else
                       "live audio is off in this studio"))

    async def schema(request: Request):
        from ..recipe.schema import recipe_schema

        return ok(await anyio.to_thread.run_sync(recipe_schema, limiter=light))

    async def files(request: Request):
        return ok(await anyio.to_thread.run_sync(listing, limiter=light))

    async def read_file(request: Request):
        return ok(workspace.read(request.query_params.get("path", "")))

    async def save_file(request: Request):
        data = await body(request)
        res = await anyio.to_thread.run_sync(
            lambda: workspace.save(data.get("path", ""), data.get("text"),
                                   base_sha256=data.get("base_sha256")))
        return ok(res)

    async def new_file(request: Request):
        data = await body(request)
        res = await anyio.to_thread.run_sync(
            lambda: workspace.create(data.get("name", ""), template=data.get("template")))
        return ok(res)

    async def import_sbg(request: Request):
        data = await body(request)
        res = await anyio.to_thread.run_sync(
            lambda: workspace.import_sbg(data.get("path", ""), data.get("name")), limiter=light)
        return ok(res)

    async def diagnose_text(request: Request):
        data = await body(request)
        text = data.get("text")
        if not isinstance(text, str):
            raise StudioPathError("text (the editor's content) is needed", status=400)
        path = workspace.resolve(data.get("path", ""), must_exist=False)
        window = data.get("window")
        if window is not None:
            window = parse_window(window)
        try:
            points = min(max(int(data.get("points") or 600), 2), 4000)
        except (TypeError, ValueError):
            raise StudioPathError("points must be a whole number", status=400) from None
        build = bool(data.get("build"))
        res = await anyio.to_thread.run_sync(
            lambda: diagnose(path, text, build=build, window=window, points=points,
                             root=workspace.shipped if workspace.is_shipped(path)
                             else workspace.root),
            limiter=building if build else light)
        res["seq"] = data.get("seq")
        return ok(res)

    def parse_window(window) -> tuple[float, float]:
        try:
            a, b = float(window[0]), float(window[1])
        except (TypeError, ValueError, IndexError, KeyError):
            raise StudioPathError("window must be [start_s, end_s]", status=400) from None
        if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
            raise StudioPathError("window must be [start_s, end_s] with 0 <= start_s < end_s",
                                  status=400)
        return a, b

    def saved_or_refuse(rel: str, text) -> None:
        if text is None:
            return
        disk = workspace.read(rel)
        if disk["text"] != text:
            raise StudioPathError(f"{rel} has unsaved changes: save it first (a render "
                                  "comes from the saved file)", status=409)

    async def start_render(request: Request):
        data = await body(request)
        rel = data.get("path", "")
        workspace.resolve(rel)
        saved_or_refuse(rel, data.get("text"))
        fmt = data.get("format", "wav")
        window = data.get("window")
        if window is not None:  # a part of the session (the timeline's view)
            session_s = (await anyio.to_thread.run_sync(
                lambda: load(workspace.resolve(rel)), limiter=light)).duration_s
            window = parse_window(window)
            window = (window[0], min(window[1], session_s))
            if window[0] >= window[1]:
                raise StudioPathError("the window to render lies after the session's end",
                                      status=400)
            if window[0] <= 0 and window[1] >= session_s:
                window = None  # all of it
        out_rel, out = actions.render_output(
            workspace, rel, fmt, window=window,
            session_s=session_s if window is not None else None)
        overwrite = bool(data.get("overwrite"))
        if not overwrite and (out.exists() or out.with_suffix(".json").exists()):
            return fail(409, f"{out_rel} exists already: overwrite it?", exists=out_rel)
        job = jobs.start("render", lambda job: actions.render(
            job, workspace, rel, fmt=fmt, bits=str(data.get("bits", "16")),
            overwrite=overwrite, window=window), label=out_rel)
        return ok(job.as_dict(), 202)

    async def start_check(request: Request):
        data = await body(request)
        audio = data.get("audio", "")
        recipe = data.get("recipe") or None
        workspace.resolve(audio)
        if recipe:
            workspace.resolve(recipe)
        job = jobs.start("check", lambda job: actions.check(job, workspace, audio, recipe),
                         label=audio)
        return ok(job.as_dict(), 202)

    async def job_state(request: Request):
        job = jobs.get(request.path_params["job"])
        if job is None:
            return fail(404, "no such job")
        if request.method == "DELETE":
            job.cancel_event.set()
        return ok(job.as_dict())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await anyio.to_thread.run_sync(jobs.cancel_all)  # partial renders removed

    routes = [
        Route("/", index),
        Route("/api/state", handles(state)),
        Route("/api/files", handles(files)),
        Route("/api/schema", handles(schema)),
        Route("/api/file", handles(read_file)),
        Route("/api/save", handles(save_file), methods=["POST"]),
        Route("/api/new", handles(new_file), methods=["POST"]),
        Route("/api/import", handles(import_sbg), methods=["POST"]),
        Route("/api/diagnose", handles(diagnose_text), methods=["POST"]),
        Route("/api/render", handles(start_render), methods=["POST"]),
        Route("/api/check", handles(start_check), methods=["POST"]),
        Route("/api/jobs/{job}", handles(job_state), methods=["GET", "DELETE"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if streamer is not None:
        routes.append(WebSocketRoute("/ws/play", lambda ws: streamer(ws, workspace)))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.jobs = jobs
    return Guard(app, token, hosts, max_body=max_body)
