"""The registry of target kinds: each kind's unit, tolerance and evaluator in one place."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from resonator.check import check_file, parse_target_arg
from resonator.check.kinds import TARGET_KINDS, TargetKind, register, within
from resonator.check.targets import CheckInputError
from resonator.cli import main

BUILT_IN = {"binaural_beat", "binaural_carrier", "am_rate", "am_depth", "gated_depth",
            "gamma_share", "breath_rate", "lr_correlation", "bell_strikes", "loudness",
            "true_peak", "loudness_range", "fade_in", "fade_out", "clicks", "loudness_trend",
            "centroid_trend", "band_energy", "noise_slope"}


def test_every_built_in_kind_is_registered_with_a_method():
    assert BUILT_IN <= set(TARGET_KINDS)
    for k in TARGET_KINDS.values():
        assert len(k.doc.split()) >= 8 and k.tolerance >= 0 and k.min_window_s > 0, k.name


def test_kinds_listing(capsys):
    assert main(["check", "--kinds"]) == 0  # main returns the exit code of --help-like actions
    out = capsys.readouterr().out
    for name in BUILT_IN - {"band_energy"}:
        assert f"\n{name}: " in "\n" + out
    assert "band_energy@LO-HI: expected in dB; default tolerance 1 dB" in out
    assert "loudness: expected in LUFS; default tolerance 0.5 LU" in out


def test_a_registered_kind_is_parsed_evaluated_and_reported(tmp_path):
    """A new kind needs only its TargetKind: --target reads its unit, check runs it."""
    def dc_offset(t, ctx):
        x, _ = ctx.read(t.start_s, t.end_s)
        return within(t, [float(x.mean())], {"channels": int(x.shape[0])})

    register(TargetKind("dc_offset_test", unit="number", tolerance=0.01, min_window_s=0.1,
                        evaluate=dc_offset, doc="mean sample value over the window"))
    try:
        path = tmp_path / "dc.wav"
        sf.write(path, np.full((8000, 2), 0.25), 8000, subtype="FLOAT")
        rep = check_file(path, targets=[parse_target_arg("dc_offset_test:0-1:0.25")])
        r = rep.results[0]
        assert rep.passed and r.measured == pytest.approx(0.25, abs=1e-6)
        assert r.target.tolerance == 0.01  # the kind's default
        assert r.rule == "measured within 0.250 +- 0.010"
        bad = check_file(path, targets=[parse_target_arg("dc_offset_test:0-1:0.2:0.01")])
        assert not bad.passed and bad.results[0].measured == pytest.approx(0.25, abs=1e-6)
    finally:
        del TARGET_KINDS["dc_offset_test"]


def test_unknown_kind_and_bad_values_name_what_is_allowed():
    with pytest.raises(CheckInputError, match="did you mean 'am_rate'"):
        parse_target_arg("am_rat:0-10:6Hz")
    with pytest.raises(CheckInputError, match="expected value of a am_rate target"):
        parse_target_arg("am_rate:0-10:fast")
    with pytest.raises(CheckInputError, match="tolerance of a binaural_beat target"):
        parse_target_arg("binaural_beat:0-10:6Hz:-0.1")
    with pytest.raises(CheckInputError, match="band_energy needs a band"):
        parse_target_arg("band_energy:0-10:-20")
    with pytest.raises(CheckInputError, match="takes no band"):
        parse_target_arg("am_rate@100-200:0-10:6")
    t = parse_target_arg("binaural_beat:0-10:-8 Hz")
    assert t.expected == -8.0 and t.tolerance == 0.05
    assert parse_target_arg("loudness:0-10:-20 LUFS:0.5 LU").tolerance == 0.5
    assert parse_target_arg("breath_rate:0-60:6/min").expected == 6.0
    assert parse_target_arg("loudness_trend:0-end:falling").expected == "falling"


def test_a_kind_says_what_it_reads_of_a_layer_plan():
    # targets.py holds no kind switches: what a kind reads of a layer's plan is registered
    # beside its evaluator
    from resonator.check.kinds import TARGET_KINDS, TargetKind, register

    reads = {k.name: k.reads for k in TARGET_KINDS.values() if k.reads}
    assert reads == {"binaural_beat": "tones", "binaural_carrier": "tones",
                     "bell_pitch": "tones", "am_rate": "envelope", "am_depth": "envelope",
                     "gated_depth": "envelope", "gamma_share": "envelope",
                     "splatter": "envelope"}
    assert {k.name for k in TARGET_KINDS.values() if k.hints} == \
        {"breath_rate", "lr_correlation", "gated_depth", "noise_slope", "splatter"}
    assert [k.name for k in TARGET_KINDS.values() if not k.scales_tolerance] == \
        ["centroid_trend"]
    with pytest.raises(ValueError, match="reads must be"):
        register(TargetKind("bogus", unit="hz", tolerance=1.0, min_window_s=1.0,
                            evaluate=None, doc="", reads="spectrum"))
    assert "bogus" not in TARGET_KINDS
