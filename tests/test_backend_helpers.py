"""tf.keras 2's `keras.backend` helpers and the old module paths notebooks
import: `optimizers.legacy`, `utils.np_utils`, `layers.experimental.preprocessing`;
and `predict`/`evaluate` on batch sources that yield x alone."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import backend as K


def test_epsilon_floatx_and_image_data_format():
    assert K.epsilon() == 1e-7
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    with pytest.raises(ValueError, match="set_epsilon"):
        K.set_epsilon(-1.0)
    assert K.floatx() == "float32"
    assert K.image_data_format() == "channels_last"
    K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels last"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="Received: 'nhwc'"):
        K.set_image_data_format("nhwc")
    assert K.cast_to_floatx([1, 2]).dtype == np.float32


def test_get_and_set_value_of_variables_and_learning_rates():
    v = keras.Variable(np.zeros((2, 2), dtype="float32"))
    K.set_value(v, np.ones((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 2)))
    opt = keras.optimizers.Adam(learning_rate=0.1)
    K.set_value(opt.learning_rate, 0.01)
    assert float(K.get_value(opt.lr)) == pytest.approx(0.01)
    assert opt.get_config()["learning_rate"] == pytest.approx(0.01)
    assert isinstance(K.get_value(opt.lr), np.floating)  # a scalar, as tf.keras returns
    K.batch_set_value([(opt.lr, 0.5), (v, np.zeros((2, 2)))])
    assert [float(np.sum(a)) for a in K.batch_get_value([opt.lr, v])] == [0.5, 0.0]
    assert K.get_value(3.0) == 3.0
    with pytest.raises(TypeError, match="set_value expects a kerasette variable"):
        K.set_value(0.5, 1.0)
    with pytest.raises(TypeError, match="get_value expects"):
        K.get_value("lr")


def test_set_value_in_a_callback_changes_the_next_steps():
    x = np.ones((4, 1), dtype="float32")
    y = np.zeros((4, 1), dtype="float32")

    def run(callbacks):
        model = keras.Sequential([keras.Input(shape=(1,)),
                                  keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=callbacks)
        return float(model.get_weights()[0][0, 0]), model

    class Slower(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                K.set_value(self.model.optimizer.learning_rate, 0.0)
                self.seen = float(K.get_value(self.model.optimizer.lr))

    slower = Slower()
    plain, _ = run([])
    frozen, model = run([slower])
    assert slower.seen == 0.0
    assert frozen == pytest.approx(0.8)  # one SGD step of 0.1 * d(w^2)/dw = 0.2, then none
    assert plain == pytest.approx(0.8 * 0.8)


def test_int_shape_and_count_params(to_device):
    assert K.int_shape(keras.Input(shape=(3, 4))) == (None, 3, 4)
    assert K.int_shape(to_device(np.zeros((2, 5)))) == (2, 5)
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    assert [K.count_params(w) for w in layer.weights] == [12, 3]
    with pytest.raises(TypeError, match="int_shape"):
        K.int_shape(3)


def test_clear_session_resets_layer_names():
    keras.layers.Dense(1)
    K.clear_session()
    assert keras.layers.Dense(1).name == "dense"


def test_rng_state_round_trip_repeats_draws(backend):
    keras.utils.set_random_seed(4)
    state = K.get_rng_state()
    first = (K.host_rng().random(3), backend.to_numpy(backend.random_uniform((3,))))
    K.set_rng_state(state)
    again = (K.host_rng().random(3), backend.to_numpy(backend.random_uniform((3,))))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    import json  # the state travels in a backup file as JSON

    assert json.loads(json.dumps(state)) == state


def test_random_normal_moments(backend):
    keras.utils.set_random_seed(0)
    draws = backend.to_numpy(backend.random_normal((200_000,)))
    assert draws.dtype == np.float32 and np.isfinite(draws).all()
    assert abs(draws.mean()) < 0.01 and abs(draws.std() - 1) < 0.01


def test_legacy_optimizers_are_the_same_classes():
    from kerasette.optimizers import legacy

    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"):
        assert getattr(keras.optimizers.legacy, name) is getattr(keras.optimizers, name)
    assert legacy.Adam(lr=0.01).get_config()["learning_rate"] == 0.01
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.legacy.RMSprop(), loss="mse")
    assert model.optimizer.name == "RMSprop"


def test_np_utils_module_alias():
    from kerasette.utils.np_utils import to_categorical

    assert to_categorical is keras.utils.to_categorical
    assert keras.utils.np_utils.to_categorical([2], 3).tolist() == [[0.0, 0.0, 1.0]]


def test_experimental_preprocessing_resolves_lazily():
    from kerasette.layers.experimental import preprocessing

    assert preprocessing.Rescaling is keras.layers.Rescaling
    assert keras.layers.experimental.preprocessing.Normalization is keras.layers.Normalization
    assert "Rescaling" in dir(preprocessing)
    with pytest.raises(AttributeError, match="no attribute 'Dense'"):
        preprocessing.Dense  # noqa: B018 - not a preprocessing layer in tf.keras 2 either
    missing = [n for n in preprocessing.TF_KERAS_NAMES if not hasattr(keras.layers, n)]
    for name in missing[:1]:  # whatever is not there yet says so
        with pytest.raises(AttributeError, match="not implemented in kerasette yet"):
            getattr(preprocessing, name)


def test_experimental_preprocessing_sees_layers_added_later(monkeypatch):
    from kerasette.layers.experimental import preprocessing

    class RandomHeight(keras.layers.Layer):
        pass

    monkeypatch.setattr(keras.layers, "RandomHeight", RandomHeight, raising=False)
    assert preprocessing.RandomHeight is RandomHeight


# -- predict / evaluate on sources that yield x alone ---------------------------------------
def _model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


class _XOnly(keras.utils.Sequence):
    def __init__(self, x, batch):
        super().__init__()
        self.x, self.batch = x, batch

    def __len__(self):
        return -(-len(self.x) // self.batch)

    def __getitem__(self, i):
        return self.x[i * self.batch:(i + 1) * self.batch]


def test_predict_on_generators_and_sequences_of_x_alone():
    model = _model()
    x = np.random.default_rng(0).standard_normal((10, 3)).astype("float32")
    want = model.predict(x, verbose=0)
    got_gen = model.predict((x[i:i + 4] for i in range(0, 10, 4)), verbose=0)
    got_seq = model.predict(_XOnly(x, 4), verbose=0)
    # A list is read as a tuple, as tf.keras 2 does: [x] is x alone.
    got_list = model.predict(iter([[x[:5]], [x[5:]]]), verbose=0)
    for got in (got_gen, got_seq, got_list):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_fit_on_x_alone_says_what_is_missing():
    model = _model()
    x = np.ones((4, 3), dtype="float32")
    with pytest.raises(ValueError, match="no targets"):
        model.fit((x for _ in range(2)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        model.evaluate(_XOnly(x, 2), verbose=0)
    with pytest.raises(ValueError, match="length 4"):
        model.predict(iter([(x, x, x, x)]), verbose=0)
