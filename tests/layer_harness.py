"""A layer-test harness in the spirit of Keras's `run_layer_test`.

One call checks what every layer must do: build from an input shape, the
output shape and dtype, weight counts, a config round trip through JSON,
training versus inference behaviour, float64 gradients of the output with
respect to the input and every trainable weight, and a training step that
lowers a loss.
"""

from __future__ import annotations

import json

import numpy as np

import kerasette
from kerasette import ops
from gradcheck import TOLERANCES

from kerasette.layers.base import _training_default


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   random_in_training=False, stateful_in_training=False,
                   gradient_kind="default", input_data=None):
    """Runs the standard checks on `layer_cls(**init_kwargs)`.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_shape: a concrete input shape, batch first.
        expected_output_shape: the output shape for that input.
        expected_num_trainable_weights / expected_num_non_trainable_weights:
            weight counts after building.
        random_in_training: the layer draws random numbers when training
            (dropout); gradient checks then re-seed before every evaluation.
        stateful_in_training: training calls update state (batch norm).
        gradient_kind: a key of `TOLERANCES` for the gradient check.
        input_data: optional float64 input; random normal otherwise.
    """
    rng = np.random.default_rng(7)
    x_host = input_data if input_data is not None else rng.standard_normal(input_shape)

    # Build, shapes, dtype, weights.
    layer = layer_cls(**init_kwargs)
    out = layer(ops.convert_to_tensor(x_host.astype("float32")))
    assert out.shape == tuple(expected_output_shape), (out.shape, expected_output_shape)
    assert out.dtype == np.float32
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    assert all(w.dtype == np.float32 for w in layer.weights)
    symbolic = layer.compute_output_shape((None,) + tuple(input_shape[1:]))
    assert tuple(symbolic[1:]) == tuple(expected_output_shape[1:])

    # Config round trip through JSON gives the same config and the same outputs.
    config = json.loads(json.dumps(layer.get_config()))
    clone = layer_cls.from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    clone(ops.convert_to_tensor(x_host.astype("float32")))
    clone.set_weights(layer.get_weights())
    x32 = ops.convert_to_tensor(x_host.astype("float32"))
    np.testing.assert_allclose(clone(x32, training=False).numpy(),
                               layer(x32, training=False).numpy(), rtol=1e-6, atol=1e-6)

    # Inference is deterministic and stateless; a direct call is inference,
    # except for layers whose `call` defaults to `training=True` (tf.keras
    # 2's augmentation layers).
    before = layer.get_weights()
    inference = layer(x32, training=False).numpy()
    np.testing.assert_array_equal(layer(x32, training=False).numpy(), inference)
    if not _training_default(layer_cls):
        np.testing.assert_array_equal(layer(x32).numpy(), inference)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    if random_in_training:
        t1 = layer(x32, training=True).numpy()
        t2 = layer(x32, training=True).numpy()
        assert not np.array_equal(t1, t2), "training calls should draw fresh randomness"
    if stateful_in_training:
        layer(x32, training=True)
        changed = [not np.array_equal(a, b) for a, b in zip(before, layer.get_weights())]
        assert any(changed), "a training call should update the layer's state"

    _check_layer_gradients(layer_cls, init_kwargs, x_host, random_in_training, gradient_kind)
    if expected_num_trainable_weights:
        _check_training_step_lowers_loss(layer_cls, init_kwargs, x_host)


def _check_layer_gradients(layer_cls, init_kwargs, x_host, random, kind):
    """Gradients of `sum(layer(x, training=True) * R)` wrt x and each weight."""
    layer = layer_cls(**dict(init_kwargs, dtype="float64"))
    x = ops.convert_to_tensor(x_host.astype("float64"))
    layer(x)
    seed = 99
    proj = None

    def loss():
        if random:
            kerasette.backend.set_seed(seed)
        state = [w.numpy() for w in layer.non_trainable_weights]
        out = layer(x, training=True)
        for w, s in zip(layer.non_trainable_weights, state):  # keep BN's state fixed
            w.assign(s)
        nonlocal proj
        if proj is None:
            proj = ops.convert_to_tensor(np.random.default_rng(3).standard_normal(out.shape))
        return ops.sum(out * proj)

    sources = [x] + layer.trainable_weights
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        value = loss()
    analytic = [g.numpy() for g in tape.gradient(value, sources)]

    rtol, atol = TOLERANCES[kind]
    eps = 1e-6
    for src, got in zip(sources, analytic):
        base = src.numpy()
        want = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            for sign in (1, -1):
                bumped = base.copy()
                bumped[idx] += sign * eps
                _set(src, bumped)
                want[idx] += sign * float(loss()) / (2 * eps)
            _set(src, base)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"gradient wrt {getattr(src, 'name', 'input')}")


def _set(src, value):
    if isinstance(src, kerasette.Variable):
        src.assign(value)
    else:
        src.data[...] = ops.convert_to_tensor(value).data


def _check_training_step_lowers_loss(layer_cls, init_kwargs, x_host):
    layer = layer_cls(**init_kwargs)
    x = ops.convert_to_tensor(x_host.astype("float32"))
    out = layer(x)
    target = ops.convert_to_tensor(
        np.random.default_rng(5).standard_normal(out.shape).astype("float32"))

    def loss():
        return ops.mean(ops.square(layer(x, training=True) - target))

    with kerasette.GradientTape() as tape:
        first = loss()
    grads = tape.gradient(first, layer.trainable_weights)
    for w, g in zip(layer.trainable_weights, grads):
        w.assign_sub(g * 0.05)
    assert float(loss()) < float(first)
