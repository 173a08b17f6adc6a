"""ImageNet helpers shared by the applications: `preprocess_input`,
`decode_predictions`, and the input-shape, padding and weight-file rules
of tf.keras 2's `keras.applications.imagenet_utils`.

Weight files and the class index are fetched through the data-set cache
(`kerasette.datasets._cache`): a verified copy in
`$KERASETTE_HOME/models/` is used as it is; otherwise the file is
downloaded there (with its checksum and a progress bar), and with no
network the error names the file to create and where to get it. A copy
that tf.keras already downloaded (`~/.keras/models/`, or
`$KERAS_HOME/models/`) is used too when its checksum matches.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings

import numpy as np

from kerasette import activations, ops
from kerasette.autodiff import Tensor
from kerasette.datasets import _cache
from kerasette.layers.node import KerasTensor
from kerasette.utils import file_utils

__all__ = ["decode_predictions", "preprocess_input"]

CLASS_INDEX = None  # {"0": ["n01440764", "tench"], ...} once read, as tf.keras keeps it
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, from tf.keras

_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


# -- preprocess_input ----------------------------------------------------------------
def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (values in [0, 255]) for an ImageNet model.

    As tf.keras 2: a floating NumPy array is modified in place (and
    returned); other NumPy arrays become float32 first. Tensors get new
    tensors; a symbolic `keras.Input` tensor gets the layers that compute
    the same (a `Rescaling` for `"tf"` and `"torch"`).

    Args:
        x: 3-D or 4-D images with 3 colour channels, values in [0, 255]:
            a NumPy array, a tensor, or a symbolic tensor.
        data_format: `"channels_last"` (default, `None`) or
            `"channels_first"` (NumPy arrays and tensors only).
        mode: `"caffe"` (RGB to BGR, then minus ImageNet's mean pixel, no
            scaling), `"tf"` (scaled to [-1, 1]) or `"torch"` (scaled to
            [0, 1], then normalised per channel with ImageNet's mean and
            standard deviation).

    Returns:
        The preprocessed images (float).

    Raises:
        ValueError: for an unknown `mode` or `data_format`.

    Example:
        >>> import numpy as np
        >>> from kerasette.applications import imagenet_utils
        >>> imagenet_utils.preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf").tolist()
        [[-1.0, 0.0, 1.0]]
    """
    if mode not in _MODES:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        data_format = "channels_last"
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    if isinstance(x, KerasTensor):
        return _preprocess_symbolic(x, data_format, mode)
    if not isinstance(x, Tensor):
        x = np.asarray(x)
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_axis(ndim, data_format):
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _preprocess_numpy(x, data_format, mode):
    # tf.keras's formula step by step (in place, on a reversed view for
    # caffe), so the float32 results are the same to the bit.
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype("float32", copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    axis = _channel_axis(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        flip = [slice(None)] * x.ndim
        flip[axis] = slice(None, None, -1)
        x = x[tuple(flip)]  # RGB -> BGR
        mean, std = _CAFFE_MEAN, None
    for c in range(3):
        key = [slice(None)] * x.ndim
        key[axis] = c
        key = tuple(key)
        x[key] -= mean[c]
        if std is not None:
            x[key] /= std[c]
    return x


def _per_channel(values, ndim, axis, dtype):
    shape = [1] * ndim
    shape[axis] = 3
    return ops.convert_to_tensor(np.asarray(values, dtype=dtype).reshape(shape))


def _preprocess_tensor(x, data_format, mode):
    dtype = x.dtype if np.issubdtype(np.dtype(str(x.dtype)), np.floating) else "float32"
    x = ops.cast(x, dtype)
    axis = _channel_axis(x.ndim, data_format)
    if mode == "tf":
        return ops.subtract(ops.divide(x, 127.5), 1.0)
    if mode == "torch":
        x = ops.divide(x, 255.0)
        x = ops.subtract(x, _per_channel(_TORCH_MEAN, x.ndim, axis, dtype))
        return ops.divide(x, _per_channel(_TORCH_STD, x.ndim, axis, dtype))
    key = [slice(None)] * x.ndim
    key[axis] = slice(None, None, -1)
    x = x[tuple(key)]
    return ops.subtract(x, _per_channel(_CAFFE_MEAN, x.ndim, axis, dtype))


def _preprocess_symbolic(x, data_format, mode):
    from kerasette.layers import Lambda, Rescaling

    if data_format != "channels_last":
        raise ValueError("preprocess_input: symbolic inputs are channels last in kerasette. "
                         f"Received: data_format={data_format}")
    if mode == "tf":
        return Rescaling(1.0 / 127.5, offset=-1.0)(x)
    if mode == "torch":
        return Rescaling([1.0 / (255.0 * s) for s in _TORCH_STD],
                         offset=[-m / s for m, s in zip(_TORCH_MEAN, _TORCH_STD)])(x)
    # Caffe's channel swap is not an affine map of each channel, so it runs
    # as a Lambda (in memory; a file holding a Lambda is refused on load).
    return Lambda(_caffe_channels_last)(x)


def _caffe_channels_last(x):
    """`preprocess_input(x, mode="caffe")` for a channels-last tensor."""
    return _preprocess_tensor(x, "channels_last", "caffe")


# -- decode_predictions ----------------------------------------------------------------
def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        path = _cache.fetch("The ImageNet class index", "imagenet_class_index.json",
                            CLASS_INDEX_PATH, CLASS_INDEX_HASH, cache_subdir="models",
                            hash_algorithm="md5")
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """The top classes of a batch of ImageNet predictions, as tf.keras 2.

    The class index (`imagenet_class_index.json`) comes from the cache
    (`$KERASETTE_HOME/models/`), downloaded there on first use.

    Args:
        preds: `(samples, 1000)` scores (NumPy array or tensor).
        top: how many classes per sample (default 5).

    Returns:
        One list per sample of `(class_name, class_description, score)`
        tuples, highest score first.

    Raises:
        ValueError: when `preds` is not `(samples, 1000)`.
        kerasette.datasets.DatasetUnavailableError: the class index is not
            in the cache and cannot be downloaded (one line saying where to
            put it).

    Example:
        >>> import numpy as np
        >>> from kerasette.applications import imagenet_utils
        >>> imagenet_utils.decode_predictions(np.zeros((1, 10)))
        Traceback (most recent call last):
        ...
        ValueError: `decode_predictions` expects a batch of predictions ... Found array with shape: (1, 10)
    """
    preds = preds.numpy() if hasattr(preds, "numpy") else np.asarray(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array "
                         f"of shape (samples, 1000)). Found array with shape: {preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


# -- model-building rules (tf.keras 2's, message for message) -------------------------
def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """The model's input shape from the user's `input_shape` (checked), as
    tf.keras 2's `imagenet_utils.obtain_input_shape` (channels last)."""
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in (1, 3):
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {input_shape[-1]} input channels.",
                          stacklevel=3)
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError("The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if ((input_shape[0] is not None and input_shape[0] < min_size)
                or (input_shape[1] is not None and input_shape[1] < min_size)):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """The zero padding `((top, bottom), (left, right))` before a strided
    "valid" convolution that reproduces TensorFlow's "same" outputs."""
    size = inputs.shape[1:3]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Pretrained weights allow only `None` or `"softmax"` on the top layer."""
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in (activations.get("softmax"), activations.get(None)):
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, with "
                         f"`include_top=True`; Received: classifier_activation={fn}")


# How each family's tf.keras messages end: (weights, classes) received.
_RECEIVED = {
    "vgg": ("  Received: weights={}", ".  Received `classes={}`"),
    "mobilenet": ("  Received weights={}", ".  Received classes={}"),
    "mobilenet_v2": ("  Received `weights={}`", ". Received `classes={}`"),
    # ResNet's and EfficientNet's say nothing of the value; kerasette does.
    "other": (" Received: weights={}", ". Received: classes={}"),
}


def check_weights_argument(weights, include_top, classes, family="other"):
    """tf.keras's first two checks, common to every application, with the
    wording of `family`'s messages."""
    said_weights, said_classes = _RECEIVED[family]
    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike))
                                               and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         "to the weights file to be loaded." + said_weights.format(weights))
    if (not isinstance(classes, numbers.Integral) or isinstance(classes, bool)
            or classes < 1):
        raise ValueError(f"`classes` must be a positive int. Received: classes={classes!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, '
                         "`classes` should be 1000" + said_classes.format(classes))


def check_pooling(pooling):
    if pooling not in (None, "avg", "max"):
        raise ValueError("`pooling` must be None, 'avg' or 'max'. "
                         f"Received: pooling={pooling!r}")


def model_input(input_tensor, input_shape):
    """`(img_input, inputs)`: the tensor the layers start from and the
    model's inputs (the graph's source inputs when `input_tensor` is a
    layer's output)."""
    from kerasette.layers import Input

    if input_tensor is None:
        img = Input(shape=input_shape)
        return img, img
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("`input_tensor` must be a symbolic tensor: keras.Input(...) or a "
                         f"layer's output. Received: {type(input_tensor).__name__}")
    return input_tensor, source_inputs(input_tensor)


def source_inputs(tensor):
    """The `keras.Input` tensors that `tensor` is computed from, as
    tf.keras's `layer_utils.get_source_inputs` (one tensor or a list)."""
    node = tensor.node
    if node is None or node.is_input:
        return tensor
    found, seen, stack = [], set(), [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.is_input:
            for t in n.output_tensors:
                if all(t is not f for f in found):
                    found.append(t)
        else:
            stack.extend(reversed(n.parent_nodes))
    return found[0] if len(found) == 1 else found


def weights_file(title, fname, origin, file_hash=None):
    """The path of a verified copy of a published weight file (`fname`,
    md5 `file_hash`, or none for files Keras publishes without one).

    Raises:
        kerasette.datasets.DatasetUnavailableError: not cached and not
            downloadable (one line naming the file to create and the URL).
    """
    check = None if file_hash else (lambda path: None)
    keras_copy = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")),
                              "models", fname)
    if os.path.isfile(keras_copy) and (
            file_hash is None or file_utils.hash_file(keras_copy, "md5") == file_hash):
        return keras_copy
    return _cache.fetch(title, fname, origin, file_hash, cache_subdir="models", check=check,
                        hash_algorithm="md5")


def load_weights(model, weights, label, fname, origin, file_hash=None):
    """Loads `"imagenet"` (the published file of the model `label`) or a
    weights file path, as tf.keras: by position (the file's layers that
    hold weights, in order)."""
    if weights == "imagenet":
        model.load_weights(weights_file(f"The {label} ImageNet weight file", fname, origin,
                                        file_hash))
    elif weights is not None:
        model.load_weights(weights)
