"""Plotting layer: the companion's style, deterministic figure files and reusable drawings.

May import ``ddlib.core``, ``ddlib.models`` and ``ddlib.metrics`` (for types); never a study.
"""
