"""The compiled CPU optimizer updates (optional numba) give NumPy's bits.

Each kernel replaces a chain of NumPy ufuncs in an optimizer's
`update_step`; here both run from the same state for a few steps and every
weight and slot must come out identical, in float32 and float64, on flat
buffers and through `fit`. Without numba the kernels are off and only the
eligibility rules are tested.
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette.backend import cpu_kernels

numba_usable = cpu_kernels.unavailable_reason() is None
needs_numba = pytest.mark.skipif(not numba_usable,
                                 reason=f"CPU kernels off: {cpu_kernels.unavailable_reason()}")



@pytest.fixture(autouse=True)
def numpy_backend_only(backend):
    if backend.name != "numpy":
        pytest.skip("the CPU kernels update NumPy arrays only (checked below with another xp)")


OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(1e-3),
    "adam_eps": lambda: keras.optimizers.Adam(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3),
    "sgd": lambda: keras.optimizers.SGD(0.05),
    "sgd_momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: keras.optimizers.RMSprop(1e-3),
}


def run_steps(make, dtype, size, steps, kernels, monkeypatch):
    """`steps` updates of one variable of `size` elements; returns every array."""
    with monkeypatch.context() as patch:
        if not kernels:
            patch.setattr(cpu_kernels, "enabled", lambda xp, arrays: False)
        rng = np.random.default_rng(3)
        var = keras.Variable(rng.normal(size=size).astype(dtype))
        opt = make()
        for _ in range(steps):
            grad = rng.normal(size=size).astype(dtype)
            grad[::97] = 0.0  # zero gradients: m, v decay alone
            opt.apply_gradients([(grad, var)])
        return [np.array(var.numpy())] + [np.array(v.numpy()) for v in opt.variables[1:]]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_kernel_update_is_bit_identical_to_numpy(name, dtype, monkeypatch):
    size = cpu_kernels.MIN_SIZE + 37  # odd: the vectorized loop's remainder too
    calls = []
    real = getattr(cpu_kernels, name.split("_")[0])
    monkeypatch.setattr(cpu_kernels, name.split("_")[0],
                        lambda *a: calls.append(1) or real(*a))
    fast = run_steps(OPTIMIZERS[name], dtype, size, 4, True, monkeypatch)
    assert calls, "the compiled kernel did not run"
    plain = run_steps(OPTIMIZERS[name], dtype, size, 4, False, monkeypatch)
    assert len(fast) == len(plain) > 1
    for a, b in zip(fast, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


@needs_numba
def test_fit_with_kernels_matches_fit_without(monkeypatch):
    """A model over MIN_SIZE parameters trains to the same bits either way."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 200)).astype("float32")
    y = rng.integers(0, 10, size=96)

    def train():
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.layers.Input((200,)),
                                  keras.layers.Dense(200, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        assert model.count_params() > cpu_kernels.MIN_SIZE
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        return model.get_weights(), history.history

    fast_weights, fast_history = train()
    with monkeypatch.context() as patch:
        patch.setattr(cpu_kernels, "enabled", lambda xp, arrays: False)
        plain_weights, plain_history = train()
    assert fast_history == plain_history
    for a, b in zip(fast_weights, plain_weights):
        np.testing.assert_array_equal(a, b)


def test_small_strided_or_mixed_arrays_keep_the_numpy_path():
    big = np.zeros(cpu_kernels.MIN_SIZE, dtype="float32")
    assert not cpu_kernels.enabled(np, [np.zeros(cpu_kernels.MIN_SIZE - 1, "float32")])
    assert not cpu_kernels.enabled(np, [big, np.zeros(2 * cpu_kernels.MIN_SIZE, "float32")[::2]])
    assert not cpu_kernels.enabled(np, [big, big.astype("float64")])
    assert not cpu_kernels.enabled(np, [big.astype("float16")])
    assert not cpu_kernels.enabled(np, [big.astype("int32")])
    assert not cpu_kernels.enabled(object(), [big])  # another array module (CuPy)
    assert cpu_kernels.enabled(np, [big, big.copy()]) == numba_usable


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setattr(cpu_kernels, "_module", None)
    monkeypatch.setattr(cpu_kernels, "_unavailable", None)
    monkeypatch.setenv("KERASETTE_CPU_KERNELS", "0")
    assert "KERASETTE_CPU_KERNELS=0" in cpu_kernels.unavailable_reason()
    assert not cpu_kernels.enabled(np, [np.zeros(cpu_kernels.MIN_SIZE, "float32")])


def test_without_numba_the_numpy_update_runs(monkeypatch):
    """numba missing (or broken): the kernels are off and Adam still trains."""
    import sys

    monkeypatch.setattr(cpu_kernels, "_module", None)
    monkeypatch.setattr(cpu_kernels, "_unavailable", None)
    monkeypatch.delenv("KERASETTE_CPU_KERNELS", raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.delitem(sys.modules, "kerasette.backend._numba_kernels", raising=False)
    monkeypatch.delattr(keras.backend, "_numba_kernels", raising=False)
    assert cpu_kernels.unavailable_reason().startswith("numba not usable")
    var = keras.Variable(np.ones(cpu_kernels.MIN_SIZE, dtype="float32"))
    keras.optimizers.Adam(0.1).apply_gradients([(np.ones(cpu_kernels.MIN_SIZE, "float32"), var)])
    np.testing.assert_allclose(var.numpy(), 0.9, rtol=1e-6)  # Adam's first step is lr * sign(g)


def test_import_and_small_models_never_load_numba():
    """numba costs 0.2 s to import and 70-90 MB: only large updates pay it."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, kerasette as k\n"
        "before = 'numba' in sys.modules\n"
        "m = k.Sequential([k.layers.Dense(20, activation='tanh', input_shape=(4,)),"
        " k.layers.Dense(3, activation='softmax')])\n"
        "m.compile('adam', 'sparse_categorical_crossentropy')\n"
        "m.fit(np.zeros((40, 4), 'float32'), np.zeros(40, 'int64'), verbose=0)\n"
        "print(before, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
