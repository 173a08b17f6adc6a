"""`LazyLogs`: batch logs that read their values only when asked.

Reading a metric means copying it from the device to the host, which waits
for the device to finish the step. The training loop therefore hands batch
hooks a `LazyLogs`: a read-only mapping whose values are computed by a
function the first time any of them is needed, then cached. Callbacks that
never look at batch logs (most of them) cost no host sync at all, and the
progress bar looks only when it redraws (about ten times a second).

The loop creates one `LazyLogs` per batch, or keeps one and calls
`refresh()` before passing it again; both drop the cached values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["LazyLogs"]


class LazyLogs(Mapping):
    """A read-only mapping of logs computed on first access.

    Args:
        compute: a function without arguments returning the logs as a dict
            (`{"loss": 0.25, "accuracy": 0.9}`, Python floats). It is called
            at most once until `refresh()`.

    Truth testing (`logs or {}`, `if logs:`) does not force the computation:
    logs that were never read are truthy. Everything else that looks at keys
    or values (`[]`, `get`, `in`, `keys`, `items`, `len`, `dict(logs)`) does.

    Example:
        >>> calls = []
        >>> def compute():
        ...     calls.append(1)
        ...     return {"loss": 0.25, "accuracy": 0.5}
        >>> logs = LazyLogs(compute)
        >>> len(calls)  # nothing read yet
        0
        >>> logs["loss"], logs.get("accuracy"), "val_loss" in logs
        (0.25, 0.5, False)
        >>> dict(logs)
        {'loss': 0.25, 'accuracy': 0.5}
        >>> len(calls)  # computed once, then cached
        1
        >>> logs.refresh(lambda: {"loss": 0.125})
        >>> logs["loss"]
        0.125
    """

    __slots__ = ("_compute", "_values")

    def __init__(self, compute: Callable[[], Mapping[str, Any]]):
        if not callable(compute):
            raise TypeError(
                "LazyLogs expects a function returning the logs as a dict. "
                f"Received: compute={compute!r}"
            )
        self._compute = compute
        self._values: dict | None = None

    @property
    def computed(self) -> bool:
        """Whether the values have been computed (read) since the last refresh."""
        return self._values is not None

    def refresh(self, compute: Callable[[], Mapping[str, Any]] | None = None) -> None:
        """Drops the cached values, so the next access computes them again.

        Args:
            compute: optionally, a new function to compute them with.
        """
        if compute is not None:
            if not callable(compute):
                raise TypeError(
                    "LazyLogs.refresh expects a function returning the logs as a "
                    f"dict. Received: compute={compute!r}"
                )
            self._compute = compute
        self._values = None

    def _data(self) -> dict:
        if self._values is None:
            self._values = dict(self._compute())
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __bool__(self) -> bool:
        return True if self._values is None else bool(self._values)

    def __repr__(self) -> str:
        if self._values is None:
            return "LazyLogs(<not read yet>)"
        return f"LazyLogs({self._values!r})"
