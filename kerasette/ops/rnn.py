"""Fused recurrences: SimpleRNN, LSTM and GRU as one differentiable op each.

A recurrent layer written as a Python loop of small autodiff ops records
about twenty tape nodes per time step and allocates each of them; at 200
steps that bookkeeping costs more than the arithmetic. Here one layer call
is one tape record:

* the input projection `x @ kernel + bias` is computed for blocks of
  `CHUNK` steps at once (one batched matrix product each), and becomes the
  gates in place;
* the time loop does only `h_prev @ recurrent_kernel` and the gate
  arithmetic per step, into preallocated time-major `(T, B, ...)` buffers
  that keep what the backward needs (the gate activations, the states);
* the backward runs back through time in one loop that writes the gates'
  gradients into a ring of `CHUNK` steps; once per chunk, while those rows
  are still in cache, one matrix product each adds the chunk's share of the
  gradients of `x`, the kernel and the recurrent kernel, and one sum that
  of the bias.

Per-step buffers are time-major so that a step reads and writes contiguous
`(B, ...)` blocks; `x`, the packed output and its gradient keep Keras's
batch-major layout, read and written through strided views (or copies of
one chunk). Without a tape the forward keeps only a ring of the last few
steps.

Two exact rewrites save passes over the gates: the LSTM's columns are
reordered internally to `i, f, o, c` so that the three sigmoid gates are
one block, and `sigmoid(v) = 0.5 * tanh(v / 2) + 0.5` with the halving
folded into copies of the weights (a power of two: the products are
exactly halved), so one `tanh` call activates all of a step's gates. The
results differ from `1 / (1 + exp(-v))` by rounding only.

With the default activations, each step's remaining gate arithmetic
(LSTM forward and backward, GRU backward) is one compiled loop: numba's on
NumPy when the optional extra is installed (`kerasette.backend.cpu_kernels`),
one fused kernel on CuPy (`kerasette.backend.cupy_kernels`). Otherwise it
is a short chain of in-place ufuncs, which is also what the strict backend
runs. Both loops do the ufunc chain's float operations in its order, so
the results are the same bits (tests/test_rnn_ops.py checks it).

Numerics follow tf.keras 2 (`tf_keras/layers/rnn/{simple_rnn,lstm,gru}.py`
and `backend.rnn`): gate order `i, f, c, o` (LSTM) and `z, r, h` (GRU), the
GRU's two bias layouts, and masking: at a masked step the state is carried
over and the output is the previous step's output (zeros before the first
real step), or zeros with `zero_output_for_mask=True`.

A tape record has one output, so each op returns one packed tensor `Z`:
`Z[:, :T]` is the output sequence (in processing order), `Z[:, T]` the
final `h` and, for `lstm`, `Z[:, T + 1]` the final `c`.

Example:
    >>> from kerasette import ops
    >>> from kerasette.ops import rnn
    >>> x = ops.ones((2, 3, 4))
    >>> k, rk = ops.ones((4, 20)) * 0.1, ops.ones((5, 20)) * 0.1
    >>> z = rnn.lstm(x, k, rk, ops.zeros((20,)))
    >>> z.shape  # (batch, T + 2, units): the sequence, then h and c
    (2, 5, 5)
"""

from __future__ import annotations

import numpy as np

from kerasette.autodiff import state as _state
from kerasette.backend import cpu_kernels, cupy_kernels
from kerasette.ops.core import _tensor, record, xp

ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear")

# Below this, exp(-x) overflows float32 (as kerasette.ops.nn's sigmoid).
_EXP_LIMIT = 88.0


# -- activations on buffers we own (in place) ---------------------------------------------
def _activate(m, name, a):
    """`a = name(a)` in place (`"sigmoid"` here is the plain formula, on unscaled input)."""
    if name == "tanh":
        m.tanh(a, out=a)
    elif name == "sigmoid":
        m.maximum(a, -_EXP_LIMIT, out=a)
        m.negative(a, out=a)
        m.exp(a, out=a)
        a += 1.0
        m.reciprocal(a, out=a)
    elif name == "hard_sigmoid":  # tf.keras 2: clip(0.2 * x + 0.5, 0, 1)
        a *= 0.2
        a += 0.5
        m.clip(a, 0.0, 1.0, out=a)
    elif name == "relu":
        m.maximum(a, 0.0, out=a)
    return a


def _sigmoid_from_tanh(a):
    """`a = 0.5 * a + 0.5` in place: the sigmoid of `v` from `tanh(v / 2)`."""
    a *= 0.5
    a += 0.5


def _times_derivative(m, name, y, d, tmp):
    """`d *= name'(z)` in place, from the activation's output `y = name(z)`.

    Every supported activation's derivative is a function of its output,
    so the forward keeps only outputs. `tmp` is scratch of `d`'s shape.
    """
    if name == "tanh":
        m.multiply(y, y, out=tmp)
        m.subtract(1.0, tmp, out=tmp)
        d *= tmp
    elif name == "sigmoid":
        m.subtract(1.0, y, out=tmp)
        tmp *= y
        d *= tmp
    elif name == "hard_sigmoid":  # slope 0.2 strictly inside (-2.5, 2.5), i.e. 0 < y < 1
        d *= ((y > 0.0) & (y < 1.0))
        d *= 0.2
    elif name == "relu":
        d *= (y > 0.0)


# -- argument checks (all before any work) --------------------------------------------------
def _check_activation(op, arg, name):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"rnn.{op}: `{arg}` must be one of {', '.join(map(repr, ACTIVATIONS))} "
            f"(the activations the fused op implements). Received: {arg}={name!r}")


def _shape_error(op, arg, expected, got):
    raise ValueError(f"rnn.{op}: `{arg}` must have shape {expected}. Received: {arg} of shape "
                     f"{tuple(got)}")


def _prepare(op, gates, x, kernel, recurrent_kernel, bias, initial_state, mask,
             recurrent_dropout_mask, n_states, bias_shape):
    """The parents as tensors and the other inputs as arrays; raises on a bad argument."""
    x = _tensor(x, f"rnn.{op}")
    if x.ndim != 3:
        _shape_error(op, "x", "(batch, timesteps, features)", x.shape)
    if x.dtype.kind != "f":
        raise ValueError(f"rnn.{op}: `x` must be a float tensor. Received: x of dtype {x.dtype}")
    b, t, f = x.shape
    if t == 0:
        raise ValueError(f"rnn.{op}: `x` needs at least one time step. Received: x of shape "
                         f"{tuple(x.shape)}")
    kernel = _tensor(kernel, f"rnn.{op}", like=x)
    recurrent_kernel = _tensor(recurrent_kernel, f"rnn.{op}", like=x)
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != gates * recurrent_kernel.shape[0]:
        _shape_error(op, "recurrent_kernel", f"(units, {gates} * units)", recurrent_kernel.shape)
    u = recurrent_kernel.shape[0]
    if tuple(kernel.shape) != (f, gates * u):
        _shape_error(op, "kernel", (f, gates * u), kernel.shape)
    if bias is not None:
        bias = _tensor(bias, f"rnn.{op}", like=x)
        if tuple(bias.shape) != bias_shape(u):
            _shape_error(op, "bias", bias_shape(u), bias.shape)
    states = []
    if initial_state is not None:
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != n_states:
            what = "[h0]" if n_states == 1 else "[h0, c0]"
            raise ValueError(f"rnn.{op}: `initial_state` must be None or a list {what} of "
                             f"(batch, units) tensors. Received: {initial_state!r}")
        for i, s in enumerate(initial_state):
            s = _tensor(s, f"rnn.{op}", like=x)
            if tuple(s.shape) != (b, u):
                _shape_error(op, f"initial_state[{i}]", (b, u), s.shape)
            states.append(s)
    mask_data = None
    if mask is not None:
        mask_data = _tensor(mask, f"rnn.{op}").data
        if tuple(mask_data.shape) != (b, t):
            _shape_error(op, "mask", (b, t), mask_data.shape)
        if mask_data.dtype != np.bool_:
            mask_data = mask_data.astype(bool)
    rdm = None
    if recurrent_dropout_mask is not None:
        rdm = _tensor(recurrent_dropout_mask, f"rnn.{op}", like=x).data
        if tuple(rdm.shape) != (b, u):
            _shape_error(op, "recurrent_dropout_mask", (b, u), rdm.shape)
        rdm = rdm.astype(x.dtype, copy=False)
    return x, kernel, recurrent_kernel, bias, states, mask_data, rdm


def _data(t, dtype):
    return None if t is None else t.data.astype(dtype, copy=False)


def _scaled(a, scale):
    """A copy of `a` with its columns multiplied by `scale` (exact: powers of two)."""
    return None if a is None else a * scale


# Steps projected per matrix product on NumPy: the (CHUNK, B, n*U) block it
# writes is still in cache when the steps read it (16 x 64 x 512 float32: 2 MiB).
CHUNK = 16


class _Sequence:
    """What the three recurrences share: input order, masks, state buffers and the packing.

    Per-step buffers are time-major, `(T, B, ...)`, in processing order (step
    `s` reads `x[:, T - 1 - s]` under `go_backwards`, else `x[:, s]`), so a
    step reads and writes contiguous `(B, ...)` blocks. Without a tape the
    forward keeps only the few steps it needs (`steps` returns a ring).
    """

    def __init__(self, x, states, mask, rdm, go_backwards, zero_output, units, n_finals,
                 training):
        m = xp()
        self.m = m
        self.dtype = dt = x.dtype
        b, t, f = x.shape
        self.b, self.t, self.f, self.u = b, t, f, units
        self.go_backwards = go_backwards
        self.zero_output = zero_output
        self.rdm = rdm
        # NumPy: chunked projections and products into strided views; other
        # backends (CuPy: a kernel launch per call) project once.
        self.numpy = m is np
        self.ring = self.numpy and not training
        self.xv = x.data[:, ::-1] if go_backwards else x.data  # a view, processing order
        self.masked = mask is not None
        if self.masked:
            keep = m.transpose(mask, (1, 0))
            keep = m.ascontiguousarray(keep[::-1] if go_backwards else keep)[:, :, None]
            self.drop = ~keep  # (T, B, 1)
            self.keep_f = keep.astype(dt)
            self.drop_f = self.drop.astype(dt)
        self.init = [s.data.astype(dt, copy=False) for s in states]
        self.z = m.empty((b, t + n_finals, units), dtype=dt)  # the packed output
        self.hs = self.steps(t + 1, units)
        self.hs[0] = self.initial(0)

    def steps(self, n, width, ring=2):
        """A (n, B, width) buffer for per-step values, or a ring of `ring` rows without a tape;
        `at(buf, s)` indexes either."""
        return self.m.empty((ring if self.ring else n, self.b, width), dtype=self.dtype)

    @staticmethod
    def at(buf, s):
        return buf[s % buf.shape[0]]

    def initial(self, i):
        if i < len(self.init):
            return self.init[i]
        return self.m.zeros((self.b, self.u), dtype=self.dtype)

    def projection(self, n_cols):
        """The buffer for the input projections (and then the gates): (T, B, n_cols)."""
        return self.steps(self.t, n_cols, ring=CHUNK)

    def project(self, s, G, kernel, bias):
        """Fills G with `x @ kernel + bias` for the steps from `s` on, when they are due."""
        m, t = self.m, self.t
        if not self.numpy:
            if s == 0:
                xs = m.ascontiguousarray(m.transpose(self.xv, (1, 0, 2)))
                G[...] = (xs.reshape(t * self.b, self.f) @ kernel).reshape(G.shape)
                if bias is not None:
                    G += bias
            return
        if s % CHUNK:
            return
        end = min(s + CHUNK, t)
        first = s % G.shape[0]
        out = G[first:first + end - s]
        m.matmul(m.transpose(self.xv[:, s:end], (1, 0, 2)), kernel, out=out)
        if bias is not None:
            out += bias

    def dropped(self, h):
        return h if self.rdm is None else h * self.rdm

    def emit(self, s, others=()):
        """Step `s`'s output and, under a mask, its carried states.

        At a masked step the states (h, and `others`: the LSTM's c) are
        carried over and the output is the previous output, or zeros.
        """
        m, at = self.m, self.at
        out, h_new = self.z[:, s], at(self.hs, s + 1)
        out[...] = h_new
        if not self.masked:
            return
        drop = self.drop[s]
        if self.zero_output or s == 0:
            m.copyto(out, 0.0, where=drop)
        else:
            m.copyto(out, self.z[:, s - 1], where=drop)
        m.copyto(h_new, at(self.hs, s), where=drop)
        for buf in others:
            m.copyto(at(buf, s + 1), at(buf, s), where=drop)

    def finish(self, finals):
        """The packed output: the final h (and c) after the sequence."""
        t = self.t
        self.z[:, t] = self.at(self.hs, t)
        for i, f in enumerate(finals):
            self.z[:, t + 1 + i] = f
        return self.z

    # -- backward helpers -------------------------------------------------------------------
    def final_grads(self, g, n):
        t = self.t
        return [self.m.array(g[:, t + i], dtype=self.dtype) for i in range(n)]

    def step_grads(self, s, g, dh, carry, others=()):
        """The gradient reaching step `s`'s new h, through the output and the mask.

        `dh` (our buffer) holds the gradient of the state after step `s`;
        it is turned in place into the gradient of the cell's new h. Returns
        the parts that bypass the cell to the previous states (`dh`'s first,
        then one per buffer of `others`, which are masked in place), or
        None when unmasked. `carry` is the gradient of the output `s`
        carries to later masked steps; updated in place.
        """
        gy = g[:, s]
        if not self.masked:
            dh += gy
            return None
        if carry is not None:
            gy = gy + carry
        keep, drop = self.keep_f[s], self.drop_f[s]
        bypass = [dh * drop] + [o * drop for o in others]
        dh += gy
        dh *= keep
        for o in others:
            o *= keep
        if carry is not None:
            self.m.multiply(gy, drop, out=carry)
        return bypass

    def carry_buffer(self):
        if not self.masked or self.zero_output:
            return None
        return self.m.zeros((self.b, self.u), dtype=self.dtype)

    def grad_buffer(self, width):
        """A ring of `CHUNK` steps for the gradients of the pre-activations: a chunk's
        products with x and the states run (`chunk`) while its rows are still in cache."""
        return self.m.empty((min(CHUNK, self.t), self.b, width), dtype=self.dtype)

    def chunk(self, s, buf):
        """At the first step `s` of a chunk (the last one the backward reaches): the
        chunk's end and its rows of the ring `buf`; else None."""
        if s % CHUNK:
            return None
        end = min(s + CHUNK, self.t)
        return end, buf[:end - s]

    def previous_states(self, s, end):
        """The (dropped) states before steps `s` to `end`, as (steps * B, U), for dU."""
        hp = self.hs[s:end]
        if self.rdm is not None:
            hp = hp * self.rdm
        return hp.reshape(-1, self.u)

    def input_grads(self, s, end, rows, kernel, dx, dk):
        """Adds steps `s` to `end`'s part of dx (writes its rows) and of dkernel (in place)."""
        m, b, f = self.m, self.b, self.f
        flat = rows.reshape(-1, rows.shape[-1])
        if dx is not None:
            view = m.transpose(dx[:, ::-1] if self.go_backwards else dx, (1, 0, 2))[s:end]
            if self.numpy:
                m.matmul(rows, kernel.T, out=view)
            else:
                view[...] = (flat @ kernel.T).reshape(end - s, b, f)
        if dk is not None:
            xs = m.ascontiguousarray(m.transpose(self.xv[:, s:end], (1, 0, 2)))
            dk += xs.reshape(-1, f).T @ flat

    def input_grad_buffers(self, needs_x, needs_kernel, n_cols):
        m, dt = self.m, self.dtype
        dx = m.empty((self.b, self.t, self.f), dtype=dt) if needs_x else None
        dk = m.zeros((self.f, n_cols), dtype=dt) if needs_kernel else None
        return dx, dk


def _record(z, parents, grads_fn):
    """Records `z` with `parents`; `grads_fn(g, needs)` gives one gradient per parent."""
    def backward(g, needs):
        grads = grads_fn(g, needs)
        return tuple(gr.astype(p.dtype, copy=False) if (n and gr is not None) else None
                     for gr, p, n in zip(grads, parents, needs))

    return record(z, parents, backward)


def _recording(parents):
    return _state._recording and any(p._rg for p in parents)


def _step_kernels(m, x, *pairs):
    """The compiled per-step loops (numba on NumPy, fused kernels on CuPy) when they
    apply: the default activations, given as `(name, required)` pairs. Else None."""
    if any(name != want for name, want in pairs):
        return None
    if cupy_kernels.enabled(m):
        return cupy_kernels.rnn_steps
    if cpu_kernels.rnn_enabled(m, x.data):
        return cpu_kernels.rnn_module()
    return None


# -- SimpleRNN --------------------------------------------------------------------------------
def simple_rnn(x, kernel, recurrent_kernel, bias, initial_state=None, mask=None,
               go_backwards=False, activation="tanh", recurrent_dropout_mask=None,
               zero_output_for_mask=False):
    """Fully connected recurrence `h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`.

    Args:
        x: input, shape `(batch, timesteps, features)`, float.
        kernel: `(features, units)`.
        recurrent_kernel: `(units, units)`.
        bias: `(units,)` or `None`.
        initial_state: `None` (zeros) or `[h0]`, `(batch, units)`.
        mask: `None` or a boolean `(batch, timesteps)` array or tensor; `True`
            marks a real step.
        go_backwards: process the steps from the last to the first.
        activation: `"tanh"`, `"sigmoid"`, `"hard_sigmoid"`, `"relu"` or `"linear"`.
        recurrent_dropout_mask: `None` or `(batch, units)`, already scaled by
            `1 / (1 - rate)`, multiplied into `h_{t-1}` before the product.
        zero_output_for_mask: output zeros (not the previous output) at masked steps.

    Returns:
        A tensor `(batch, timesteps + 1, units)`: the outputs in processing
        order, then the final state.

    Example:
        >>> from kerasette import ops
        >>> z = simple_rnn(ops.ones((1, 2, 1)), ops.ones((1, 1)), ops.zeros((1, 1)), None,
        ...                activation="linear")
        >>> z.numpy().ravel().tolist()
        [1.0, 1.0, 1.0]
    """
    _check_activation("simple_rnn", "activation", activation)
    x, kernel, rk, bias, states, mask, rdm = _prepare(
        "simple_rnn", 1, x, kernel, recurrent_kernel, bias, initial_state, mask,
        recurrent_dropout_mask, 1, lambda u: (u,))
    dt = x.dtype
    W, U, bvec = _data(kernel, dt), _data(rk, dt), _data(bias, dt)
    parents = [x, kernel, rk] + ([bias] if bias is not None else []) + states
    training = _recording(parents)
    seq = _Sequence(x, states, mask, rdm, go_backwards, zero_output_for_mask, U.shape[0], 1,
                    training)
    m, t, b, at = seq.m, seq.t, seq.b, seq.at
    A = seq.projection(seq.u)  # the pre-activations, then the outputs (before masking), in place
    tmp = m.empty((b, seq.u), dtype=dt)
    for s in range(t):
        seq.project(s, A, W, bvec)
        a = at(A, s)
        m.matmul(seq.dropped(at(seq.hs, s)), U, out=tmp)
        a += tmp
        _activate(m, activation, a)
        at(seq.hs, s + 1)[...] = a
        seq.emit(s)
    z = seq.finish([])
    if not training:
        return record(z, parents, None)

    def grads(g, needs):
        (dh,) = seq.final_grads(g, 1)
        dA = seq.grad_buffer(seq.u)
        dx, dk = seq.input_grad_buffers(needs[0], needs[1], seq.u)
        du = m.zeros((seq.u, seq.u), dtype=dt) if needs[2] else None
        db = m.zeros((seq.u,), dtype=dt) if bias is not None and needs[3] else None
        carry = seq.carry_buffer()
        Ut = U.T
        for s in range(t - 1, -1, -1):
            bypass = seq.step_grads(s, g, dh, carry)
            d = at(dA, s)
            d[...] = dh
            _times_derivative(m, activation, A[s], d, tmp)
            m.matmul(d, Ut, out=dh)
            if rdm is not None:
                dh *= rdm
            if bypass is not None:
                dh += bypass[0]
            done = seq.chunk(s, dA)
            if done is not None:
                end, rows = done
                seq.input_grads(s, end, rows, W, dx, dk)
                if du is not None:
                    du += seq.previous_states(s, end).T @ rows.reshape(-1, seq.u)
                if db is not None:
                    db += rows.sum(axis=(0, 1))
        return [dx, dk, du] + ([db] if bias is not None else []) + [dh] * len(states)

    return _record(z, parents, grads)


# -- LSTM -------------------------------------------------------------------------------------
def _lstm_order(m, a, u):
    """Keras's column order i, f, c, o as i, f, o, c (the sigmoid gates side by side),
    and back: the swap of the last two blocks is its own inverse."""
    return m.concatenate([a[..., :2 * u], a[..., 3 * u:], a[..., 2 * u:3 * u]], axis=-1)


def lstm(x, kernel, recurrent_kernel, bias, initial_state=None, mask=None, go_backwards=False,
         activation="tanh", recurrent_activation="sigmoid", recurrent_dropout_mask=None,
         zero_output_for_mask=False):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), tf.keras 2's formulation.

    With gate order `i, f, c, o` in the kernels' columns:
    `c_t = f * c_{t-1} + i * act(x W_c + h U_c + b_c)`, `h_t = o * act(c_t)`,
    where `i, f, o = recurrent_act(x W + h U + b)`.

    Args:
        x: input, shape `(batch, timesteps, features)`, float.
        kernel: `(features, 4 * units)`.
        recurrent_kernel: `(units, 4 * units)`.
        bias: `(4 * units,)` or `None`.
        initial_state: `None` (zeros) or `[h0, c0]`, each `(batch, units)`.
        mask: `None` or a boolean `(batch, timesteps)` array or tensor.
        go_backwards: process the steps from the last to the first.
        activation: the cell and output activation (a name of `ACTIVATIONS`).
        recurrent_activation: the gates' activation (a name of `ACTIVATIONS`).
        recurrent_dropout_mask: `None` or `(batch, units)`, already scaled,
            multiplied into `h_{t-1}` before the recurrent product.
        zero_output_for_mask: output zeros at masked steps.

    Returns:
        A tensor `(batch, timesteps + 2, units)`: the outputs in processing
        order, then the final `h`, then the final `c`.

    Example:
        >>> from kerasette import ops
        >>> z = lstm(ops.zeros((2, 3, 1)), ops.zeros((1, 8)), ops.zeros((2, 8)), None)
        >>> z.shape
        (2, 5, 2)
    """
    _check_activation("lstm", "activation", activation)
    _check_activation("lstm", "recurrent_activation", recurrent_activation)
    x, kernel, rk, bias, states, mask, rdm = _prepare(
        "lstm", 4, x, kernel, recurrent_kernel, bias, initial_state, mask,
        recurrent_dropout_mask, 2, lambda u: (4 * u,))
    dt = x.dtype
    u = rk.shape[0]
    parents = [x, kernel, rk] + ([bias] if bias is not None else []) + states
    training = _recording(parents)
    seq = _Sequence(x, states, mask, rdm, go_backwards, zero_output_for_mask, u, 2, training)
    m, t, b, at = seq.m, seq.t, seq.b, seq.at
    W, U = _lstm_order(m, _data(kernel, dt), u), _lstm_order(m, _data(rk, dt), u)
    bvec = None if bias is None else _lstm_order(m, _data(bias, dt), u)
    tanh_sigmoid = recurrent_activation == "sigmoid"  # via tanh on halved inputs
    fused = tanh_sigmoid and activation == "tanh"  # one tanh for all four gates
    if tanh_sigmoid:
        scale = m.ones((4 * u,), dtype=dt)
        scale[:3 * u] = 0.5
        Wf, Uf, bf = _scaled(W, scale), _scaled(U, scale), _scaled(bvec, scale)
    else:
        Wf, Uf, bf = W, U, bvec
    kern = _step_kernels(m, x, (activation, "tanh"), (recurrent_activation, "sigmoid"))
    half, one = dt.type(0.5), dt.type(1.0)  # the compiled steps' constants, in x's dtype
    G = seq.projection(4 * u)  # (T, B, 4U): pre-activations, then i, f, o, g in place
    C = seq.steps(t + 1, u)
    C[0] = seq.initial(1)
    TC = seq.steps(t, u, ring=1)  # act(c) before masking
    pre = m.empty((b, 4 * u), dtype=dt)
    tmp = m.empty((b, u), dtype=dt)
    for s in range(t):
        seq.project(s, G, Wf, bf)
        gs = at(G, s)
        m.matmul(seq.dropped(at(seq.hs, s)), Uf, out=pre)
        gs += pre
        if fused:
            m.tanh(gs, out=gs)  # the sigmoid gates' last step is in the cell update below
        else:
            sig = gs[:, :3 * u]
            if tanh_sigmoid:
                _sigmoid_from_tanh(m.tanh(sig, out=sig))
            else:
                _activate(m, recurrent_activation, sig)
            _activate(m, activation, gs[:, 3 * u:])
        c_prev, c_new, tc = at(C, s), at(C, s + 1), at(TC, s)
        if kern is not None:
            kern.lstm_forward(gs, c_prev, c_new, half)
        else:
            if fused:
                _sigmoid_from_tanh(gs[:, :3 * u])
            m.multiply(gs[:, u:2 * u], c_prev, out=c_new)
            m.multiply(gs[:, :u], gs[:, 3 * u:], out=tmp)
            c_new += tmp
        if activation == "tanh":
            m.tanh(c_new, out=tc)
        else:
            tc[...] = c_new
            _activate(m, activation, tc)
        m.multiply(gs[:, 2 * u:3 * u], tc, out=at(seq.hs, s + 1))
        seq.emit(s, (C,))
    z = seq.finish([at(C, t)])
    if not training:
        return record(z, parents, None)

    def grads(g, needs):
        dh, dc = seq.final_grads(g, 2)
        dG = seq.grad_buffer(4 * u)
        dx, dk = seq.input_grad_buffers(needs[0], needs[1], 4 * u)
        du = m.zeros((u, 4 * u), dtype=dt) if needs[2] else None
        db = m.zeros((4 * u,), dtype=dt) if bias is not None and needs[3] else None
        carry = seq.carry_buffer()
        Ut = U.T
        t1, t2 = m.empty((b, u), dtype=dt), m.empty((b, 3 * u), dtype=dt)
        for s in range(t - 1, -1, -1):
            bypass = seq.step_grads(s, g, dh, carry, (dc,))
            gs, d = G[s], at(dG, s)
            if kern is not None:
                kern.lstm_backward(dh, dc, gs, TC[s], C[s], d, one)
            else:
                _lstm_cell_backward(m, activation, recurrent_activation, u, dh, dc, gs,
                                    TC[s], C[s], d, t1, t2)
            m.matmul(d, Ut, out=dh)
            if rdm is not None:
                dh *= rdm
            if bypass is not None:
                dh += bypass[0]
                dc += bypass[1]
            done = seq.chunk(s, dG)
            if done is not None:
                end, rows = done
                seq.input_grads(s, end, rows, W, dx, dk)
                if du is not None:
                    du += seq.previous_states(s, end).T @ rows.reshape(-1, 4 * u)
                if db is not None:
                    db += rows.sum(axis=(0, 1))
        # back to Keras's column order i, f, c, o
        out = [dx] + [None if a is None else _lstm_order(m, a, u) for a in (dk, du)]
        if bias is not None:
            out.append(None if db is None else _lstm_order(m, db, u))
        return out + [dh, dc][:len(states)]

    return _record(z, parents, grads)


def _lstm_cell_backward(m, act, rec_act, u, dh, dc, gs, tc, c_prev, d, t1, t2):
    """One LSTM step back, with ufuncs: `d` gets the gates' gradients, `dc` becomes dc_prev.

    `dh` and `dc` hold the gradients of the cell's new h and c; `gs` the
    gates i, f, o, g; `tc` act(c_new).
    """
    i, f, o, gg = gs[:, :u], gs[:, u:2 * u], gs[:, 2 * u:3 * u], gs[:, 3 * u:]
    # dc_total = dc + dh * o * act'(c)
    m.multiply(dh, o, out=t1)
    _times_derivative(m, act, tc, t1, d[:, 3 * u:])
    t1 += dc
    m.multiply(t1, gg, out=d[:, :u])
    m.multiply(t1, c_prev, out=d[:, u:2 * u])
    m.multiply(dh, tc, out=d[:, 2 * u:3 * u])
    _times_derivative(m, rec_act, gs[:, :3 * u], d[:, :3 * u], t2)
    m.multiply(t1, i, out=d[:, 3 * u:])
    _times_derivative(m, act, gg, d[:, 3 * u:], dh)  # dh is free scratch from here
    m.multiply(t1, f, out=dc)


# -- GRU --------------------------------------------------------------------------------------
def gru(x, kernel, recurrent_kernel, bias, initial_state=None, mask=None, go_backwards=False,
        activation="tanh", recurrent_activation="sigmoid", reset_after=True,
        recurrent_dropout_mask=None, zero_output_for_mask=False):
    """Gated recurrent unit (Cho et al., 2014), tf.keras 2's formulation.

    With gate order `z, r, h` in the kernels' columns, `z, r = recurrent_act(...)`,
    `h_t = z * h_{t-1} + (1 - z) * hh` where, with `reset_after=True` (the
    default, cuDNN-compatible), `hh = act(x W_h + b_h + r * (h U_h + b_rh))`
    and the bias is `(2, 3 * units)` (input bias; recurrent bias); with
    `reset_after=False`, `hh = act(x W_h + b_h + (r * h) U_h)` and the bias
    is `(3 * units,)`.

    Args:
        x: input, shape `(batch, timesteps, features)`, float.
        kernel: `(features, 3 * units)`.
        recurrent_kernel: `(units, 3 * units)`.
        bias: `(2, 3 * units)` (`reset_after=True`), `(3 * units,)` otherwise, or `None`.
        initial_state: `None` (zeros) or `[h0]`, `(batch, units)`.
        mask: `None` or a boolean `(batch, timesteps)` array or tensor.
        go_backwards: process the steps from the last to the first.
        activation: the candidate's activation (a name of `ACTIVATIONS`).
        recurrent_activation: the gates' activation (a name of `ACTIVATIONS`).
        reset_after: apply the reset gate after the recurrent product.
        recurrent_dropout_mask: `None` or `(batch, units)`, already scaled,
            multiplied into `h_{t-1}` before the recurrent product (not into
            the `z * h_{t-1}` term).
        zero_output_for_mask: output zeros at masked steps.

    Returns:
        A tensor `(batch, timesteps + 1, units)`: the outputs in processing
        order, then the final state.

    Example:
        >>> from kerasette import ops
        >>> z = gru(ops.zeros((2, 3, 1)), ops.zeros((1, 6)), ops.zeros((2, 6)), ops.zeros((2, 6)))
        >>> z.shape
        (2, 4, 2)
    """
    _check_activation("gru", "activation", activation)
    _check_activation("gru", "recurrent_activation", recurrent_activation)
    reset_after = bool(reset_after)
    bias_shape = (lambda u: (2, 3 * u)) if reset_after else (lambda u: (3 * u,))
    x, kernel, rk, bias, states, mask, rdm = _prepare(
        "gru", 3, x, kernel, recurrent_kernel, bias, initial_state, mask,
        recurrent_dropout_mask, 1, bias_shape)
    dt = x.dtype
    W, U = _data(kernel, dt), _data(rk, dt)
    u = U.shape[0]
    b_in = b_rec = None
    if bias is not None:
        bd = _data(bias, dt)
        b_in, b_rec = (bd[0], bd[1]) if reset_after else (bd, None)
    parents = [x, kernel, rk] + ([bias] if bias is not None else []) + states
    training = _recording(parents)
    seq = _Sequence(x, states, mask, rdm, go_backwards, zero_output_for_mask, u, 1, training)
    m, t, b, at = seq.m, seq.t, seq.b, seq.at
    tanh_sigmoid = recurrent_activation == "sigmoid"
    if tanh_sigmoid:
        scale = m.ones((3 * u,), dtype=dt)
        scale[:2 * u] = 0.5
        Wf, Uf = _scaled(W, scale), _scaled(U, scale)
        b_inf, b_recf = _scaled(b_in, scale), _scaled(b_rec, scale)
    else:
        Wf, Uf, b_inf, b_recf = W, U, b_in, b_rec
    Uf_zr, U_h = Uf[:, :2 * u], U[:, 2 * u:]
    kern = _step_kernels(m, x, (activation, "tanh"), (recurrent_activation, "sigmoid"))
    one = dt.type(1.0)
    G = seq.projection(3 * u)  # (T, B, 3U): x-part pre-activations, then z, r, hh in place
    # reset_after: the recurrent candidate part h U_h + b_rh; else the reset state r * h.
    R = seq.steps(t, u, ring=1)
    inner = m.empty((b, 3 * u if reset_after else 2 * u), dtype=dt)
    tmp = m.empty((b, u), dtype=dt)
    for s in range(t):
        seq.project(s, G, Wf, b_inf)
        gs, rs = at(G, s), at(R, s)
        zr, hh = gs[:, :2 * u], gs[:, 2 * u:]
        h_prev = at(seq.hs, s)
        hp = seq.dropped(h_prev)
        if reset_after:
            m.matmul(hp, Uf, out=inner)
            if b_recf is not None:
                inner += b_recf
            zr += inner[:, :2 * u]
        else:
            m.matmul(hp, Uf_zr, out=inner)
            zr += inner
        if tanh_sigmoid:
            _sigmoid_from_tanh(m.tanh(zr, out=zr))
        else:
            _activate(m, recurrent_activation, zr)
        r = gs[:, u:2 * u]
        if reset_after:
            rs[...] = inner[:, 2 * u:]
            m.multiply(r, rs, out=tmp)
        else:
            m.multiply(r, hp, out=rs)
            m.matmul(rs, U_h, out=tmp)
        hh += tmp
        _activate(m, activation, hh)
        # h = z * h_prev + (1 - z) * hh, computed as hh + z * (h_prev - hh)
        h_new = at(seq.hs, s + 1)
        m.subtract(h_prev, hh, out=h_new)
        h_new *= gs[:, :u]
        h_new += hh
        seq.emit(s)
    z = seq.finish([])
    if not training:
        return record(z, parents, None)

    def grads(g, needs):
        (dh,) = seq.final_grads(g, 1)
        dX = seq.grad_buffer(3 * u)  # gradient of the input projection (x W + b_in)
        dI = seq.grad_buffer(3 * u) if reset_after else None  # of h U (+ b_rec)
        dx, dk = seq.input_grad_buffers(needs[0], needs[1], 3 * u)
        du = m.zeros((u, 3 * u), dtype=dt) if needs[2] else None
        db = None
        if bias is not None and needs[3]:
            db = m.zeros((2, 3 * u) if reset_after else (3 * u,), dtype=dt)
        carry = seq.carry_buffer()
        Ut, Uzr_t, Uh_t = U.T, U[:, :2 * u].T, U_h.T
        t1, t2 = m.empty((b, u), dtype=dt), m.empty((b, 2 * u), dtype=dt)
        dhp = m.empty((b, u), dtype=dt)
        for s in range(t - 1, -1, -1):
            bypass = seq.step_grads(s, g, dh, carry)
            gs, d, h_prev = G[s], at(dX, s), seq.hs[s]
            if reset_after:
                di = at(dI, s)
                if kern is not None:
                    kern.gru_backward(dh, gs, h_prev, R[s], d, di, one)
                else:
                    _gru_cell_backward(m, activation, recurrent_activation, u, dh, gs, h_prev,
                                       R[s], d, t1, t2)
                    di[:, :2 * u] = d[:, :2 * u]
                    m.multiply(d[:, 2 * u:], gs[:, u:2 * u], out=di[:, 2 * u:])
                m.matmul(di, Ut, out=dhp)
            else:
                # the candidate's gradient first: the reset gate's needs (r * h) U_h's
                _gru_candidate_backward(m, activation, u, dh, gs, h_prev, d, t1)
                m.matmul(d[:, 2 * u:], Uh_t, out=t1)  # gradient of r * h_prev_dropped
                m.multiply(t1, seq.dropped(h_prev), out=d[:, u:2 * u])
                _times_derivative(m, recurrent_activation, gs[:, :2 * u], d[:, :2 * u], t2)
                m.multiply(t1, gs[:, u:2 * u], out=dhp)
                dhp += m.matmul(d[:, :2 * u], Uzr_t)
            if rdm is not None:
                dhp *= rdm
            dh *= gs[:, :u]  # the direct path z * h_prev
            dh += dhp
            if bypass is not None:
                dh += bypass[0]
            done = seq.chunk(s, dX)
            if done is not None:
                end, rows = done
                seq.input_grads(s, end, rows, W, dx, dk)
                flat = rows.reshape(-1, 3 * u)
                if reset_after:
                    inner = dI[:end - s].reshape(-1, 3 * u)
                    if du is not None:
                        du += seq.previous_states(s, end).T @ inner
                    if db is not None:
                        db[0] += flat.sum(axis=0)
                        db[1] += inner.sum(axis=0)
                else:
                    if du is not None:
                        du[:, :2 * u] += seq.previous_states(s, end).T @ flat[:, :2 * u]
                        du[:, 2 * u:] += R[s:end].reshape(-1, u).T @ flat[:, 2 * u:]
                    if db is not None:
                        db += flat.sum(axis=0)
        out = [dx, dk, du] + ([db] if bias is not None else []) + [dh]
        return out[:len(parents)]

    return _record(z, parents, grads)


def _gru_candidate_backward(m, act, u, dh, gs, h_prev, d, tmp):
    """Writes the update gate's and the candidate's pre-activation gradients into `d`
    (the update gate's still without ract'), from `dh`, the gradient of the new h."""
    zg, hh = gs[:, :u], gs[:, 2 * u:]
    m.subtract(h_prev, hh, out=d[:, :u])
    d[:, :u] *= dh
    m.subtract(1.0, zg, out=d[:, 2 * u:])
    d[:, 2 * u:] *= dh
    _times_derivative(m, act, hh, d[:, 2 * u:], tmp)


def _gru_cell_backward(m, act, rec_act, u, dh, gs, h_prev, rec_h, d, tmp, tmp2):
    """One reset-after GRU step back with ufuncs: `d` gets the gradients of the
    pre-activations z, r and hh (that of `x W + b_in`)."""
    _gru_candidate_backward(m, act, u, dh, gs, h_prev, d, tmp)
    m.multiply(d[:, 2 * u:], rec_h, out=d[:, u:2 * u])
    _times_derivative(m, rec_act, gs[:, :2 * u], d[:, :2 * u], tmp2)
