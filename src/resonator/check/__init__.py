"""Verification: measure a render against its recipe's written and implied targets.

>>> from resonator.check import check_file, format_table
>>> report = check_file("renders/mettannealing.wav")           # doctest: +SKIP
>>> print(format_table(report)); report.passed                   # doctest: +SKIP

Modules: :mod:`.targets` (one Target model for written, layer-implied and session-implied
targets, window renders), :mod:`.scan` (one streaming pass: loudness, true peak, clicks,
spectra), :mod:`.kinds` (the registry of target kinds, each registered beside its evaluator
with its unit, default tolerance and method),
:mod:`.runner` (:func:`check_file`), :mod:`.report` (table, JSON), :mod:`.plot` (the picture).

JSON written by ``resonator check --json FILE``::

    {
      "passed": true,                 # nothing failed and something passed
      "file": "renders/x.wav",
      "recipe": "recipes/x.toml",     # or null (--target only)
      "offset_s": 0.0,                # session second of the file's first sample
      "duration_s": 2400.0,
      "results": [
        {
          "kind": "binaural_beat",    # see resonator.check.kinds (resonator check --kinds)
          "name": "metta-beat",       # [[target]] name or null
          "window": {"start_s": 690.0, "end_s": 1410.0,   # file seconds
                     "phase": "metta", "session_start_s": 690.0, "session_end_s": 1410.0},
          "expected": 6.2,            # number, or "falling"/"rising" for trends
          "measured": 6.1987,         # null when nothing could be measured
          "tolerance": 0.2,
          "unit": "Hz",
          "rule": "every window within 6.200 +- 0.200 Hz",   # the pass rule as applied
          "passed": true,             # null when inconclusive
          "status": "pass",           # pass | fail | inconclusive
          "layer": "beat",            # or null
          "source": "recipe",         # recipe | layer | session | cli
          "detail": {...}             # method-specific: sub-windows, rho, errors
        }
      ],
      "skipped": [{"kind": ..., "window": {...}, "layer": ..., "reason": "..."}],
      "lints": [{"code": "schedule-collapse", "message": "...", "file": "recipes/x.toml",
                 "line": 16, "path": ["phase", "descent", "temperature"],
                 "place": "phase \"descent\" > temperature"}]   # resonator.recipe.lints
    }

Exit codes of ``resonator check``: 0 all passed, 1 any failed, 2 bad input.
"""
from .plot import plot_report
from .report import format_table, write_json
from .runner import CheckReport, CheckResult, check_file
from .targets import CheckInputError, Target, parse_target_arg

__all__ = ["CheckInputError", "CheckReport", "CheckResult", "Target", "check_file",
           "format_table", "parse_target_arg", "plot_report", "write_json"]
