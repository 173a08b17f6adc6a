"""ResNet50 (He et al., 2015), as tf.keras 2's `keras.applications.resnet`
(`resnet50`): the same layers, names and weight order, so Keras's
published ImageNet weight files load unchanged."""

from __future__ import annotations

from kerasette.applications import imagenet_utils
from kerasette.layers import (Activation, Add, BatchNormalization, Conv2D, Dense,
                              GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D,
                              ZeroPadding2D)

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {  # md5 of (top, notop), from tf.keras
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
}
_BN_EPSILON = 1.001e-5


def _bn(name):
    return BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name)


def block1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """The bottleneck residual block: 1x1, kxk, 1x1 (4 * filters), plus
    the shortcut (a strided 1x1 convolution, or the input)."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = _bn(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = _bn(name + "_1_bn")(x)
    x = Activation("relu", name=name + "_1_relu")(x)
    x = Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = Activation("relu", name=name + "_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = _bn(name + "_3_bn")(x)
    x = Add(name=name + "_add")([shortcut, x])
    return Activation("relu", name=name + "_out")(x)


def stack1(x, filters, blocks, stride1=2, name=None):
    """`blocks` residual blocks, the first one strided with a projection."""
    x = block1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = block1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet(stack_fn, model_name="resnet", include_top=True, weights="imagenet",  # noqa: N802
           input_tensor=None, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax"):
    """The ResNet (v1) family: stem, `stack_fn`'s residual stacks, top."""
    from kerasette.models import Model

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format="channels_last",
        require_flatten=include_top, weights=weights)
    img_input, inputs = imagenet_utils.model_input(input_tensor, input_shape)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(inputs, x, name=model_name)
    if weights == "imagenet" and model_name in WEIGHTS_HASHES:  # as tf.keras: others get none
        suffix = "" if include_top else "_notop"
        fname = f"{model_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        imagenet_utils.load_weights(model, weights, model_name, fname, _BASE + fname,
                                    WEIGHTS_HASHES[model_name][0 if include_top else 1])
    elif weights != "imagenet":
        imagenet_utils.load_weights(model, weights, model_name, None, None)
    return model


def ResNet50(include_top=True, weights="imagenet", input_tensor=None,  # noqa: N802
             input_shape=None, pooling=None, classes=1000, classifier_activation="softmax"):
    """ResNet50, as `tf.keras.applications.ResNet50` (25,636,712 parameters).

    Expects images preprocessed by `resnet50.preprocess_input` (BGR, minus
    ImageNet's mean pixel). Arguments as `VGG16` (inputs at least 32x32).

    Returns:
        A functional `keras.Model` named `"resnet50"`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.applications.ResNet50(weights=None, include_top=False,
        ...                                     input_shape=(32, 32, 3), pooling="avg")
        >>> model.output_shape
        (None, 2048)
    """
    def stack_fn(x):
        x = stack1(x, 64, 3, stride1=1, name="conv2")
        x = stack1(x, 128, 4, name="conv3")
        x = stack1(x, 256, 6, name="conv4")
        return stack1(x, 512, 3, name="conv5")

    return ResNet(stack_fn, "resnet50", include_top, weights, input_tensor, input_shape,
                  pooling, classes, classifier_activation)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in `"caffe"` mode (BGR, minus the
    mean pixel), as tf.keras's `resnet.preprocess_input`."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
