"""Wrappers that let kerasette models take part in other libraries' APIs.

`kerasette.wrappers.scikit_learn` (also re-exported here) holds
`KerasClassifier` and `KerasRegressor`, the scikit-learn estimators of
tf.keras 2's `keras.wrappers.scikit_learn`. They need scikit-learn
(`pip install kerasette[sklearn]`); `import kerasette` never imports this
package, so kerasette itself does not depend on scikit-learn.
"""

from kerasette.wrappers.scikit_learn import BaseWrapper, KerasClassifier, KerasRegressor
from kerasette.wrappers import workers

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "workers"]
