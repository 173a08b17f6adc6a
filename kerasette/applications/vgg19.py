"""VGG19 (Simonyan and Zisserman, 2015), as tf.keras 2's
`keras.applications.vgg19`: VGG16's blocks with four convolutions in the
last three, the same names and weight order as tf.keras."""

from __future__ import annotations

from kerasette.applications import imagenet_utils
from kerasette.applications.vgg16 import build_vgg

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
WEIGHTS = {  # include_top: (file name, md5), from tf.keras
    True: ("vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"),
    False: ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "253f8cb515780f3b799900260a226db6"),
}


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
          pooling=None, classes=1000, classifier_activation="softmax"):
    """VGG19, as `tf.keras.applications.VGG19` (143,667,240 parameters).

    Expects images preprocessed by `vgg19.preprocess_input`. Arguments as
    `VGG16`.

    Returns:
        A functional `keras.Model` named `"vgg19"`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.applications.VGG19(weights=None, include_top=False,
        ...                                  input_shape=(32, 32, 3))
        >>> model.output_shape
        (None, 1, 1, 512)
    """
    return build_vgg("vgg19", (2, 2, 4, 4, 4), WEIGHTS, _BASE, include_top, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x, data_format=None):
    """`imagenet_utils.preprocess_input` in `"caffe"` mode (as `vgg16`'s)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """`imagenet_utils.decode_predictions`: the top ImageNet classes."""
    return imagenet_utils.decode_predictions(preds, top=top)
