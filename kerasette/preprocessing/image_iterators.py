"""The batch iterators of `ImageDataGenerator`: `Iterator`,
`NumpyArrayIterator` (`flow`) and `DirectoryIterator`
(`flow_from_directory`), as tf.keras 2's.

They are `Sequence`s: `len()` is the number of batches per epoch, `it[i]`
is batch `i` (what `fit` asks for), and `next(it)` runs forever, starting a
new epoch after the last batch. Shuffles use NumPy's global generator, and
an iterator with a `seed` re-seeds it with `seed + batches seen` before
each batch, as Keras does.
"""

from __future__ import annotations

import numbers
import os
import threading
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette.ops import image as image_ops
from kerasette.preprocessing.image_utils import array_to_img, img_to_array, load_img, pil_image


class Iterator:
    """Batches by index (`it[i]`) and endlessly (`next(it)`), as Keras's.

    Args:
        n: number of samples.
        batch_size: samples per batch.
        shuffle: a new permutation each epoch (NumPy's global generator).
        seed: if set, NumPy's generator is re-seeded with
            `seed + total_batches_seen` before each batch.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size <= 0:
            raise ValueError(f"Argument `batch_size` must be a positive int. "
                             f"Received: batch_size={batch_size!r}")
        self.n = n
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length "
                             f"{len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index_array)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            current = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current:current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch; the iterator never ends (a new epoch starts over)."""
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def _transform_batch(self, batch):
        """Random augmentation and standardisation of a float batch."""
        gen = self.image_data_generator
        if gen is None:
            return batch
        return gen._augment_batch(batch)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError

    def _save(self, batch, index_array, high):
        for i, j in enumerate(index_array):
            img = array_to_img(batch[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{np.random.randint(high)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Augmented batches of an array of images (`ImageDataGenerator.flow`).

    `x` may be an array or a tuple `(images, extra)` whose extra arrays pass
    through unchanged; `subset` takes the first `validation_split` of the
    samples for `"validation"` and the rest for `"training"`, as Keras does.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        self.dtype = dtype or _backend.floatx()
        self.data_format = data_format or "channels_last"
        x_misc = []
        if isinstance(x, (tuple, list)):
            x_misc = [np.asarray(v) for v in (x[1] if isinstance(x[1], list) else [x[1]])]
            x = x[0]
            for extra in x_misc:
                if len(x) != len(extra):
                    raise ValueError("All of the arrays in `x` should have the same length. "
                                     f"Found a pair with: len(x[0]) = {len(x)}, "
                                     f"len(x[?]) = {len(extra)}")
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same length. "
                             f"Found: x.shape = {np.shape(x)}, y.shape = {np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same "
                             f"length. Found: x.shape = {np.shape(x)}, sample_weight.shape = "
                             f"{np.shape(sample_weight)}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError('Argument `subset` must be "training" or "validation". '
                                 f"Received: subset={subset!r}")
            split = int(len(x) * image_data_generator._validation_split)
            if (y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:split]), np.unique(y[split:]))):
                raise ValueError("Training and validation subsets have different number of "
                                 "classes after the split. If your numpy arrays are sorted by "
                                 "the label, you might want to shuffle them.")
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x, x_misc = x[part], [v[part] for v in x_misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[part]
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4 (images, "
                             f"height, width, channels). You passed an array with shape "
                             f"{self.x.shape}")
        channels_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(f"NumpyArrayIterator is set to use the data format convention "
                          f'"{self.data_format}" (channels on axis {channels_axis}), i.e. '
                          f"expected either 1, 3, or 4 channels on axis {channels_axis}. However, "
                          f"it was passed an array with shape {self.x.shape} "
                          f"({self.x.shape[channels_axis]} channels).", stacklevel=2)
        self.x_misc = x_misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = self._transform_batch(self.x[index_array].astype(self.dtype))
        if self.save_to_dir:
            self._save(batch_x, index_array, 1e4)
        miscs = [extra[index_array] for extra in self.x_misc]
        x = batch_x if not miscs else [batch_x] + miscs
        if self.y is None:
            return x
        if self.sample_weight is None:
            return x, self.y[index_array]
        return x, self.y[index_array], self.sample_weight[index_array]


def _list_class_files(directory, formats, split, follow_links):
    """Sorted files of one class folder (recursively), cut to `split`."""
    files = []
    for root, _, names in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        files += [os.path.join(root, name) for name in sorted(names)
                  if name.lower().endswith(formats)]
    if split:
        files = files[int(split[0] * len(files)):int(split[1] * len(files))]
    return files


class DirectoryIterator(Iterator):
    """Augmented batches of the images in class folders
    (`ImageDataGenerator.flow_from_directory`).

    Attributes:
        class_indices: `{class name: index}`.
        classes: the label of every file.
        filenames: file paths relative to `directory`.
        filepaths: full file paths.
        samples: number of files.
        num_classes: number of classes.
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix="",
                 save_format="png", follow_links=False, subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype=None):
        self.target_size = image_ops.check_size(target_size, "flow_from_directory",
                                                "target_size")
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
        if channels is None:
            raise ValueError("flow_from_directory: argument `color_mode` must be 'rgb', 'rgba' "
                             f"or 'grayscale'. Received: color_mode={color_mode!r}")
        if class_mode not in self.allowed_class_modes:
            raise ValueError("flow_from_directory: argument `class_mode` must be one of "
                             "'categorical', 'binary', 'sparse', 'input' or None. "
                             f"Received: class_mode={class_mode!r}")
        if not os.path.isdir(directory):
            raise ValueError("flow_from_directory: argument `directory` must be an existing "
                             f"folder. Received: directory={directory!r}")
        pil_image()  # a clear error now, not at the first batch
        self.color_mode, self.class_mode = color_mode, class_mode
        self.data_format = data_format or "channels_last"
        self.image_shape = (self.target_size + (channels,) if self.data_format ==
                            "channels_last" else (channels,) + self.target_size)
        self.dtype = dtype or _backend.floatx()
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        self.directory, self.subset = directory, subset
        split = None
        if subset is not None:
            vs = image_data_generator._validation_split
            if subset not in ("training", "validation"):
                raise ValueError('flow_from_directory: argument `subset` must be "training" or '
                                 f'"validation". Received: subset={subset!r}')
            split = (0, vs) if subset == "validation" else (vs, 1)
        self.split = split
        if not classes:
            classes = [name for name in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, name))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        formats = tuple("." + f for f in self.white_list_formats)
        self._filepaths, labels = [], []
        for name in classes:
            found = _list_class_files(os.path.join(directory, name), formats, split, follow_links)
            self._filepaths += found
            labels += [self.class_indices[name]] * len(found)
        self.filenames = [os.path.relpath(p, directory) for p in self._filepaths]
        self.samples = len(self._filepaths)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None

    def _load(self, path):
        img = load_img(path, color_mode=self.color_mode, target_size=self.target_size,
                       interpolation=self.interpolation,
                       keep_aspect_ratio=self.keep_aspect_ratio)
        x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
        img.close()
        return x

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.stack([self._load(self._filepaths[j]) for j in index_array]) \
            if len(index_array) else np.zeros((0,) + self.image_shape, self.dtype)
        batch_x = self._transform_batch(batch_x)
        if self.save_to_dir:
            self._save(batch_x, index_array, 1e7)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode in ("binary", "sparse"):
            return batch_x, self.classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
            return batch_x, batch_y
        return batch_x


__all__ = ["DirectoryIterator", "Iterator", "NumpyArrayIterator"]
