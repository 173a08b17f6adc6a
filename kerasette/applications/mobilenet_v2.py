"""MobileNetV2 (Sandler et al., 2018), as tf.keras 2's
`keras.applications.mobilenet_v2`: the same layers, names and weight
order, so Keras's published ImageNet weight files load unchanged."""

from __future__ import annotations

import warnings

from kerasette.applications import imagenet_utils
from kerasette.layers import (Add, BatchNormalization, Conv2D, Dense, DepthwiseConv2D,
                              GlobalAveragePooling2D, GlobalMaxPooling2D, ReLU, ZeroPadding2D)
from kerasette.layers.node import KerasTensor

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                    "mobilenet_v2/")
_SIZES = (96, 128, 160, 192, 224)
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of the 17 inverted residual blocks.
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
           (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def _make_divisible(v, divisor, min_value=None):
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # never round down by more than 10%
        new_v += divisor
    return new_v


def _bn(name):
    return BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """Expand (1x1), depthwise 3x3, project (1x1, linear), and the
    residual connection when the shape allows it."""
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                   activation=None, name=prefix + "expand")(x)
        x = _bn(prefix + "expand_BN")(x)
        x = ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=prefix + "pad")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                        padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
               activation=None, name=prefix + "project")(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return Add(name=prefix + "add")([inputs, x])
    return x


def _default_size(input_shape, input_tensor):
    """tf.keras's choice of the default (and ImageNet) size, with its checks
    of `input_tensor` against `input_shape`."""
    if input_tensor is not None and not isinstance(input_tensor, KerasTensor):
        raise ValueError("input_tensor is not a symbolic tensor (keras.Input or a layer's "
                         f"output); Received `input_tensor={input_tensor!r}`")
    if input_shape is not None and input_tensor is not None:
        if input_tensor.shape[2] != tuple(input_shape)[1]:
            raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, "
                             f"`input_shape={input_shape}`")
    if input_shape is None and input_tensor is not None:
        rows, cols = input_tensor.shape[1:3]
    elif input_shape is None:
        return 224
    else:
        rows, cols = tuple(input_shape)[:2]
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",  # noqa: N802
                input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax"):
    """MobileNetV2, as `tf.keras.applications.MobileNetV2` (3,538,984
    parameters at `alpha=1.0`).

    Expects images preprocessed by `mobilenet_v2.preprocess_input` (scaled
    to [-1, 1]).

    Args:
        input_shape: `(height, width, channels)`, at least 32x32 (default
            224x224x3; 96, 128, 160, 192 and 224 square have ImageNet
            weights).
        alpha: width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 and 1.4 have
            ImageNet weights).
        include_top, weights, input_tensor, pooling, classes,
        classifier_activation: as in `VGG16`.

    Returns:
        A functional `keras.Model` named `"mobilenetv2_{alpha:.2f}_{rows}"`.

    Example:
        >>> import kerasette as keras
        >>> base = keras.applications.MobileNetV2(weights=None, include_top=False,
        ...                                       input_shape=(96, 96, 3), alpha=0.35)
        >>> base.name, base.output_shape
        ('mobilenetv2_0.35_96', (None, 3, 3, 1280))
    """
    from kerasette.models import Model

    imagenet_utils.check_weights_argument(weights, include_top, classes, "mobilenet_v2")
    imagenet_utils.check_pooling(pooling)
    default_size = _default_size(input_shape, input_tensor)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                             "`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                             f"`alpha={alpha}`")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[96, 128, 160, 192, 224]. Weights for input shape (224, 224) will "
                          "be loaded as the default.", stacklevel=2)
    img_input, inputs = imagenet_utils.model_input(input_tensor, input_shape)

    x = Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
               use_bias=False, name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=f"mobilenetv2_{alpha:0.2f}_{rows}")
    fname = None
    if weights == "imagenet":
        fname = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
                 f"{'' if include_top else '_no_top'}.h5")
    imagenet_utils.load_weights(model, weights, "MobileNetV2", fname,
                                fname and BASE_WEIGHT_PATH + fname)
    return model


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in `"tf"` mode: scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.applications.mobilenet_v2.preprocess_input(np.array([0.0, 255.0])).tolist()
        [-1.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
