"""`to_categorical` and `normalize`: tf.keras 2's NumPy helpers.

Both work on the host and return NumPy arrays, as in tf.keras 2; a
`kerasette.Tensor` is read back to the host first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["normalize", "to_categorical"]


def _host(x):
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def to_categorical(y, num_classes=None, dtype="float32"):
    """Converts integer class labels to one-hot rows.

    Args:
        y: array-like of class labels, integers from 0 to `num_classes - 1`
            (integral floats such as `2.0` are accepted). A trailing axis of
            size 1, as in labels of shape `(n, 1)`, is dropped first.
        num_classes: the number of classes; None means `max(y) + 1`.
        dtype: the dtype of the result.

    Returns:
        An array of shape `y.shape + (num_classes,)` (after dropping a
        trailing 1), with a 1 at each label's index and 0 elsewhere.

    Raises:
        ValueError: a label is negative, not an integer, or not below
            `num_classes` (tf.keras 2 would wrap negative labels round to
            the last classes silently).

    Example:
        >>> to_categorical([0, 1, 2, 3], num_classes=4)
        array([[1., 0., 0., 0.],
               [0., 1., 0., 0.],
               [0., 0., 1., 0.],
               [0., 0., 0., 1.]], dtype=float32)
        >>> to_categorical(np.array([[2], [0]])).shape
        (2, 3)
    """
    y = _host(y)
    numeric = y.dtype == bool or np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
    if y.size and not numeric:
        raise ValueError(f"to_categorical expects integer class labels. Received: dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating) and y.size:
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(
                "to_categorical expects integer class labels. Received a non-integer "
                f"label: {y[bad].flat[0]!r}"
            )
    input_shape = y.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    labels = y.reshape(-1).astype(np.int64)
    if not num_classes:
        if labels.size == 0:
            raise ValueError("to_categorical needs `num_classes` when `y` is empty.")
        num_classes = int(labels.max()) + 1
    num_classes = int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(
            f"to_categorical expects labels from 0 to num_classes - 1 = {num_classes - 1}. "
            f"Received: label {int(bad)}"
        )
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales vectors to unit Lp norm along an axis; zero vectors stay zero.

    tf.keras 2's `x / norm(x, order, axis)`, where a zero norm is replaced by
    1 so that all-zero vectors come back unchanged rather than as NaN.

    Args:
        x: array-like.
        axis: the axis along which to normalise.
        order: the norm's order (2 for Euclidean, 1 for Manhattan, `np.inf`).

    Returns:
        A NumPy array of `x`'s shape (a 1-D `x` stays 1-D, as in Keras 3;
        tf.keras 2 returned shape `(1, n)`); float32 input stays float32.

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]], dtype="float32"))
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        >>> normalize([[1.0, 3.0]], order=1)
        array([[0.25, 0.75]])
    """
    x = _host(x)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
