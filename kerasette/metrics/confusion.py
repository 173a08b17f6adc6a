"""The confusion-matrix metrics: `TruePositives`, `FalsePositives`,
`TrueNegatives`, `FalseNegatives`, `Precision`, `Recall` and the
sensitivity/specificity/precision/recall trade-offs
(`SensitivityAtSpecificity`, ...).
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import (
    NEG_INF,
    _check_int,
    _divide_no_nan,
    _json_ready,
    _parse_thresholds,
    _result_tensor,
    _xp,
)
from kerasette.metrics.thresholds import _ThresholdMetric


class _ConfusionMatrixConditionCount(_ThresholdMetric):
    _key = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = _json_ready(thresholds)
        self._setup_thresholds(_parse_thresholds(thresholds, 0.5, type(self).__name__))
        self._keys = (self._key,)
        self.accumulator = self.add_weight("accumulator", shape=(len(self.thresholds),))
        setattr(self, self._var_names[self._key], self.accumulator)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the weighted count of one batch.

        Args:
            y_true: 0/1 labels (any non-zero value counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight)

    def result(self) -> Tensor:
        return self._pick(self.accumulator.data.copy())

    def get_config(self) -> dict:
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
            Predictions above a threshold count as positive.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> float(m.result())
        2.0
    """

    _key = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = FalsePositives()
        >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1])
        >>> float(m.result())
        2.0
    """

    _key = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = TrueNegatives()
        >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    _key = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = FalseNegatives()
        >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    _key = "fn"


class _PrecisionRecall(_ThresholdMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = _json_ready(thresholds)
        self.top_k = _check_int(top_k, "top_k", owner, minimum=1)
        self.class_id = _check_int(class_id, "class_id", owner, minimum=0)
        default = 0.5 if top_k is None else NEG_INF
        self._setup_thresholds(_parse_thresholds(thresholds, default, owner))
        n = len(self.thresholds)
        self.true_positives = self.add_weight("true_positives", shape=(n,))
        other = self._var_names[self._keys[1]]
        setattr(self, other, self.add_weight(other, shape=(n,)))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the true positives and the other count of one batch.

        Args:
            y_true: 0/1 labels of the shape of `y_pred` (non-zero counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def result(self) -> Tensor:
        tp = self.true_positives.data
        other = getattr(self, self._var_names[self._keys[1]]).data
        return self._pick(_divide_no_nan(tp, tp + other))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k,
                       "class_id": self.class_id})
        return config


class Precision(_PrecisionRecall):
    """`tp / (tp + fp)`: how often a predicted positive is a real one.

    Args:
        thresholds: a float or a list of floats in [0, 1] (a list gives one
            value per threshold). 0.5 by default; with `top_k`, every top-k
            prediction counts as positive.
        top_k: count only the `k` highest predictions of each sample as
            positive.
        class_id: compute the binary metric for this class only (the last
            axis of the predictions).
        name: the metric's name (`precision`, `precision_1`, ... by default).
        dtype: dtype of the state and the result.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(float(m.result()), 6)
        0.666667
        >>> m = Precision(top_k=2)
        >>> m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
        >>> float(m.result())
        0.0
    """

    _keys = ("tp", "fp")


class Recall(_PrecisionRecall):
    """`tp / (tp + fn)`: how often a real positive is predicted positive.

    Args:
        thresholds: a float or a list of floats in [0, 1] (a list gives one
            value per threshold). 0.5 by default; with `top_k`, every top-k
            prediction counts as positive.
        top_k: count only the `k` highest predictions of each sample as
            positive.
        class_id: compute the binary metric for this class only.
        name: the metric's name (`recall`, `recall_1`, ... by default).
        dtype: dtype of the state and the result.

    Example:
        >>> m = Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        >>> float(m.result())
        1.0
    """

    _keys = ("tp", "fn")


class _SensitivitySpecificityBase(_ThresholdMetric):
    """tf.keras 2's `SensitivitySpecificityBase`: the four confusion counts
    at `num_thresholds` evenly spaced thresholds from 0 to 1 (0.5 alone for
    one threshold); `result` is the best `dependent` rate among the
    thresholds whose `constrained` rate reaches `value` (0 if none does)."""

    _keys = ("tp", "tn", "fp", "fn")  # tf.keras 2's variable order
    _value_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not 0 <= value <= 1):
            raise ValueError(f"Argument `{self._value_name}` must be in the range [0, 1]. "
                             f"Received: {self._value_name}={value!r}")
        num_thresholds = _check_int(num_thresholds, "num_thresholds", owner, minimum=1,
                                    allow_none=False)
        super().__init__(name=name, dtype=dtype)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = _check_int(class_id, "class_id", owner, minimum=0)
        if num_thresholds == 1:
            self._setup_thresholds([0.5])
            self._thresholds_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._setup_thresholds([0.0] + inner + [1.0])
            self._thresholds_evenly = True
        for key in self._keys:
            setattr(self, self._var_names[key],
                    self.add_weight(self._var_names[key], shape=(num_thresholds,)))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the confusion counts of one batch at every threshold.

        Args:
            y_true: 0/1 labels (non-zero counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, tn = self.true_positives.data, self.true_negatives.data
        fp, fn = self.false_positives.data, self.false_negatives.data
        return {"sensitivity": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _max_under_constraint(self, constrained, dependent) -> Tensor:
        # On the device: no host read to find the feasible thresholds.
        xp = _xp()
        feasible = constrained >= self.value
        best = xp.max(xp.where(feasible, dependent, xp.full_like(dependent, -np.inf)))
        return _result_tensor(xp.where(xp.any(feasible), best, xp.zeros_like(best)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"class_id": self.class_id, "num_thresholds": self.num_thresholds,
                       self._value_name: self.value})
        return config


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds with specificity >= `specificity`.

    Args:
        specificity: the specificity to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only (the last
            axis of the predictions).
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(m.result())
        0.5
    """

    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.specificity = specificity

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["specificity"], r["sensitivity"])


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity among thresholds with sensitivity >= `sensitivity`.

    Args:
        sensitivity: the sensitivity (recall) to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> round(float(m.result()), 6)
        0.666667
    """

    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.sensitivity = sensitivity

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["specificity"])


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision among thresholds with recall >= `recall`.

    Args:
        recall: the recall to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(m.result())
        0.5
    """

    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)
        self.recall = recall

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["precision"])


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall among thresholds with precision >= `precision` (0 if
    no threshold reaches it).

    Args:
        precision: the precision to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        0.5
    """

    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.precision = precision

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["precision"], r["sensitivity"])
