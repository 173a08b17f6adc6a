"""`FBetaScore` and `F1Score`: per-class counts of true and false
positives and false negatives, scored as tf.keras 2 does.
"""

from __future__ import annotations

import numbers

from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import _device, _divide_no_nan, _result_tensor, _xp
from kerasette.metrics.base import Metric


_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """The F-beta score per class, or averaged (tf.keras 2's `FBetaScore`).

    `(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`,
    from true positives, false positives and false negatives counted per
    class (the last axis of `(batch, classes)` data) over every batch. A
    prediction counts as positive above `threshold`, or, with
    `threshold=None`, where it is the largest of its row (and not 0).

    Args:
        average: `None` (one score per class), `"micro"` (one score from
            the counts of all classes), `"macro"` (the mean of the class
            scores) or `"weighted"` (their mean weighted by each class's
            count of true labels).
        beta: the weight of recall (> 0).
        threshold: in (0, 1], or `None` for the arg-max rule.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in m.result().numpy().tolist()]
        [0.3846, 0.9091, 0.8333]
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
            raise ValueError(f"{owner}: invalid `beta` argument value. It should be a number "
                             f"> 0. Received: beta={beta!r}")
        if threshold is not None and (isinstance(threshold, bool)
                                      or not isinstance(threshold, numbers.Real)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{owner}: invalid `threshold` argument value. It should verify "
                             f"0 < threshold <= 1. Received: threshold={threshold!r}")
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self._axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_weight(name, shape=shape))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the counts of one batch.

        Args:
            y_true: 0/1 labels, shape `(batch, classes)`.
            y_pred: scores of the same shape.
            sample_weight: `None`, or one weight per sample, `(batch,)`.
        """
        xp = _xp()
        yt = _device(y_true, self._np_dtype)
        yp = _device(y_pred, self._np_dtype)
        if not self._built:
            self._build(yt.shape, yp.shape)
        if tuple(yt.shape) != tuple(yp.shape) or yp.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects y_true and y_pred of the same 2D "
                             f"shape. Received {tuple(yt.shape)} and {tuple(yp.shape)}.")
        if self.threshold is None:
            top = xp.max(yp, axis=-1, keepdims=True)
            pred = ((yp >= top) & (xp.abs(yp) > 1e-9)).astype(self._np_dtype)
        else:
            pred = (yp > self.threshold).astype(self._np_dtype)
        w = None
        if sample_weight is not None:
            w = _device(sample_weight, self._np_dtype).reshape(-1, 1)

        def total(values):
            return xp.sum(values if w is None else values * w, axis=self._axis)

        xp.add(self.true_positives.data, total(pred * yt), out=self.true_positives.data)
        xp.add(self.false_positives.data, total(pred * (1.0 - yt)),
               out=self.false_positives.data)
        xp.add(self.false_negatives.data, total((1.0 - pred) * yt),
               out=self.false_negatives.data)
        xp.add(self.intermediate_weights.data, total(yt), out=self.intermediate_weights.data)

    def result(self) -> Tensor:
        xp = _xp()
        if not self._built:
            return _result_tensor(xp.zeros((), dtype=self._np_dtype))
        tp = self.true_positives.data
        precision = _divide_no_nan(tp, tp + self.false_positives.data)
        recall = _divide_no_nan(tp, tp + self.false_negatives.data)
        b2 = self.beta * self.beta
        score = _divide_no_nan(precision * recall, b2 * precision + recall) * (1.0 + b2)
        if self.average == "weighted":
            support = self.intermediate_weights.data
            score = xp.sum(score * _divide_no_nan(support, xp.sum(support)))
        elif self.average is not None:
            score = xp.mean(score)
        return _result_tensor(score.astype(self._np_dtype, copy=False))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta,
                       "threshold": self.threshold})
        return config


class F1Score(FBetaScore):
    """The F1 score (`FBetaScore` with `beta=1`): the harmonic mean of
    precision and recall, per class or averaged.

    Args:
        average: `None`, `"micro"`, `"macro"` or `"weighted"` (see
            `FBetaScore`).
        threshold: in (0, 1], or `None` for the arg-max rule.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in m.result().numpy().tolist()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
