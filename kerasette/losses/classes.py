"""Loss classes: `LossFunctionWrapper` and one class per built-in loss
function, each a wrapper of that function with its arguments checked."""

from __future__ import annotations

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.losses.base import Loss, Reduction
from kerasette.losses.hinge import categorical_hinge, hinge, squared_hinge
from kerasette.losses.inputs import (
    _check_axis,
    _check_delta,
    _check_from_logits,
    _check_ignore_class,
    _check_label_smoothing,
    _prediction,
    _to_tensor,
)
from kerasette.losses.probabilistic import (
    _check_alpha,
    _check_bool,
    _check_gamma,
    _sparse_categorical_crossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    sparse_categorical_crossentropy,
)
from kerasette.losses.regression import (
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
)


def _match_ranks(y_true, y_pred, owner: str):
    """Lines up `y_true` and `y_pred` whose ranks differ by a trailing 1.

    `(batch,)` labels against `(batch, 1)` predictions get the missing axis,
    so the loss has one value per sample (and sample weights line up), as
    in tf.keras 2's `model.fit`, which reshapes 1-D targets this way before
    the loss. (A standalone tf.keras 2 loss object squeezes `y_pred`
    instead; both give the same `"auto"` value.) `(batch, 1)` labels
    against `(batch,)` predictions lose their trailing 1, as in tf.keras 2.
    Sparse labels `(batch,)` against `(batch, classes)` are left alone.
    """
    y_pred = _prediction(y_pred, owner)
    y_true = _to_tensor(y_true, owner, "y_true")
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    elif diff == -1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    return y_true, y_pred


class LossFunctionWrapper(Loss):
    """Turns a per-sample loss function `fn(y_true, y_pred, **kwargs)` into a
    loss object.

    Args:
        fn: the loss function.
        reduction: see `Loss`.
        name: the loss's name.
        **kwargs: keyword arguments passed to `fn` on every call (and saved in
            the config).

    Example:
        >>> from kerasette import ops
        >>> loss = LossFunctionWrapper(huber, delta=0.5, name="huber_half")
        >>> float(loss(ops.convert_to_tensor([[0.0]]), ops.convert_to_tensor([[2.0]])))
        0.875
    """

    def __init__(self, fn, reduction=Reduction.AUTO, name=None, **kwargs):
        super().__init__(reduction=reduction, name=name)
        if not callable(fn):
            raise ValueError(f"LossFunctionWrapper expects a callable `fn`. Received: fn={fn!r}")
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Tensor:
        """Per-sample losses: `fn(y_true, y_pred, **kwargs)`."""
        y_true, y_pred = _match_ranks(y_true, y_pred, type(self).__name__)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            # The built-in subclasses know their function; a bare wrapper
            # must say which it wraps to be rebuilt (Keras 3 writes "fn" too).
            # Imported here: the name tables there are built from these classes.
            from kerasette.losses.serialization import serialize

            config["fn"] = serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("dtype", None)
        fn = config.pop("fn", None)
        if cls is LossFunctionWrapper:
            if fn is None:
                raise ValueError("A LossFunctionWrapper config needs 'fn', the name of the "
                                 f"wrapped function. Received: {config!r}")
            from kerasette.losses.serialization import get  # see get_config

            config["fn"] = get(fn)
        return cls(**config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors: `mean(square(y_true - y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_squared_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanSquaredError()(y_true, y_pred))
        0.5
        >>> round(float(MeanSquaredError()(y_true, y_pred, sample_weight=[0.7, 0.3])), 4)
        0.25
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: `mean(abs(y_true - y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_absolute_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanAbsoluteError(reduction="sum")(y_true, y_pred))
        1.0
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error: `100 * mean(abs((y_true - y_pred) / y_true))`
    (denominator floored at `1e-7`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_absolute_percentage_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[2.0, 1.0], [2.0, 3.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanAbsolutePercentageError()(y_true, y_pred))
        50.0
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error: `mean(square(log(y_true + 1) - log(y_pred + 1)))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_squared_logarithmic_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> round(float(MeanSquaredLogarithmicError()(y_true, y_pred)), 3)
        0.24
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 labels (see `binary_crossentropy`).

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; squeezes the labels towards 0.5.
        axis: the axis averaged over.
        reduction: see `Loss`.
        name: defaults to `"binary_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> logits = ops.convert_to_tensor([[-18.6, 0.51], [2.94, -12.8]])
        >>> round(float(BinaryCrossentropy(from_logits=True)(y_true, logits)), 3)
        0.865
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="binary_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot labels and class probabilities (see
    `categorical_crossentropy`).

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; mixes the labels with the uniform
            distribution.
        axis: the class axis.
        reduction: see `Loss`.
        name: defaults to `"categorical_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(CategoricalCrossentropy()(y_true, y_pred)), 3)
        1.177
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="categorical_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy: down-weights easy examples (see
    `binary_focal_crossentropy`).

    Args:
        apply_class_balancing: weight class 1 by `alpha`, class 0 by
            `1 - alpha`.
        alpha: the weight of class 1 with `apply_class_balancing`.
        gamma: the focusing parameter.
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; squeezes the labels towards 0.5.
        axis: the axis averaged over.
        reduction: see `Loss`.
        name: defaults to `"binary_focal_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(BinaryFocalCrossentropy(gamma=2.0)(y_true, y_pred)), 3)
        0.268
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="binary_focal_crossentropy"):
        owner = type(self).__name__
        self.apply_class_balancing = _check_bool(apply_class_balancing,
                                                 "apply_class_balancing", owner)
        self.alpha = _check_alpha(alpha, owner, allow_list=False)
        self.gamma = _check_gamma(gamma, owner)
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=self.apply_class_balancing, alpha=self.alpha,
                         gamma=self.gamma, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy: down-weights easy examples (see
    `categorical_focal_crossentropy`).

    Args:
        alpha: a weight for every class, or a list with one per class.
        gamma: the focusing parameter.
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; mixes the labels with the uniform
            distribution.
        axis: the class axis.
        reduction: see `Loss`.
        name: defaults to `"categorical_focal_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(CategoricalFocalCrossentropy()(y_true, y_pred)), 4)
        0.2332
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="categorical_focal_crossentropy"):
        owner = type(self).__name__
        self.alpha = _check_alpha(alpha, owner, allow_list=True)
        self.gamma = _check_gamma(gamma, owner)
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         alpha=self.alpha, gamma=self.gamma, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer class ids and class probabilities (see
    `sparse_categorical_crossentropy`).

    With `ignore_class`, entries with that label get a loss of 0 and, under
    `"sum_over_batch_size"`, the mean is taken over the other entries only.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_class: a class id to leave out of the loss, or `None`.
        reduction: see `Loss`.
        name: defaults to `"sparse_categorical_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([1, 2])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(SparseCategoricalCrossentropy()(y_true, y_pred)), 3)
        1.177
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction=Reduction.AUTO,
                 name="sparse_categorical_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.ignore_class = _check_ignore_class(ignore_class, owner)
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, ignore_class=self.ignore_class)

    def _call_with_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return self.call(y_true, y_pred), None
        y_true, y_pred = _match_ranks(y_true, y_pred, type(self).__name__)
        return _sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, -1,
                                                self.ignore_class)


class Hinge(LossFunctionWrapper):
    """Hinge loss `mean(maximum(1 - y_true * y_pred, 0))` for -1/1 (or 0/1) labels.

    Args:
        reduction: see `Loss`.
        name: defaults to `"hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(Hinge()(y_true, y_pred)), 4)
        1.3
    """

    def __init__(self, reduction=Reduction.AUTO, name="hinge"):
        super().__init__(hinge, reduction=reduction, name=name)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss `mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"squared_hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(SquaredHinge()(y_true, y_pred)), 4)
        1.86
    """

    def __init__(self, reduction=Reduction.AUTO, name="squared_hinge"):
        super().__init__(squared_hinge, reduction=reduction, name=name)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss `maximum(neg - pos + 1, 0)` (see `categorical_hinge`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"categorical_hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(CategoricalHinge()(y_true, y_pred)), 4)
        1.4
    """

    def __init__(self, reduction=Reduction.AUTO, name="categorical_hinge"):
        super().__init__(categorical_hinge, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"kl_divergence"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(KLDivergence()(y_true, y_pred)), 3)
        0.458
    """

    def __init__(self, reduction=Reduction.AUTO, name="kl_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class Poisson(LossFunctionWrapper):
    """Poisson loss `mean(y_pred - y_true * log(y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"poisson"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(Poisson()(y_true, y_pred)), 3)
        0.5
    """

    def __init__(self, reduction=Reduction.AUTO, name="poisson"):
        super().__init__(poisson, reduction=reduction, name=name)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error (see `log_cosh`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"log_cosh"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(LogCosh()(y_true, y_pred)), 3)
        0.108
    """

    def __init__(self, reduction=Reduction.AUTO, name="log_cosh"):
        super().__init__(log_cosh, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to `delta`, linear beyond (see `huber`).

    Args:
        delta: where the loss turns linear (positive).
        reduction: see `Loss`.
        name: defaults to `"huber_loss"` (tf.keras 2's name).

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(Huber()(y_true, y_pred)), 3)
        0.155
    """

    def __init__(self, delta=1.0, reduction=Reduction.AUTO, name="huber_loss"):
        self.delta = _check_delta(delta, type(self).__name__)
        super().__init__(huber, reduction=reduction, name=name, delta=self.delta)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (see `cosine_similarity`).

    Args:
        axis: the axis of the vectors.
        reduction: see `Loss`.
        name: defaults to `"cosine_similarity"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [1.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(CosineSimilarity(axis=1)(y_true, y_pred)), 3)
        -0.5
    """

    def __init__(self, axis=-1, reduction=Reduction.AUTO, name="cosine_similarity"):
        self.axis = _check_axis(axis, type(self).__name__)
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=self.axis)
