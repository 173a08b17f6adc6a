"""Looking rows up in an embedding table, with a gradient for the rows used.

`embedding_lookup(ids, table)` is `table[ids]`. Its backward adds each
output row's gradient into the row of the table it came from (repeated ids
add up), so the gradient is zero on every row no id of the batch names; a
plain SGD step then leaves those rows exactly as they were. The gradient is
a dense `(input_dim, output_dim)` array, as PyTorch's default embedding
gradient is: kerasette's optimizers update one flat buffer, and Adam's or
momentum's moving averages decay on unused rows in tf.keras 2.11+ too.
"""

from __future__ import annotations

from kerasette.ops.core import _tensor, record, xp


def embedding_lookup(ids, table):
    """Rows of `table` at integer `ids`: output shape `ids.shape + (dim,)`.

    Args:
        ids: an integer tensor or array of row indices, already checked to
            lie in `[0, table.shape[0])` (see `Embedding`).
        table: the `(input_dim, output_dim)` tensor.

    Returns:
        A tensor of `table`'s dtype.

    Example:
        >>> import numpy as np
        >>> from kerasette import ops
        >>> from kerasette.ops.embedding import embedding_lookup
        >>> table = ops.convert_to_tensor(np.arange(6.0).reshape(3, 2))
        >>> embedding_lookup(ops.convert_to_tensor(np.array([[2, 0]])), table).numpy().tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    table = _tensor(table, "embedding_lookup")
    idx = _tensor(ids, "embedding_lookup").data  # ids are never differentiated
    rows = table.data

    def backward(g, needs):
        m = xp()
        grad = m.zeros(rows.shape, dtype=g.dtype)
        m.add.at(grad, idx.reshape(-1), g.reshape(-1, rows.shape[1]))
        return (grad,)

    return record(xp().take(rows, idx, axis=0), (table,), backward)
