"""Merge layers (`Add`, ..., `Concatenate`, `Dot`), their functions and
`Lambda`: forward against NumPy, float64 gradient checks, Keras's shape
rules and messages, config round trips, and training through a merge."""

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import layers, ops

RNG = np.random.default_rng(11)

# (class, NumPy formula over a list of arrays, minimum inputs, gradient kind)
ELEMENTWISE = [
    (layers.Add, lambda xs: sum(xs[1:], xs[0]), "default"),
    (layers.Subtract, lambda xs: xs[0] - xs[1], "default"),
    (layers.Multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0), "default"),
    (layers.Average, lambda xs: sum(xs[1:], xs[0]) / len(xs), "default"),
    (layers.Maximum, lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs)), "kinked"),
    (layers.Minimum, lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs)), "kinked"),
]
FUNCTIONS = {layers.Add: layers.add, layers.Subtract: layers.subtract,
             layers.Multiply: layers.multiply, layers.Average: layers.average,
             layers.Maximum: layers.maximum, layers.Minimum: layers.minimum}


def _ids(case):
    return case[0].__name__


def _arrays(*shapes, dtype="float32"):
    return [RNG.standard_normal(s).astype(dtype) for s in shapes]


def _count(cls):
    return 2 if cls is layers.Subtract else 3


# -- forward against NumPy ---------------------------------------------------------


@pytest.mark.parametrize("case", ELEMENTWISE, ids=_ids)
def test_elementwise_forward_matches_numpy(case, to_device):
    cls, formula, _ = case
    xs = _arrays(*[(4, 3, 2)] * _count(cls))
    out = cls()([to_device(x) for x in xs])
    assert out.dtype == np.float32 and out.shape == (4, 3, 2)
    np.testing.assert_allclose(out.numpy(), formula(xs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=_ids)
@pytest.mark.parametrize("shapes, expected", [
    ([(4, 3), (4, 1)], (4, 3)),            # size-1 axis stretches
    ([(4, 3), (4, 2, 3)], (4, 2, 3)),      # lower rank expanded after the batch axis
    ([(4, 1, 3), (4, 5, 1)], (4, 5, 3)),
    ([(4, 1), (4, 2, 3)], (4, 2, 3)),
])
def test_elementwise_broadcasting_as_keras(case, shapes, expected, to_device):
    cls, formula, _ = case
    xs = _arrays(*shapes)
    out = cls()([to_device(x) for x in xs])
    # Keras expands after the batch axis; NumPy aligns from the right.
    aligned = [x.reshape(x.shape[:1] + (1,) * (len(expected) - x.ndim) + x.shape[1:])
               for x in xs]
    assert out.shape == expected
    np.testing.assert_allclose(out.numpy(), formula(aligned), rtol=1e-6, atol=1e-6)
    assert cls().compute_output_shape([(None,) + s[1:] for s in shapes]) == \
        (None,) + expected[1:]


def test_host_arrays_and_single_input(to_device):
    a, b = _arrays((2, 3), (2, 3))
    # NumPy arrays are converted one by one, never stacked into one tensor.
    np.testing.assert_allclose(layers.Add()([a, b]).numpy(), a + b, rtol=1e-6)
    # Keras allows a merge of one input: it passes through.
    np.testing.assert_allclose(layers.Add()([to_device(a)]).numpy(), a)
    out = layers.Average()([to_device(a.astype("float64"))])
    assert out.dtype == np.float32  # the layer's dtype


@pytest.mark.parametrize("axis, shapes", [
    (-1, [(2, 3, 4), (2, 3, 1), (2, 3, 2)]),
    (1, [(2, 1, 4), (2, 5, 4)]),
    (2, [(2, 3, 4), (2, 3, 4)]),
    (0, [(2, 3), (1, 3)]),
])
def test_concatenate_forward(axis, shapes, to_device):
    xs = _arrays(*shapes)
    out = layers.Concatenate(axis=axis)([to_device(x) for x in xs])
    np.testing.assert_array_equal(out.numpy(), np.concatenate(xs, axis=axis))
    assert layers.Concatenate(axis=axis).compute_output_shape(shapes) == out.shape
    np.testing.assert_array_equal(
        layers.concatenate([to_device(x) for x in xs], axis=axis).numpy(), out.numpy())


def _batch_dot(x, y, axes, normalize=False):
    """Keras's `Dot`, one sample at a time with `np.tensordot`."""
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    a1, a2 = a1 % x.ndim, a2 % y.ndim
    if normalize:
        x = x / np.sqrt(np.maximum((x * x).sum(axis=a1, keepdims=True), 1e-12))
        y = y / np.sqrt(np.maximum((y * y).sum(axis=a2, keepdims=True), 1e-12))
    out = np.stack([np.tensordot(x[i], y[i], axes=(a1 - 1, a2 - 1)) for i in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


DOT_CASES = [
    ((5, 4), (5, 4), 1, False),
    ((5, 4), (5, 4), -1, True),
    ((2, 3, 4), (2, 4, 5), (2, 1), False),
    ((2, 5, 3), (2, 4, 5), (1, 2), False),
    ((2, 3, 4), (2, 3, 6), 1, True),
    ((2, 3, 4), (2, 4), (-1, 1), False),
    ((2, 2, 3, 4), (2, 4, 3), (3, 1), True),
]


@pytest.mark.parametrize("s1, s2, axes, normalize", DOT_CASES)
def test_dot_forward(s1, s2, axes, normalize, to_device):
    x, y = _arrays(s1, s2)
    layer = layers.Dot(axes=axes, normalize=normalize)
    out = layer([to_device(x), to_device(y)])
    want = _batch_dot(x.astype("float64"), y.astype("float64"), axes, normalize)
    assert out.dtype == np.float32 and out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape([(None,) + s1[1:], (None,) + s2[1:]]) == \
        (None,) + want.shape[1:]


def test_dot_normalize_gives_cosine_similarity(to_device):
    x, y = _arrays((6, 5), (6, 5))
    out = layers.dot([to_device(x), to_device(y)], axes=1, normalize=True).numpy()
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(out[:, 0], cos, rtol=1e-5, atol=1e-6)
    # A zero vector gives 0, not NaN (the norm is floored).
    zero = layers.Dot(axes=1, normalize=True)([to_device(np.zeros((1, 3), "float32"))] * 2)
    assert zero.numpy().tolist() == [[0.0]]


@pytest.mark.parametrize("cls", list(FUNCTIONS))
def test_functions_apply_the_layer(cls, to_device):
    xs = [to_device(x) for x in _arrays(*[(3, 4)] * _count(cls))]
    np.testing.assert_array_equal(FUNCTIONS[cls](xs).numpy(), cls()(xs).numpy())
    named = FUNCTIONS[cls](xs, name=f"my_{cls.__name__.lower()}")
    assert named.shape == (3, 4)


# -- gradients --------------------------------------------------------------------


@pytest.mark.parametrize("case", ELEMENTWISE, ids=_ids)
@pytest.mark.parametrize("shapes", [[(3, 2, 2)] * 3, [(3, 2), (3, 1), (3, 4, 2)]])
def test_elementwise_gradients(case, shapes):
    cls, _, kind = case
    shapes = shapes[:_count(cls)]
    layer = cls(dtype="float64")
    check_gradients(lambda *ts: layer(list(ts)), _arrays(*shapes, dtype="float64"), kind=kind)


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate_gradients(axis):
    layer = layers.Concatenate(axis=axis, dtype="float64")
    check_gradients(lambda *ts: layer(list(ts)),
                    _arrays((2, 3, 2), (2, 3, 2), (2, 3, 2), dtype="float64"))


@pytest.mark.parametrize("s1, s2, axes, normalize", DOT_CASES)
def test_dot_gradients(s1, s2, axes, normalize):
    layer = layers.Dot(axes=axes, normalize=normalize, dtype="float64")
    check_gradients(lambda x, y: layer([x, y]), _arrays(s1, s2, dtype="float64"))


# -- shapes and Keras's messages ----------------------------------------------------


def test_output_shapes_with_unknown_sizes():
    assert layers.Add().compute_output_shape([(None, 3), (None, 1)]) == (None, 3)
    assert layers.Add().compute_output_shape([(None, None), (None, 3)]) == (None, None)
    assert layers.Multiply().compute_output_shape([(8, 3), (None, 3)]) == (8, 3)
    assert layers.Concatenate().compute_output_shape([(None, 3), (None, None)]) == (None, None)
    assert layers.Concatenate(axis=1).compute_output_shape(
        [(None, 2, 5), (None, 3, None)]) == (None, 5, 5)
    assert layers.Dot(axes=(2, 1)).compute_output_shape(
        [(None, 3, 4), (None, 4, 5)]) == (None, 3, 5)
    assert layers.Dot(axes=1).compute_output_shape([(None, 4), (None, None)]) == (None, 1)


@pytest.mark.parametrize("layer, shapes, message", [
    (layers.Add(), [(None, 3), (None, 4)], r"Inputs have incompatible shapes\. Received shapes "
                                           r"\(3,\) and \(4,\)"),
    (layers.Maximum(), [(2, 3), (5, 3)], "Cannot merge tensors with different batch sizes"),
    (layers.Add(), (None, 3), r"A merge layer should be called on a list of inputs\. "
                              r"Received: input_shape=\(None, 3\) \(not a list of shapes\)"),
    (layers.Average(), [], "should be called on at least 1 input"),
    (layers.Subtract(), [(None, 3)] * 3, r"A `Subtract` layer should be called on exactly 2 "
                                         r"inputs\. Received: input_shape="),
    (layers.Subtract(), [(None, 3)], "exactly 2 inputs"),
    (layers.Concatenate(), [(None, 2, 3), (None, 4, 3)],
     r"A `Concatenate` layer requires inputs with matching shapes except for the "
     r"concatenation axis\. Received: input_shape=\[\(None, 2, 3\), \(None, 4, 3\)\]"),
    (layers.Concatenate(), [(None, 3), (None, 2, 3)], "matching shapes except"),
    (layers.Concatenate(axis=3), [(None, 3), (None, 3)], "out of range"),
    (layers.Concatenate(), (None, 3), "should be called on a list of at least 1 input"),
    (layers.Dot(axes=1), [(None, 3), (None, 4)],
     r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4 \(at axis 1\)"),
    (layers.Dot(axes=1), [(None, 3)] * 3, "should be called on a list of 2 inputs"),
    (layers.Dot(axes=-1), [(None,), (None,)], "rank < 2"),
    (layers.Dot(axes=-2), [(None, 3), (None, 3)], "non-batch axis"),
    (layers.Dot(axes=1), [(2, 3), (4, 3)], "different batch sizes"),
])
def test_shape_errors_use_keras_messages(layer, shapes, message):
    with pytest.raises(ValueError, match=message):
        layer.compute_output_shape(shapes)
    with pytest.raises(ValueError, match=message):
        type(layer).from_config(layer.get_config()).build(shapes)


def test_errors_name_the_layer_and_eager_calls_check(to_device):
    a, b = to_device(np.ones((2, 3))), to_device(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"incompatible shapes.*'sum_of_two'"):
        layers.Add(name="sum_of_two")([a, b])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(a)
    joined = layers.Concatenate()
    joined([a, b])
    with pytest.raises(ValueError, match="matching shapes"):  # a later call with other shapes
        joined([a, to_device(np.ones((2, 2, 4)))])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"axes": "1"}, TypeError, "Invalid type for argument `axes`"),
    ({"axes": (1, 2, 3)}, ValueError, "it should contain two elements"),
    ({"axes": (1, 1.5)}, ValueError, "list elements should be integers"),
    ({"axes": 0}, ValueError, "axis 0, the batch axis"),
])
def test_dot_rejects_bad_axes_at_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        layers.Dot(**kwargs)


def test_concatenate_rejects_a_non_integer_axis():
    with pytest.raises(TypeError, match=r"Concatenate: `axis` must be an integer.*'x'"):
        layers.Concatenate(axis="x")


# -- configs --------------------------------------------------------------------------


CONFIG_CASES = [
    (layers.Add, {}, {}), (layers.Subtract, {}, {}), (layers.Multiply, {}, {}),
    (layers.Average, {}, {}), (layers.Maximum, {}, {}), (layers.Minimum, {}, {}),
    (layers.Concatenate, {}, {"axis": -1}), (layers.Concatenate, {"axis": 1}, {"axis": 1}),
    (layers.Dot, {"axes": 1}, {"axes": 1, "normalize": False}),
    (layers.Dot, {"axes": (1, 2), "normalize": True}, {"axes": [1, 2], "normalize": True}),
]


@pytest.mark.parametrize("cls, kwargs, expected", CONFIG_CASES,
                         ids=[c[0].__name__ for c in CONFIG_CASES])
def test_config_round_trip_through_json(cls, kwargs, expected):
    layer = cls(name="merge", **kwargs)
    config = layer.get_config()
    assert {k: config[k] for k in expected} == expected
    assert {"name", "trainable", "dtype"} <= set(config)
    through = json.loads(json.dumps(config))
    assert cls.from_config(through).get_config() == config
    rebuilt = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(rebuilt) is cls and rebuilt.get_config() == config


def test_keras_configs_deserialize_by_name():
    # As tf.keras 2 writes them in model configs.
    for entry in ({"class_name": "Concatenate", "config": {"name": "concatenate", "trainable": True,
                                                           "dtype": "float32", "axis": -1}},
                  {"class_name": "Dot", "config": {"name": "dot", "trainable": True,
                                                   "dtype": "float32", "axes": [2, 2],
                                                   "normalize": False}},
                  {"module": "keras.layers", "class_name": "Add",
                   "config": {"name": "add", "trainable": True,
                              "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}}},
                   "registered_name": None, "build_config": {"input_shape": [[None, 3]] * 2}}):
        layer = layers.deserialize(entry)
        assert type(layer).__name__ == entry["class_name"] and layer.dtype == "float32"


# -- training through a merge ----------------------------------------------------------


class TwoBranches(keras.Model):
    """Two Dense branches of one input, merged by Add and by Concatenate."""

    def __init__(self):
        super().__init__()
        self.left = layers.Dense(8, activation="tanh")
        self.right = layers.Dense(8, activation="relu")
        self.add = layers.Add()
        self.join = layers.Concatenate()
        self.out = layers.Dense(1)

    def call(self, x, training=None):
        a, b = self.left(x), self.right(x)
        return self.out(self.join([self.add([a, b]), layers.multiply([a, b])]))


def test_a_model_with_merges_trains(backend):
    if backend.name != "numpy":
        pytest.skip("one training check, on the numpy backend")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] + x[:, 2:3]).astype("float32")
    model = TwoBranches()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert len(model.trainable_weights) == 6


# -- Lambda ------------------------------------------------------------------------------


def _scale(x, factor=2.0):
    return x * factor


def _sum_pair(xs):
    return ops.add(xs[0], xs[1])


def test_lambda_forward_arguments_and_training(to_device):
    x = to_device(np.arange(6, dtype="float32").reshape(2, 3))
    np.testing.assert_array_equal(layers.Lambda(_scale)(x).numpy(), x.numpy() * 2)
    tripled = layers.Lambda(_scale, arguments={"factor": 3.0})
    np.testing.assert_array_equal(tripled(x).numpy(), x.numpy() * 3)
    seen = []
    layers.Lambda(lambda t, training=None: seen.append(training) or t)(x, training=True)
    assert seen == [True]
    a, b = _arrays((2, 3), (2, 3))
    np.testing.assert_allclose(layers.Lambda(_sum_pair)([a, b]).numpy(), a + b, rtol=1e-6)


def test_lambda_output_shapes():
    assert layers.Lambda(lambda t: t[:, :2]).compute_output_shape((None, 5)) == (None, 2)
    assert layers.Lambda(_scale, output_shape=(4,)).compute_output_shape((None, 3)) == (None, 4)
    assert layers.Lambda(_scale, output_shape=lambda s: s[:1] + (7,)).compute_output_shape(
        (None, 3)) == (None, 7)
    assert layers.Lambda(_sum_pair).compute_output_shape([(None, 3), (None, 3)]) == (None, 3)


def test_lambda_layer_harness():
    run_layer_test(layers.Lambda, {"function": ops.tanh}, input_shape=(3, 4),
                   expected_output_shape=(3, 4))


def test_lambda_gradients():
    layer = layers.Lambda(lambda t: ops.multiply(t, ops.exp(t)), dtype="float64")
    check_gradients(lambda t: layer(t), _arrays((3, 2), dtype="float64"))


def test_lambda_config_never_holds_code():
    config = json.loads(json.dumps(layers.Lambda(lambda t: t, name="anon").get_config()))
    assert config["function"] is None and config["function_type"] == "lambda"
    with pytest.raises(ValueError, match=r"'anon'.*Python lambda.*never"):
        layers.Lambda.from_config(config)
    named = layers.Lambda(_scale, output_shape=[3], arguments={"factor": 0.5}).get_config()
    assert (named["function"], named["function_type"]) == ("_scale", "function")
    named = json.loads(json.dumps(named))
    with pytest.raises(ValueError, match="Unknown Lambda function: '_scale'"):
        layers.Lambda.from_config(named)
    back = layers.Lambda.from_config(named, custom_objects={"_scale": _scale})
    assert back.function is _scale and back.get_config() == named
    # Keras 3's forms: a function record, and a serialized lambda.
    k3 = dict(named, function={"class_name": "function", "config": "_scale"})
    assert layers.Lambda.from_config(k3, custom_objects={"_scale": _scale}).function is _scale
    with pytest.raises(ValueError, match="Python lambda"):
        layers.Lambda.from_config(dict(named, function={"class_name": "__lambda__",
                                                        "config": {"value": "AAAA"}}))


def test_files_holding_a_lambda_stay_refused(tmp_path):
    model = keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Lambda(_scale),
                              layers.Dense(1)])
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="Lambda"):
        keras.models.load_model(tmp_path / "m.h5", custom_objects={"_scale": _scale})


def test_input_shape_of_a_layer_built_from_several_inputs(backend):
    """tf.keras 2: a list of shapes, batch sizes as None."""
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    add = keras.layers.Add()
    add([a, b])
    assert add.input_shape == [(None, 3), (None, 3)]
    assert add.output_shape == (None, 3)
