"""Batch work with real parts: Dask LocalCluster processes, a `dask scheduler` + `dask worker`
cluster reached by address, a worker killed mid-run, resumed runs, a 2x3 recipe sweep.

Short files at low sample rates keep it fast; every process started here is stopped here.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from resonator.batch.executor import Executor
from resonator.batch.library import analyze_library, analyze_task
from resonator.batch.results import ResultsLog
from resonator.batch.variants import make_variants, parse_vary, variant_text
from resonator.errors import RecipeError, ResonatorError

SR = 8000
BPMS = (84, 96, 108, 120, 132, 144, 100, 126)


def click_track(bpm: float, seconds: float = 6.0) -> np.ndarray:
    """Short 1 kHz clicks (raised-cosine 15 ms) on every beat."""
    x = np.zeros(int(seconds * SR))
    n = int(0.015 * SR)
    click = np.hanning(n) * np.sin(2 * np.pi * 1000 * np.arange(n) / SR)
    for t in np.arange(0.25, seconds - 0.05, 60.0 / bpm):
        k = int(round(t * SR))
        x[k:k + n] += click[: x.size - k]
    return 0.5 * x


@pytest.fixture
def library(tmp_path):
    """Eight click tracks with known tempi in two sub-folders, one file that is not audio."""
    root = tmp_path / "lib"
    for i, bpm in enumerate(BPMS):
        d = root / ("ab"[i % 2]) / "disc"
        d.mkdir(parents=True, exist_ok=True)
        sf.write(d / f"t{bpm}.wav", click_track(bpm), SR)
    (root / "a" / "broken.flac").write_bytes(b"not audio at all")
    return root


def _bpm_of(path: str) -> int:
    return int(Path(path).stem[1:])


def _records(jsonl: Path) -> list[dict]:
    return [json.loads(line) for line in jsonl.read_text().splitlines()]


# ----------------------------------------------------------------------------- pieces
def test_vary_values_and_variant_recipes(tmp_path):
    v = parse_vary("layer.beat.beat={temperature = \"2..7 Hz\", mapping = \"exponential\"},6 Hz")
    assert v.values == ({"temperature": "2..7 Hz", "mapping": "exponential"}, "6 Hz")
    assert parse_vary("phase.one.temperature.to=0.5,0.9").values == (0.5, 0.9)
    assert parse_vary("seed=1,2,true").values == (1, 2, True)
    for bad in ("layer.beat=1,2", "layer.beat.carrier", "layer..carrier=1", "seed=1,,2",
                "seed=1,1"):
        with pytest.raises(ResonatorError):
            parse_vary(bad)
    varies = [parse_vary("layer.beat.carrier=250 Hz,300 Hz"),
              parse_vary("phase.one.duration=5s,6s,7s")]
    variants, total = make_variants(varies)
    assert total == 6 and [x.index for x in variants] == list(range(6))
    assert variants[4].name == "4-beat.carrier=300Hz_one.duration=6s"
    # a negative value keeps its sign in the name (-20dB and 20dB are different variants)
    signed, _ = make_variants([parse_vary("layer.bed.gain=-20dB,20dB, -6 dB")])
    assert [x.name for x in signed] == ["0-bed.gain=-20dB", "1-bed.gain=20dB",
                                        "2-bed.gain=-6dB"]
    # a seeded sample: the same choice each time, another with another seed, indices kept
    a, _ = make_variants(varies, sample=3, sample_seed=1)
    b, _ = make_variants(varies, sample=3, sample_seed=1)
    assert [x.name for x in a] == [x.name for x in b] and len(a) == 3
    assert {x.name for x in a} <= {x.name for x in variants}
    assert any([x.index for x in make_variants(varies, sample=3, sample_seed=s)[0]]
               != [x.index for x in a] for s in range(2, 6))
    # the variant file extends the base and loads with the new values only
    from resonator.loading import load
    from resonator.recipe.loader import load_raw

    base = tmp_path / "small.toml"
    base.write_text(SMALL)
    out = tmp_path / "v"
    out.mkdir()
    p = out / "x.toml"
    p.write_text(variant_text(load_raw(base), variants[4], varies, folder=out))
    r = load(p)
    assert r.duration_s == 6.0 and "carrier 300 Hz" in r.title
    beat = next(lay for lay in r.layers if lay.name == "beat")
    assert beat.params["carrier"].evaluate(r.timeline(), np.array([1.0]))[0] == 300.0
    with pytest.raises(RecipeError, match="no layer named 'drum'; its layers are beat, bed"):
        variant_text(load_raw(base), make_variants([parse_vary("layer.drum.gain=1,2")])[0][0],
                     [parse_vary("layer.drum.gain=1,2")], folder=out)
    into = [parse_vary("layer.beat.carrier.x=1,2")]
    with pytest.raises(RecipeError, match="which is a value"):
        variant_text(load_raw(base), make_variants(into)[0][0], into, folder=out)


def test_results_log_cuts_a_partial_line_and_allows_one_writer(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsLog(path) as log:
        first = log.append({"n": 1})
        second = log.append({"n": 2})
        with pytest.raises(ResonatorError, match="another run is writing"):
            ResultsLog(path)
        assert log.read(second) == {"n": 2} and log.read(first) == {"n": 1}
    with open(path, "ab") as fh:
        fh.write(b'{"n": 3, "cut in the mid')  # a run killed while writing
    with ResultsLog(path) as log:
        assert [r["n"] for _, r in log.scan()] == [1, 2]
        log.append({"n": 4})
    assert [json.loads(x)["n"] for x in path.read_text().splitlines()] == [1, 2, 4]


def test_interrupted_run_resumes_and_content_is_the_key(library, tmp_path, monkeypatch):
    """In this process (jobs=1): stop after 3 files, resume; then a copied and a touched file
    get their records without a new analysis, and other options analyze again."""
    jsonl = tmp_path / "out.jsonl"
    seen = []

    def stop_after_three(rec):
        seen.append(rec["path"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_library([library], jsonl, jobs=1, loudness=False, on_record=stop_after_three)
    assert len(_records(jsonl)) == 3
    run = analyze_library([library], jsonl, csv=tmp_path / "s.csv", jobs=1, loudness=False)
    assert run.skipped == sum(r["status"] == "ok" for r in _records(jsonl)[:3])
    assert run.analyzed + run.skipped == len(BPMS) and len(run.failed) == 1
    assert "broken.flac" in run.failed[0] and "cannot read" in run.failed[0]
    recs = _records(jsonl)
    ok = [r for r in recs if r["status"] == "ok"]
    assert sorted(Counter(r["path"] for r in ok).values()) == [1] * len(BPMS)
    for r in ok:
        assert r["report"]["tempo"]["bpm"] == pytest.approx(_bpm_of(r["path"]), rel=0.01)
    rows = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert [row["path"] for row in rows] == sorted(r["path"] for r in ok)

    # moved and touched content is known: no analysis runs for it
    import resonator.analysis.report as report

    def no_analysis(*a, **k):
        raise AssertionError("analyzed again")

    monkeypatch.setattr(report, "analyze_file", no_analysis)
    src = library / "a" / "disc" / "t84.wav"
    shutil.copy(src, library / "copy.wav")
    os.utime(library / "b" / "disc" / "t96.wav", ns=(1, 10 ** 18))
    run = analyze_library([library], jsonl, jobs=1, loudness=False)
    assert (run.copied, run.analyzed, run.skipped) == (2, 0, len(BPMS) - 1)
    copy = [r for r in _records(jsonl) if r["path"].endswith("copy.wav")]
    assert len(copy) == 1 and copy[0]["report"]["tempo"]["bpm"] == pytest.approx(84, rel=0.01)
    assert copy[0]["copied_from"] == str(src)
    monkeypatch.undo()
    # another analysis key (loudness on) is new work
    run = analyze_library([library / "a" / "disc" / "t84.wav"], jsonl, jobs=1, loudness=True)
    assert run.analyzed == 1


SMALL = textwrap.dedent("""
    title = "small"
    sample_rate = 8000
    fade_in = "1s"
    fade_out = "1s"
    loudness = "-23 LUFS"
    true_peak = "-2 dBTP"
    [[phase]]
    name = "one"
    duration = "6s"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "300 Hz"
    beat = "6 Hz"
    gain = "-6 dB"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    gain = "-18 dB"
    """).lstrip()


# ----------------------------------------------------------------------------- a LocalCluster
@pytest.fixture(scope="module")
def local_cluster():
    """Two worker processes on 127.0.0.1 (one thread each), shared by the tests below."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0")
    try:
        yield cluster
    finally:
        cluster.close()


def test_local_cluster_analyzes_each_file_once(library, tmp_path, local_cluster):
    jsonl = tmp_path / "out.jsonl"
    with Executor(cluster=local_cluster.scheduler_address) as ex:
        assert ex.workers == 2
        run = analyze_library([library], jsonl, csv=tmp_path / "s.csv", json=tmp_path / "s.json",
                              plot_dir=tmp_path / "plots", loudness=False, executor=ex)
    assert run.analyzed == len(BPMS) and len(run.failed) == 1
    recs = _records(jsonl)
    assert Counter(r["path"] for r in recs) == Counter(
        {str(p): 1 for p in library.rglob("*") if p.is_file()})
    for r in recs:
        if r["status"] == "ok":
            assert r["report"]["tempo"]["bpm"] == pytest.approx(_bpm_of(r["path"]), rel=0.01)
    # the summary and the list hold the same reports, sorted by path
    listed = json.loads((tmp_path / "s.json").read_text())
    assert [r["path"] for r in listed] == sorted(r["path"] for r in recs if r["status"] == "ok")
    assert len(list(csv.DictReader(open(tmp_path / "s.csv")))) == len(BPMS)
    # plots mirror the folders below the library (two discs with the same folder name)
    pngs = sorted(p.relative_to(tmp_path / "plots").as_posix()
                  for p in (tmp_path / "plots").rglob("*.png"))
    assert pngs == sorted(f"{'ab'[i % 2]}/disc/t{b}.png" for i, b in enumerate(BPMS))


def test_at_most_a_window_of_tasks_is_in_flight(local_cluster):
    """What bounds the memory of the client, the scheduler and the workers on a long list:
    items are taken from the list only as results come back."""
    pulled = []

    def items():
        for i in range(60):
            pulled.append(i)
            yield i, (-i,)

    with Executor(cluster=local_cluster.scheduler_address) as ex:
        got, most = [], 0
        for tag, res in ex.map_unordered(abs, items(), window=5):
            most = max(most, len(pulled) - len(got))
            got.append((tag, res))
    assert sorted(got) == [(i, i) for i in range(60)]
    assert most == 5


def test_sweep_2x3_on_the_cluster_passes_and_resumes(tmp_path, local_cluster, monkeypatch):
    from resonator.batch.sweep import sweep

    monkeypatch.chdir(tmp_path)
    Path("small.toml").write_text(SMALL)
    varies = [parse_vary("layer.beat.carrier=250 Hz,300 Hz"),
              parse_vary("layer.beat.beat=4 Hz,6 Hz,8 Hz")]
    with Executor(cluster=local_cluster.scheduler_address) as ex:
        run = sweep("small.toml", varies, "sw", executor=ex)
        assert (run.variants, run.rendered, run.passed, run.failed) == (6, 6, 6, [])
        again = sweep("small.toml", varies, "sw", executor=ex)
        assert (again.rendered, again.skipped, again.passed) == (0, 6, 6)
        gone = sorted(Path("sw/renders").glob("2-*.wav"))
        assert len(gone) == 1
        gone[0].unlink()  # a partial sweep: only what is missing is rendered again
        partial = sweep("small.toml", varies, "sw", executor=ex)
        assert (partial.rendered, partial.skipped, partial.passed) == (1, 5, 6)
        assert gone[0].is_file()
    rows = list(csv.DictReader(open("sw/sweep.csv")))
    assert [(r["layer.beat.carrier"], r["layer.beat.beat"]) for r in rows] == [
        (c, b) for c in ("250 Hz", "300 Hz") for b in ("4 Hz", "6 Hz", "8 Hz")]
    assert {r["verdict"] for r in rows} == {"pass"}
    for r in rows:  # each render measured at its own values
        assert float(r["binaural_beat beat one (measured)"]) == pytest.approx(
            float(r["layer.beat.beat"].split()[0]), abs=0.05)
        assert float(r["binaural_carrier beat one (measured)"]) == pytest.approx(
            float(r["layer.beat.carrier"].split()[0]), abs=0.1)
        assert Path(r["render"]).is_file() and Path(r["check"]).is_file()
    page = Path("sw/sweep.html").read_text()
    assert page.count("<img class='plan' src='data:image/png;base64,") == 6
    assert page.count("<tr>") == 7 and "6 of 6 variants pass" in page
    assert Path("sw/sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(os.listdir("sw/recipes")) == sorted(f"{r['variant']}.toml" for r in rows)


def test_batch_render_on_the_cluster(tmp_path, local_cluster):
    from resonator.batch.renders import render_many

    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(SMALL)
    b.write_text(SMALL.replace('duration = "6s"', 'duration = "4s"'))
    with pytest.raises(RecipeError, match="no such recipe file"):  # before any render
        render_many([(str(a), str(tmp_path / "a.wav")),
                     (str(tmp_path / "missing.toml"), str(tmp_path / "m.wav"))])
    assert not (tmp_path / "a.wav").exists()
    with Executor(cluster=local_cluster.scheduler_address) as ex:
        res = render_many([(str(a), str(tmp_path / "a.wav")), (str(b), str(tmp_path / "b.wav")),
                           (str(b), str(tmp_path / "late.wav"))],
                          options={"normalize": False, "start": "5s"}, check=True, executor=ex)
    ok, short, late = res.records
    assert ok["status"] == "ok" and ok["passed"]
    assert sf.info(tmp_path / "a.wav").frames == 1 * SR  # the window 5 s to the end
    assert short["status"] == late["status"] == "failed" and "after the end" in late["error"]
    assert res.failed == [short, late] and not (tmp_path / "b.wav").exists()


# ----------------------------------------------------------------------------- dask CLI
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_scheduler_by_address_survives_a_killed_worker(library, tmp_path):
    """`dask scheduler` and two `dask worker` processes; one worker is killed (SIGKILL) once
    results arrive: the run completes and every file is in the log exactly once."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    addr = f"tcp://127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                               addr.rsplit(":", 1)[1], "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for name in ("w1", "w2"):
            procs.append(subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--name", name],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while True:  # the scheduler may take a moment to listen
            try:
                with Client(addr, timeout="5s") as c:
                    c.wait_for_workers(2, timeout=60)
                    pids = c.run(os.getpid)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        victim = procs[1].pid
        victim_addr = next(a for a, pid in pids.items() if pid == victim)
        for i in range(4):  # more files than fit in flight, so the victim has work queued
            sf.write(library / f"more{i}.wav", click_track(BPMS[i]), SR)
        killed = []

        def kill_once(rec):
            if killed:
                return
            from distributed import default_client

            deadline = time.monotonic() + 30
            while not default_client().processing().get(victim_addr):  # it holds a file
                assert time.monotonic() < deadline
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)
            killed.append(rec["path"])

        jsonl = tmp_path / "out.jsonl"
        run = analyze_library([library], jsonl, cluster=addr, loudness=False,
                              on_record=kill_once)
        assert killed and procs[1].wait(timeout=10) == -signal.SIGKILL
        recs = _records(jsonl)
        files = [str(p) for p in library.rglob("*") if p.is_file()]
        assert Counter(r["path"] for r in recs) == Counter(files)
        assert [r["path"] for r in recs if r["status"] != "ok"] == [str(library / "a" / "broken.flac")]
        assert run.analyzed == len(files) - 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_unreachable_cluster_is_one_line(library, tmp_path):
    addr = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(ResonatorError, match=f"cannot reach a Dask scheduler at {addr}"):
        with Executor(cluster=addr, connect_timeout_s=1):
            pass
    with pytest.raises(ResonatorError, match="--jobs: must be a whole number"):
        Executor(jobs=0)
    assert analyze_task(str(tmp_path / "gone.wav"), "k", {}, frozenset())["status"] == "failed"


# ----------------------------------------------------------------------------- command line
def main(argv: list[str]) -> int:
    """The command line's exit code (argparse's own errors included)."""
    from resonator.cli import main as cli_main

    try:
        return cli_main(argv)
    except SystemExit as exc:
        return exc.code
def test_cli_library_run_writes_log_and_summary_and_resumes(library, tmp_path, monkeypatch,
                                                            capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(library), "--no-loudness", "--jobs", "1"]) == 1  # one bad file
    out, err = capsys.readouterr()
    assert "broken.flac" in err and "Traceback" not in err
    assert out.count("BPM") == len(BPMS) and f"{len(BPMS) + 1} audio files: {len(BPMS)} analyzed" in out
    rows = list(csv.DictReader(open("lib.analysis.csv")))
    assert sorted(float(r["tempo_bpm"]) // 1 for r in rows) == pytest.approx(
        sorted(float(b) for b in BPMS), abs=1.01)
    # the same columns as 'analyze --csv' (the library kept an older copy of them, with the
    # breath swell's rate under 'breaths_per_min' even where there was no swell)
    from resonator.analysis.report import CSV_FIELDS

    assert list(rows[0]) == CSV_FIELDS
    assert main(["analyze", str(library), "--no-loudness", "--jobs", "1", "-q"]) == 1
    out = capsys.readouterr().out
    assert f"{len(BPMS)} already in lib.analysis.jsonl" in out and "BPM" not in out
    assert len(_records(Path("lib.analysis.jsonl"))) == len(BPMS) + 2  # the bad file twice
    # bad input: one line, exit 2, nothing written
    assert main(["analyze", str(library), "--jsonl", "x.txt"]) == 2
    assert main(["analyze", str(library), "--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--jsonl x.txt" in err and "--jobs" in err and not Path("x.txt").exists()


def test_cli_render_several_recipes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("a.toml").write_text(SMALL)
    Path("b.toml").write_text(SMALL.replace('duration = "6s"', 'duration = "3s"'))
    assert main(["render", "a.toml", "b.toml", "--jobs", "1", "-o", "out", "--no-normalize",
                 "-q"]) == 0
    assert [sf.info(f"out/{n}.wav").frames for n in "ab"] == [6 * SR, 3 * SR]
    assert main(["render", "a.toml", "b.toml", "--jobs", "1", "-o", "out"]) == 2  # exists
    assert main(["render", "a.toml", "b.toml", "-o", "one.wav"]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and "give a folder" in err
    # shipped recipes by name, as one render takes them (they failed: "no such recipe file")
    assert main(["render", "a.toml", "focus", "--jobs", "1", "-o", "out", "--no-normalize",
                 "--rate", "16000", "--duration", "2s", "-q"]) == 0
    assert sf.info("out/focus_0s-2s.wav").frames == 2 * 16000


def test_cli_sweep_checks_input_before_rendering(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("small.toml").write_text(SMALL)
    assert main(["sweep", "small.toml", "--vary", "layer.beat.carrier"]) == 2
    assert main(["sweep", "small.toml", "--vary", "layer.drum.gain=-6dB,-3dB"]) == 2
    assert main(["sweep", "small.toml", "--vary", "layer.beat.carrier=300Hz,30kHz"]) == 2
    err = capsys.readouterr().err
    assert "needs PATH=V1,V2" in err and "no layer named 'drum'" in err
    assert "30kHz" in err.replace(" ", "") or "Nyquist" in err or "carrier" in err
    assert not list(Path("sweeps/small/renders").glob("*.wav"))
    assert main(["sweep", "small.toml", "--vary", "layer.beat.carrier=250Hz,300Hz",
                 "--vary", "phase.one.duration=4s,5s,6s", "--write-recipes"]) == 0
    names = sorted(p.name for p in Path("sweeps/small/recipes").iterdir())
    assert len(names) == 6 and names[0] == "0-beat.carrier=250Hz_one.duration=4s.toml"
    assert not list(Path("sweeps/small/renders").iterdir())
    # a shipped recipe by name, as render/play/check take it; a misspelt one is one line
    assert main(["sweep", "focus", "--vary", "layer.bed.gain=-20dB,-14dB",
                 "--write-recipes"]) == 0
    written = sorted(Path("sweeps/focus/recipes").glob("*.toml"))
    assert [p.name for p in written] == ["0-bed.gain=-20dB.toml", "1-bed.gain=-14dB.toml"]
    from resonator import shipped
    assert f'extends = "{shipped.find("focus")}"' in written[0].read_text()
    capsys.readouterr()
    assert main(["sweep", "focuss", "--vary", "layer.bed.gain=-20dB,-14dB"]) == 2
    err = capsys.readouterr().err
    assert "focuss" in err and "focus" in err and "Traceback" not in err



def _sigint_ignored(pid: int) -> bool:
    """Whether SIGINT is ignored by a process (its /proc status SigIgn mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    raise AssertionError(pid)


def test_ctrl_c_while_the_workers_start_is_not_lost(monkeypatch):
    """Worker processes ignore Ctrl-C (only this process acts on it), but this process does
    not: a Ctrl-C while the workers start up (seconds on a loaded machine) interrupts it.
    (Ignoring SIGINT here for the whole cluster start lost it: `sweep` ran on to the end.)"""
    import multiprocessing

    import resonator.batch.executor as executor

    before = {p.pid for p in multiprocessing.active_children()}
    seen = {}
    real_wait = executor._wait_for_workers

    def ctrl_c_while_waiting(cluster, n, **kw):
        workers = [p.pid for p in multiprocessing.active_children() if p.pid not in before]
        seen.update(workers=len(workers), ignored=[_sigint_ignored(w) for w in workers],
                    handler=signal.getsignal(signal.SIGINT))
        os.kill(os.getpid(), signal.SIGINT)
        real_wait(cluster, n, **kw)

    monkeypatch.setattr(executor, "_wait_for_workers", ctrl_c_while_waiting)
    # as on a terminal (a background job, such as a suite run with '&', starts with SIGINT
    # ignored, and Python then keeps ignoring it)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with Executor(jobs=2):
                pytest.fail("the executor started although Ctrl-C came while its workers "
                            "started")
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen["workers"] == 2 and seen["ignored"] == [True, True]
    assert seen["handler"] is signal.default_int_handler
    deadline = time.monotonic() + 30
    while {p.pid for p in multiprocessing.active_children()} - before:
        assert time.monotonic() < deadline, "worker processes left running"
        time.sleep(0.1)
