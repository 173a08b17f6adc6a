"""Fashion-MNIST (Zalando's clothing images), as `keras.datasets.fashion_mnist`."""

from __future__ import annotations

import gzip
import os

import numpy as np

from kerasette.datasets import _cache

__all__ = ["load_data"]

ORIGIN = _cache.KERAS_ORIGIN
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
# The sha256 of each file, as Keras's own loader (keras/src/datasets/
# fashion_mnist.py) states them; the same as Zalando's published files.
FILE_HASHES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# IDX element types: the third byte of the magic number.
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_exactly(f, n: int, path) -> bytearray:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            raise ValueError(f"{path}: truncated IDX file (expected {n} more bytes, got {got})")
        got += k
    return buf


def read_idx(path) -> np.ndarray:
    """Reads an IDX file (the MNIST format), gzip-compressed or not.

    The header is the magic number `0x00 0x00 <type> <ndim>` and `ndim`
    big-endian uint32 sizes; the data follow in C order. The whole file is
    checked: a wrong magic number, a short file or trailing bytes raise
    `ValueError`.

    Args:
        path: the file, `.gz` or plain (detected from its first bytes).

    Returns:
        A writable NumPy array of the stored shape; uint8 for MNIST-style
        files, other IDX types in native byte order.

    Example:
        >>> import gzip, struct
        >>> with gzip.open("labels.gz", "wb") as f:
        ...     _ = f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([7, 2, 1]))
        >>> read_idx("labels.gz")
        array([7, 2, 1], dtype=uint8)
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as f:
            magic = bytes(_read_exactly(f, 4, path))
            if magic[0] or magic[1] or magic[2] not in _IDX_TYPES or not 1 <= magic[3] <= 8:
                raise ValueError(f"{path}: not an IDX file (magic bytes {magic.hex()})")
            shape = tuple(int(d) for d in np.frombuffer(_read_exactly(f, 4 * magic[3], path), ">u4"))
            dtype = np.dtype(_IDX_TYPES[magic[2]])
            data = _read_exactly(f, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, path)
            if f.read(1):
                raise ValueError(f"{path}: IDX file has bytes after its {shape} data")
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: unreadable IDX file ({' '.join(str(error).split())})") from None
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def load_data():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test clothing images.

    The four IDX files (`train-labels-idx1-ubyte.gz`,
    `train-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`,
    `t10k-images-idx3-ubyte.gz`) are looked for in
    `$KERASETTE_HOME/datasets/fashion-mnist/` (default
    `~/.kerasette/datasets/fashion-mnist/`) and downloaded there from Keras's
    public copies when missing, each verified by the sha256 that Keras's
    loader states.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat,
    5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot (`CLASS_NAMES`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 NumPy arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)` and `(10000,)`.

    Raises:
        DatasetUnavailableError: (an `OSError`) a file is neither cached nor
            downloadable; the message says where to put the files.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
        ```

    License: the copyright for Fashion-MNIST is held by Zalando SE;
    Fashion-MNIST is licensed under the MIT license.
    """
    folder = os.path.dirname(_cache.cache_path("x", CACHE_SUBDIR))
    how_to = (f"Download {', '.join(FILE_HASHES)} from {ORIGIN} into {folder}{os.sep}")
    paths = [
        _cache.fetch("Fashion-MNIST", fname, ORIGIN + fname, file_hash,
                     cache_subdir=CACHE_SUBDIR, how_to=how_to)
        for fname, file_hash in FILE_HASHES.items()
    ]
    y_train, x_train, y_test, x_test = (read_idx(p) for p in paths)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"Fashion-MNIST {split} files disagree: images {x.shape}, "
                             f"labels {y.shape}")
    return (x_train, y_train), (x_test, y_test)
