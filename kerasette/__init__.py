"""kerasette: the Keras of the courses, on NumPy (CPU) or CuPy (GPU).

Change one import and a tf.keras Sequential script runs:

    >>> import kerasette as keras
    >>> model = keras.Sequential([
    ...     keras.layers.Dense(2, activation="sigmoid", input_shape=(2,)),
    ...     keras.layers.Dense(1, activation="sigmoid"),
    ... ])
    >>> model.count_params()
    9
"""

from kerasette import backend, ops, utils
from kerasette.autodiff import GradientTape, Tensor, Variable

__version__ = "0.1.0"

__all__ = ["GradientTape", "Tensor", "Variable", "backend", "ops", "utils", "__version__"]
