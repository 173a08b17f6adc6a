"""Boston housing prices (regression), as `keras.datasets.boston_housing`."""

from __future__ import annotations

import io
import numbers
import zipfile

import numpy as np

from kerasette.datasets import _cache, _ragged

__all__ = ["load_data"]

ORIGIN = _cache.KERAS_ORIGIN + "boston_housing.npz"
# The sha256 that Keras's loader states for the file.
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def _check_args(test_split, seed):
    if not isinstance(test_split, numbers.Real) or isinstance(test_split, bool) \
            or not 0 <= test_split < 1:
        raise ValueError("Argument `test_split` must be a fraction in [0, 1). "
                         f"Received: test_split={test_split!r}")
    try:
        return np.random.RandomState(seed)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Argument `seed` must be None or an integer in [0, 2**32). "
                         f"Received: seed={seed!r} ({error})") from None


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, cache_dir=None):
    """Loads the Boston housing data set: 506 districts, 13 attributes each.

    **Warning** (as Keras says): the data include a variable "B" that may
    appear to assume that racial self-segregation influences house prices;
    use this data set only to illustrate ethical issues in data science.

    The targets are the median values of owner-occupied homes, in k$
    (mostly between 10 and 50). The split is tf.keras 2's: the samples are
    shuffled by `np.random.RandomState(seed)`, then the first
    `int(506 * (1 - test_split))` are for training (404 with the defaults).

    The file is looked for in `$KERASETTE_HOME/datasets/` (default
    `~/.kerasette/datasets/`, or `<cache_dir>/datasets/`) and downloaded there
    from Keras's public copy
    (`https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz`)
    when missing, with a progress bar, verified by its sha256.

    Args:
        path: the file's name in the cache folder (an absolute path is used
            as it is).
        test_split: the fraction held out for testing, in [0, 1).
        seed: the seed of the shuffle before the split.
        cache_dir: a folder used instead of `$KERASETTE_HOME`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float64 NumPy arrays (as
        Keras returns them; cast to float32 for training if you like) of
        shapes `(404, 13)`, `(404,)`, `(102, 13)` and `(102,)` with the
        defaults.

    Raises:
        ValueError: `test_split` outside [0, 1) or a bad `seed` (before any
            download).
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
        x_train.shape, x_test.shape  # (404, 13), (102, 13)
        ```

    The data: Harrison and Rubinfeld, "Hedonic prices and the demand for
    clean air" (1978), from the StatLib library of Carnegie Mellon University.
    """
    rng = _check_args(test_split, seed)
    data = _ragged.fetch_verified("Boston housing", path, ORIGIN, FILE_HASH, cache_dir)
    try:
        # Plain float arrays: allow_pickle=False (Keras's True is not needed).
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError("Boston housing: not a readable Keras data file: "
                         f"{' '.join(str(error).split())}") from None
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"Boston housing: x is {x.shape} and y {y.shape}; expected (n, 13) "
                         "and (n,)")
    indices = _ragged.shuffled_indices(rng, len(x))
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
