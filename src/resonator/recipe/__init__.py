"""Recipes: the TOML session format, validation, ``extends``, the session graph, plans.

>>> from resonator.recipe import load_recipe, build_session, render_recipe, plan
>>> recipe = load_recipe("recipes/mettannealing.toml")      # doctest: +SKIP
>>> session = build_session(recipe)                           # doctest: +SKIP
>>> render_recipe(recipe, "out.wav", start="10m", duration="30s")  # doctest: +SKIP

Modules: :mod:`.loader` (TOML, key locations, extends), :mod:`.model` (validation),
:mod:`.values` (parameter value forms), :mod:`.temperature`, :mod:`.session`
(:func:`build_session`), :mod:`.render`, :mod:`.plan`, :mod:`.schema`.
"""
from .model import LayerSpec, PhaseSpec, Recipe, TargetSpec, layer_kinds, load_recipe
from .plan import format_plan, plan
from .plan_plot import plot_plan
from .render import render_recipe
from .schema import recipe_schema
from .session import Session, build_session

__all__ = ["LayerSpec", "PhaseSpec", "Recipe", "Session", "TargetSpec", "build_session",
           "format_plan", "layer_kinds", "load_recipe", "plan", "plot_plan", "recipe_schema",
           "render_recipe"]
