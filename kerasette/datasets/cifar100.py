"""CIFAR-100 small colour images in 100 classes, as `keras.datasets.cifar100`."""

from __future__ import annotations

import numpy as np

from kerasette.datasets import _cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
# The sha256 that Keras's loader states for the archive. Its batches are
# pickles, so no other file is ever read (see `_cifar`).
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
# The name Keras gives its cached copy in ~/.keras/datasets/ (one can be copied over).
FNAME = "cifar-100-python.tar.gz"
_FOLDER = "cifar-100-python/"


def load_data(label_mode="fine", cache_dir=None):
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 colour images.

    Each image has a fine label (100 classes) and a coarse one (the 20
    superclasses that group them). The result is tf.keras 2's, channels last.

    The archive is looked for as `$KERASETTE_HOME/datasets/cifar-100-python.tar.gz`
    (default `~/.kerasette/datasets/`, or `<cache_dir>/datasets/`; the name
    of Keras's own cached copy) and downloaded there from the CIFAR homepage
    (`https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz`, 161 MB) when
    missing, with a progress bar. Its batches are Python pickles, so
    kerasette reads only the archive whose sha256 is the one Keras states,
    and even then lets its pickles build nothing but NumPy arrays and plain
    containers. Nothing is extracted to disk.

    Args:
        label_mode: `"fine"` (0 to 99) or `"coarse"` (0 to 19).
        cache_dir: a folder used instead of `$KERASETTE_HOME` (the file is
            then `<cache_dir>/datasets/cifar-100-python.tar.gz`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` uint8 arrays of shapes
        `(50000, 32, 32, 3)` and `(10000, 32, 32, 3)`; `y_*` int64 arrays of
        shapes `(50000, 1)` and `(10000, 1)` (tf.keras 2 returns the labels
        as NumPy makes them from the file's list, int64, though its
        docstring says uint8).

    Raises:
        ValueError: `label_mode` is neither "fine" nor "coarse" (before any
            download).
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.

    Example:
        ```python
        (x_train, y_train), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
        int(y_train.max())  # 19
        ```

    The data: Alex Krizhevsky, "Learning Multiple Layers of Features from
    Tiny Images" (2009), https://www.cs.toronto.edu/~kriz/cifar.html.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode!r}.")
    (x_train, y_train), (x_test, y_test) = _cifar.read_batches(
        "CIFAR-100", FNAME, ORIGIN, FILE_HASH, (_FOLDER + "train", _FOLDER + "test"),
        label_mode + "_labels", cache_dir=cache_dir)
    return ((_cifar.to_images([x_train]), y_train.astype(np.int64).reshape(-1, 1)),
            (_cifar.to_images([x_test]), y_test.astype(np.int64).reshape(-1, 1)))
