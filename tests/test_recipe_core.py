"""Known-answer tests of the recipe system: temperature, value forms, glides, locations, extends."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import peak_hz
from resonator.errors import RecipeError
from resonator.recipe import build_session, load_recipe, plan
from resonator.recipe.loader import Locator
from resonator.render import render_array
from resonator.session.schedules import schedule_curve

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip())
    return p


BASE = """
title = "t"
glide = "4s"
fade_in = "0.5s"
fade_out = "0.5s"

[[phase]]
name = "energize"
duration = "100s"
temperature = {to = 1.0, schedule = "cosine"}

[[phase]]
name = "metta"
duration = "50s"

[[phase]]
name = "cool"
duration = "100s"
temperature = {to = 0.1, schedule = "exponential", time = "60s"}

[[layer]]
name = "beat"
kind = "binaural"
carrier = "200 Hz"
beat = {energize = "10 Hz", metta = "20 Hz", cool = "4 Hz"}
gain = "-6 dB"
"""


def test_temperature_matches_schedule_closed_form(tmp_path):
    r = load_recipe(write(tmp_path, "a.toml", BASE))
    t = np.array([0.0, 25.0, 50.0, 100.0, 120.0, 150.0, 180.0, 210.0, 249.0])
    T = r.temperature(t)
    # cosine heating 0 -> 1 over 100 s
    assert T[0] == 0.0 and T[3] == 1.0
    assert T[1] == pytest.approx(0.5 - 0.5 * math.cos(math.pi * 0.25), abs=1e-12)
    assert T[2] == pytest.approx(0.5, abs=1e-12)
    assert T[4] == 1.0 and T[5] == 1.0  # metta holds
    # exponential cooling 1 -> 0.1 over 60 s from 150 s: midpoint is the geometric mean
    assert T[6] == pytest.approx(math.sqrt(0.1), abs=1e-12)
    assert T[6] == pytest.approx(float(schedule_curve("exponential", 0.5, 1.0, 0.1)), abs=1e-12)
    assert T[7] == pytest.approx(0.1) and T[8] == pytest.approx(0.1)  # holds after the time


@pytest.mark.parametrize("schedule", ["linear", "exponential", "logarithmic", "lundy-mees",
                                      "cosine", "sigmoid", "stepped"])
def test_every_schedule_known_answer(tmp_path, schedule):
    text = BASE.replace('schedule = "exponential", time = "60s"', f'schedule = "{schedule}"')
    r = load_recipe(write(tmp_path, "a.toml", text))
    x = np.linspace(0, 1, 11)
    got = r.temperature(150.0 + 100.0 * x)
    assert np.allclose(got, schedule_curve(schedule, x, 1.0, 0.1), atol=1e-12)


def test_per_phase_glide_measured_in_render(tmp_path):
    r = load_recipe(write(tmp_path, "a.toml", BASE))
    s = build_session(r, sr=16000)
    sr = s.sr

    def left_hz(center):
        x = render_array(s.node, 0.5, sr=sr, start_s=center - 0.25)
        return peak_hz(x[0], sr, 150, 260)
    # beat 10 Hz before 100 s, glides linearly to 20 Hz over 4 s; left = 200 + beat/2
    assert left_hz(98.0) == pytest.approx(205.0, abs=0.05)
    assert left_hz(102.0) == pytest.approx(207.5, abs=0.1)   # mid-glide: beat 15 Hz
    assert left_hz(106.0) == pytest.approx(210.0, abs=0.05)
    right = render_array(s.node, 0.5, sr=sr, start_s=105.75)[1]
    assert peak_hz(right, sr, 150, 260) == pytest.approx(190.0, abs=0.05)


def test_value_forms_to_nodes(tmp_path):
    text = BASE.replace('gain = "-6 dB"', 'gain = {temperature = "-30..-12 dB"}')
    text = text.replace('carrier = "200 Hz"',
                        'carrier = {points = [["0s", "200 Hz"], ["metta+10s", "300 Hz", "exp"]]}')
    r = load_recipe(write(tmp_path, "a.toml", text))
    lay = r.layers[0]
    tl = r.timeline()
    assert lay.gain.form == "temperature" and lay.gain.mapping == "db"
    assert lay.gain.evaluate(tl, np.array([0.0, 50.0, 120.0])) == pytest.approx(
        [-30.0, -21.0, -12.0])
    c = lay.params["carrier"]
    assert c.form == "curve"
    assert c.evaluate(tl, np.array([0.0, 55.0, 110.0, 200.0])) == pytest.approx(
        [200.0, 200 * 1.5 ** 0.5, 300.0, 300.0])


def test_bare_numbers_take_the_documented_unit(tmp_path):
    text = BASE.replace('carrier = "200 Hz"', "carrier = 210").replace('gain = "-6 dB"',
                                                                       "gain = -9")
    lay = load_recipe(write(tmp_path, "a.toml", text)).layers[0]
    assert lay.params["carrier"].data == 210.0 and lay.gain.data == -9.0


def test_layer_phase_gating_crossfades(tmp_path):
    text = BASE.replace('gain = "-6 dB"', 'gain = "0 dB"\nphases = ["metta"]')
    s = build_session(load_recipe(write(tmp_path, "a.toml", text)))
    env = s.layers[0].envelope
    t = np.array([50.0, 97.9, 100.0, 102.1, 125.0, 148.0, 150.0, 152.1, 200.0])
    e = env.evaluate(t)
    assert e[0] == 0 and e[1] == 0 and e[2] == pytest.approx(0.5) and e[3] == 1
    assert e[4] == 1 and e[6] == pytest.approx(0.5) and e[7] == 0 and e[8] == 0
    # raised cosine: smooth, max slope pi/2 per ramp length
    tt = np.linspace(95, 105, 10001)
    d = np.diff(env.evaluate(tt)) / np.diff(tt)
    assert d.max() <= math.pi / 2 / 4 + 1e-3


# ------------------------------------------------------------------------------ errors
def test_misspelled_key_names_file_line_and_suggests(tmp_path):
    text = BASE.replace('carrier = "200 Hz"', 'carier = "200 Hz"')
    p = write(tmp_path, "x.toml", text)
    line = text.lstrip().splitlines().index('carier = "200 Hz"') + 1
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    msg = str(e.value)
    assert f"x.toml:{line}: layer \"beat\" > carier" in msg
    assert "did you mean 'carrier'" in msg and "allowed:" in msg


@pytest.mark.parametrize("change, expect", [
    (('title = "t"', 'title = "t"\nzzzzzz = 1'), "unknown key 'zzzzzz' in the recipe; allowed: title,"),
    (('kind = "binaural"', 'kind = "qqqqqq"'), "unknown layer kind \"qqqqqq\"; available: "),
    (('carrier = "200 Hz"', 'carrier = "200 Hz"\nqqqqqq = 1'),
     "unknown key 'qqqqqq' in layer \"beat\" (kind binaural); allowed: "),
])
def test_an_unknown_word_without_a_close_one_still_reads_as_a_sentence(tmp_path, change, expect):
    """With no "did you mean" hint, the allowed words follow a semicolon (not glued on)."""
    p = write(tmp_path, "x.toml", BASE.replace(*change))
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    assert expect in str(e.value)


def test_error_inside_inline_table_points_at_its_line(tmp_path):
    text = BASE.replace('cool = "4 Hz"}', 'cool = "4 Hz", coll = "3 Hz"}')
    p = write(tmp_path, "x.toml", text)
    line = [i for i, ln in enumerate(text.lstrip().splitlines(), 1) if "coll" in ln][0]
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    assert f"x.toml:{line}: layer \"beat\" > beat > coll" in str(e.value)
    assert "did you mean 'cool'" in str(e.value)


@pytest.mark.parametrize("change, expect", [
    (('carrier = "200 Hz"', 'carrier = "30 kHz"'), "Nyquist"),
    (('duration = "50s"', 'duration = "-5s"'), "negative"),
    (('duration = "50s"', 'duration = "0s"'), "longer than 0"),
    (('kind = "binaural"', 'kind = "binaurl"'), "did you mean 'binaural'"),
    (('title = "t"', 'title = "t"\nmax_duration = "2m"'), "longer than max_duration"),
    (('gain = "-6 dB"', 'gain = {metta = "-6 dB", cool = "-30 dB", glide = "0s"}'),
     "0.1 dB per millisecond"),
    (('schedule = "cosine"', 'schedule = "cosin"'), "did you mean 'cosine'"),
    (('time = "60s"', 'time = "160s"'), "does not fit"),
    (('beat = {energize', 'beat = {enrgize'), "did you mean 'energize'"),
])
def test_user_errors_caught_before_audio(tmp_path, change, expect):
    p = write(tmp_path, "x.toml", BASE.replace(*change))
    with pytest.raises(RecipeError) as e:
        build_session(load_recipe(p))
    assert expect in str(e.value)
    assert "x.toml:" in str(e.value)


def test_nyquist_checked_again_for_rate_override(tmp_path):
    text = BASE.replace('carrier = "200 Hz"', 'carrier = "3000 Hz"')
    r = load_recipe(write(tmp_path, "x.toml", text))
    with pytest.raises(RecipeError, match="Nyquist"):
        build_session(r, sr=6000)


def test_missing_music_file_is_a_recipe_error(tmp_path):
    text = BASE + '\n[[layer]]\nname = "song"\nkind = "music"\nfile = "nope.flac"\n'
    p = write(tmp_path, "x.toml", text)
    with pytest.raises(RecipeError) as e:
        build_session(load_recipe(p))
    assert "nope.flac" in str(e.value) and "x.toml" in str(e.value)


def test_circular_extends(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(RecipeError, match="circular extends"):
        load_recipe(tmp_path / "a.toml")


def test_toml_syntax_error_has_line(tmp_path):
    p = write(tmp_path, "x.toml", 'title = "t"\n[[phase]\nname = 1\n')
    with pytest.raises(RecipeError, match=r"x\.toml:2: not valid TOML"):
        load_recipe(p)


# ------------------------------------------------------------------------------ extends
def test_extends_overrides_exactly_the_given_keys(tmp_path):
    write(tmp_path, "base.toml", BASE + textwrap.dedent("""
        [[layer]]
        name = "bed"
        kind = "noise"
        gain = "-30 dB"

        [[target]]
        name = "b"
        kind = "binaural_beat"
        window = "metta"
        expected = "20 Hz"
        tolerance = "0.1 Hz"
        """))
    child = write(tmp_path, "child.toml", """
        extends = "base.toml"
        title = "child"

        [[phase]]
        name = "cool"
        duration = "200s"
        temperature = {time = "150s"}

        [[phase]]
        name = "pre"
        duration = "30s"
        before = "energize"

        [[layer]]
        name = "bed"
        enabled = false

        [[layer]]
        name = "beat"
        carrier = "220 Hz"
        """)
    base = load_recipe(tmp_path / "base.toml")
    c = load_recipe(child)
    assert c.title == "child" and c.glide_s == base.glide_s
    assert [p.name for p in c.phases] == ["pre", "energize", "metta", "cool"]
    cool = c.phases[-1]
    assert cool.duration_s == 200.0
    # the temperature table merged by key: schedule and 'to' kept, time overridden
    assert cool.temperature.schedule == "exponential" and cool.temperature.to == 0.1
    assert cool.temperature.time_s == 150.0
    assert [lay.name for lay in c.layers] == ["beat"]
    beat, bbeat = c.layers[0], base.layers[0]
    assert beat.params["carrier"].data == 220.0
    assert beat.params["beat"].data[1:] == bbeat.params["beat"].data  # pre takes the first
    assert beat.gain.data == bbeat.gain.data
    assert [t.name for t in c.targets] == ["b"] and c.targets[0].start_s == 130.0
    assert c.sha256() != base.sha256()
    # errors in the child point at the child file, errors in inherited keys at the parent
    assert "child.toml:" in c.raw.where(("layer", "beat", "carrier"))
    assert "base.toml:" in c.raw.where(("layer", "beat", "beat"))


def test_locator_maps_paths_to_lines():
    loc = Locator(textwrap.dedent("""
        title = "x"
        [temperature]
        start = 0.5
        [[phase]]
        name = "a"
        [[phase]]
        name = "b"
        temperature = {to = 0.1,
          schedule = "linear"}
        [[layer]]
        name = "l"
        beat = {a = 1, b = 2}
        """))
    assert loc.line_of(("title",)) == 2
    assert loc.line_of(("temperature", "start")) == 4
    assert loc.line_of(("phase", 1, "name")) == 8
    assert loc.line_of(("phase", 1, "temperature", "to")) == 9
    assert loc.line_of(("layer", 0, "beat", "b")) == 13
    assert loc.line_of(("layer", 0, "nothing")) == 11


# ------------------------------------------------------------------------------ shipped
SHIPPED = sorted(RECIPES.glob("*.toml"))


def test_all_shipped_recipes_present():
    names = {p.stem for p in SHIPPED}
    for n in ("mettannealing", "mettannealing-slow-cooling", "mettannealing-fast-cooling",
              "mettannealing-hot", "mettannealing-preload", "resonance-breathing", "gamma-40",
              "focus", "sleep-descent", "theta-pulse"):
        assert n in names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_recipe_builds_and_renders_a_window(path):
    s = build_session(path)
    assert s.node.channels == 2 and s.duration_s > 0
    x = render_array(s.node, 1.0, sr=s.sr, seed=s.seed, start_s=30.0)
    assert x.shape == (2, s.sr) and np.all(np.isfinite(x)) and np.abs(x).max() > 1e-4
    p = plan(s.recipe)
    assert p["phases"][0]["start_s"] == 0.0


def test_mettannealing_variants_known_answers():
    base = load_recipe(RECIPES / "mettannealing.toml")
    slow = load_recipe(RECIPES / "mettannealing-slow-cooling.toml")
    fast = load_recipe(RECIPES / "mettannealing-fast-cooling.toml")
    hot = load_recipe(RECIPES / "mettannealing-hot.toml")
    pre = load_recipe(RECIPES / "mettannealing-preload.toml")
    assert base.phases[-1].duration_s == 900 and slow.phases[-1].duration_s == 1500
    # cooling ends at the base's end temperature, and after 6 minutes in the fast variant
    for r in (base, slow):
        assert r.temperature(np.array([r.duration_s]))[0] == pytest.approx(0.05)
    assert fast.temperature(np.array([1500.0 + 360.0]))[0] == pytest.approx(0.05)
    assert hot.temperature(np.array([360.0]))[0] == 1.0
    assert base.temperature(np.array([600.0]))[0] == pytest.approx(0.9)
    assert [p.name for p in pre.phases][:2] == ["preload", "energize"]
    assert pre.temperature(np.array([0.0, 299.0]))[1] == 0.0
    beat = base.layers[[lay.name for lay in base.layers].index("beat")]
    # theta in metta: 2 * 3.5 ** 0.9 Hz
    assert beat.params["beat"].evaluate(base.timeline(), np.array([1200.0]))[0] == \
        pytest.approx(2 * 3.5 ** 0.9)


def test_single_pass_render_is_bit_identical_to_two_passes(tmp_path, monkeypatch):
    """render_recipe renders the graph once (cached blocks); the files equal the two-pass ones."""
    import json
    import os

    from resonator.recipe import render_recipe
    from resonator.render import iter_blocks as real_iter_blocks
    import resonator.mastering as mastering_mod
    import resonator.render as render_mod

    text = BASE.replace('duration = "100s"', 'duration = "3s"').replace(
        'duration = "50s"', 'duration = "2s"').replace('glide = "4s"', 'glide = "1s"').replace(
        'time = "60s"', 'time = "2s"')
    text += '\n[[layer]]\nname = "air"\nkind = "noise"\nlowpass = "3000 Hz"\ngain = "-20 dB"\n'
    p = write(tmp_path, "s.toml", text)
    passes = []

    def counting(*a, **kw):
        passes.append(a[1])  # seconds rendered (the measuring pass may split in two lanes)
        return real_iter_blocks(*a, **kw)
    monkeypatch.setattr(mastering_mod, "iter_blocks", counting)
    monkeypatch.setattr(render_mod, "iter_blocks", counting)
    for bits in ("16", "32f"):
        passes.clear()
        a = render_recipe(p, tmp_path / f"a{bits}.wav", sr=16000, bits=bits, block_frames=3000,
                          mastering_cache=False)
        session_s = a.session.duration_s
        # one pass over the graph (plus the second lane's 0.4 s warm-up)
        assert session_s <= sum(passes) <= session_s + 0.4 + 1e-9
        passes.clear()
        b = render_recipe(p, tmp_path / f"b{bits}.wav", sr=16000, bits=bits, block_frames=3000,
                          single_pass=False, mastering_cache=False)
        assert 2 * session_s <= sum(passes) <= 2 * session_s + 0.4 + 1e-9
        assert (tmp_path / f"a{bits}.wav").read_bytes() == (tmp_path / f"b{bits}.wav").read_bytes()
        assert a.mastering == b.mastering
        ja = json.loads((tmp_path / f"a{bits}.json").read_text())
        jb = json.loads((tmp_path / f"b{bits}.json").read_text())
        assert ja["loudness"] == jb["loudness"]
    # a window from the start uses the cache too; nothing is left beside the output
    c = render_recipe(p, tmp_path / "c.wav", sr=16000, duration="2.5s", block_frames=3000,
                      mastering_cache=False)
    assert c.frames == 40000
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["s.toml", "a16.wav", "a16.json", "b16.wav", "b16.json", "a32f.wav", "a32f.json",
         "b32f.wav", "b32f.json", "c.wav", "c.json"])


def test_single_pass_render_leaves_no_temporary_file_on_interrupt(tmp_path):
    import os

    from resonator.recipe import render_recipe
    from resonator.recipe.render import Progress
    from resonator.recipe.session import build_session

    text = BASE.replace('duration = "100s"', 'duration = "3s"').replace(
        'duration = "50s"', 'duration = "2s"').replace('glide = "4s"', 'glide = "1s"').replace(
        'time = "60s"', 'time = "2s"')
    p = write(tmp_path, "i.toml", text)

    class Interrupting(Progress):
        def stage(self, label, total):
            def update(done, total):
                if label == "rendering" and done > 20000:
                    raise KeyboardInterrupt
            return update

    prog = Interrupting(build_session(p, sr=16000), quiet=True)
    (tmp_path / "out").mkdir()
    with pytest.raises(KeyboardInterrupt):
        render_recipe(p, tmp_path / "out" / "x.wav", sr=16000, block_frames=4000, progress=prog)
    assert os.listdir(tmp_path / "out") == []


def test_render_falls_back_to_two_passes_when_the_disk_is_small(tmp_path, monkeypatch):
    """A measuring cache larger than half the free space is not written: the graph renders
    twice, the same file comes out, and the sidecar says why."""
    import json
    import shutil
    from collections import namedtuple

    from resonator.recipe import render_recipe

    text = BASE.replace('duration = "100s"', 'duration = "3s"').replace(
        'duration = "50s"', 'duration = "2s"').replace('glide = "4s"', 'glide = "1s"').replace(
        'time = "60s"', 'time = "2s"')
    p = write(tmp_path, "s.toml", text)
    a = render_recipe(p, tmp_path / "a.wav", sr=16000, mastering_cache=False)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 10**5, 10**5))
    b = render_recipe(p, tmp_path / "b.wav", sr=16000, mastering_cache=False)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    warned = json.loads((tmp_path / "b.json").read_text())["warnings"]
    assert any("rendered twice" in w for w in warned)
    assert not any("rendered twice" in w for w in a.warnings)


def test_the_second_lane_renders_a_copy_of_the_graph_or_a_rebuilt_one_alike(tmp_path,
                                                                         monkeypatch):
    """The measuring pass's second lane renders a deep copy of the unrendered graph (no
    node shared with the first lane's); a graph that cannot be copied is built again from
    the recipe. Both give the same file, byte for byte."""
    import copy

    from resonator.graph.core import walk
    from resonator.recipe import build_session, render_recipe
    from resonator.recipe.render import twin_graph

    text = BASE.replace('duration = "100s"', 'duration = "4s"').replace(
        'duration = "50s"', 'duration = "3s"').replace('glide = "4s"', 'glide = "1s"').replace(
        'time = "60s"', 'time = "3s"') + textwrap.dedent("""
        [[layer]]
        name = "air"
        kind = "noise"
        lowpass = { temperature = "400..4000 Hz" }
        gain = "-20 dB"
        [[layer]]
        name = "breath"
        kind = "breath"
        pattern = "wim-hof"
        cues = true
        gain = { temperature = "-30..-20 dB" }
        phases = ["energize"]
        """)
    p = write(tmp_path, "s.toml", text)
    s = build_session(p, sr=16000)
    twin = twin_graph(s)
    assert not {id(n) for n in walk(s.node)} & {id(n) for n in walk(twin)}
    assert len(list(walk(twin))) == len(list(walk(s.node)))
    a = render_recipe(p, tmp_path / "a.wav", sr=16000, mastering_cache=False)

    def refuse(*args, **kw):
        raise TypeError("cannot pickle '_thread.lock' object")
    monkeypatch.setattr(copy, "deepcopy", refuse)
    rebuilt = twin_graph(s)
    assert len(list(walk(rebuilt))) == len(list(walk(s.node)))
    b = render_recipe(p, tmp_path / "b.wav", sr=16000, mastering_cache=False)
    assert a.mastering == b.mastering and a.mastering["gain_db"] != 0.0
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_measuring_lanes_split_where_the_declared_cost_is_halved(tmp_path, monkeypatch):
    """The lanes split where the summed cost of the sounding layers (each kind's declared
    cost per second, plus 1 for the measuring pass itself) is halved: a layer of cost 2 for
    250 s, then one of cost 5 from 98 s (the noise's 4 s glide in starts 2 s before the
    phase boundary) to the end."""
    import dataclasses

    from resonator.layers import LAYER_KINDS
    from resonator.mastering import _split_frame
    from resonator.recipe import build_session
    from resonator.recipe.render import balanced_split, layer_cost

    text = BASE + '\n[[layer]]\nname = "air"\nkind = "noise"\ngain = "-20 dB"\n' \
        'phases = ["metta", "cool"]\n'
    path = write(tmp_path, "s.toml", text)
    monkeypatch.setitem(LAYER_KINDS, "binaural",
                        dataclasses.replace(LAYER_KINDS["binaural"], cost=2.0))
    monkeypatch.setitem(LAYER_KINDS, "noise",
                        dataclasses.replace(LAYER_KINDS["noise"], cost=lambda params: 5.0))
    s = build_session(path)
    assert [layer_cost(i) for i in s.layers] == [2.0, 5.0]  # (both gains constant)
    # work: 3 per s for 98 s, then 8 per s for 152 s: 1510 in all; half (755) at
    # 98 + (755 - 294) / 8 = 155.625 s
    assert balanced_split(s) * 250 == pytest.approx(155.625, abs=1e-6)
    # a gain that changes costs VARYING_GAIN_COST more: with a noise of cost 0.5 whose gain
    # glides between phases, 3 per s for 98 s, then 3.63 for 152 s: 845.76 in all, half at
    # 98 + (422.88 - 294) / 3.63 = 133.504 s
    from resonator.recipe.render import VARYING_GAIN_COST

    monkeypatch.setitem(LAYER_KINDS, "noise",
                        dataclasses.replace(LAYER_KINDS["noise"], cost=0.5))
    s = build_session(write(tmp_path, "t.toml", text.replace(
        'gain = "-20 dB"', 'gain = {metta = "-20 dB", cool = "-30 dB"}')))
    assert VARYING_GAIN_COST == 0.13
    assert layer_cost(s.layers[1]) == pytest.approx(0.63, abs=1e-12)
    assert balanced_split(s) * 250 == pytest.approx(133.504, abs=1e-3)
    # the split frame is the nearest 100 ms edge (a whole number of hops) to that share,
    # whatever the block size; each side keeps at least 2 s
    sr = 16000
    unit = 1600  # lcm(1600, 160)
    total = 250 * sr
    assert _split_frame(0, total, sr, 160, 0.66) == round(0.66 * total / unit) * unit
    assert _split_frame(0, total, sr, 160) == round(0.5 * total / unit) * unit
    assert _split_frame(0, total, sr, 160, 1.0) == total - 2 * sr
    assert _split_frame(0, total, sr, 160, 0.0) == 2 * sr
    assert _split_frame(0, total, 44100, 441, 0.333) == round(0.333 * total / 4410) * 4410
    assert _split_frame(16000, total, sr, 160) is None  # a window not at the start
    assert _split_frame(0, 4 * sr - 1, sr, 160) is None  # too short for 2 s a side
    assert _split_frame(0, 4 * sr, sr, 160) == 2 * sr


def test_mettannealing_splits_where_its_calibrated_costs_say():
    """mettannealing plays the Wim Hof breath (with cues), the 40 Hz AM tone and the noise
    for 10 minutes, then the drone, the binaural beat, the slow breath and the noise for 30:
    its declared costs put the split where 600 s of the first set and the rest of the second
    weigh the same (within the glides between them), inside metta; with the breath's cues
    summed over their own frames a second of energize costs a little less than one of
    metta, so the split comes after the middle, a little before the 21.1 minutes a count of
    sounding layers gave."""
    from resonator.recipe import build_session
    from resonator.recipe.render import balanced_split, layer_cost

    s = build_session(RECIPES / "mettannealing.toml")
    cost = {i.name: layer_cost(i) for i in s.layers}
    assert cost["wimhof"] == pytest.approx(0.5 + 0.55)  # drone + Wim Hof cues (constant gain)
    assert cost["gamma"] == pytest.approx(0.3 + 0.13)  # AM of a tone + its varying gain
    assert cost["warm"] == pytest.approx(0.09 + 0.06 * 5 + 0.4 + 0.13)
    assert cost["beat"] == pytest.approx(0.2 + 0.4 + 0.13)
    assert cost["breath"] == pytest.approx(0.5 + 0.13)
    assert cost["air"] == pytest.approx(0.6 + 0.6 + 0.13)  # pink, swept low-pass, gain
    energize = 1 + cost["wimhof"] + cost["gamma"] + cost["air"]
    metta = 1 + cost["warm"] + cost["beat"] + cost["breath"] + cost["air"]
    assert energize < metta
    half = (600 * energize + 1800 * metta) / 2
    split_s = balanced_split(s) * s.duration_s
    assert split_s == pytest.approx(600 + (half - 600 * energize) / metta, abs=10.0)
    assert 1200 < split_s < 1266


def test_layer_kinds_declare_a_cost():
    """A kind's cost is a number >= 0 or a callable of its parameters; anything else is
    refused at registration. ``varies`` tells a changing parameter from a constant."""
    from resonator.graph import Constant, Curve
    from resonator.layers import LayerKind, LayerPlan, register
    from resonator.layers.base import varies

    plan = lambda params, ctx: LayerPlan()  # noqa: E731
    for bad in (-1.0, float("nan"), float("inf"), "cheap"):
        with pytest.raises(TypeError, match="cost must be a number >= 0"):
            register(LayerKind("costly", "x", {}, lambda p, c: None, plan=plan, cost=bad))
    kind = LayerKind("costly", "x", {}, lambda p, c: None, plan=plan,
                     cost=lambda p: 2.0 if varies(p["rate"]) else 0.5)
    assert kind.cost_per_s({"rate": Curve([(0, 1.0), (10, 2.0)])}) == 2.0
    assert kind.cost_per_s({"rate": Constant(3.0)}) == 0.5
    assert kind.cost_per_s({"rate": 3.0}) == 0.5
    assert LayerKind("plain", "x", {}, lambda p, c: None, plan=plan).cost_per_s({}) == 1.0
