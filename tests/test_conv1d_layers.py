"""The sequence layers: Conv1D, 1-D pooling, UpSampling1D, Cropping1D,
ZeroPadding1D, RepeatVector and TimeDistributed, and their ops.

Forward passes are checked against plain NumPy formulas written here (not
the library's code), gradients by float64 finite differences, and each
layer through the layer harness; then configs, aliases and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import layers, ops
from kerasette.ops.conv import masked_mean

RNG = np.random.default_rng(0)


# -- NumPy references ----------------------------------------------------------------------
def ref_conv1d(x, w, b=None, stride=1, padding="valid", dilation=1):
    """y[n, t, f] = sum_{i, c} xp[n, t * stride + i * dilation, c] * w[i, c, f],
    with xp the input padded as TensorFlow pads it."""
    n, steps, _ = x.shape
    k, _, filters = w.shape
    span = (k - 1) * dilation + 1
    if padding == "valid":
        before, out = 0, (steps - span) // stride + 1
    elif padding == "causal":
        before, out = span - 1, -(-steps // stride)
    else:  # same
        out = -(-steps // stride)
        before = max((out - 1) * stride + span - steps, 0) // 2
    xp = np.zeros((n, steps + 2 * span, x.shape[2]))
    xp[:, before:before + steps] = x
    y = np.zeros((n, out, filters))
    for t in range(out):
        for i in range(k):
            y[:, t] += xp[:, t * stride + i * dilation] @ w[i]
    return y if b is None else y + b


def ref_pool1d(x, size, stride, padding, how):
    """Windows of `size` steps; padded steps are ignored (never the max,
    not counted in the mean), as TensorFlow does."""
    steps = x.shape[1]
    if padding == "valid":
        out, before = (steps - size) // stride + 1, 0
    else:
        out = -(-steps // stride)
        before = max((out - 1) * stride + size - steps, 0) // 2
    y = np.zeros((x.shape[0], out, x.shape[2]))
    for t in range(out):
        lo = t * stride - before
        window = x[:, max(lo, 0):min(lo + size, steps)]
        y[:, t] = window.max(axis=1) if how == "max" else window.mean(axis=1)
    return y


def _x(*shape):
    return RNG.standard_normal(shape)


def t(a, dtype=None):
    """A host array on the active backend (the explicit boundary)."""
    return ops.convert_to_tensor(np.asarray(a), dtype=dtype)


# -- ops: forward ----------------------------------------------------------------------------
CONV_CASES = [
    dict(k=3, stride=1, padding="valid", dilation=1),
    dict(k=3, stride=2, padding="valid", dilation=1),
    dict(k=4, stride=1, padding="same", dilation=1),
    dict(k=3, stride=3, padding="same", dilation=1),
    dict(k=3, stride=1, padding="same", dilation=2),
    dict(k=2, stride=1, padding="causal", dilation=1),
    dict(k=3, stride=1, padding="causal", dilation=3),
    dict(k=3, stride=2, padding="causal", dilation=1),
    dict(k=1, stride=1, padding="valid", dilation=1),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("channels", [2, 9])  # 9: NumPy's sliding-window gather
def test_conv1d_matches_numpy(case, channels):
    x, w, b = _x(3, 11, channels), _x(case["k"], channels, 4), _x(4)
    got = ops.conv1d(t(x, "float32"), t(w, "float32"), t(b, "float32"),
                     strides=case["stride"], padding=case["padding"],
                     dilation_rate=case["dilation"])
    want = ref_conv1d(x, w, b, case["stride"], case["padding"], case["dilation"])
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


def test_causal_output_never_sees_the_future():
    x = _x(1, 8, 2)
    w = _x(3, 2, 1)
    y = ops.conv1d(t(x), t(w), padding="causal", dilation_rate=2).numpy()
    later = x.copy()
    later[:, 5:] += 10.0  # change only steps 5..7
    y2 = ops.conv1d(t(later), t(w), padding="causal", dilation_rate=2).numpy()
    np.testing.assert_array_equal(y[:, :5], y2[:, :5])
    assert not np.allclose(y[:, 5:], y2[:, 5:])


@pytest.mark.parametrize("size, stride, padding", [
    (2, None, "valid"), (3, 2, "valid"), (3, 2, "same"), (2, 1, "same"), (4, 3, "same"),
])
@pytest.mark.parametrize("how", ["max", "avg"])
def test_pool1d_matches_numpy(size, stride, padding, how):
    x = _x(2, 9, 3)
    op = ops.max_pool1d if how == "max" else ops.avg_pool1d
    got = op(t(x, "float32"), size, stride, padding)
    want = ref_pool1d(x, size, stride or size, padding, how)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


def test_max_pool1d_tie_sends_the_gradient_to_the_first_maximum():
    x = ops.convert_to_tensor(np.array([[[1.0], [1.0], [0.0], [2.0]]], dtype="float32"))
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max_pool1d(x, 2))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy().ravel(), [1.0, 0.0, 0.0, 1.0])


def test_masked_mean_matches_numpy_and_gives_nan_for_an_empty_row():
    x = _x(3, 5, 2)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)
    got = masked_mean(ops.convert_to_tensor(x.astype("float32")),
                      ops.convert_to_tensor(mask)).numpy()
    m = mask[..., None].astype("float64")
    with np.errstate(invalid="ignore"):
        want = (x * m).sum(axis=1) / m.sum(axis=1)
    np.testing.assert_allclose(got[:2], want[:2], rtol=1e-6)
    assert np.isnan(got[2]).all()
    kept = masked_mean(ops.convert_to_tensor(x), ops.convert_to_tensor(mask), keepdims=True)
    assert kept.shape == (3, 1, 2)


# -- ops: gradients --------------------------------------------------------------------------
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv1d_gradients(case):
    x, w, b = _x(2, 7, 3), _x(case["k"], 3, 2), _x(2)
    check_gradients(lambda x, w, b: ops.conv1d(x, w, b, case["stride"], case["padding"],
                                               case["dilation"]), [x, w, b])


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_conv1d_fused_activation_gradients(activation):
    x, w = _x(2, 6, 2), _x(3, 2, 3)
    check_gradients(lambda x, w: ops.conv1d(x, w, padding="same", activation=activation),
                    [x, w], kind="kinked")


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("op", [ops.max_pool1d, ops.avg_pool1d])
def test_pool1d_gradients(op, padding):
    x = _x(2, 7, 3)
    check_gradients(lambda x: op(x, 3, 2, padding), [x], kind="kinked")


def test_masked_mean_gradient():
    x = _x(2, 5, 3)
    mask = ops.convert_to_tensor(np.array([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool))
    check_gradients(lambda x: masked_mean(x, mask), [x])
    check_gradients(lambda x: masked_mean(x, mask, keepdims=True), [x])


# -- layers through the harness ----------------------------------------------------------------
@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    ({"filters": 3, "kernel_size": 3}, (2, 7, 2), (2, 5, 3)),
    ({"filters": 2, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 7, 2), (2, 4, 2)),
    ({"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2}, (2, 6, 3),
     (2, 6, 2)),
    ({"filters": 2, "kernel_size": (3,), "strides": (1,), "activation": "relu"}, (2, 6, 2),
     (2, 4, 2)),
    ({"filters": 2, "kernel_size": 2, "activation": "elu"}, (1, 5, 2), (1, 4, 2)),
], ids=str)
def test_conv1d_harness(kwargs, input_shape, output_shape):
    run_layer_test(layers.Conv1D, kwargs, input_shape, output_shape,
                   expected_num_trainable_weights=2, gradient_kind="kinked")


def test_conv1d_without_bias_harness():
    run_layer_test(layers.Conv1D, {"filters": 2, "kernel_size": 3, "use_bias": False},
                   (2, 5, 3), (2, 3, 2), expected_num_trainable_weights=1)


@pytest.mark.parametrize("cls, kwargs, input_shape, output_shape", [
    (layers.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (layers.MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3),
     (2, 4, 3)),
    (layers.AveragePooling1D, {}, (2, 6, 3), (2, 3, 3)),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 2),
     (2, 5, 2)),
    (layers.GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3)),
    (layers.GlobalMaxPooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3)),
    (layers.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3)),
    (layers.GlobalAveragePooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3)),
    (layers.UpSampling1D, {"size": 3}, (2, 4, 2), (2, 12, 2)),
    (layers.Cropping1D, {"cropping": (1, 2)}, (2, 6, 2), (2, 3, 2)),
    (layers.Cropping1D, {"cropping": 0}, (2, 3, 2), (2, 3, 2)),
    (layers.ZeroPadding1D, {"padding": (2, 1)}, (2, 4, 2), (2, 7, 2)),
    (layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4)),
], ids=str)
def test_weightless_sequence_layers_harness(cls, kwargs, input_shape, output_shape):
    run_layer_test(cls, kwargs, input_shape, output_shape, gradient_kind="kinked")


class _TimeDistributedDense(layers.TimeDistributed):
    """The harness builds layers from keyword arguments alone (and asks for
    float64 through `dtype`, which, as in Keras, the wrapped layer does not
    inherit)."""

    def __init__(self, layer=None, units=3, dtype=None, **kwargs):
        super().__init__(layer or layers.Dense(units, activation="tanh", dtype=dtype),
                         dtype=dtype, **kwargs)


def test_time_distributed_harness():
    run_layer_test(_TimeDistributedDense, {"units": 3}, (2, 4, 5), (2, 4, 3),
                   expected_num_trainable_weights=2)


class _TimeDistributedConv(layers.TimeDistributed):
    def __init__(self, layer=None, dtype=None, **kwargs):
        super().__init__(layer or layers.Conv1D(2, 2, padding="same", dtype=dtype),
                         dtype=dtype, **kwargs)


def test_time_distributed_over_a_conv1d_harness():
    run_layer_test(_TimeDistributedConv, {}, (2, 3, 4, 2), (2, 3, 4, 2),
                   expected_num_trainable_weights=2)


# -- layers: forward against NumPy ---------------------------------------------------------------
def test_conv1d_layer_forward_uses_keras_kernel_layout():
    layer = layers.Conv1D(4, 3, strides=2, padding="same", activation="tanh",
                          bias_initializer="glorot_uniform")
    x = _x(3, 9, 2).astype("float32")
    out = layer(x)
    w, b = layer.get_weights()
    assert w.shape == (3, 2, 4) and b.shape == (4,)
    want = np.tanh(ref_conv1d(x.astype("float64"), w.astype("float64"), b, 2, "same"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-5)


def test_reshaping_layers_match_numpy():
    x = _x(2, 4, 3).astype("float32")
    np.testing.assert_array_equal(layers.UpSampling1D(2)(x).numpy(), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(x).numpy(), x[:, 1:2])
    np.testing.assert_array_equal(layers.Cropping1D((2, 0))(x).numpy(), x[:, 2:])
    np.testing.assert_array_equal(layers.ZeroPadding1D(1)(x).numpy(),
                                  np.pad(x, ((0, 0), (1, 1), (0, 0))))
    v = x[:, 0]
    np.testing.assert_array_equal(layers.RepeatVector(5)(v).numpy(),
                                  np.repeat(v[:, None], 5, axis=1))
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(x).numpy(), x.max(axis=1))
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x).numpy(), x.mean(axis=1),
                               rtol=1e-6)


def test_global_average_pooling1d_with_a_mask_is_the_masked_mean():
    x = _x(2, 4, 3).astype("float32")
    mask = np.array([[True, False, True, False], [False] * 4])
    layer = layers.GlobalAveragePooling1D()
    assert layer.supports_masking and layer.compute_mask(x, mask) is None
    out = layer(x, mask=mask).numpy()
    np.testing.assert_allclose(out[0], x[0, [0, 2]].mean(axis=0), rtol=1e-6)
    assert np.isnan(out[1]).all()  # all padding: 0 / 0, as tf.keras 2


def test_time_distributed_applies_one_dense_to_every_step():
    keras.backend.clear_session()
    layer = layers.TimeDistributed(layers.Dense(3))
    x = _x(2, 5, 4).astype("float32")
    out = layer(x)
    w, b = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), np.einsum("ntc,cf->ntf", x, w) + b,
                               rtol=1e-5, atol=1e-6)
    # tf.keras 2 builds the wrapped layer in the wrapper's name scope.
    assert [v.name for v in layer.weights] == ["time_distributed/kernel:0",
                                               "time_distributed/bias:0"]
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert layer.output_shape == (None, 5, 3)


def test_time_distributed_passes_training_on():
    layer = layers.TimeDistributed(layers.Dropout(0.5))
    x = np.ones((2, 3, 4), dtype="float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    trained = layer(x, training=True).numpy()
    assert set(np.unique(trained)) <= {0.0, 2.0} and (trained == 0).any()


def test_time_distributed_keeps_the_mask_and_folds_it_for_the_wrapped_layer():
    class Seen(layers.Layer):
        def call(self, inputs, mask=None):
            self.seen = mask
            return inputs

    inner = Seen()
    layer = layers.TimeDistributed(inner)
    mask = np.array([[True, False, True], [True, True, False]])
    layer(np.ones((2, 3, 4, 5), dtype="float32"), mask=mask)
    np.testing.assert_array_equal(inner.seen.numpy(), mask.reshape(6))
    assert layer.compute_mask(None, mask) is mask


# -- configs and names ---------------------------------------------------------------------------
def test_names_aliases_and_defaults():
    keras.backend.clear_session()
    assert layers.Conv1D(2, 3).name == "conv1d"
    assert layers.Convolution1D is layers.Conv1D
    assert layers.MaxPool1D is layers.MaxPooling1D
    assert layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.MaxPooling1D().name == "max_pooling1d"
    assert layers.GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert layers.UpSampling1D().name == "up_sampling1d"
    assert layers.ZeroPadding1D().name == "zero_padding1d"
    assert layers.Cropping1D().name == "cropping1d"
    assert layers.RepeatVector(2).name == "repeat_vector"
    assert layers.TimeDistributed(layers.Dense(1)).name == "time_distributed"
    pool = layers.MaxPooling1D()
    assert (pool.pool_size, pool.strides, pool.padding) == ((2,), (2,), "valid")
    assert layers.UpSampling1D().size == 2
    assert layers.Cropping1D().cropping == (1, 1)
    assert layers.ZeroPadding1D().padding == (1, 1)
    for alias in ("Convolution1D", "MaxPool1D", "AvgPool1D", "GlobalMaxPool1D",
                  "GlobalAvgPool1D"):
        rebuilt = layers.deserialize({"class_name": alias, "config": {"name": "x", **(
            {"filters": 2, "kernel_size": 3} if alias == "Convolution1D" else {})}})
        assert type(rebuilt) is getattr(layers, alias)


def test_configs_have_tf_keras_2_keys():
    conv = layers.Conv1D(6, 3, strides=2, padding="causal", name="c").get_config()
    assert conv["kernel_size"] == [3] and conv["strides"] == [2]
    assert conv["dilation_rate"] == [1] and conv["padding"] == "causal"
    assert conv["data_format"] == "channels_last" and conv["groups"] == 1
    assert conv["kernel_initializer"]["class_name"] == "GlorotUniform"
    pool = layers.AveragePooling1D(3, name="p").get_config()
    assert {k: pool[k] for k in ("strides", "pool_size", "padding", "data_format")} == {
        "strides": [3], "pool_size": [3], "padding": "valid", "data_format": "channels_last"}
    assert layers.GlobalMaxPooling1D(name="g").get_config()["keepdims"] is False
    assert layers.ZeroPadding1D(2, name="z").get_config()["padding"] == [2, 2]
    assert layers.Cropping1D((0, 3), name="k").get_config()["cropping"] == [0, 3]
    assert layers.UpSampling1D(3, name="u").get_config()["size"] == 3
    assert layers.RepeatVector(4, name="r").get_config()["n"] == 4


def test_time_distributed_config_nests_the_layer_as_tf_keras_2_does():
    td = layers.TimeDistributed(layers.Dense(3, name="inner"), name="td")
    config = json.loads(json.dumps(td.get_config()))
    assert set(config) == {"name", "trainable", "dtype", "layer"}
    assert config["layer"]["class_name"] == "Dense"
    assert config["layer"]["module"] == "keras.layers"
    assert config["layer"]["registered_name"] is None
    assert config["layer"]["config"]["units"] == 3
    clone = layers.deserialize({"class_name": "TimeDistributed", "config": config})
    assert type(clone.layer) is layers.Dense and clone.layer.name == "inner"
    assert clone.get_config() == config


def test_time_distributed_reads_a_keras_3_config():
    # As Keras 3.15 writes it: DTypePolicy dicts, build_config on the inner layer.
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    config = {"name": "time_distributed", "trainable": True, "dtype": policy, "layer": {
        "module": "keras.layers", "class_name": "Dense", "registered_name": None,
        "config": {"name": "dense", "trainable": True, "dtype": policy, "units": 2,
                   "activation": "relu", "use_bias": True,
                   "kernel_initializer": {"module": "keras.initializers",
                                          "class_name": "GlorotUniform",
                                          "config": {"seed": None}, "registered_name": None},
                   "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                        "config": {}, "registered_name": None},
                   "kernel_regularizer": None, "bias_regularizer": None,
                   "kernel_constraint": None, "bias_constraint": None,
                   "quantization_config": None},
        "build_config": {"input_shape": [None, 4]}}}
    layer = layers.deserialize({"module": "keras.layers", "class_name": "TimeDistributed",
                                "config": config, "registered_name": None})
    assert layer(np.ones((2, 3, 4), dtype="float32")).shape == (2, 3, 2)


def test_keras_3_conv1d_config_reads():
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    conv = layers.Conv1D.from_config({
        "name": "conv1d", "trainable": True, "dtype": policy, "filters": 6,
        "kernel_size": [3], "strides": [1], "padding": "causal",
        "data_format": "channels_last", "dilation_rate": [2], "groups": 1,
        "activation": "relu", "use_bias": True, "kernel_initializer": None,
        "bias_initializer": "zeros", "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None})
    assert (conv.kernel_size, conv.dilation_rate, conv.padding) == ((3,), (2,), "causal")
    assert conv(np.ones((1, 5, 2), dtype="float32")).shape == (1, 5, 6)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, match", [
    (lambda: layers.Conv1D(0, 3), "filters"),
    (lambda: layers.Conv1D(2, (3, 3)), "kernel_size"),
    (lambda: layers.Conv1D(2, 0), "kernel_size"),
    (lambda: layers.Conv1D(2, 3, padding="full"), "'valid', 'same' or 'causal'"),
    (lambda: layers.Conv1D(2, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: layers.Conv1D(2, 3, data_format="channels_first"), "channels_first"),
    (lambda: layers.Conv1D(2, 3, groups=2), "groups"),
    (lambda: layers.MaxPooling1D(padding="causal"), "'valid' or 'same'"),
    (lambda: layers.AveragePooling1D(pool_size=0), "pool_size"),
    (lambda: layers.MaxPooling1D(strides=(1, 2)), "strides"),
    (lambda: layers.GlobalAveragePooling1D(data_format="channels_first"), "channels_first"),
    (lambda: layers.UpSampling1D(0), "size"),
    (lambda: layers.UpSampling1D("2"), "type str"),
    (lambda: layers.RepeatVector(2.5), "`n`"),
    (lambda: layers.Cropping1D(-1), "cropping"),
    (lambda: layers.ZeroPadding1D((1, 2, 3)), "padding"),
    (lambda: layers.TimeDistributed("dense"), "Layer"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_refused_in_init(build, match):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        build()


def test_conv2d_still_refuses_causal_padding():
    with pytest.raises(ValueError, match="only for Conv1D"):
        layers.Conv2D(2, 3, padding="causal")


@pytest.mark.parametrize("layer, shape", [
    (layers.Conv1D(2, 3, name="conv_x"), (4, 5)),
    (layers.MaxPooling1D(name="conv_x"), (2, 4, 4, 1)),
    (layers.AveragePooling1D(name="conv_x"), (4, 5)),
    (layers.GlobalAveragePooling1D(name="conv_x"), (4, 5)),
    (layers.GlobalMaxPooling1D(name="conv_x"), (2, 2, 4, 5)),
    (layers.UpSampling1D(name="conv_x"), (4, 5)),
    (layers.ZeroPadding1D(name="conv_x"), (4, 5)),
    (layers.Cropping1D(name="conv_x"), (4, 5)),
], ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v))
def test_wrong_rank_names_the_layer_and_the_shape(layer, shape):
    with pytest.raises(ValueError, match=r"'conv_x'.*expected ndim=3.*" + str(shape)
                       .replace("(", r"\(").replace(")", r"\)")):
        layer(np.ones(shape, dtype="float32"))


def test_other_shape_errors():
    with pytest.raises(ValueError, match=r"'rv'.*expected ndim=2.*\(2, 3, 4\)"):
        layers.RepeatVector(2, name="rv")(np.ones((2, 3, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r"'td'.*at least 3 dimensions.*\(2, 3\)"):
        layers.TimeDistributed(layers.Dense(2), name="td")(np.ones((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="Cropping1D.*removes 4 of 4"):
        layers.Cropping1D(2)(np.ones((1, 4, 2), dtype="float32"))
    conv = layers.Conv1D(2, 3, name="cv")
    conv(np.ones((1, 5, 2), dtype="float32"))
    with pytest.raises(ValueError, match=r"'cv'.*axis -1.*value 2"):
        conv(np.ones((1, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"larger than the input \(2\)"):
        layers.Conv1D(2, 3)(np.ones((1, 2, 2), dtype="float32"))
    with pytest.raises(ValueError, match=r"conv1d: the kernel must be \(k, 2, filters\)"):
        ops.conv1d(t(np.ones((1, 5, 2))), t(np.ones((3, 3, 1))))
    with pytest.raises(ValueError, match="conv1d expects a 3-D input"):
        ops.conv1d(t(np.ones((5, 2))), t(np.ones((3, 2, 1))))
    with pytest.raises(ValueError, match="mask must have the shape"):
        masked_mean(t(np.ones((2, 3, 1))), t(np.ones((2, 4), dtype=bool)))
