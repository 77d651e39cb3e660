"""Live audio for the studio page: a WebSocket that streams a session's blocks from any time.

Protocol (``/ws/play?token=...``; JSON text messages, binary audio):

client -> server
    ``{"type": "play", "path": P, "text": T, "at_s": t}``  start (or restart) at ``t`` seconds
    of the recipe ``text`` (the editor's content; ``path`` places it in the folder);
    ``{"type": "seek", "at_s": t}``; ``{"type": "pause"}``; ``{"type": "resume"}``;
    ``{"type": "temperature", "offset": x}``  shift the planned temperature by ``x`` (-1..1,
    as ``resonator play`` does; 0 is the plan); ``{"type": "ack", "frames": n,
    "generation": g}``  frames the page has played in generation ``g`` (flow control: the
    server stays at most :data:`AHEAD_S` ahead); ``{"type": "stop"}``.

server -> client
    ``{"type": "started", "sr", "channels", "at_s", "generation", "duration_s"}`` after play
    and seek (the page drops what it buffered of older generations); binary frames: a
    16-byte little-endian header (float64 session time of the block's first frame, uint32
    generation, uint32 frames) then float32 interleaved samples; ``{"type": "status", "t_s",
    "planned", "heard"}`` (the session temperature planned and heard at ``t_s``) with every
    block when the source knows them; ``{"type": "ended", "generation"}`` at the session's
    end; ``{"type": "error", "message"}``.

The samples come from a *source* (:class:`Source`): ``open_source(recipe, at_s)`` returns one.
The studio's source is resonator's live player (:func:`stream_source`).
"""
from __future__ import annotations

import json
import struct
from typing import Callable, Protocol

import numpy as np

#: how far (seconds of audio) the server runs ahead of what the page has played
AHEAD_S = 1.0
HEADER = struct.Struct("<dII")


class Source(Protocol):
    """What the socket streams from: blocks of a session from any time."""

    sr: int
    channels: int
    duration_s: float

    def seek(self, at_s: float) -> None:
        """Continue from ``at_s`` session seconds (the next :meth:`read` starts there)."""

    def set_temperature(self, offset: float) -> None:
        """Shift the planned session temperature by ``offset`` (-1..1) from now on."""

    def read(self) -> list[tuple[float, np.ndarray]] | None:
        """The next pieces of audio: (session seconds of the first frame, float32 array
        (channels, n)) each, in order; None at the end of the session."""

    def close(self) -> None:
        """Release what the source holds (threads, files); it is not read again."""


def encode_block(t_s: float, generation: int, block: np.ndarray) -> bytes:
    """One binary message: header then interleaved float32 frames."""
    block = np.asarray(block, dtype=np.float32)
    return HEADER.pack(float(t_s), generation & 0xFFFFFFFF, block.shape[1]) + \
        np.ascontiguousarray(block.T).tobytes()


def decode_block(data: bytes) -> tuple[float, int, np.ndarray]:
    """Inverse of :func:`encode_block`: (t_s, generation, array (channels, n))."""
    t_s, generation, frames = HEADER.unpack_from(data)
    samples = np.frombuffer(data, dtype=np.float32, offset=HEADER.size)
    return t_s, generation, samples.reshape(frames, -1).T


#: frames a live source reads at a time (85 ms at 48 kHz)
STREAM_BLOCK = 4096


class StreamSource:
    """A :class:`Source` over resonator's live player, :class:`resonator.playback.SessionStream`:
    the mastered session (the samples of a render), its seek, and its temperature offset.

    After a seek the stream first fades out what follows its read position, which the page
    never hears (it drops what it buffered and fades out what it plays itself): those frames
    are skipped, and the next piece starts at the frame asked for, fading in.
    """

    def __init__(self, stream):
        self.stream = stream
        self.sr = int(stream.sr)
        self.channels = int(stream.channels)
        self.duration_s = stream.frames / self.sr
        self.skip_to = None

    def seek(self, at_s: float) -> None:
        self.skip_to = min(max(int(round(float(at_s) * self.sr)), 0), self.stream.frames - 1)
        self.stream.seek(at_s)

    def set_temperature(self, offset: float) -> None:
        self.stream.set_temperature(offset)

    def temperature(self, t_s: float) -> tuple[float, float]:
        return self.stream.temperature(t_s)

    def close(self) -> None:
        self.stream.close()  # stops a background measurement of the mastering stage

    def read(self):
        if self.stream.finished:
            return None
        out, spans = self.stream.read_spans(STREAM_BLOCK)
        pieces = []
        for offset, n, frame in spans:
            if frame is None:
                continue  # silence after the end
            if self.skip_to is not None:
                if frame != self.skip_to:
                    continue  # the fade-out before the jump
                self.skip_to = None
            pieces.append((frame / self.sr, out[offset:offset + n].T))
        return pieces


def stream_source(recipe, at_s: float) -> Source:
    """The studio's live audio: ``recipe`` from ``at_s`` through resonator's player."""
    from ..playback import SessionStream

    return StreamSource(SessionStream(recipe, start_s=at_s))


class StreamSlots:
    """How many pages may stream at once (each stream renders the session live).

    Parameters
    ----------
    n : int >= 1
    """

    def __init__(self, n: int = 2):
        self.free = int(n)


async def play_socket(ws, workspace, open_source: Callable[..., Source] = stream_source,
                      slots: StreamSlots | None = None):
    """Serve one page's live audio over the WebSocket ``ws`` (protocol in the module doc).

    ``slots`` bounds the streams open at once across pages (a play beyond them is refused
    with an error message until another page stops).
    """
    import anyio
    from starlette.websockets import WebSocketDisconnect

    from ..errors import ResonatorError
    from .diagnostics import load_text

    await ws.accept()
    state = {"source": None, "generation": 0, "sent": 0, "acked": 0, "paused": False,
             "ended": False}

    slots = slots or StreamSlots(1)
    wake = anyio.Event()
    lock = anyio.Lock()  # one thread at a time touches the source

    async def replace(source):
        """Make ``source`` the one streamed (None: nothing); close the one it replaces."""
        old, state["source"] = state["source"], source
        slots.free += (old is not None) - (source is not None)
        if old is not None and hasattr(old, "close"):
            async with lock:
                await anyio.to_thread.run_sync(old.close)

    def poke():
        nonlocal wake
        wake.set()
        wake = anyio.Event()

    async def send_json(**msg):
        await ws.send_text(json.dumps(msg))

    async def start(at_s: float):
        src = state["source"]
        state["generation"] += 1
        state.update(sent=0, acked=0, ended=False)
        await send_json(type="started", sr=src.sr, channels=src.channels, at_s=at_s,
                        generation=state["generation"], duration_s=src.duration_s)
        poke()

    async def receive():
        while True:
            try:
                msg = json.loads(await ws.receive_text())
            except WebSocketDisconnect:
                return
            except (ValueError, TypeError, KeyError):  # (KeyError: a binary message)
                msg = None
            if not isinstance(msg, dict):
                await send_json(type="error", message="not a JSON object message")
                continue
            kind = msg.get("type")
            try:
                if kind == "play":
                    if state["source"] is None and slots.free <= 0:
                        raise ResonatorError("other pages are playing: stop one of them first")
                    path = workspace.resolve(str(msg.get("path", "")), must_exist=False)
                    text = msg.get("text")
                    at = float(msg.get("at_s", 0.0))

                    def open_it():
                        from ..loading import load

                        recipe = load_text(path, text) if isinstance(text, str) else load(path)
                        return open_source(recipe, at)
                    source = await anyio.to_thread.run_sync(open_it)
                    await replace(source)
                    state["paused"] = False
                    await start(at)
                elif kind == "seek" and state["source"] is not None:
                    at = float(msg.get("at_s", 0.0))
                    async with lock:
                        await anyio.to_thread.run_sync(state["source"].seek, at)
                    await start(at)
                elif kind == "temperature" and state["source"] is not None:
                    offset = min(max(float(msg.get("offset", 0.0)), -1.0), 1.0)
                    async with lock:
                        await anyio.to_thread.run_sync(state["source"].set_temperature, offset)
                elif kind == "ack":
                    if int(msg.get("generation", state["generation"])) == state["generation"]:
                        state["acked"] = max(state["acked"], int(msg.get("frames", 0)))
                    poke()
                elif kind == "pause":
                    state["paused"] = True
                elif kind == "resume":
                    state["paused"] = False
                    poke()
                elif kind == "stop":
                    await replace(None)
            except ResonatorError as exc:
                await send_json(type="error", message=str(exc))
            except (TypeError, ValueError) as exc:
                await send_json(type="error", message=f"bad {kind} message: {exc}")

    async def produce():
        while True:
            src = state["source"]
            ahead = (state["sent"] - state["acked"]) / src.sr if src else 0.0
            if src is None or state["paused"] or state["ended"] or ahead >= AHEAD_S:
                await wake.wait()
                continue
            generation = state["generation"]
            async with lock:
                pieces = await anyio.to_thread.run_sync(src.read)
            if generation != state["generation"] or src is not state["source"]:
                continue  # a seek or a new play while this block was made
            if pieces is None:
                state["ended"] = True
                await send_json(type="ended", generation=generation)
                continue
            for t_s, data in pieces:
                await ws.send_bytes(encode_block(t_s, generation, data))
                state["sent"] += data.shape[1]
            if pieces and hasattr(src, "temperature"):
                planned, heard = src.temperature(pieces[-1][0])
                await send_json(type="status", t_s=pieces[-1][0], planned=planned, heard=heard)

    async def produce_until_gone(scope):
        try:
            await produce()
        except (WebSocketDisconnect, OSError, RuntimeError):
            scope.cancel()  # the page went away while a block was on its way

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(produce_until_gone, tg.cancel_scope)
            await receive()
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await replace(None)
