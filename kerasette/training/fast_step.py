"""A direct training step for the course models: no tape, no graph, no temporaries to spare.

Most models people train with kerasette are a stack of `Dense` layers (with
`Flatten` and `Dropout`) under a softmax and a cross-entropy. For those,
`fit` can skip the general machinery (recording a graph, walking it back,
wrapping every array in a tensor) and run the forward and backward passes as
a fixed sequence of array operations, writing the weight gradients straight
into the optimizer's flat gradient buffer. On the Iris network that is most
of a step's time; on MNIST it saves the tape's bookkeeping and one copy of
every gradient.

On the host, where a batch of 20 rows makes every array operation cost
about a microsecond of Python and dispatch whatever its size, the step
counts calls: each batch size gets a `_Workspace` of arrays written in
place (`out=`), the cross-entropy's exponentials also give the softmax the
metrics see, `numpy.dot` stands in for `matmul` where both make the same
BLAS call, and `DirectMetrics` (direct_metrics.py) updates the loss
tracker and the accuracy with a handful of calls instead of the generic
metric machinery. On a GPU
(and on the strict CPU stand-in) the step calls nn's array functions
instead, which there are the fused kernels the general path runs too.

Either way the step performs the float operations of the general path, in
the same order, so both give bit-identical weights, losses and metrics
(tested in tests/test_fast_step.py). Anything else — other layers,
regularizers, sample or class weights, gradient clipping, a custom
`train_step`, a batch of another rank — goes through the general
`train_step`, which also runs the first step of every `fit` (it builds the
optimizer's slots).
"""

from __future__ import annotations

import numpy as np

from kerasette import backend as _backend
from kerasette import losses as losses_module
from kerasette.backend import cupy_kernels
from kerasette.layers.core import Dense, Flatten, InputLayer
from kerasette.training.direct_metrics import DirectMetrics
from kerasette.layers.regularization import Dropout
from kerasette.ops.nn import (_act_backward, _act_inplace, _softmax_array, _softmax_ce_arrays,
                              _softmax_ce_grad, _sparse_ce_arrays, _sparse_ce_grad)

_CE_FUNCTIONS = {
    losses_module.sparse_categorical_crossentropy: "sparse",
    losses_module.categorical_crossentropy: "categorical",
}

# Hidden activations whose derivative has a workspace buffer on the host;
# the others go through nn's array functions (same values).
_BUFFERED_ACTIVATIONS = ("relu", "tanh")

# Kept workspaces: the batch size and the epoch's shorter last batch (and,
# across fits, a validation split that changes it).
_MAX_WORKSPACES = 3

_DENSE, _FLATTEN, _DROPOUT = "dense", "flatten", "dropout"


class FastStep:
    """The direct step for one model, or `build` returns None.

    Call it with a device batch; it returns False (having done nothing)
    when the batch needs the general path.
    """

    def __init__(self, model, plan, dense_layers, loss_kind, softmax_output, acts):
        self.model = model
        self.dense_layers = dense_layers
        self.loss_kind = loss_kind
        self.softmax_output = softmax_output
        self.variables = model.trainable_variables
        self.flatten_first = plan[0][0] == _FLATTEN
        self.input_width = dense_layers[0].kernel.shape[0]
        # The sample shape the model declares (None where any size goes):
        # a functional model's general step refuses a batch of another
        # shape, so the direct step must not take it either.
        declared = model._declared_input_shape()
        self.sample_shape = None if declared is None else tuple(declared)[1:]
        self.units = dense_layers[-1].units
        self._bound = (None, None)  # (pack, the layers bound to it: _Bound)
        self._workspaces = {}
        self._metrics = DirectMetrics(model, loss_kind, dense_layers[-1].units,
                                       dense_layers[0].kernel.dtype)
        # One tuple per layer: (kind, layer or rate, activation, dense index,
        # whether a dense layer there passes a gradient on).
        self.steps = []
        dense_i = 0
        for i, (kind, arg) in enumerate(plan):
            if kind == _DENSE:
                needs_dx = any(k == _DENSE for k, _ in plan[:i])
                act = acts.get(id(arg))  # None for the output layer: logits
                self.steps.append((_DENSE, arg, act, dense_i, needs_dx))
                dense_i += 1
            else:
                self.steps.append((kind, arg, None, None, False))

    @classmethod
    def build(cls, model):
        """A `FastStep` for `model`, or None when it does not qualify."""
        # The model hands over its chain of layers (`Trainer._layer_chain`):
        # this module imports neither the models nor the trainer.
        chain = model._layer_chain()
        if chain is None or not model._uses_default_step("train_step"):
            return None
        optimizer = model.optimizer
        if (not getattr(optimizer, "_elementwise_update", False) or optimizer.clipnorm is not None
                or optimizer.clipvalue is not None or optimizer.global_clipnorm is not None):
            return None
        compiled = model.compiled_loss
        loss = compiled.loss
        kind = _CE_FUNCTIONS.get(getattr(loss, "fn", None))
        if kind is None or compiled.weight != 1.0 or loss._get_reduction() != "sum_over_batch_size":
            return None
        kwargs = loss._fn_kwargs
        from_logits = bool(kwargs.get("from_logits", False))
        if (kwargs.get("label_smoothing", 0.0) or kwargs.get("axis", -1) != -1
                or kwargs.get("ignore_class") is not None):
            return None
        plan, dense_layers, seen = [], [], set()
        for layer in chain:
            if id(layer) in seen:
                return None  # a layer used twice accumulates gradients
            seen.add(id(layer))
            if isinstance(layer, InputLayer):
                continue
            if type(layer) is Dense:
                if (layer.kernel_regularizer or layer.bias_regularizer
                        or layer.activity_regularizer or not layer.trainable):
                    return None
                plan.append((_DENSE, layer))
                dense_layers.append(layer)
            elif type(layer) is Flatten and layer.data_format == "channels_last":
                plan.append((_FLATTEN, None))  # channels_first transposes first: not a reshape
            elif type(layer) is Dropout:
                if layer.noise_shape is not None:
                    return None
                plan.append((_DROPOUT, float(layer.rate)))
            else:
                return None
        if not dense_layers or plan[-1][0] != _DENSE:
            return None
        # Hidden layers need an activation with an array-level form (a
        # hidden sigmoid is unfused in Dense, but its op computes the same
        # arrays as the fused form); the output layer is the softmax whose
        # logits the loss scores, or linear logits.
        acts = {}
        for layer in dense_layers[:-1]:
            act = layer._fused or ("sigmoid" if _is_builtin(layer, "sigmoid") else None)
            if act is None:
                return None
            acts[id(layer)] = act
        last = dense_layers[-1]
        softmax_output = _is_builtin(last, "softmax")
        if softmax_output == from_logits:
            return None  # probabilities scored as logits, or the reverse: general path
        if not softmax_output and last._fused != "linear":
            return None
        if model.losses:
            return None
        return cls(model, plan, dense_layers, kind, softmax_output, acts)

    def _bind(self):
        """The layers bound to the optimizer's pack (`_Bound`), or None when
        the pack is missing or stale."""
        pack = self.model.optimizer._pack
        if pack is None or not pack.intact():
            return None
        if self._bound[0] is pack:
            return self._bound[1]
        if not pack.matches(self.variables):
            return None
        bound = _Bound(pack, self.steps)
        self._bound = (pack, bound)
        return bound

    def _accepts(self, x, y) -> bool:
        """Whether a batch has the shapes the direct step handles; the
        general path takes (and explains) anything else."""
        shape = x.shape
        expected = self.sample_shape
        if expected is not None and (len(shape) != len(expected) + 1 or any(
                e is not None and e != r for e, r in zip(expected, shape[1:]))):
            return False
        if len(shape) == 2:
            width = shape[1]
        elif self.flatten_first and len(shape) > 2:
            width = int(np.prod(shape[1:]))
        else:
            return False
        return width == self.input_width and y.shape == (
            (shape[0],) if self.loss_kind == "sparse" else (shape[0], self.units))

    def _workspace(self, n):
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.clear()
            ws = _Workspace(n, self.dense_layers, self.steps)
            self._workspaces[n] = ws
        return ws

    def __call__(self, batch) -> bool:
        if batch.sample_weight is not None or batch.y is None:
            return False
        bound = self._bind()
        if bound is None:
            return False
        x, y = batch.x.data, batch.y.data
        # Every reason to decline comes before the first random draw
        # (Dropout), so that the general path then draws the same numbers.
        if not self._accepts(x, y):
            return False
        n = x.shape[0]
        ws = self._workspace(n)
        # `dot` makes the BLAS call `matmul` makes only for BLAS-ready
        # operands; an input with other strides takes `matmul`'s own path.
        matmul = ws.matmul if x.flags.c_contiguous else ws.matmul_only
        saved = []
        logits = self._forward(x, ws, matmul, saved, bound.layers)
        metrics_plan = self._metrics.plan()
        want_probs = self.softmax_output and (metrics_plan is None or bool(metrics_plan[1]))
        if not ws.host:
            loss, probs, g = _device_loss_and_gradient(logits, y, self.loss_kind, want_probs,
                                                       ws)
        elif self.loss_kind == "sparse":
            loss, probs, g = _sparse_loss_and_gradient(logits, y, ws, want_probs)
        else:
            loss, probs, g = _categorical_loss_and_gradient(logits, y, ws, want_probs)
        self._backward(g, ws, matmul, saved, bound.reversed_layers)
        self.model.optimizer._apply_packed()
        y_pred = probs if self.softmax_output else logits
        self._metrics.update(metrics_plan, batch.y, y, y_pred, loss, n, ws)
        return True

    @staticmethod
    def _forward(h, ws, matmul, saved, layers):
        """The layers in training mode; returns the logits. `saved` gets
        what the backward pass needs, in layer order."""
        xp, host = ws.xp, ws.host
        for kind, i, act, kernel, _, bias, _, _, _ in layers:
            if kind is _DENSE:
                z = matmul[i](h, kernel, out=ws.z[i])
                if (not host and bias is not None and act in cupy_kernels.FUSED
                        and bias.dtype == z.dtype and cupy_kernels.enabled(xp)):
                    # One GPU launch for both, as nn's dense does (the same
                    # values as the add and the activation one after the other).
                    a = cupy_kernels.bias_activation(act, z, bias)
                    saved.append((h, a))
                    h = a
                    continue
                if bias is not None:
                    z += bias
                if act is None or act == "linear":
                    a = z
                elif host and act == "tanh":
                    a = xp.tanh(z, out=z)
                elif host and act == "relu":
                    a = xp.maximum(z, 0.0, out=z)
                else:
                    a = _act_inplace(act, z)  # nn's, with its GPU kernels
                saved.append((h, a))
                h = a
            elif kind is _FLATTEN:
                h = h.reshape(h.shape[0], -1)
            elif act > 0.0:  # Dropout (`act` holds the rate), drawing as the layer does
                u = _backend.get_backend().random_uniform(h.shape, dtype=h.dtype)
                mask = (u >= act).astype(h.dtype)
                mask *= 1.0 / (1.0 - act)
                h = h * mask
                saved.append(mask)
        return h

    @staticmethod
    def _backward(g, ws, matmul, saved, reversed_layers):
        """From d loss / d logits down, writing each dense layer's weight
        gradients into the optimizer's flat gradient buffer."""
        xp, host = ws.xp, ws.host
        for kind, i, act, _, kernel_t, _, grad_kernel, grad_bias, needs_dx in reversed_layers:
            if kind is _DENSE:
                h, a = saved.pop()
                if act is None:
                    dz = g  # the logits: `g` is already d loss / d z
                elif host and act == "tanh":  # g * (1 - a * a), as nn's _act_backward
                    dz = xp.multiply(a, a, out=ws.d[i])
                    xp.subtract(1.0, dz, out=dz)
                    xp.multiply(g, dz, out=dz)
                else:
                    dz = _activation_grad(act, g, a, ws, i)
                if needs_dx:
                    g = matmul[i](dz, kernel_t, out=ws.gx[i])
                matmul[i](h.T, dz, out=grad_kernel)
                if grad_bias is not None:
                    dz.sum(axis=0, out=grad_bias)
            elif kind is _DROPOUT and act > 0.0:
                g = g * saved.pop()


class _Bound:
    """The model's layers bound to one optimizer pack: per layer, `(kind,
    dense index, activation (a Dropout's rate), kernel, kernel.T, bias,
    kernel gradient, bias gradient, whether it passes a gradient on)`.

    The arrays are the pack's views, which the variables keep as their
    `data` for as long as `pack.intact()` (checked before every step).
    """

    def __init__(self, pack, steps):
        index = {i: k for k, i in enumerate(pack.ids)}
        self.layers = []
        for kind, arg, act, i, needs_dx in steps:
            if kind is not _DENSE:
                self.layers.append((kind, None, arg, None, None, None, None, None, False))
                continue
            kernel, bias = arg.kernel, arg.bias
            grad_kernel = pack.grad_views[index[id(kernel)]]
            grad_bias = None if bias is None else pack.grad_views[index[id(bias)]]
            self.layers.append((kind, i, act, kernel.data, kernel.data.T,
                                None if bias is None else bias.data, grad_kernel, grad_bias,
                                needs_dx))
        self.reversed_layers = self.layers[::-1]


def _activation_grad(act, g, a, ws, i):
    """`_act_backward(act, g, a)` (nn.py); on the host in the workspace's
    buffers for relu (tanh is inlined in the backward loop), with the same
    operations in the same order."""
    if act == "linear":
        return g
    if ws.host and act == "relu":  # g * (a > 0)
        positive = ws.xp.greater(a, 0, out=ws.positive[i])
        return ws.xp.multiply(g, positive, out=ws.d[i])
    return _act_backward(act, g, a)  # nn's, with its GPU kernels


class _Workspace:
    """The arrays one batch size needs, allocated once and written in place.

    Args:
        n: the batch size.
        dense_layers: the model's dense layers.
        steps: `FastStep.steps`.
    """

    def __init__(self, n, dense_layers, steps):
        xp = _backend.get_backend().xp
        dtype = dense_layers[0].kernel.dtype
        self.xp = xp
        # Plain NumPy: the step's own in-place arithmetic; elsewhere nn's
        # array functions (fused kernels on a GPU) for all but the products.
        self.host = xp is np

        def empty(*shape, kind=dtype):
            return xp.empty(shape, dtype=kind)

        self.z = [empty(n, layer.units) for layer in dense_layers]
        self.matmul = [_matmul_for(xp, n, *layer.kernel.shape) for layer in dense_layers]
        self.matmul_only = [xp.matmul] * len(dense_layers)
        self.d, self.positive, self.gx = {}, {}, {}
        for kind, layer, act, i, needs_dx in steps:
            if kind is not _DENSE:
                continue
            if needs_dx:
                self.gx[i] = empty(n, layer.kernel.shape[0])
            if self.host and act in _BUFFERED_ACTIVATIONS:
                self.d[i] = empty(n, layer.units)
            if self.host and act == "relu":
                self.positive[i] = empty(n, layer.units, kind=bool)
        if self.host:
            self._cross_entropy_buffers(n, dense_layers[-1].units, empty)
        # d(total / n) / d(total), as the general path's mean computes it.
        self.scale = xp.ones((), dtype=dtype) / float(n)

    def _cross_entropy_buffers(self, n, units, empty):
        """The arrays of nn's cross-entropies (named as there)."""
        self.row_max = empty(n, 1)
        self.shifted = empty(n, units)
        self.exp = empty(n, units)
        self.row_sum = empty(n)  # the exponentials' sum, then its log
        self.row_sum_col = self.row_sum.reshape(n, 1)
        self.probs = empty(n, units)
        self.log_p = empty(n, units)  # categorical only
        self.per_sample = empty(n)
        self.g = empty(n, units)
        self.rows = self.xp.arange(n)


def _matmul_for(xp, *dims):
    """The matrix product for a dense layer whose three products (forward,
    input gradient, kernel gradient) have the dimensions `dims` (batch,
    inputs, units): `xp.matmul`, as the general path's `@`, or `numpy.dot`.

    For two-dimensional operands that are both matrices, NumPy's `dot` and
    `matmul` make the same `gemm` call (same transposition flags, leading
    dimensions and output), so the results are the same bits; `dot` skips
    the generalized-ufunc machinery, about 0.4 µs of a 1.1 µs product on a
    20 x 20 matrix. Where a dimension is 1 the two may pick different BLAS
    routines (gemv, a dot product), so there, and off the host, `matmul` it
    is (and `FastStep.__call__` falls back to `matmul` for a batch whose
    strides BLAS cannot take, which `matmul` multiplies without BLAS).
    """
    if xp is np and min(dims) > 1:
        return np.dot
    return xp.matmul


def _softmax_parts(z, ws, want_probs):
    """`shifted = z - max(z)`, `exp(shifted)`, its row sums and, when asked,
    the softmax `exp / sum`: the arrays nn's `_softmax_array` and both
    cross-entropies compute, computed once (on the host, like the two
    functions below)."""
    # NumPy's own reductions behind `z.max` and `e.sum`, minus their Python wrappers.
    np.maximum.reduce(z, axis=-1, keepdims=True, out=ws.row_max)
    shifted = np.subtract(z, ws.row_max, out=ws.shifted)
    e = np.exp(shifted, out=ws.exp)
    np.add.reduce(e, axis=-1, out=ws.row_sum)
    probs = np.divide(e, ws.row_sum_col, out=ws.probs) if want_probs else None
    return shifted, probs


def _sparse_loss_and_gradient(z, y, ws, want_probs):
    """The mean sparse cross-entropy of logits `z` (nn's
    `_sparse_ce_arrays`, reduced as losses.py does: sum, then divide by the
    count) and its gradient, scaled by 1/n, in `ws.g`.

    Returns:
        `(loss, probs, gradient)`: the loss as a 0-d value, the softmax (or
        None) and d loss / d z (`ws.g`).
    """
    idx = y if y.dtype == np.int64 else y.astype(np.int64)  # as losses.py casts
    shifted, probs = _softmax_parts(z, ws, want_probs)
    lse = np.log(ws.row_sum, out=ws.row_sum)
    # `shifted[rows, idx]` picks what nn's take_along_axis picks.
    per_sample = np.subtract(lse, shifted[ws.rows, idx], out=ws.per_sample)
    total = np.add.reduce(per_sample, axis=0)  # `per_sample.sum(axis=(0,))`
    g = np.subtract(shifted, ws.row_sum_col, out=ws.g)
    np.exp(g, out=g)
    g[ws.rows, idx] -= 1.0
    g *= ws.scale
    return total / float(z.shape[0]), probs, g


def _categorical_loss_and_gradient(z, y, ws, want_probs):
    """The mean categorical cross-entropy of logits `z` (nn's
    `_softmax_ce_arrays` and `_softmax_ce_grad`) and its gradient, scaled
    by 1/n, in `ws.g`.

    Returns:
        `(loss, probs, gradient)`: the loss as a 0-d value, the softmax (or
        None) and d loss / d z (`ws.g`).
    """
    labels = y if y.dtype == z.dtype else y.astype(z.dtype)
    shifted, probs = _softmax_parts(z, ws, want_probs)
    np.log(ws.row_sum, out=ws.row_sum)
    log_p = np.subtract(shifted, ws.row_sum_col, out=ws.log_p)
    g = np.multiply(labels, log_p, out=ws.g)  # scratch until the gradient
    per_sample = np.add.reduce(g, axis=-1, out=ws.per_sample)
    np.negative(per_sample, out=per_sample)
    total = np.add.reduce(per_sample, axis=0)  # `per_sample.sum(axis=(0,))`
    np.exp(log_p, out=g)
    g *= labels.sum(axis=-1, keepdims=True)
    g -= labels
    g *= ws.scale
    return total / float(z.shape[0]), probs, g


def _device_loss_and_gradient(z, y, loss_kind, want_probs, ws):
    """The mean cross-entropy of logits `z` and its gradient, scaled by
    1/n, through nn's array functions: on a GPU they are fused kernels,
    which the general path runs too.

    Returns:
        `(loss, probs, gradient)`: the loss as a 0-d value, the softmax (or
        None) and d loss / d z.
    """
    n = z.shape[0]
    if loss_kind == "sparse":
        idx = y if y.dtype == np.int64 else y.astype(np.int64)  # as losses.py casts
        per_sample, shifted, lse = _sparse_ce_arrays(z, idx)
    else:
        labels = y if y.dtype == z.dtype else y.astype(z.dtype)
        per_sample, log_p = _softmax_ce_arrays(labels, z)
    total = per_sample.sum(axis=(0,))  # reduced as losses.py does: sum, then / n
    if loss_kind == "sparse":
        g = _sparse_ce_grad(shifted, lse, idx)
    else:
        g = _softmax_ce_grad(labels, log_p)
    g *= ws.scale  # d(total / n) / d(total), kept per batch size
    probs = _softmax_array(z, -1) if want_probs else None
    return total / float(n), probs, g


def _is_builtin(layer, name) -> bool:
    """Whether `layer.activation` is kerasette's own activation `name`."""
    from kerasette import activations

    return activations.get(name) is layer.activation
