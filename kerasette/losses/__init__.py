"""Loss functions and loss classes with tf.keras 2's names, defaults and numerics.

Every loss exists twice, as in Keras:

* a **function** `fn(y_true, y_pred, ...)` that returns one value per sample
  (it reduces the last axis, or `axis`), such as `mean_squared_error`;
* a **class** such as `MeanSquaredError(reduction="auto", name=...)` whose
  instances are called as `loss(y_true, y_pred, sample_weight=None)` and
  return one number: the per-sample losses, weighted, then summed and divided
  by their count (`"auto"` / `"sum_over_batch_size"`), summed (`"sum"`), or
  left as they are (`"none"`).

The numbers are tf.keras 2's: probabilities are clipped to
`[1e-7, 1 - 1e-7]` in the cross-entropies, and a `y_pred` that came out of
a softmax or sigmoid is scored from the logits that made it (the stable
path tf.keras 2 takes too), so a saturated output never gives an infinite
loss. Everything is built from `kerasette.ops`, so a loss is differentiable
and runs on the active backend.

Example:
    >>> import kerasette as keras
    >>> from kerasette import losses, ops
    >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
    >>> losses.mean_squared_error(y_true, y_pred).numpy().tolist()
    [0.5, 0.5]
    >>> float(losses.MeanSquaredError()(y_true, y_pred))
    0.5
    >>> losses.get("mse") is losses.mean_squared_error
    True
"""

from kerasette.losses.base import (
    Loss,
    Reduction,
    _check_reduction,
    _compute_weighted_loss,
    _weights_like,
    _with_output_mask,
)
from kerasette.losses.classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    _match_ranks,
)
from kerasette.losses.direct import _DIRECT_FUNCTIONS, _DirectLoss, _direct_kernel
from kerasette.losses.hinge import _maybe_convert_labels, categorical_hinge, hinge, squared_hinge
from kerasette.losses.inputs import (
    _EPSILON,
    TensorLike,
    _check_axis,
    _check_axis_in,
    _check_delta,
    _check_from_logits,
    _check_ignore_class,
    _check_label_smoothing,
    _get_logits,
    _labels,
    _prediction,
    _same_shape,
    _to_tensor,
)
from kerasette.losses.probabilistic import (
    BCE,
    KLD,
    _binary_crossentropy,
    _check_alpha,
    _check_bool,
    _check_gamma,
    _normalized_probabilities,
    _sparse_categorical_crossentropy,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    sparse_categorical_crossentropy,
)
from kerasette.losses.regression import (
    _l2_normalize,
    cosine_similarity,
    huber,
    huber_loss,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
)
from kerasette.losses.serialization import (
    MAE,
    MAPE,
    MSE,
    MSLE,
    _ALIASES,
    _CLASSES,
    _CLASS_TABLE,
    _EXACT,
    _FUNCTIONS,
    _FUNCTION_NAMES,
    _FUNCTION_TABLE,
    _lookup,
    deserialize,
    get,
    logcosh,
    mae,
    mape,
    mse,
    msle,
    serialize,
)
from kerasette.utils.registry import _CUSTOM_OBJECTS, NameTable

__all__ = [
    "BCE",
    "KLD",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "Reduction",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "bce",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "huber_loss",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "log_cosh",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]

# Names outside `__all__` that other modules and the tests reach through
# `kerasette.losses` (the direct step's `_direct_kernel`, the name tables,
# the input checks): listed so that pyflakes counts their imports as used,
# and kept out of `__all__` so that `import *` gives what it gave before.
_REEXPORTED = (
    NameTable,
    TensorLike,
    _ALIASES,
    _CLASSES,
    _CLASS_TABLE,
    _CUSTOM_OBJECTS,
    _DIRECT_FUNCTIONS,
    _DirectLoss,
    _EPSILON,
    _EXACT,
    _FUNCTIONS,
    _FUNCTION_NAMES,
    _FUNCTION_TABLE,
    _binary_crossentropy,
    _check_alpha,
    _check_axis,
    _check_axis_in,
    _check_bool,
    _check_delta,
    _check_from_logits,
    _check_gamma,
    _check_ignore_class,
    _check_label_smoothing,
    _check_reduction,
    _compute_weighted_loss,
    _direct_kernel,
    _get_logits,
    _l2_normalize,
    _labels,
    _lookup,
    _match_ranks,
    _maybe_convert_labels,
    _normalized_probabilities,
    _prediction,
    _same_shape,
    _sparse_categorical_crossentropy,
    _to_tensor,
    _weights_like,
    _with_output_mask,
)
