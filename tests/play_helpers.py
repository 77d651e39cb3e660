"""Fake audio outputs for playback tests: they record exactly what the player fed them."""
from __future__ import annotations

import threading
import time

import numpy as np


class RecordingOutput:
    """An output the test drives: ``pull(frames)`` calls the player's fill like a device
    callback would, and keeps what it got."""

    def __init__(self, fill, *, sr, channels):
        self.fill = fill
        self.sr = sr
        self.channels = channels
        self.chunks: list[np.ndarray] = []
        self.started = self.closed = False

    def start(self):
        self.started = True

    def close(self):
        self.closed = True

    def pull(self, frames: int) -> np.ndarray:
        x = self.fill(frames)
        self.chunks.append(x.copy())
        return x

    @property
    def fed(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros((0, self.channels))


class PacedOutput(RecordingOutput):
    """A device that asks for ``block`` frames every ``block / sr`` seconds (real time) on
    its own thread, as a sound card would."""

    def __init__(self, fill, *, sr, channels, block=1024):
        super().__init__(fill, sr=sr, channels=channels)
        self.block = block
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        super().start()
        self._thread.start()

    def _run(self):
        t = time.perf_counter()
        while not self._stop.is_set():
            self.pull(self.block)
            t += self.block / self.sr
            time.sleep(max(0.0, t - time.perf_counter()))

    def close(self):
        self._stop.set()
        self._thread.join(2)
        super().close()


def wait_buffered(player, seconds: float, timeout: float = 30.0) -> None:
    """Wait until the player's renderer has read ``seconds`` ahead (or the session ended)."""
    end = time.perf_counter() + timeout
    while player.buffered_s < seconds and not player.stream.finished:
        if time.perf_counter() > end:
            raise TimeoutError(f"only {player.buffered_s:.2f} s buffered")
        time.sleep(0.005)
