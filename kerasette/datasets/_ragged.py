"""What IMDB and Reuters share: their ragged `.npz` files and word-index coding.

Keras stores each review (newswire) as a Python list of word ranks inside a
NumPy object array, which NumPy can only save as a pickle. Unpickling runs
whatever the file says, so kerasette reads such a file only when both hold:

1. its sha256 is Keras's published one, checked on the bytes in memory that
   are then parsed (no window for the file to change in between);
2. its pickles name nothing but `numpy.ndarray`, `numpy.dtype` and
   `multiarray._reconstruct` (the three globals an object array needs; the
   restricted unpickler of Keras 3's `npz_utils`); anything else is refused
   before it is called.

The word-index arithmetic (`encode`) is tf.keras 2's, on flat NumPy arrays
rather than Python loops; tests check it against the loops.

CIFAR's pickled batches (`_cifar`) go through the same gate:
`fetch_verified` then `unpickle_arrays`.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import pickle
import zipfile

import numpy as np

from kerasette.datasets import _cache
from kerasette.preprocessing._checks import check_int

logger = logging.getLogger("kerasette.datasets")

__all__ = ["check_load_args", "encode", "fetch_arrays", "fetch_verified", "read_ragged_npz",
           "sha256_why", "shuffled_indices", "to_object_array", "unpickle_arrays"]


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as found  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct as found
    return found


# Files written by NumPy 1 name `numpy.core`, by NumPy 2 `numpy._core`; both
# map to the function itself, not through NumPy 2's `numpy.core` shim.
_ALLOWED = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        make = _ALLOWED.get((module, name))
        if make is None:
            raise pickle.UnpicklingError(
                f"refusing to load `{module}.{name}`: a data-set file may only hold NumPy arrays")
        return make()


def _read_npy(raw: bytes):
    fp = io.BytesIO(raw)
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version in ((2, 0), (3, 0)):  # one header layout (3.0 only allows UTF-8 in it)
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"unknown .npy format version {version}")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = _ArrayUnpickler(fp).load()
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
        raise ValueError(f"an object array's pickle holds {type(array).__name__} "
                         f"{getattr(array, 'shape', '')}, not the array of shape {shape} "
                         "its header announces")
    return array


def sha256_why(data: bytes, file_hash: str) -> str | None:
    """None when `data`'s sha256 is `file_hash`, else why not (one line)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest == file_hash:
        return None
    return (f"sha256 {digest}, expected Keras's {file_hash}; kerasette unpickles only "
            "that file")


def read_ragged_npz(data: bytes, keys, title: str) -> dict:
    """The arrays `keys` of an `.npz` archive held in `data` (already verified).

    Raises:
        ValueError: a member is missing, damaged, or its pickle names
            anything but the NumPy array globals.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            for key in keys:
                if f"{key}.npy" not in names:
                    raise ValueError(f"it has no `{key}` array (it has {sorted(names)})")
                arrays[key] = _read_npy(archive.read(f"{key}.npy"))
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        raise ValueError(f"{title}: not a readable Keras data file: "
                         f"{' '.join(str(error).split())}") from None
    return arrays


def fetch_arrays(title: str, path, origin: str, file_hash: str, keys, cache_dir=None) -> dict:
    """The arrays `keys` of a cached (or downloaded) ragged `.npz`, verified first.

    A cached file whose sha256 is not `file_hash` counts as damaged: it is
    downloaded again (or the error says where to put a good copy).
    """
    return read_ragged_npz(fetch_verified(title, path, origin, file_hash, cache_dir), keys,
                           title)


def unpickle_arrays(fileobj, encoding: str = "ASCII"):
    """Unpickles one object from `fileobj` (of a verified file) with the gate above:
    containers that pickle builds by itself (dict, list, tuple, bytes, str, numbers)
    and NumPy arrays, nothing else. `encoding="bytes"` reads Python 2 pickles
    (CIFAR's) as Keras does.

    Raises:
        pickle.UnpicklingError: the pickle names any other global.
    """
    return _ArrayUnpickler(fileobj, encoding=encoding).load()


def fetch_verified(title: str, path, origin: str, file_hash: str, cache_dir=None) -> bytes:
    """The bytes of a cached (or downloaded) file whose sha256 is `file_hash`.

    The hash is checked on the bytes returned, so what is parsed is what was
    verified. A cached file with another hash counts as damaged.
    """
    held = {}

    def check(candidate: str) -> str | None:
        try:
            with open(candidate, "rb") as f:
                data = f.read()
        except OSError as error:
            return f"unreadable: {error}"
        why = sha256_why(data, file_hash)
        if why is None:
            held[candidate] = data
        return why

    fpath = _cache.fetch(title, path, origin, file_hash, check=check, cache_dir=cache_dir)
    data = held.get(fpath)
    if data is None:  # just downloaded (and verified while streaming): check what we parse
        with open(fpath, "rb") as f:
            data = f.read()
        why = sha256_why(data, file_hash)
        if why is not None:
            raise ValueError(f"{title}: {fpath} changed after its download ({why})")
    return data


def check_load_args(kwargs: dict, num_words, skip_top, maxlen, seed, start_char, oov_char,
                    index_from):
    """tf.keras 2's argument handling (`nb_words`), and kerasette's checks,
    done before any download. Returns `(num_words, RandomState)`."""
    if "nb_words" in kwargs:  # Keras 1's name, still accepted by tf.keras 2
        logger.warning("The `nb_words` argument in `load_data` has been renamed `num_words`.")
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}.")
    num_words = check_int(num_words, "num_words", allow_none=True)
    check_int(skip_top, "skip_top")
    check_int(maxlen, "maxlen", allow_none=True)
    check_int(start_char, "start_char", allow_none=True)
    check_int(oov_char, "oov_char", allow_none=True)
    check_int(index_from, "index_from")
    try:
        rng = np.random.RandomState(seed)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Argument `seed` must be None or an integer in [0, 2**32). "
                         f"Received: seed={seed!r} ({error})") from None
    return num_words, rng


def shuffled_indices(rng: np.random.RandomState, n: int) -> np.ndarray:
    """Keras's shuffle: `arange(n)` shuffled in place by `rng` (not `rng.permutation`,
    whose draws Keras does not make)."""
    indices = np.arange(n)
    rng.shuffle(indices)
    return indices


def _flatten(xs, title: str):
    """`(flat int64 tokens, lengths)` of a 1-D object array of lists of ints."""
    try:
        lengths = np.fromiter(map(len, xs), dtype=np.int64, count=len(xs))
        flat = np.fromiter(itertools.chain.from_iterable(xs), dtype=np.int64,
                           count=int(lengths.sum()))
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"{title}: the data must be sequences of integers ({error})") from None
    return flat, lengths


def encode(parts, *, title, num_words, skip_top, maxlen, start_char, oov_char, index_from,
           empty_message=None):
    """tf.keras 2's coding of shuffled sequences, on flat arrays.

    `parts` is a list of `(xs, labels)` (IMDB: train and test; Reuters: one).
    Each sequence gets `start_char` in front and `index_from` added to its
    words; sequences with `len >= maxlen` are dropped (Keras keeps only
    `len < maxlen`); then, with the vocabulary cut to `[skip_top,
    num_words)` (`num_words` defaulting to the largest index, which itself
    falls outside, as in Keras), other words become `oov_char`, or are
    dropped when it is None.

    Returns:
        A list of `(list of lists of ints, labels)`, one per part.
    """
    flats, lengths, labels = [], [], []
    for xs, ys in parts:
        flat, length = _flatten(xs, title)
        if start_char is not None:
            # Each row's start moves by the marks put before it (np.insert, but cheaper).
            marks = np.cumsum(length) - length + np.arange(len(length))
            coded = np.full(flat.size + len(length), start_char, dtype=np.int64)
            words = np.ones(coded.size, dtype=bool)
            words[marks] = False
            coded[words] = flat + index_from
            flat, length = coded, length + 1
        elif index_from:
            flat = flat + index_from
        if maxlen:
            keep = length < maxlen
            flat, length, ys = flat[np.repeat(keep, length)], length[keep], ys[keep]
        flats.append(flat)
        lengths.append(length)
        labels.append(ys)
    if maxlen and empty_message is not None and any(len(length) == 0 for length in lengths):
        raise ValueError(empty_message)
    if not num_words:
        everything = np.concatenate(flats)
        if everything.size == 0:
            raise ValueError(f"{title}: no word is left (maxlen={maxlen}); increase maxlen")
        num_words = int(everything.max())
    out = []
    for flat, length, ys in zip(flats, lengths, labels):
        inside = (flat >= skip_top) & (flat < num_words)
        if oov_char is not None:
            flat = np.where(inside, flat, oov_char)
        else:
            rows = np.repeat(np.arange(len(length)), length)
            flat, length = flat[inside], np.bincount(rows[inside], minlength=len(length))
        # One tolist() and list slices: Python ints, as Keras's lists hold.
        words, ends = flat.tolist(), np.cumsum(length).tolist()
        out.append(([words[a:b] for a, b in zip([0] + ends[:-1], ends)], ys))
    return out


def to_object_array(rows) -> np.ndarray:
    """A 1-D object array of the lists `rows`.

    Keras calls `np.array(rows, dtype="object")`, which makes a 2-D array
    when all rows happen to have one length; this is 1-D always.
    """
    array = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):  # one by one: equal-length lists would broadcast as 2-D
        array[i] = row
    return array
