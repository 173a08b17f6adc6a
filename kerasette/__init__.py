"""kerasette: the Keras of the courses, on NumPy (CPU) or CuPy (GPU).

Change one import and a tf.keras Sequential script runs:

    >>> import kerasette as keras
    >>> model = keras.Sequential([
    ...     keras.layers.Dense(2, activation="sigmoid", input_shape=(2,)),
    ...     keras.layers.Dense(1, activation="sigmoid"),
    ... ])
    >>> model.count_params()
    9

and so does a graph of layers (the functional API):

    >>> inputs = keras.Input(shape=(2,))
    >>> outputs = keras.layers.Dense(1, activation="sigmoid")(inputs)
    >>> keras.Model(inputs, outputs).count_params()
    3
"""

__version__ = "0.1.0"

from kerasette import (  # noqa: E402 - the version comes first for setup.cfg
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
)
from kerasette.autodiff import GradientTape, Tensor, Variable  # noqa: E402
from kerasette.layers import Input  # noqa: E402
from kerasette.layers.node import KerasTensor  # noqa: E402
from kerasette.models import Model, Sequential  # noqa: E402


# Loaded on first use (PEP 562). `keras.wrappers` (tf.keras 2's
# `keras.wrappers.scikit_learn`) imports scikit-learn, which `import
# kerasette` must neither need nor pay for (it is not in `__all__`, so a
# star import does not load it either); `keras.applications` builds its
# networks' definitions at import, 70 ms that most scripts never use.
_LAZY = ("applications", "wrappers")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"kerasette.{name}")
    raise AttributeError(f"module 'kerasette' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "GradientTape",
    "Input",
    "KerasTensor",
    "Model",
    "Sequential",
    "Tensor",
    "Variable",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "constraints",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "regularizers",
    "saving",
    "utils",
]
