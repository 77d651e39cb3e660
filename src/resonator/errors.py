"""Errors meant for people.

Every failure caused by user input (a recipe, a file, a parameter) raises a subclass of
:class:`ResonatorError`. The command line prints its message on one line and exits with code 2,
without a traceback. Library callers can catch it like any exception.
"""
from __future__ import annotations


class ResonatorError(Exception):
    """Base class: a problem a person can fix, described in one message.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    where : str, optional
        The file and the place in it (for example ``recipes/x.toml:12: phase "cool" > layer
        "beat" > beat``). Prefixed to the message when given.
    """

    exit_code = 2

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class GraphError(ResonatorError):
    """A signal graph that cannot render: channel mismatch, frequency above Nyquist, bad values."""


class RecipeError(ResonatorError):
    """A recipe that is malformed or asks for something impossible."""


class AudioFileError(ResonatorError):
    """An audio file that cannot be read or written."""


class KernelsUnavailable(ResonatorError):
    """The compiled kernels are missing, or older than ``_kernels.c`` beside them (an editable
    install that was not rebuilt after an update): one line asking to rebuild, exit 2. Raised
    by :mod:`resonator.kernels` on import; it ends a whole run (not one file of many)."""


class OutputExistsError(ResonatorError):
    """The output file exists and overwriting was not allowed."""
