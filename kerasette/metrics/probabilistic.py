"""The probabilistic and hinge metrics: cross-entropies, Kullback-Leibler
divergence, Poisson, hinge losses (functions from `kerasette.losses`, and
their running-mean classes).
"""

from __future__ import annotations

from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import _losses
from kerasette.metrics.base import MeanMetricWrapper, _FloatMeanMetric


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                        axis=-1) -> Tensor:
    """Per-sample binary cross-entropy; `kerasette.losses.binary_crossentropy`.

    Args:
        y_true: 0/1 labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: squeezes the labels towards 0.5.
        axis: the axis averaged over.

    Returns:
        A tensor of per-sample losses.
    """
    return _losses().binary_crossentropy(y_true, y_pred, from_logits=from_logits,
                                         label_smoothing=label_smoothing, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1) -> Tensor:
    """Per-sample categorical cross-entropy; `kerasette.losses.categorical_crossentropy`.

    Args:
        y_true: one-hot labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: mixes the labels with the uniform distribution.
        axis: the class axis.

    Returns:
        A tensor of per-sample losses.
    """
    return _losses().categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                              label_smoothing=label_smoothing, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None) -> Tensor:
    """Per-sample sparse categorical cross-entropy;
    `kerasette.losses.sparse_categorical_crossentropy`.

    Args:
        y_true: integer labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        axis: the class axis.
        ignore_class: a label whose samples count as zero loss.

    Returns:
        A tensor of per-sample losses.
    """
    kwargs = {"from_logits": from_logits, "axis": axis}
    if ignore_class is not None:
        kwargs["ignore_class"] = ignore_class
    return _losses().sparse_categorical_crossentropy(y_true, y_pred, **kwargs)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0,
                              axis=-1) -> Tensor:
    """Per-sample binary focal cross-entropy;
    `kerasette.losses.binary_focal_crossentropy`."""
    return _losses().binary_focal_crossentropy(
        y_true, y_pred, apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
        from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1) -> Tensor:
    """Per-sample categorical focal cross-entropy;
    `kerasette.losses.categorical_focal_crossentropy`."""
    return _losses().categorical_focal_crossentropy(
        y_true, y_pred, alpha=alpha, gamma=gamma, from_logits=from_logits,
        label_smoothing=label_smoothing, axis=axis)


def hinge(y_true, y_pred) -> Tensor:
    """Per-sample hinge loss; `kerasette.losses.hinge`.

    Example:
        >>> round(float(hinge([[0.0, 1.0]], [[0.6, 0.4]])[0]), 4)
        1.1
    """
    return _losses().hinge(y_true, y_pred)


def squared_hinge(y_true, y_pred) -> Tensor:
    """Per-sample squared hinge loss; `kerasette.losses.squared_hinge`."""
    return _losses().squared_hinge(y_true, y_pred)


def _categorical_hinge(y_true, y_pred) -> Tensor:
    return _losses().categorical_hinge(y_true, y_pred)


def kl_divergence(y_true, y_pred) -> Tensor:
    """Per-sample Kullback-Leibler divergence; `kerasette.losses.kl_divergence`."""
    return _losses().kl_divergence(y_true, y_pred)


def poisson(y_true, y_pred) -> Tensor:
    """Per-sample Poisson loss; `kerasette.losses.poisson`."""
    return _losses().poisson(y_true, y_pred)


kld = KLD = kullback_leibler_divergence = kl_divergence


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of the binary cross-entropy (`kerasette.losses`).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        label_smoothing: squeezes the labels towards 0.5.
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the categorical cross-entropy (`kerasette.losses`).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        label_smoothing: mixes the labels with the uniform distribution.
        axis: the class axis.
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the sparse categorical cross-entropy (`kerasette.losses`).

    With `ignore_class`, the samples of that label are left out of the mean
    altogether: they add nothing to the total and their weights nothing to
    the count. That is tf.keras 2's metric (its `apply_valid_mask`), with or
    without `sample_weight`; Keras 3's metric divides by every sample in the
    unweighted case, a smaller number: kerasette follows tf.keras 2.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        ignore_class: a label whose samples are left out of the mean.
        axis: the class axis.

    Example:
        >>> m = SparseCategoricalCrossentropy(ignore_class=0)
        >>> m.update_state([0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        ...                sample_weight=[0.5, 1.5, 2.0])
        >>> round(float(m.result()), 4)
        1.3377
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis)

    def _values_and_mask(self, y_true, y_pred):
        if self._fn_kwargs.get("ignore_class") is None:
            return super()._values_and_mask(y_true, y_pred)
        kw = self._fn_kwargs
        return _losses()._sparse_categorical_crossentropy(
            y_true, y_pred, kw["from_logits"], kw["axis"], kw["ignore_class"])


class Hinge(_FloatMeanMetric):
    """The running mean of the hinge loss (labels -1/1, or 0/1 mapped to them).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Hinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.3
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(_FloatMeanMetric):
    """The running mean of the squared hinge loss.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SquaredHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.86
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(_FloatMeanMetric):
    """The running mean of the categorical hinge loss.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = CategoricalHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.4
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_categorical_hinge, name=name, dtype=dtype)


class KLDivergence(_FloatMeanMetric):
    """The running mean of the Kullback-Leibler divergence (see `kl_divergence`).

    Args:
        name: the metric's name (tf.keras 2's default is
            `"kullback_leibler_divergence"`).
        dtype: dtype of the state and the result.

    Example:
        >>> m = KLDivergence()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        0.4581
    """

    def __init__(self, name="kullback_leibler_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(_FloatMeanMetric):
    """The running mean of the Poisson loss `y_pred - y_true * log(y_pred)`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Poisson()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)
