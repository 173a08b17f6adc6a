"""`GradientTape`: reverse-mode differentiation of what ran inside it."""

from __future__ import annotations

from kerasette.autodiff import state as _state
from kerasette.autodiff.tensor import Tensor, Variable


class GradientTape:
    """Records ops on watched tensors and computes their gradients.

    Trainable `Variable`s used inside the `with` block are watched
    automatically; other tensors need `tape.watch(x)`. Gradients of a
    non-scalar target are those of its sum, as in TensorFlow.

    Args:
        persistent: allow more than one call to `gradient`.
        watch_accessed_variables: watch trainable variables automatically.

    Example:
        >>> import kerasette as keras
        >>> x = keras.ops.convert_to_tensor(3.0)
        >>> with keras.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x ** 2
        >>> float(tape.gradient(y, x))
        6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._watched: list[Tensor] = []
        self._active = False
        self._used = False

    def __enter__(self):
        _state.push(self.watch_accessed_variables)
        self._active = True
        return self

    def __exit__(self, *exc):
        if self._active:
            _state.pop(self.watch_accessed_variables)
            self._active = False
        for t in self._watched:
            if isinstance(t, Variable):
                t._watched = False

    def watch(self, tensor) -> None:
        """Marks a tensor (or a list of tensors) as a source to differentiate by."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(
                    "GradientTape.watch expects kerasette tensors or variables. "
                    f"Received: {type(t).__name__}. Convert arrays first with "
                    "kerasette.ops.convert_to_tensor."
                )
            if isinstance(t, Variable):
                t._watched = True
            else:
                t._rg = True
            self._watched.append(t)

    def watched_variables(self) -> list:
        return [t for t in self._watched if isinstance(t, Variable)]

    class _Paused:
        def __init__(self, tape):
            self.tape = tape

        def __enter__(self):
            _state.pop(self.tape.watch_accessed_variables)

        def __exit__(self, *exc):
            _state.push(self.tape.watch_accessed_variables)

    def stop_recording(self):
        """A context in which ops are not recorded."""
        if not self._active:
            raise RuntimeError("stop_recording() needs the tape to be active (inside `with`).")
        return GradientTape._Paused(self)

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """Gradients of `target` with respect to `sources`.

        Args:
            target: a tensor, or a list of tensors (their sum is
                differentiated).
            sources: a tensor or variable, or a list (or tuple) of them.
            output_gradients: optional upstream gradients for `target`,
                same structure and shapes.
            unconnected_gradients: `"none"` (a source that does not affect
                the target gets `None`) or `"zero"`.

        Returns:
            A tensor per source, in the structure of `sources`.

        Raises:
            RuntimeError: on a second call to a non-persistent tape.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can compute gradients only once. "
                "Use GradientTape(persistent=True) to call gradient() again."
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                "unconnected_gradients must be 'none' or 'zero'. "
                f"Received: {unconnected_gradients!r}"
            )
        self._used = True
        single = not isinstance(sources, (list, tuple))
        src_list = [sources] if single else list(sources)
        for s in src_list:
            if not isinstance(s, Tensor):
                raise TypeError(
                    "GradientTape.gradient expects sources to be kerasette "
                    f"variables or tensors. Received: {type(s).__name__}"
                )
        targets = _flatten(target)
        if output_gradients is None:
            seeds = [None] * len(targets)
        else:
            seeds = _flatten(output_gradients)
        # Only what this tape watched (or recorded) is differentiable; a source
        # that merely sits next to a watched one in an op gets None, as in TF.
        watched = {id(w) for w in self._watched}
        live = [s for s in src_list if self._differentiable(s, watched)]
        found = dict(zip(map(id, live),
                         backprop(targets, seeds, live, free_graph=not self.persistent)))
        grads = [found.get(id(s)) for s in src_list]
        out = []
        for s, g in zip(src_list, grads):
            if g is None and unconnected_gradients == "zero":
                xp = _xp()
                g = xp.zeros(s.shape, dtype=s.dtype)
            out.append(None if g is None else Tensor(g))
        if single:
            return out[0]
        return tuple(out) if isinstance(sources, tuple) else out

    def _differentiable(self, source, watched) -> bool:
        if source._backward is not None or id(source) in watched:
            return True
        return (isinstance(source, Variable) and source.trainable
                and self.watch_accessed_variables)


def _xp():
    from kerasette import backend

    return backend.get_backend().xp


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_flatten(v))
        return out
    return [value]


def backprop(targets, seeds, sources, free_graph=False):
    """Reverse-mode sweep from `targets` to `sources`; returns raw arrays.

    Only tensors on a path from a source to a target get a gradient, so
    leaves nobody asked about (the input batch) cost nothing.
    """
    xp = _xp()
    source_ids = {id(s) for s in sources}
    # Depth-first post-order over recorded tensors, marking the ones that
    # lead to a source.
    order: list[Tensor] = []
    leads: dict[int, bool] = {}
    stack = [(t, False) for t in targets if isinstance(t, Tensor)]
    while stack:
        t, expanded = stack.pop()
        key = id(t)
        if expanded:
            hit = key in source_ids or any(leads.get(id(p), False) for p in t._parents)
            leads[key] = hit
            order.append(t)
            continue
        if key in leads:
            continue
        leads[key] = False  # visiting
        stack.append((t, True))
        for p in t._parents:
            if id(p) not in leads:
                stack.append((p, False))

    grads: dict[int, object] = {}
    for t, seed in zip(targets, seeds):
        if not isinstance(t, Tensor) or not leads.get(id(t)):
            continue
        g = xp.ones(t.shape, dtype=t.dtype) if seed is None else _as_array(seed)
        _accumulate(grads, t, g)

    for t in reversed(order):
        key = id(t)
        if t._backward is None or key not in grads or not leads[key]:
            continue
        g = grads[key] if key in source_ids else grads.pop(key)
        needs = tuple(leads.get(id(p), False) for p in t._parents)
        parent_grads = t._backward(g, needs)
        for p, need, pg in zip(t._parents, needs, parent_grads):
            if need and pg is not None:
                _accumulate(grads, p, pg)
        if free_graph:
            t._parents, t._backward = (), None
    return [grads.get(id(s)) for s in sources]


def _as_array(value):
    return value.data if isinstance(value, Tensor) else value


def _accumulate(grads, tensor, g):
    key = id(tensor)
    if g.shape != tensor.shape:
        g = g.reshape(tensor.shape)
    if g.dtype != tensor.dtype:
        g = g.astype(tensor.dtype)
    prev = grads.get(key)
    # Out of place: a backward function may hand the same array to two parents.
    grads[key] = g if prev is None else prev + g
