"""``resonator studio``: design recipes in the browser.

A local web application: the recipe's TOML in an editor with resonator's own diagnostics at
their lines (refreshed as you type), the timeline drawn from the plan (phases, temperature, one
lane per layer with its parameters over time), render and check with the results drawn on the
timeline, and live audio from any point.

>>> from resonator.studio import Studio
>>> with Studio("recipes") as studio:        # doctest: +SKIP
...     print(studio.url)                     # open it in a browser

Modules: :mod:`.app` (:class:`Studio`: folder, socket, token, server), :mod:`.server` (the
ASGI application and its security), :mod:`.workspace` (confined paths, exact saves,
copy-on-write), :mod:`.diagnostics` (:func:`diagnose`), :mod:`.actions` (render, check),
:mod:`.jobs` (work on threads). The page itself is in ``static/``.
"""
from .app import Studio, workspace_for
from .diagnostics import diagnose, load_text
from .workspace import Workspace, user_recipes_dir

__all__ = ["Studio", "Workspace", "diagnose", "load_text", "user_recipes_dir", "workspace_for"]
