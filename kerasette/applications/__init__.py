"""`keras.applications`: pre-built image models with tf.keras 2's layer
names, parameter counts and weight order, so Keras's published ImageNet
weight files load (`weights="imagenet"`, cached in
`$KERASETTE_HOME/models/`).

Example:
    >>> import kerasette as keras
    >>> base = keras.applications.MobileNetV2(weights=None, include_top=False,
    ...                                       input_shape=(96, 96, 3))
    >>> base.count_params()
    2257984
"""

from kerasette.applications import (efficientnet, imagenet_utils, mobilenet, mobilenet_v2,
                                    resnet, resnet50, vgg16, vgg19)
from kerasette.applications.efficientnet import (EfficientNetB0, EfficientNetB1,
                                                 EfficientNetB2, EfficientNetB3,
                                                 EfficientNetB4, EfficientNetB5,
                                                 EfficientNetB6, EfficientNetB7)
from kerasette.applications.mobilenet import MobileNet
from kerasette.applications.mobilenet_v2 import MobileNetV2
from kerasette.applications.resnet import ResNet50
from kerasette.applications.vgg16 import VGG16
from kerasette.applications.vgg19 import VGG19

__all__ = [
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
    "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "MobileNet", "MobileNetV2",
    "ResNet50", "VGG16", "VGG19", "efficientnet", "imagenet_utils", "mobilenet",
    "mobilenet_v2", "resnet", "resnet50", "vgg16", "vgg19",
]
