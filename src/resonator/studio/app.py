"""Starting and stopping a studio: the folder, the socket, the token, uvicorn."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import secrets
import socket
import sys
import threading
from pathlib import Path

from ..errors import ResonatorError
from .workspace import RECIPE_SUFFIXES, Workspace, shipped_recipes_dir, user_recipes_dir

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def workspace_for(target=None) -> tuple[Workspace, str | None]:
    """The workspace for ``resonator studio [FOLDER_OR_RECIPE]`` and the file to open first.

    Without a target: the user folder (:func:`~.workspace.user_recipes_dir`, created) over
    the shipped recipes (copy-on-write). A folder: that folder. A recipe or ``.sbg``: its
    folder, with that file open.
    """
    if target is None:
        root = user_recipes_dir()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResonatorError(f"cannot create the user recipe folder: {exc.strerror}",
                                 str(root)) from None
        return Workspace(root, shipped=shipped_recipes_dir()), None
    path = Path(target)
    if path.is_dir():
        return Workspace(path), None
    if path.is_file():
        if path.suffix.lower() not in RECIPE_SUFFIXES:
            raise ResonatorError("not a recipe (.toml), a sequence (.sbg) or a folder", str(path))
        return Workspace(path.parent), path.name
    raise ResonatorError("no such folder or recipe", str(path))


def has_display() -> bool:
    """Whether a graphical browser can open here (on Linux: an X11 or Wayland display; else
    Python's webbrowser may start a text browser in the terminal the studio prints to)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` header values the studio answers to: the loopback names, the listening
    address, and for a wildcard address the machine's name and addresses."""
    names = set(LOOPBACK) | {host}
    if host in ("0.0.0.0", "::"):
        name = socket.gethostname()
        names |= {name, socket.getfqdn()}
        try:
            names |= set(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return {f"{_bracket(h)}:{port}".lower() for h in names}


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ResonatorError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    # proto = IPPROTO_TCP: asyncio then sets TCP_NODELAY on accepted connections (else every
    # response waits ~40 ms for a delayed ACK)
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise ResonatorError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another "
                             "--port (0 picks a free one)") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


class _QuietStop(logging.Filter):
    """Drops uvicorn's reports of requests cut off by stopping the server (a diagnosis still
    building when Ctrl-C comes): tracebacks of a cancellation the user asked for."""

    def __init__(self, server):
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.server.should_exit:
            return True
        exc = record.exc_info[1] if record.exc_info else None
        cancelled = isinstance(exc, asyncio.CancelledError) or (
            exc is not None and isinstance(exc.__context__, asyncio.CancelledError))
        return not (cancelled or "graceful shutdown exceeded" in record.getMessage())


class Studio:
    """A running studio server (the library behind ``resonator studio``).

    Parameters
    ----------
    target : str or Path, optional
        A folder, a recipe (its folder is served) or None (the shipped recipes, copied on
        write into the user folder).
    host : str
        Address to listen on (default loopback only).
    port : int
        0 picks a free port.
    token : str, optional
        The secret every request must carry (default: a new random one).
    max_jobs : int
        Renders and checks running at once.
    audio_source : callable(recipe, at_s) -> Source, optional
        Where live audio comes from (see :mod:`.audio`); default resonator's player
        (:func:`.audio.stream_source`); False: no live audio.
    max_streams : int
        Pages that may play at once.

    Examples
    --------
    >>> with Studio("recipes") as studio:               # doctest: +SKIP
    ...     print(studio.url)                            # a server on a background thread
    """

    def __init__(self, target=None, *, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None, max_jobs: int = 1, audio_source=None,
                 max_streams: int = 2):
        from .audio import StreamSlots, play_socket, stream_source
        from .server import create_app

        if audio_source is None:
            audio_source = stream_source
        slots = StreamSlots(max_streams)

        self.workspace, self.open_path = workspace_for(target)
        self.host = host
        self.sock = bind(host, port)
        self.port = self.sock.getsockname()[1]
        self.token = token or secrets.token_urlsafe(24)
        self.hosts = allowed_hosts(host, self.port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else _bracket(host)
        self.url = f"http://{shown}:{self.port}/?token={self.token}"
        self.app = create_app(self.workspace, token=self.token, hosts=self.hosts,
                              open_path=self.open_path, max_jobs=max_jobs,
                              streamer=None if not audio_source else
                              (lambda ws, workspace: play_socket(ws, workspace, audio_source,
                                                                 slots)))
        self.server = None
        self.thread = None

    def _server(self):
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=3, ws_max_size=1 << 20)
        self.server = uvicorn.Server(config)
        log = logging.getLogger("uvicorn.error")
        for f in [f for f in log.filters if isinstance(f, _QuietStop)]:
            log.removeFilter(f)  # (an earlier studio's)
        log.addFilter(_QuietStop(self.server))
        return self.server

    def run(self, *, open_browser: bool = False) -> None:
        """Serve in this thread until Ctrl-C (or :meth:`stop` from another thread); with
        ``open_browser`` the page opens in the default browser once the server listens."""
        server = self._server()
        if open_browser:
            def opener():
                import time
                import webbrowser

                while not server.started and not server.should_exit:
                    time.sleep(0.05)
                if server.started:
                    webbrowser.open(self.url)
            threading.Thread(target=opener, daemon=True).start()
        try:
            server.run(sockets=[self.sock])
        finally:
            self.sock.close()

    def start(self) -> "Studio":
        """Serve on a background thread; returns once the server accepts connections."""
        import time

        server = self._server()  # (uvicorn leaves signals alone outside the main thread)
        self.thread = threading.Thread(target=server.run, kwargs={"sockets": [self.sock]},
                                       name="studio-server", daemon=True)
        self.thread.start()
        while not server.started:
            if not self.thread.is_alive():
                raise ResonatorError("the studio server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop the server (running jobs are cancelled, their partial files removed)."""
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(15)
            self.thread = None
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
