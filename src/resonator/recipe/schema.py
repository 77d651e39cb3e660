"""A JSON Schema (draft 2020-12) of the recipe format, for editors (taplo, Even Better TOML).

Every registered layer kind contributes a branch with its own parameters, so editors complete
and check ``kind`` and each kind's keys.
"""
from __future__ import annotations

from .model import LAYER_COMMON, PHASE_KEYS, SESSION_KEYS, TARGET_KEYS, layer_kinds
from .temperature import SCHEDULE_OPTION_KEYS
from ..session.schedules import BIND_MAPPINGS, SCHEDULES
from ..graph.curves import SHAPES
from .values import NUMERIC_UNITS

SCHEMA_ID = "https://resonator.invalid/schema/recipe.json"

_UNIT_EXAMPLE = {"hz": "6 Hz", "db": "-18 dB", "s": "90s", "per_min": "6/min",
                 "amp": "-12 dB", "fraction": 0.5, "number": 1.0}


def _scalar(unit: str) -> dict:
    ex = _UNIT_EXAMPLE.get(unit, 1)
    return {"anyOf": [{"type": "number"}, {"type": "string"}], "examples": [ex]}


def value_schema(unit: str, doc: str = "", automatable: bool = True) -> dict:
    """Schema of a numeric parameter value in one of its four forms."""
    scalar = _scalar(unit)
    if not automatable:
        return dict(scalar, description=doc)
    time = {"anyOf": [{"type": "number"}, {"type": "string"}]}
    return {
        "description": doc + " (constant, per phase {phase = value, glide}, curve {points}, or "
                             "{temperature = \"lo..hi\"})",
        "anyOf": [
            scalar,
            {"type": "object", "required": ["temperature"], "additionalProperties": False,
             "properties": {
                 "temperature": {"anyOf": [{"type": "string"},
                                           {"type": "array", "minItems": 2, "maxItems": 2}],
                                 "description": "value when cold..value when hot"},
                 "mapping": {"enum": list(BIND_MAPPINGS)}}},
            {"type": "object", "required": ["points"], "additionalProperties": False,
             "properties": {
                 "points": {"type": "array", "items": {"type": "array", "minItems": 2,
                                                       "maxItems": 3}},
                 "shape": {"type": "string", "examples": list(SHAPES)}}},
            {"type": "object", "description": "value per phase name",
             "properties": {"glide": time, "shape": {"type": "string"}, "default": scalar},
             "additionalProperties": scalar},
        ],
    }


def _param_schema(info) -> dict:
    if info.unit in NUMERIC_UNITS:
        s = value_schema(info.unit, info.doc, info.automatable)
    elif info.unit == "choice":
        s = {"enum": list(info.choices or ()), "description": info.doc}
    elif info.unit in ("text", "path"):
        s = {"type": "string", "description": info.doc}
    elif info.unit == "bool":
        s = {"type": "boolean", "description": info.doc}
    elif info.unit == "int":
        s = {"type": "integer", "description": info.doc}
    elif info.unit == "list":
        s = {"type": "array", "description": info.doc}
    else:
        s = {"description": info.doc}
    if info.default is not None:
        s["default"] = info.default
    return s


def recipe_schema() -> dict:
    """The JSON Schema of recipe files, including every registered layer kind."""
    time = {"anyOf": [{"type": "number"}, {"type": "string"}]}
    common = {
        "name": {"type": "string", "description": LAYER_COMMON["name"]},
        "enabled": {"type": "boolean", "description": LAYER_COMMON["enabled"]},
        "gain": value_schema("db", LAYER_COMMON["gain"]),
        "pan": value_schema("number", LAYER_COMMON["pan"]),
        "fade_in": dict(time, description=LAYER_COMMON["fade_in"]),
        "fade_out": dict(time, description=LAYER_COMMON["fade_out"]),
        "glide": dict(time, description=LAYER_COMMON["glide"]),
        "phases": {"type": "array", "items": {"type": "string"},
                   "description": LAYER_COMMON["phases"]},
        "description": {"type": "string"},
    }
    kinds = layer_kinds()
    branches = []
    for name, kind in sorted(kinds.items()):
        props = dict(common)
        props["kind"] = {"const": name, "description": kind.doc}
        for pname, info in kind.params.items():
            props[pname] = _param_schema(info)
        required = ["name", "kind"] + [p for p, i in kind.params.items() if i.default is None]
        branches.append({"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                         "then": {"properties": props, "required": required,
                                  "additionalProperties": False}})
    layer = {"type": "object", "required": ["name"],
             "properties": dict(common, kind={"enum": sorted(kinds),
                                              "description": LAYER_COMMON["kind"]}),
             "allOf": branches}
    temp_table = {"type": "object", "additionalProperties": False, "properties": {
        "to": {"type": "number", "minimum": 0, "maximum": 1},
        "schedule": {"enum": list(SCHEDULES) + ["hold"]},
        "time": time, "delay": time,
        **{k: ({"type": "string"} if k == "spacing" else time) for k in SCHEDULE_OPTION_KEYS}}}
    phase = {"type": "object", "required": ["name"], "additionalProperties": False,
             "properties": {
                 "name": {"type": "string"},
                 "duration": dict(time, description=PHASE_KEYS["duration"]),
                 "temperature": {"description": PHASE_KEYS["temperature"], "anyOf": [
                     {"const": "hold"}, {"type": "number", "minimum": 0, "maximum": 1},
                     temp_table]},
                 "description": {"type": "string"},
                 "before": {"type": "string"}, "after": {"type": "string"},
                 "remove": {"type": "boolean"}}}
    target = {"type": "object", "required": ["kind"], "additionalProperties": False,
              "properties": {k: {"description": d} for k, d in TARGET_KEYS.items()}}
    props = {k: {"description": d} for k, d in SESSION_KEYS.items()}
    props.update({
        "title": {"type": "string", "description": SESSION_KEYS["title"]},
        "description": {"type": "string"},
        "extends": {"type": "string", "description": SESSION_KEYS["extends"]},
        "sample_rate": {"type": "integer", "minimum": 8000, "maximum": 384000, "default": 48000},
        "seed": {"type": "integer", "minimum": 0, "default": 0},
        "loudness": dict(time, default="-20 LUFS", description=SESSION_KEYS["loudness"]),
        "true_peak": dict(time, default="-1 dBTP", description=SESSION_KEYS["true_peak"]),
        "fade_in": dict(time, default="10s"), "fade_out": dict(time, default="30s"),
        "glide": dict(time, default="20s"), "max_duration": dict(time, default="12h"),
        "temperature": {"type": "object", "additionalProperties": False, "properties": {
            "start": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
            "schedule": {"enum": list(SCHEDULES), "default": "linear"}}},
        "phase": {"type": "array", "items": phase},
        "layer": {"type": "array", "items": layer},
        "target": {"type": "array", "items": target},
    })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "resonator recipe",
        "description": "A resonator session recipe (TOML).",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }
