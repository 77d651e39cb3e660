"""``resonator play``: a recipe or SBaGen sequence through the sound card, from any moment."""
from __future__ import annotations

import argparse
import os
import sys
import time

from ..units import arg_type, check_sample_rate, check_seed

NAME = "play"
HELP = "play a recipe or .sbg through the sound card from any moment, with live keys"
EXAMPLE = "resonator play recipes/focus.toml --start 24m"
MORE_EXAMPLES = (
    "\n  resonator play recipes/mettannealing.toml --device pulse"
    "\n  resonator play --list-devices"
    "\n\nkeys: space pause/resume, left/right seek 30 s, n/p next/previous phase,"
    "\n      up/down temperature +-0.05 (bound parameters glide there), q quit"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", nargs="?",
                        help="recipe file (.toml) or SBaGen sequence (.sbg)")
    parser.add_argument("--start", metavar="T|PHASE", default="0",
                        help="start here (\"24m\", \"1:30\") or at the start of this phase (its "
                             "exact name); default 0")
    parser.add_argument("--device", metavar="NAME",
                        help="output device: its index or part of its name (--list-devices)")
    parser.add_argument("--list-devices", action="store_true",
                        help="list the audio output devices and exit")
    parser.add_argument("--rate", type=arg_type(check_sample_rate, "rate"), metavar="HZ",
                        help="sample rate, 8000-384000 (default: the recipe's)")
    parser.add_argument("--seed", type=arg_type(check_seed, "seed"), metavar="N",
                        help="seed, 0 to 2**63-1 (default: the recipe's)")
    parser.add_argument("--stereo-noise", action="store_true",
                        help=".sbg only: independent noise per ear (SBaGen: the same in both)")


def run(args) -> int:
    from ..errors import ResonatorError
    from ..playback.backend import output_devices

    from ..outputs import echo
    from ..playback.backend import NoAudioOutput

    devices = output_devices()  # no PortAudio: one line, before anything is loaded
    if args.list_devices:
        if not devices:
            raise NoAudioOutput("no audio output device found (PortAudio lists none)")
        for i, name, default in devices:
            echo(f"{i:3d}  {name}{'  (default)' if default else ''}")
        return 0
    if not args.recipe:
        raise ResonatorError("give a recipe (.toml) or an SBaGen sequence (.sbg) to play",
                             "RECIPE")
    from ..loading import load
    from ..playback.keys import HELP_LINE, run_terminal
    from ..playback.player import Player
    from ..playback.stream import SessionStream
    from ..recipe.session import build_session

    from ..playback.backend import OutputOpener

    # the user's own mistakes first (a missing file, a typo), then the machine's
    recipe = load(args.recipe, stereo_noise=args.stereo_noise)
    start_s = recipe.time_of(args.start, "--start")
    if not devices:
        raise NoAudioOutput("no audio output device found (PortAudio lists none)")
    # the device opens while the session is built and its gain found
    opener = OutputOpener(sr=int(args.rate or recipe.sample_rate), channels=2,
                          device=args.device)
    try:
        session = build_session(recipe, sr=args.rate, seed=args.seed)
        stream = SessionStream(session, start_s=start_s)
    except BaseException:
        opener.close()
        raise
    player = Player(stream, output=opener)
    how = "interrupted"
    try:
        player.start()
        gain = "estimated, measuring the exact one in the background" \
            if stream.mastering.estimated else "measured (cached)"
        print(f"playing {recipe.path.name} from {args.start} at {stream.sr} Hz; loudness "
              f"gain {stream.mastering.gain_db:+.1f} dB ({gain})", file=sys.stderr)
        if os.environ.get("RESONATOR_PLAY_FIRST_AUDIO"):  # benchmarks/play_speed.py
            return _report_first_audio(player)
        if sys.stdin.isatty():
            print(HELP_LINE, file=sys.stderr)
        how = run_terminal(player)
    except KeyboardInterrupt:
        pass
    finally:
        player.stop()
    from ..playback.keys import clock

    print(f"{'ended' if how == 'end' else 'stopped'} at {clock(player.position_s)};"
          f" underruns: {player.underruns}", file=sys.stderr)
    if stream.measure_error:
        print(f"warning: the loudness measurement failed: {stream.measure_error}",
              file=sys.stderr)
    return 130 if how == "interrupted" else 0


def _report_first_audio(player) -> int:
    """Print the wall-clock time the device first got session samples and the CPU seconds
    the process had used by then, then stop (for benchmarks/play_speed.py, which subtracts
    the time it started the command)."""
    while player.first_audio_s is None and not player.done.is_set():
        time.sleep(0.0005)
    cpu = time.process_time()  # all of this process's threads until now
    if player.first_audio_s is None:
        return 1
    print(f"first-audio {time.time() - (time.perf_counter() - player.first_audio_s):.6f} "
          f"{cpu:.3f}", file=sys.stderr)
    return 0
