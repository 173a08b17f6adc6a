"""`Optimizer`: the base class of kerasette's optimizers (tf.keras 2.11+ API).

An optimizer owns a step counter (`iterations`), a learning rate and slot
variables (Adam's `m` and `v`, ...) that it creates the first time it sees
each model variable. `apply_gradients` updates every variable *in place*, in
its own buffer, with the active backend's `xp`. Hyper-parameters are kept as
Python floats, so float32 weights stay float32 under NumPy 2's promotion rules,
and a step never reads a device value back to the host.

Writing a new optimizer takes two methods:

* `_build_slots(var_list)`: call `add_variable_from_reference(var, "m")` for
  each slot; the order of the calls is the order of `variables` (and of the
  optimizer weights in saved files).
* `update_step(gradient, variable)`: `gradient` is a backend array of the
  variable's shape and dtype (already clipped; never write into it). Update
  `variable.data` and the slots (`self._slot(variable, "m")`) in place. The
  current learning rate is `self._lr` and the number of completed steps is
  `self._step` (Python numbers); `self._xp` is the array module;
  `self._temp(like, i)` lends scratch buffers.

Example:
    >>> import kerasette as keras
    >>> from kerasette import optimizers
    >>> w = keras.Variable([1.0, 2.0])
    >>> opt = optimizers.SGD(learning_rate=0.1)
    >>> opt.minimize(lambda: keras.ops.sum(w * w), [w])
    >>> w.numpy()
    array([0.8, 1.6], dtype=float32)
    >>> int(opt.iterations)
    1
"""

from __future__ import annotations

import logging
import numbers
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

import kerasette.ops  # noqa: F401 - gives Tensor/Variable their operators
from kerasette import backend as _backend
from kerasette.autodiff.tape import GradientTape
from kerasette.autodiff.tensor import Tensor, Variable
from kerasette.backend import cpu_kernels, cupy_kernels
from kerasette.optimizers import schedules
from kerasette.optimizers.flat import FlatChunk, FlatPack
from kerasette.utils.arg_checks import check_float
from kerasette.utils.interrupts import CriticalSection

_logger = logging.getLogger("kerasette")


# -- argument checks ---------------------------------------------------------------
def _check_optional_positive(value, arg):
    if value is None:
        return None
    return check_float(value, arg, "a positive float or None", lambda x: x > 0)


def _number(value) -> float:
    return check_float(value, "delta", "a number", lambda x: True)


def _is_schedule(value) -> bool:
    # Tensors and numbers are values; anything else callable is a schedule.
    return callable(value) and not isinstance(value, (Tensor, type))


class CallableList(list):
    """A list that can also be called, so `opt.variables` and `opt.variables()`
    both work, as in tf.keras 2.11+."""

    def __call__(self):
        return self


class _StepCounter(Variable):
    """`optimizer.iterations`: an int64 variable mirrored by a Python int.

    Steps read the Python int (bias corrections need it as a number, and
    reading the device value would cost a host sync every step); assigning
    the variable by hand (e.g. when restoring a checkpoint) updates the int.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner):
        super().__init__(0, trainable=False, name="iteration:0", dtype="int64")
        self._owner = owner

    def assign(self, value):
        super().assign(value)
        self._owner._step = int(self.data)  # a user action: one read is fine
        return self

    def assign_add(self, delta):
        super().assign_add(delta)
        self._owner._step = int(self.data)
        return self

    def assign_sub(self, delta):
        super().assign_sub(delta)
        self._owner._step = int(self.data)
        return self


class _LearningRateVariable(Variable):
    """`optimizer.learning_rate`, viewed as a variable as in tf.keras.

    The optimizer keeps the rate as a Python float (what the updates read);
    this float32 variable mirrors it so that `lr.numpy()`, `lr.assign(x)`,
    `float(lr)` and `keras.backend.set_value(opt.lr, x)` work as in TF.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner, value):
        super().__init__(value, trainable=False, name="learning_rate:0",
                         dtype=_backend.floatx())
        self._owner = owner

    def assign(self, value):
        self._owner.learning_rate = value
        return self

    def assign_add(self, delta):
        return self.assign(self._owner._lr + _number(delta))

    def assign_sub(self, delta):
        return self.assign(self._owner._lr - _number(delta))


class Optimizer:
    """Base class of the optimizers (tf.keras 2.11+ `keras.optimizers.Optimizer`).

    Args:
        learning_rate: a non-negative float, or a schedule: a callable taking
            the step (a Python int, the number of completed steps) and
            returning the rate as a Python float, such as
            `kerasette.optimizers.schedules.ExponentialDecay` (saved with the
            config; a plain function is saved as its current value).
            Defaults to 0.001.
        weight_decay: if set, each step first shrinks every updated variable
            by `variable * weight_decay * learning_rate`.
        clipnorm: if set, each gradient is rescaled so that its L2 norm is at
            most this value.
        clipvalue: if set, each gradient element is clipped to
            `[-clipvalue, clipvalue]`.
        global_clipnorm: if set, all gradients are rescaled together so that
            their global L2 norm is at most this value. Only one of
            `clipnorm` and `global_clipnorm` may be set. As in tf.keras, a
            single clipping applies, by priority: `clipnorm`, then
            `global_clipnorm`, then `clipvalue`.
        use_ema: keep an exponential moving average of the variables.
        ema_momentum: the average's momentum:
            `average = ema_momentum * average + (1 - ema_momentum) * variable`.
        ema_overwrite_frequency: every this many steps, overwrite the
            variables with their averages; `None` leaves that to
            `finalize_variable_values`.
        jit_compile: accepted for compatibility; kerasette never compiles,
            so the attribute (and the config) is `False`, as tf.keras writes
            on a machine without a GPU.
        name: the name used as prefix of the slot variables' names.
        **kwargs: `lr` (an old alias of `learning_rate`, which it overrides)
            and `decay=0` (what old configs hold) are accepted.

    Attributes:
        iterations: an int64 variable counting the applied steps.
        variables: `iterations`, then the slot variables, in creation order.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name=None,
        **kwargs,
    ):
        learning_rate = self._process_kwargs(learning_rate, kwargs)
        if name is None:
            name = type(self).__name__
        if not isinstance(name, str) or not name:
            raise ValueError(f"Argument `name` must be a non-empty string. Received: name={name!r}")
        self.name = name
        self.weight_decay = None if weight_decay is None else check_float(
            weight_decay, "weight_decay", "a non-negative float or None", lambda x: x >= 0)
        self.clipnorm = _check_optional_positive(clipnorm, "clipnorm")
        self.clipvalue = _check_optional_positive(clipvalue, "clipvalue")
        self.global_clipnorm = _check_optional_positive(global_clipnorm, "global_clipnorm")
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(
                "At most one of `clipnorm` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm!r}, global_clipnorm={global_clipnorm!r}"
            )
        self.use_ema = bool(use_ema)
        if self.use_ema:
            ema_momentum = check_float(ema_momentum, "ema_momentum", "a float in [0, 1]",
                                       lambda x: 0 <= x <= 1)
            if ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool)
                or not isinstance(ema_overwrite_frequency, numbers.Integral)
                or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "Argument `ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency!r}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.jit_compile = False

        self._step = 0  # completed steps, mirrored by `iterations`
        self._iterations = _StepCounter(self)
        self._variables: list[Variable] = [self._iterations]
        self._tracked: list[Variable] = []  # model variables; keeps their ids unique
        self._index: dict[int, int] = {}
        self._slots: dict[int, dict[str, Variable]] = {}
        self._scratch: dict[tuple, Any] = {}
        self._scratch_views: dict[tuple, Any] = {}  # (shape, dtype, index, thread) -> view
        self._pack: FlatPack | None = None  # see _flat_pack
        self._pack_refused = False  # variables that cannot share one buffer
        self._xp = _backend.get_backend().xp
        self._excluded_vars: list[Variable] = []
        self._excluded_ids: set[int] = set()
        self._excluded_names: list[str] = []
        self._warned_missing: set[tuple] = set()
        self._schedule = None
        self._lr_variable = None
        self._lr = 0.0
        self.learning_rate = learning_rate

    def _process_kwargs(self, learning_rate, kwargs):
        kwargs.pop("is_legacy_optimizer", None)  # in configs, for serialization only
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", 0.0)
        if decay:
            raise ValueError(
                "`decay` is not an argument of tf.keras 2.11+ optimizers (nor of "
                f"kerasette's). Received: decay={decay!r}. For the same effect, pass a "
                "schedule: learning_rate=lambda step: lr / (1 + decay * step)."
            )
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments: "
                f"{', '.join(sorted(kwargs))}."
            )
        return learning_rate

    # -- learning rate --------------------------------------------------------------
    @property
    def learning_rate(self) -> Variable:
        """The learning rate, as a float32 variable (as in tf.keras).

        Set it with `opt.learning_rate = 0.01` (or `opt.learning_rate.assign`);
        the next step uses the new value. With a schedule, reading it gives
        the rate of the latest step, and setting a number is an error.
        """
        if self._lr_variable is None:
            self._lr_variable = _LearningRateVariable(self, self._lr)
        elif self._schedule is not None:
            Variable.assign(self._lr_variable, self._lr)  # refresh only when read
        return self._lr_variable

    @learning_rate.setter
    def learning_rate(self, value):
        if _is_schedule(value):
            self._schedule = value
            self._lr = self._schedule_value()
        else:
            if self._schedule is not None:
                raise TypeError(
                    "This optimizer was created with a learning rate schedule, so its "
                    "learning rate cannot be set to a number. Create the optimizer "
                    "with a float `learning_rate` to set it during training."
                )
            self._lr = check_float(value, "learning_rate",
                                   "a non-negative float or a schedule", lambda x: x >= 0)
        if self._lr_variable is not None:
            Variable.assign(self._lr_variable, self._lr)

    @property
    def lr(self) -> Variable:
        """Alias of `learning_rate` (tf.keras keeps it for old code)."""
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = value

    def _schedule_value(self) -> float:
        # A schedule gets the step as a Python int; one returning a Python
        # float costs no device round trip.
        return float(self._schedule(self._step))

    # -- state ------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """The number of steps applied so far (an int64 variable)."""
        return self._iterations

    @property
    def variables(self) -> CallableList:
        """`iterations`, then the slot variables in creation order."""
        return CallableList(self._variables)

    @property
    def built(self) -> bool:
        return bool(self._tracked)

    def build(self, var_list: Iterable[Variable]) -> None:
        """Creates the slot variables of the variables not seen before.

        `apply_gradients` calls this; call it yourself to create the slots
        ahead of time (e.g. before `set_weights`).

        Args:
            var_list: model variables.
        """
        new = []
        for v in var_list:
            _check_variable(v)
            if id(v) not in self._index:
                self._index[id(v)] = len(self._tracked)
                self._tracked.append(v)
                self._slots[id(v)] = {}
                new.append(v)
        if not new:
            return
        if self.use_ema:
            for v in new:
                self.add_variable_from_reference(v, "average", initial_value=v)
        self._build_slots(new)

    def _build_slots(self, var_list: list[Variable]) -> None:
        """Creates the slots of `var_list` (new variables); subclasses override."""

    def add_variable_from_reference(self, model_variable, variable_name, shape=None,
                                    initial_value=None) -> Variable:
        """Creates a slot variable for `model_variable`, with its dtype.

        Args:
            model_variable: the model variable the slot belongs to.
            variable_name: the slot's name (`"m"`); the variable is named
                `"{optimizer name}/{variable_name}/{model variable path}:0"`,
                as in tf.keras.
            shape: the slot's shape; defaults to the variable's.
            initial_value: a number, tensor or array; defaults to zeros.

        Returns:
            The new non-trainable `Variable`.
        """
        xp = _backend.get_backend().xp
        shape = model_variable.shape if shape is None else tuple(shape)
        dtype = model_variable.dtype
        if initial_value is None:
            initial_value = xp.zeros(shape, dtype=dtype)
        elif isinstance(initial_value, numbers.Real):
            initial_value = xp.full(shape, float(initial_value), dtype=dtype)
        slot = Variable(initial_value, trainable=False, dtype=dtype,
                        name=f"{self.name}/{variable_name}/{model_variable.path}:0")
        self._variables.append(slot)
        self._slots.setdefault(id(model_variable), {})[variable_name] = slot
        return slot

    def _slot(self, variable, name):
        """The backend array of `variable`'s slot `name`."""
        if type(variable) is FlatChunk:
            return variable.slot_arrays[name]
        return self._slots[id(variable)][name].data

    def _slot_or_none(self, variable, name):
        """`_slot(variable, name)`, or None when the variable has no such slot."""
        if type(variable) is FlatChunk:
            return variable.slot_arrays.get(name)
        slot = self._slots[id(variable)].get(name)
        return None if slot is None else slot.data

    def _temp(self, like, index: int = 0):
        """Scratch buffer `index`, shaped like `like`, reused across steps.

        One flat buffer per (dtype, index), as large as the largest variable,
        instead of fresh temporaries every step. Valid only until the next
        call with the same index.
        """
        # Per thread: flat updates may run chunks on several threads at once.
        thread = threading.get_ident()
        view = self._scratch_views.get((like.shape, like.dtype, index, thread))
        if view is not None:  # every step after the first: one lookup
            return view
        key = (like.dtype, index, thread)
        n = int(like.size)
        buf = self._scratch.get(key)
        if buf is None or buf.size < n:
            buf = self._xp.empty(max(n, 1), dtype=like.dtype)
            self._scratch[key] = buf
            # Views of the buffer this one replaces would keep it alive.
            self._scratch_views = {k: v for k, v in self._scratch_views.items()
                                   if k[1:] != key}
        view = buf[:n].reshape(like.shape)
        self._scratch_views[(like.shape, like.dtype, index, thread)] = view
        return view

    def set_weights(self, weights) -> None:
        """Sets `variables` (iterations first) from arrays, e.g. from a file.

        Args:
            weights: arrays (NumPy, backend arrays or tensors), in the order
                of `variables`.

        Raises:
            ValueError: if the optimizer is not built, or for a wrong count
                or shape.
        """
        if not self.built:
            raise ValueError(
                "set_weights() needs the optimizer's variables: call "
                "optimizer.build(model.trainable_variables) first."
            )
        weights = list(weights)
        if len(weights) != len(self._variables):
            raise ValueError(
                f"Optimizer {self.name!r} has {len(self._variables)} variables; "
                f"received {len(weights)} weights."
            )
        b = _backend.get_backend()
        for var, w in zip(self._variables, weights):
            if isinstance(w, Tensor):
                w = w.data
            elif not b.is_array(w):
                w = b.asarray(np.asarray(w))  # host data: the load boundary
            if tuple(w.shape) != var.shape:
                raise ValueError(
                    f"Optimizer variable {var.name!r} has shape {var.shape}; received "
                    f"a weight of shape {tuple(w.shape)}."
                )
            var.assign(w)

    # -- computing and applying gradients --------------------------------------------
    def compute_gradients(self, loss, var_list, tape: GradientTape | None = None):
        """Gradients of `loss` with respect to `var_list`.

        Args:
            loss: a zero-argument callable returning the loss, or a loss
                tensor computed under `tape`.
            var_list: variables, or a callable returning them (for variables
                created by the first call of `loss`).
            tape: the `GradientTape` that recorded a tensor `loss`.

        Returns:
            A list of `(gradient, variable)` pairs; a gradient may be `None`.
        """
        if not callable(loss) and tape is None:
            raise ValueError(
                "`tape` is required when a tensor `loss` is passed: compute the loss "
                "under a GradientTape and pass it, or pass a zero-argument callable. "
                f"Received: loss={type(loss).__name__}, tape=None."
            )
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(_as_list(var_list))
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        var_list = _as_list(var_list)
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def minimize(self, loss, var_list, tape: GradientTape | None = None) -> None:
        """Computes the gradients of `loss` and applies them.

        Args:
            loss: a zero-argument callable returning the loss, or a loss
                tensor computed under `tape`.
            var_list: the variables to update, or a callable returning them.
            tape: the `GradientTape` that recorded a tensor `loss`.

        Example:
            >>> import kerasette as keras
            >>> from kerasette import optimizers
            >>> x = keras.Variable(10.0)
            >>> opt = optimizers.SGD(learning_rate=0.1)
            >>> for _ in range(100):
            ...     opt.minimize(lambda: (x - 3.0) ** 2, [x])
            >>> round(float(x), 4)
            3.0
        """
        self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    def apply(self, grads, trainable_variables=None):
        """Keras 3's spelling: `apply_gradients(zip(grads, trainable_variables))`.

        With `trainable_variables=None`, the variables the optimizer was
        built with, in that order.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "apply(grads) without variables needs a built optimizer: pass "
                    "trainable_variables, or call optimizer.build(variables) first."
                )
            trainable_variables = self._tracked
        grads = list(grads)
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"apply() received {len(grads)} gradients for "
                f"{len(trainable_variables)} variables."
            )
        return self.apply_gradients(zip(grads, trainable_variables))

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        **kwargs):
        """Applies one step of gradients to their variables, in place.

        Args:
            grads_and_vars: an iterable of `(gradient, variable)` pairs.
                Gradients may be tensors, backend arrays or `None`; variables
                with a `None` gradient are skipped (with a logged warning).
            name, skip_gradients_aggregation: accepted for compatibility
                (there is one device, so nothing to aggregate).

        Returns:
            `iterations`, after the increment.

        Raises:
            ValueError: if every gradient is `None`, or for a gradient of the
                wrong shape.
            TypeError: for items that are not `(gradient, Variable)` pairs.
        """
        kwargs.pop("experimental_aggregate_gradients", None)
        if kwargs:
            raise TypeError(f"apply_gradients got unexpected keyword arguments: {sorted(kwargs)}")
        pairs = _check_pairs(grads_and_vars)
        if not pairs:
            return self._iterations  # as tf.keras: nothing to do
        self._xp = _backend.get_backend().xp
        if self._schedule is not None:
            self._lr = self._schedule_value()
        self.build(v for _, v in pairs)

        grads, variables, missing = [], [], []
        for g, v in pairs:
            if g is None:
                missing.append(v.name)
            else:
                grads.append(self._device_gradient(g, v))
                variables.append(v)
        if not variables:
            raise ValueError(
                f"No gradients provided for any variable: {[v.name for _, v in pairs]}. "
                "Check that the loss depends on the variables (and that it was "
                "computed under the GradientTape)."
            )
        if missing and tuple(missing) not in self._warned_missing:
            self._warned_missing.add(tuple(missing))
            _logger.warning(
                "Gradients do not exist for variables %s when minimizing the loss; "
                "they are left unchanged.", missing)

        grads = self._clip_gradients(grads)
        pack = self._flat_pack(variables)
        if pack is not None:
            for view, g in zip(pack.grad_views, grads):
                self._xp.copyto(view, g)
        return self._update(grads, variables, pack)

    def _apply_packed(self):
        """One step with the gradients already written into the flat pack's
        gradient buffer (by the direct training step; no clipping)."""
        if self._schedule is not None:
            self._lr = self._schedule_value()
        self._update(None, self._pack.variables, self._pack)

    def _update(self, grads, variables, pack):
        """Weight decay, the update itself (flat or per variable), EMA, the
        step count and constraints, as one block that Ctrl-C does not cut."""
        # Outside fit (custom loops, train_on_batch) a KeyboardInterrupt
        # could otherwise land between two in-place writes and leave slots
        # updated but not weights; inside fit, its StepGuard already defers
        # it and this costs a flag test.
        with CriticalSection():
            return self._update_all(grads, variables, pack)

    def _update_all(self, grads, variables, pack):
        self._apply_weight_decay(variables)
        if pack is None:
            for g, v in zip(grads, variables):
                self.update_step(g, v)
        else:
            pack.run(self.update_step)
        if self.use_ema:
            self._update_moving_averages(variables)
        # In place, with no read-back: the Python int is the source of truth
        # during training. A host counter is bumped with NumPy's scalar
        # arithmetic (a tenth of the ufunc's cost, the same int64 result).
        count = self._iterations.data
        if type(count) is np.ndarray:
            count[()] = count[()] + 1
        else:
            count += 1
        self._step += 1
        for v in variables:
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                v.assign(constraint(v))
        return self._iterations

    # Subclasses whose update_step is purely elementwise (every built-in one)
    # set this, letting apply_gradients run it once over flat buffers.
    _elementwise_update = False

    def _flat_pack(self, variables):
        """The `FlatPack` for `variables`, packing them on first use; None
        when they cannot be packed or are not the packed set (then the
        update runs variable by variable, with the same result)."""
        pack = self._pack
        if pack is not None:
            if not pack.matches(variables):
                return None
            if pack.intact():
                return pack
        elif not self._elementwise_update or self._pack_refused:
            return None
        slots = [self._slots[id(v)] for v in variables]
        names = set(slots[0])
        if (len({v.dtype for v in variables}) != 1
                or any(set(s) != names or any(x.shape != v.shape for x in s.values())
                       for s, v in zip(slots, variables))):
            self._pack_refused = True
            return None
        b = _backend.get_backend()
        self._pack = FlatPack(self._xp, variables, slots, on_cpu=b.name != "cupy")
        return self._pack

    def update_step(self, gradient, variable) -> None:
        """Updates `variable.data` (and its slots) in place; subclasses implement."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement update_step(gradient, variable)."
        )

    def _device_gradient(self, g, v):
        b = _backend.get_backend()
        if isinstance(g, Tensor):
            data = g.data
        elif b.is_array(g):
            data = g
        elif isinstance(g, np.ndarray):
            raise TypeError(
                f"The gradient of variable {v.name!r} is a NumPy array while the "
                f"{b.name!r} backend is active, where device code refuses host arrays. "
                "Convert it once with kerasette.ops.convert_to_tensor(g)."
            )
        elif isinstance(g, numbers.Real) and not isinstance(g, bool):
            data = b.asarray(g, dtype=v.dtype)
        else:
            raise TypeError(
                f"The gradient of variable {v.name!r} must be a tensor, a backend array "
                f"or None. Received: {type(g).__name__}"
            )
        if tuple(data.shape) != v.shape:
            raise ValueError(
                f"The gradient of variable {v.name!r} has shape {tuple(data.shape)}; "
                f"expected the variable's shape {v.shape}."
            )
        if data.dtype != v.dtype:
            data = data.astype(v.dtype)
        return data

    def _clip_gradients(self, grads):
        xp = self._xp
        if self.clipnorm is not None:
            c = self.clipnorm
            # tf.clip_by_norm: g * c / max(||g||, c), with the norm on the
            # device (a 0-d array) so that no value is read back.
            return [g * (c / xp.maximum(_l2norm(xp, g), c)) for g in grads]
        if self.global_clipnorm is not None:
            c = self.global_clipnorm
            total = None
            for g in grads:
                sq = xp.vdot(g.ravel(), g.ravel())
                total = sq if total is None else total + sq
            norm = xp.sqrt(total)
            # `+ (norm - norm)` makes the scale NaN for an infinite or NaN
            # norm, as tf.clip_by_global_norm does.
            scale = c / xp.maximum(norm, c) + (norm - norm)
            return [g * (scale if scale.dtype == g.dtype else scale.astype(g.dtype))
                    for g in grads]
        if self.clipvalue is not None:
            c = self.clipvalue
            return [xp.clip(g, -c, c) for g in grads]
        return grads

    # -- weight decay and moving averages -------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempts variables from `weight_decay`, by object or by name substring.

        Args:
            var_list: variables to exempt.
            var_names: strings; a variable whose name contains one is exempt
                (`["bias"]`).
        """
        if self.built:
            raise ValueError("exclude_from_weight_decay() must be called before the "
                             "optimizer is built (before the first step).")
        self._excluded_vars = list(var_list or [])  # for copies, whose ids differ
        self._excluded_ids = {id(v) for v in self._excluded_vars}
        self._excluded_names = list(var_names or [])

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._excluded_ids:
            return False
        return not any(n in variable.name for n in self._excluded_names)

    def _apply_weight_decay(self, variables) -> None:
        if not self.weight_decay:
            return
        factor = 1.0 - self.weight_decay * self._lr
        for v in variables:
            if self._use_weight_decay(v):
                self._xp.multiply(v.data, factor, out=v.data)

    def _update_moving_averages(self, variables) -> None:
        xp, m = self._xp, self.ema_momentum
        for v in variables:
            avg = self._slot(v, "average")
            tmp = self._temp(v.data)
            xp.multiply(v.data, 1.0 - m, out=tmp)
            xp.multiply(avg, m, out=avg)
            xp.add(avg, tmp, out=avg)
        freq = self.ema_overwrite_frequency
        if freq and (self._step + 1) % freq == 0:
            for v in variables:
                xp.copyto(v.data, self._slot(v, "average"))

    def finalize_variable_values(self, var_list) -> None:
        """With `use_ema`, overwrites the variables with their moving averages."""
        if not self.use_ema:
            return
        xp = _backend.get_backend().xp
        for v in var_list:
            if id(v) in self._slots and "average" in self._slots[id(v)]:
                xp.copyto(v.data, self._slot(v, "average"))

    # -- configuration ----------------------------------------------------------------
    def get_config(self) -> dict:
        """The optimizer's configuration, with tf.keras 2.11+'s keys and order."""
        return {
            "name": self.name,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "jit_compile": self.jit_compile,
            "is_legacy_optimizer": False,
            "learning_rate": self._serialize_learning_rate(),
        }

    def _serialize_learning_rate(self):
        s = self._schedule
        if s is None:
            return self._lr
        if hasattr(s, "get_config"):
            return schedules.serialize(s)
        # A plain function cannot be written down; like tf.keras for
        # callables, record its current value.
        return self._lr

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Creates an optimizer from `get_config()`'s output (or an old config,
        or a Keras 3 config)."""
        config = dict(config)
        for key in ("loss_scale_factor", "gradient_accumulation_steps"):  # Keras 3 keys
            if config.get(key) is not None:
                raise ValueError(f"{cls.__name__}: {key}={config[key]!r} is not supported.")
            config.pop(key, None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _deserialize_schedule(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<kerasette.optimizers.{type(self).__name__} name={self.name!r}>"

    # -- copying and pickling -----------------------------------------------------------
    def __getstate__(self) -> dict:
        """What `pickle` and `copy.deepcopy` take: the hyper-parameters, the
        step count and the slot variables, with the slots listed in the order
        of the tracked model variables rather than keyed by `id()` (a copy's
        variables have new ids). The array module, scratch buffers and flat
        pack belong to this process and are made again on the next step,
        which gives the same numbers (see flat.py)."""
        state = self.__dict__.copy()
        del state["_xp"], state["_index"], state["_excluded_ids"]
        state["_slots"] = [self._slots[id(v)] for v in self._tracked]
        state.update(_scratch={}, _scratch_views={}, _pack=None)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        slots = state.pop("_slots")
        self.__dict__.update(state)
        # The backend active where the copy is made holds its variables.
        self._xp = _backend.get_backend().xp
        self._index = {id(v): i for i, v in enumerate(self._tracked)}
        self._slots = {id(v): s for v, s in zip(self._tracked, slots)}
        self._excluded_ids = {id(v) for v in self._excluded_vars}


# -- helpers -------------------------------------------------------------------------
def one_pass_kernels(xp, arrays):
    """The module whose `adam`, `sgd` and `rmsprop` do an update in one pass
    over `arrays` (the gradient, the variable and its slots), or None.

    `cupy_kernels` on CuPy; `cpu_kernels` for large NumPy buffers when numba
    is installed. Both take the same arguments and perform the NumPy
    update's float operations in its order, so `update_step` either calls
    one of them or runs its ufunc chain, with the same results.
    """
    if cupy_kernels.enabled(xp):
        return cupy_kernels
    if cpu_kernels.enabled(xp, arrays):
        return cpu_kernels
    return None


def _l2norm(xp, g):
    return xp.sqrt(xp.vdot(g.ravel(), g.ravel()))


def _check_variable(v):
    if not isinstance(v, Variable):
        raise TypeError(
            "Optimizers update kerasette Variables. Received a "
            f"{type(v).__name__} in the place of a variable; pairs are "
            "(gradient, variable), in that order."
        )


def _check_pairs(grads_and_vars) -> list:
    pairs = []
    for i, item in enumerate(grads_and_vars):
        try:
            g, v = item
        except (TypeError, ValueError):
            raise TypeError(
                "apply_gradients expects an iterable of (gradient, variable) pairs. "
                f"Received {type(item).__name__} at position {i}."
            ) from None
        _check_variable(v)
        pairs.append((g, v))
    return pairs


def _as_list(var_list) -> list:
    if isinstance(var_list, Variable):
        return [var_list]
    return list(var_list)


def _deserialize_schedule(config, custom_objects=None):
    return schedules.deserialize(config, custom_objects=custom_objects)
