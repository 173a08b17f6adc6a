"""The numba loops behind 2-D col2im, max pooling and a convolution's fused
bias + ReLU and ReLU + bias-gradient passes (`backend/_numba_conv.py`) give
the NumPy code's results to the bit: values, winners and gradients, ties,
infinities and -0.0 included (NaN where NumPy has NaN), split between
threads or not."""

import numpy as np
import pytest

from kerasette.backend import conv_kernels, cpu_kernels
from kerasette.ops import conv_geometry, pooling
from kerasette.ops.conv_geometry import Windows

pytestmark = pytest.mark.skipif(conv_kernels.module() is None,
                                reason="numba is not installed (the optional extra)")


@pytest.fixture(autouse=True)
def _numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("NumPy array kernels (the strict backend runs the NumPy path)")


USED = set()  # the names of the compiled loops taken since the last `_both`


class _Recording:
    """`_numba_conv` that notes which loops are taken."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        USED.add(name)
        return getattr(self._module, name)


def _compiled(monkeypatch, on):
    if on:
        recording = _Recording(conv_kernels.module())
        monkeypatch.setattr(conv_kernels, "module", lambda: recording)
        monkeypatch.setattr(cpu_kernels, "MIN_SIZE", 1)
        monkeypatch.setattr(conv_kernels, "PARALLEL_MIN_WORK", 0)  # split whatever the size
        monkeypatch.setattr(conv_kernels, "threads", lambda: 3)
    else:
        monkeypatch.setattr(conv_kernels, "enabled", lambda *a: False)


def _both(monkeypatch, fn):
    USED.clear()
    with monkeypatch.context() as mp, np.errstate(invalid="ignore"):  # inf - inf, on purpose
        _compiled(mp, False)
        plain = fn()
    with monkeypatch.context() as mp, np.errstate(invalid="ignore"):
        _compiled(mp, True)
        compiled = fn()
    return plain, compiled


def _awkward(shape, seed, dtype="float32"):
    """Random values with ties, zeros of both signs, infinities and NaN."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(dtype) * np.dtype(dtype).type(0.5)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=4 * max(1, flat.size // 50), replace=False)
    specials = np.array([-0.0, np.inf, -np.inf, np.nan], dtype=dtype)
    flat[picks] = np.resize(specials, picks.size)
    return x


def _same_bits(a, b):
    """Equal to the bit, -0.0 included; NaN is NaN whatever its sign bit and
    payload (which operand's NaN an add keeps is the CPU's choice, not a value)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    assert (np.isnan(a) == np.isnan(b)).all()
    a, b = np.where(np.isnan(a), np.nan, a), np.where(np.isnan(b), np.nan, b)
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


@pytest.mark.parametrize("case", [
    # (n, h, w, c, k, strides, dilation, padding)
    (3, 9, 8, 5, (3, 3), (1, 1), (1, 1), "valid"),
    (2, 10, 9, 4, (3, 2), (2, 3), (1, 1), "same"),
    (2, 11, 12, 3, (3, 3), (1, 2), (2, 1), "same"),
    (4, 7, 7, 2, (2, 2), (2, 2), (1, 1), "valid"),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_col2im_2d_compiled_adds_what_the_offset_loop_adds(monkeypatch, case, dtype):
    n, h, w, c, k, s, d, padding = case
    win = Windows((h, w), k, s, d, padding, "test")
    cols = _awkward((n,) + win.out + k + (c,), 1, dtype)
    plain, compiled = _both(monkeypatch, lambda: conv_geometry._col2im(cols, win, n, c, dtype))
    assert compiled.shape == (n,) + win.padded + (c,) and USED == {"col2im2d"}
    _same_bits(plain, compiled)
    # and it is the adjoint of the gather: <im2col(x), cols> == <x, col2im(cols)>
    x = np.random.default_rng(2).standard_normal((n,) + win.padded + (c,))
    ref = np.random.default_rng(3).standard_normal(cols.shape)
    with monkeypatch.context() as mp:
        _compiled(mp, True)
        back = conv_geometry._col2im(ref, win, n, c, "float64")
    np.testing.assert_allclose((conv_geometry._im2col(x, win) * ref).sum(), (x * back).sum(),
                               rtol=1e-12)


@pytest.mark.parametrize("case", [
    # (n, h, w, c, pool, strides, padding)
    (3, 26, 26, 6, (2, 2), (2, 2), "valid"),
    (2, 11, 11, 5, (2, 2), (2, 2), "valid"),  # an odd row and column no window reads
    (2, 9, 10, 3, (3, 2), (3, 2), "same"),  # -inf padding
    (2, 9, 9, 3, (3, 3), (2, 2), "same"),  # overlapping windows
    (2, 8, 9, 3, (2, 3), (3, 4), "valid"),  # gaps between windows
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_2d_compiled_is_the_numpy_loop(monkeypatch, case, dtype):
    n, h, w, c, pool, s, padding = case
    x = _awkward((n, h, w, c), 4, dtype)
    g = _awkward((n,) + Windows((h, w), pool, s, (1, 1), padding, "t").out + (c,), 5,
                 dtype)

    def run():
        out, backward = pooling._max_pool_kernel(x, pool, s, padding, "test")
        return out, backward(g, (True,))[0]

    (out0, gx0), (out1, gx1) = _both(monkeypatch, run)
    overlap = s[0] < pool[0] or s[1] < pool[1]  # the backward stays NumPy's
    assert USED == ({"max_pool2d_forward"} if overlap else
                    {"max_pool2d_forward", "max_pool2d_backward"})
    _same_bits(out0, out1)
    _same_bits(np.ascontiguousarray(gx0), np.ascontiguousarray(gx1))
    assert gx1.shape == x.shape


def test_max_pool_first_maximum_takes_the_gradient(monkeypatch):
    _compiled(monkeypatch, True)
    x = np.array([[1, 3], [3, 2]], "float32").reshape(1, 2, 2, 1)
    out, backward = pooling._max_pool_kernel(x, (2, 2), (2, 2), "valid", "test")
    assert out.reshape(-1).tolist() == [3.0]
    gx = backward(np.full((1, 1, 1, 1), 5.0, "float32"), (True,))[0]
    assert gx.reshape(-1).tolist() == [0.0, 5.0, 0.0, 0.0]


@pytest.mark.parametrize("activation", ["relu", "linear", "tanh"])
@pytest.mark.parametrize("filters", [1, 2, 7])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_bias_relu_and_their_gradients_are_the_numpy_passes(monkeypatch, activation,
                                                                  filters, dtype):
    """The fused bias + ReLU forward and the fused ReLU + bias-gradient backward
    of `conv._conv_kernel` against the NumPy passes, through the whole op
    (col2im included), with awkward values in the upstream gradient."""
    from kerasette.ops import conv

    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 9, 8, 4)).astype(dtype)
    w = rng.standard_normal((3, 3, 4, filters)).astype(dtype)
    b = rng.standard_normal(filters).astype(dtype)
    b[0] = -0.0

    def run():
        out, backward = conv._conv_kernel(x, w, b, (1, 1), (1, 1), "same", activation, "test")
        g = _awkward(out.shape, 7, dtype)
        return (out,) + backward(g, (True, True, True))

    plain, compiled = _both(monkeypatch, run)
    assert USED == {"col2im2d"} | ({"bias_relu_"} if activation != "tanh" else set()) | (
        {"relu_bias_grad"} if activation == "relu" and filters > 1 else set())
    for p, c in zip(plain, compiled):
        _same_bits(np.ascontiguousarray(p), np.ascontiguousarray(c))
    if activation == "relu":
        assert (compiled[0] >= 0).all() and not np.signbit(compiled[0]).any()


def test_cnn_training_is_the_same_bits_with_the_compiled_loops(monkeypatch):
    """examples/mnist_cnn.py's kind of network trained with and without the
    loops ends with the same weights to the bit."""
    import kerasette as keras
    from kerasette.backend import threads

    rng = np.random.default_rng(8)
    x = rng.random((48, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 3, 48)

    def train():
        keras.utils.set_random_seed(1)
        L = keras.layers
        model = keras.Sequential([
            L.Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)), L.MaxPooling2D(2),
            L.Conv2D(6, 3, activation="relu", padding="same"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights()

    threads.set_blas_threads(1)
    try:
        plain, compiled = _both(monkeypatch, train)
    finally:
        threads.set_blas_threads(None)
    assert USED >= {"col2im2d", "max_pool2d_forward", "max_pool2d_backward", "bias_relu_",
                    "relu_bias_grad"}
    for p, c in zip(plain, compiled):
        _same_bits(p, c)
