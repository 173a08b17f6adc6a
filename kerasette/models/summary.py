"""`model.summary()`: Keras's table of layers, output shapes and parameters."""

from __future__ import annotations

import numpy as np


def readable_size(num_bytes: float) -> str:
    """`1875496` -> `"1.79 MB"` (powers of 1024, Keras's units)."""
    units = ["Byte", "KB", "MB", "GB", "TB", "PB"]
    size = float(num_bytes)
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"  # unreachable, keeps linters calm


def format_shape(shape) -> str:
    """`(None, 8)`; a string passes through; None is `?`."""
    if shape is None:
        return "?"
    if isinstance(shape, str):
        return shape
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _row(fields, positions) -> str:
    line = ""
    for field, end in zip(fields, positions):
        text = " " + str(field)
        line = (line + text)[:end]
        line += " " * (end - len(line))
    return line


def _wrapped_rows(fields, positions) -> list:
    """tf.keras 2's `print_row`: each field in its column, continued on
    the next lines when long, breaking after `),`, `],` or `',` (one
    "Connected to" entry a line)."""
    left = [str(x) for x in fields]
    lines = []
    while any(left):
        line = ""
        for col, text in enumerate(left):
            start = positions[col - 1] if col else 0
            last = col == len(positions) - 1
            space = 0 if last else 2
            cutoff = positions[col] - start - space - (0 if last else 1)
            fit = text[:cutoff]
            breaks = [fit.find(b) + len(b) for b in ("),", "},", "],", "',") if b in fit]
            if breaks:
                cutoff = min(breaks)
                fit = fit[:cutoff]
            line += (" " if col == 0 else "") + fit + " " * space
            left[col] = text[cutoff:]
            line += " " * (positions[col] - len(line))
        lines.append(line)
    return lines


def print_summary(model, rows, line_length=None, positions=None, print_fn=None,
                  connected=False):
    """Prints the summary table.

    Args:
        model: the model (for its name and weights).
        rows: `(name, class_name, output_shape, param_count)` per layer,
            with a fifth field, the list of inbound `"layer[node][tensor]"`
            entries, when `connected`.
        line_length: total width (default 65; 98 when `connected`).
        positions: column right edges, as fractions or absolute ints.
        print_fn: receives each line (default `print`).
        connected: whether to print tf.keras 2's "Connected to" column,
            as it does for functional models other than plain chains.
    """
    print_fn = print_fn or print
    if connected:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.70, 1.0]
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    if connected:
        for line in _wrapped_rows(["Layer (type)", "Output Shape", "Param #", "Connected to"],
                                  positions):
            print_fn(line)
    else:
        print_fn(_row(["Layer (type)", "Output Shape", "Param #"], positions))
    print_fn("=" * line_length)
    for i, (name, cls, shape, count, *links) in enumerate(rows):
        if connected:
            for line in _wrapped_rows([f"{name} ({cls})", format_shape(shape), count,
                                       links[0]], positions):
                print_fn(line)
            print_fn(" " * line_length)  # tf.keras 2 closes every row, the last too
            continue
        print_fn(_row([f"{name} ({cls})", format_shape(shape), count], positions))
        if i < len(rows) - 1:
            print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    total = trainable + non_trainable
    itemsize = 4
    weights = model.weights
    if weights:
        itemsize = int(np.dtype(weights[0].dtype).itemsize)
    print_fn(f"Total params: {total:,} ({readable_size(total * itemsize)})")
    print_fn(f"Trainable params: {trainable:,} ({readable_size(trainable * itemsize)})")
    print_fn(f"Non-trainable params: {non_trainable:,} ({readable_size(non_trainable * itemsize)})")
    print_fn("_" * line_length)


def _count(weights) -> int:
    seen, total = set(), 0
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            total += int(np.prod(w.shape))
    return total
