"""The shipped recipes: package data found by name, `resonator recipes list/show/copy`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from resonator import shipped
from resonator.cli import main
from resonator.errors import RecipeError

REPO_RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def test_the_package_folder_is_the_repositorys_recipes():
    assert shipped.recipes_dir() == REPO_RECIPES.resolve()
    assert shipped.names() == sorted(p.stem for p in REPO_RECIPES.glob("*.toml"))
    assert "mettannealing" in shipped.names()


def test_list(capsys):
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == shipped.names()
    focus = next(ln for ln in lines if ln.startswith("focus "))
    assert focus.split(None, 1)[1] == ("Focus 16 Hz: Pink noise modulated at 16 Hz (beta) after "
                                       "a three-minute settle at 10 Hz")
    hot = next(ln for ln in lines if ln.startswith("mettannealing-hot "))
    assert hot.endswith("(a variant of mettannealing)")


def test_show_prints_the_file_exactly(capsys):
    assert main(["recipes", "show", "focus"]) == 0
    assert capsys.readouterr().out == (REPO_RECIPES / "focus.toml").read_text()


@pytest.mark.parametrize("args", [["recipes", "show", "focuss"], ["recipes", "copy", "fokus"]])
def test_unknown_names(capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "did you mean 'focus'? shipped: focus, gamma-40," in err
    assert err.count("\n") == 1


def test_copy_with_what_it_extends(tmp_path, capsys):
    assert main(["recipes", "copy", "mettannealing-hot", str(tmp_path / "mine.toml")]) == 0
    assert sorted(os.listdir(tmp_path)) == ["mettannealing.toml", "mine.toml"]
    assert (tmp_path / "mine.toml").read_bytes() == (REPO_RECIPES / "mettannealing-hot.toml"
                                                     ).read_bytes()
    assert (tmp_path / "mettannealing.toml").read_bytes() == (REPO_RECIPES / "mettannealing.toml"
                                                              ).read_bytes()
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path / 'mine.toml'} (with {tmp_path / 'mettannealing.toml'})")
    # a second variant beside it: the parent already there (the same) is left as it is
    assert main(["recipes", "copy", "mettannealing-preload", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["mettannealing-preload.toml", "mettannealing.toml",
                                            "mine.toml"]
    # a changed file is not overwritten without --force
    (tmp_path / "mettannealing.toml").write_text("# mine now\n")
    assert main(["recipes", "copy", "mettannealing-hot", str(tmp_path / "b.toml")]) == 2
    assert "copy " + str(tmp_path / "mettannealing.toml") + ": exists already; pass --force" in \
        capsys.readouterr().err
    assert not (tmp_path / "b.toml").exists()  # nothing copied before every target was checked
    assert main(["recipes", "copy", "mettannealing-hot", str(tmp_path / "b.toml"), "--force"]) == 0
    assert (tmp_path / "mettannealing.toml").read_bytes() == (REPO_RECIPES / "mettannealing.toml"
                                                              ).read_bytes()


def test_copy_into_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["recipes", "copy", "focus"]) == 0
    assert os.listdir(tmp_path) == ["focus.toml"]


def test_a_shipped_recipe_by_name(tmp_path, monkeypatch):
    from resonator.loading import load

    monkeypatch.chdir(tmp_path)
    assert load("focus").path == REPO_RECIPES.resolve() / "focus.toml"
    assert load("focus.toml").title == "Focus 16 Hz"
    (tmp_path / "focus.toml").write_text((REPO_RECIPES / "focus.toml").read_text()
                                         .replace('title = "Focus 16 Hz"', 'title = "mine"'))
    assert load("focus.toml").title == "mine"  # a file of that name wins
    assert load("focus").title == "Focus 16 Hz"  # "focus" is no file here
    with pytest.raises(RecipeError, match="no such recipe file, and no shipped recipe of that "
                                          "name; did you mean 'gamma-40'"):
        load("gamma-4")
    with pytest.raises(RecipeError, match="no such recipe file"):
        load("sub/focus.toml")  # a path with a folder is never looked up


def test_render_and_plan_take_a_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "theta-pulse"]) == 0
    assert capsys.readouterr().out.startswith("Theta pulse  (25:00")
    assert main(["render", "theta-pulse", "--start", "5m", "--duration", "1s", "--rate", "16000",
                 "--no-normalize", "-q"]) == 0
    import soundfile as sf

    assert sf.info("renders/theta-pulse_5m00s-5m01s.wav").frames == 16000
