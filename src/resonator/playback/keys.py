"""Keys and a status line for ``resonator play`` on a terminal.

space pause/resume, left/right seek 30 s, n/p next/previous phase, up/down temperature
+-0.05, q quit. Without a terminal on stdin there are no keys: the session just plays.
"""
from __future__ import annotations

import os
import select
import shutil
import sys

SEEK_S = 30.0
TEMPERATURE_STEP = 0.05
HELP_LINE = ("keys: space pause  <- -> 30 s  n p phase  up down temperature +-0.05  q quit")

_ACTIONS = {
    " ": lambda p: p.toggle(),
    "\x1b[C": lambda p: p.seek_by(SEEK_S),
    "\x1b[D": lambda p: p.seek_by(-SEEK_S),
    "n": lambda p: p.next_phase(),
    "p": lambda p: p.previous_phase(),
    "\x1b[A": lambda p: p.shift_temperature(TEMPERATURE_STEP),
    "\x1b[B": lambda p: p.shift_temperature(-TEMPERATURE_STEP),
}


def status_line(status: dict, width: int = 100) -> str:
    """One line: time, phase, temperature heard (planned and offset), layers, buffer."""
    s = status
    temp = f"T {s['temperature']:.2f}"
    if s["temperature_offset"]:
        temp += f" (plan {s['temperature_planned']:.2f} {s['temperature_offset']:+.2f})"
    parts = [f"{clock(s['position_s'])} / {clock(s['duration_s'])}",
             s["phase"], temp, "layers: " + (", ".join(s["layers"]) or "none"),
             f"buffer {s['buffer_s']:.1f}s"]
    if s["underruns"]:
        parts.append(f"underruns {s['underruns']}")
    if s["gain_estimated"]:
        parts.append("gain estimated")
    if s["paused"]:
        parts.append("PAUSED")
    line = "  ".join(parts)
    return line if len(line) <= width else line[:max(width - 1, 1)] + "…"


def clock(seconds: float) -> str:
    """Whole seconds as ``m:ss`` or ``h:mm:ss`` (a status line that does not jitter)."""
    s = int(max(seconds, 0.0))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _read_key(fd: int) -> str:
    ch = os.read(fd, 1).decode("latin-1")
    if ch != "\x1b":
        return ch
    seq = ch
    while len(seq) < 3 and select.select([fd], [], [], 0.05)[0]:
        seq += os.read(fd, 1).decode("latin-1")
    return seq


def run_terminal(player, *, stdin=None, out=None) -> str:
    """Handle keys and draw the status line until the session ends or ``q``; returns
    ``"end"`` or ``"quit"``. The terminal is restored whatever ends it."""
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stderr if out is None else out
    keys = stdin.isatty()
    draw = out.isatty()
    fd = stdin.fileno() if keys else None
    saved = None
    if keys:
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)  # keys one by one, no echo; Ctrl-C still interrupts
    try:
        while not player.done.is_set():
            if keys:
                if select.select([fd], [], [], 0.1)[0]:
                    key = _read_key(fd)
                    if key in ("q", "Q"):
                        return "quit"
                    action = _ACTIONS.get(key)
                    if action is not None:
                        action(player)
            else:
                player.done.wait(0.25)
            if player.error is not None:
                raise player.error
            if draw:
                width = shutil.get_terminal_size((100, 20)).columns - 1
                out.write("\r\x1b[K" + status_line(player.status(), width))
                out.flush()
        return "end"
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if draw:
            out.write("\n")
            out.flush()
