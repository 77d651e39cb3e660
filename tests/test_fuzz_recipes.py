"""Seeded fuzzing of recipe loading: mutated shipped recipes either load and render, or are
refused with a ResonatorError (one line for the user); nothing else may escape.

Fixed examples (the hypothesis profile in conftest.py derandomizes) and a bounded budget; the
long campaign is benchmarks/fuzz_recipes.py. The mutations are in recipe_fuzz.py.
"""
from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recipe_fuzz
from resonator.errors import ResonatorError


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return recipe_fuzz.workdir(tmp_path_factory.mktemp("fuzz"))


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_recipes_load_or_are_refused_in_one_line(work, data):
    folder, texts = work
    name = data.draw(st.sampled_from(sorted(texts)), label="recipe")
    n = data.draw(st.integers(1, 3), label="mutations")
    text = recipe_fuzz.make_case(texts[name], lambda k: data.draw(st.integers(0, k - 1)), n)
    where = data.draw(st.floats(0.0, 1.0), label="window at")
    path = folder / "fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        recipe_fuzz.exercise(path, where)
    except ResonatorError as exc:
        assert "\n" not in str(exc)  # one line


@pytest.mark.parametrize("text, message", [
    ("extends = " + "[" * 3000 + "]" * 3000 + "\n", "nested more than 100 deep"),
    ('extends = "/dev/zero"\n', 'extends = "/dev/zero" names /dev/zero, which is not a recipe '
                               "file"),
    ('extends = "."\n', 'extends = "." names a folder'),
    ('extends = "\\u0000"\n', "has a NUL character"),
    ('extends = "' + "a" * 300 + '.toml"\n', "longer than a file system allows"),
    ("extends = {a = 1}\n", "got a table"),
    ("extends = [1]\n", "got a list"),
])
def test_what_the_fuzzer_found_in_extends(tmp_path, text, message):
    from resonator.loading import load
    from resonator.recipe.loader import display_path

    p = tmp_path / "x.toml"
    p.write_text(text)
    with pytest.raises(ResonatorError) as e:
        load(p)
    assert message in str(e.value)
    assert str(e.value).startswith(display_path(p) + ":1: ")


@pytest.mark.parametrize("patch, message", [
    (('kind = "noise"', 'kind = {a = 1}'), 'kind must be the name of a layer kind (a string), got '
                                          'a table'),
    (('kind = "noise"', 'kind = "noise"\nenabled = "no"'), 'enabled must be true or false, got '
                                                           '"no"'),
    (('fade_in = "1s"', 'layer = "noise"\nfade_in = "1s"'), None),
    (('fade_in = "1s"', 'layer = ["noise"]\nfade_in = "1s"'), None),
    (('duration = "60s"', 'duration = "60s"\nremove = 1'), "remove must be true or false"),
    (('name = "n"', 'name = "n"\n'), None),
])
def test_type_confusion_in_layers(tmp_path, patch, message):
    from resonator.loading import load

    base = ('fade_in = "1s"\nfade_out = "1s"\n[[phase]]\nname = "a"\nduration = "60s"\n'
            '[[layer]]\nname = "n"\nkind = "noise"\n')
    p = tmp_path / "x.toml"
    text = base.replace(*patch)
    if patch[1].startswith("layer = "):  # a value where the [[layer]] tables go
        text = text.replace('[[layer]]\nname = "n"\nkind = "noise"\n', "")
        message = "layer must be written as [[layer]] tables"
    p.write_text(text)
    if message is None:
        assert load(p).layers[0].name == "n"
        return
    with pytest.raises(ResonatorError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        load(p)


def test_a_file_larger_than_a_recipe_is_refused_unread(tmp_path):
    from resonator.loading import load

    p = tmp_path / "big.toml"
    p.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(ResonatorError, match="is larger than 1024 kB: not a recipe"):
        load(p)


@pytest.mark.parametrize("shape", ["curve:1000", "curve:-51", "curve:1e300"])
def test_steep_curvatures_are_refused_at_load(tmp_path, shape):
    from resonator.loading import load

    p = tmp_path / "c.toml"
    p.write_text('fade_in = "1s"\nfade_out = "1s"\n[[phase]]\nname = "a"\nduration = "60s"\n'
                 '[[layer]]\nname = "b"\nkind = "binaural"\ncarrier = "200 Hz"\n'
                 f'beat = {{points = [["0s", "4 Hz"], ["60s", "10 Hz", "{shape}"]]}}\n')
    with pytest.raises(ResonatorError, match="the curvature C must be from -50 to 50"):
        load(p)


def test_the_steepest_allowed_curvature_renders_its_end_values(tmp_path):
    """curve:50 and curve:-50 stay finite and hit both ends exactly."""
    import numpy as np

    from resonator.graph.curves import Curve

    for c in (50.0, -50.0):
        cv = Curve([(0.0, 4.0), (60.0, 10.0, f"curve:{c}")])
        t = np.array([0.0, 30.0, 60.0])
        v = cv.evaluate(t)
        assert np.all(np.isfinite(v)) and v[0] == pytest.approx(4.0) and v[2] == pytest.approx(10.0)
        assert np.isfinite(cv.integral(np.array([60.0])))[0]
