"""CIFAR-10 small colour images in 10 classes, as `keras.datasets.cifar10`."""

from __future__ import annotations

import numpy as np

from kerasette.datasets import _cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# The sha256 that Keras's loader states for the archive. Its batches are
# pickles, so no other file is ever read (see `_cifar`).
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
# The name Keras gives its cached copy in ~/.keras/datasets/ (one can be copied over).
FNAME = "cifar-10-batches-py.tar.gz"
_FOLDER = "cifar-10-batches-py/"
_TRAIN = tuple(f"{_FOLDER}data_batch_{i}" for i in range(1, 6))
_TEST = _FOLDER + "test_batch"


def load_data(cache_dir=None):
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 colour images.

    The classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog,
    6 frog, 7 horse, 8 ship, 9 truck. The result is tf.keras 2's: the five
    training batches in order, then the test batch, channels last.

    The archive is looked for as `$KERASETTE_HOME/datasets/cifar-10-batches-py.tar.gz`
    (default `~/.kerasette/datasets/`, or `<cache_dir>/datasets/`; the name
    of Keras's own cached copy) and downloaded there from the CIFAR homepage
    (`https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz`, 163 MB) when
    missing, with a progress bar. Its batches are Python pickles, and
    unpickling a file can run code, so kerasette reads only the archive
    whose sha256 is the one Keras states, and even then lets its pickles
    build nothing but NumPy arrays and plain containers. Nothing is
    extracted to disk.

    Args:
        cache_dir: a folder used instead of `$KERASETTE_HOME` (the file is
            then `<cache_dir>/datasets/cifar-10-batches-py.tar.gz`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 NumPy arrays of shapes
        `(50000, 32, 32, 3)`, `(50000, 1)`, `(10000, 32, 32, 3)` and
        `(10000, 1)`; pixels from 0 to 255, labels from 0 to 9.

    Raises:
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        x_train.shape, y_train.shape  # (50000, 32, 32, 3), (50000, 1)
        ```

    The data: Alex Krizhevsky, "Learning Multiple Layers of Features from
    Tiny Images" (2009), https://www.cs.toronto.edu/~kriz/cifar.html.
    """
    batches = _cifar.read_batches("CIFAR-10", FNAME, ORIGIN, FILE_HASH, _TRAIN + (_TEST,),
                                  "labels", cache_dir=cache_dir)
    train, (x_test, y_test) = batches[:-1], batches[-1]
    # uint8 labels (tf.keras fills a uint8 array with them, and casts the test ones).
    y_train = np.concatenate([y for _, y in train]).astype(np.uint8).reshape(-1, 1)
    y_test = y_test.astype(np.uint8).reshape(-1, 1)
    x_train = _cifar.to_images([x for x, _ in train])
    return (x_train, y_train), (_cifar.to_images([x_test]), y_test)
