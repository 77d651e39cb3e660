"""Check every real SBaGen fixture on the full mix: convert, render bounded windows, check.

For each ``.sbg`` under /work/shared/sbg (or the folders given), the sequence is converted and
its targets are listed (:func:`resonator.check.targets.targets_from_session`). A bounded,
evenly spread selection of them (``--max-targets`` per fixture, every kind represented) gets a
render window: the target's own window when it is short (glide samples; 24 s around the
centre of a binaural one, which the checker may lengthen), else a stretch of
12 s (beats, carriers), 10 s (L/R correlation) or 30 s (pulses) at its centre; overlapping
windows are merged. Each window is rendered with every layer (the full mix) by
``render_recipe(start=..., duration=...)`` at 16 kHz when the recipe allows it (else at its own
rate), not loudness-normalised (loudness and true peak need the whole session and are left
out), as 32-bit float, and cached under benchmarks/out/sbg/. ``check_file`` then measures it;
the results of the selected targets are collected (a target clipped into another window's
render is not counted twice), plus the click check of every window.

Usage::

    .venv/bin/python benchmarks/sbg_check.py [--max-targets 24] [--only NAME ...] [--json F]

Prints a table fixture -> passed/failed/skipped and the overall count; ``--json`` writes every
failure and skip with its detail.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "sbg"
OUT = REPO / "benchmarks" / "out" / "sbg"

SESSION_WIDE = {"loudness", "true_peak", "loudness_range", "clicks", "loudness_trend",
                "centroid_trend", "fade_in"}
SPAN_S = {"binaural_beat": 12.0, "binaural_carrier": 12.0, "lr_correlation": 10.0,
          "am_rate": 30.0, "am_depth": 24.0, "gated_depth": 24.0, "gamma_share": 30.0,
          "breath_rate": 150.0, "bell_strikes": 10.0, "band_energy": 8.0,
          "noise_slope": 20.0}
MERGE_MAX_S = 60.0
#: a glide sample (a short target window) is rendered with this much around its centre: the
#: checker lengthens the window, centred, to resolve close voices or read a weak tone
SAMPLE_SPAN_S = 24.0


def _key(kind, layer, name, a, b):
    return (kind, layer, name, round(a, 1), round(b, 1))


def _select(targets, max_targets: int):
    """Up to ``max_targets`` targets, evenly spread over each kind's list, kinds sharing."""
    by_kind = defaultdict(list)
    for t in targets:
        if t.kind not in SESSION_WIDE:
            by_kind[t.kind].append(t)
    if not by_kind:
        return []
    quota = max(1, math.ceil(max_targets / len(by_kind)))
    out = []
    for kind, ts in by_kind.items():
        ts = sorted(ts, key=lambda t: (t.start_s, t.layer or ""))
        if len(ts) <= quota:
            out += ts
        else:
            idx = sorted({int(round(i * (len(ts) - 1) / (quota - 1))) if quota > 1 else
                          len(ts) // 2 for i in range(quota)})
            out += [ts[i] for i in idx]
    return out


def _span(t, session_s: float):
    """Session seconds [a, b) to render for a target."""
    if t.kind == "fade_out":
        return t.start_s, min(t.end_s, session_s)
    length = SPAN_S.get(t.kind, 12.0)
    if t.params.get("sample") and t.kind.startswith("binaural"):
        c = 0.5 * (t.start_s + t.end_s)
        h = max(0.5 * (t.end_s - t.start_s), SAMPLE_SPAN_S / 2)
        a, b = c - h, c + h
    elif t.params.get("sample") or t.end_s - t.start_s <= length:
        a, b = t.start_s, t.end_s
    else:
        c = 0.5 * (t.start_s + t.end_s)
        a, b = c - length / 2, c + length / 2
    a = max(0.0, a - 0.01)
    b = min(session_s, b + 0.01)
    return a, b


def _merge(spans):
    spans = sorted(spans)
    out = []
    for a, b in spans:
        if out and a <= out[-1][1] + 1.0 and max(b, out[-1][1]) - out[-1][0] <= MERGE_MAX_S:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def _render_sr(recipe):
    from resonator.errors import ResonatorError
    from resonator.recipe.session import build_session

    if recipe.sample_rate > 16000:
        try:
            return build_session(recipe, sr=16000), 16000
        except ResonatorError:
            pass
    return build_session(recipe, sr=recipe.sample_rate), recipe.sample_rate


def check_fixture(path: Path, max_targets: int, verbose: bool = False) -> dict:
    from resonator.check import check_file
    from resonator.check.targets import targets_from_session
    from resonator.errors import ResonatorError
    from resonator.recipe.render import render_recipe
    from resonator.sbg.convert import convert_file, recipe_from_conversion

    row = {"fixture": f"{path.parent.name}/{path.name}", "passed": 0, "failed": 0,
           "skipped": 0, "failures": [], "skips": [], "unsupported": [], "error": None,
           "windows": 0, "targets_total": 0}
    try:
        conv = convert_file(path)
        recipe = recipe_from_conversion(conv)
    except ResonatorError as exc:
        row["error"] = f"conversion: {exc}"
        return row
    row["unsupported"] = list(conv.unsupported)
    session, sr = _render_sr(recipe)
    targets = targets_from_session(session)
    row["targets_total"] = sum(t.kind not in SESSION_WIDE for t in targets)
    chosen = _select(targets, max_targets)
    want = {_key(t.kind, t.layer, t.name, t.start_s, t.end_s): t for t in chosen}
    spans = _merge([_span(t, session.duration_s) for t in chosen])
    if not spans:  # no frequency targets (spin noise only): one window for the click check
        mid = 0.5 * session.duration_s
        spans = [(max(0.0, mid - 5.0), min(session.duration_s, mid + 5.0))]
    digest = hashlib.sha256(conv.toml.encode()).hexdigest()[:10]
    folder = OUT / f"{path.stem}-{digest}-{sr}"
    got: dict = {}
    skips: dict = {}
    clicks_bad = []
    for a, b in spans:
        wav = folder / f"{a:09.2f}-{b - a:06.2f}.wav"
        if not (wav.exists() and wav.with_suffix(".json").exists()):
            render_recipe(recipe, wav, sr=sr, start=a, duration=b - a, normalize=False,
                          bits="32f", force=True)
        row["windows"] += 1
        rep = check_file(wav, recipe=recipe)
        off = rep.offset_s
        for r in rep.results:
            t = r.target
            if t.kind == "clicks":
                if not r.passed:
                    clicks_bad.append({"window_s": [round(a, 2), round(b, 2)],
                                       "detail": r.detail})
                continue
            sa, sb = t.params.get("clipped_from", (t.start_s + off, t.end_s + off))
            k = _key(t.kind, t.layer, t.name, sa, sb)
            if k not in want:
                continue
            owned = "clipped_from" not in t.params
            if k in got and not owned:
                continue
            got[k] = r
        for t, why in rep.skipped:
            sa, sb = t.params.get("clipped_from", (t.start_s + off, t.end_s + off))
            if "clipped_from" not in t.params and why in ("outside the rendered window",
                                                         "only partly inside the rendered "
                                                         "window"):
                sa, sb = t.start_s, t.end_s  # fit_to_file leaves these in session seconds
            k = _key(t.kind, t.layer, t.name, sa, sb)
            if k in want and k not in got and "rendered window" not in why:
                skips[k] = why
    for k, t in want.items():
        if k in got:
            r = got[k]
            if r.passed:
                row["passed"] += 1
            else:
                row["failed"] += 1
                row["failures"].append({
                    "kind": t.kind, "name": t.name, "layer": t.layer,
                    "window_s": [round(t.start_s, 2), round(t.end_s, 2)],
                    "expected": t.expected, "measured": r.measured, "tolerance": t.tolerance,
                    "detail": r.detail})
        elif k in skips:
            row["skipped"] += 1
            row["skips"].append({"kind": t.kind, "name": t.name, "layer": t.layer,
                                 "window_s": [round(t.start_s, 2), round(t.end_s, 2)],
                                 "reason": skips[k]})
        else:
            row["failed"] += 1
            row["failures"].append({"kind": t.kind, "name": t.name, "layer": t.layer,
                                    "window_s": [round(t.start_s, 2), round(t.end_s, 2)],
                                    "error": "not evaluated (benchmark window missed it)"})
    if spans:
        if clicks_bad:
            row["failed"] += 1
            row["failures"].append({"kind": "clicks", "windows": clicks_bad[:5]})
        else:
            row["passed"] += 1
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path, default=[FIXTURES])
    ap.add_argument("--max-targets", type=int, default=24)
    ap.add_argument("--only", nargs="*", default=None, help="fixture stems to run")
    ap.add_argument("--json", type=Path, default=OUT / "sbg_check.json")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    files = sorted(p for f in args.folders for p in Path(f).rglob("*.sbg"))
    if args.only:
        files = [p for p in files if p.stem in args.only or p.name in args.only]
    rows = []
    t0 = time.perf_counter()
    print(f"{'fixture':44s} {'pass':>5s} {'fail':>5s} {'skip':>5s} {'of':>6s} {'win':>4s}  "
          "first problem")
    for p in files:
        t1 = time.perf_counter()
        try:
            row = check_fixture(p, args.max_targets, args.verbose)
        except Exception as exc:  # noqa: BLE001 - one fixture's crash is one row
            row = {"fixture": f"{p.parent.name}/{p.name}", "passed": 0, "failed": 0,
                   "skipped": 0, "failures": [], "skips": [], "unsupported": [],
                   "error": f"{type(exc).__name__}: {exc}", "windows": 0,
                   "targets_total": 0}
        rows.append(row)
        first = row["error"] or ""
        if not first and row["failures"]:
            f = row["failures"][0]
            err = (f.get("detail") or {}).get("error", "") or f.get("error", "")
            first = (f"{f['kind']} {f.get('name') or ''} exp {f.get('expected')} "
                     f"got {f.get('measured')} {err}")
        elif not first and row["skips"]:
            first = f"skip: {row['skips'][0]['reason']}"
        print(f"{row['fixture'][-44:]:44s} {row['passed']:5d} {row['failed']:5d} "
              f"{row['skipped']:5d} {row['targets_total']:6d} {row['windows']:4d}  "
              f"{first[:110]}  ({time.perf_counter() - t1:.0f} s)", flush=True)
    ok = [r for r in rows if not r["error"] and r["failed"] == 0]
    clean = [r for r in ok if r["skipped"] == 0]
    skipped = [r for r in ok if r["skipped"] > 0]
    bad = [r for r in rows if r["error"] or r["failed"] > 0]
    reasons = sorted({s["reason"] for r in skipped for s in r["skips"]})
    print()
    print(f"{len(clean)} of {len(rows)} pass all their targets on the full mix; "
          f"{len(skipped)} have targets skipped as unmeasurable"
          f"{' (' + '; '.join(reasons) + ')' if reasons else ''}; {len(bad)} fail"
          f"{': ' + ', '.join(Path(r['fixture']).stem for r in bad) if bad else ''}")
    print(f"targets: {sum(r['passed'] for r in rows)} passed, "
          f"{sum(r['failed'] for r in rows)} failed, {sum(r['skipped'] for r in rows)} "
          f"skipped; {time.perf_counter() - t0:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1, default=str) + "\n")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
