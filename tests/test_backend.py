"""Backend selection, the strict backend's refusals, and seeding."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasette
from kerasette import backend as K
from kerasette import ops
from kerasette.backend.strict_backend import StrictArray

REPO = str(Path(kerasette.__file__).resolve().parent.parent)


@pytest.fixture
def once(backend):
    """For tests that do not depend on the active backend: run them once."""
    if backend.name != "numpy":
        pytest.skip("backend-independent; runs under the numpy parameter")


@pytest.fixture
def strict(backend):
    """The strict backend (tests of its own rules run only under it)."""
    if backend.name != "strict":
        pytest.skip("a rule of the strict backend")
    return backend


def t(x, dtype=None):
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


# -- selection -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["numpy", "strict", "NumPy", "STRICT"])
def test_set_backend(name):
    b = K.set_backend(name)
    assert isinstance(b, K.Backend)
    assert b.name == name.lower() == K.backend()
    assert K.get_backend() is b


def test_the_active_backend_owns_the_arrays(backend):
    x = ops.convert_to_tensor([1.0, 2.0])
    assert backend.is_array(x.data)
    assert not backend.is_array([1.0, 2.0])
    host = backend.to_numpy(x.data)
    assert type(host) is np.ndarray and host.dtype == np.float32
    host[0] = 99.0  # a copy, as from a GPU: writing to it leaves the device array alone
    assert backend.to_numpy(x.data)[0] == 1.0
    assert backend.is_array(backend.asarray(np.zeros(3), dtype="float32"))
    assert backend.asarray([1, 2], dtype="float32").dtype == np.float32


@pytest.mark.parametrize("name", ["tensorflow", "", "jax"])
def test_unknown_backend_is_a_value_error(name):
    before = K.get_backend()
    with pytest.raises(ValueError, match="numpy, cupy, strict"):
        K.set_backend(name)
    assert K.get_backend() is before


def test_backend_name_must_be_a_string():
    with pytest.raises(TypeError):
        K.set_backend(None)


def _cupy_gpu_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def test_cupy_without_cupy_or_gpu_is_a_clear_error(once):
    if _cupy_gpu_available():
        pytest.skip("CuPy and a GPU are present")
    before = K.get_backend()
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        K.set_backend("cupy")
    assert K.get_backend() is before


def _run(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "KERASETTE_BACKEND"}
    full_env.update(env)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, full_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("value, expected", [("strict", "strict"), ("numpy", "numpy"),
                                             ("  Strict ", "strict"), (None, "numpy")])
def test_environment_variable_selects_the_backend(once, value, expected):
    env = {} if value is None else {"KERASETTE_BACKEND": value}
    code = ("import kerasette, sys; b = kerasette.backend.backend(); "
            "x = kerasette.ops.convert_to_tensor([1.0]); "
            "sys.stdout.write(b + ' ' + type(x.data).__name__)")
    result = _run(code, **env)
    assert result.returncode == 0, result.stderr
    name, array_type = result.stdout.split()
    assert name == expected
    assert array_type == ("StrictArray" if expected == "strict" else "ndarray")


def test_environment_variable_with_an_unknown_name_fails_clearly(once):
    result = _run("import kerasette; kerasette.backend.backend()", KERASETTE_BACKEND="tpu")
    assert result.returncode != 0
    assert "ValueError" in result.stderr and "tpu" in result.stderr


def test_floatx(once):
    assert K.floatx() == "float32"
    with pytest.raises(ValueError):
        K.set_floatx("int32")
    K.set_floatx("float64")
    try:
        assert ops.convert_to_tensor(1.0).dtype == np.float64
        assert ops.zeros((2,)).dtype == np.float64
    finally:
        K.set_floatx("float32")
    assert ops.convert_to_tensor(1.0).dtype == np.float32


# -- the strict backend ----------------------------------------------------------------
def test_strict_arrays_refuse_implicit_conversion(strict):
    a = strict.asarray([1.0, 2.0], dtype="float32")
    assert isinstance(a, StrictArray)
    for convert in (np.asarray, np.array, lambda v: np.add(v, np.ones(2)), pickle.dumps):
        with pytest.raises(TypeError):
            convert(a)
    host = strict.to_numpy(a)
    assert type(host) is np.ndarray
    host[0] = 99.0
    assert float(a[0]) == 1.0  # to_numpy copies, like cupy's get()


@pytest.mark.parametrize("mix", [
    lambda a, h: a + h,
    lambda a, h: h * a,
    lambda a, h: np.maximum(a, h),
    lambda a, h: K.get_backend().xp.concatenate([a, h]),
    lambda a, h: K.get_backend().xp.where(a > 0, a, h),
])
def test_strict_arrays_refuse_numpy_operands(strict, mix):
    with pytest.raises(TypeError, match="convert_to_tensor"):
        mix(strict.asarray([1.0, 2.0]), np.ones(2))


OPS_WITH_A_HOST_OPERAND = [
    ("add", lambda x, h: ops.add(x, h)),
    ("radd", lambda x, h: h + x),
    ("mul", lambda x, h: x * h),
    ("rmul", lambda x, h: h * x),
    ("matmul", lambda x, h: x @ h.reshape(3, 1)),
    ("rmatmul", lambda x, h: h.reshape(1, 3) @ ops.reshape(x, (3, 1))),
    ("maximum", lambda x, h: ops.maximum(h, x)),
    ("where", lambda x, h: ops.where(h > 0, x, 0.0)),
    ("concatenate", lambda x, h: ops.concatenate([x, h])),
    ("take", lambda x, h: ops.take(x, h.astype("int64"))),
    ("dense", lambda x, h: ops.dense(ops.reshape(x, (1, 3)), h.reshape(3, 1))),
    ("sigmoid", lambda x, h: ops.sigmoid(h)),
    ("softmax_cross_entropy", lambda x, h: ops.softmax_cross_entropy(h, x)),
]


@pytest.mark.parametrize("use", [pytest.param(f, id=n) for n, f in OPS_WITH_A_HOST_OPERAND])
def test_ops_with_a_host_array_operand(backend, use):
    """Accepted on NumPy; refused with a hint where device code refuses host arrays."""
    x = ops.convert_to_tensor([1.0, 2.0, 3.0])
    host = np.ones(3, dtype="float32")
    if backend.name == "numpy":
        assert isinstance(use(x, host), kerasette.Tensor)
    else:
        with pytest.raises(TypeError, match="convert_to_tensor"):
            use(x, host)


def test_strict_ufuncs_and_functions_return_strict_arrays(strict):
    xp = strict.xp
    a = strict.asarray([[1.0, -2.0], [3.0, 4.0]], dtype="float32")
    results = [np.exp(a), a + 1.0, -a, a @ a, a > 0, xp.sum(a), xp.max(a, axis=0), a.sum(),
               a[0], a.T, xp.where(a > 0, a, 0.0), xp.concatenate([a, a]), np.add.reduce(a),
               a.reshape(4), a.astype("float64")]
    for r in results:
        assert isinstance(r, StrictArray), type(r)
    assert xp.sum(a).shape == () and xp.sum(a).dtype == np.float32
    np.testing.assert_array_equal(strict.to_numpy(np.exp(a)), np.exp(strict.to_numpy(a)))


def test_strict_in_place_ops(strict):
    xp = strict.xp
    a = strict.asarray([1.0, 2.0], dtype="float32")
    b = strict.asarray([10.0, 20.0], dtype="float32")
    inner = a._a
    a += b
    a *= 2.0
    assert a._a is inner  # the same buffer
    assert xp.add(a, b, out=a) is a
    assert np.multiply(a, 0.5, out=a) is a
    a[0] = 0.0
    np.testing.assert_array_equal(strict.to_numpy(a), [0.0, 32.0])
    with pytest.raises(TypeError, match="convert_to_tensor"):
        a += np.ones(2)
    with pytest.raises(TypeError, match="convert_to_tensor"):
        a[0] = np.float32(1.0) + np.zeros(1)  # a host array as the value


def test_strict_0d_results_are_arrays(strict):
    a = strict.asarray([1.0, 2.0], dtype="float32")
    s = a.sum()
    assert isinstance(s, StrictArray) and float(s) == 3.0 and int(s) == 3 and bool(s)
    assert isinstance(a.dtype, np.dtype) and a.shape == (2,) and len(a) == 2


# -- seeding ---------------------------------------------------------------------------
def draws():
    b = K.get_backend()
    return (b.to_numpy(b.random_uniform((4, 5))), b.to_numpy(b.random_uniform((3,), "float64")),
            K.host_rng().standard_normal(6), np.random.random(2))


def test_set_random_seed_repeats_bit_for_bit(backend):
    kerasette.utils.set_random_seed(7)
    first = draws()
    kerasette.utils.set_random_seed(7)
    second = draws()
    for a, b in zip(first, second):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert first[0].dtype == np.float32 and first[1].dtype == np.float64
    assert ((first[0] >= 0) & (first[0] < 1)).all()
    kerasette.utils.set_random_seed(8)
    third = draws()
    for a, b in zip(first, third):
        assert not np.array_equal(a, b)


def test_seed_survives_selecting_the_backend(backend):
    kerasette.utils.set_random_seed(5)
    first = draws()[0]
    kerasette.utils.set_random_seed(5)
    K.set_backend(backend.name)  # a backend selected after seeding is seeded too
    np.testing.assert_array_equal(draws()[0], first)


def test_host_draws_do_not_depend_on_the_backend(once):
    values = []
    for name in ("numpy", "strict"):
        K.set_backend(name)
        kerasette.utils.set_random_seed(3)
        values.append(K.host_rng().standard_normal(5))
    np.testing.assert_array_equal(values[0], values[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True, None])
def test_set_random_seed_rejects_bad_seeds(once, seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        kerasette.utils.set_random_seed(seed)


def test_set_random_seed_accepts_numpy_integers_and_large_seeds(once):
    kerasette.utils.set_random_seed(np.int64(3))
    kerasette.utils.set_random_seed(2**40)
