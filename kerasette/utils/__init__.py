"""Utilities: seeding, batch datasets, naming."""

from kerasette.utils.random import set_random_seed
from kerasette.utils.sequence import PyDataset, Sequence

__all__ = ["PyDataset", "Sequence", "set_random_seed"]
