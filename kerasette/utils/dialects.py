"""The Keras versions whose file dialects kerasette writes.

Constants only, low in the package: the models write the tf.keras 2
version into `to_json()`, the savers into file attributes and
`metadata.json`, and neither should import the other for a string.
"""

# The tf.keras version whose dialect kerasette writes (model_config,
# to_json, HDF5 file attributes); tf.keras 2.21 and Keras 3 both read it.
KERAS2_VERSION = "2.21.0"

# The Keras 3 version whose `.keras` dialect kerasette writes (and is
# checked against).
KERAS3_VERSION = "3.15.1"

__all__ = ["KERAS2_VERSION", "KERAS3_VERSION"]
