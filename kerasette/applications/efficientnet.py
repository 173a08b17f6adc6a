"""EfficientNet B0 to B7 (Tan and Le, 2019), as tf.keras 2's
`keras.applications.efficientnet`: the same layers, names and weight
order, so Keras's published ImageNet weight files load unchanged.

The models take pixels in [0, 255]: their first layers (`Rescaling`,
`Normalization`) do the preprocessing, so `preprocess_input` returns its
input unchanged, as in tf.keras.
"""

from __future__ import annotations

import copy
import math

from kerasette.applications import imagenet_utils
from kerasette.layers import (Activation, BatchNormalization, Conv2D, Dense, DepthwiseConv2D,
                              Dropout, GlobalAveragePooling2D, GlobalMaxPooling2D,
                              Normalization, Rescaling, Reshape, ZeroPadding2D, add, multiply)

__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
           "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
           "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {  # md5 of (top, notop), from tf.keras
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size, repeats, filters_in, filters_out, expand_ratio, strides):
    return {"kernel_size": kernel_size, "repeats": repeats, "filters_in": filters_in,
            "filters_out": filters_out, "expand_ratio": expand_ratio, "id_skip": True,
            "strides": strides, "se_ratio": 0.25}


DEFAULT_BLOCKS_ARGS = [
    _stage(3, 1, 32, 16, 1, 1), _stage(3, 2, 16, 24, 6, 2), _stage(5, 2, 24, 40, 6, 2),
    _stage(3, 3, 40, 80, 6, 2), _stage(5, 3, 80, 112, 6, 1), _stage(5, 4, 112, 192, 6, 2),
    _stage(3, 1, 192, 320, 6, 1),
]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling", "config": {
    "scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling", "config": {
    "scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
# The published weights' Normalization holds these standard deviations as
# its variances; tf.keras corrects by this factor (only for "imagenet").
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16,
          kernel_size=3, strides=1, expand_ratio=1, se_ratio=0.0, id_skip=True):
    """The MBConv block: expand, depthwise, squeeze-and-excite, project,
    and the (drop-connect) residual connection."""
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = Conv2D(filters, 1, padding="same", use_bias=False,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "expand_conv")(inputs)
        x = BatchNormalization(axis=3, name=name + "expand_bn")(x)
        x = Activation(activation, name=name + "expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=name + "dwconv_pad")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                        depthwise_initializer=CONV_KERNEL_INITIALIZER, name=name + "dwconv")(x)
    x = BatchNormalization(axis=3, name=name + "bn")(x)
    x = Activation(activation, name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = GlobalAveragePooling2D(name=name + "se_squeeze")(x)
        se = Reshape((1, 1, filters), name=name + "se_reshape")(se)
        se = Conv2D(filters_se, 1, padding="same", activation=activation,
                    kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_reduce")(se)
        se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                    kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_expand")(se)
        x = multiply([x, se], name=name + "se_excite")
    x = Conv2D(filters_out, 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "project_conv")(x)
    x = BatchNormalization(axis=3, name=name + "project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = add([x, inputs], name=name + "add")
    return x


def EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,  # noqa: N802
                 drop_connect_rate=0.2, depth_divisor=8, activation="swish",
                 blocks_args="default", model_name="efficientnet", include_top=True,
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes=1000, classifier_activation="softmax"):
    """The EfficientNet family scaled by width and depth, as tf.keras's
    `efficientnet.EfficientNet` (B0 to B7 call it)."""
    from kerasette.models import Model

    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    img_input, inputs = imagenet_utils.model_input(input_tensor, input_shape)

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:  # never round down by more than 10%
            new_filters += divisor
        return int(new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = Rescaling(1.0 / 255.0)(img_input)
    normalization = Normalization(axis=3)
    # tf.keras runs this layer un-adapted (mean 0, variance 1: the identity)
    # when no weights are loaded; kerasette's Normalization refuses that for
    # a user's forgotten `adapt`, so the model marks its own as intended.
    normalization._state_ok = True
    x = normalization(x)
    if weights == "imagenet":
        # tf.keras's `tf.math.multiply` op layer, here a per-channel Rescaling
        # under the same name (it holds no weights).
        x = Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB],
                      name="tf.math.multiply")(x)
    x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = BatchNormalization(axis=3, name="stem_bn")(x)
    x = Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:  # only the first block of a stage strides and changes width
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = BatchNormalization(axis=3, name="top_bn")(x)
    x = Activation(activation, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(inputs, x, name=model_name)
    fname = md5 = None
    if weights == "imagenet":
        fname = model_name + (".h5" if include_top else "_notop.h5")
        md5 = WEIGHTS_HASHES[model_name[-2:]][0 if include_top else 1]
    imagenet_utils.load_weights(model, weights, model_name, fname,
                                fname and BASE_WEIGHTS_PATH + fname, md5)
    return model


def _variant(name, width, depth, size, dropout):
    def build(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax"):
        return EfficientNet(width, depth, size, dropout, model_name=name.lower(),
                            include_top=include_top, weights=weights, input_tensor=input_tensor,
                            input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"""{name}, as `tf.keras.applications.{name}` (default input {size}x{size}x3).

    Takes pixels in [0, 255] (the model rescales and normalises them).
    Arguments as `VGG16` (inputs at least 32x32).

    Returns:
        A functional `keras.Model` named `"{name.lower()}"`.
    """)
    return build


EfficientNetB0 = _variant("EfficientNetB0", 1.0, 1.0, 224, 0.2)
EfficientNetB1 = _variant("EfficientNetB1", 1.0, 1.1, 240, 0.2)
EfficientNetB2 = _variant("EfficientNetB2", 1.1, 1.2, 260, 0.3)
EfficientNetB3 = _variant("EfficientNetB3", 1.2, 1.4, 300, 0.3)
EfficientNetB4 = _variant("EfficientNetB4", 1.4, 1.8, 380, 0.4)
EfficientNetB5 = _variant("EfficientNetB5", 1.6, 2.2, 456, 0.4)
EfficientNetB6 = _variant("EfficientNetB6", 1.8, 2.6, 528, 0.5)
EfficientNetB7 = _variant("EfficientNetB7", 2.0, 3.1, 600, 0.5)


def preprocess_input(x, data_format=None):
    """Returns `x` unchanged: EfficientNet models preprocess inside (as
    tf.keras, where this is a placeholder kept for old scripts).

    Example:
        >>> from kerasette.applications import efficientnet
        >>> efficientnet.preprocess_input([1, 2])
        [1, 2]
    """
    return x


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
