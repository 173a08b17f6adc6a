"""Files in class folders as batches: the shared part of
`image_dataset_from_directory` and `text_dataset_from_directory`.

- `index_directory`: the files and their labels, in tf.keras 2's order
  (classes sorted by folder name, files sorted within each class, then one
  seeded shuffle of the whole list).
- `check_validation_split_arg` and `split_dataset`: tf.keras 2's rules for
  `validation_split` and `subset` (the validation files are the LAST
  `int(validation_split * n)` of the shuffled list, so two calls with the
  same seed never overlap).
- `BatchDataset`: what the loaders return in place of a `tf.data.Dataset`.
  `fit`, `evaluate` and `predict` take it like a `keras.utils.Sequence`
  (it has `__len__` and `__getitem__`); iterating it yields `(x, y)`
  batches, or `x` alone without labels, as tf.data does; and it has the
  few `tf.data.Dataset` methods course notebooks chain (`take`, `map`,
  `cache`, `shuffle`, `prefetch`).
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

LABEL_MODES = ("int", "categorical", "binary", None)


def _iter_valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False):
    """Lists the files of `directory` with their labels, as tf.keras 2 does.

    Args:
        directory: the folder. With `labels="inferred"` each subfolder is a
            class (files in deeper folders count for their top subfolder).
        labels: `"inferred"`, `None`, or a list of integer labels, one per
            file in sorted path order.
        formats: allowed file name endings, lower case (e.g. `(".png",)`).
        class_names: with `"inferred"`, the classes in the order wanted
            (must name exactly the subfolders); sorted names otherwise.
        shuffle: shuffle the list (seeded); else keep sorted order.
        seed: the shuffle's seed; `None` draws one.
        follow_links: descend into symlinked folders.

    Returns:
        `(file_paths, labels, class_names)`: the paths, an int32 array of
        labels (or the list given, or `None`), and the class names.

    Example:
        >>> import tempfile
        >>> index_directory(tempfile.mkdtemp(), "inferred", (".png",))
        Found 0 files belonging to 0 classes.
        ([], array([], dtype=int32), [])
    """
    if not os.path.isdir(directory):
        raise ValueError(f"Argument `directory` must be an existing folder. "
                         f"Received: directory={directory!r}")
    if labels != "inferred":
        subdirs = [""]
        class_names = subdirs
    else:
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if not class_names:
            class_names = subdirs
        elif set(class_names) != set(subdirs) or len(class_names) != len(subdirs):
            raise ValueError("The `class_names` passed did not match the names of the "
                             f"subdirectories of the target directory. Expected: {subdirs}, "
                             f"but received: {list(class_names)}")
    class_indices = {name: i for i, name in enumerate(class_names)}
    filenames, file_labels = [], []
    for subdir in subdirs:
        folder = os.path.join(directory, subdir)
        for root, name in _iter_valid_files(folder, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, name),
                                                                   folder)))
            file_labels.append(class_indices.get(subdir, 0))
    if labels not in ("inferred", None):
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        class_names = sorted(set(labels))
        out_labels = list(labels)
    elif labels is None:
        out_labels = None
    else:
        out_labels = np.asarray(file_labels, dtype="int32")
    if out_labels is None:
        print(f"Found {len(filenames)} files.")
    else:
        print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        # Two generators with the same seed shuffle paths and labels alike.
        np.random.RandomState(seed).shuffle(paths)
        if out_labels is not None:
            np.random.RandomState(seed).shuffle(out_labels)
    return paths, out_labels, list(class_names)


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """tf.keras 2's checks of `validation_split`, `subset`, `shuffle`, `seed`."""
    if validation_split is not None and (
            isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or (validation_split and not 0 < validation_split < 1)):
        raise ValueError("Argument `validation_split` must be a number between 0 and 1. "
                         f"Received: validation_split={validation_split!r}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely. "
                         f"Received: validation_split={validation_split!r}, subset={subset!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('Argument `subset` must be "training", "validation" or "both". '
                         f"Received: subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def index_checked(directory, labels, label_mode, class_names, batch_size, validation_split,
                  subset, shuffle, seed, follow_links, formats):
    """The shared part of `image_dataset_from_directory` and
    `text_dataset_from_directory`: checks `batch_size` and the split
    arguments, draws a seed when none is given (as tf.keras 2), indexes the
    folder and checks `label_mode="binary"` against the classes found.

    Returns:
        `(file_paths, labels, class_names, seed)`.
    """
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, numbers.Integral) or batch_size <= 0):
        raise ValueError("Argument `batch_size` must be a positive int or None. "
                         f"Received: batch_size={batch_size!r}")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, file_labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    return paths, file_labels, class_names, seed


def split_dataset(paths, labels, validation_split, subset, seed=None):
    """The `"training"` or `"validation"` part of shuffled `paths` and `labels`.

    The validation part is the last `int(validation_split * len(paths))`
    items (tf.keras 2's `get_training_or_validation_split`). `seed` does not
    enter the cut: `index_directory` already shuffled with it, which is what
    makes two calls with one seed complementary.

    Args:
        paths: the file paths.
        labels: their labels, or `None`.
        validation_split: fraction for validation; falsy keeps everything.
        subset: `"training"` or `"validation"`.
        seed: the seed the list was shuffled with (not used here).

    Returns:
        `(paths, labels)` of the subset.

    Example:
        >>> split_dataset(["a", "b", "c", "d"], None, 0.25, "validation")
        Using 1 files for validation.
        (['d'], None)
    """
    del seed
    if not validation_split:
        return paths, labels
    num_val = int(validation_split * len(paths))
    cut = len(paths) - num_val
    if subset == "training":
        print(f"Using {cut} files for training.")
        return paths[:cut], None if labels is None else labels[:cut]
    if subset == "validation":
        print(f"Using {num_val} files for validation.")
        return paths[cut:], None if labels is None else labels[cut:]
    raise ValueError(f'Argument `subset` must be "training" or "validation". '
                     f"Received: subset={subset!r}")


def encode_labels(labels, label_mode, num_classes):
    """Integer labels as `label_mode` asks: int32 `(n,)`, float32 `(n, 1)`
    for `"binary"`, float32 one-hot `(n, num_classes)` for `"categorical"`."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels.astype("int64")]
    return labels.astype("int32")


class HostBatch(np.ndarray):
    """A NumPy batch with tf's `.numpy()`, so notebook code such as
    `images[i].numpy().astype("uint8")` runs unchanged."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self)


def _host_batch(array):
    return array.view(HostBatch) if isinstance(array, np.ndarray) else array


class BatchDataset:
    """Batches of samples loaded on demand; stands in for `tf.data.Dataset`.

    Args:
        samples: the samples (file paths), in order.
        labels: encoded labels, one row per sample, or `None`.
        load: `load(sample) -> np.ndarray` for one sample.
        batch_size: samples per batch; `None` yields single samples.
        shuffle: draw a new sample order for each pass (seeded).
        seed: the seed of the orders.
        class_names: kept as `.class_names`.

    `len(ds)` is the number of batches; iterating yields `(x, y)`, or `x`
    alone when there are no labels; `ds[i]` is the tuple `fit` takes.
    """

    def __init__(self, samples, labels, load, batch_size=32, shuffle=False, seed=None,
                 class_names=None):
        self.samples = list(samples)
        self.file_paths = self.samples
        self.labels = labels
        self._load = load
        self.batch_size = batch_size
        self._shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        self.class_names = class_names
        self._cache = None
        self._passes = 0
        self._order = self._new_order()

    def _new_order(self):
        n = len(self.samples)
        return self._rng.permutation(n) if self._shuffle else np.arange(n)

    def _step(self):
        return 1 if self.batch_size is None else self.batch_size

    def __len__(self):
        return math.ceil(len(self.samples) / self._step())

    def _sample(self, i):
        if self._cache is None:
            return self._load(self.samples[i])
        if i not in self._cache:
            self._cache[i] = self._load(self.samples[i])
        return self._cache[i]

    def _element(self, index):
        """The Keras element of batch `index`: `(x, y)` or `x`."""
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for a dataset of "
                             f"{len(self)} batches.")
        rows = self._order[index * self._step():(index + 1) * self._step()]
        x = np.stack([self._sample(int(i)) for i in rows])
        y = None if self.labels is None else self.labels[rows]
        if self.batch_size is None:
            x, y = x[0], (None if y is None else y[0])
        x, y = _host_batch(x), _host_batch(y)
        return x if y is None else (x, y)

    def __getitem__(self, index):
        element = self._element(int(index))
        return element if isinstance(element, tuple) else (element,)

    def __iter__(self):
        # As tf.data's reshuffle_each_iteration: every new pass, a new order.
        if self._passes:
            self.on_epoch_end()
        self._passes += 1
        for i in range(len(self)):
            yield self._element(i)

    def on_epoch_end(self):
        """A new sample order for the next pass, when shuffling."""
        if self._shuffle:
            self._order = self._new_order()

    # -- the tf.data.Dataset methods notebooks chain ------------------------------------
    def take(self, count):
        """The first `count` batches (all for `count=-1`)."""
        return _Derived(self, count=count)

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """Applies `map_func(x, y)` (or `map_func(x)`) to every element."""
        return _Derived(self, fn=map_func)

    def cache(self, filename=""):
        """Keeps decoded samples in memory after their first load."""
        if filename:
            raise ValueError("BatchDataset.cache keeps samples in memory only; call it without "
                             f"a file name. Received: filename={filename!r}")
        if self._cache is None:
            self._cache = {}
        return self

    def shuffle(self, buffer_size=None, seed=None, reshuffle_each_iteration=None):
        """Draws a new order of all samples for every pass (a full shuffle,
        where tf.data shuffles within a buffer)."""
        self._shuffle = True
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._order = self._new_order()
        return self

    def prefetch(self, buffer_size=None):
        """Returns the dataset: batches are loaded when asked for."""
        return self

    def __repr__(self):
        return (f"<BatchDataset: {len(self.samples)} samples, {len(self)} batches, "
                f"batch_size={self.batch_size}>")


class _Derived:
    """`take` and `map` of a `BatchDataset` (chainable, re-iterable)."""

    def __init__(self, parent, fn=None, count=-1):
        self._parent = parent
        self._fn = fn
        self._count = count
        self._passes = 0
        self.class_names = getattr(parent, "class_names", None)
        self.file_paths = getattr(parent, "file_paths", None)

    def __len__(self):
        n = len(self._parent)
        return n if self._count is None or self._count < 0 else min(n, self._count)

    def _apply(self, element):
        if self._fn is None:
            return element
        return self._fn(*element) if isinstance(element, tuple) else self._fn(element)

    def _element(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for a dataset of "
                             f"{len(self)} batches.")
        return self._apply(self._parent._element(index))

    def __getitem__(self, index):
        element = self._element(int(index))
        return element if isinstance(element, tuple) else (element,)

    def __iter__(self):
        if self._passes:
            self.on_epoch_end()
        self._passes += 1
        for i in range(len(self)):
            yield self._element(i)

    def on_epoch_end(self):
        self._parent.on_epoch_end()

    take = BatchDataset.take
    map = BatchDataset.map

    def cache(self, filename=""):
        self._parent.cache(filename)
        return self

    def shuffle(self, buffer_size=None, seed=None, reshuffle_each_iteration=None):
        self._parent.shuffle(buffer_size, seed, reshuffle_each_iteration)
        return self

    def prefetch(self, buffer_size=None):
        return self


__all__ = ["BatchDataset", "check_validation_split_arg", "encode_labels", "index_directory",
           "split_dataset"]
