"""The command line's error frame: one line and a defined exit code for every way a run ends."""
from __future__ import annotations

import subprocess
import sys

import pytest

from resonator import cli
from resonator.cli import main


def test_usage_errors_are_one_line_naming_the_option(capsys):
    assert main(["render", "x.toml", "--rate", "abc"]) == 2
    err = capsys.readouterr().err
    assert err == ("resonator render: error: argument --rate: \"abc\" is not a sample rate: a "
                   "whole number of Hz from 8000 to 384000 (usually 44100 or 48000) (see "
                   "'resonator render --help')\n")


def test_unknown_option_and_command(capsys):
    assert main(["render", "x.toml", "--frobnicate"]) == 2
    assert main(["rendr"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("resonator render: error: unrecognized arguments: --frobnicate (see "
                      "'resonator render --help')")
    assert err[1].startswith("resonator: error: argument COMMAND: invalid choice: 'rendr'")
    assert len(err) == 2


def test_a_mistyped_option_names_the_command_and_the_closest_option(capsys):
    assert main(["render", "x.toml", "--strat", "1m"]) == 2
    assert main(["check", "x.wav", "--jsn", "a.json"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["resonator render: error: unrecognized arguments: --strat 1m; did you mean "
                   "'--start'? (see 'resonator render --help')",
                   "resonator check: error: unrecognized arguments: --jsn a.json; did you mean "
                   "'--json'? (see 'resonator check --help')"]


def test_help_and_version_return_0(capsys):
    assert main(["--version"]) == 0
    assert main(["plan", "--help"]) == 0
    assert "usage: resonator plan" in capsys.readouterr().out


def test_a_bug_is_one_line_exit_70_and_the_traceback_on_request(monkeypatch, capsys):
    import resonator.commands.schema as schema

    def boom(args):
        raise ZeroDivisionError("x")
    monkeypatch.setattr(cli, "build_parser", _parser_with(schema, boom))
    assert main(["schema"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert err.startswith("resonator schema: internal error (ZeroDivisionError: x); this is a bug")
    assert err.count("\n") == 1
    monkeypatch.setenv("RESONATOR_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["schema"])


def _parser_with(mod, run):
    real = cli.build_parser

    def build():
        p = real()
        sub = next(a for a in p._actions if a.dest == "command")
        sub.choices[mod.NAME].set_defaults(_run=run)
        return p
    return build


@pytest.mark.parametrize("args", [["schema"], ["render", "--help"], ["check", "--kinds"],
                                  ["recipes"], ["recipes", "show", "focus"]])
def test_output_into_a_closed_pipe_is_quiet(args):
    """``resonator check --kinds | head -1``: the reader chose to stop; exit 0, nothing said
    (it was 141, which a shell with ``pipefail`` reports as a failure)."""
    p = subprocess.Popen([sys.executable, "-m", "resonator.cli", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0  # (argparse itself ignores a failed help print)
    assert err == ""


def test_signal_handlers_are_restored_after_main(capsys):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    main(["--version"])
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_demo_takes_options_not_file_names(tmp_path, monkeypatch, capsys):
    """``python -m resonator.demo --help`` once rendered 86 MB into a file named --help."""
    from resonator import demo

    monkeypatch.chdir(tmp_path)
    assert demo.main(["--help"]) == 0
    assert "usage: python -m resonator.demo" in capsys.readouterr().out
    assert demo.main(["missing/x.wav"]) == 2
    assert demo.main(["x.mp4"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("python -m resonator.demo: error: OUT missing/x.wav: the folder "
                             "missing does not exist")
    assert err[1].startswith("python -m resonator.demo: error: OUT x.mp4: ")
    assert len(err) == 2
    assert list(tmp_path.iterdir()) == []


def test_render_speed_is_never_printed_as_0x():
    from resonator.commands.render import _speed

    assert [_speed(x) for x in (123.4, 10.0, 3.46, 0.0213)] == ["123x", "10x", "3.5x", "0.021x"]


@pytest.mark.parametrize("code, says", [(28, "no space left on the device"),
                                        (122, "the disk quota is exhausted"),
                                        (30, "the file system is read-only")])
def test_a_refused_write_is_a_user_error_not_a_bug(capsys, code, says):
    """A full disk, a quota or a read-only file system while writing: one line saying so and
    what to do, exit 2 (not "internal error ... this is a bug", exit 70); any other OSError
    stays a bug report."""
    import errno
    import os

    assert (errno.ENOSPC, errno.EDQUOT, errno.EROFS) == (28, 122, 30)  # (Linux numbers)

    def full():
        raise OSError(code, os.strerror(code))
    assert cli.framed("resonator render", full) == 2
    assert capsys.readouterr().err == (f"resonator render: error: {says} while writing; free "
                                       "some space or write elsewhere (-o) and run again; no "
                                       "partial file was left\n")

    def named():
        raise OSError(code, os.strerror(code), "out/x.wav")
    assert cli.framed("resonator render", named) == 2
    assert capsys.readouterr().err.startswith(f"resonator render: error: out/x.wav: {says} ")

    def other():
        raise OSError(errno.EIO, "Input/output error")
    assert cli.framed("resonator render", other) == cli.EXIT_BUG
    assert "internal error (OSError" in capsys.readouterr().err
