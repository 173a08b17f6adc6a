"""Utilities: seeding and, later, data helpers."""

from kerasette.utils.random import set_random_seed

__all__ = ["set_random_seed"]
