"""Ctrl-C during `fit`, at its old path: it lives in `kerasette.utils.interrupts`.

The guard moved low, so that the optimizers and the savers, which use
`CriticalSection`, no longer import the training package (which imports
them). This module keeps `from kerasette.training.interrupts import
StepGuard` working.
"""

from kerasette.utils.interrupts import CriticalSection, StepGuard

__all__ = ["CriticalSection", "StepGuard"]
