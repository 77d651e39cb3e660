"""Design lints: each case the issue lists is caught, at the right file, line and place; the
shipped recipes are clean; the sleep-descent fix descends as its description says."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from resonator.recipe import load_recipe
from resonator.recipe.lints import LINT_CODES, Lint, lint_recipe

RECIPES = Path(__file__).resolve().parent.parent / "recipes"

HEAD = """
title = "t"
fade_in = "1s"
fade_out = "1s"
[temperature]
start = 1.0
[[phase]]
name = "warm"
duration = "60s"
[[phase]]
name = "cool"
duration = "120s"
temperature = {cool}
"""
LAYER = """
[[layer]]
name = "{name}"
kind = "{kind}"
{body}
"""


def recipe(tmp_path, *layers, cool='{to = 0.2, schedule = "linear"}', name="r.toml"):
    text = HEAD.format(cool=cool) + "".join(LAYER.format(name=n, kind=k, body=b)
                                            for n, k, b in layers)
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip())
    return p


def codes(lints):
    return [x.code for x in lints]


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


BEAT = ("beat", "binaural", 'carrier = "200 Hz"\nbeat = "6 Hz"\ngain = "-20 dB"')


def test_clean_recipe_has_no_lints(tmp_path):
    assert lint_recipe(recipe(tmp_path, BEAT)) == []


def test_schedule_collapse_names_the_phase_line(tmp_path):
    p = recipe(tmp_path, BEAT, cool='{to = 0.0, schedule = "lundy-mees"}')
    (lint,) = lint_recipe(p)
    assert lint.code == "schedule-collapse" and lint.path == ("phase", "cool", "temperature")
    assert lint.line == line_of(p, 'schedule = "lundy-mees"') and lint.file.endswith("r.toml")
    assert "99 % of its temperature change (1.00 -> 0.00)" in lint.message
    # the same schedule with a floor, or a gentler kind, is no collapse
    for cool in ('{to = 0.0, schedule = "lundy-mees", floor = 0.5}',
                 '{to = 0.0, schedule = "cosine"}', '{to = 0.05, schedule = "exponential"}'):
        assert lint_recipe(recipe(tmp_path, BEAT, cool=cool)) == [], cool


def test_frozen_parameter(tmp_path):
    # bound to the temperature, but the layer only plays in "warm", where it holds at 1.0
    layer = ("beat", "binaural", 'carrier = "200 Hz"\nbeat = { temperature = "4..8 Hz" }\n'
             'phases = ["warm"]')
    p = recipe(tmp_path, layer)
    (lint,) = lint_recipe(p)
    assert (lint.code, lint.path) == ("frozen-parameter", ("layer", "beat", "beat"))
    assert "holds at 1.00" in lint.message and lint.line == line_of(p, "beat = {")


def test_binaural_ranges_and_weak_gamma(tmp_path):
    p = recipe(tmp_path, ("hi", "binaural", 'carrier = "1.4 kHz"\nbeat = "8 Hz"'),
               ("fast", "binaural", 'carrier = "300 Hz"\nbeat = "33 Hz"'),
               ("g40", "binaural", 'carrier = "400 Hz"\nbeat = "40 Hz"'))
    lints = lint_recipe(p)
    assert codes(lints) == ["outside-recommended", "outside-recommended", "weak-gamma"]
    assert lints[0].path == ("layer", "hi", "carrier") and "1400 Hz" in lints[0].message
    assert "fades above about 1 kHz" in lints[0].message
    assert lints[1].path == ("layer", "fast", "beat") and "33 Hz" in lints[1].message
    assert "gamma layer" in lints[2].message and lints[2].line == line_of(p, 'beat = "40 Hz"')


def test_silent_and_inaudible_layers(tmp_path):
    p = recipe(tmp_path, ("loud", "noise", 'gain = "-10 dB"'),
               ("mute", "noise", 'gain = "-2000 dB"'), ("zero", "drone", "level = 0"),
               ("faint", "noise", 'gain = { warm = "-95 dB", cool = "-75 dB" }'))
    lints = lint_recipe(p)
    assert codes(lints) == ["silent-layer"] * 3
    assert [x.path for x in lints] == [("layer", "mute", "gain"), ("layer", "zero", "level"),
                                       ("layer", "faint", "gain")]
    assert "-2000 dB" in lints[0].message and lints[1].line == line_of(p, "level = 0")
    assert "-75 dB, 65 dB under the loudest other layer" in lints[2].message


def test_bell_outside_the_session_or_its_phases(tmp_path):
    p = recipe(tmp_path, BEAT, ("bell", "bell", 'times = ["30s", "4m", "90s"]\n'
                                'phases = ["warm"]'))
    lints = lint_recipe(p)
    assert codes(lints) == ["bell-outside", "bell-outside"]
    assert "strike 2 at 4:00 lies outside the session (0 to 3:00)" in lints[0].message
    assert 'strike 3 at 1:30 falls in phase "cool"' in lints[1].message
    assert lints[0].line == line_of(p, "times =")


def test_loudness_jump_at_a_boundary(tmp_path):
    # a noise bed stepping from -30 to 0 dB over a 2 s glide at the start of "cool"
    jump = ("bed", "noise", 'gain = { warm = "-30 dB", cool = "0 dB", glide = "2s" }')
    (lint,) = lint_recipe(recipe(tmp_path, BEAT, jump))
    assert (lint.code, lint.path) == ("loudness-jump", ("phase", "cool"))
    assert "louder within 10 s where this phase starts (1:00)" in lint.message
    # the same change over a 60 s glide is fine, and render=False skips this lint
    slow = ("bed", "noise", 'gain = { warm = "-30 dB", cool = "0 dB", glide = "60s" }')
    assert lint_recipe(recipe(tmp_path, BEAT, slow)) == []
    assert lint_recipe(recipe(tmp_path, BEAT, jump), render=False) == []


TARGETS = """
[[target]]
name = "rate"
kind = "am_rate"
layer = "bed"
window = "cool"
expected = "{rate}"
[[target]]
kind = "binaural_beat"
layer = "beat"
start = "10s"
end = "50s"
expected = "{beat}"
"""


@pytest.mark.parametrize("rate, beat, found", [
    ("16 Hz", "6 Hz", []),                                       # as planned
    ("16.04 Hz", "0.006 kHz", []),                              # within tolerance, any unit
    ("16 kHz", "6 Hz", [("rate", 'expects 16000.000 Hz +- 0.050 Hz but layer "bed" plans '
                                 '16.000 Hz in phase "cool" (1000x: kHz for Hz, or s for ms?)')]),
    ("16 Hz", "8 Hz", [("#2", 'expects 8.000 Hz +- 0.050 Hz but layer "beat" plans 6.000 Hz '
                              "in 10s-50s:")]),
])
def test_a_written_target_off_the_plan(tmp_path, rate, beat, found):
    """``expected = "16 kHz"`` on a 16 Hz rate passed silently; check would fail it on a
    render that follows the recipe."""
    bed = ("bed", "noise", 'gain = "-20 dB"\nmod_rate = "16 Hz"\nmod_depth = 0.5')
    p = recipe(tmp_path, BEAT, bed)
    p.write_text(p.read_text() + TARGETS.format(rate=rate, beat=beat))
    lints = lint_recipe(p)
    assert [(x.code, x.path[1]) for x in lints] == [("target-off-plan", k) for k, _ in found]
    for lint, (key, text) in zip(lints, found):
        assert lint.path == ("target", key, "expected") and text in lint.message
        assert lint.line == line_of(p, f'expected = "{rate if key == "rate" else beat}"')
    assert lint_recipe(p, render=False) == []  # the plan is built only with render=True


def test_lint_as_dict_is_json_and_names_every_field(tmp_path):
    p = recipe(tmp_path, BEAT, cool='{to = 0.0, schedule = "lundy-mees"}')
    (lint,) = lint_recipe(str(p))
    d = json.loads(json.dumps(lint.as_dict()))
    assert set(d) == {"code", "message", "file", "line", "path", "place"}
    assert d["place"] == 'phase "cool" > temperature' and d["code"] in LINT_CODES
    assert str(lint).startswith(f"{lint.file}:{lint.line}: phase \"cool\" > temperature: ")
    assert isinstance(lint, Lint)


def test_extended_recipe_points_at_the_file_that_gave_the_value(tmp_path):
    base = recipe(tmp_path, BEAT, cool='{to = 0.0, schedule = "lundy-mees"}', name="base.toml")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\ntitle = "child"\n')
    (lint,) = lint_recipe(child)
    assert lint.file.endswith("base.toml") and lint.line == line_of(base, "lundy-mees")


def test_shipped_recipes_are_clean():
    for path in sorted(RECIPES.glob("*.toml")):
        assert lint_recipe(path, render=path.stem != "sleep-descent") == [], path.name


def test_sleep_descent_descends_as_described(tmp_path):
    # the description: leaves alpha (8 Hz) after 2.5 min of the descent, reaches delta (4 Hz)
    # after 12.7, 2 Hz after 29 and 1.5 Hz at its end; measured on windows of the render
    from resonator.check import check_file
    from resonator.check.targets import make_target
    from resonator.recipe import render_recipe

    r = load_recipe(RECIPES / "sleep-descent.toml")
    start = next(p.start_s for p in r.phases if p.name == "descent")
    for minute, beat in ((2.5, 8.0), (12.7, 4.0), (29.0, 2.0)):
        t = start + 60 * minute
        planned = 1.5 * (10 / 1.5) ** float(r.temperature(np.array([t]))[0])
        assert planned == pytest.approx(beat, abs=0.04)
        wav = render_recipe(r, tmp_path / f"w{minute}.wav", sr=8000, bits="32f", start=t - 3,
                            duration=6.0, normalize=False).path
        tgt = make_target("binaural_beat", t - 2, t + 2, planned, 0.02, layer="beat",
                          source="cli")
        (res,) = [x for x in check_file(wav, r, targets=[tgt]).results if x.target is not None
                  and x.target.source == "cli"]
        assert res.passed and res.measured == pytest.approx(planned, abs=0.02), res


def test_plan_and_check_print_the_lints(tmp_path, capsys):
    from resonator.cli import main
    from resonator.recipe import render_recipe

    p = recipe(tmp_path, BEAT, cool='{to = 0.0, schedule = "lundy-mees"}')
    line = line_of(p, "lundy-mees")
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {lint_recipe(p)[0].file}:{line}: phase \"cool\" > temperature: 99 %" in out
    assert main(["plan", str(p), "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)["lints"]
    assert (d["code"], d["line"], d["path"]) == ("schedule-collapse", line,
                                                 ["phase", "cool", "temperature"])
    wav = render_recipe(p, tmp_path / "r.wav", sr=8000, normalize=False, start=50.0,
                        duration=20.0).path
    main(["check", str(wav), "--json", str(tmp_path / "c.json")])
    err = capsys.readouterr().err
    assert f":{line}: phase \"cool\" > temperature: 99 % of its temperature change" in err
    (d,) = json.loads((tmp_path / "c.json").read_text())["lints"]
    assert d["code"] == "schedule-collapse" and d["line"] == line
