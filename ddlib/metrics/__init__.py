"""Metric layer: the papers' measurements, each tested against an exact or analytic answer.

May import ``ddlib.core`` and ``ddlib.models``; never a training, plotting or study module.
"""
