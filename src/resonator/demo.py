"""A demo session defined in Python: what ``make render`` renders when no recipe is given.

Five minutes: a binaural beat gliding from 10 Hz (alpha) to 4 Hz (theta) on a 200 Hz carrier,
decorrelated pink noise darkening through a swept low-pass, a soft drone, raised-cosine fades,
normalised to -20 LUFS under a -1 dBTP ceiling.

Run it with ``python -m resonator.demo [OUT.wav]``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .graph import Channels, Curve, LowPass, Node, PinkNoise, Sine, Sum


def demo_session(duration_s: float = 300.0) -> Node:
    """The demo graph: 2 channels, ``duration_s`` seconds long."""
    beat = Curve([(0, 10.0), (duration_s * 0.8, 4.0, "exp")])
    binaural = 0.2 * Channels([Sine(200 + 0.5 * beat), Sine(200 - 0.5 * beat)])
    cutoff = Curve([(0, 3000.0), (duration_s, 500.0, "exp")])
    bed = LowPass(PinkNoise(channels=2, amplitude=0.5, name="bed"), cutoff)
    drone = 0.05 * Sum([Sine(100.0), Sine(150.0, amplitude=0.5), Sine(200.5, amplitude=0.25)])
    fade = Curve([(0, 0.0), (15, 1.0, "cos"), (duration_s - 30, 1.0), (duration_s, 0.0, "cos")])
    return (binaural + bed + drone) * fade


def main(argv: list[str] | None = None) -> int:
    """``python -m resonator.demo [OUT] [--force]``: render the demo session (5 minutes)."""
    from .cli import _Parser, framed

    parser = _Parser(prog="python -m resonator.demo",
                     description="Render the Python-defined demo session (5 minutes, 24-bit, "
                                 "-20 LUFS, true peak <= -1 dBTP).")
    parser.add_argument("out", nargs="?", default="renders/demo.wav", metavar="OUT.wav",
                        help="output file (default renders/demo.wav)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def run() -> int:
        try:
            args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 2
        return render_demo(args.out, force=args.force)
    return framed("python -m resonator.demo", run)


def render_demo(out="renders/demo.wav", *, force: bool = False) -> int:
    """Render :func:`demo_session` to ``out`` (WAV or FLAC; the default folder is created),
    normalised like a recipe; print one line."""
    from .mastering import master
    from .render import check_render_outputs, render_file

    default = str(out) == "renders/demo.wav"
    out, _ = check_render_outputs(Path(out), force=force, make_parents=default, option="OUT")
    node, dur, sr = demo_session(), 300.0, 48000
    m = master(node, dur, sr=sr, target_lufs=-20.0, ceiling_dbtp=-1.0)
    res = render_file(node, out, dur, sr=sr, bits="24", force=force, post=m.post,
                      metadata={"title": "resonator demo", "loudness": m.report()})
    rep = m.report()
    print(f"wrote {res.path} ({dur / 60:.0f} min, {res.realtime_factor:.0f}x real time, "
          f"{rep['output_lufs']} LUFS, true peak {rep['output_true_peak_dbtp']} dBTP)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
