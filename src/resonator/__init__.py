"""resonator: render entrainment session soundtracks and verify them.

Importing this package is cheap: it never imports librosa or matplotlib.
"""
__version__ = "0.1.0"
