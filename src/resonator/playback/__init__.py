"""Listening while designing: the mastered session as a stream, and real-time playback.

* :class:`SessionStream` (no audio device): blocks of the mastered session from any moment,
  with seek, pause and a live temperature override; the samples of a render.
* :func:`play` plays one through the audio output and returns its :class:`Player`.
"""
from .backend import NoAudioOutput
from .player import Player, play
from .stream import SessionStream

__all__ = ["SessionStream", "Player", "play", "NoAudioOutput"]
