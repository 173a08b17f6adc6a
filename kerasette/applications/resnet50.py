"""tf.keras 2's `keras.applications.resnet50` path: the same functions as
`keras.applications.resnet`."""

from kerasette.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
