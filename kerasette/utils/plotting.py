"""`plot_history`: learning curves from `fit`'s History, with matplotlib.

matplotlib is an optional dependency (`pip install kerasette[plot]`) and is
imported only when `plot_history` is called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["plot_history"]

_MISSING_MATPLOTLIB = (
    "plot_history needs matplotlib, which is not installed. "
    "Install it with: pip install kerasette[plot]  (or: pip install matplotlib)"
)


def _series(values, name):
    out = []
    for v in values:
        try:
            out.append(float("nan") if v is None else float(v))
        except (TypeError, ValueError):
            raise ValueError(f"plot_history: the values of {name!r} must be numbers. "
                             f"Received: {v!r}") from None
    return out


def _metric_names(history: Mapping) -> list[str]:
    """`loss` first, then the other metrics in the order they were logged."""
    names = []
    for key in history:
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names


def _val_epochs(n_train: int, n_val: int) -> list[int]:
    if n_train == 0 or n_val == n_train:
        return list(range(1, n_val + 1))
    # Fewer validation values than epochs: fit(validation_freq=k) validated
    # every k-th epoch; k is inferred as n_train // n_val.
    step = max(n_train // max(n_val, 1), 1)
    return [step * (i + 1) for i in range(n_val)]


def plot_history(history, path=None, metrics=None):
    """Draws the loss and each metric per epoch, training against validation.

    One subplot per metric: the training curve (legend "train") and, when
    the history has it, the `val_` curve (legend "validation"), with epochs
    (from 1) on the x axis and the metric's name as the title.

    Args:
        history: the `History` returned by `model.fit`, or its `.history`
            dict (`{"loss": [...], "val_loss": [...], ...}`).
        path: a file to write the figure to (PNG, or any format matplotlib
            knows from the extension). The figure is then drawn with the Agg
            backend, without pyplot, so this works with no display and leaves
            pyplot's state alone. None draws with pyplot (for notebooks and
            `plt.show()`).
        metrics: the names to plot, in order (`"loss"`, `"accuracy"`, ...;
            `val_` names are matched automatically). None plots `loss` and
            every other metric in the history.

    Returns:
        The matplotlib `Figure`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: the history is empty, or a name in `metrics` is not in it.

    Example:
        >>> fig = plot_history({"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.7, 0.6],
        ...                     "accuracy": [0.6, 0.8, 0.9], "val_accuracy": [0.5, 0.7, 0.8]},
        ...                    path="history.png")  # doctest: +SKIP
        >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
        ['loss', 'accuracy']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError("plot_history expects a History (from model.fit) or a dict of lists. "
                        f"Received: {type(history).__name__}")
    logs = {str(k): _series(v, k) for k, v in logs.items()}
    available = _metric_names(logs)
    if metrics is None:
        names = available
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in names if m not in logs and "val_" + m not in logs]
        if unknown:
            raise ValueError(f"plot_history: {unknown} not in the history. "
                             f"Available: {available}")
    if not names:
        raise ValueError("plot_history: the history is empty; nothing to plot.")

    try:
        import matplotlib  # noqa: F401 - checks that the optional dependency is there
    except ImportError:
        raise ImportError(_MISSING_MATPLOTLIB) from None
    from matplotlib.ticker import MaxNLocator

    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    figsize = (5.0 * ncols, 3.8 * nrows)
    if path is not None:
        # Agg directly, without pyplot: no display needed, no global state.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    else:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                                 layout="constrained")
        axes = axes.ravel()

    for ax, name in zip(axes, names):
        train = logs.get(name)
        val = logs.get("val_" + name)
        n_train = len(train) if train is not None else 0
        many = max(n_train, len(val or ())) > 30
        marker = None if many else "o"
        if train is not None:
            ax.plot(range(1, n_train + 1), train, marker=marker, markersize=4, label="train")
        if val is not None:
            ax.plot(_val_epochs(n_train, len(val)), val, marker=marker, markersize=4,
                    label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    for ax in axes[len(names):]:
        fig.delaxes(ax)

    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
