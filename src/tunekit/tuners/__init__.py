"""Tuners area: the KerasTuner tuner classes and factories, the objective
validator, Hyperband's schedule and the search summary.

Private: import public names from ``tunekit``.
"""
