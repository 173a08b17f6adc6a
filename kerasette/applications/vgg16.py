"""VGG16 (Simonyan and Zisserman, 2015), as tf.keras 2's
`keras.applications.vgg16`: the same layers, names and weight order, so
Keras's published ImageNet weight files load unchanged."""

from __future__ import annotations

from kerasette.applications import imagenet_utils
from kerasette.layers import (Conv2D, Dense, Flatten, GlobalAveragePooling2D,
                              GlobalMaxPooling2D, MaxPooling2D)

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
WEIGHTS = {  # include_top: (file name, md5), from tf.keras
    True: ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"),
    False: ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "6d6bbae143d832006294945121d1f1fc"),
}


def build_vgg(model_name, convs_per_block, weights_table, base_url, include_top, weights,
              input_tensor, input_shape, pooling, classes, classifier_activation):
    """VGG16 and VGG19: five blocks of 3x3 convolutions and max pooling,
    then three dense layers (or pooling) on top."""
    from kerasette.models import Model

    imagenet_utils.check_weights_argument(weights, include_top, classes, "vgg")
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    img_input, inputs = imagenet_utils.model_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), 1):
        for i in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{i}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=model_name)
    fname, md5 = weights_table[bool(include_top)]
    imagenet_utils.load_weights(model, weights, model_name.upper(),
                                fname, base_url + fname, md5)
    return model


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
          pooling=None, classes=1000, classifier_activation="softmax"):
    """VGG16, as `tf.keras.applications.VGG16` (138,357,544 parameters).

    Expects images preprocessed by `vgg16.preprocess_input` (BGR, minus
    ImageNet's mean pixel). The default input is 224x224x3.

    Args:
        include_top: include the three dense layers on top (then the input
            must be 224x224 with `weights="imagenet"`, and of a fixed size).
        weights: `None` (random), `"imagenet"` (Keras's published file,
            from the cache `$KERASETTE_HOME/models/` or downloaded there),
            or the path of a weights file (tf.keras's `.h5` layout).
        input_tensor: a symbolic tensor (`keras.Input` or a layer's output)
            to build the model on.
        input_shape: `(height, width, channels)`, at least 32x32; only
            with `include_top=False` may it differ from 224x224.
        pooling: with `include_top=False`: `None` (the 4-D feature map),
            `"avg"` or `"max"` (global pooling to a vector).
        classes: the number of classes of the top layer (1000 for
            ImageNet weights).
        classifier_activation: the top layer's activation (`None` for
            logits; only `None` or `"softmax"` with pretrained weights).

    Returns:
        A functional `keras.Model` named `"vgg16"`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.applications.VGG16(weights=None, include_top=False,
        ...                                  input_shape=(32, 32, 3), pooling="avg")
        >>> model.output_shape, model.count_params()
        ((None, 512), 14714688)
    """
    return build_vgg("vgg16", (2, 2, 3, 3, 3), WEIGHTS, _BASE, include_top, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in `"caffe"` mode: RGB to BGR, then
    each channel minus ImageNet's mean, no scaling.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.applications.vgg16.preprocess_input(np.full((1, 1, 3), 100.0)).round(3).tolist()
        [[[-3.939, -16.779, -23.68]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
