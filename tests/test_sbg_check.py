"""`resonator check` on the full mix of real SBaGen fixtures (short windows): close voices
with the same carrier, noise next to a tone, signed beats of wave voices, and voices whose
ears coincide (fitted jointly as one tone). benchmarks/sbg_check.py runs all 35."""
from __future__ import annotations

from pathlib import Path

import pytest

from resonator.check import check_file
from resonator.recipe.render import render_recipe
from resonator.sbg.convert import load_sbg_recipe

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "sbg"
SR = 8000


def fixture(name):
    found = sorted(FIXTURES.rglob(f"{name}.sbg")) if FIXTURES.is_dir() else []
    if not found:
        pytest.skip(f"the shared SBaGen fixture {name}.sbg is not there")
    return found[0]


def check_window(tmp_path, name, start, duration):
    recipe = load_sbg_recipe(fixture(name))
    out = tmp_path / f"{name}.wav"
    render_recipe(recipe, out, sr=SR, start=start, duration=duration, normalize=False,
                  bits="32f", force=True)
    return check_file(out, recipe=recipe)


def failures(rep):
    return [(r.target.kind, r.target.layer, r.target.expected, r.measured, r.detail)
            for r in rep.results if not r.passed]


@pytest.mark.parametrize("name,start,duration,kinds", [
    # 403.732+1.56 and 403.725+4.137: the same carrier, ears 1.3 Hz apart
    ("kh-lost-storm", 100.0, 12.0, {"binaural_beat", "binaural_carrier"}),
    # pink noise next to 300+10: the noise's L/R correlation with the tone notched out
    ("ts-brain-alpha", 100.0, 12.0, {"binaural_beat", "lr_correlation"}),
    # 360-40 (a signed beat, kind wave) and 440+40 under pink/80
    ("ch-einstein", 300.0, 12.0, {"binaural_beat"}),
])
def test_fixture_window_passes_on_the_full_mix(tmp_path, name, start, duration, kinds):
    rep = check_window(tmp_path, name, start, duration)
    assert not failures(rep), failures(rep)
    assert kinds <= {r.target.kind for r in rep.results}
    beats = [r for r in rep.results if r.target.kind == "binaural_beat"]
    assert all(abs(r.measured - r.target.expected) < 0.01 for r in beats), \
        [(r.target.layer, r.target.expected, r.measured) for r in beats]
    if name == "ch-einstein":
        assert any(r.target.expected == -40.0 for r in beats)


def test_fixture_voices_with_coinciding_ears_are_measured_jointly(tmp_path):
    # ch-schumann-cycle's 112-14/3 and 126+14/3 share a right ear at 119 Hz: that ear is one
    # tone, fitted as one sum; both beats (-14 and +14 Hz) are read against it, none skipped
    rep = check_window(tmp_path, "ch-schumann-cycle", 740.0, 12.0)
    assert not failures(rep), failures(rep)
    assert not [w for t, w in rep.skipped if t.kind.startswith("binaural") and
                "rendered window" not in w]
    beats = {r.target.layer: r for r in rep.results if r.target.kind == "binaural_beat"}
    for layer, exp in (("s2-binaural", -14.0), ("s3-binaural", 14.0)):
        r = beats[layer]
        assert abs(r.measured - exp) < 0.01, (layer, r.measured)
        assert "jointly" in r.detail["windows"][0]["note"]
