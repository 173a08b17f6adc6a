"""A direct training step for the course models: no tape, no graph, no temporaries to spare.

Most models people train with kerasette are a stack of `Dense` layers (with
`Flatten` and `Dropout`) under a softmax and a cross-entropy. For those,
`fit` can skip the general machinery (recording a graph, walking it back,
wrapping every array in a tensor) and run the forward and backward passes as
a fixed sequence of array operations, writing the weight gradients straight
into the optimizer's flat gradient buffer. On the Iris network that is most
of a step's time; on MNIST it saves the tape's bookkeeping and one copy of
every gradient.

The step calls the same array functions as the general path, in the same
order, so both give bit-identical weights, losses and metrics (tested in
tests/test_fast_step.py). Anything else — other layers, regularizers,
sample or class weights, gradient clipping, a custom `train_step`, a batch
of another rank — goes through the general `train_step`, which also runs
the first step of every `fit` (it builds the optimizer's slots).
"""

from __future__ import annotations

import numpy as np

from kerasette import backend as _backend
from kerasette import losses as losses_module
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.core import Dense, Flatten, InputLayer
from kerasette.layers.regularization import Dropout
from kerasette.ops.nn import (_act_backward, _act_inplace, _softmax_array, _softmax_ce_arrays,
                              _softmax_ce_grad, _sparse_ce_arrays, _sparse_ce_grad)

_CE_FUNCTIONS = {
    losses_module.sparse_categorical_crossentropy: "sparse",
    losses_module.categorical_crossentropy: "categorical",
}


class FastStep:
    """The direct step for one model, or `build` returns None.

    Call it with a device batch; it returns False (having done nothing)
    when the batch needs the general path.
    """

    def __init__(self, model, plan, dense_layers, loss_kind, softmax_output, acts):
        self.model = model
        self.plan = plan  # [("dense", layer) | ("flatten", None) | ("dropout", rate)]
        self.dense_layers = dense_layers
        self.loss_kind = loss_kind
        self.softmax_output = softmax_output
        self.acts = acts  # hidden dense layer id -> activation name
        self.variables = model.trainable_variables
        self._bound = (None, None)  # (pack, its gradient views per dense layer)
        # Per plan index: whether a dense layer there passes a gradient on.
        self.needs_dx = [any(k == "dense" for k, _ in plan[:i]) for i in range(len(plan))]

    @classmethod
    def build(cls, model):
        """A `FastStep` for `model`, or None when it does not qualify."""
        from kerasette.models.sequential import Sequential
        from kerasette.training.trainer import Trainer

        if not isinstance(model, Sequential) or type(model).train_step is not Trainer.train_step:
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
        for layer in model.layers:
            if id(layer) in seen:
                return None  # a layer used twice accumulates gradients
            seen.add(id(layer))
            if isinstance(layer, InputLayer):
                continue
            if type(layer) is Dense:
                if (layer.kernel_regularizer or layer.bias_regularizer
                        or layer.activity_regularizer or not layer.trainable):
                    return None
                plan.append(("dense", layer))
                dense_layers.append(layer)
            elif type(layer) is Flatten:
                plan.append(("flatten", None))
            elif type(layer) is Dropout:
                if layer.noise_shape is not None:
                    return None
                plan.append(("dropout", float(layer.rate)))
            else:
                return None
        if not dense_layers or plan[-1][0] != "dense":
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
        """The flat gradient views for each dense layer, or None when the
        optimizer's pack is missing or stale."""
        pack = self.model.optimizer._pack
        if pack is None or not pack.intact():
            return None
        if self._bound[0] is pack:
            return self._bound[1]
        if not pack.matches(self.variables):
            return None
        index = {i: k for k, i in enumerate(pack.ids)}
        views = []
        for layer in self.dense_layers:
            kernel = pack.grad_views[index[id(layer.kernel)]]
            bias = None if layer.bias is None else pack.grad_views[index[id(layer.bias)]]
            views.append((kernel, bias))
        self._bound = (pack, views)
        return views

    def __call__(self, batch) -> bool:
        if batch.sample_weight is not None or batch.y is None:
            return False
        views = self._bind()
        if views is None:
            return False
        x, y = batch.x.data, batch.y.data
        # Every reason to decline comes before the first random draw
        # (Dropout), so that the general path then draws the same numbers.
        n = x.shape[0]
        if x.ndim != 2 and (self.plan[0][0] != "flatten" or x.ndim < 2):
            return False
        width = int(np.prod(x.shape[1:]))
        if width != self.dense_layers[0].kernel.shape[0]:
            return False  # the general path raises the clear error
        units = self.dense_layers[-1].units
        if y.shape != ((n,) if self.loss_kind == "sparse" else (n, units)):
            return False
        xp = _backend.get_backend().xp

        # Forward, keeping what the backward pass needs.
        h, saved, dense_i = x, [], 0
        for kind, arg in self.plan:
            if kind == "flatten":
                h = h.reshape(h.shape[0], -1)
            elif kind == "dropout":
                if arg <= 0.0:
                    continue
                u = _backend.get_backend().random_uniform(h.shape, dtype=h.dtype)
                mask = (u >= arg).astype(h.dtype)
                mask *= 1.0 / (1.0 - arg)
                h = h * mask
                saved.append(mask)
            else:
                layer = arg
                z = h @ layer.kernel.data
                if layer.bias is not None:
                    z += layer.bias.data
                last = dense_i == len(self.dense_layers) - 1
                a = z if last else _act_inplace(self.acts[id(layer)], z)
                saved.append((h, a))
                h = a
                dense_i += 1
        logits = h

        # Loss: nn's array-level cross-entropy, reduced as losses.py does
        # (sum, then divide by the count).
        if self.loss_kind == "sparse":
            idx = y.astype(np.int64)  # as losses.py casts, then nn's op again
            per_sample, shifted, lse = _sparse_ce_arrays(logits, idx)
        else:
            labels = y if y.dtype == logits.dtype else y.astype(logits.dtype)
            per_sample, log_p = _softmax_ce_arrays(labels, logits)
        total = per_sample.sum(axis=(0,))
        scale = xp.ones((), dtype=logits.dtype) / float(n)  # d(total / n) / d(total)
        loss = total / float(n)

        # Backward: d loss / d logits (the upstream gradient of every example
        # is `scale`), then layer by layer.
        if self.loss_kind == "sparse":
            g = _sparse_ce_grad(shifted, lse, idx)
        else:
            g = _softmax_ce_grad(labels, log_p)
        g *= scale
        probs = _softmax_array(logits, -1) if self.softmax_output else logits
        n_dense = len(self.dense_layers)
        dense_i = n_dense - 1
        for i in range(len(self.plan) - 1, -1, -1):
            kind, arg = self.plan[i]
            if kind == "flatten":
                continue
            if kind == "dropout":
                if arg > 0.0:
                    g = g * saved.pop()
                continue
            h, a = saved.pop()
            dz = g if dense_i == n_dense - 1 else _act_backward(self.acts[id(arg)], g, a)
            gw, gb = views[dense_i]
            if self.needs_dx[i]:
                g = dz @ arg.kernel.data.T
            xp.matmul(h.T, dz, out=gw)
            if gb is not None:
                dz.sum(axis=0, out=gb)
            dense_i -= 1

        self.model.optimizer._apply_packed()
        y_pred = Tensor(probs)
        self.model.compiled_metrics.update(batch.y, y_pred, None, Tensor(loss), batch.size)
        return True


def _is_builtin(layer, name) -> bool:
    """Whether `layer.activation` is kerasette's own activation `name`."""
    from kerasette import activations

    return activations.get(name) is layer.activation
