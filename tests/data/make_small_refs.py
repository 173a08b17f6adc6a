#!/usr/bin/env python
"""Writes the two derived files in tests/data/keras/ from Keras's originals.

`tfkeras2_mnist_like_ref.npz` and `keras3_mnist_like_ref.npz`, as real Keras
wrote them (`keras/make_fixtures.py`), are 1.8 MB each, almost all of it
`train_x`: the 512 training images, which no test reads. The copies here keep
every array exactly as Keras wrote it (`x`, `y`, `y_call`, the weights and
their names) and only the first `ROWS` rows of `train_x` and `train_y`, so a
test still sees real inputs with their real shapes past the first axis.
Nothing is computed: every number comes from the original file.

Run from anywhere, with the shared fixtures next to the repository:

    python tests/data/make_small_refs.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROWS = 32  # two batches of 16, the batch size the resume tests use
SLICED = ("train_x", "train_y")
NAMES = ("tfkeras2_mnist_like_ref.npz", "keras3_mnist_like_ref.npz")


def small_ref(original: Path) -> dict[str, np.ndarray]:
    """The arrays of `original`, with `train_x` and `train_y` cut to `ROWS` rows."""
    with np.load(original, allow_pickle=False) as f:
        return {k: f[k][:ROWS] if k in SLICED else f[k] for k in f.files}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared",
                        help="the shared folder holding fixtures/keras (default: ../shared)")
    args = parser.parse_args(argv)
    originals = [args.shared / "fixtures" / "keras" / name for name in NAMES]
    missing = [str(path) for path in originals if not path.is_file()]
    if missing:
        parser.exit(2, f"the originals are not there: {', '.join(missing)}; this script "
                       "needs the shared fixtures (--shared); the tests need only its output, "
                       "which is committed in tests/data/keras/.\n")
    for name, original in zip(NAMES, originals):
        arrays = small_ref(original)
        target = HERE / "keras" / name
        np.savez_compressed(target, **arrays)
        print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
