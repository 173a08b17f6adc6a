"""The preprocessing layers Rescaling, Normalization, Discretization,
CategoryEncoding and Hashing: outputs against NumPy formulas and the
examples tf.keras documents, `adapt` from every kind of data against
float64 NumPy statistics, gradients to the input, configs, and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import backend as K
from kerasette import layers, ops
from kerasette.layers.preprocessing.hash_functions import fingerprint64, siphash64

RNG = np.random.default_rng(11)
# Features on very different scales, as in the course's regression data.
DATA = (RNG.standard_normal((103, 4)) * [1.0, 10.0, 0.1, 4.0] + [0.0, 50.0, -3.0, 5.0])


def _json_round_trip(layer):
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    return clone


def _on_device(tensor):
    return K.get_backend().is_array(tensor.data)


# -- Rescaling ----------------------------------------------------------------------------
def test_rescaling_matches_formula_for_integer_pixels(backend):
    x = RNG.integers(0, 256, size=(3, 4, 4, 3)).astype("uint8")
    out = layers.Rescaling(1.0 / 127.5, offset=-1.0)(x)
    assert out.dtype == np.float32 and _on_device(out)
    np.testing.assert_allclose(out.numpy(), x.astype("float32") / 127.5 - 1.0, atol=1e-6)


def test_rescaling_per_channel_scale(backend):
    x = RNG.standard_normal((2, 5, 3)).astype("float32")
    layer = layers.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, -1.0])
    np.testing.assert_allclose(layer(x).numpy(), x * [1, 2, 3] + [0, 1, -1], rtol=1e-6)
    assert _json_round_trip(layer).scale == [1.0, 2.0, 3.0]


def test_rescaling_layer_harness(backend):
    run_layer_test(layers.Rescaling, {"scale": 0.5, "offset": -1.0}, (3, 4), (3, 4))


def test_rescaling_rejects_a_non_number():
    with pytest.raises(ValueError, match="scale"):
        layers.Rescaling("big")


# -- Normalization: given mean and variance -------------------------------------------------
def test_normalization_with_given_values_layer_harness(backend):
    run_layer_test(layers.Normalization, {"mean": [1.0, -2.0, 0.5], "variance": [4.0, 0.25, 1.0]},
                   (5, 3), (5, 3))


def test_normalization_given_scalar_values_match_keras_example(backend):
    layer = layers.Normalization(mean=3.0, variance=2.0)
    out = layer(np.array([[1.0], [2.0], [3.0]], dtype="float32"))
    np.testing.assert_allclose(out.numpy().ravel(), [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    assert layers.Normalization.from_config(layer.get_config()).get_config() == layer.get_config()


# -- Normalization: adapt -----------------------------------------------------------------------
class _Batches(keras.utils.Sequence):
    def __init__(self, x, size):
        self.x, self.size = x, size

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        return self.x[i * self.size:(i + 1) * self.size]


class _SequenceLike:  # no base class: just __len__ and __getitem__, returning (x, y)
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return 4

    def __getitem__(self, i):
        part = self.x[i * 26:(i + 1) * 26]
        return part, np.zeros(len(part))


def _sources():
    return {
        "array": lambda: (DATA, {}),
        "array_batch_7": lambda: (DATA, {"batch_size": 7}),
        "list": lambda: (DATA.tolist(), {}),
        "tensor": lambda: (ops.convert_to_tensor(DATA.astype("float32")), {}),
        "generator": lambda: ((DATA[i:i + 10] for i in range(0, len(DATA), 10)), {}),
        "sequence": lambda: (_Batches(DATA, 16), {}),
        "sequence_like_xy": lambda: (_SequenceLike(DATA), {}),
    }


@pytest.mark.parametrize("source", sorted(_sources()))
def test_adapt_gives_numpy_mean_and_variance(backend, source):
    data, kwargs = _sources()[source]()
    layer = layers.Normalization()
    layer.adapt(data, **kwargs)
    reference = DATA.astype("float32").astype("float64") if source == "tensor" else DATA
    mean, var = reference.mean(axis=0), reference.var(axis=0)
    assert layer.adapt_mean.dtype == np.float32 and layer.count.dtype == np.int64
    assert all(_on_device(w) for w in layer.weights)  # the state lives on the device
    np.testing.assert_allclose(layer.adapt_mean.numpy(), mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), var, rtol=1e-6)
    assert int(layer.count.numpy()) == len(DATA) and layer.is_adapted
    out = layer(DATA.astype("float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), (DATA - mean) / np.sqrt(var), rtol=1e-4, atol=1e-5)


def test_adapt_steps_reads_only_that_many_batches(backend):
    layer = layers.Normalization()
    layer.adapt(DATA, batch_size=10, steps=3)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), DATA[:30].mean(axis=0), rtol=1e-5)
    assert int(layer.count.numpy()) == 30


def test_adapt_again_starts_over(backend):
    layer = layers.Normalization()
    layer.adapt(DATA)
    layer.adapt(DATA[:10] * 2.0)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), (DATA[:10] * 2).mean(axis=0),
                               rtol=1e-5)
    assert int(layer.count.numpy()) == 10


def test_axis_none_and_several_axes(backend):
    x = RNG.standard_normal((6, 3, 2)) * 3 + 1
    scalar = layers.Normalization(axis=None)
    scalar.adapt(x)
    assert scalar.adapt_mean.shape == ()
    np.testing.assert_allclose(scalar(x.astype("float32")).numpy(),
                               (x - x.mean()) / x.std(), rtol=1e-4, atol=1e-5)
    both = layers.Normalization(axis=(1, 2))
    both.adapt(x)
    assert both.adapt_mean.shape == (3, 2) and both.mean.shape == (1, 3, 2)
    np.testing.assert_allclose(both(x.astype("float32")).numpy(),
                               (x - x.mean(axis=0)) / x.std(axis=0), rtol=1e-4, atol=1e-5)


def test_keras_docstring_examples(backend):
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float32"))
    np.testing.assert_allclose(layer(np.array([1.0, 2.0, 3.0], dtype="float32")).numpy(),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    adapt_data = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], "float32")
    inverse = layers.Normalization(axis=-1, invert=True)
    inverse.adapt(adapt_data)
    np.testing.assert_allclose(inverse(np.array([[1., 2., 3.]], "float32")).numpy(),
                               [[2., 10., 8.]], rtol=1e-6)


def test_variance_is_floored_as_tf_keras(backend):
    layer = layers.Normalization()
    layer.adapt(np.array([[1.0, 5.0], [1.0, 7.0]]))  # the first feature is constant
    out = layer(np.array([[1.0, 6.0], [1.5, 6.0]], "float32")).numpy()
    np.testing.assert_allclose(out, [[0.0, 0.0], [0.5 / 1e-7, 0.0]], rtol=1e-6)


def test_gradient_flows_to_the_input_in_float64(backend):
    for invert in (False, True):
        layer = layers.Normalization(invert=invert, dtype="float64")
        layer.adapt(DATA)
        check_gradients(lambda x: layer(x), [DATA[:5]])


def test_adapted_layer_config_round_trip_and_sequential_input(backend):
    layer = layers.Normalization()
    layer.adapt(DATA)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["axis"] == [-1] and config["mean"] is None and config["variance"] is None
    # As tf.keras 2, adapt records an input shape (the feature size kept here).
    assert config["batch_input_shape"] == [None, 4]
    model = keras.Sequential([layer, layers.Dense(2)])
    assert model.output_shape == (None, 2)
    assert layer.compute_output_shape((None, None)) == (None, 4)
    clone = layers.Normalization.from_config(config)
    clone.build((None, 4))
    clone.set_weights(layer.get_weights())
    x = DATA[:3].astype("float32")
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_normalization_errors(backend):
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="no mean and variance yet: call `adapt"):
        layers.Normalization()(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="cannot `adapt` a layer initialized with static"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(DATA)
    with pytest.raises(ValueError, match="1-D data"):
        layers.Normalization().adapt(DATA[:, 0])
    with pytest.raises(ValueError, match="positive integer"):
        layers.Normalization().adapt(DATA, batch_size=0)
    with pytest.raises(ValueError, match="do not pass `batch_size`"):
        layers.Normalization().adapt(_Batches(DATA, 8), batch_size=8)
    layer = layers.Normalization()
    layer.adapt(DATA)
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"expects data of rank 2.*shape \(3, 4, 1\)"):
        layer.adapt(DATA[:3, :, None])
    with pytest.raises(ValueError, match=r"size 4 on axis 1.*\(32, 5\)"):
        layer.adapt(np.concatenate([DATA, DATA[:, :1]], axis=1))
    bad_late = (b for b in (DATA[:5], DATA[:5, :2]))  # refused on the second batch
    with pytest.raises(ValueError, match="normalization"):
        layer.adapt(bad_late)
    for a, b in zip(before, layer.get_weights()):  # a refused adapt keeps the old state
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="axis"):
        layers.Normalization(axis=3).adapt(DATA)


# -- Discretization -------------------------------------------------------------------------
X_DOC = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])


def test_discretization_given_boundaries_as_keras_example(backend):
    layer = layers.Discretization(bin_boundaries=[0., 1., 2.])
    out = layer(X_DOC)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    np.testing.assert_array_equal(out.numpy(), np.digitize(X_DOC, [0., 1., 2.]))


def test_boundaries_compare_as_float32_as_tf_bucketize(backend):
    # float32(0.7) < 0.7: tf.keras holds the boundary as float32(0.7) too,
    # so a float32 input of 0.7 falls in the upper bin.
    layer = layers.Discretization(bin_boundaries=[0.7])
    np.testing.assert_array_equal(layer(np.array([[0.7, 0.69]], "float32")).numpy(), [[1, 0]])


def test_discretization_adapt_as_keras_example(backend):
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(X_DOC)
    np.testing.assert_array_equal(layer(X_DOC).numpy(), [[0, 2, 3, 2], [1, 3, 3, 1]])


@pytest.mark.parametrize("num_bins", [2, 3, 5])
def test_adapt_on_small_data_is_the_interpolated_quantile(backend, num_bins):
    # Fewer than 1/epsilon values per batch: tf.keras's summary keeps them
    # all, and each boundary is the value at cumulative count (i+1)/num_bins.
    values = np.sort(RNG.standard_normal(30)).astype("float32")
    layer = layers.Discretization(num_bins=num_bins)
    layer.adapt(values[RNG.permutation(30)].reshape(-1, 1))
    percents = (np.arange(num_bins) + 1) / num_bins
    expected = np.interp(percents, (np.arange(30) + 1) / 30, values)[:-1]
    # float32 cumulative fractions, as tf.keras computes them
    np.testing.assert_allclose(layer.bin_boundaries, expected, rtol=0, atol=1e-6)


def test_adapt_on_many_batches_approximates_quantiles(backend):
    values = RNG.standard_normal((2000, 1))
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(values)  # 63 batches of 32 merged into one summary, as tf.keras
    # tf.keras's summary re-samples itself at every merge and drifts upwards:
    # up to about 5% in rank after 63 merges (kerasette reproduces it).
    ranks = [np.mean(values < b) for b in layer.bin_boundaries]
    np.testing.assert_allclose(ranks, [0.25, 0.5, 0.75], atol=0.06)
    counts = np.bincount(layer(values).numpy().ravel(), minlength=4) / len(values)
    np.testing.assert_allclose(counts, 0.25, atol=0.06)
    once = layers.Discretization(num_bins=4, epsilon=0.01)
    once.adapt(values, batch_size=len(values))  # one batch: within epsilon in rank
    np.testing.assert_allclose([np.mean(values < b) for b in once.bin_boundaries],
                               [0.25, 0.5, 0.75], atol=0.01)


def test_adapt_merges_batches_step_by_step_as_tf_keras(backend):
    # Worked by hand from tf.keras's summarize/merge_summaries/compress:
    # batch [1..4] keeps [2, 3, 4]; batch [5..8] keeps [6, 7, 8]; merged and
    # compressed to 4 points at 25% steps: [2.5, 4, 6.5, 8], each weighing
    # 1.5; the 2-bin boundary is the value at 50%: 4.0 (the median is 4.5).
    layer = layers.Discretization(num_bins=2, epsilon=0.25)
    layer.adapt(np.arange(1.0, 9.0).reshape(-1, 1), batch_size=4)
    np.testing.assert_array_equal(layer._summary, [[2.5, 4.0, 6.5, 8.0], [1.5] * 4])
    assert layer.bin_boundaries == [4.0]


def test_discretization_encodings_and_config(backend):
    layer = layers.Discretization(num_bins=3, output_mode="one_hot")
    layer.adapt(np.arange(12.0).reshape(-1, 1))
    x = np.array([[0.5], [5.0], [11.0]])
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == layer.compute_output_shape((3, 1))
    np.testing.assert_array_equal(out.numpy(), np.eye(3)[np.digitize(x[:, 0],
                                                                      layer.bin_boundaries)])
    clone = _json_round_trip(layer)  # the learned boundaries are in the config
    assert clone.get_config()["num_bins"] is None
    np.testing.assert_array_equal(clone(x).numpy(), out.numpy())
    keras3 = dict(layer.get_config(), num_bins=3)  # Keras 3 writes both after adapt
    np.testing.assert_array_equal(layers.Discretization.from_config(keras3)(x).numpy(),
                                  out.numpy())


def test_discretization_errors(backend):
    with pytest.raises(ValueError, match="either `num_bins`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="should not be set"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="output_mode"):
        layers.Discretization(num_bins=2, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sorted"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="no bin boundaries yet"):
        layers.Discretization(num_bins=3)(X_DOC)
    with pytest.raises(ValueError, match="use `num_bins` instead"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(X_DOC)


# -- CategoryEncoding ----------------------------------------------------------------------
IDS = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])


def test_category_encoding_modes_match_numpy(backend):
    eye = np.eye(4, dtype="float32")
    one_hot = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot([3, 2, 0, 1]).numpy(), eye[[3, 2, 0, 1]])
    np.testing.assert_array_equal(one_hot(np.array([[3], [1]])).numpy(), eye[[3, 1]])
    np.testing.assert_array_equal(one_hot(IDS).numpy(), eye[IDS])  # rank 3 (Keras 3 too)
    multi = layers.CategoryEncoding(num_tokens=4)  # "multi_hot" by default
    out = multi(IDS)
    assert out.dtype == np.float32 and out.shape == multi.compute_output_shape(IDS.shape)
    np.testing.assert_array_equal(out.numpy(), np.minimum(eye[IDS].sum(axis=1), 1))
    count = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    np.testing.assert_array_equal(count(IDS).numpy(), eye[IDS].sum(axis=1))
    w = np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])
    np.testing.assert_allclose(count(IDS, count_weights=w).numpy(),
                               (eye[IDS] * w[..., None]).sum(axis=1), rtol=1e-6)
    assert multi([0, 2, 2]).shape == (4,)  # a 1-D input is one sample, as tf.keras
    assert _json_round_trip(count).get_config()["output_mode"] == "count"


@pytest.mark.parametrize("bad", [4, -1])
def test_category_encoding_out_of_range_names_layer_and_value(backend, bad):
    layer = layers.CategoryEncoding(num_tokens=4, name="colors")
    with pytest.raises(ValueError, match=rf"'colors' \(CategoryEncoding\) received value {bad}, "
                                         r"outside the range 0 <= value < 4"):
        layer(np.array([[0, bad]]))


def test_category_encoding_argument_errors(backend):
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(num_tokens=3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(num_tokens=4)(IDS, count_weights=np.ones((4, 2)))
    with pytest.raises(ValueError, match="integer inputs"):
        layers.CategoryEncoding(num_tokens=4)(np.array([[0.5]]))


# -- Hashing ------------------------------------------------------------------------------------
# FarmHash Fingerprint64 (Guava's and Airship's published vectors, every length class).
FARMHASH = {"": 11160318154034397263, "Q": 13816109650407654260, ",=": 1326014594494455617,
            "e#p8": 252499459662674074, "#cDR^sLO": 328147020574120176,
            "test": 8581389452482819506, "test" * 8: 14250503356343785354,
            "dXB@tDQ-v5<H]rq2Pcc*s>nC-[Mdy": 8365906589669344754,
            "F7479877-4690-4A44-AFC9-8FE987EA512F:some_other_id": 6862335115798125349,
            "0376d8dc-a717-425a-9dd2-d4b36bcaddac:65d52a5d-4f88-4a78-97c9-08464d44bbb6":
                14340110469024474010,
            "test" * 64: 3500507768004279527}


def test_fingerprint64_matches_published_vectors():
    for text, expected in FARMHASH.items():
        assert fingerprint64(text.encode()) == expected, text


def test_siphash_matches_the_papers_vectors():
    key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    assert siphash64(key, b"") == 0x726FDB47DD0E0E31
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_hashing_matches_tensorflow_documented_outputs(backend):
    letters = [["A"], ["B"], ["C"], ["D"], ["E"]]
    cases = [({}, letters, [1, 0, 1, 1, 2]),
             ({"mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [1, 1, 0, 2, 2]),
             ({"salt": [133, 137]}, letters, [1, 2, 1, 0, 2]),
             ({"salt": 133}, letters, [0, 0, 2, 1, 0])]
    for kwargs, x, expected in cases:
        out = layers.Hashing(num_bins=3, **kwargs)(x)
        assert out.dtype == np.int64 and out.shape == (5, 1) and _on_device(out)
        np.testing.assert_array_equal(out.numpy().ravel(), expected)
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) == [0, 2, 2]
    np.testing.assert_array_equal(layers.Hashing(3)(["Hello", "TensorFlow", "2.x"]).numpy(),
                                  [0, 2, 2])


def test_hashing_integers_as_their_text_and_encodings(backend):
    ints = np.array([[7, 12], [12, 300]])
    by_int = layers.Hashing(num_bins=5)(ints).numpy()
    np.testing.assert_array_equal(by_int, layers.Hashing(num_bins=5)(ints.astype(str)).numpy())
    np.testing.assert_array_equal(by_int, [[fingerprint64(str(v).encode()) % 5 for v in row]
                                           for row in ints])
    multi = layers.Hashing(num_bins=5, output_mode="multi_hot")
    out = multi(ints)
    assert out.dtype == np.float32 and out.shape == multi.compute_output_shape((2, 2))
    np.testing.assert_array_equal(out.numpy(), np.minimum(np.eye(5)[by_int].sum(axis=1), 1))
    clone = _json_round_trip(layers.Hashing(num_bins=4, salt=9, mask_value="-"))
    assert clone.salt == [9, 9] and clone.mask_value == "-"


def test_hashing_errors():
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(num_bins=3, salt=[1, 2, 3])
    with pytest.raises(ValueError, match="strings or integers"):
        layers.Hashing(num_bins=3)(np.array([0.5]))


def test_fingerprint64_guava_multiple_lengths():
    # Guava's FarmHashFingerprint64Test.testMultipleLengths: 3,200 inputs of
    # every length up to 3,200 bytes, folded into one number.
    def remix(h):
        h ^= h >> 41
        return (h * 949921979) & ((1 << 64) - 1)

    buf = bytearray(800 * 4)
    n, h = 0, 0
    for i in range(800):
        for step in range(4):
            length = (i, i * i % n if n else 0, i * i * i % n if n else 0, n)[step]
            h = remix(h ^ fingerprint64(bytes(buf[:length])))
            buf[n] = 0x61 + (h & 0xFFFFF) % 26
            n += 1
        x0, x1, x2, x3 = buf[n - 1], buf[n - 2], buf[n - 3], buf[n // 2]
        buf[((x0 << 16) + (x1 << 8) + x2) % n] ^= x3
        buf[((x1 << 16) + (x2 << 8) + x3) % n] ^= i % 256
    assert h == 0x7A1D67C50EC7E167


def test_older_experimental_path_names_the_same_classes():
    from kerasette.layers.experimental import preprocessing

    assert preprocessing.Normalization is layers.Normalization
    assert keras.layers.experimental.preprocessing.Hashing is layers.Hashing
    assert layers.deserialize({"class_name": "Discretization",
                               "config": {"bin_boundaries": [0.0]}}).bin_boundaries == [0.0]
