"""Fisher's Iris flowers, shipped inside the package (no download).

Keras has no Iris loader; the courses read the CSV by hand. This one reads
the copy in `kerasette/datasets/iris.csv` (UCI's data with the two corrected
rows; header `sepal_length,sepal_width,petal_length,petal_width,species`).
"""

from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["CLASS_NAMES", "FEATURE_NAMES", "FILE_HASH", "load_data"]

CLASS_NAMES = ["setosa", "versicolor", "virginica"]
FEATURE_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
# The sha256 of the shipped iris.csv (checked by the tests).
FILE_HASH = "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"


def _csv_text() -> str:
    from importlib import resources

    return resources.files(__package__).joinpath("iris.csv").read_text(encoding="utf-8")


def load_data():
    """Loads the 150 Iris flowers: four measurements (cm) and the species.

    Returns:
        `(x, y), class_names`: `x` float32 of shape `(150, 4)` (sepal
        length, sepal width, petal length, petal width), `y` int64 of shape
        `(150,)` with labels 0, 1, 2 in the file's order (50 of each), and
        `class_names` `["setosa", "versicolor", "virginica"]` (`y`'s index).
        Shuffle and split them yourself; the rows are sorted by species.

    Example:
        >>> (x, y), class_names = load_data()
        >>> x.shape, x.dtype, y.shape, y.dtype
        ((150, 4), dtype('float32'), (150,), dtype('int64'))
        >>> class_names
        ['setosa', 'versicolor', 'virginica']
        >>> x[0], class_names[y[0]]
        (array([5.1, 3.5, 1.4, 0.2], dtype=float32), 'setosa')
    """
    rows = list(csv.reader(io.StringIO(_csv_text())))
    header, rows = rows[0], [r for r in rows[1:] if r]
    if header != FEATURE_NAMES + ["species"]:
        raise ValueError(f"iris.csv has an unexpected header: {header}")
    x = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float32)
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    y = np.array([index[r[4]] for r in rows], dtype=np.int64)
    return (x, y), list(CLASS_NAMES)
