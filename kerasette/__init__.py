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

__version__ = "0.1.0"

from kerasette import (  # noqa: E402 - the version comes first for setup.cfg
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    regularizers,
    saving,
    utils,
)
from kerasette.autodiff import GradientTape, Tensor, Variable  # noqa: E402
from kerasette.layers import Input  # noqa: E402
from kerasette.models import Model, Sequential  # noqa: E402

__all__ = [
    "GradientTape",
    "Input",
    "Model",
    "Sequential",
    "Tensor",
    "Variable",
    "__version__",
    "activations",
    "backend",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]
