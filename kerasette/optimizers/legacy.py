"""`keras.optimizers.legacy`: tf.keras 2.11+'s home of the pre-2.11 optimizers.

Scripts written for TF 2.11+ on Apple silicon, or that kept the old
behaviour, import `tf.keras.optimizers.legacy.Adam`. kerasette has one
implementation of each optimizer, so these are the same classes as
`kerasette.optimizers.Adam` and friends (their formulas are the ones both
generations share). `lr=` is accepted as an alias of `learning_rate`; a
non-zero `decay=` is refused with the schedule that does the same.

Example:
    >>> from kerasette.optimizers import legacy
    >>> legacy.Adam(lr=0.01).get_config()["learning_rate"]
    0.01
"""

from kerasette.optimizers.adadelta import Adadelta
from kerasette.optimizers.adagrad import Adagrad
from kerasette.optimizers.adam import Adam
from kerasette.optimizers.adamax import Adamax
from kerasette.optimizers.base import Optimizer
from kerasette.optimizers.nadam import Nadam
from kerasette.optimizers.rmsprop import RMSprop
from kerasette.optimizers.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "Nadam", "Optimizer", "RMSprop"]
