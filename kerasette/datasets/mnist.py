"""MNIST handwritten digits, as `keras.datasets.mnist`."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np

from kerasette.datasets import _cache
from kerasette.utils.file_utils import hash_file

__all__ = ["load_data"]

ORIGIN = _cache.KERAS_ORIGIN + "mnist.npz"
# The sha256 of the file Keras downloads (as Keras's loader states); a
# download must have it.
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# Cached copies are accepted with any of these file hashes (Keras's, and a
# copy re-zipped with other timestamps) ...
KNOWN_FILE_HASHES = frozenset({
    FILE_HASH,
    "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
})
# ... or, whatever the zip around them, when each array's raw bytes match.
ARRAY_HASHES = {
    "x_train": ((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}


def _read(path: str):
    """(arrays, None) for a good file, (None, why) for a bad one."""
    try:
        digest = hash_file(path, "sha256")
        # allow_pickle=False: loading data never runs code from the file.
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in ARRAY_HASHES}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        return None, f"not a readable mnist.npz: {' '.join(str(error).split())}"
    if digest in KNOWN_FILE_HASHES:
        return arrays, None
    for key, (shape, expected) in ARRAY_HASHES.items():
        a = arrays[key]
        if a.dtype != np.uint8 or a.shape != shape:
            return None, f"{key} is {a.dtype} {a.shape}, expected uint8 {shape}"
        if hashlib.sha256(np.ascontiguousarray(a).data).hexdigest() != expected:
            return None, f"the sha256 of {key} does not match"
    return arrays, None


def load_data(path="mnist.npz"):
    """Loads the MNIST data set: 60,000 training and 10,000 test digits.

    The file is looked for in `$KERASETTE_HOME/datasets/` (default
    `~/.kerasette/datasets/`) and downloaded there from Keras's public copy
    (`https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz`)
    when missing, with a progress bar, verified by its sha256. A cached file
    is accepted when its sha256 is a known one or when each array's bytes
    match the published MNIST arrays, so any faithful `mnist.npz` works.

    Args:
        path: the file's name in the cache folder (an absolute path is used
            as it is).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 NumPy arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)` and `(10000,)`;
        pixels from 0 to 255, labels from 0 to 9.

    Raises:
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train.shape  # (60000, 28, 28)
        ```

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a
    derivative of NIST's data, made available under the terms of the
    Creative Commons Attribution-Share Alike 3.0 license.
    """
    loaded = {}

    def check(candidate):
        arrays, why = _read(candidate)
        if arrays is not None:
            loaded[candidate] = arrays
        return why

    fpath = _cache.fetch("MNIST", path, ORIGIN, FILE_HASH, check=check)
    arrays = loaded.get(fpath)
    if arrays is None:  # just downloaded (and verified by its file hash)
        arrays, why = _read(fpath)
        if arrays is None:
            raise ValueError(f"MNIST: the downloaded {fpath} is unreadable ({why})")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
