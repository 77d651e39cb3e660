"""SBaGen import: the recipe text, its phases, layers, curves and targets, the CLI."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from resonator.cli import main
from resonator.errors import RecipeError
from resonator.recipe import load_recipe
from resonator.sbg import parse_sbg
from resonator.sbg.convert import (convert_file, convert_sequence, fmt_time, load_sbg_recipe)


def conv(text, path="x.sbg", **kw):
    return convert_sequence(parse_sbg(text, path=path), **kw)


def layer(data, name):
    return next(lay for lay in data["layer"] if lay["name"] == name)


SIMPLE = """## Alpha test
## A short description.
-SE -F 2000
a: 200+10/20 pink/30
b: 200+4/20 pink/30
off: -
00:00 a
00:00:20 b
00:00:40 off
"""


def test_fmt_time_round_trips_through_durations():
    from resonator.units import parse_duration
    for t in (0, 5, 59.5, 61.25, 3599.999, 3600, 86399.5, 1.0005):
        assert parse_duration(fmt_time(t)) == pytest.approx(round(t, 3))


def test_the_title_is_never_the_end_of_a_sentence():
    """A short description line that ends a sentence begun on the line before is no title
    (prog-chakras-1 was titled "repeated endlessly.")."""
    text = ("## Four chords, each of which takes 3 minutes, and this is\n"
            "## repeated endlessly.\n" + SIMPLE.split("\n", 2)[2])
    assert conv(text, path="chords.sbg").data["title"] == "chords"
    assert conv("## Chakra cycle\n" + text, path="chords.sbg").data["title"] == "Chakra cycle"


def test_simple_sequence_structure():
    c = conv(SIMPLE)
    d = c.data
    assert d["title"] == "Alpha test"
    assert "short description" in d["description"]
    assert [p["name"] for p in d["phase"]] == ["a", "b"]      # -E: ends at the last line
    assert [p["duration"] for p in d["phase"]] == ["0:20", "0:20"]
    kinds = {lay["name"]: lay["kind"] for lay in d["layer"]}
    assert kinds == {"s1-binaural": "binaural", "s2-pink": "noise"}
    b = layer(d, "s1-binaural")
    assert b["carrier"] == 200.0
    assert b["beat"]["points"][0] == ["0:00", 10.0]
    assert ["0:20", 0.0] in b["level"]["points"]     # through silence at the change
    n = layer(d, "s2-pink")
    assert n["stereo"] is False and n["gain"] == "-4.3 dB"
    assert "# slot 1: 200+10/20 (line 4), 200+4/20 (line 5)" in c.toml
    assert "line 8: 00:00:20 -- b" in c.toml


def test_recipe_loads_and_phases_cover_the_session(tmp_path):
    p = tmp_path / "s.sbg"
    p.write_text(SIMPLE)
    r = load_sbg_recipe(p)
    assert r.duration_s == pytest.approx(40.0)
    assert r.path == p.resolve()
    assert [(ph.name, ph.start_s, ph.end_s) for ph in r.phases] == [
        ("a", 0.0, 20.0), ("b", 20.0, 40.0)]
    # the one loader reads .sbg too
    from resonator.loading import load
    assert load(p).duration_s == pytest.approx(40.0)


def test_targets_per_period_and_carrier_hint():
    d = conv(SIMPLE).data
    tg = {t["name"]: t for t in d["target"]}
    a = tg["a/s1-beat"]
    assert a["kind"] == "binaural_beat" and a["expected"] == "10 Hz"
    assert a["carrier"] == "200 Hz" and a["layer"] == "s1-binaural"
    # steady part of a: 1 s after the fade-in (1 s) to 1 s before the change's fade (19 s)
    assert (a["start"], a["end"]) == ("0:02", "0:18")
    assert tg["b/s1-beat"]["expected"] == "4 Hz"


def test_target_carrier_reaches_the_session(tmp_path):
    from resonator.recipe.session import build_session
    p = tmp_path / "s.sbg"
    p.write_text(SIMPLE)
    s = build_session(load_sbg_recipe(p), sr=8000)
    mine = [t for t in s.targets if t.get("source") == "recipe"]
    assert mine and all(t["carrier_hz"] == 200.0 for t in mine if t["kind"] == "binaural_beat")


def test_slide_targets_along_a_glide():
    c = conv("-SE -F 60000\na: 200+4/20\nb: 300+12/20\noff: -\n"
             "00:00 -= a\n00:02:00 =- b\n00:04:00 off\n")
    slides = [t for t in c.data["target"] if "/slide-" in t["name"] and
              t["kind"] == "binaural_beat"]
    assert len(slides) >= 3
    from resonator.units import parse_duration
    for t in slides:
        mid = 0.5 * (parse_duration(t["start"]) + parse_duration(t["end"]))
        r = (mid - 90.0) / 60.0                       # slide from 1:30 to 2:30
        assert float(t["expected"].split()[0]) == pytest.approx(4 + 8 * r, abs=1e-3)
        assert float(t["carrier"].split()[0]) == pytest.approx(200 + 100 * r, abs=0.01)


def test_negative_beat_uses_the_wave_kind_with_signed_targets():
    d = conv("-SE -F 2000\na: 300-8/20\noff: -\n00:00 a\n00:00:20 off\n").data
    lay = d["layer"][0]
    assert lay["kind"] == "wave" and lay["beat"] == -8.0 and lay["shape"] == "sine"
    assert d["target"][0]["expected"] == "-8 Hz"


def test_merged_layers_per_slot_and_kind():
    c = conv("-SE -F 2000\na: 200+10/20\nb: pink/20\nc: 250+5/20\noff: -\n"
             "00:00 a\n00:00:20 b\n00:00:40 c\n00:01:00 off\n")
    names = [lay["name"] for lay in c.data["layer"]]
    assert names == ["s1-binaural", "s1-pink", "s1-binaural-2"]


def test_bells_become_a_chime_layer():
    d = conv("-SE -F 2000\na: 200+10/10 bell+400/50\noff: -\n00:00 a\n00:00:20 a\n"
             "00:00:40 off\n").data
    bell = layer(d, "s2-bell")
    assert bell["kind"] == "chime" and bell["times"] == [0.0, 20.0]
    assert bell["pitches"] == [400.0] and bell["amps"] == [0.5]


def test_isochronic_and_spin_and_waves():
    d = conv("-SE -F 2000\nwave03: 0 1 0 -1\na: 300@7/40 spin:300-2/30 wave03:150+6/20\n"
             "off: -\n00:00 a\n00:00:20 off\n").data
    kinds = {lay["name"]: lay for lay in d["layer"]}
    assert kinds["s1-isochronic"]["kind"] == "isochronic"
    assert kinds["s1-isochronic"]["rate"] == 7.0
    assert kinds["s2-spin"]["kind"] == "spin" and kinds["s2-spin"]["rate"] == -2.0
    assert kinds["s3-wave03"]["samples"] == [0.0, 1.0, 0.0, -1.0]
    assert {t["kind"] for t in d["target"]} == {"am_rate", "binaural_beat"}


def test_stereo_noise_option():
    d = conv(SIMPLE, stereo_noise=True).data
    assert layer(d, "s2-pink")["stereo"] is True


def test_loudness_note_when_amplitudes_sum_past_100():
    c = conv("-SE -F 2000\na: 200+10/70 pink/70\noff: -\n00:00 a\n00:00:20 off\n")
    assert c.max_amp_sum == pytest.approx(140.0)
    assert any("past 100" in m for m in c.messages())
    assert "SBaGen would clip there" in c.toml


def test_volume_option_lowers_the_loudness_target():
    c = conv("-SE -V 50 -F 2000\na: 200+10/20\noff: -\n00:00 a\n00:00:20 off\n")
    assert c.data["loudness"] == "-26.0 LUFS"


def test_unsupported_is_reported_and_the_rest_renders(tmp_path):
    p = tmp_path / "m.sbg"
    p.write_text("-SE -F 2000 -m nothere.ogg\na: 200+10/20 mixspin:300+2/50 mix/50\noff: -\n"
                 "00:00 a\n00:00:20 off\n")
    c = convert_file(p)
    assert len(c.unsupported) == 2
    assert any("mixspin" in u for u in c.unsupported)
    assert any("nothere.ogg" in u and "disabled" in u for u in c.unsupported)
    assert layer(c.data, "mix")["enabled"] is False
    r = load_sbg_recipe(p)
    assert [lay.name for lay in r.layers] == ["s1-binaural"]
    assert sum(w.startswith("unsupported:") for w in r.warnings) == 2


def test_nothing_renderable_is_a_clear_error(tmp_path):
    p = tmp_path / "m.sbg"
    p.write_text("-SE -m nothere.ogg\na: mix/50\noff: -\n00:00 a\n00:00:20 off\n")
    with pytest.raises(RecipeError, match="nothing in this sequence can be rendered.*nothere"):
        convert_file(p)


def test_clock_schedule_over_24_hours_spans_first_to_last():
    text = "a: 200+4/20\nb: 200+8/20\nc: 200+2/20\noff: -\n22:00 a\n02:00 b\n07:00 c\n21:00 off\n"
    c = conv(text)
    assert c.timeline.duration_s == pytest.approx(23 * 3600.0)
    assert [p["name"] for p in c.data["phase"]][:3] == ["a", "b", "c"]
    assert "max_duration" in c.data
    assert any("wall clock" in n for n in c.notes)


def test_repeated_tonesets_get_unique_phase_names():
    c = conv("-SE -F 2000\na: 200+4/20\noff: -\n00:00 a\n00:00:20 off\n00:00:40 a\n"
             "00:01:00 off\n")
    assert [p["name"] for p in c.data["phase"]] == ["a", "off", "a_2"]


def test_conversion_is_fast_on_the_24_hour_fixture():
    import time
    p = Path(__file__).resolve().parents[1] / "tests" / "data" / "sbg" / "prog-chakras-1.sbg"
    if not p.exists():
        pytest.skip("fixture missing")
    t0 = time.perf_counter()
    c = convert_file(p)
    assert time.perf_counter() - t0 < 5.0
    assert c.timeline.duration_s == pytest.approx(86400.0)
    tomllib.loads(c.toml)


# ------------------------------------------------------------------------ CLI
def test_cli_import_writes_an_editable_recipe(tmp_path, capsys):
    p = tmp_path / "seq.sbg"
    p.write_text(SIMPLE)
    out = tmp_path / "seq.toml"
    assert main(["import", str(p), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Converted from the SBaGen sequence seq.sbg")
    assert "2 layers" in capsys.readouterr().out
    assert main(["import", str(p), "-o", str(out)]) != 0        # exists: needs --force
    assert main(["import", str(p), "-o", str(out), "--force", "--stereo-noise"]) == 0
    assert "stereo = true" in out.read_text()
    # the written recipe loads as an ordinary recipe
    assert load_recipe(out).duration_s == pytest.approx(40.0)


def test_cli_render_sbg_reports_clipping_note(tmp_path, capsys):
    p = tmp_path / "loud.sbg"
    p.write_text("-SE -F 2000\na: 200+10/70 pink/70\noff: -\n00:00 a\n00:00:10 off\n")
    out = tmp_path / "loud.wav"
    assert main(["render", str(p), "-o", str(out), "--rate", "8000", "--stereo-noise"]) == 0
    err = capsys.readouterr().err
    assert "past 100" in err and out.exists()


def test_cli_import_error_is_one_line(tmp_path, capsys):
    p = tmp_path / "bad.sbg"
    p.write_text("a: 200+10/20\n00:00 b\n")
    assert main(["import", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.sbg" in err[0]


def test_a_sliding_carrier_gets_its_trajectory_checked():
    # -p slide: the carrier slides 200 Hz -> beat/2 over 30 minutes with the beat held: every
    # 2 minutes a window expects the carrier at its centre (tolerance: half its change there)
    # while both ears lie in 60-1400 Hz (the first 21 minutes)
    c = conv("-p slide 200+10/10\n")
    carrier = [t for t in c.data["target"] if t["kind"] == "binaural_carrier"]
    beat = [t for t in c.data["target"] if t["kind"] == "binaural_beat" and "/slide-" in
            t["name"]]
    assert len(beat) == len(carrier) == 10
    from resonator.units import parse_duration
    for t in carrier:
        a, b = parse_duration(t["start"]), parse_duration(t["end"])
        f = float(t["expected"].split()[0])
        assert f == pytest.approx(200.0 - (200.0 - 5.0) * 0.5 * (a + b) / 1800.0, rel=0.01)
        assert float(t["tolerance"].split()[0]) == pytest.approx(0.1 + 0.5 * 195 * 4 / 1800,
                                                                  abs=0.01)
