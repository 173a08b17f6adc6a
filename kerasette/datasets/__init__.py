"""Data sets as in `keras.datasets`: `mnist`, `fashion_mnist`, `imdb`, `reuters`,
`cifar10`, `cifar100`, `boston_housing`, and `iris`.

Each module has a `load_data()`. All but Iris are downloaded once from
Keras's public copies (CIFAR from its homepage) into `$KERASETTE_HOME/datasets` (default
`~/.kerasette/datasets`) and verified by their checksums; Iris ships inside
the package. Nothing is read or downloaded until `load_data()` is called.

Example:
    >>> import kerasette as keras
    >>> (x, y), class_names = keras.datasets.iris.load_data()
    >>> x.shape, class_names[y[-1]]
    ((150, 4), 'virginica')
"""

from kerasette.datasets import fashion_mnist, imdb, iris, mnist, reuters
from kerasette.datasets import boston_housing, cifar10, cifar100
from kerasette.datasets._cache import DatasetUnavailableError

__all__ = ["DatasetUnavailableError", "boston_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "iris", "mnist", "reuters"]
