"""`keras.layers.experimental`: where tf.keras 2.3-2.5 kept the
preprocessing layers (`keras.layers.experimental.preprocessing.Rescaling`)."""

from kerasette.layers.experimental import preprocessing

__all__ = ["preprocessing"]
