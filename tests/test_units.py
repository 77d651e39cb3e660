"""Known-answer tests for resonator.units."""
import math

import pytest
from hypothesis import given, strategies as st

from resonator.errors import RecipeError
from resonator.units import (
    db_to_amplitude,
    format_duration,
    parse_duration,
    parse_frequency,
    parse_gain_db,
    parse_level,
    parse_loudness,
    parse_range,
    parse_rate_per_min,
    parse_ratio,
    parse_true_peak,
    suggest,
)


# ------------------------------------------------------------------------------- durations
@pytest.mark.parametrize("text, seconds", [
    (90, 90.0), (2.5, 2.5), (0, 0.0), ("90", 90.0), ("90s", 90.0), ("90 s", 90.0),
    ("90 sec", 90.0), ("10m", 600.0), ("10 min", 600.0), ("2.5min", 150.0),
    ("10 minutes", 600.0), ("1h", 3600.0), ("1 hour", 3600.0), ("1h30m", 5400.0),
    ("1h 30m 15s", 5415.0), ("2m30s", 150.0), ("1:30", 90.0), ("0:05", 5.0),
    ("1:30:00", 5400.0), ("0:00:30", 30.0), ("250ms", 0.25), ("  10 MIN ", 600.0),
    (".5s", 0.5), ("1:30.5", 90.5),
])
def test_parse_duration_known(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", [
    "1:75", "1:60:00", "1:00:60", "30m1h", "1m1m", "1h30", "abc", "", "10 parsecs", "1:2:3:4",
    None, True, [1], "s",
])
def test_parse_duration_not_a_time(bad):
    with pytest.raises(RecipeError) as e:
        parse_duration(bad, where="r.toml:3")
    assert e.value.where == "r.toml:3"
    assert "is not a time" in e.value.message
    assert '"1:30:00"' in e.value.message  # says what is allowed


def test_parse_duration_message_matches_house_example():
    with pytest.raises(RecipeError) as e:
        parse_duration("1:75")
    assert str(e.value) == (
        '"1:75" is not a time: expected seconds ("90s", "90"), minutes ("10m", "2.5min"), '
        'hours ("1h") or h:mm:ss ("1:30:00")'
    )


@pytest.mark.parametrize("bad", [-1, "-5s", "-1m", math.inf, math.nan, "inf", "-inf s",
                                 "1e308", 1e300, "300000h", 1.0000001e9])
def test_parse_duration_negative_or_non_finite(bad):
    with pytest.raises(RecipeError):
        parse_duration(bad)


def test_parse_duration_longest():
    assert parse_duration(1e9) == 1e9  # about 31 years: still a duration
    with pytest.raises(RecipeError) as e:
        parse_duration("1e308")
    assert e.value.message == ('"1e308" is too long: a duration must be at most 1e+09 s '
                               "(about 31 years)")


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_clock_and_units_agree(h, m, s):
    total = h * 3600 + m * 60 + s
    assert parse_duration(f"{h}:{m:02d}:{s:02d}") == total
    assert parse_duration(f"{h}h{m}m{s}s") == total
    assert parse_duration(f"{h * 60 + m}:{s:02d}") == total


@pytest.mark.parametrize("seconds, text", [
    (5400, "1:30:00"), (125, "2:05"), (45, "45s"), (1.5, "1.5s"), (0.25, "0.25s"), (0, "0s"),
    (60, "1:00"), (59.9996, "1:00"), (3599.6, "1:00:00"), (36000, "10:00:00"), (-90, "-1:30"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@given(st.integers(0, 360000))
def test_format_then_parse_round_trips_whole_seconds(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


# ------------------------------------------------------------------------------ frequencies
@pytest.mark.parametrize("text, hz", [
    (6, 6.0), ("6", 6.0), ("6 Hz", 6.0), ("6Hz", 6.0), ("440hz", 440.0), ("1.5 kHz", 1500.0),
    ("1.5khz", 1500.0), ("0.5 Hz", 0.5), ("0 Hz", 0.0),
])
def test_parse_frequency(text, hz):
    assert parse_frequency(text) == hz


@pytest.mark.parametrize("bad", ["6 Hertz", "six Hz", "-6 Hz", "inf Hz", math.nan, "6 s", None])
def test_parse_frequency_errors(bad):
    with pytest.raises(RecipeError) as e:
        parse_frequency(bad, where="here")
    assert e.value.where == "here"


def test_parse_frequency_message_names_allowed_units():
    with pytest.raises(RecipeError, match=r'"6 Hertz" is not a frequency: expected Hz'):
        parse_frequency("6 Hertz")


@pytest.mark.parametrize("text, per_min", [
    (6, 6.0), ("6", 6.0), ("6/min", 6.0), ("6 /min", 6.0), ("6/ min", 6.0), ("6 per min", 6.0),
    ("6 per minute", 6.0), ("6 bpm", 6.0), ("6 BPM", 6.0), ("4.5 breaths/min", 4.5),
    ("0.1 Hz", 6.0), ("0.1hz", 6.0),
])
def test_parse_rate_per_min(text, per_min):
    assert parse_rate_per_min(text) == pytest.approx(per_min, rel=1e-15)


@pytest.mark.parametrize("bad", ["6/hour", "-6/min", "fast", "inf bpm"])
def test_parse_rate_errors(bad):
    with pytest.raises(RecipeError):
        parse_rate_per_min(bad)


# ------------------------------------------------------------------------------ levels
@pytest.mark.parametrize("text, db", [
    ("-18 dB", -18.0), ("-18dB", -18.0), ("-18", -18.0), (-18, -18.0), ("+3 dB", 3.0),
    ("-inf dB", -math.inf), ("-inf", -math.inf), ("off", -math.inf), ("OFF", -math.inf),
])
def test_parse_gain_db(text, db):
    assert parse_gain_db(text) == db


@pytest.mark.parametrize("bad", ["loud", "inf dB", math.nan, "-18 LUFS"])
def test_parse_gain_db_errors(bad):
    with pytest.raises(RecipeError):
        parse_gain_db(bad)


@pytest.mark.parametrize("text, amp", [
    ("-20 dB", 0.1), ("0 dB", 1.0), ("-6.0206 dB", 0.5), ("-inf dB", 0.0), ("off", 0.0),
    (0.25, 0.25), ("0.25", 0.25), (1, 1.0), (0, 0.0), ("50%", 0.5),
])
def test_parse_level(text, amp):
    assert parse_level(text) == pytest.approx(amp, abs=1e-6)


@pytest.mark.parametrize("bad", ["-18", -18, 1.5, "3 dB", "150%", "loud", math.nan])
def test_parse_level_errors(bad):
    with pytest.raises(RecipeError, match="linear amplitude from 0 to 1"):
        parse_level(bad)


def test_db_to_amplitude():
    assert db_to_amplitude(-math.inf) == 0.0
    assert db_to_amplitude(0.0) == 1.0
    assert db_to_amplitude(-40.0) == pytest.approx(0.01, rel=1e-12)


def test_loudness_and_true_peak():
    assert parse_loudness("-20 LUFS") == -20.0
    assert parse_loudness("-23") == -23.0
    assert parse_loudness("-23 lkfs") == -23.0
    assert parse_true_peak("-1 dBTP") == -1.0
    assert parse_true_peak("-1") == -1.0
    for bad in ("-20 dB", "-inf LUFS", "quiet"):
        with pytest.raises(RecipeError):
            parse_loudness(bad)
    for bad in ("-1 LUFS", "inf"):
        with pytest.raises(RecipeError):
            parse_true_peak(bad)


# ------------------------------------------------------------------------------ ratios, ranges
@pytest.mark.parametrize("text, r", [
    ("3:2", 1.5), ("3/2", 1.5), ("1.5", 1.5), (1.5, 1.5), ("3:7", 3 / 7), (" 1 : 1 ", 1.0),
])
def test_parse_ratio(text, r):
    assert parse_ratio(text) == r


@pytest.mark.parametrize("bad", ["3:0", "0:2", "0", -1.5, "a:b", "3:2:1", math.inf])
def test_parse_ratio_errors(bad):
    with pytest.raises(RecipeError):
        parse_ratio(bad)


@pytest.mark.parametrize("text, parser, pair", [
    ("2..10 Hz", parse_frequency, (2.0, 10.0)),
    ("2 Hz..10 Hz", parse_frequency, (2.0, 10.0)),
    ("2Hz .. 1.5kHz", parse_frequency, (2.0, 1500.0)),
    ("1..2 kHz", parse_frequency, (1000.0, 2000.0)),
    ("-30..-12 dB", parse_gain_db, (-30.0, -12.0)),
    ("-inf..-12 dB", parse_gain_db, (-math.inf, -12.0)),
    ("10..2 Hz", parse_frequency, (10.0, 2.0)),  # order kept
    ("4.5..7 /min", parse_rate_per_min, (4.5, 7.0)),
    ("1:30..2:00", parse_duration, (90.0, 120.0)),
    ("30..1h30m", parse_duration, (30.0, 5400.0)),
    ([2, 10], parse_frequency, (2.0, 10.0)),
    (("2 Hz", "10 Hz"), parse_frequency, (2.0, 10.0)),
])
def test_parse_range(text, parser, pair):
    assert parse_range(text, parser) == pair


@pytest.mark.parametrize("bad", ["2-10 Hz", "2...10 Hz", "..10 Hz", "2..", [1, 2, 3], 5,
                                 "2..10..20 Hz", "2..10 parsecs"])
def test_parse_range_errors(bad):
    with pytest.raises(RecipeError) as e:
        parse_range(bad, parse_frequency, where="r.toml")
    assert e.value.where == "r.toml"


# ------------------------------------------------------------------------------ suggestions
def test_suggest():
    names = ("resonance", "coherent", "box", "4-7-8", "wim-hof")
    assert suggest("resonnance", names) == "resonance"
    assert suggest("Coherant", names) == "coherent"
    assert suggest("wimhof", names) == "wim-hof"
    assert suggest("zzzzzz", names) is None
    assert suggest("LINEAR", ["Linear", "cosine"]) == "Linear"


# ------------------------------------------------- values shared by recipe keys and the CLI
def test_shared_value_checks():
    import math

    from resonator.errors import RecipeError
    from resonator.units import (
        SEED_MAX,
        check_sample_rate,
        check_scale,
        check_seed,
        parse_frequency,
        parse_positive_duration,
        parse_tolerance,
    )

    assert check_sample_rate("44100") == 44100 and check_sample_rate(8000) == 8000
    assert check_sample_rate(384000) == 384000
    for bad in (7999, 384001, 0, -48000, "48k", 48000.0, True, "1e5"):
        with pytest.raises(RecipeError, match="--rate: "):
            check_sample_rate(bad, where="--rate")
    with pytest.raises(RecipeError, match="is not a sample rate"):
        check_sample_rate("48000", text=False)
    assert check_seed(0) == 0 and check_seed(str(SEED_MAX)) == SEED_MAX
    for bad in (-1, SEED_MAX + 1, "1.5", 2**64, None):
        with pytest.raises(RecipeError):
            check_seed(bad)
    assert parse_positive_duration("1s", sr=8000) == 1.0
    assert parse_positive_duration(1 / 8000, sr=8000) == 1 / 8000
    for bad in ("0s", 0, "1e-9", -1):
        with pytest.raises(RecipeError):
            parse_positive_duration(bad, sr=48000)
    assert parse_tolerance("0.1 Hz", parse_frequency) == pytest.approx(0.1)
    assert parse_tolerance(0) == 0.0
    for bad in ("nan", -0.1, math.inf, "-1 Hz", "abc"):
        with pytest.raises(RecipeError, match="tolerance|not a|negative"):
            parse_tolerance(bad, parse_frequency if isinstance(bad, str) and "Hz" in bad else None)
    assert check_scale("2") == 2.0
    for bad in ("0", "-1", "nan", "inf", "x"):
        with pytest.raises(RecipeError):
            check_scale(bad)


def test_recipe_keys_use_the_same_checks(tmp_path):
    from resonator.errors import RecipeError
    from resonator.recipe import load_recipe

    base = ('[[phase]]\nname = "a"\nduration = "2s"\n[[layer]]\nname = "n"\nkind = "noise"\n')
    for line, msg in (("sample_rate = 100000000", "100000000 Hz is outside the allowed sample rates"),
                      ('sample_rate = "48000"', '"48000" is not a sample rate'),
                      ("seed = -1", "-1 is outside the allowed seeds"),
                      ("seed = true", "True is not a seed")):
        p = tmp_path / "r.toml"
        p.write_text(line + "\n" + base)
        with pytest.raises(RecipeError) as e:
            load_recipe(p)
        assert f"{p.name}:1: " in str(e.value)
        assert msg in str(e.value)
