"""Measurement primitives: what a render really contains.

Submodules are imported on demand so ``import resonator.measure`` stays cheap.
"""
