"""Bad input, as a careful (or hostile) user types it: every case is one line on stderr naming
the file or option and the problem, exit 2, no traceback, and the folder exactly as it was
(nothing written, nothing changed, no temporary left).

Three tables: command lines (every command, every option that takes a value, every output),
recipe contents (``resonator plan`` on a recipe holding one mistake) and .sbg sequences
(``resonator import``). Each runs ``resonator.cli.main`` in this process, in a copy of a small
workspace."""
from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from resonator.cli import main

GOOD = """title = "t"
fade_in = "2s"
fade_out = "2s"

[[phase]]
name = "a"
duration = "20s"

[[phase]]
name = "b"
duration = "20s"

[[layer]]
name = "bed"
kind = "noise"
color = "pink"
gain = "-14 dB"

[[layer]]
name = "beat"
kind = "binaural"
carrier = "200 Hz"
beat = { a = "10 Hz", b = "6 Hz" }
gain = "-20 dB"
"""

SBG = "-SE\na: pink/10 200+10/20\nb: pink/10\n0:00 a\n0:01 b\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    import soundfile as sf

    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "r.toml").write_text(GOOD)
    (d / "x.sbg").write_text(SBG)
    (d / "notes.txt").write_text("hello\n")
    (d / "empty.toml").write_text("")
    t = np.arange(48000) / 48000
    sf.write(d / "x.wav", 0.1 * np.stack([np.sin(2 * np.pi * 205 * t),
                                          np.sin(2 * np.pi * 195 * t)], axis=1), 48000)
    (d / "x.json").write_text("{}")  # the sidecar of an earlier render: the check ignores it
    (d / "taken.wav").write_bytes(b"not touched")
    (d / "taken.json").write_text("{}")
    (d / "sub").mkdir()
    (d / "sub" / "a.txt").write_text("a")
    return d


@pytest.fixture
def work(template, tmp_path, monkeypatch):
    d = tmp_path / "w"
    shutil.copytree(template, d)
    monkeypatch.chdir(d)
    return d


def _state(root: Path) -> dict:
    """Every file and folder under ``root`` with its size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size if p.is_file() else -1, st.st_mtime_ns)
    return out


def run_bad(argv: list[str], capsys, root: Path, code: int = 2) -> str:
    """Run the command line; assert exit ``code``, one line on stderr, nothing written."""
    before = _state(root)
    outside = set(os.listdir("/tmp"))
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == code, (argv, rc, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, (argv, err)
    assert _state(root) == before, argv
    assert set(os.listdir("/tmp")) <= outside | {x for x in os.listdir("/tmp")
                                                  if not x.startswith(".")}
    return lines[0]


# ------------------------------------------------------------------------ command lines
# (command line, the message's start after "resonator CMD: error: ", a regex it must match)
R = "render r.toml"
C = "check x.wav --target binaural_beat:0-1:10Hz"
CLI = [
    # the session file
    ("render missing.toml", r"^missing\.toml: no such recipe file, and no shipped recipe"),
    ("render sub", r"^sub: is a folder, not a recipe file"),
    ("render /dev/zero", r"/dev/zero: is not a recipe file \(a device, pipe or socket\)"),
    ("render notes.txt", r"^notes\.txt:1: not valid TOML"),
    ("render empty.toml", r"^empty\.toml: .*phase"),
    ("render x.wav", r"^x\.wav: "),
    ("render ''", r"no such recipe file|not a recipe"),
    ("plan missing.toml", r"^missing\.toml: no such recipe file"),
    ("plan sub", r"^sub: is a folder"),
    ("plan /dev/zero", r"/dev/zero: is not a recipe file"),
    ("plan notes.txt", r"^notes\.txt:1: not valid TOML"),
    ("import missing.sbg", r"^missing\.sbg: no such sequence file"),
    ("import sub", r"^sub: "),
    ("import /dev/zero", r"/dev/zero: "),
    ("sweep missing.toml --vary layer.bed.gain=1dB", r"^missing\.toml: no such recipe file"),
    ("sweep x.sbg --vary layer.bed.gain=1dB", r"^x\.sbg: a sweep varies a TOML recipe"),
    ("check missing.wav", r"^missing\.wav: no such file"),
    ("check notes.txt", r"^notes\.txt: cannot read as audio"),
    ("check r.toml", r"^r\.toml: cannot read as audio"),
    ("check sub", r"^sub: "),
    ("check x.wav missing.toml", r"missing\.toml: no such recipe file"),
    ("check /dev/zero --target am_rate:0-1:6Hz", r"^/dev/zero: is a device, pipe or socket, "
                                                 r"not an audio file"),
    ("check x.wav notes.txt", r"^notes\.txt:1: not valid TOML"),
    ("check x.wav sub", r"^sub: is a folder"),
    ("check x.wav", r"^nothing to check: give a recipe"),
    ("analyze x.wav --csv x.wav", r"^--csv x\.wav: "),
    ("recipes show nope", r'^no shipped recipe is named "nope"'),
    ("recipes copy nope", r'^no shipped recipe is named "nope"'),
    ("recipes show ../../etc/passwd", r"no shipped recipe is named"),
    # --rate
    (f"{R} --rate 0", r"^argument --rate: 0 Hz is outside the allowed sample rates"),
    (f"{R} --rate 100000000", r"^argument --rate: 100000000 Hz is outside"),
    (f"{R} --rate 7999", r"^argument --rate: 7999 Hz is outside"),
    (f"{R} --rate 384001", r"^argument --rate: 384001 Hz is outside"),
    (f"{R} --rate nan", r'^argument --rate: "nan" is not a sample rate'),
    (f"{R} --rate 44.1k", r'^argument --rate: "44.1k" is not a sample rate'),
    (f"{R} --rate 44100.5", r"^argument --rate: "),
    (f"{R} --rate=-48000", r"^argument --rate: "),
    (f"{R} --rate ''", r"^argument --rate: "),
    (f"{R} --rate 1e400", r"^argument --rate: "),
    # --seed
    (f"{R} --seed=-1", r"^argument --seed: -1 is outside the allowed seeds"),
    (f"{R} --seed 99999999999999999999999", r"^argument --seed: .* is outside the allowed seeds"),
    (f"{R} --seed 9223372036854775808", r"^argument --seed: .* is outside the allowed seeds"),
    (f"{R} --seed 1.5", r"^argument --seed: "),
    (f"{R} --seed abc", r"^argument --seed: "),
    (f"{R} --seed nan", r"^argument --seed: "),
    # --start / --duration
    (f"{R} --duration 1e-9", r'^--duration: "1e-9" is shorter than one sample at 48000 Hz'),
    (f"{R} --duration 0", r'^--duration: "0" must be longer than 0 s'),
    (f"{R} --duration=-5s", r"^--duration: "),
    (f"{R} --duration nan", r'^--duration: "nan" is not a time'),
    (f"{R} --duration inf", r'^--duration: "inf" is not a finite duration'),
    (f"{R} --duration 5x", r'^--duration: "5x" is not a time'),
    (f"{R} --duration 2m", r"passes the end of the session .*shorten --duration"),
    (f"{R} --start 99h", r"^--start 99:00:00 is at or after the end of the session"),
    (f"{R} --start 40s", r"^--start 40s? is at or after the end of the session|--start"),
    (f"{R} --start=-1s", r"^--start: "),
    (f"{R} --start nan", r"^--start: "),
    (f"{R} --start 10s --duration 31s", r"passes the end of the session"),
    (f"{R} --start 1:99", r"^--start: "),
    (f"{R} --start 1e308", r'^--start: "1e308" is too long: a duration must be at most'),
    (f"{R} --duration 1e308", r'^--duration: "1e308" is too long'),  # was exit 70
    (f"{R} --start A", r'^--start: "A" is neither a time \("10m", "1:30", seconds\) nor a phase '
                       r"of r\.toml \(phases: a, b\)$"),  # phase names are exact
    (f"{R} --start b --duration 21s", r"passes the end of the session"),
    ("render r.toml r.toml --jobs 1 --start c", r'^--start: "c" is neither a time'),
    ("play r.toml --start bb", r'^--start: "bb" is neither a time .* \(phases: a, b\)$'),
    ("sweep r.toml --vary layer.bed.gain=1dB --start x", r'^--start: "x" is neither a time'),
    ("sweep r.toml --vary layer.bed.gain=1dB --duration 1e308", r'^--duration: "1e308" is too'),
    # play: options are checked before any device is looked for
    ("play r.toml --rate 5", r"^argument --rate: 5 Hz is outside the allowed sample rates"),
    ("play r.toml --rate 1e9", r'^argument --rate: "1e9" is not a sample rate'),
    ("play r.toml --seed=-1", r"^argument --seed: -1 is outside the allowed seeds"),
    ("play r.toml --start 1e308", r'^--start: "1e308" is too long'),  # was exit 70
    # formats and bits
    (f"{R} --bits 8", r"^argument --bits: invalid choice: '8'"),
    (f"{R} --format mp4", r"^argument --format: invalid choice: 'mp4'"),
    (f"{R} --format flac -o y.wav", r"^-o y\.wav: does not match --format flac"),
    (f"{R} --format wav -o y.flac", r"^-o y\.flac: does not match --format wav"),
    # render outputs
    (f"{R} -o y.mp4", r"^-o y\.mp4: the extension '\.mp4' is not supported; did you mean "
                      r"'\.mp3'\?; allowed: \.wav, \.flac, \.mp3, \.ogg, \.opus$"),
    (f"{R} -o y", r"^-o y: has no extension"),
    (f"{R} -o y.WAVE", r"^-o y\.WAVE: the extension '\.WAVE' is not supported"),
    (f"{R} -o missing/y.wav", r"^-o missing/y\.wav: the folder missing does not exist"),
    (f"{R} -o /nonexistent-folder/y.wav", r"the folder /nonexistent-folder does not exist"),
    (f"{R} -o notes.txt/y.wav", r"^-o notes\.txt/y\.wav: notes\.txt is a file, not a folder"),
    (f"{R} -o r.toml --force", r"^-o r\.toml: the extension '\.toml' is not supported"),
    (f"{R} -o sub --force", r"^-o sub: has no extension"),
    (f"{R} -o taken.wav", r"^-o taken\.wav: exists already; pass --force"),
    (f"{R} -o x.wav", r"^-o x\.wav: exists already; pass --force"),
    (f"{R} -o y/", r"^-o y/?: (is not a file name|has no extension)"),
    (f"{R} -o ''", r"is not a file name|has no extension"),
    (f"{R} --jobs 0", r"^argument --jobs/-j: must be 1 or more, got 0"),
    (f"{R} --jobs=-3", r"^argument --jobs/-j: must be 1 or more"),
    (f"{R} --jobs abc", r"^argument --jobs/-j: must be a whole number"),
    (f"{R} --cluster nonsense", r"^--cluster: cannot reach a Dask scheduler at nonsense"),
    ("render r.toml r.toml -o one.wav", r"^-o one\.wav: names one file but 2 recipes"),
    # plan
    ("plan r.toml --plot y.bmp", r"^--plot y\.bmp: the extension '\.bmp' is not supported"),
    ("plan r.toml --plot y", r"^--plot y: has no extension"),
    ("plan r.toml --plot missing/y.png", r"^--plot missing/y\.png: the folder missing does"),
    ("plan r.toml --plot r.toml", r"^--plot r\.toml: the extension '\.toml' is not supported"),
    ("plan r.toml --plot notes.txt/y.png", r"notes\.txt is a file, not a folder"),
    ("plan r.toml --plot sub.png/", r"is not a file name"),
    # check
    ("check x.wav --target bogus", r"^--target bogus: write \[session:\]KIND:START-END"),
    ("check x.wav --target binaural_beat:0:00-0:01:10Hz", r"times with units, 1m30s, not 1:30: "
                                                          r"the colon separates the fields"),
    ("check x.wav --target nokind:0-1:6Hz", r"^--target nokind:0-1:6Hz: unknown target kind "
     r"'nokind'; known kinds: binaural_beat, "),
    ("check x.wav --target binaurl_beat:0-1:6Hz", r"unknown target kind 'binaurl_beat'; did you "
     r"mean 'binaural_beat'\? known kinds: binaural_beat, "),
    ("check x.wav --target binaural_beat:0-1:6Hz:-1", r"^--target .*tolerance"),
    ("check x.wav --target binaural_beat:0-1:6Hz:nan", r"^--target .*"),
    ("check x.wav --target binaural_beat:0-1:zzz", r"^--target .*"),
    ("check x.wav --target binaural_beat:5-1:6Hz", r"^--target .*"),
    ("check x.wav --target binaural_beat:0-99:6Hz", r"^--target .*"),
    ("check x.wav --target binaural_beat:a-b:6Hz", r"^--target .*"),
    ("check x.wav --tolerance-scale=-1", r'^argument --tolerance-scale: "-1" is not allowed'),
    ("check x.wav --tolerance-scale 0", r'^argument --tolerance-scale: "0" is not allowed'),
    ("check x.wav --tolerance-scale nan", r'^argument --tolerance-scale: "nan" is not a finite'),
    ("check x.wav --tolerance-scale inf", r"^argument --tolerance-scale: "),
    (f"{C} --json y.txt", r"^--json y\.txt: the extension '\.txt' is not supported"),
    (f"{C} --json missing/y.json", r"^--json missing/y\.json: the folder missing"),
    (f"{C} --json x.wav", r"^--json x\.wav: "),
    (f"{C} --json sub", r"^--json sub: "),
    (f"{C} --plot y.bmp", r"^--plot y\.bmp: the extension '\.bmp' is not supported"),
    (f"{C} --plot missing/y.png", r"^--plot missing/y\.png: the folder missing"),
    (f"{C} --json y.json --plot y.json", r"^--plot y\.json: "),
    # analyze
    ("analyze x.wav --tempo-prior-bpm=-5", r"^--tempo-prior-bpm: -5 is outside the allowed"),
    ("analyze x.wav --tempo-prior-bpm nan", r"^--tempo-prior-bpm: nan is outside the allowed"),
    ("analyze x.wav --tempo-prior-bpm 1e9", r"^--tempo-prior-bpm: .* is outside the allowed"),
    ("analyze x.wav --tempo-prior-bpm abc", r"--tempo-prior-bpm"),
    ("analyze x.wav --jobs 0", r"^argument --jobs/-j: must be 1 or more"),
    ("analyze x.wav --json y.txt", r"^--json y\.txt: the extension '\.txt' is not supported"),
    ("analyze x.wav --json missing/y.json", r"^--json missing/y\.json: the folder missing"),
    ("analyze x.wav --csv y.txt", r"^--csv y\.txt: the extension '\.txt' is not supported"),
    ("analyze x.wav --csv missing/y.csv", r"^--csv missing/y\.csv: the folder missing"),
    ("analyze x.wav --plot y.bmp", r"^--plot y\.bmp: the extension .\.bmp. is not a picture"),
    ("analyze x.wav --plot notes.txt", r"^--plot notes\.txt: "),
    ("analyze x.wav --plot missing/y.png", r"^--plot missing/y\.png: the folder missing"),
    ("analyze x.wav --json x.wav", r"^--json x\.wav: "),
    ("analyze x.wav --json y.json --csv y.json", r"^--csv y\.json: "),
    # sweep
    ("sweep r.toml --vary nonsense", r"^--vary nonsense: needs PATH=V1,V2,\.\.\."),
    ("sweep r.toml --vary layer.bed.gain=", r"^--vary layer\.bed\.gain=: a value is empty"),
    ("sweep r.toml --vary layer.nope.gain=1dB", r"^--vary layer\.nope\.gain: the recipe has no"),
    ("sweep r.toml --vary layer.bed.gain=bogus", r'^--vary: layer\.bed\.gain=bogus makes an '
     r'invalid recipe: "bogus" is not a gain'),
    ("sweep r.toml --vary layer.bed.nothing=1", r"^--vary"),
    ("sweep r.toml --vary phase.z.duration=1m", r"^--vary"),
    ("sweep r.toml --vary layer.bed.gain=1dB --sample 0", r"^argument --sample: must be 1 or"),
    ("sweep r.toml --vary layer.bed.gain=1dB --sample-seed=-1", r"^argument --sample-seed: "),
    ("sweep r.toml --vary layer.bed.gain=1dB --rate 0", r"^argument --rate: 0 Hz is outside"),
    ("sweep r.toml --vary layer.bed.gain=1dB --seed=-1", r"^argument --seed: -1 is outside"),
    ("sweep r.toml --vary layer.bed.gain=1dB --duration 0", r'^--duration: "0" must be longer'),
    ("sweep r.toml --vary layer.bed.gain=1dB --start 99h", r"^--start: 99:00:00 is at or after"),
    ("sweep r.toml --vary layer.bed.gain=1dB --bits 12", r"^argument --bits: invalid choice"),
    ("sweep r.toml --vary layer.bed.gain=1dB -o missing/d", r"^--output missing/d: the folder "
     r"missing does not exist"),
    ("sweep r.toml --vary layer.bed.gain=1dB -o notes.txt", r"^--output notes\.txt: is a file"),
    ("sweep r.toml --vary layer.bed.gain=1dB -o notes.txt/d", r"^--output notes\.txt/d: notes\.txt"
     r" is a file"),
    # import
    ("import x.sbg -o x.sbg --force", r"^-o x\.sbg: the extension '\.sbg' is not supported"),
    ("import x.sbg -o y.txt", r"^-o y\.txt: the extension '\.txt' is not supported"),
    ("import x.sbg -o missing/y.toml", r"^-o missing/y\.toml: the folder missing does not"),
    ("import x.sbg -o r.toml", r"^-o r\.toml: exists already; pass --force"),
    ("import x.sbg -o sub.toml/", r"is not a file name|has no extension"),
    ("import x.sbg -o sub --force", r"^-o sub: "),
    ("import r.toml", r"^-o r\.toml: is also an input"),
    ("import x.sbg -o notes.txt/y.toml", r"notes\.txt is a file, not a folder"),
    # schema
    ("schema -o y.txt", r"^-o y\.txt: the extension '\.txt' is not supported; allowed: \.json"),
    ("schema -o missing/y.json", r"^-o missing/y\.json: the folder missing does not exist"),
    ("schema -o notes.txt/y.json", r"notes\.txt is a file, not a folder"),
    ("schema -o sub.json/", r"is not a file name"),
    ("schema -o taken.json", r"^-o taken\.json: exists already; pass --force"),
    ("schema -o sub --force", r"^-o sub: "),
    # recipes
    ("recipes copy focus r.toml", r"^copy r\.toml: exists already; pass --force"),
    ("recipes copy focus missing/y.toml", r"^copy missing/y\.toml: the folder missing does not"),
    ("recipes copy focus y.txt", r"^copy y\.txt/focus\.toml: the folder y\.txt does not"),
    ("recipes copy focus notes.txt/y.toml", r"notes\.txt is a file"),
    # usage errors: the command, the option, where to read more
    ("render", r"^the following arguments are required: RECIPE"),
    ("render r.toml --frobnicate", r"unrecognized arguments: --frobnicate"),
    ("render r.toml --rate", r"^argument --rate: expected one argument"),
    ("rendr r.toml", r"invalid choice: 'rendr'"),
    ("check", r"RENDER|required"),
    ("analyze", r"required"),
    ("sweep r.toml", r"^the following arguments are required: --vary"),
    ("recipes frobnicate", r"invalid choice"),
    ("plan r.toml --json --plot", r"^argument --plot: expected one argument"),
]


def _cmd(argv: list[str]) -> str:
    return argv[0] if argv and argv[0] in {"render", "plan", "check", "analyze", "sweep",
                                           "import", "schema", "recipes", "play",
                                           "studio"} else ""


@pytest.mark.parametrize("line, pattern", CLI, ids=[c[0] for c in CLI])
def test_a_bad_command_line_is_one_line_and_writes_nothing(work, capsys, line, pattern):
    argv = shlex.split(line)
    err = run_bad(argv, capsys, work)
    prefix = re.match(r"^resonator(?: [a-z]+)*: error: ", err)
    assert prefix, err
    assert re.search(pattern, err[prefix.end():]), err


# ------------------------------------------------------------------------ recipe contents
def _recipe(replace: dict | None = None, add: str = "") -> str:
    text = GOOD
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + add


TGT = '\n[[target]]\nkind = "binaural_beat"\nlayer = "beat"\nwindow = "b"\nexpected = "6 Hz"\n'
# (name, recipe text, a regex the message (after "NAME.toml") must match)
RECIPES = [
    ("syntax", _recipe(add="[[layer\n"), r"^:\d+: not valid TOML"),
    ("nested", "x = " + "[" * 5000 + "]" * 5000 + "\n", r"nest"),
    ("no-phase", "title = 't'\n", r"phase"),
    ("phase-table", "title = 't'\n[phase]\nname = 'a'\nduration = '1m'\n", r"phase"),
    ("layer-not-list", "title='t'\nlayer = 3\n[[phase]]\nname='a'\nduration='1m'\n", r"layer"),
    ("layer-string", "title='t'\nlayer = ['x']\n[[phase]]\nname='a'\nduration='1m'\n",
     r"layer"),
    ("kind-table", _recipe({'kind = "noise"': 'kind = { a = 1 }'}), r"kind"),
    ("kind-unknown", _recipe({'kind = "noise"': 'kind = "nosie"'}), r"noise"),
    ("kind-missing", _recipe({'kind = "noise"\n': ''}), r"kind"),
    ("enabled-no", _recipe({'gain = "-14 dB"': 'gain = "-14 dB"\nenabled = "no"'}),
     r'enabled must be true or false, got "no"'),
    ("unknown-key", _recipe({'color = "pink"': 'color = "pink"\ncolour = "pink"'}), r"colour"),
    ("bad-color", _recipe({'color = "pink"': 'color = "mauve"'}), r"mauve"),
    ("gain-bogus", _recipe({'gain = "-14 dB"': 'gain = "loud"'}), r"is not a gain"),
    ("gain-positive", _recipe({'gain = "-14 dB"': 'gain = "+40 dB"'}), r"gain"),
    ("gain-nan", _recipe({'gain = "-14 dB"': 'gain = nan'}), r"gain"),
    ("gain-inf", _recipe({'gain = "-14 dB"': 'gain = inf'}), r"gain"),
    ("gain-list", _recipe({'gain = "-14 dB"': 'gain = [1, 2]'}), r"gain"),
    ("gain-bool", _recipe({'gain = "-14 dB"': 'gain = true'}), r"gain"),
    ("carrier-zero", _recipe({'carrier = "200 Hz"': 'carrier = "0 Hz"'}), r"carrier"),
    ("carrier-negative", _recipe({'carrier = "200 Hz"': 'carrier = "-200 Hz"'}), r"carrier"),
    ("carrier-nyquist", _recipe({'carrier = "200 Hz"': 'carrier = "30 kHz"'}), r"Nyquist|carrier"),
    ("carrier-words", _recipe({'carrier = "200 Hz"': 'carrier = "two hundred"'}), r"carrier"),
    ("beat-unknown-phase", _recipe({'b = "6 Hz"': 'c = "6 Hz"'}), r"c"),
    ("beat-table-empty", _recipe({'beat = { a = "10 Hz", b = "6 Hz" }': 'beat = {}'}), r"beat"),
    ("beat-nan", _recipe({'b = "6 Hz"': 'b = nan'}), r"beat|nan"),
    ("duration-zero", _recipe({'duration = "20s"': 'duration = "0s"'}), r"duration"),
    ("duration-negative", _recipe({'duration = "20s"': 'duration = "-20s"'}), r"duration"),
    ("duration-words", _recipe({'duration = "20s"': 'duration = "soon"'}), r"duration|time"),
    ("duration-huge", _recipe({'duration = "20s"': 'duration = "100000h"'}), r"max_duration"),
    ("duration-number-huge", _recipe({'duration = "20s"': 'duration = 1e300'}), r"duration"),
    ("phase-dup", _recipe({'name = "b"': 'name = "a"'}), r'"a"'),
    ("layer-dup", _recipe({'name = "beat"': 'name = "bed"'}), r'"bed"'),
    ("name-empty", _recipe({'name = "beat"': 'name = ""'}), r"name"),
    ("name-nul", _recipe({'name = "beat"': 'name = "be\\u0000at"'}), r"name"),
    ("rate-zero", _recipe(add=""), None),  # replaced below
    ("sample-rate-0", _recipe({'title = "t"': 'title = "t"\nsample_rate = 0'}), r"sample_rate"),
    ("sample-rate-big", _recipe({'title = "t"': 'title = "t"\nsample_rate = 100000000'}),
     r"sample_rate"),
    ("sample-rate-float", _recipe({'title = "t"': 'title = "t"\nsample_rate = 44100.5'}),
     r"sample_rate"),
    ("seed-negative", _recipe({'title = "t"': 'title = "t"\nseed = -1'}), r"seed"),
    ("seed-huge", _recipe({'title = "t"': 'title = "t"\nseed = 9223372036854775807000'}
                          if False else {'title = "t"': 'title = "t"\nseed = "1e30"'}), r"seed"),
    ("loudness-positive", _recipe({'title = "t"': 'title = "t"\nloudness = "+5 LUFS"'}),
     r"loudness"),
    ("true-peak-words", _recipe({'title = "t"': 'title = "t"\ntrue_peak = "high"'}),
     r"true_peak"),
    ("fades-too-long", _recipe({'fade_in = "2s"': 'fade_in = "50s"'}), r"fade"),
    ("fade-negative", _recipe({'fade_in = "2s"': 'fade_in = "-2s"'}), r"fade_in"),
    ("glide-words", _recipe({'title = "t"': 'title = "t"\nglide = "slowly"'}), r"glide"),
    ("extends-missing", 'extends = "nope.toml"\n' + GOOD, r"extends"),
    ("extends-dot", 'extends = "."\n' + GOOD, r'extends = "\." names a folder'),
    ("extends-nul", 'extends = "a\\u0000b"\n' + GOOD, r"extends"),
    ("extends-long", 'extends = "' + "a" * 5000 + '.toml"\n' + GOOD, r"extends"),
    ("extends-zero", 'extends = "/dev/zero"\n' + GOOD, r"extends|/dev/zero"),
    ("extends-table", 'extends = { a = 1 }\n' + GOOD, r"extends"),
    ("extends-self", 'extends = "extends-self.toml"\n' + GOOD, r"extends"),
    ("extends-number", 'extends = 3\n' + GOOD, r"extends"),
    ("extends-wav", 'extends = "x.wav"\n' + GOOD, r"^: is not UTF-8 text"),
    ("target-kind-unknown", _recipe(add=TGT.replace("binaural_beat", "bogus_kind")),
     r"unknown target kind 'bogus_kind'"),
    ("target-expected-table", _recipe(add=TGT.replace('"6 Hz"', "{ a = 1 }")),
     r"expected value of a binaural_beat target"),
    ("target-expected-words", _recipe(add=TGT.replace('"6 Hz"', '"six"')), r"six"),
    ("target-layer-missing", _recipe(add=TGT.replace('layer = "beat"', 'layer = "nope"')),
     r"nope"),
    ("target-window-missing", _recipe(add=TGT.replace('window = "b"', 'window = "zz"')), r"zz"),
    ("target-tolerance-negative", _recipe(add=TGT + 'tolerance = "-1 Hz"\n'), r"tolerance"),
    ("target-tolerance-nan", _recipe(add=TGT + "tolerance = nan\n"), r"tolerance"),
    ("target-start-after-end", _recipe(add=TGT.replace('window = "b"',
                                                       'start = "30s"\nend = "10s"')),
     r"start|end"),
    ("curve-steep", _recipe({'gain = "-20 dB"': 'gain = { a = "-20 dB", b = "-30 dB", '
                                                'curve = "curve:1000" }'}), r"curv"),
    ("music-file-dot", _recipe(add='\n[[layer]]\nname = "m"\nkind = "music"\nfile = "."\n'),
     r"music|folder"),
    ("music-file-missing", _recipe(add='\n[[layer]]\nname = "m"\nkind = "music"\n'
                                       'file = "nope.ogg"\n'), r"nope\.ogg"),
    ("music-file-text", _recipe(add='\n[[layer]]\nname = "m"\nkind = "music"\n'
                                    'file = "notes.txt"\n'), r"notes\.txt"),
    ("phases-unknown", _recipe({'gain = "-20 dB"': 'gain = "-20 dB"\nphases = ["zz"]'}), r"zz"),
    ("phases-empty", _recipe({'gain = "-20 dB"': 'gain = "-20 dB"\nphases = []'}), r"phases"),
    ("phases-number", _recipe({'gain = "-20 dB"': 'gain = "-20 dB"\nphases = 3'}), r"phases"),
    ("temperature-words", _recipe({'duration = "20s"': 'duration = "20s"\n'
                                                       'temperature = "warm"'}), r"temperature"),
    ("temperature-out-of-range", _recipe({'duration = "20s"': 'duration = "20s"\n'
                                                              'temperature = { to = 7 }'}),
     r"temperature|to"),
    ("schedule-unknown", _recipe({'duration = "20s"': 'duration = "20s"\ntemperature = '
                                                      '{ to = 0.5, schedule = "zigzag" }'}),
     r"zigzag"),
    ("title-table", _recipe({'title = "t"': 'title = { a = 1 }'}), r"title"),
    ("top-unknown", _recipe({'title = "t"': 'title = "t"\ntempo = 3'}), r"tempo"),
    ("binary", None, r"UTF-8|TOML"),
    # bounded resources
    ("layers-129", GOOD.split("[[layer]]")[0] + "".join(
        f'[[layer]]\nname = "n{i}"\nkind = "noise"\ngain = "-60 dB"\n' for i in range(129)),
     r":\d+: layer #129: 129 \[\[layer\]\] tables; a recipe may hold at most 128$"),
    ("phases-10001", "title = 't'\n" + "".join(
        f"[[phase]]\nname='p{i}'\nduration='1s'\n" for i in range(10001)),
     r"10001 \[\[phase\]\] tables; a recipe may hold at most 10000"),
    ("name-long", _recipe({'name = "beat"': f'name = "{"b" * 101}"'}), r"at most 100 characters"),
    ("max-duration", _recipe({'duration = "20s"': 'duration = "13h"'}), r"max_duration"),
    ("big-file", "# " + "x" * (1 << 20) + "\n" + GOOD, r"larger than"),
]
RECIPES = [c for c in RECIPES if c[0] != "rate-zero"]


@pytest.mark.parametrize("name, text, pattern", RECIPES, ids=[c[0] for c in RECIPES])
def test_a_bad_recipe_is_one_line_naming_the_file_and_writes_nothing(work, capsys, name, text,
                                                                      pattern):
    path = work / f"{name}.toml"
    if text is None:
        path.write_bytes(b"title = \"\xff\xfe\"\n\x00\x01")
    else:
        path.write_text(text, encoding="utf-8")
    commands = [["plan", path.name], ["render", path.name, "-o", "y.wav"]]
    if name.startswith("music-"):  # (files are opened when the layer is built, not planned)
        commands = commands[1:]
    for command in commands:
        err = run_bad(command, capsys, work)
        head = f"resonator {command[0]}: error: " + ("x.wav" if name == "extends-wav" else
                                                      f"{name}.toml")
        assert err.startswith(head), err
        assert re.search(pattern, err[len(head):]), err


# ------------------------------------------------------------------------ .sbg sequences
SEQS = [
    ("amp-150", "a: pink/150\n0:00 a\n", r":1: tone spec \"pink/150\": amplitude 150 is above 100"),
    ("amp-negative", "a: pink/-5\n0:00 a\n", r":1: .*negative|:1: "),
    ("rate-0", "-r 0\na: pink/10\n0:00 a\n", r':1: -r "0": '),
    ("rate-huge", "-r 100000000\na: pink/10\n0:00 a\n", r':1: -r "100000000": '),
    ("no-timeline", "a: pink/10\n", r"time"),
    ("unknown-set", "a: pink/10\n0:00 b\n", r":2: .*b"),
    ("bad-time", "a: pink/10\n9x:00 a\n", r":2: "),
    ("bad-voice", "a: purple/10\n0:00 a\n", r":1: .*purple"),
    ("bad-carrier", "a: abc+10/10\n0:00 a\n", r":1: "),
    ("empty", "", r""),
    ("binary", None, r""),
    ("mix-missing", "-m nope.ogg\na: mix/50\n0:00 a\n", r"nope\.ogg"),
    ("fade-bad", "-F abc\na: pink/10\n0:00 a\n", r":1: "),
    ("length-bad", "-L zz\na: pink/10\n0:00 a\n", r":1: "),
    ("block-unclosed", "b: {\n+0:00 a\na: pink/10\n0:00 b\n", r""),
    ("wave-bad", "wave01: 1 2 x\na: wave01:200/10\n0:00 a\n", r":1: "),
]


@pytest.mark.parametrize("name, text, pattern", SEQS, ids=[c[0] for c in SEQS])
def test_a_bad_sequence_is_one_line_at_its_line_and_writes_nothing(work, capsys, name, text,
                                                                    pattern):
    path = work / f"{name}.sbg"
    if text is None:
        path.write_bytes(b"\xff\xfe\x00a: pink/10\n")
    else:
        path.write_text(text)
    err = run_bad(["import", path.name, "-o", "y.toml"], capsys, work)
    head = f"resonator import: error: {name}.sbg"
    assert err.startswith(head), err
    assert re.search(pattern, err[len(head):]), err
