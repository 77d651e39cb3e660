"""resonator studio without a browser: confinement, exact saves, security, diagnostics, jobs."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from resonator.studio import Studio, diagnose, load_text
from resonator.studio.actions import check_spans
from resonator.studio.jobs import Busy, Job, Jobs
from resonator.studio.workspace import ChangedOnDisk, StudioPathError, Workspace, sha256_text

ROOT = Path(__file__).resolve().parent.parent
SHORT = Path(__file__).parent / "data" / "studio" / "short.toml"
RECIPES = ROOT / "recipes"


# ------------------------------------------------------------------ workspace
@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    shutil.copy(SHORT, d / "short.toml")
    (d / "sub").mkdir()
    (d / "sub" / "inner.toml").write_text("# inner\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.toml").write_text("secret = 1\n")
    (d / "link-out.toml").symlink_to(outside / "secret.toml")
    (d / "dir-out").symlink_to(outside)
    (d / "link-in.toml").symlink_to(d / "short.toml")
    return d


@pytest.mark.parametrize("rel, status", [
    ("../outside/secret.toml", 403), ("sub/../../outside/secret.toml", 403),
    ("/etc/passwd", 403), ("link-out.toml", 403), ("dir-out/secret.toml", 403),
    ("a\\..\\b.toml", 403), ("", 400), ("nothing.toml", 404),
])
def test_paths_outside_the_folder_are_refused(folder, rel, status):
    ws = Workspace(folder)
    with pytest.raises(StudioPathError) as exc:
        ws.read(rel)
    assert exc.value.status == status
    if status != 404:  # (a new file inside the folder may be saved)
        with pytest.raises(StudioPathError):
            ws.save(rel if rel.endswith(".toml") else rel + ".toml", "x = 1\n")
    assert (folder.parent / "outside" / "secret.toml").read_text() == "secret = 1\n"


def test_listing_shows_inside_files_only(folder):
    ws = Workspace(folder)
    paths = [e["path"] for e in ws.entries()]
    assert paths == ["link-in.toml", "short.toml", "sub/inner.toml"]  # no link leading out
    assert ws.read("link-in.toml")["text"] == SHORT.read_text()


def test_save_writes_exactly_the_text(folder):
    ws = Workspace(folder)
    text = "# comment kept\r\ntitle = \"Ünïcode — ok\"  # trailing\r\n\r\n[[phase]]\r\nname = \"a\"\r\n"
    res = ws.save("sub/new.toml", text)
    assert (folder / "sub" / "new.toml").read_bytes() == text.encode("utf-8")
    assert res["sha256"] == sha256_text(text)
    assert not [p for p in (folder / "sub").iterdir() if p.name.startswith(".")]  # no temp left
    # a save through a link inside the folder writes the real file
    ws.save("link-in.toml", "title = 'x'\n")
    assert (folder / "short.toml").read_text() == "title = 'x'\n"


def test_save_refuses_to_lose_changes_made_on_disk(folder):
    ws = Workspace(folder)
    opened = ws.read("short.toml")
    (folder / "short.toml").write_text("# edited elsewhere\n")
    with pytest.raises(ChangedOnDisk):
        ws.save("short.toml", "mine\n", base_sha256=opened["sha256"])
    assert (folder / "short.toml").read_text() == "# edited elsewhere\n"
    ws.save("short.toml", "mine\n")  # the page confirmed: overwrite
    assert (folder / "short.toml").read_text() == "mine\n"


def test_shipped_recipes_are_copied_on_write(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    ws = Workspace(user, shipped=RECIPES)  # (the package's recipes: a link to recipes/)
    listed = {e["path"]: e["shipped"] for e in ws.entries()}
    assert listed["mettannealing-hot.toml"] is True
    text = (RECIPES / "mettannealing-hot.toml").read_text() + "\n# my note\n"
    res = ws.save("mettannealing-hot.toml", text)
    # the copy and the recipe it extends are now in the user folder; the shipped file is intact
    assert (user / "mettannealing-hot.toml").read_text() == text
    assert res["copied"] == ["mettannealing.toml"]
    assert (user / "mettannealing.toml").read_bytes() == (RECIPES / "mettannealing.toml").read_bytes()
    assert "# my note" not in (RECIPES / "mettannealing-hot.toml").read_text()
    assert {e["path"]: e["shipped"] for e in ws.entries()}["mettannealing-hot.toml"] is False
    assert load_text(user / "mettannealing-hot.toml", text).duration_s == 2400.0
    # a recipe that reads shipped music: the music comes along (only what is missing)
    music = (RECIPES / "mettannealing-music.toml").read_text() + "# mine\n"
    res = ws.save("mettannealing-music.toml", music)
    oggs = sorted(p.relative_to(RECIPES).as_posix() for p in (RECIPES / "music").glob("*.ogg"))
    assert oggs and set(oggs) <= set(res["copied"]) and "mettannealing.toml" not in res["copied"]
    assert all((user / o).read_bytes() == (RECIPES / o).read_bytes() for o in oggs)
    assert load_text(user / "mettannealing-music.toml", music).duration_s > 0


def test_new_recipe_from_the_starter_and_refused_names(folder):
    ws = Workspace(folder)
    res = ws.create("my session")
    assert res["path"] == "my session.toml"
    assert load_text(folder / res["path"], (folder / res["path"]).read_text()).duration_s == 600
    for bad in ("my session", "../x", "/abs", ".hidden", "short"):
        with pytest.raises(StudioPathError):
            ws.create(bad)


def test_import_converts_a_sequence_into_a_recipe(folder):
    sbg = Path(__file__).resolve().parents[2] / "shared" / "sbg"
    src = next(iter(sorted(sbg.glob("*.sbg"))), None) if sbg.is_dir() else None
    if src is None:
        src = folder / "seq.sbg"
        src.write_text("-SE\nalpha: 200+10/50 pink/20\nNOW alpha\n+00:01:00 alpha\n")
    else:
        shutil.copy(src, folder / src.name)
    ws = Workspace(folder)
    res = ws.import_sbg(src.name)
    out = folder / res["path"]
    assert out.suffix == ".toml" and out.exists()
    assert load_text(out, out.read_text()).layers
    with pytest.raises(StudioPathError):  # never overwritten
        ws.import_sbg(src.name)


# ------------------------------------------------------------------ diagnostics
def _cli_error(path: Path, cwd: Path) -> str:
    p = subprocess.run([sys.executable, "-m", "resonator.cli", "plan", str(path)], cwd=cwd,
                       capture_output=True, text=True)
    assert p.returncode == 2
    prefix = "resonator plan: error: "
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith(prefix)
    return line[len(prefix):]


def test_typo_is_reported_at_its_line_with_the_cli_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "m.toml"
    text = SHORT.read_text().replace('carrier = "250 Hz"', 'carier = "250 Hz"')
    path.write_text(text)
    line = text.splitlines().index('carier = "250 Hz"') + 1
    res = diagnose(path, text)
    assert not res["ok"] and res["plan"] is None
    [d] = res["diagnostics"]
    assert d["line"] == line and d["severity"] == "error"
    assert d["message"] == _cli_error(path, tmp_path)  # exactly what the command line prints
    assert "did you mean 'carrier'?" in d["message"]


def test_messages_name_files_as_the_cli_does_in_the_studios_folder(tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    path = work / "sub" / "m.toml"
    text = SHORT.read_text().replace('carrier = "250 Hz"', 'carier = "250 Hz"')
    path.write_text(text)
    monkeypatch.chdir(tmp_path)  # the server's working folder is not the studio's
    [d] = diagnose(path, text, root=work)["diagnostics"]
    assert d["message"].startswith("sub/m.toml:")
    assert d["message"] == _cli_error(path.relative_to(work), work)
    [d] = diagnose(path, text, root=tmp_path / "elsewhere")["diagnostics"]
    assert d["message"].startswith("work/sub/m.toml:")  # outside root: as cwd names it
    from resonator.studio.diagnostics import relative_to

    # a message about the whole file (a lint with no line), and one naming no file
    assert relative_to('work/sub/m.toml: phase "b": louder', work) == \
        'sub/m.toml: phase "b": louder'
    assert relative_to('layer "beat" > carier: unknown key', work) == \
        'layer "beat" > carier: unknown key'


def test_an_unedited_shipped_recipe_finds_the_recipe_it_extends(tmp_path):
    ws = Workspace(tmp_path, shipped=RECIPES)  # an empty user folder
    path = ws.resolve("mettannealing-hot.toml", must_exist=False)
    assert path == (RECIPES / "mettannealing-hot.toml").resolve()
    res = diagnose(path, ws.read("mettannealing-hot.toml")["text"], root=ws.shipped)
    assert res["ok"], res["diagnostics"]
    assert res["series"]["duration_s"] == 2400.0
    assert ws.resolve("new.toml", must_exist=False) == tmp_path.resolve() / "new.toml"


def test_diagnostics_of_a_valid_text_carry_plan_and_timeline():
    text = SHORT.read_text()
    res = diagnose(SHORT, text, build=True, points=5)
    assert res["ok"] and res["diagnostics"] == []
    s = res["series"]
    assert s["t"] == [0.0, 8.0, 16.0, 24.0, 32.0]
    beat = next(p for p in s["layers"][0]["params"] if p["name"] == "beat")
    # per phase 8 -> 5 Hz with a 2 s glide starting at the phase boundary (16 s)
    assert beat["values"] == [8.0, 8.0, 8.0, 5.0, 5.0] and beat["unit"] == "Hz"
    carrier = next(p for p in s["layers"][0]["params"] if p["name"] == "carrier")
    assert carrier == {"name": "carrier", "unit": "Hz", "varies": False, "value": 250.0}


def test_a_window_of_the_timeline_is_sampled_exactly():
    res = diagnose(SHORT, SHORT.read_text(), window=(16.0, 18.0), points=5)
    beat = next(p for p in res["series"]["layers"][0]["params"] if p["name"] == "beat")
    assert res["series"]["t"] == [16.0, 16.5, 17.0, 17.5, 18.0]
    # the glide is linear (8 -> 5 Hz over 2 s)
    assert beat["values"] == pytest.approx([8.0, 7.25, 6.5, 5.75, 5.0])


def test_warnings_and_errors_from_an_extended_recipe_are_placed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.toml").write_text(SHORT.read_text().replace('"250 Hz"', '"2000 Hz"'))
    child = 'extends = "base.toml"\ntitle = "child"\n'
    res = diagnose(tmp_path / "child.toml", child)
    [w] = res["diagnostics"]
    assert res["ok"] and w["severity"] == "warning" and w["message"].startswith("base.toml:")
    assert w["line"] == 1  # about the parent: shown on the extends line
    bad = 'title = "child"\nextends = "missing.toml"\n'
    [e] = diagnose(tmp_path / "child.toml", bad)["diagnostics"]
    assert e["line"] == 2 and "missing.toml" in e["message"]


def test_syntax_errors_and_sbg_text(tmp_path):
    from resonator.sbg.convert import load_sbg_recipe

    res = diagnose(SHORT, 'title = "x\n')
    assert res["diagnostics"][0]["line"] == 1 and "not valid TOML" in res["diagnostics"][0]["message"]
    seq = tmp_path / "seq.sbg"
    seq.write_text("alpha: 200+10/50\nbeta: 200+4/50\nNOW alpha\n+00:01:00 beta\n")
    res = diagnose(seq, seq.read_text())
    assert res["ok"], res["diagnostics"]
    assert res["series"]["duration_s"] == load_sbg_recipe(seq).duration_s
    bad = seq.read_text().replace("200+4/50", "200+4/x")
    [d] = diagnose(seq, bad)["diagnostics"]
    assert d["line"] == 2 and d["severity"] == "error"


def test_spans_of_a_check_report_are_in_session_seconds():
    report = {"offset_s": 100.0,
              "results": [{"kind": "binaural_beat", "name": None, "layer": "beat",
                           "window": {"start_s": 1.0, "end_s": 5.0, "phase": "a",
                                      "session_start_s": 101.0, "session_end_s": 105.0},
                           "expected": 6.0, "measured": 7.0, "tolerance": 0.05,
                           "unit": "Hz", "passed": False, "status": "fail"},
                          {"kind": "splatter", "name": None, "layer": "pulse",
                           "window": {"start_s": 5.0, "end_s": 9.0, "phase": "a"},
                           "expected": -30.0, "measured": -12.0, "tolerance": 0.0,
                           "unit": "dB", "passed": None, "status": "inconclusive",
                           "detail": {"inconclusive": "the noise bed covers the band"}}],
              # skipped targets keep their planned (session) window
              "skipped": [{"kind": "loudness", "layer": None, "reason": "short",
                           "window": {"start_s": 0.0, "end_s": 200.0, "phase": None}}]}
    fail, unsure, skip = check_spans(report)
    assert (fail["start_s"], fail["end_s"], fail["status"]) == (101.0, 105.0, "fail")
    assert (unsure["start_s"], unsure["status"], unsure["reason"]) == \
        (105.0, "inconclusive", "the noise bed covers the band")
    assert (skip["start_s"], skip["end_s"], skip["status"], skip["reason"]) == \
        (0.0, 200.0, "skip", "short")


# ------------------------------------------------------------------ jobs
def test_jobs_are_bounded_and_cancellable():
    jobs = Jobs(max_running=1)
    started = []

    def slow(job: Job):
        started.append(1)
        for i in range(1000):
            job.progress("working", i, 1000)
            time.sleep(0.01)
        return {"never": True}
    job = jobs.start("render", slow, label="a")
    while not started:
        time.sleep(0.01)
    with pytest.raises(Busy):
        jobs.start("check", lambda job: {}, label="b")
    jobs.cancel_all(wait_s=5)
    assert job.state == "cancelled" and job.result is None
    done = jobs.start("check", lambda job: {"x": 1})
    done.thread.join(5)
    assert done.as_dict()["state"] == "done" and done.result == {"x": 1}


# ------------------------------------------------------------------ the server
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("served")
    shutil.copy(SHORT, d / "short.toml")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.toml").write_text("secret = 1\n")
    (d / "link-out.toml").symlink_to(outside / "secret.toml")
    studio = Studio(d, max_jobs=1)
    studio.start()
    yield studio
    studio.stop()


def request(studio, method, url, body=None, *, token=True, headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=60)
    h = {"Host": f"127.0.0.1:{studio.port}"}
    if token:
        h["X-Studio-Token"] = studio.token
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, url, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    try:
        return r.status, json.loads(payload), r
    except ValueError:
        return r.status, payload.decode(), r


def test_every_request_needs_the_token(server):
    assert request(server, "GET", "/api/state", token=False)[0] == 403
    assert request(server, "GET", "/", token=False)[0] == 403
    assert request(server, "GET", "/static/app.js", token=False)[0] == 403
    assert request(server, "GET", "/api/state", token=False,
                   headers={"X-Studio-Token": server.token[:-1] + "x"})[0] == 403
    status, page, r = request(server, "GET", f"/?token={server.token}", token=False)
    assert status == 200 and f"/static/app.js?token={server.token}" in page
    assert "frame-ancestors 'none'" in r.getheader("content-security-policy")
    status, state, _ = request(server, "GET", "/api/state")
    assert status == 200 and [f["path"] for f in state["files"]] == ["short.toml"]


@pytest.mark.parametrize("headers", [
    {"Host": "evil.example:80"},                      # DNS rebinding: another name
    {"Origin": "http://evil.example"},                # a page of another site
    {"Sec-Fetch-Site": "cross-site"},
])
def test_other_sites_are_refused(server, headers):
    if "Host" in headers:
        headers = dict(headers, Host=f"evil.example:{server.port}")
    status, text, _ = request(server, "GET", "/api/state", headers=headers)
    assert status == 403 and "refused" in text


def test_the_studio_origin_is_accepted(server):
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        status, _, _ = request(server, "GET", "/api/files",
                               headers={"Host": host, "Origin": f"http://{host}"})
        assert status == 200


def test_paths_are_confined_through_the_api(server):
    for rel in ("../x.toml", "/etc/passwd", "link-out.toml"):
        status, res, _ = request(server, "GET", f"/api/file?path={rel}")
        assert status == 403, res
        status, res, _ = request(server, "POST", "/api/save", {"path": rel, "text": "x = 1\n"})
        assert status == 403, res
    assert (Path(server.workspace.root).parent / "x.toml").exists() is False


def test_bodies_are_bounded(server):
    big = json.dumps({"path": "short.toml", "text": "#" * (3 << 20)}).encode()
    status, text, _ = request(server, "POST", "/api/save", raw=big)
    assert status == 413
    # a body without a length (chunked) is cut off as it passes the bound
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/api/diagnose", skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}")
    conn.putheader("X-Studio-Token", server.token)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"#" * (1 << 20)
    try:
        for _ in range(4):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert conn.getresponse().status == 413
    conn.close()
    assert (server.workspace.root / "short.toml").read_text() == SHORT.read_text()


def test_save_through_the_server_writes_the_exact_bytes(server):
    text = SHORT.read_text().replace("# A short", "# Edited in the studio: a short")
    status, f, _ = request(server, "GET", "/api/file?path=short.toml")
    status, res, _ = request(server, "POST", "/api/save",
                             {"path": "copy.toml", "text": text})
    assert status == 200
    assert (server.workspace.root / "copy.toml").read_bytes() == text.encode()
    status, res, _ = request(server, "POST", "/api/save",
                             {"path": "copy.toml", "text": "y", "base_sha256": f["sha256"]})
    assert status == 409 and res["changed_on_disk"]


def test_diagnose_answers_with_the_cli_message(server):
    text = SHORT.read_text().replace("carrier", "carier")
    status, res, _ = request(server, "POST", "/api/diagnose",
                             {"path": "short.toml", "text": text, "seq": 7})
    assert status == 200 and res["seq"] == 7
    [d] = res["diagnostics"]
    assert d["line"] == text.splitlines().index('carier = "250 Hz"') + 1
    assert d["message"] == "short.toml" + str(_error_of(server.workspace.root / "short.toml",
                                                       text)).split("short.toml", 1)[1]


def _error_of(path, text):
    from resonator.errors import ResonatorError

    try:
        load_text(path, text)
    except ResonatorError as exc:
        return exc
    raise AssertionError("no error")


def test_render_then_check_through_the_server(server):
    status, job, _ = request(server, "POST", "/api/render",
                             {"path": "short.toml", "text": SHORT.read_text()})
    assert status == 202, job
    while job["state"] == "running":
        time.sleep(0.2)
        job = request(server, "GET", f"/api/jobs/{job['id']}")[1]
    assert job["state"] == "done", job
    assert job["result"]["path"] == "renders/short.wav"
    assert (server.workspace.root / "renders" / "short.wav").exists()
    status, again, _ = request(server, "POST", "/api/render", {"path": "short.toml"})
    assert status == 409 and again["exists"] == "renders/short.wav"
    status, job, _ = request(server, "POST", "/api/check",
                             {"audio": "renders/short.wav", "recipe": "short.toml"})
    while job["state"] == "running":
        time.sleep(0.2)
        job = request(server, "GET", f"/api/jobs/{job['id']}")[1]
    assert job["state"] == "done", job
    spans = job["result"]["spans"]
    assert spans and all(s["status"] == "pass" for s in spans)
    beats = sorted((s["start_s"], s["measured"]) for s in spans if s["kind"] == "binaural_beat")
    assert beats[0][1] == pytest.approx(8.0, abs=0.05) and beats[-1][1] == pytest.approx(5.0, abs=0.05)


def _finish(server, job):
    while job["state"] == "running":
        time.sleep(0.2)
        job = request(server, "GET", f"/api/jobs/{job['id']}")[1]
    assert job["state"] == "done", job
    return job["result"]


def test_a_window_renders_as_that_span_of_the_session_and_checks_in_place(server):
    import soundfile as sf

    for bad in ([5, 2], [-1, 3], ["x", 3], [40, 50], 7):
        status, res, _ = request(server, "POST", "/api/render",
                                 {"path": "short.toml", "window": bad})
        assert status == 400, (bad, res)
    status, job, _ = request(server, "POST", "/api/render",
                             {"path": "short.toml", "window": [20, 30], "format": "flac"})
    assert status == 202, job
    result = _finish(server, job)
    assert result["path"] == "renders/short_20s-30s.flac"  # as resonator render names it
    info = sf.info(server.workspace.root / "renders" / "short_20s-30s.flac")
    assert info.frames == 10 * info.samplerate
    status, job, _ = request(server, "POST", "/api/check",
                             {"audio": result["path"], "recipe": "short.toml"})
    spans = _finish(server, job)["spans"]
    measured = [s for s in spans if s["status"] != "skip"]
    assert measured and all(20.0 <= s["start_s"] < s["end_s"] <= 30.0 for s in measured)
    [beat] = [s for s in measured if s["kind"] == "binaural_beat"]
    assert (beat["start_s"], beat["end_s"], beat["status"]) == (22.0, 26.0, "pass")
    assert beat["measured"] == pytest.approx(5.0, abs=0.05)
    # the low phase's other beat windows are only partly inside: grey, where they were planned
    partly = [s for s in spans if "partly" in s.get("reason", "")]
    assert partly and all(s["status"] == "skip" and (s["start_s"] < 20 < s["end_s"] or
                                                     s["start_s"] < 30 < s["end_s"])
                          for s in partly)


def test_a_render_of_unsaved_text_is_refused(server):
    status, res, _ = request(server, "POST", "/api/render",
                             {"path": "short.toml", "text": SHORT.read_text() + "# more\n"})
    assert status == 409 and "unsaved" in res["error"]


# ------------------------------------------------------------------ the command
def test_command_errors_are_one_line(tmp_path):
    for args, needle in ((["studio", str(tmp_path / "nope")], "no such folder or recipe"),
                         (["studio", "--port", "70000"], "--port must be from 0 to 65535")):
        p = subprocess.run([sys.executable, "-m", "resonator.cli", *args, "--no-browser"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and needle in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_command_serves_until_ctrl_c(tmp_path):
    shutil.copy(SHORT, tmp_path / "short.toml")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    p = subprocess.Popen([sys.executable, "-m", "resonator.cli", "studio", str(tmp_path),
                          "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        url = None
        for _ in range(3):
            line = p.stdout.readline()
            if line.startswith("open "):
                url = line.split()[1]
                break
        assert url and url.startswith("http://127.0.0.1:")
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", url[url.index("/", 8):])
        assert conn.getresponse().status == 200
        conn.close()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and "stopped" in err and "Traceback" not in err
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()


# ------------------------------------------------------------------ live audio socket
class ToneSource:
    """A known source: 1 s blocks of a 200 Hz tone at level 0.5 + the temperature offset."""

    sr, channels, duration_s = 8000, 2, 10.0

    def __init__(self, recipe, at_s):
        self.recipe, self.t, self.offset, self.log = recipe, at_s, 0.0, []

    def seek(self, at_s):
        self.log.append(("seek", at_s))
        self.t = at_s

    def set_temperature(self, offset):
        self.log.append(("temperature", offset))
        self.offset = offset

    def temperature(self, t_s):
        return 0.5, 0.5 + self.offset

    def read(self):
        if self.t >= self.duration_s:
            return None
        n = int(min(1.0, self.duration_s - self.t) * self.sr)
        ts = self.t + np.arange(n) / self.sr
        block = np.stack([(0.5 + self.offset) * np.sin(2 * np.pi * 200 * ts)] * 2)
        t0, self.t = self.t, self.t + n / self.sr
        return [(t0, block.astype(np.float32))]


@pytest.fixture(scope="module")
def audio_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("audio")
    shutil.copy(SHORT, d / "short.toml")
    sources = []

    def open_source(recipe, at_s):
        sources.append(ToneSource(recipe, at_s))
        return sources[-1]
    studio = Studio(d, audio_source=open_source, max_streams=1)
    studio.sources = sources
    studio.start()
    yield studio
    studio.stop()


def _ws(studio, *, token=True, origin="self"):
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{studio.port}/ws/play" + (f"?token={studio.token}" if token else "")
    if origin == "self":
        origin = f"http://127.0.0.1:{studio.port}"
    return connect(url, origin=origin, open_timeout=10)


@pytest.mark.parametrize("token, origin", [(False, "self"), (True, None),
                                           (True, "http://evil.example")])
def test_the_audio_socket_needs_token_and_origin(audio_server, token, origin):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as exc:
        _ws(audio_server, token=token, origin=origin)
    assert exc.value.response.status_code == 403


def _next(ws, status=False, timeout=10.0):
    """The next message (status messages skipped unless asked for)."""
    while True:
        msg = ws.recv(timeout=timeout)
        if isinstance(msg, str):
            msg = json.loads(msg)
            if msg["type"] == "status" and not status:
                continue
        return msg


def test_the_audio_socket_streams_seeks_and_overrides(audio_server):
    from resonator.studio.audio import AHEAD_S, decode_block

    with _ws(audio_server) as ws:
        text = SHORT.read_text().replace('"8 Hz"', '"9 Hz"')  # the editor's unsaved text
        ws.send(json.dumps({"type": "play", "path": "short.toml", "text": text, "at_s": 3.0}))
        started = _next(ws)
        assert started["type"] == "started" and started["at_s"] == 3.0 and started["sr"] == 8000
        src = audio_server.sources[-1]
        beat = src.recipe.layers[0].params["beat"]
        assert beat.data[0] == 9.0  # the source got the editor's text, not the file
        t0, gen, data = decode_block(_next(ws))
        assert (t0, gen) == (3.0, started["generation"])
        want = 0.5 * np.sin(2 * np.pi * 200 * (3.0 + np.arange(8000) / 8000))
        assert np.max(np.abs(data[0] - want)) < 1e-6  # the samples arrive intact
        # flow control: nothing more than AHEAD_S (1 s) ahead of what the page has played
        assert AHEAD_S == 1.0
        with pytest.raises(TimeoutError):
            _next(ws, timeout=1.0)
        ws.send(json.dumps({"type": "ack", "frames": 4000, "generation": gen}))
        assert decode_block(_next(ws))[0] == 4.0
        ws.send(json.dumps({"type": "ack", "frames": 16000, "generation": gen}))
        assert decode_block(_next(ws))[0] == 5.0
        # seek: a new generation from the new time; the override reaches the source
        ws.send(json.dumps({"type": "seek", "at_s": 7.5}))
        ws.send(json.dumps({"type": "temperature", "offset": 0.25}))
        again = _next(ws)
        while not isinstance(again, dict):
            again = _next(ws)
        assert again["type"] == "started" and again["generation"] == started["generation"] + 1
        t, gen, data = decode_block(_next(ws))
        assert (t, gen) == (7.5, again["generation"])
        deadline = time.monotonic() + 5
        while ("temperature", 0.25) not in src.log and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ("seek", 7.5) in src.log and ("temperature", 0.25) in src.log
        # the status follows its block: the 7.5 s block may have been made before the override
        # arrived (the two messages race on the server), the next one is after it
        status = _next(ws, status=True)
        assert status["type"] == "status" and (status["t_s"], status["planned"]) == (7.5, 0.5)
        assert status["heard"] in (0.5, 0.75)
        ws.send(json.dumps({"type": "ack", "frames": 8000, "generation": gen}))
        t, gen, data = decode_block(_next(ws))
        assert t == 8.5 and np.max(np.abs(data)) == pytest.approx(0.75, abs=1e-3)
        assert _next(ws, status=True) == {"type": "status", "t_s": 8.5, "planned": 0.5,
                                          "heard": 0.75}
        ws.send(json.dumps({"type": "ack", "frames": 24000, "generation": gen}))
        t, gen, data = decode_block(_next(ws))
        assert t == 9.5 and data.shape[1] == 4000
        assert _next(ws) == {"type": "ended", "generation": gen}
        ws.send(b"binary")
        assert _next(ws)["type"] == "error"
        ws.send("[1, 2]")
        assert _next(ws)["type"] == "error"
        ws.send(json.dumps({"type": "play", "path": "../x.toml", "text": "", "at_s": 0}))
        err = _next(ws)
        assert err["type"] == "error" and "refused" in err["message"]
        # one page plays at a time here (max_streams=1): a second one is refused
        with _ws(audio_server) as other:
            other.send(json.dumps({"type": "play", "path": "short.toml", "at_s": 0}))
            err = _next(other)
            assert err["type"] == "error" and "other pages are playing" in err["message"]
        ws.send(json.dumps({"type": "stop"}))
    with _ws(audio_server) as other:  # the first page has gone: the slot is free again
        other.send(json.dumps({"type": "play", "path": "short.toml", "at_s": 0}))
        assert _next(other)["type"] == "started"


def test_cancelling_a_render_leaves_no_file(server):
    shutil.copy(RECIPES / "theta-pulse.toml", server.workspace.root / "theta-pulse.toml")
    status, job, _ = request(server, "POST", "/api/render", {"path": "theta-pulse.toml"})
    assert status == 202
    while job["state"] == "running" and job["fraction"] == 0:
        time.sleep(0.05)
        job = request(server, "GET", f"/api/jobs/{job['id']}")[1]
    assert job["state"] == "running" and job["stage"] == "measuring"
    # one job at a time: another is refused while this one runs
    status, busy, _ = request(server, "POST", "/api/render",
                              {"path": "short.toml", "overwrite": True})
    assert status == 400, busy
    assert busy["error"].startswith("a render is running (renders/theta-pulse.wav)")
    status, job, _ = request(server, "DELETE", f"/api/jobs/{job['id']}")
    while job["state"] == "running":
        time.sleep(0.05)
        job = request(server, "GET", f"/api/jobs/{job['id']}")[1]
    assert job["state"] == "cancelled"
    left = [p.name for p in (server.workspace.root / "renders").iterdir()
            if p.name.startswith((".theta", "theta"))]
    assert left == []  # neither the measuring cache nor a partial output


def test_listening_beyond_loopback_is_explicit_and_warned(monkeypatch, capsys, tmp_path):
    from resonator.commands import studio as command
    from resonator.studio import app

    assert app.is_loopback("127.0.0.1") and app.is_loopback("::1") and app.is_loopback("localhost")
    assert not app.is_loopback("0.0.0.0") and not app.is_loopback("192.168.1.20")
    hosts = app.allowed_hosts("192.168.1.20", 8123)
    assert {"127.0.0.1:8123", "localhost:8123", "[::1]:8123", "192.168.1.20:8123"} == hosts

    class NoServer:  # (no socket opened on another interface in a test)
        def __init__(self, target, host, port):
            self.workspace, self.url = app.workspace_for(target)[0], "http://x/?token=t"

        def run(self, open_browser):
            assert open_browser is False
    monkeypatch.setattr(app, "Studio", NoServer)
    args = command.argparse.Namespace(target=str(tmp_path), host="0.0.0.0", port=0,
                                      no_browser=True)
    assert command.run(args) == 0
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0" in err
    args.host = "127.0.0.1"
    command.run(args)
    assert "warning" not in capsys.readouterr().err


def test_a_folder_that_cannot_be_written_gives_one_line(server, monkeypatch):
    from resonator import outputs

    def refuse(path, mode="w", **kw):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(outputs, "atomic_open", refuse)  # (root writes anywhere: simulated)
    status, res, _ = request(server, "POST", "/api/save", {"path": "ro.toml", "text": "x\n"})
    assert status == 500 and res["error"].endswith("ro.toml: Permission denied")
    assert not (server.workspace.root / "ro.toml").exists()
