"""`keras.utils.np_utils`: tf.keras 2's old module of `to_categorical` and
`normalize` (`from keras.utils.np_utils import to_categorical`).

Example:
    >>> from kerasette.utils.np_utils import to_categorical
    >>> to_categorical([0, 2], num_classes=3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from kerasette.utils.numerical import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
