"""Intersection-over-union metrics from a running confusion matrix: `IoU`,
`BinaryIoU`, `MeanIoU`, `OneHotIoU`, `OneHotMeanIoU`.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics import _utils
from kerasette.metrics._utils import (
    _check_int,
    _check_real,
    _device,
    _divide_no_nan,
    _result_tensor,
    _xp,
)
from kerasette.metrics.base import Metric


def _class_ids(values, num_classes, owner):
    ids = list(values) if isinstance(values, (list, tuple)) else None
    if not ids or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) or i < 0
                      for i in ids):
        raise ValueError(f"{owner} expects `target_class_ids` to be a non-empty list of "
                         f"class ids. Received: target_class_ids={values!r}")
    if max(ids) >= num_classes:
        raise ValueError(f"Target class id {max(ids)} is out of range, which is "
                         f"[0, {num_classes}).")
    return [int(i) for i in ids]


class _IoUBase(Metric):
    """A running confusion matrix of integer labels and predictions
    (tf.keras 2's `_IoUBase`): rows are the true classes, columns the
    predicted ones, each entry the weighted count of such samples.

    The matrix is a matrix product of one-hot codes, chunked: no scatter
    (CuPy's would read the largest label back to the host) and no host
    read per batch. Labels or predictions outside `[0, num_classes)` are
    left out (tf.keras 2 raises; checking needs a host read).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        self.num_classes = _check_int(num_classes, "num_classes", owner, minimum=1,
                                      allow_none=False)
        self.ignore_class = _check_int(ignore_class, "ignore_class", owner,
                                       minimum=-(2 ** 63))
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)
        self.axis = _check_int(axis, "axis", owner, minimum=-(2 ** 31), allow_none=False)
        self.total_cm = self.add_weight("total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds one batch to the confusion matrix.

        Args:
            y_true: class ids (or one-hot rows with `sparse_y_true=False`).
            y_pred: class ids (or scores with `sparse_y_pred=False`).
            sample_weight: `None`, a number, or weights of the labels' shape.
        """
        xp = _xp()
        yt = _device(y_true)
        yp = _device(y_pred)
        if not self.sparse_y_true:
            yt = xp.argmax(yt, axis=self.axis)
        if not self.sparse_y_pred:
            yp = xp.argmax(yp, axis=self.axis)
        # tf.keras 2 casts to the metric dtype, then to int (truncation).
        yt = yt.astype(self._np_dtype).reshape(-1)
        yp = yp.astype(self._np_dtype).reshape(-1)
        if yt.shape != yp.shape:
            raise ValueError(f"{self.name}: y_true and y_pred hold {yt.shape[0]} and "
                             f"{yp.shape[0]} class ids; they must match.")
        if sample_weight is None:
            w = xp.ones(yt.shape, dtype=self._np_dtype)
        else:
            w = _device(sample_weight, self._np_dtype)
            w = xp.broadcast_to(w, yt.shape) if w.ndim == 0 else w.reshape(-1)
            if w.shape != yt.shape:
                raise ValueError(f"{self.name}: sample_weight holds {w.shape[0]} values for "
                                 f"{yt.shape[0]} labels.")
        if self.ignore_class is not None:
            w = w * (yt != float(self.ignore_class)).astype(self._np_dtype)
        yt, yp = yt.astype(xp.int64), yp.astype(xp.int64)
        classes = xp.arange(self.num_classes, dtype=xp.int64)
        step = max(1, _utils._CHUNK // self.num_classes)
        for start in range(0, yt.shape[0], step):
            rows = (yt[start:start + step, None] == classes).astype(self._np_dtype)
            cols = (yp[start:start + step, None] == classes).astype(self._np_dtype)
            cols *= w[start:start + step, None]
            xp.add(self.total_cm.data, xp.matmul(rows.T, cols), out=self.total_cm.data)

    def _iou(self, target_class_ids) -> Tensor:
        xp = _xp()
        cm = self.total_cm.data
        predicted = xp.sum(cm, axis=0)
        actual = xp.sum(cm, axis=1)
        tp = xp.diagonal(cm)
        denominator = predicted + actual - tp
        if target_class_ids is not None:
            index = _backend.get_backend().asarray(np.asarray(target_class_ids, np.int64))
            tp, denominator = xp.take(tp, index), xp.take(denominator, index)
        valid = xp.sum((denominator != 0).astype(self._np_dtype))
        iou = _divide_no_nan(tp, denominator)
        return _result_tensor(_divide_no_nan(xp.sum(iou), valid))


class IoU(_IoUBase):
    """Intersection-over-union of chosen classes, averaged (tf.keras 2's `IoU`).

    For each class, `tp / (tp + fp + fn)` from a running confusion matrix;
    the result is the mean over `target_class_ids` of the classes that
    occur (in labels or predictions).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over (one id: that
            class's IoU).
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out (e.g. a "void" id).
        sparse_y_true: whether labels are class ids (else one-hot rows,
            reduced with arg-max over `axis`).
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis of dense labels or predictions.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        self.target_class_ids = _class_ids(target_class_ids, self.num_classes,
                                           type(self).__name__)

    def result(self) -> Tensor:
        return self._iou(self.target_class_ids)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "target_class_ids": self.target_class_ids,
                       "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                       "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return config


class BinaryIoU(IoU):
    """IoU of a binary task: predictions `>= threshold` are class 1.

    Args:
        target_class_ids: `[0, 1]` (both, averaged), `[0]` or `[1]`.
        threshold: predictions at or above it count as class 1.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = _check_real(threshold, "threshold", "BinaryIoU")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds one batch (0/1 labels, scores thresholded at `threshold`)."""
        yp = _device(y_pred, self._np_dtype)
        super().update_state(y_true, (yp >= self.threshold).astype(self._np_dtype),
                             sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes (those that occur).

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_true: whether labels are class ids.
        sparse_y_pred: whether predictions are class ids.
        axis: the class axis of dense labels or predictions.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        n = _check_int(num_classes, "num_classes", type(self).__name__, minimum=1,
                       allow_none=False)
        super().__init__(n, list(range(n)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and scores as predictions by default).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis.

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1],
        ...                 [0.1, 0.4, 0.5]])
        >>> round(float(m.result()), 6)
        0.166667
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and scores as predictions by default).

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis.

    Example:
        >>> m = OneHotMeanIoU(num_classes=3)
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1],
        ...                 [0.1, 0.4, 0.5]])
        >>> round(float(m.result()), 6)
        0.111111
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
