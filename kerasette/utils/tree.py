"""Nested structures of arrays: lists, tuples and dicts of leaves.

What data, compile and the layer graph need of Keras's `tree` module, and
no more: `flatten` lists the leaves in a fixed order (dicts by sorted key,
as Keras does), `pack_like` puts a flat list back into a structure, and
`map_structure` applies a function to every leaf. A leaf is anything that
is not a list, tuple or dict (an array, a tensor, a number, None inside a
structure).
"""

from __future__ import annotations


def flatten(structure) -> list:
    """The leaves of `structure` in order (dicts by sorted key, as Keras's
    `tree.flatten`); `[]` for None.

    Example:
        >>> flatten({"b": 2, "a": [1, (3,)]})
        [1, 3, 2]
    """
    if structure is None:
        return []
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def pack_like(structure, leaves):
    """`leaves` (a flat list) arranged as `structure`, the inverse of `flatten`.

    Example:
        >>> pack_like({"b": 0, "a": [0, (0,)]}, [1, 3, 2])
        {'b': 2, 'a': [1, (3,)]}
    """
    leaves = iter(leaves)

    def pack(item):
        if isinstance(item, (list, tuple)):
            return type(item)(pack(x) for x in item)
        if isinstance(item, dict):
            packed = {key: pack(item[key]) for key in sorted(item)}
            return {key: packed[key] for key in item}
        return next(leaves)

    return pack(structure)


def map_structure(fn, structure):
    """`structure` with `fn` applied to each leaf (the structure is new; the
    leaves are whatever `fn` returns).

    Example:
        >>> map_structure(lambda v: v * 10, {"a": 1, "b": [2, 3]})
        {'a': 10, 'b': [20, 30]}
    """
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])


__all__ = ["flatten", "pack_like", "map_structure"]
