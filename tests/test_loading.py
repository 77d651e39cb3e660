"""resonator.loading.load: one entry point for TOML recipes and SBaGen sequences."""
from __future__ import annotations

import textwrap

import pytest

from resonator.cli import main
from resonator.errors import RecipeError
from resonator.loading import load
from resonator.recipe.model import load_recipe
from resonator.sbg.convert import SbgConversion

SBG = "-SE -F 2000\na: 200+10/20 pink/30\nb: 200+4/20 pink/30\noff: -\n" \
      "00:00 a\n00:00:20 b\n00:00:40 off\n"
TOML = textwrap.dedent("""
    title = "one"
    fade_in = "2s"
    fade_out = "2s"
    [[phase]]
    name = "p"
    duration = "20s"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "200 Hz"
    beat = "7 Hz"
    """)


def test_load_reads_both_formats(tmp_path):
    t = tmp_path / "one.toml"
    t.write_text(TOML)
    s = tmp_path / "seq.sbg"
    s.write_text(SBG)
    r = load(t)
    assert r.title == "one" and r.duration_s == 20.0 and r.origin is None
    q = load(str(s))
    assert isinstance(q.origin, SbgConversion)
    assert q.path == s.resolve() and q.duration_s == 40.0
    assert [p.duration_s for p in q.phases] == [20.0, 20.0]
    beats = sorted(x.expected for x in q.targets if x.kind == "binaural_beat")
    assert beats == ["10 Hz", "4 Hz"]
    # stereo noise reaches the converted noise layer
    def stereo(recipe):
        return [lay.params["stereo"] for lay in recipe.layers if lay.kind == "noise"]
    assert stereo(q) == [False] and stereo(load(s, stereo_noise=True)) == [True]


def test_recipe_model_reads_toml_only(tmp_path):
    s = tmp_path / "seq.sbg"
    s.write_text(SBG)
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(s)


def test_stereo_noise_on_a_recipe_is_refused(tmp_path, capsys):
    t = tmp_path / "one.toml"
    t.write_text(TOML)
    with pytest.raises(RecipeError, match=r"\.sbg\) only"):
        load(t, stereo_noise=True)
    assert main(["render", str(t), "-o", str(tmp_path / "x.wav"), "--stereo-noise"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stereo" in err and "Traceback" not in err
    assert not (tmp_path / "x.wav").exists()


def test_plan_and_check_take_a_sequence(tmp_path, capsys):
    s = tmp_path / "seq.sbg"
    s.write_text(SBG)
    assert main(["plan", str(s), "--json"]) == 0
    assert '"duration_s": 40.0' in capsys.readouterr().out
