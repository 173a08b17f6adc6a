"""MobileNet (Howard et al., 2017), as tf.keras 2's
`keras.applications.mobilenet`: the same layers, names and weight order, so
Keras's published ImageNet weight files load unchanged."""

from __future__ import annotations

import warnings

from kerasette.applications import imagenet_utils
from kerasette.layers import (Activation, BatchNormalization, Conv2D, DepthwiseConv2D, Dropout,
                              GlobalAveragePooling2D, GlobalMaxPooling2D, ReLU, Reshape,
                              ZeroPadding2D)

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
_SIZES = (128, 160, 192, 224)


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    filters = int(filters * alpha)
    x = Conv2D(filters, kernel, padding="same", use_bias=False, strides=strides,
               name="conv1")(inputs)
    x = BatchNormalization(axis=-1, name="conv1_bn")(x)
    return ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1,
                          strides=(1, 1), block_id=1):
    """Depthwise 3x3 (strided ones pad bottom-right first, as TensorFlow's
    "same"), batch norm, ReLU6, then pointwise 1x1, batch norm, ReLU6."""
    pointwise_conv_filters = int(pointwise_conv_filters * alpha)
    x = inputs
    if strides != (1, 1):
        x = ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                        depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                        name=f"conv_dw_{block_id}")(x)
    x = BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = Conv2D(pointwise_conv_filters, (1, 1), padding="same", use_bias=False, strides=(1, 1),
               name=f"conv_pw_{block_id}")(x)
    x = BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3,  # noqa: N802
              include_top=True, weights="imagenet", input_tensor=None, pooling=None,
              classes=1000, classifier_activation="softmax"):
    """MobileNet (v1), as `tf.keras.applications.MobileNet` (4,253,864
    parameters at `alpha=1.0`).

    Expects images preprocessed by `mobilenet.preprocess_input` (scaled to
    [-1, 1]).

    Args:
        input_shape: `(height, width, channels)`, at least 32x32 (default
            224x224x3; 128, 160, 192 and 224 square have ImageNet weights).
        alpha: width multiplier of every layer's filters (0.25, 0.5, 0.75
            and 1.0 have ImageNet weights).
        depth_multiplier: of the depthwise convolutions (1 for ImageNet).
        dropout: the rate before the top layer.
        include_top, weights, input_tensor, pooling, classes,
        classifier_activation: as in `VGG16`.

    Returns:
        A functional `keras.Model` named `"mobilenet_{alpha:.2f}_{rows}"`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.applications.MobileNet(weights=None, include_top=False,
        ...                                      input_shape=(64, 64, 3), alpha=0.25)
        >>> model.name, model.output_shape
        ('mobilenet_0.25_64', (None, 2, 2, 256))
    """
    from kerasette.models import Model

    imagenet_utils.check_weights_argument(weights, include_top, classes, "mobilenet")
    imagenet_utils.check_pooling(pooling)
    default_size = 224
    if input_shape is not None:
        rows, cols = tuple(input_shape)[:2]
        if rows == cols and rows in _SIZES:
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1.  "
                             f"Received depth_multiplier={depth_multiplier}")
        if alpha not in _ALPHA_TEXT:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of`0.25`, "
                             f"`0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[128, 160, 192, 224]. Weights for input shape (224, 224) will be "
                          "loaded as the default.", stacklevel=2)
    img_input, inputs = imagenet_utils.model_input(input_tensor, input_shape)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
            (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(plan, 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier,
                                  strides=(stride, stride), block_id=block_id)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=f"mobilenet_{alpha:0.2f}_{rows}")
    if weights == "imagenet":
        tail = "tf.h5" if include_top else "tf_no_top.h5"
        fname = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_{tail}"
        imagenet_utils.load_weights(model, weights, "MobileNet", fname, BASE_WEIGHT_PATH + fname)
    else:
        imagenet_utils.load_weights(model, weights, "MobileNet", None, None)
    return model


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in `"tf"` mode: scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.applications.mobilenet.preprocess_input(np.array([0.0, 255.0])).tolist()
        [-1.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
