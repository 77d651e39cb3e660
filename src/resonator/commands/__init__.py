"""Subcommands of the ``resonator`` command line.

Each module here defines ``NAME``, ``HELP`` (one line), ``EXAMPLE`` (one real command line),
``configure(parser)`` and ``run(args) -> int``. Modules import nothing heavy at their top
(no librosa, no matplotlib): heavy imports go inside ``run`` so ``resonator --help`` stays fast.
"""

COMMANDS = ("render", "play", "plan", "check", "analyze", "sweep", "import", "schema", "studio",
            "recipes")
