"""Core layer: paths, device, progress bars, the run store, datasets, parameters and the claims table.

Imports nothing from ``ddlib.models``, ``ddlib.metrics``, ``ddlib.training``, ``ddlib.plotting`` or
``ddlib.studies`` (enforced by ``tests/test_architecture.py``).
"""
