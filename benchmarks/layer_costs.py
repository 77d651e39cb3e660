"""What each layer kind costs the measuring pass per second of sound (issue 17): the figures
behind ``LayerKind.cost`` (``resonator.layers.base``), which
:func:`resonator.recipe.render.balanced_split` adds up to split a render's two measuring
lanes where their work is equal.

For every registered layer kind, each instance found (a one-layer session of the kind with
its default parameters, 60 s; every layer of that kind in the shipped recipes, over up to
``--seconds`` where it plays fully) is rendered alone, as it is mixed (the kind's node, pan,
gain, envelope), in one thread: thread CPU seconds per second of sound, best of ``--runs``.
The unit is the measuring pass's own work per second of a stereo 48 kHz session (the
K-weighting meter, the true-peak screen and the float32 scratch cache of every block,
measured here on the blocks of a pink-noise session), which every lane pays whatever plays:
``cost = 1`` is a layer as dear as that. A kind's cost is the median of its instances.

    .venv/bin/python benchmarks/layer_costs.py                # table + the figures to declare
    .venv/bin/python benchmarks/layer_costs.py --lanes mettannealing   # lane CPU at its split
    .venv/bin/python benchmarks/layer_costs.py --kinds drone,noise --runs 5

``--lanes RECIPE`` runs the measuring pass of RECIPE (``resonator.mastering.master`` with
the twin graph, the split from ``balanced_split``, a scratch cache) and prints each lane's
wall and thread CPU seconds: the lanes should end together.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from resonator import _process

_process.tune()

import numpy as np  # noqa: E402

from resonator.recipe.model import layer_kinds  # noqa: E402
from resonator.recipe.session import build_session  # noqa: E402
from resonator.render import DEFAULT_BLOCK, Renderer  # noqa: E402

from graph_speed import uptime  # noqa: E402  (beside this script)

ROOT = Path(__file__).resolve().parents[1]
SR = 48000
ONE_LAYER_S = 300.0


#: parameters that change what a kind costs (one-layer sessions besides its defaults): the
#: instances the declared costs are fitted to
VARIANTS = {
    "noise": ['color = "brown"', "stereo = false", 'lowpass = "1200 Hz"',
              'highpass = "100 Hz"\nlowpass = "4000 Hz"',
              'lowpass = { temperature = "400..4000 Hz", mapping = "exponential" }',
              'mod_rate = "10 Hz"\nmod_depth = 0.5',
              'mod_rate = { temperature = "10..16 Hz" }\nmod_depth = 0.5'],
    "binaural": ['beat = { temperature = "2..7 Hz", mapping = "exponential" }'],
    "monaural": ['beat = { temperature = "2..7 Hz" }'],
    "breath": ["cues = true", 'pattern = "wim-hof"', 'pattern = "wim-hof"\ncues = true'],
    "gamma": ['mode = "am"', 'mode = "am"\nsource = "pink"'],
    "drone": ["ratios = [1, 1.5, 2]", "ratios = [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5]",
              'brightness = { temperature = "0.15..0.7" }', "drift = 0.3"],
    "isochronic": ['gate = "sharp"'],
    "pulse": ['style = "click"'],
    "tone": ['gain = { temperature = "-30..-22 dB" }'],  # a gain that varies (every kind)
}


def one_layer(kind: str, extra: str, folder: Path, n: int) -> Path:
    """A one-layer session of ``kind`` (its defaults and ``extra`` TOML lines), 120 s at 48 kHz
    with the temperature rising 0 -> 1."""
    p = folder / f"{kind}-{n}.toml"
    p.write_text(textwrap.dedent(f"""\
        title = "cost of {kind}"
        sample_rate = {SR}
        [temperature]
        start = 0.0
        [[phase]]
        name = "all"
        duration = "{ONE_LAYER_S:g}s"
        temperature = {{ to = 1.0 }}
        [[layer]]
        name = "{kind}"
        kind = "{kind}"
        """) + extra + "\n")
    return p


def instances(kinds: list[str], folder: Path):
    """(label, recipe path, layer name) of every instance measured."""
    from resonator import shipped

    for kind in kinds:
        if kind != "music":  # (needs files: the shipped music recipe has one)
            for n, extra in enumerate([""] + VARIANTS.get(kind, [])):
                label = extra.replace("\n", ", ") or "defaults"
                yield f"{kind} ({label})", one_layer(kind, extra, folder, n), kind
        for r in shipped.list_recipes():
            s = build_session(r.path)
            for info in s.layers:
                if info.kind == kind:
                    yield f"{kind} in {r.name}:{info.name}", r.path, info.name


def sounding_span(info, duration_s: float, seconds: float) -> tuple[float, float]:
    """The longest stretch (up to ``seconds``) where the layer's envelope is 1."""
    t = np.arange(0.0, duration_s, 0.25)
    full = np.asarray(info.envelope.evaluate(t)) >= 1.0
    best, run_start, best_span = 0.0, None, (0.0, 0.0)
    for i, f in enumerate(np.append(full, False)):
        if f and run_start is None:
            run_start = t[i]
        elif not f and run_start is not None:
            end = t[i - 1]
            if end - run_start > best:
                best, best_span = end - run_start, (run_start, end)
            run_start = None
    a, b = best_span
    return a, min(b, a + seconds)


def layer_cpu_per_s(path: Path, layer: str, seconds: float, runs: int) -> tuple[float, float]:
    """(thread CPU seconds per second of sound of one layer rendered alone, best of ``runs``;
    its declared cost, :func:`resonator.recipe.render.layer_cost`)."""
    from resonator.recipe.render import layer_cost

    best = float("inf")
    for _ in range(runs):
        s = build_session(path)
        info = next(i for i in s.layers if i.name == layer)
        declared = layer_cost(info)
        a, b = sounding_span(info, s.duration_s, seconds)
        if b - a < 5.0:
            raise SystemExit(f"{path}: layer {layer} never plays fully for 5 s")
        r = Renderer(info.node, sr=s.sr, seed=s.seed)
        first, end = int(a * s.sr), int(b * s.sr)
        blocks = r.blocks(first, end)
        next(blocks)  # warm-up: the first block pays set-up
        c = time.thread_time()
        n = 0
        for _, block in blocks:
            n += block.shape[1]
        best = min(best, (time.thread_time() - c) / (n / s.sr) * (SR / s.sr))
    return best, declared


def measuring_cpu_per_s(runs: int, folder: Path) -> float:
    """Thread CPU seconds per second of a stereo 48 kHz session the measuring pass spends on
    each block besides the graph: meter, true-peak screen, scratch cache."""
    from resonator.mastering import HOP_S, RawCache
    from resonator.measure.loudness import LoudnessMeter, ScreenedTruePeak

    p = folder / "base.toml"
    p.write_text(f'title = "base"\nsample_rate = {SR}\n[[phase]]\nname = "all"\n'
                 'duration = "60s"\n[[layer]]\nname = "air"\nkind = "noise"\n')
    s = build_session(p)
    total = int(s.duration_s * SR)
    blocks = [b.copy() for _, b in Renderer(s.node, sr=SR, seed=s.seed).blocks(0, total)]
    hop = int(round(HOP_S * SR))
    best = float("inf")
    for _ in range(runs):
        meter = LoudnessMeter(SR, 2, true_peak=False, peak_hop=hop, first_frame=0)
        screen = ScreenedTruePeak(2)
        with RawCache(folder, 2, 0, total, DEFAULT_BLOCK) as cache:
            c = time.thread_time()
            pos = 0
            for block in blocks:
                meter.update(block)
                screen.update(block, meter.block_peak)
                cache.store(pos, block, meter.hop_peaks[pos // hop - meter.hop_base:])
                pos += block.shape[1]
            best = min(best, (time.thread_time() - c) / s.duration_s)
    return best


def lanes(recipe: str, runs: int, share: float | None) -> None:
    """Each measuring lane's wall and thread CPU seconds at the split balanced_split gives."""
    from resonator import mastering
    from resonator.mastering import RawCache
    from resonator.recipe.render import balanced_split

    original = mastering.iter_blocks
    for _ in range(runs):
        s = build_session(recipe)
        twin = build_session(recipe).node
        record = []

        def timed(*a, **k):
            t, c = time.perf_counter(), time.thread_time()
            yield from original(*a, **k)
            record.append((k.get("start_s", 0.0), time.perf_counter() - t,
                           time.thread_time() - c))

        mastering.iter_blocks = timed
        at = balanced_split(s) if share is None else share
        total = int(round(s.duration_s * s.sr))
        try:
            with tempfile.TemporaryDirectory() as tmp, \
                    RawCache(Path(tmp), 2, 0, total, DEFAULT_BLOCK) as cache:
                t = time.perf_counter()
                mastering.master(s.node, s.duration_s, sr=s.sr, seed=s.seed, cache=cache,
                                 twin=twin, split_share=at, target_lufs=s.recipe.loudness_lufs,
                                 ceiling_dbtp=s.recipe.true_peak_dbtp)
                wall = time.perf_counter() - t
        finally:
            mastering.iter_blocks = original
        parts = "  ".join(f"lane from {a / 60:5.1f} min: {w:5.2f} s wall {c:5.2f} s CPU"
                          for a, w, c in sorted(record))
        print(f"split at {at:.4f} ({at * s.duration_s / 60:.2f} min), measuring pass "
              f"{wall:5.2f} s: {parts}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", help="comma-separated kinds (default: every registered kind)")
    ap.add_argument("--runs", type=int, default=3, help="best of N per instance (3)")
    ap.add_argument("--seconds", type=float, default=float("inf"),
                    help="at most this many seconds of each instance (default: all of it)")
    ap.add_argument("--lanes", metavar="RECIPE",
                    help="instead: the measuring lanes of RECIPE at its balanced split")
    ap.add_argument("--share", type=float, help="with --lanes: split here instead (0..1)")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.seconds < 5:
        ap.error("--runs must be >= 1 and --seconds >= 5")
    if args.share is not None and not 0 < args.share < 1:
        ap.error("--share must lie between 0 and 1 (a share of the session)")
    print(f"{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"before: {uptime()}", flush=True)
    if args.lanes:
        from resonator.errors import ResonatorError
        from resonator.loading import load

        try:
            path = str(load(args.lanes).path)
        except ResonatorError as exc:
            ap.error(f"--lanes: {exc}")
        lanes(path, args.runs, args.share)
        print(f"after: {uptime()}")
        return 0
    kinds = sorted(layer_kinds())
    if args.kinds:
        wanted = [k.strip() for k in args.kinds.split(",")]
        unknown = [k for k in wanted if k not in kinds]
        if unknown:
            ap.error(f"unknown kind(s) {', '.join(unknown)}; kinds are: {', '.join(kinds)}")
        kinds = wanted
    with tempfile.TemporaryDirectory(prefix="layer-costs-") as tmp:
        tmp = Path(tmp)
        base = measuring_cpu_per_s(args.runs, tmp)
        print(f"measuring pass besides the graph: {base * 1e3:.2f} ms CPU per second of "
              "stereo 48 kHz (= cost 1)", flush=True)
        ratios: dict[str, list[float]] = {k: [] for k in kinds}
        print(f"  {'instance':<60} {'CPU':>9}  measured  declared")
        for label, path, layer in instances(kinds, tmp):
            cpu, declared = layer_cpu_per_s(path, layer, args.seconds, args.runs)
            ratios[label.split()[0]].append(cpu / base / declared)
            print(f"  {label:<60} {cpu * 1e3:5.2f} ms/s  {cpu / base:6.2f}  {declared:8.2f}",
                  flush=True)
        print("\nmeasured / declared, median by kind (1 = the declaration fits):")
        print("  " + ", ".join(f"{k} {statistics.median(r):.2f}" for k, r in ratios.items() if r))
    from resonator import shipped
    from resonator.recipe.render import balanced_split

    print("\nwhere the measuring lanes split (share of the session):")
    for r in shipped.list_recipes():
        s = build_session(r.path)
        print(f"  {r.name:<28} {balanced_split(s):.4f} ({balanced_split(s) * s.duration_s / 60:.2f} "
              f"of {s.duration_s / 60:.1f} min)")
    print(f"after: {uptime()}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # (output piped into head)
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
