"""The direct training step: a model of built-in layers run as array kernels, without a tape.

Every built-in layer, loss and regularizer writes its formula once, as a
pair of array kernels in `ops/nn.py` (a forward that returns what its
backward needs, and a backward); the ops that the tape records call those
kernels, and so does this step. A layer offers its kernels through
`layer._direct_kernel()` (layers/core.py, regularization.py,
normalization.py), a loss through `losses._direct_kernel` and a
regularizer through `regularizers._penalty_kernel_factors`. When every
layer of a model's chain (Sequential, or a functional model that is one
chain) offers them, `fit` runs the chain forward, the loss and its mean,
the penalties, and the chain backward in the order the tape would, writing
the weight gradients straight into the optimizer's flat gradient buffer;
metrics are updated by `CompiledMetrics.update`, as in `train_step`.
Validation batches go through the same kernels in inference mode.

Because both paths run the same kernels on the same arrays in the same
order, they give bit-identical weights, optimizer state, losses and
metrics (tests/test_fast_step.py compares them for every layer, loss,
regularizer and metric this step takes). Anything else (a custom layer or
`train_step`, gradient clipping, sample or class weights, an activity
regularizer, a loss weight, a batch of another shape) goes through the
general `train_step`, which also runs the first step of every `fit` (it
builds the optimizer's slots).

A layer kernel has `params` (the variables it differentiates, in the
layer's order), `activation` (the name of its output activation, or
None), `forward(x, training) -> (y, saved)`, `backward(g, saved, need_dx,
grads, at_logits) -> dx` (adding nothing: it writes the gradients of
`params` into `grads`, None where a variable is not trained) and
`logits(saved)` (the input of a softmax or sigmoid output, or None).
"""

from __future__ import annotations

import numpy as np

from kerasette import backend as _backend
from kerasette import losses as losses_module
from kerasette import regularizers as regularizers_module
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.core import InputLayer
from kerasette.ops.nn import penalty_backward, penalty_forward
from kerasette.training.compile_utils import CompiledMetrics


class FastStep:
    """The direct step for one model, or `build` returns None.

    Call it with a device batch; it returns False (having done nothing)
    when the batch needs the general path. `evaluate(batch)` is the same
    for `test_step`.
    """

    def __init__(self, model, kernels, loss, penalties, in_shape, out_shape):
        self.model = model
        self.kernels = kernels
        self.loss = loss
        self.penalties = penalties  # [(variable, l1, l2)] in `model.losses` order
        self.in_shape = in_shape
        self.out_shape = out_shape
        self.variables = model.trainable_variables
        # Whether a layer must pass a gradient to the one before it.
        self.need_dx = [any(k.params for k in kernels[:i]) for i in range(len(kernels))]
        self.dtype = np.dtype(model.dtype) if getattr(model, "dtype", None) else np.float32
        self._bound = (None, None)
        self._seeds = {}  # (shape, dtype) of the per-sample losses: their gradient

    @classmethod
    def build(cls, model):
        """A `FastStep` for `model`, or None when it does not qualify."""
        chain = model._layer_chain()
        if chain is None or not model._uses_default_step("train_step"):
            return None
        optimizer = model.optimizer
        if (not getattr(optimizer, "_elementwise_update", False) or optimizer.clipnorm is not None
                or optimizer.clipvalue is not None or optimizer.global_clipnorm is not None):
            return None
        compiled = model.compiled_loss
        if getattr(compiled, "weight", None) != 1.0 or not hasattr(compiled, "loss"):
            return None
        kernels, seen = [], set()
        for layer in chain:
            if id(layer) in seen:
                return None  # a layer used twice accumulates gradients
            seen.add(id(layer))
            if type(layer) is InputLayer:
                continue
            hook = getattr(layer, "_direct_kernel", None)
            kernel = hook() if hook is not None else None
            if (kernel is None or getattr(layer, "activity_regularizer", None) is not None
                    or layer._sublayers):
                return None
            kernels.append(kernel)
        if not kernels:
            return None
        in_shape = model._declared_input_shape()
        out_shape = model._checked_output_shape()
        if (in_shape is None or out_shape is None or None in tuple(in_shape)[1:]
                or None in tuple(out_shape)[1:]):
            return None
        out_shape = tuple(out_shape)[1:]
        activation = kernels[-1].activation or "linear"
        loss = losses_module._direct_kernel(compiled.loss, activation,
                                            out_shape[-1] if out_shape else 1)
        if loss is None or not out_shape:
            return None
        penalties = _penalties(model, seen)
        if penalties is None:
            return None
        return cls(model, kernels, loss, penalties, tuple(in_shape)[1:], out_shape)

    def _bind(self):
        """Per kernel, its parameters' gradient buffers in the optimizer's
        pack (None for a variable the pack does not train); None when the
        pack is missing or stale."""
        pack = self.model.optimizer._pack
        if pack is None or not pack.intact():
            return None
        if self._bound[0] is pack:
            return self._bound[1]
        if not pack.matches(self.variables):
            return None
        index = {i: k for k, i in enumerate(pack.ids)}
        views = [[pack.grad_views[index[id(v)]] if id(v) in index else None for v in k.params]
                 for k in self.kernels]
        penalties = [(pack.grad_views[index[id(v)]], v, l1, l2) for v, l1, l2 in self.penalties]
        bound = (views[::-1], penalties)
        self._bound = (pack, bound)
        return bound

    def _labels(self, batch):
        """The batch's labels as the loss reads them, or None when the batch
        is not one this step takes (checked before any random draw, so that
        the general path then draws the same Dropout masks)."""
        if batch.sample_weight is not None or batch.y is None:
            return None
        x = batch.x
        if not isinstance(x, Tensor) or tuple(x.data.shape[1:]) != self.in_shape:
            return None
        n = x.data.shape[0]
        return self.loss.labels(batch.y.data, (n,) + self.out_shape, self.dtype)

    def _forward(self, x, training):
        saved = []
        for kernel in self.kernels:
            x, s = kernel.forward(x, training)
            saved.append(s)
        logits = self.kernels[-1].logits(saved[-1])
        return x, logits, saved

    def _loss(self, labels, pred, logits):
        """The compiled loss, as `CompiledLoss` computes it: the mean of the
        per-sample losses, plus each penalty in turn."""
        per, saved = self.loss.forward(labels, logits if self.loss.at_logits else pred)
        # `ops.sum` then `ops.divide`, as `Loss.__call__` reduces (the array
        # method is the reduction `xp.sum` makes).
        total = per.sum(axis=tuple(range(per.ndim))) / float(per.size)
        for variable, l1, l2 in self.penalties:
            total = total + penalty_forward(variable.data, l1, l2)
        return total, per, saved

    def _update_metrics(self, batch, pred, logits, total):
        compiled = self.model.compiled_metrics
        if type(compiled) is CompiledMetrics:
            y = batch.y.data
            if pred.ndim == 2 and y.ndim == 1:
                y = y.reshape(-1, 1)  # the trailing axis `match_rank` would add, as a view
            compiled.update_direct(y, pred, total, batch.size)
            return
        y_pred = Tensor(pred)
        if logits is not None:
            y_pred._keras_logits = Tensor(logits)
        y = batch.y
        if pred.ndim == 2 and y.ndim == 1:
            # The trailing axis `match_rank` would add, as a view (its
            # `ops.expand_dims` is a fifth of a small model's metric update).
            y = Tensor(y.data.reshape(-1, 1))
        self.model.compiled_metrics.update(y, y_pred, None, Tensor(total), batch.size)

    def __call__(self, batch) -> bool:
        bound = self._bind()
        if bound is None:
            return False
        labels = self._labels(batch)
        if labels is None:
            return False
        views, penalties = bound
        pred, logits, saved = self._forward(batch.x.data, True)
        total, per, loss_saved = self._loss(labels, pred, logits)
        g = self._seeds.get((per.shape, per.dtype))
        if g is None:
            g = self._seed(_backend.get_backend().xp, per)
        g = self.loss.backward(g, loss_saved)
        at_logits = self.loss.at_logits
        kernels, need_dx = self.kernels, self.need_dx
        for i, grads in zip(range(len(kernels) - 1, -1, -1), views):
            g = kernels[i].backward(g, saved[i], need_dx[i], grads, at_logits)
            at_logits = False
        for view, variable, l1, l2 in penalties:
            # Upstream gradient 1 as a Python float: the factors the 0-d
            # `one` gives, bit for bit, without two 0-d array products each.
            penalty_backward(1.0, variable.data, l1, l2, out=view)
        self.model.optimizer._apply_packed()
        self._update_metrics(batch, pred, logits, total)
        return True

    def _seed(self, xp, per):
        """The gradient of the mean of per-sample losses shaped like `per`:
        1/count for each sample (the values of the tape's broadcast of
        d(total)/d(total) = 1, in a plain array). The same every step of a
        batch size, so made once (the loss kernels only read it)."""
        g = xp.empty(per.shape, dtype=per.dtype)
        g.fill(xp.ones((), dtype=per.dtype) / float(per.size))
        if len(self._seeds) > 8:
            self._seeds.clear()  # a few batch sizes a fit (the last batch)
        self._seeds[(per.shape, per.dtype)] = g
        return g

    def evaluate(self, batch) -> bool:
        """`test_step` on `batch` through the kernels; False when the batch
        needs the general path."""
        if not self.model._uses_default_step("test_step"):
            return False
        labels = self._labels(batch)
        if labels is None:
            return False
        pred, logits, _ = self._forward(batch.x.data, False)
        total = self._loss(labels, pred, logits)[0]
        self._update_metrics(batch, pred, logits, total)
        return True


def _penalties(model, chain_ids):
    """`[(variable, l1, l2)]` for the model's weight penalties in the order
    `model.losses` lists them (`Layer.losses`: a layer's own, then its
    sublayers' in turn), or None when one is not a built-in L1/L2 on a
    trained weight of the chain, or the model has losses of another kind."""
    out = []

    def walk(layer):
        if layer._call_losses:
            return False
        for regularizer, variable in layer._regularized:
            factors = regularizers_module._penalty_kernel_factors(regularizer)
            if factors is None or not variable.trainable or (
                    layer is not model and id(layer) not in chain_ids):
                return False
            out.append((variable, *factors))
        return all(walk(sub) for sub in layer._sublayers)

    if not walk(model) or type(model).losses is not Layer.losses:
        return None
    return out
