"""kerasette.losses: values vs NumPy and Keras, reductions, logits, gradients, names."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import kerasette
from kerasette import losses as L
from kerasette import ops
from kerasette.saving import register_serializable
from gradcheck import check_gradients

EPS = 1e-7


def T(x, dtype=None):
    """Host data to a tensor on the active backend (the explicit boundary)."""
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def F32(x):
    return T(np.asarray(x, dtype=np.float32))


# -- plain NumPy references (float64) ------------------------------------------------------
def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis=-1):
    s = z - z.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def ref_mse(t, p):
    return np.mean((p - t) ** 2, axis=-1)


def ref_mae(t, p):
    return np.mean(np.abs(p - t), axis=-1)


def ref_mape(t, p):
    return 100.0 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), axis=-1)


def ref_msle(t, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1)


def ref_log_cosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def ref_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2), axis=-1)


def ref_poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def ref_cosine(t, p, axis=-1):
    tn = t / np.sqrt(np.maximum((t**2).sum(axis=axis, keepdims=True), 1e-12))
    pn = p / np.sqrt(np.maximum((p**2).sum(axis=axis, keepdims=True), 1e-12))
    return -np.sum(tn * pn, axis=axis)


def _pm1(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def ref_hinge(t, p):
    return np.mean(np.maximum(1 - _pm1(t) * p, 0), axis=-1)


def ref_squared_hinge(t, p):
    return np.mean(np.maximum(1 - _pm1(t) * p, 0) ** 2, axis=-1)


def ref_categorical_hinge(t, p):
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1, 0)


def ref_kld(t, p):
    t = np.clip(t, EPS, 1)
    p = np.clip(p, EPS, 1)
    return np.sum(t * np.log(t / p), axis=-1)


def ref_bce(t, p, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(p + EPS) + (1 - t) * np.log(1 - p + EPS)), axis=axis)


def ref_bce_logits(t, z, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=axis)


def ref_cce(t, p, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[axis]
    p = np.clip(p / p.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), axis=axis)


def ref_cce_logits(t, z, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[axis]
    return -np.sum(t * _log_softmax(z, axis), axis=axis)


def ref_scce(labels, p):
    # tf.keras 2: log(clip(p)) is fed to a softmax cross-entropy as logits.
    lp = np.log(np.clip(p, EPS, 1 - EPS))
    return ref_scce_logits(labels, lp)


def ref_scce_logits(labels, z):
    labels = np.asarray(labels).astype(np.int64).reshape(z.shape[:-1])
    picked = np.take_along_axis(_log_softmax(z), labels[..., None], axis=-1)[..., 0]
    return -picked


# -- inputs, kept away from kinks and clip boundaries ----------------------------------------
def _errors(rng, shape, delta=1.0):
    """Errors with |e| in [0.1, 0.9*delta] or [1.1*delta, 2.5*delta]: off 0 and delta."""
    small = rng.uniform(0.1, 0.9 * delta, shape)
    large = rng.uniform(1.1 * delta, 2.5 * delta, shape)
    mag = np.where(rng.random(shape) < 0.5, small, large)
    return mag * rng.choice([-1.0, 1.0], shape)


def make_regression(rng):
    t = rng.normal(size=(4, 3))
    return t, t + _errors(rng, (4, 3))


def make_mape(rng):
    t = rng.uniform(0.5, 2.0, (4, 3)) * rng.choice([-1.0, 1.0], (4, 3))
    return t, t + _errors(rng, (4, 3))


def make_positive(rng):
    return rng.uniform(0.0, 3.0, (4, 3)), rng.uniform(0.1, 3.0, (4, 3))


def make_poisson(rng):
    return rng.integers(0, 5, (4, 3)).astype(np.float64), rng.uniform(0.2, 3.0, (4, 3))


def make_hinge(rng):
    t = rng.choice([-1.0, 1.0], (4, 3))
    s = rng.uniform(0.1, 1.0, (4, 3)) * rng.choice([-1.0, 1.0], (4, 3))
    return t, t * (1.0 + s)  # 1 - t*p = -s: never near the kink at 0


def make_categorical_hinge(rng):
    while True:
        t = np.eye(3)[rng.integers(0, 3, 4)]
        p = rng.normal(size=(4, 3))
        masked = (1 - t) * p
        top2 = np.sort(masked, axis=-1)[:, -2:]
        margin = masked.max(-1) - np.sum(t * p, -1) + 1
        if np.all(np.abs(margin) > 0.1) and np.all(top2[:, 1] - top2[:, 0] > 0.05):
            return t, p


def make_distributions(rng):
    t = rng.dirichlet([2.0, 2.0, 2.0], 4)
    p = np.clip(rng.dirichlet([2.0, 2.0, 2.0], 4), 0.02, 0.98)
    return t, p / p.sum(-1, keepdims=True)


def make_binary(rng):
    return rng.uniform(0.0, 1.0, (4, 3)), rng.uniform(0.05, 0.95, (4, 3))


def make_categorical(rng):
    # Unnormalised rows: the loss must rescale them to sum to one.
    return np.eye(3)[rng.integers(0, 3, 4)], rng.uniform(0.05, 0.95, (4, 3))


def make_sparse(rng):
    return rng.integers(0, 3, 4), rng.uniform(0.05, 0.95, (4, 3))


def make_normal(rng):
    return rng.normal(size=(4, 3)), rng.normal(size=(4, 3))


# id, function, class, kwargs (for both), reference, inputs, gradcheck kind.
CASES = [
    ("mse", L.mean_squared_error, L.MeanSquaredError, {}, ref_mse, make_regression,
     "default"),
    ("mae", L.mean_absolute_error, L.MeanAbsoluteError, {}, ref_mae, make_regression, "kinked"),
    ("mape", L.mean_absolute_percentage_error, L.MeanAbsolutePercentageError, {}, ref_mape,
     make_mape, "kinked"),
    ("msle", L.mean_squared_logarithmic_error, L.MeanSquaredLogarithmicError, {}, ref_msle,
     make_positive, "default"),
    ("log_cosh", L.log_cosh, L.LogCosh, {}, ref_log_cosh, make_regression, "default"),
    ("huber", L.huber, L.Huber, {}, ref_huber, make_regression, "kinked"),
    ("huber_delta", L.huber, L.Huber, {"delta": 0.5},
     lambda t, p: ref_huber(t, p, 0.5), make_regression, "kinked"),
    ("poisson", L.poisson, L.Poisson, {}, ref_poisson, make_poisson, "default"),
    ("cosine", L.cosine_similarity, L.CosineSimilarity, {}, ref_cosine, make_normal, "default"),
    ("cosine_axis0", L.cosine_similarity, L.CosineSimilarity, {"axis": 0},
     lambda t, p: ref_cosine(t, p, 0), make_normal, "default"),
    ("hinge", L.hinge, L.Hinge, {}, ref_hinge, make_hinge, "kinked"),
    ("squared_hinge", L.squared_hinge, L.SquaredHinge, {}, ref_squared_hinge, make_hinge,
     "kinked"),
    ("categorical_hinge", L.categorical_hinge, L.CategoricalHinge, {}, ref_categorical_hinge,
     make_categorical_hinge, "kinked"),
    ("kld", L.kl_divergence, L.KLDivergence, {}, ref_kld, make_distributions, "default"),
    ("bce", L.binary_crossentropy, L.BinaryCrossentropy, {}, ref_bce, make_binary, "default"),
    ("bce_smooth", L.binary_crossentropy, L.BinaryCrossentropy, {"label_smoothing": 0.2},
     lambda t, p: ref_bce(t, p, 0.2), make_binary, "default"),
    ("bce_logits", L.binary_crossentropy, L.BinaryCrossentropy, {"from_logits": True},
     ref_bce_logits, make_normal, "default"),
    ("bce_logits_smooth", L.binary_crossentropy, L.BinaryCrossentropy,
     {"from_logits": True, "label_smoothing": 0.1},
     lambda t, z: ref_bce_logits(t, z, 0.1), make_binary, "default"),
    ("cce", L.categorical_crossentropy, L.CategoricalCrossentropy, {}, ref_cce,
     make_categorical, "default"),
    ("cce_smooth", L.categorical_crossentropy, L.CategoricalCrossentropy,
     {"label_smoothing": 0.1}, lambda t, p: ref_cce(t, p, 0.1), make_categorical, "default"),
    ("cce_logits", L.categorical_crossentropy, L.CategoricalCrossentropy, {"from_logits": True},
     ref_cce_logits, lambda rng: (make_categorical(rng)[0], rng.normal(size=(4, 3))),
     "default"),
    ("cce_logits_smooth", L.categorical_crossentropy, L.CategoricalCrossentropy,
     {"from_logits": True, "label_smoothing": 0.3},
     lambda t, z: ref_cce_logits(t, z, 0.3),
     lambda rng: (make_categorical(rng)[0], rng.normal(size=(4, 3))), "default"),
    ("scce", L.sparse_categorical_crossentropy, L.SparseCategoricalCrossentropy, {}, ref_scce,
     make_sparse, "default"),
    ("scce_logits", L.sparse_categorical_crossentropy, L.SparseCategoricalCrossentropy,
     {"from_logits": True}, ref_scce_logits,
     lambda rng: (rng.integers(0, 3, 4), rng.normal(size=(4, 3))), "default"),
]
IDS = [c[0] for c in CASES]


def _inputs(make, seed=0):
    t, p = make(np.random.default_rng(seed))
    return np.asarray(t), np.asarray(p, dtype=np.float64)


def _label_tensor(t, dtype=np.float32):
    t = np.asarray(t)
    return T(t) if t.dtype.kind in "iu" else T(t.astype(dtype))


# -- functions and classes against NumPy ------------------------------------------------------
@pytest.mark.parametrize("name,fn,cls,kwargs,ref,make,kind", CASES, ids=IDS)
def test_function_matches_numpy_float32(name, fn, cls, kwargs, ref, make, kind):
    t, p = _inputs(make)
    p32 = p.astype(np.float32)
    t32 = t.astype(np.float32) if t.dtype.kind == "f" else t
    out = fn(_label_tensor(t), F32(p), **kwargs)
    assert isinstance(out, kerasette.Tensor)
    assert out.dtype == np.float32
    expected = ref(t32.astype(np.float64), p32.astype(np.float64))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,fn,cls,kwargs,ref,make,kind", CASES, ids=IDS)
def test_function_float64_keeps_float64(name, fn, cls, kwargs, ref, make, kind):
    t, p = _inputs(make)
    out = fn(_label_tensor(t, np.float64), T(p), **kwargs)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref(t.astype(np.float64), p), rtol=1e-10,
                               atol=1e-12)


def _reduce(per_sample, sample_weight, reduction):
    weighted = per_sample if sample_weight is None else per_sample * sample_weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weighted.size  # divide by the count, not the weights


WEIGHTS = {
    "none": None,
    "scalar": 2.5,
    "per_sample": np.array([0.5, 0.0, 2.0, 1.0]),
    "column": np.array([[0.5], [0.0], [2.0], [1.0]]),
}


@pytest.mark.parametrize("weights", list(WEIGHTS), ids=list(WEIGHTS))
@pytest.mark.parametrize("reduction", ["auto", "sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name,fn,cls,kwargs,ref,make,kind", CASES, ids=IDS)
def test_class_reductions_and_sample_weight(name, fn, cls, kwargs, ref, make, kind, reduction,
                                            weights):
    t, p = _inputs(make, seed=1)
    t32 = t.astype(np.float32) if t.dtype.kind == "f" else t
    per_sample = ref(t32.astype(np.float64), p.astype(np.float32).astype(np.float64))
    sw = WEIGHTS[weights]
    loss = cls(reduction=reduction, **kwargs)
    call = lambda: loss(_label_tensor(t), F32(p), sample_weight=None if sw is None else F32(sw))
    if kwargs.get("axis") == 0 and weights in ("per_sample", "column"):
        # Losses per feature (3 of them) cannot take one weight per sample (4).
        with pytest.raises(ValueError, match="sample_weight"):
            call()
        return
    out = call()
    assert out.dtype == np.float32
    flat_sw = None if sw is None else np.asarray(sw, dtype=np.float64).reshape(-1)
    expected = _reduce(per_sample, flat_sw, "sum_over_batch_size" if reduction == "auto"
                       else reduction)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,fn,cls,kwargs,ref,make,kind", CASES, ids=IDS)
def test_gradients_wrt_y_pred(name, fn, cls, kwargs, ref, make, kind):
    t, p = _inputs(make, seed=2)

    def per_sample(y_pred):
        return fn(_label_tensor(t, np.float64), y_pred, **kwargs)

    check_gradients(per_sample, [p], kind=kind)


@pytest.mark.parametrize("name,fn,cls,kwargs,ref,make,kind", CASES, ids=IDS)
def test_gradients_through_the_class(name, fn, cls, kwargs, ref, make, kind):
    t, p = _inputs(make, seed=3)
    sw = np.array([0.5, 1.0, 2.0, 0.25])
    loss = cls(**kwargs)

    def reduced(y_pred):
        weight = None if kwargs.get("axis") == 0 else T(sw)
        return loss(_label_tensor(t, np.float64), y_pred, sample_weight=weight)

    check_gradients(reduced, [p], kind=kind)


def test_gradient_reaches_a_variable_in_float32():
    x = F32([[1.0, 2.0], [3.0, -1.0]])
    w = kerasette.Variable(np.array([[0.5], [-0.25]], dtype=np.float32))
    y = F32([[1.0], [0.0]])
    with kerasette.GradientTape() as tape:
        value = L.MeanSquaredError()(y, ops.matmul(x, w))
    grad = tape.gradient(value, w).numpy()
    pred = x.numpy() @ w.numpy()
    expected = x.numpy().T @ (2 * (pred - y.numpy()) / 2)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


# -- Keras's documented values ----------------------------------------------------------------
# From the docstrings of tf.keras 2's losses (keras-team/tf-keras, tf_keras/losses.py):
# class, kwargs, y_true, y_pred, value, sample_weight, weighted value, "sum", "none".
KERAS_DOCS = [
    (L.MeanSquaredError, {}, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]],
     0.5, [0.7, 0.3], 0.25, 1.0, [0.5, 0.5]),
    (L.MeanAbsoluteError, {}, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]],
     0.5, [0.7, 0.3], 0.25, 1.0, [0.5, 0.5]),
    (L.MeanAbsolutePercentageError, {}, [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]],
     50.0, [0.7, 0.3], 20.0, 100.0, [25.0, 75.0]),
    (L.MeanSquaredLogarithmicError, {}, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]],
     0.240, [0.7, 0.3], 0.120, 0.480, [0.240, 0.240]),
    (L.BinaryCrossentropy, {"from_logits": True}, [[0, 1], [0, 0]],
     [[-18.6, 0.51], [2.94, -12.8]], 0.865, [0.8, 0.2], 0.243, 1.730, [0.235, 1.496]),
    (L.CategoricalCrossentropy, {}, [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     1.177, [0.3, 0.7], 0.814, 2.354, [0.0513, 2.303]),
    (L.SparseCategoricalCrossentropy, {}, [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     1.177, [0.3, 0.7], 0.814, 2.354, [0.0513, 2.303]),
    (L.CosineSimilarity, {"axis": 1}, [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]],
     -0.5, [0.8, 0.2], -0.0999, -0.999, [-0.0, -0.999]),
    (L.Hinge, {}, [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]],
     1.3, [1, 0], 0.55, 2.6, [1.1, 1.5]),
    (L.SquaredHinge, {}, [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]],
     1.86, [1, 0], 0.73, 3.72, [1.46, 2.26]),
    (L.CategoricalHinge, {}, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
     1.4, [1, 0], 0.6, 2.8, [1.2, 1.6]),
    (L.Poisson, {}, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]],
     0.5, [0.8, 0.2], 0.4, 0.999, [0.999, 0.0]),
    (L.LogCosh, {}, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]],
     0.108, [0.8, 0.2], 0.087, 0.217, [0.217, 0.0]),
    (L.KLDivergence, {}, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
     0.458, [0.8, 0.2], 0.366, 0.916, [0.916, -3.08e-06]),
    (L.Huber, {}, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
     0.155, [1, 0], 0.09, 0.31, [0.18, 0.13]),
]


def _close_to_doc(got, want):
    # The docstrings print three or four digits.
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1.5e-3)


@pytest.mark.parametrize("case", KERAS_DOCS, ids=[c[0].__name__ for c in KERAS_DOCS])
def test_keras_docstring_values(case):
    cls, kwargs, y_true, y_pred, value, sw, weighted, total, per_sample = case
    yt, yp = T(y_true), F32(y_pred)  # integer labels as Keras's examples give them
    _close_to_doc(float(cls(**kwargs)(yt, yp)), value)
    _close_to_doc(float(cls(**kwargs)(yt, yp, sample_weight=T(sw))), weighted)
    _close_to_doc(float(cls(reduction="sum", **kwargs)(yt, yp)), total)
    none = cls(reduction="none", **kwargs)(yt, yp)
    assert none.dtype == np.float32 and none.shape == (2,)
    _close_to_doc(none.numpy(), per_sample)


def test_keras_docstring_function_values():
    # tf_keras/losses.py docstrings of the functions.
    bce = L.binary_crossentropy(T([[0, 1], [0, 0]]), F32([[0.6, 0.4], [0.4, 0.6]]))
    _close_to_doc(bce.numpy(), [0.916, 0.714])
    logits = L.BinaryCrossentropy(from_logits=True)(T([0, 1, 0, 0]),
                                                    F32([-18.6, 0.51, 2.94, -12.8]))
    _close_to_doc(float(logits), 0.865)
    cos = L.cosine_similarity(F32([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
                              F32([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), axis=1)
    _close_to_doc(cos.numpy(), [-0.0, -0.999, 0.999])
    kld = L.KLDivergence(reduction="none")(T([[0, 1], [0, 0]]), F32([[0.6, 0.4], [0.4, 0.6]]))
    np.testing.assert_allclose(kld.numpy()[1], -3.08e-06, rtol=2e-3)


def test_keras_bce_of_saturated_probabilities():
    # TensorFlow 2 API docs of tf.keras.losses.BinaryCrossentropy (mirrored in
    # veaba/tensorflow-docs, docs/tf.keras/losses/BinaryCrossentropy.md):
    # bce([0., 0., 1., 1.], [1., 1., 1., 0.]) -> 11.522857. Exact 0/1 predictions
    # are clipped to [1e-7, 1 - 1e-7] in float32 and 1e-7 is added inside the logs.
    value = L.BinaryCrossentropy()(F32([0.0, 0.0, 1.0, 1.0]), F32([1.0, 1.0, 1.0, 0.0]))
    assert value.dtype == np.float32
    assert float(value) == pytest.approx(11.522857, rel=1e-6)


def test_keras_sparse_ignore_class_example():
    # tf_keras/losses.py, sparse_categorical_crossentropy docstring.
    y_true = T(np.array([[[0, 2], [-1, -1]], [[0, 2], [-1, -1]]]))
    y_pred = F32([[[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]]],
                  [[[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], [[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]]]])
    out = L.sparse_categorical_crossentropy(y_true, y_pred, ignore_class=-1)
    expected = np.array([[[2.3841855e-07, 2.3841855e-07], [0.0, 0.0]],
                         [[2.3841855e-07, 6.9314730e-01], [0.0, 0.0]]], dtype=np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 2, 2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-12)
    # The class averages over the entries that count (4 of 8), as tf.keras 2 does.
    loss = L.SparseCategoricalCrossentropy(ignore_class=-1)
    assert float(loss(y_true, y_pred)) == pytest.approx(expected.sum() / 4, rel=1e-5)
    summed = L.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")
    assert float(summed(y_true, y_pred)) == pytest.approx(expected.sum(), rel=1e-5)
    weighted = loss(y_true, y_pred, sample_weight=F32([1.0, 3.0]))
    assert float(weighted) == pytest.approx(
        (expected[0].sum() + 3 * expected[1].sum()) / 4, rel=1e-5)


def test_ignore_class_gets_no_gradient_and_all_ignored_is_zero():
    labels = T(np.array([0, 255, 2, 255]))  # 255 is not even a class index
    logits = np.random.default_rng(0).normal(size=(4, 3))
    z = T(logits)
    with kerasette.GradientTape() as tape:
        tape.watch(z)
        value = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(labels, z)
    grad = tape.gradient(value, z).numpy()
    assert np.all(grad[[1, 3]] == 0.0)
    expected = (_softmax(logits) - np.eye(3)[[0, 0, 2, 0]]) / 2  # mean over 2 valid rows
    np.testing.assert_allclose(grad[[0, 2]], expected[[0, 2]], rtol=1e-10)
    check_gradients(lambda y: L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(
        labels, y), [logits])
    none = L.SparseCategoricalCrossentropy(ignore_class=7)(T(np.array([7, 7])),
                                                           F32([[0.5, 0.5], [0.2, 0.8]]))
    assert float(none) == 0.0  # not NaN


# -- reductions ------------------------------------------------------------------------------
def test_sum_over_batch_size_divides_by_count_not_by_weights():
    y_true, y_pred = F32([[0.0], [0.0], [0.0], [0.0]]), F32([[1.0], [2.0], [3.0], [4.0]])
    value = L.MeanSquaredError()(y_true, y_pred, sample_weight=F32([1.0, 0.0, 0.0, 0.0]))
    assert float(value) == pytest.approx(1.0 / 4)


def test_losses_with_extra_axes_and_per_entry_weights():
    rng = np.random.default_rng(5)
    t, p = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    per = ref_mse(t.astype(np.float32), p.astype(np.float32))  # (2, 3)
    loss = L.MeanSquaredError()
    assert float(loss(F32(t), F32(p))) == pytest.approx(per.mean(), rel=1e-5)
    sw = np.array([1.0, 3.0])  # one per sample, expanded over the time axis
    assert float(loss(F32(t), F32(p), sample_weight=F32(sw))) == pytest.approx(
        (per * sw[:, None]).sum() / 6, rel=1e-5)
    per_entry = rng.uniform(size=(2, 3))
    assert float(loss(F32(t), F32(p), sample_weight=F32(per_entry))) == pytest.approx(
        (per * per_entry).sum() / 6, rel=1e-5)
    none = L.MeanSquaredError(reduction="none")(F32(t), F32(p), sample_weight=F32(sw))
    assert none.shape == (2, 3)


def test_reduction_constants_and_keras3_none():
    assert L.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    assert L.MeanSquaredError(reduction=L.Reduction.SUM).reduction == "sum"
    assert L.MeanSquaredError(reduction=None).reduction == "none"
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        L.Reduction.validate("mean")


def test_one_dimensional_targets_line_up_with_column_predictions():
    # (batch,) labels against (batch, 1) outputs give one loss per sample, as
    # in model.fit, instead of broadcasting to (batch, batch).
    y = np.array([0.0, 1.0, 1.0, 0.0])
    p = np.array([[0.2], [0.9], [0.4], [0.3]])
    column = L.BinaryCrossentropy(reduction="none")(F32(y[:, None]), F32(p))
    flat = L.BinaryCrossentropy(reduction="none")(F32(y), F32(p))
    assert flat.shape == (4,)
    np.testing.assert_allclose(flat.numpy(), column.numpy())
    sw = F32([1.0, 2.0, 0.0, 1.0])
    assert float(L.MeanSquaredError()(F32(y), F32(p), sample_weight=sw)) == pytest.approx(
        float(L.MeanSquaredError()(F32(y[:, None]), F32(p), sample_weight=sw)))


# -- the logits behind softmax and sigmoid outputs --------------------------------------------
EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 1.0, -1e4]], dtype=np.float32)
ONE_HOT = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)


def test_softmax_output_is_scored_from_its_logits():
    z = F32(EXTREME)
    probs = ops.softmax(z)
    got = L.categorical_crossentropy(F32(ONE_HOT), probs)
    want = L.categorical_crossentropy(F32(ONE_HOT), z, from_logits=True)
    assert np.all(np.isfinite(got.numpy()))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(got.numpy(), ref_cce_logits(ONE_HOT.astype(np.float64),
                                                           EXTREME.astype(np.float64)), rtol=1e-6)
    assert got.numpy()[0] > 1e3  # far beyond the -log(1e-7) ~ 16 the clip allows
    # The same probabilities as a plain tensor take the clipped path: finite, capped.
    plain = L.categorical_crossentropy(F32(ONE_HOT), F32(probs.numpy()))
    assert np.all(np.isfinite(plain.numpy()))
    assert plain.numpy()[0] == pytest.approx(-np.log(np.float32(EPS)), rel=1e-5)


def test_sparse_and_binary_use_the_logits_too():
    z = F32(EXTREME)
    labels = T(np.array([1, 0, 2]))
    sparse = L.sparse_categorical_crossentropy(labels, ops.softmax(z))
    np.testing.assert_allclose(sparse.numpy(),
                               L.sparse_categorical_crossentropy(labels, z, True).numpy(),
                               rtol=1e-6)
    y = F32(ONE_HOT)
    binary = L.binary_crossentropy(y, ops.sigmoid(z))
    want = ref_bce_logits(ONE_HOT.astype(np.float64), EXTREME.astype(np.float64))
    assert np.all(np.isfinite(binary.numpy()))
    np.testing.assert_allclose(binary.numpy(), want, rtol=1e-6)
    # Exact 0 and 1 probabilities without logits are clipped: finite.
    clipped = L.binary_crossentropy(y, F32(np.where(EXTREME > 0, 1.0, 0.0)))
    assert np.all(np.isfinite(clipped.numpy())) and clipped.numpy().max() < 17.0


def test_softmax_output_with_probability_clip_of_exact_zero():
    p = F32([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    out = L.categorical_crossentropy(F32([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), p)
    assert np.all(np.isfinite(out.numpy()))
    assert out.numpy()[0] == pytest.approx(-np.log(np.float32(EPS)), rel=1e-5)
    assert out.numpy()[1] == pytest.approx(-np.log(np.float32(1 - EPS)), abs=1e-6)


def test_from_logits_on_a_softmax_output_warns_and_uses_the_logits():
    z = F32(EXTREME)
    with pytest.warns(UserWarning, match="from_logits=True"):
        got = L.CategoricalCrossentropy(from_logits=True)(F32(ONE_HOT), ops.softmax(z))
    want = L.CategoricalCrossentropy(from_logits=True)(F32(ONE_HOT), z)
    assert float(got) == pytest.approx(float(want), rel=1e-6)


def test_softmax_over_another_axis_is_not_taken_for_logits():
    z = np.random.default_rng(1).normal(size=(3, 3)).astype(np.float32)
    probs = ops.softmax(F32(z), axis=0)
    got = L.categorical_crossentropy(F32(ONE_HOT), probs)
    want = ref_cce(ONE_HOT.astype(np.float64), _softmax(z.astype(np.float64), axis=0))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("loss,labels,activation", [
    (L.CategoricalCrossentropy(), ONE_HOT, ops.softmax),
    (L.CategoricalCrossentropy(label_smoothing=0.2), ONE_HOT, ops.softmax),
    (L.SparseCategoricalCrossentropy(), np.array([1, 0, 2]), ops.softmax),
    (L.BinaryCrossentropy(), ONE_HOT, ops.sigmoid),
    (L.BinaryCrossentropy(label_smoothing=0.1), ONE_HOT, ops.sigmoid),
], ids=["cce", "cce_smooth", "scce", "bce", "bce_smooth"])
def test_gradients_through_the_logits_path(loss, labels, activation):
    z = np.random.default_rng(4).normal(size=(3, 3)) * 3
    labels_t = T(labels) if labels.dtype.kind == "i" else T(labels.astype(np.float64))
    check_gradients(lambda logits: loss(labels_t, activation(logits)), [z])


def test_softmax_path_gradient_is_softmax_minus_labels():
    z = np.random.default_rng(6).normal(size=(3, 3)).astype(np.float32)
    logits = F32(z)
    with kerasette.GradientTape() as tape:
        tape.watch(logits)
        value = L.CategoricalCrossentropy()(F32(ONE_HOT), ops.softmax(logits))
    grad = tape.gradient(value, logits)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad.numpy(), (_softmax(z) - ONE_HOT) / 3, rtol=1e-5, atol=1e-7)


# -- sparse labels -------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["int32", "int64", "uint8", "float32", "column", "float_column",
                                  "list"])
def test_sparse_label_forms(form):
    p = np.random.default_rng(7).uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    ids = np.array([2, 0, 1, 2])
    labels = {
        "int32": lambda: T(ids.astype(np.int32)),
        "int64": lambda: T(ids.astype(np.int64)),
        "uint8": lambda: T(ids.astype(np.uint8)),
        "float32": lambda: T(ids.astype(np.float32)),
        "column": lambda: T(ids[:, None]),
        "float_column": lambda: T(ids[:, None].astype(np.float32)),
        "list": lambda: ids.tolist(),
    }[form]()
    want = ref_scce(ids, p.astype(np.float64))
    out = L.sparse_categorical_crossentropy(labels, F32(p))
    assert out.dtype == np.float32 and out.shape == (4,)
    np.testing.assert_allclose(out.numpy(), want, rtol=2e-5)
    value = L.SparseCategoricalCrossentropy()(labels, F32(p), sample_weight=F32([1, 2, 0, 1]))
    assert float(value) == pytest.approx((want * [1, 2, 0, 1]).sum() / 4, rel=2e-5)


def test_sparse_on_sequences_and_another_class_axis():
    rng = np.random.default_rng(8)
    p = rng.uniform(0.05, 0.95, (2, 5, 3))
    ids = rng.integers(0, 3, (2, 5))
    out = L.sparse_categorical_crossentropy(T(ids), F32(p))
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.numpy(), ref_scce(ids, p.astype(np.float32).astype(np.float64)),
                               rtol=2e-5)
    first = L.sparse_categorical_crossentropy(T(ids), F32(np.moveaxis(p, -1, 1)), axis=1)
    np.testing.assert_allclose(first.numpy(), out.numpy(), rtol=1e-6)


# -- dtypes and inputs ----------------------------------------------------------------------
def test_labels_are_cast_to_the_prediction_dtype():
    p = F32([[0.2, 0.8]])
    for labels in (T(np.array([[0.0, 1.0]])), T(np.array([[0, 1]])), [[0, 1]], [[0.0, 1.0]],
                   T(np.array([[False, True]]))):
        assert L.binary_crossentropy(labels, p).dtype == np.float32
        assert L.MeanSquaredError()(labels, p).dtype == np.float32
    # Python lists are accepted, as in Keras's standalone examples.
    assert float(L.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])) == 0.5
    # Integer predictions become floatx.
    assert L.mean_squared_error(T(np.array([[1, 2]])), T(np.array([[1, 4]]))).dtype == np.float32


def test_numpy_inputs_are_refused_where_the_backend_refuses_them(backend):
    y = np.zeros((2, 2), dtype=np.float32)
    if backend.name == "numpy":
        assert float(L.MeanSquaredError()(y, y)) == 0.0
    else:
        with pytest.raises(TypeError, match="convert_to_tensor"):
            L.mean_squared_error(y, F32(y))
        with pytest.raises(TypeError, match="sample_weight"):
            L.MeanSquaredError()(F32(y), F32(y), sample_weight=np.ones(2, np.float32))


def test_hinge_maps_binary_labels_only():
    p = F32([[0.3, -0.6], [1.4, 0.2]])
    zero_one = L.hinge(F32([[0.0, 1.0], [1.0, 0.0]]), p)
    plus_minus = L.hinge(F32([[-1.0, 1.0], [1.0, -1.0]]), p)
    np.testing.assert_allclose(zero_one.numpy(), plus_minus.numpy())
    soft = L.hinge(F32([[0.5, 1.0], [1.0, 0.0]]), p)  # not all 0/1: used as they are
    raw = np.array([[0.5, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(soft.numpy(), np.mean(np.maximum(1 - raw * p.numpy(), 0), -1),
                               rtol=1e-6)


def test_categorical_with_one_class_warns_like_keras():
    with pytest.warns(SyntaxWarning, match="binary_crossentropy"):
        L.categorical_crossentropy(F32([[1.0], [1.0]]), F32([[0.3], [0.9]]))


def test_huber_is_continuous_at_delta():
    at = L.huber(F32([[0.0]]), F32([[2.0]]), delta=2.0)
    assert float(at[0]) == pytest.approx(0.5 * 4.0)
    beyond = L.huber(F32([[0.0]]), F32([[3.0]]), delta=2.0)
    assert float(beyond[0]) == pytest.approx(2.0 * 3.0 - 0.5 * 4.0)


# -- names and configs --------------------------------------------------------------------
FUNCTION_NAMES = {
    "mean_squared_error": L.mean_squared_error, "mean_absolute_error": L.mean_absolute_error,
    "mean_absolute_percentage_error": L.mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": L.mean_squared_logarithmic_error,
    "binary_crossentropy": L.binary_crossentropy,
    "categorical_crossentropy": L.categorical_crossentropy,
    "sparse_categorical_crossentropy": L.sparse_categorical_crossentropy, "hinge": L.hinge,
    "squared_hinge": L.squared_hinge, "categorical_hinge": L.categorical_hinge,
    "kl_divergence": L.kl_divergence, "poisson": L.poisson, "log_cosh": L.log_cosh,
    "huber": L.huber, "cosine_similarity": L.cosine_similarity,
}
# tf_keras/losses.py, "# Aliases." and the keras_export names.
ALIASES = {
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy", "mse": "mean_squared_error",
    "MSE": "mean_squared_error", "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh",
    "huber_loss": "huber",
}


@pytest.mark.parametrize("name", list(FUNCTION_NAMES) + list(ALIASES))
def test_function_names_and_aliases(name):
    full = ALIASES.get(name, name)
    fn = FUNCTION_NAMES[full]
    assert getattr(L, name) is fn
    assert L.get(name) is fn
    assert L.deserialize(name) is fn
    assert L.serialize(fn) == full  # tf.keras 2 writes full names
    assert L.serialize(name) == full
    assert L.deserialize(json.loads(json.dumps(L.serialize(fn)))) is fn
    keras3 = {"module": "builtins", "class_name": "function", "config": full,
              "registered_name": "function"}
    assert L.deserialize(keras3) is fn


CLASS_CASES = [
    (L.MeanSquaredError, {}, "mean_squared_error"),
    (L.MeanAbsoluteError, {}, "mean_absolute_error"),
    (L.MeanAbsolutePercentageError, {}, "mean_absolute_percentage_error"),
    (L.MeanSquaredLogarithmicError, {}, "mean_squared_logarithmic_error"),
    (L.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1, "axis": -1},
     "binary_crossentropy"),
    (L.CategoricalCrossentropy, {"from_logits": False, "label_smoothing": 0.2, "axis": 1},
     "categorical_crossentropy"),
    (L.SparseCategoricalCrossentropy, {"from_logits": True, "ignore_class": 255},
     "sparse_categorical_crossentropy"),
    (L.Hinge, {}, "hinge"),
    (L.SquaredHinge, {}, "squared_hinge"),
    (L.CategoricalHinge, {}, "categorical_hinge"),
    (L.KLDivergence, {}, "kl_divergence"),
    (L.Poisson, {}, "poisson"),
    (L.LogCosh, {}, "log_cosh"),
    (L.Huber, {"delta": 2.5}, "huber_loss"),
    (L.CosineSimilarity, {"axis": 0}, "cosine_similarity"),
]


@pytest.mark.parametrize("cls,kwargs,default_name", CLASS_CASES,
                         ids=[c[0].__name__ for c in CLASS_CASES])
def test_class_config_round_trips_through_json(cls, kwargs, default_name):
    plain = cls()
    assert plain.name == default_name
    assert plain.reduction == "auto"
    assert plain.get_config()["name"] == default_name
    loss = cls(reduction="sum", name="custom_name", **kwargs)
    config = loss.get_config()
    assert config == {"reduction": "sum", "name": "custom_name", **kwargs}
    serialized = L.serialize(loss)
    assert serialized == {"module": "keras.losses", "class_name": cls.__name__,
                          "config": config, "registered_name": None}
    restored = L.deserialize(json.loads(json.dumps(serialized)))
    assert type(restored) is cls
    assert restored.get_config() == config
    assert type(L.get(serialized)) is cls
    assert cls.from_config(config).get_config() == config
    # Keras's string form instantiates the class with its defaults.
    assert type(L.get(cls.__name__)) is cls
    assert L.get(cls.__name__).get_config() == plain.get_config()
    # tf.keras 2's legacy form (no module) and Keras 3's extra dtype key load too.
    assert L.deserialize({"class_name": cls.__name__, "config": config}).get_config() == config
    keras3 = dict(config, reduction="sum_over_batch_size", dtype=None)
    assert L.deserialize({"class_name": cls.__name__, "config": keras3}).reduction == (
        "sum_over_batch_size")


def test_restored_loss_computes_the_same_value():
    loss = L.CategoricalCrossentropy(label_smoothing=0.1, reduction="sum")
    restored = L.deserialize(json.loads(json.dumps(L.serialize(loss))))
    t, p = make_categorical(np.random.default_rng(9))
    assert float(restored(F32(t), F32(p))) == float(loss(F32(t), F32(p)))


def test_loss_function_wrapper_round_trip():
    wrapper = L.LossFunctionWrapper(L.huber, name="h", reduction="sum", delta=0.5)
    config = wrapper.get_config()
    assert config == {"reduction": "sum", "name": "h", "delta": 0.5, "fn": "huber"}
    restored = L.deserialize(json.loads(json.dumps(L.serialize(wrapper))))
    assert isinstance(restored, L.LossFunctionWrapper) and restored.fn is L.huber
    y, p = F32([[0.0, 0.0]]), F32([[0.2, 3.0]])
    assert float(restored(y, p)) == float(wrapper(y, p))
    # The built-in subclasses ignore a Keras 3 "fn" entry.
    assert type(L.MeanSquaredError.from_config(
        {"reduction": "auto", "name": "mse", "fn": "mean_squared_error"})) is L.MeanSquaredError
    with pytest.raises(ValueError, match="'fn'"):
        L.LossFunctionWrapper.from_config({"reduction": "auto", "name": None})


def test_get_accepts_what_compile_accepts():
    assert L.get(None) is None
    assert L.get(L.mse) is L.mean_squared_error
    loss = L.Huber()
    assert L.get(loss) is loss
    assert type(L.get(L.Poisson)) is L.Poisson

    def custom(y_true, y_pred):
        return ops.mean(y_pred - y_true, axis=-1)

    assert L.get(custom) is custom
    with_logits = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert with_logits.from_logits is True
    # Other spellings of the functions' names are forgiven.
    assert L.get("Mean_Squared_Error") is L.mean_squared_error
    assert L.get("SPARSE_CATEGORICAL_CROSSENTROPY") is L.sparse_categorical_crossentropy


def test_unknown_names_list_the_valid_ones_and_suggest():
    with pytest.raises(ValueError, match="Unknown loss function: 'mean_squard_error'") as info:
        L.get("mean_squard_error")
    message = str(info.value)
    assert "Did you mean 'mean_squared_error'?" in message
    assert "sparse_categorical_crossentropy" in message and "Huber" in message
    with pytest.raises(ValueError, match="Unknown loss function"):
        L.deserialize({"class_name": "NoSuchLoss", "config": {}})


def test_bad_identifiers_and_unserializable_losses():
    with pytest.raises(ValueError, match="Could not interpret loss function identifier"):
        L.get(42)
    with pytest.raises(ValueError, match="Could not interpret loss config"):
        L.deserialize({"config": {}})
    with pytest.raises(ValueError, match="named function"):
        L.serialize(lambda y_true, y_pred: y_pred)


def test_custom_losses_through_the_registry():
    @register_serializable(package="LossTests")
    def doubled_mse(y_true, y_pred):
        return 2.0 * L.mean_squared_error(y_true, y_pred)

    @register_serializable(package="LossTests")
    class ScaledMSE(L.Loss):
        def __init__(self, scale=1.0, reduction="auto", name="scaled_mse"):
            super().__init__(reduction=reduction, name=name)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * L.mean_squared_error(y_true, y_pred)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    assert L.serialize(doubled_mse) == "LossTests>doubled_mse"
    assert L.get("LossTests>doubled_mse") is doubled_mse
    config = json.loads(json.dumps(L.serialize(ScaledMSE(scale=3.0))))
    assert config["registered_name"] == "LossTests>ScaledMSE"
    restored = L.deserialize(config)
    assert isinstance(restored, ScaledMSE) and restored.scale == 3.0
    y, p = F32([[0.0, 1.0]]), F32([[1.0, 1.0]])
    assert float(restored(y, p)) == pytest.approx(1.5)

    class Unregistered(L.Loss):
        def call(self, y_true, y_pred):
            return L.mean_absolute_error(y_true, y_pred)

    config = L.serialize(Unregistered())
    with pytest.raises(ValueError, match="Unknown loss function"):
        L.deserialize(config)
    restored = L.deserialize(config, custom_objects={"Unregistered": Unregistered})
    assert isinstance(restored, Unregistered)


def test_loss_base_class():
    with pytest.raises(NotImplementedError, match="call"):
        L.Loss()(F32([1.0]), F32([1.0]))
    assert L.Loss().get_config() == {"reduction": "auto", "name": None}
    assert repr(L.Huber(delta=2.0)) == ("Huber(reduction='auto', name='huber_loss', "
                                        "delta=2.0)")
    assert L.BinaryCrossentropy(from_logits=True).from_logits is True
    assert L.CategoricalCrossentropy(label_smoothing=0.3).label_smoothing == 0.3


# -- argument errors ---------------------------------------------------------------------
@pytest.mark.parametrize("make,argument", [
    (lambda: L.BinaryCrossentropy(label_smoothing=1.5), "label_smoothing"),
    (lambda: L.CategoricalCrossentropy(label_smoothing=-0.1), "label_smoothing"),
    (lambda: L.CategoricalCrossentropy(label_smoothing=float("nan")), "label_smoothing"),
    (lambda: L.Huber(delta=0.0), "delta"),
    (lambda: L.Huber(delta=-1.0), "delta"),
    (lambda: L.MeanSquaredError(reduction="mean"), "reduction"),
    (lambda: L.MeanSquaredError(reduction="SUM"), "reduction"),
    (lambda: L.BinaryCrossentropy(from_logits="yes"), "from_logits"),
    (lambda: L.CategoricalCrossentropy(axis=True), "axis"),
    (lambda: L.CosineSimilarity(axis=1.0), "axis"),
    (lambda: L.SparseCategoricalCrossentropy(ignore_class=1.5), "ignore_class"),
    (lambda: L.MeanSquaredError(name=3), "name"),
    (lambda: L.LossFunctionWrapper("mse"), "fn"),
    (lambda: L.binary_crossentropy(F32([1.0]), F32([0.5]), label_smoothing=2), "label_smoothing"),
    (lambda: L.huber(F32([1.0]), F32([0.5]), delta=-2), "delta"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_rejected_with_their_name(make, argument):
    with pytest.raises(ValueError, match=f"{argument}=") as info:
        make()
    assert "Received" in str(info.value)


def test_shape_errors_say_what_to_do():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        L.categorical_crossentropy(T(np.array([0, 2])), F32([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    with pytest.raises(ValueError, match="For one-hot labels use categorical_crossentropy"):
        L.sparse_categorical_crossentropy(F32([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
                                          F32([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    with pytest.raises(ValueError, match="same shape"):
        L.binary_crossentropy(F32([[1.0, 0.0]]), F32([[0.3, 0.1, 0.2]]), from_logits=True)
    with pytest.raises(ValueError, match="sample_weight"):
        L.MeanSquaredError()(F32([[0.0], [1.0]]), F32([[1.0], [1.0]]),
                             sample_weight=F32([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="out of range"):
        L.categorical_crossentropy(F32([[1.0, 0.0]]), F32([[0.3, 0.7]]), axis=3)


def test_no_warnings_on_the_ordinary_paths():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.CategoricalCrossentropy()(F32(ONE_HOT), ops.softmax(F32(EXTREME)))
        L.BinaryCrossentropy()(F32(ONE_HOT), ops.sigmoid(F32(EXTREME)))
        L.SparseCategoricalCrossentropy(from_logits=True)(T(np.array([0, 1, 2])), F32(EXTREME))


def test_zero_denominators_stay_finite():
    # MAPE floors |y_true| at 1e-7; a zero vector has cosine similarity 0 (the
    # squared norm is floored at 1e-12, as TensorFlow's l2_normalize does).
    mape = L.mean_absolute_percentage_error(F32([[0.0, 2.0]]), F32([[1e-3, 1.0]]))
    assert float(mape[0]) == pytest.approx(100 * (1e-3 / 1e-7 + 0.5) / 2, rel=1e-4)
    zero = F32([[0.0, 0.0], [3.0, 4.0]])
    with kerasette.GradientTape() as tape:
        tape.watch(zero)
        cos = L.cosine_similarity(F32([[1.0, 0.0], [3.0, 4.0]]), zero)
    np.testing.assert_allclose(cos.numpy(), [0.0, -1.0], atol=1e-6)
    assert np.all(np.isfinite(tape.gradient(cos, zero).numpy()))
