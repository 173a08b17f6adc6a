"""Feeding `fit`, `evaluate` and `predict`: batches by index.

Data stays where the user put it. Host arrays, h5py datasets and dask
arrays (read a chunk at a time, dask_arrays.py) are sliced one batch at a
time (shuffling permutes indices, never the data), and each
batch crosses to the device once, cast to the model's dtype on the way, so
uint8 images are never converted whole. Arrays already on the device (CuPy
arrays, or tensors holding them) stay there: their batches are gathered on
the device, with each epoch's order uploaded once, and nothing of them is
copied to the host.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.backend.numpy_backend import NumpyBackend
from kerasette.training.dask_arrays import DaskRows, is_dask_array
from kerasette.utils.sequence import Sequence
from kerasette.utils.string_data import STRING, is_string_array


def _is_h5_dataset(x) -> bool:
    return type(x).__module__.startswith("h5py") and hasattr(x, "shape") and hasattr(x, "dtype")


def _is_array_like(x) -> bool:
    """Objects NumPy converts as arrays (pandas frames and series, ...)."""
    return hasattr(x, "__array__") and hasattr(x, "shape") and not isinstance(x, Sequence)


def is_device_array(x) -> bool:
    """Whether `x` is an array of the active device backend (CuPy, strict)."""
    return not isinstance(x, np.ndarray) and _backend.get_backend().is_array(x)


def to_host(x) -> np.ndarray:
    """`x` as a NumPy array: a device array is read back (a copy)."""
    return _backend.get_backend().to_numpy(x) if is_device_array(x) else np.asarray(x)


def as_samples(x, name):
    """Host and device arrays, h5py datasets and dask arrays pass as they
    are, a tensor gives its array, and lists become host arrays once."""
    if x is None or isinstance(x, np.ndarray) or _is_h5_dataset(x) or is_dask_array(x):
        return x
    if isinstance(x, Tensor):
        return x.data
    if is_device_array(x):
        return x
    if isinstance(x, (list, tuple)):
        arr = _list_to_array(x, name)
        if arr.dtype == np.float64:
            try:
                with np.errstate(over="raise"):
                    arr = arr.astype(_backend.floatx())
            except FloatingPointError:
                pass  # kept as float64, so the checks can name the number too large
        return arr
    if _is_array_like(x):
        return np.asarray(x)
    hint = ""
    if isinstance(x, dict):
        hint = (" Dicts by input name are for models built with keras.Model(inputs, "
                "outputs) from named keras.Input tensors; this model takes the array itself.")
    elif isinstance(x, (set, frozenset)):
        hint = (" A set has no order, so its items cannot be matched with the other "
                "arguments' samples: pass a list or an array.")
    elif isinstance(x, (str, bytes)):
        hint = f" The string {x[:60]!r} is not data: load what it names into an array first."
    raise TypeError(
        f"Argument `{name}` must be a NumPy array, a list, an h5py dataset, a generator or a "
        f"kerasette.utils.Sequence. Received: {type(x).__name__}.{hint}"
    )


def _list_to_array(x, name) -> np.ndarray:
    """`np.asarray(x)`, with a message naming the first row of another
    shape when the rows of a nested list are ragged."""
    try:
        with warnings.catch_warnings():
            # NumPy < 1.24 warns and makes an object array; newer ones raise.
            warnings.simplefilter("ignore")
            arr = np.asarray(x)
    except ValueError as err:
        message = _ragged_message(x, name)
        raise ValueError(message or f"Argument `{name}` could not be turned into an array: "
                         f"{err}") from None
    if arr.dtype == object:
        message = _ragged_message(x, name)
        if message:
            raise ValueError(message)
    return arr


def _ragged_message(x, name):
    """Names the first row whose shape differs from row 0's, or None."""
    def shape(row):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            return None
        try:
            return tuple(np.shape(row))
        except ValueError:  # ragged inside the row too
            return ("ragged",)

    def describe(dims):
        if dims is None:
            return "a single value"
        return f"{dims[0]} values" if len(dims) == 1 else f"shape {dims}"

    shapes = [shape(row) for row in x]
    for i, dims in enumerate(shapes):
        if dims != shapes[0]:
            return (f"Argument `{name}` is a list whose rows differ in shape: row 0 has "
                    f"{describe(shapes[0])} but row {i} has {describe(dims)}. Every sample "
                    "needs the same shape: pad or trim the rows first.")
    return None


def _check_numeric(arr, name):
    """A `TypeError` for strings, objects and other non-numbers."""
    if arr is None or np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_:
        return
    example = ""
    if arr.ndim and len(arr):
        first = np.asarray(arr[0]).reshape(-1)
        example = f" such as {first.tolist()[0]!r}" if first.size else ""
    if arr.dtype.kind in "US" and name.startswith("y"):
        hint = (f" (strings{example}). Encode class names as integers first: "
                f"`classes, {name} = np.unique({name}, return_inverse=True)`.")
    elif arr.dtype.kind in "US":
        hint = f" (strings{example}). Encode them as numbers first."
    else:
        hint = (f" (values{example}). If they are numbers, convert once with "
                f"`np.asarray({name}, dtype='float32')`.")
    raise TypeError(f"Argument `{name}` must hold numbers. Received: an array of dtype "
                    f"{arr.dtype}{hint}")


# The largest class weight the float32 weight table holds.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class Batch:
    """One batch on the device: `x`, `y` (or None) and `sample_weight` (or None)."""

    __slots__ = ("x", "y", "sample_weight", "size")

    def __init__(self, x, y, sample_weight, size):
        self.x, self.y, self.sample_weight, self.size = x, y, sample_weight, size


def to_device(x, y=None, sample_weight=None, x_dtype=None):
    """Moves one host batch to the device: x in the model's float dtype,
    float labels as float32, integer labels as they are."""
    b = _backend.get_backend()
    floatx = x_dtype or _backend.floatx()
    if is_string_array(x):
        xd = x  # text stays on the host: its first layer makes ids (utils/string_data.py)
    else:
        xd = x if isinstance(x, Tensor) else Tensor(b.asarray(x, dtype=floatx))
    yd = None
    if y is not None:
        if isinstance(y, Tensor):
            yd = y
        else:
            y = np.asarray(y) if not b.is_array(y) else y
            yd = Tensor(b.asarray(y, dtype=_label_dtype(y.dtype)))
    sw = None
    if sample_weight is not None:
        sw = sample_weight if isinstance(sample_weight, Tensor) else Tensor(
            b.asarray(sample_weight, dtype=_backend.floatx()))
    return Batch(xd, yd, sw, int(xd.shape[0]))


class ArrayData:
    """Arrays (or h5py datasets) of samples, batched by index.

    Args:
        x, y, sample_weight: host arrays or h5py datasets of equal length.
        batch_size: samples per batch.
        shuffle: permute the sample order every epoch.
        class_weight: optional `{class: weight}` turned into per-sample weights.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 class_weight=None):
        self.x, self.y, self.sample_weight = (
            _readable(as_samples(a, name)) for a, name in
            ((x, "x"), (y, "y"), (sample_weight, "sample_weight")))
        if not is_string_array(self.x):  # text: checked against the model by validation
            _check_numeric(self.x, "x")
        _check_numeric(self.y, "y")
        n = len(self.x)
        if n == 0:
            raise ValueError("`x` is empty: fit/evaluate/predict need at least one sample.")
        for name, arr in (("y", self.y), ("sample_weight", self.sample_weight)):
            if arr is not None and len(arr) != n:
                raise ValueError(
                    f"Data cardinality is ambiguous: x has {n} samples but {name} has "
                    f"{len(arr)}. Make sure all arrays contain the same number of samples."
                )
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.class_weight = class_weight
        self._h5 = any(_is_h5_dataset(a) for a in (self.x, self.y, self.sample_weight))
        self._on_device = any(is_device_array(a) for a in (self.x, self.y, self.sample_weight))

    def steps(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def _epoch_order(self, rng):
        """This epoch's sample order on the host, or None without shuffling."""
        if not self.shuffle:
            return None
        order = rng.permutation(self.n)
        if self.n <= self.batch_size:
            # One batch, its indices sorted (below): the unshuffled order.
            # The draw stays, so that the generator's stream does not change.
            return None
        # h5py reads only increasing indices; the order inside a batch does
        # not matter to a mean gradient, so sort always. Each batch's slice
        # of `order` is sorted in place, all full batches in one call.
        full = self.n - self.n % self.batch_size
        order[:full].reshape(-1, self.batch_size).sort(axis=1)
        order[full:].sort()
        return order

    def _index_batches(self, order):
        """Each batch's indices: slices of `order`, or plain slices."""
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            yield slice(start, stop) if order is None else order[start:stop]

    def epoch(self, x_dtype=None):
        """The batches of one epoch, on the device (an iterator)."""
        order = self._epoch_order(_backend.host_rng())
        if self._on_device:
            return self._device_epoch(order, x_dtype)
        if (self.sample_weight is None and self.class_weight is None
                and _plain_rows(self.x) and not is_string_array(self.x)
                and (self.y is None or _plain_rows(self.y))):
            return self._plain_epoch(order, x_dtype)
        return self._weighted_epoch(order, x_dtype)

    def _weighted_epoch(self, order, x_dtype):
        """`epoch` for everything else on the host (h5py datasets, memmaps,
        strided arrays, sample and class weights): each batch through `to_device`."""
        for index in self._index_batches(order):
            x = self.x[index]
            y = None if self.y is None else self.y[index]
            sw = None if self.sample_weight is None else np.asarray(self.sample_weight[index])
            yield to_device(x, y, self._with_class_weights(y, sw), x_dtype)

    def _device_epoch(self, order, x_dtype):
        """`epoch` when some of the arrays are on the device: those are
        gathered there, by the epoch's order uploaded once; host ones (a
        NumPy `y` beside a CuPy `x`, say) as in `_weighted_epoch`."""
        device_order = None if order is None else _backend.get_backend().asarray(order)
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            on_host = slice(start, stop) if order is None else order[start:stop]
            on_device = on_host if order is None else device_order[start:stop]
            x, y, sw = (None if a is None else a[on_device if is_device_array(a) else on_host]
                        for a in (self.x, self.y, self.sample_weight))
            yield to_device(x, y, self._with_class_weights(y, sw), x_dtype)

    def _with_class_weights(self, y, sw):
        """`sw` times the batch's class weights, when `class_weight` is set
        (computed on the host: device labels are read back, one batch each)."""
        if self.class_weight is None or y is None:
            return sw
        cw = class_weights_for(to_host(y), self.class_weight)
        if sw is None:
            return cw
        return sw * (_backend.get_backend().asarray(cw) if is_device_array(sw) else cw)

    def _plain_epoch(self, order, x_dtype):
        """`epoch` for in-memory arrays without weights, which is most of
        them: `to_device`'s decisions are taken once per epoch rather than
        per batch, and `take` gathers the rows (the copy fancy indexing
        makes, with less overhead)."""
        x, y, size = self.x, self.y, self.batch_size
        move_x = _mover(x.dtype, x_dtype or _backend.floatx())
        move_y = None if y is None else _mover(y.dtype, _label_dtype(y.dtype))
        # `_index_batches`, inlined: a many-epoch run of a tiny model pays
        # for every generator an epoch makes.
        for start in range(0, self.n, size):
            if order is None:
                xb = x[start:start + size]
                yb = None if y is None else y[start:start + size]
            else:
                index = order[start:start + size]
                xb = x.take(index, axis=0)
                yb = None if y is None else y.take(index, axis=0)
            n = len(xb)
            if move_x is not None:
                xb = move_x(xb)
            if yb is not None:
                yb = Tensor(yb if move_y is None else move_y(yb))
            yield Batch(Tensor(xb), yb, None, n)

    def on_epoch_end(self):
        pass


def _readable(a):
    """A dask array as `DaskRows`, which reads it a chunk at a time
    (dask_arrays.py); anything else as it is."""
    return DaskRows(a) if is_dask_array(a) else a


def _plain_rows(a) -> bool:
    """A C-ordered NumPy array (not a subclass, an h5py dataset or a
    memmap), whose `take` of rows equals its fancy indexing, layout included."""
    return type(a) is np.ndarray and a.flags.c_contiguous


def _label_dtype(dtype):
    """The device dtype of labels: float (and bool) labels as floatx,
    integer labels as they are (as `to_device` does)."""
    return _backend.floatx() if dtype.kind == "f" or dtype == np.bool_ else None


def _mover(host_dtype, dtype):
    """`backend.asarray(a, dtype=dtype)` for host batches of `host_dtype`,
    or None where that returns `a` itself (NumPy, and no cast to make)."""
    b = _backend.get_backend()
    if type(b).asarray is NumpyBackend.asarray and (dtype is None
                                                     or np.dtype(dtype) == host_dtype):
        return None
    return lambda a: b.asarray(a, dtype=dtype)


class Arrays(tuple):
    """One array per model input (or output, or output's sample weights),
    in the model's order: what the checks make of the lists and dicts given
    to a model with several inputs or outputs. A tuple type of its own, so
    that it is never mistaken for one array given as a list of samples."""

    __slots__ = ()


def num_samples(x) -> int:
    """The number of samples of an array, or of the arrays of `Arrays`."""
    return len(x[0]) if isinstance(x, Arrays) else len(x)


class NestedArrayData(ArrayData):
    """`ArrayData` for models with several inputs or outputs: `x`, `y` and
    `sample_weight` are `Arrays` (or None), batched by one index shared by
    every array, so shuffling permutes indices and copies no data.

    A batch holds one tensor where the model has one input (or output) and
    a list in the model's order where it has several. Each input is cast to
    its own dtype: `x_dtypes[i]` (an integer `keras.Input` keeps its ids as
    integers), or the model's float dtype where that is None.

    Args:
        x, y, sample_weight: `Arrays` of equal length (checked before).
        batch_size: samples per batch.
        shuffle: permute the sample order every epoch.
        x_dtypes: per input, its dtype, or None for the model's float dtype.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 x_dtypes=None, class_weight=None):
        x, y, sample_weight = (None if arrays is None else Arrays(_readable(a) for a in arrays)
                               for arrays in (x, y, sample_weight))
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = len(x[0])
        for arrays in (y, sample_weight):
            for arr in arrays or ():
                if arr is not None and len(arr) != self.n:
                    raise ValueError(
                        f"Data cardinality is ambiguous: x has {self.n} samples but another "
                        f"array has {len(arr)}. Make sure all arrays contain the same number "
                        "of samples.")
        self.batch_size = batch_size
        self.shuffle = shuffle
        # Only for one output (checked before): its labels give the weights.
        self.class_weight = class_weight
        self.x_dtypes = list(x_dtypes) if x_dtypes is not None else [None] * len(x)
        every = [a for group in (x, y, sample_weight) for a in group or () if a is not None]
        self._h5 = any(_is_h5_dataset(a) for a in every)
        self._on_device = any(is_device_array(a) for a in every)

    def epoch(self, x_dtype=None):
        """The batches of one epoch, on the device (an iterator)."""
        b = _backend.get_backend()
        floatx = x_dtype or _backend.floatx()
        x_dtypes = [d or floatx for d in self.x_dtypes]
        order = self._epoch_order(_backend.host_rng())
        device_order = (None if order is None or not self._on_device
                        else b.asarray(order))
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            if order is None:
                host = device = slice(start, stop)
            else:
                host = order[start:stop]
                device = host if device_order is None else device_order[start:stop]

            def rows(a):
                if a is None:
                    return None
                if is_device_array(a):
                    return a[device]
                if type(a) is np.ndarray and not isinstance(host, slice):
                    return a.take(host, axis=0)
                return a[host]

            xs = [rows(a) if dt == STRING else Tensor(b.asarray(rows(a), dtype=dt))
                  for a, dt in zip(self.x, x_dtypes)]  # text stays on the host
            ys = None
            if self.y is not None:
                ys = []
                for a in self.y:
                    yb = rows(a)
                    yb = yb if is_device_array(yb) else np.asarray(yb)
                    ys.append(Tensor(b.asarray(yb, dtype=_label_dtype(yb.dtype))))
            sws = None
            if self.sample_weight is not None:
                sws = [None if a is None else Tensor(b.asarray(rows(a), dtype=floatx))
                       for a in self.sample_weight]
            if self.class_weight is not None and ys is not None:
                cw = Tensor(b.asarray(class_weights_for(to_host(ys[0].data), self.class_weight),
                                      dtype=floatx))
                first = None if sws is None else sws[0]
                sws = [cw if first is None else Tensor(first.data * cw.data)]
            yield Batch(_one_or_list(xs), _one_or_list(ys), _one_or_list(sws), stop - start)


def _one_or_list(tensors):
    """A batch's tensors as the model takes them: one, or a list of several."""
    if tensors is None:
        return None
    return tensors[0] if len(tensors) == 1 else tensors


class SequenceData:
    """A `kerasette.utils.Sequence` (or any object with `__len__` and
    `__getitem__` returning batches)."""

    def __init__(self, seq, shuffle=False, class_weight=None):
        self.seq = seq
        self.shuffle = shuffle
        self.class_weight = class_weight

    def steps(self) -> int:
        return len(self.seq)

    def epoch(self, x_dtype=None):
        order = np.arange(len(self.seq))
        if self.shuffle:
            order = _backend.host_rng().permutation(order)
        for i in order:
            yield _unpack(self.seq[int(i)], self.class_weight, x_dtype)

    def on_epoch_end(self):
        if hasattr(self.seq, "on_epoch_end"):
            self.seq.on_epoch_end()


class GeneratorData:
    """A Python generator (or iterator) of `(x, y)` / `(x, y, sample_weight)`.

    With `steps` given, each epoch takes that many batches from the one
    stream; without, an epoch runs until the generator is exhausted.
    """

    def __init__(self, gen, steps=None, class_weight=None):
        self.gen = iter(gen)
        self._steps = steps
        self.class_weight = class_weight
        self.exhausted = False

    def steps(self):
        return self._steps

    def epoch(self, x_dtype=None):
        taken = 0
        while self._steps is None or taken < self._steps:
            try:
                item = next(self.gen)
            except StopIteration:
                self.exhausted = True
                return
            taken += 1
            yield _unpack(item, self.class_weight, x_dtype)

    def on_epoch_end(self):
        pass


def _unpack(item, class_weight, x_dtype):
    # As tf.keras 2's `unpack_x_y_sample_weight`: a list is read as a tuple,
    # and anything else (an array) is x alone, which `predict` takes.
    if isinstance(item, list):
        item = tuple(item)
    elif not isinstance(item, tuple):
        item = (item,)
    if not 1 <= len(item) <= 3:
        raise ValueError(
            "A generator or Sequence must yield x, (x,), (x, y) or (x, y, sample_weight). "
            f"Received: a {type(item).__name__} of length {len(item)}"
        )
    x, y, sw = (tuple(item) + (None, None))[:3]
    x = as_samples(x, "x") if not isinstance(x, Tensor) else x
    if class_weight is not None and y is not None:
        cw = class_weights_for(to_host(as_samples(y, "y")), class_weight)
        sw = cw if sw is None else to_host(as_samples(sw, "sample_weight")) * cw
    return to_device(x, y, sw, x_dtype)


def class_weights_for(y, class_weight) -> np.ndarray:
    """Per-sample weights from `{class: weight}` (sparse or one-hot labels)."""
    labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    top = int(labels.max()) if labels.size else 0
    table = np.ones(max(top + 1, max(class_weight) + 1), dtype=np.float32)
    for cls, weight in class_weight.items():
        table[int(cls)] = weight
    return table[labels]


def check_class_weight(class_weight):
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError("Argument `class_weight` must be a non-empty dict {class index: "
                         f"weight}}. Received: class_weight={class_weight!r}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError("Argument `class_weight` must have non-negative integer class "
                             f"indices as keys. Received: key {key!r} in "
                             f"class_weight={class_weight!r}")
        # NaN passes `value < 0`; NaN, infinity or a weight float32 cannot hold
        # turns the loss, then every weight, into NaN.
        if not isinstance(value, numbers.Real) or not 0 <= value <= _FLOAT32_MAX:
            raise ValueError("Argument `class_weight` must have finite, non-negative numbers "
                             "as values (0 leaves a class out of the loss). Received: "
                             f"{value!r} for class {key} in class_weight={class_weight!r}")
    return class_weight


def is_batch_source(x) -> bool:
    """Generators, iterators and Sequences: data that arrives batched."""
    if isinstance(x, Sequence):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, set, frozenset, str, bytes, Tensor)
                  ) or _is_h5_dataset(x) or is_dask_array(x):
        return False  # samples, or a mistake that as_samples names
    # Device arrays and pandas objects have __getitem__ and __len__ too, but
    # they hold samples, not batches.
    if _backend.get_backend().is_array(x) or _is_array_like(x):
        return False
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return True
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not hasattr(x, "shape"))


def make_data(x, y=None, sample_weight=None, batch_size=32, shuffle=False, class_weight=None,
              steps=None, x_dtypes=None):
    """Chooses the adapter for `x` (`x_dtypes`: per input of `Arrays`, its
    dtype or None for the model's float dtype)."""
    if is_batch_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError("`y` and `sample_weight` must be None when `x` is a generator or "
                             "a Sequence: it yields them with each batch.")
        if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
            return SequenceData(x, shuffle=shuffle, class_weight=class_weight)
        return GeneratorData(x, steps=steps, class_weight=class_weight)
    if isinstance(x, Arrays):
        return NestedArrayData(x, y, sample_weight, batch_size, shuffle, x_dtypes, class_weight)
    return ArrayData(x, y, sample_weight, batch_size, shuffle, class_weight)


def split_validation(x, y, sample_weight, validation_split):
    """Keras's `validation_split`: the last fraction of the samples, before
    any shuffling. Returns views, not copies."""
    if is_batch_source(x):
        raise ValueError("`validation_split` is only supported for arrays, not for "
                         "generators or Sequences; pass `validation_data` instead.")
    if isinstance(x, Arrays):
        return _split_arrays(x, y, sample_weight, validation_split)
    x = as_samples(x, "x")
    y = as_samples(y, "y")
    sample_weight = as_samples(sample_weight, "sample_weight")
    n = len(x)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation "
            f"set for {n} samples."
        )

    def cut(a):
        return (None, None) if a is None else (a[:split_at], a[split_at:])

    (xt, xv), (yt, yv), (st, sv) = cut(x), cut(y), cut(sample_weight)
    if yv is not None:
        _warn_single_class(to_host(yv))
    return (xt, yt, st), (xv, yv, sv)


def _split_arrays(x, y, sample_weight, validation_split):
    """`split_validation` of `Arrays` (checked already): views of each array."""
    n = num_samples(x)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation "
            f"set for {n} samples.")

    def cut(arrays, part):
        if arrays is None:
            return None
        return Arrays(None if a is None else (a[:split_at] if part == 0 else a[split_at:])
                      for a in arrays)

    return ((cut(x, 0), cut(y, 0), cut(sample_weight, 0)),
            (cut(x, 1), cut(y, 1), cut(sample_weight, 1)))


def _warn_single_class(y_val):
    if y_val.ndim > 1 and y_val.shape[-1] > 1:
        labels = y_val.argmax(axis=-1)
    elif y_val.dtype.kind in "iub" or (y_val.dtype.kind == "f"
                                       and np.all(y_val == np.round(y_val))):
        labels = y_val.reshape(len(y_val), -1)[:, 0]
    else:
        return  # regression targets
    if len(np.unique(labels)) == 1:
        warnings.warn(
            "validation_split took the last samples, and their labels are all one class "
            f"({labels[0]!r}): the data looks sorted by class, so validation metrics will "
            "mislead. Shuffle x and y together before fit, or pass validation_data.",
            UserWarning,
            stacklevel=4,
        )
