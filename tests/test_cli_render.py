"""The render, plan and schema commands, and render_recipe with a fake mastering stage."""
from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from resonator.cli import main
from resonator.recipe import render as recipe_render
from resonator.recipe import render_recipe

RECIPE = textwrap.dedent("""
    title = "cli"
    fade_in = "0.2s"
    fade_out = "0.2s"
    glide = "0.5s"

    [[phase]]
    name = "a"
    duration = "2s"
    temperature = 1.0

    [[phase]]
    name = "b"
    duration = "2s"
    temperature = {to = 0.0, schedule = "exponential"}

    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "200 Hz"
    beat = {a = "10 Hz", b = "4 Hz"}
    gain = {temperature = "-30..-12 dB"}
    """).lstrip()


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "cli.toml"
    p.write_text(RECIPE)
    return p


def test_render_default_output_and_sidecar(recipe, capsys):
    assert main(["render", str(recipe), "--no-normalize", "--rate", "16000"]) == 0
    out = Path("renders/cli.wav")
    x, sr = sf.read(out)
    assert sr == 16000 and x.shape == (64000, 2)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["title"] == "cli" and len(meta["recipe_sha256"]) == 64
    assert [p["name"] for p in meta["phases"]] == ["a", "b"]
    assert meta["layers"][0]["kind"] == "binaural"
    assert "renders/cli.wav" in capsys.readouterr().out
    # existing output without --force: a user error, exit 2, no traceback
    assert main(["render", str(recipe), "--no-normalize"]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and "Traceback" not in err


def test_render_window_flac(recipe):
    assert main(["render", str(recipe), "-o", "w.flac", "--bits", "24", "--start", "1s",
                 "--duration", "1.5s", "--no-normalize", "-q"]) == 0
    info = sf.info("w.flac")
    assert info.format == "FLAC" and info.frames == int(1.5 * 48000)


def test_render_starts_at_a_phase_by_its_name(recipe, capsys):
    from resonator.loading import load

    assert load(recipe).time_of("b") == 2.0 and load(recipe).time_of("1.5") == 1.5
    assert main(["render", str(recipe), "--start", "b", "--duration", "1s", "--rate", "16000",
                 "--no-normalize", "-q"]) == 0
    meta = json.loads(Path("renders/cli_2s-3s.json").read_text())
    assert meta["start_s"] == 2.0 and meta["duration_s"] == 1.0
    full = render_recipe(recipe, "full.wav", sr=16000, normalize=False)
    x, y = sf.read("renders/cli_2s-3s.wav")[0], sf.read("full.wav")[0][32000:48000]
    assert full.frames == 64000 and np.array_equal(x, y)  # the samples of phase b's first second


def test_user_error_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(RECIPE.replace('kind = "binaural"', 'kind = "binaural"\ncarier = 1'))
    assert main(["render", str(p)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml:" in err and "did you mean 'carrier'" in err and "Traceback" not in err


def test_render_recipe_uses_mastering_seam(recipe, monkeypatch):
    calls = {}

    def fake_master(node, duration_s, *, sr, seed, target_lufs, ceiling_dbtp, block_frames,
                    progress):
        calls.update(duration_s=duration_s, target=target_lufs, ceiling=ceiling_dbtp)
        return types.SimpleNamespace(post=lambda block, start: block * 0.5, gain_db=-6.02,
                                     report={"gain_db": -6.02, "measured_lufs": -14.0})
    monkeypatch.setattr(recipe_render, "get_master", lambda: fake_master)
    r = render_recipe(recipe, "m.wav", sr=16000, start="1s", duration="1s")
    assert calls == {"duration_s": 4.0, "target": -20.0, "ceiling": -1.0}
    meta = json.loads(Path("m.json").read_text())
    assert meta["loudness"]["normalized"] and meta["loudness"]["result"]["gain_db"] == -6.02
    r2 = render_recipe(recipe, "n.wav", sr=16000, start="1s", duration="1s", normalize=False)
    a, b = sf.read("m.wav")[0], sf.read("n.wav")[0]
    assert np.allclose(a, 0.5 * b, atol=2 / 32768)
    assert r.frames == r2.frames == 16000


def test_plain_progress_lines_when_not_a_terminal(recipe, capsys):
    from resonator.recipe.render import Progress
    from resonator.recipe.session import build_session
    import io
    buf = io.StringIO()
    s = build_session(recipe, sr=8000)
    prog = Progress(s, stream=buf, tty=False)
    render_recipe(recipe, "p.wav", sr=8000, normalize=False, progress=prog)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "rendering: phase a (at 0s)"
    assert [ln.split(" (")[0] for ln in lines] == ["rendering: phase a", "rendering: phase b"]


def test_plan_text_and_plot(recipe, capsys):
    assert main(["plan", str(recipe), "--plot", "plan.png"]) == 0
    out = capsys.readouterr().out
    assert "T 0.00 -> 1.00 (linear)" in out and "T 1.00 -> 0.00 (exponential)" in out
    assert Path("plan.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["plan", str(recipe), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["phases"][1]["temperature_end"] == 0.0 and p["layers"][0]["varying"]


def test_schema_output_is_checked_and_replaced_only_with_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["schema", "-o", "s.json"]) == 0
    written = Path("s.json").read_text()
    assert json.loads(written)["properties"]["layer"]
    Path("s.json").write_text("{}")
    assert main(["schema", "-o", "s.json"]) == 2
    assert "s.json: exists already; pass --force" in capsys.readouterr().err
    assert Path("s.json").read_text() == "{}"
    assert main(["schema", "-o", "s.json", "--force"]) == 0
    assert Path("s.json").read_text() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]  # no temporary left


def test_schema_lists_every_layer_kind(recipe, capsys):
    from resonator.recipe import layer_kinds
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    kinds = schema["properties"]["layer"]["items"]["properties"]["kind"]["enum"]
    assert set(kinds) == set(layer_kinds())
    branch = schema["properties"]["layer"]["items"]["allOf"][kinds.index("binaural")]
    assert "carrier" in branch["then"]["properties"]
    try:
        import jsonschema
    except ImportError:
        return
    import tomllib
    for f in Path(__file__).resolve().parent.parent.joinpath("recipes").glob("*.toml"):
        jsonschema.validate(tomllib.loads(f.read_text()), schema)
