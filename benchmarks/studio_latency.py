"""How fast the studio's diagnostics come back while you type (the issue asks for < 300 ms).

Starts ``resonator studio recipes/ --no-browser`` as its own process, then times, over real
HTTP from this process, ``POST /api/diagnose`` for every shipped recipe: the text as shipped
and the text with a typo (``carrier`` -> ``carier``, or an unknown top-level key when the recipe
has no carrier), for the fast pass the page sends as you type (validation, plan and timeline
curves) and for the build pass it sends once you stop (the session graph built too).

    python benchmarks/studio_latency.py [--runs 15]

Prints one row per recipe: median and worst round trip in ms of each pass. The first request of
each kind is a warm-up (imports) and is not counted.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    recipes = sorted((ROOT / "recipes").glob("*.toml"))
    proc = subprocess.Popen([sys.executable, "-m", "resonator.cli", "studio",
                             str(ROOT / "recipes"), "--no-browser"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        url = next(line.split()[1] for line in proc.stdout if line.startswith("open "))
        host = url.split("/")[2]
        token = url.split("token=")[1]
        conn = http.client.HTTPConnection(host, timeout=60)

        def post(body):
            t0 = time.perf_counter()
            conn.request("POST", "/api/diagnose", json.dumps(body),
                         {"X-Studio-Token": token, "Content-Type": "application/json"})
            data = json.loads(conn.getresponse().read())
            return (time.perf_counter() - t0) * 1e3, data

        for build in (False, True):  # warm-up: imports, numba kernels
            post({"path": recipes[0].name, "text": recipes[0].read_text(), "build": build})
        print(f"{'recipe':34} {'valid ms (med/max)':>19} {'typo ms (med/max)':>18} "
              f"{'build ms (med/max)':>19}")
        worst = 0.0
        for path in recipes:
            text = path.read_text()
            typo = text.replace("carrier", "carier", 1) if "carrier" in text else \
                "titel = 'x'\n" + text
            row = []
            for body, check in (({"text": text}, True), ({"text": typo}, False),
                                ({"text": text, "build": True}, True)):
                body = dict(body, path=path.name)
                times = []
                for _ in range(args.runs):
                    ms, data = post(body)
                    assert data["ok"] is check, (path.name, data["diagnostics"])
                    times.append(ms)
                row.append((statistics.median(times), max(times)))
            worst = max(worst, row[0][0], row[1][0])
            print(f"{path.name:34} " + " ".join(f"{m:9.1f} / {x:6.1f}" for m, x in row))
        print(f"worst median of the typing pass: {worst:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
