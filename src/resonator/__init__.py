"""resonator: render entrainment session soundtracks and verify them.

Importing this package is cheap: it never imports librosa or matplotlib.
"""
__version__ = "0.1.0"


def __getattr__(name):
    # resonator.play(recipe_or_session, start_s=..., device=...) -> Player, imported on use
    if name == "play":
        from .playback import play

        return play
    raise AttributeError(f"module 'resonator' has no attribute {name!r}")
