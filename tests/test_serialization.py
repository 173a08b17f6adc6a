"""Config round trips for every built-in object of every family, and
user objects registered with `register_keras_serializable` (or passed in
`custom_objects`) through a saved `.h5` model."""

import json

import numpy as np
import pytest

import kerasette as keras
from kerasette import (
    activations,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from kerasette.optimizers import schedules

FAMILIES = {
    "layers": layers,
    "activations": activations,
    "initializers": initializers,
    "regularizers": regularizers,
    "constraints": constraints,
    "losses": losses,
    "metrics": metrics,
    "optimizers": optimizers,
    "schedules": schedules,
}

# Bases that are not objects of their own (abstract, or helpers with no config).
ABSTRACT = {
    layers.Layer, initializers.Initializer, regularizers.Regularizer, constraints.Constraint,
    losses.Loss,
    losses.Reduction, metrics.Metric, optimizers.Optimizer, schedules.LearningRateSchedule,
}
# Minimal arguments for classes that have required ones. A new class with
# required arguments must be added here (the test says so).
REQUIRED = {
    layers.Activation: {"activation": "relu"},
    layers.Conv2D: {"filters": 2, "kernel_size": 3},
    layers.Conv1D: {"filters": 2, "kernel_size": 3},
    layers.Conv3D: {"filters": 2, "kernel_size": 3},
    layers.Conv1DTranspose: {"filters": 2, "kernel_size": 3},
    layers.Conv2DTranspose: {"filters": 2, "kernel_size": 3},
    layers.DepthwiseConv2D: {"kernel_size": 3},
    layers.SeparableConv2D: {"filters": 2, "kernel_size": 3},
    layers.RepeatVector: {"n": 3},
    layers.TimeDistributed: {"layer": layers.Dense(2)},
    layers.Dense: {"units": 3},
    layers.SimpleRNN: {"units": 3},
    layers.LSTM: {"units": 3},
    layers.GRU: {"units": 3},
    layers.Bidirectional: {"layer": layers.LSTM(2)},
    layers.Dot: {"axes": 1},
    layers.Dropout: {"rate": 0.25},
    layers.GaussianNoise: {"stddev": 0.1},
    layers.GaussianDropout: {"rate": 0.25},
    layers.AlphaDropout: {"rate": 0.25},
    layers.SpatialDropout1D: {"rate": 0.25},
    layers.SpatialDropout2D: {"rate": 0.25},
    layers.SpatialDropout3D: {"rate": 0.25},
    layers.Permute: {"dims": (2, 1)},
    layers.Embedding: {"input_dim": 10, "output_dim": 3},
    layers.InputLayer: {"input_shape": (4,)},
    layers.Lambda: {"function": keras.ops.tanh},
    layers.Reshape: {"target_shape": (2, 3)},
    layers.Rescaling: {"scale": 0.5},
    layers.CategoryEncoding: {"num_tokens": 4},
    layers.Discretization: {"num_bins": 3},
    layers.Hashing: {"num_bins": 3},
    layers.Resizing: {"height": 4, "width": 3},
    layers.CenterCrop: {"height": 4, "width": 3},
    layers.RandomCrop: {"height": 4, "width": 3},
    layers.RandomRotation: {"factor": (-0.1, 0.2)},
    layers.RandomZoom: {"height_factor": 0.2},
    layers.RandomTranslation: {"height_factor": 0.1, "width_factor": (-0.2, 0.1)},
    layers.RandomContrast: {"factor": 0.3},
    layers.RandomBrightness: {"factor": 0.2},
    losses.LossFunctionWrapper: {"fn": losses.mean_squared_error},
    metrics.MeanMetricWrapper: {"fn": metrics.mean_absolute_error},
    metrics.SensitivityAtSpecificity: {"specificity": 0.5},
    metrics.SpecificityAtSensitivity: {"sensitivity": 0.5},
    metrics.PrecisionAtRecall: {"recall": 0.5},
    metrics.RecallAtPrecision: {"precision": 0.5},
    metrics.IoU: {"num_classes": 3, "target_class_ids": [0, 2]},
    metrics.MeanIoU: {"num_classes": 3},
    metrics.OneHotIoU: {"num_classes": 3, "target_class_ids": [1]},
    metrics.OneHotMeanIoU: {"num_classes": 3},
    metrics.MeanRelativeError: {"normalizer": [1.0, 2.0]},
    schedules.ExponentialDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                 "decay_rate": 0.5},
    schedules.InverseTimeDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                 "decay_rate": 0.5},
    schedules.PiecewiseConstantDecay: {"boundaries": [10, 20], "values": [0.1, 0.01, 0.001]},
    schedules.PolynomialDecay: {"initial_learning_rate": 0.1, "decay_steps": 10},
    schedules.CosineDecay: {"initial_learning_rate": 0.1, "decay_steps": 10},
}
# Functions that are not objects of the family (factories, helpers).
NOT_OBJECTS = {"get", "serialize", "deserialize", "Input", "get_accuracy_metric",
               "get_metric_object", "l1_l2",
               # layers' functional forms of the merge layers (`add([a, b])`)
               "add", "subtract", "multiply", "average", "maximum", "minimum",
               "concatenate", "dot"}


def _public(module):
    """(classes, functions) named in the module's `__all__`, each once."""
    classes, functions = [], []
    for name in module.__all__:
        obj = getattr(module, name)
        if name in NOT_OBJECTS or not callable(obj):
            continue
        if isinstance(obj, type):
            if obj not in ABSTRACT and obj not in classes:
                classes.append(obj)
        elif obj not in functions:
            functions.append(obj)
    return classes, functions


def _table_objects(module):
    table = getattr(module, "_TABLE", None) or getattr(module, "_CLASS_TABLE", None)
    return set(table._by_name.values()) if table is not None else set()


CLASS_CASES = [(family, cls) for family, module in FAMILIES.items()
               for cls in _public(module)[0]]
FUNCTION_CASES = [(family, fn) for family, module in FAMILIES.items()
                  for fn in _public(module)[1]]


def _ids(case):
    family, obj = case
    return f"{family}.{obj.__name__}"


def test_enumeration_covers_every_name_table_entry():
    for family, module in FAMILIES.items():
        classes, functions = _public(module)
        missing = {o for o in _table_objects(module) if o not in classes and o not in functions}
        assert not missing, f"{family}: registered but not public: {missing}"
    assert len(CLASS_CASES) > 60 and len(FUNCTION_CASES) > 40


def _make(cls):
    try:
        return cls(**REQUIRED.get(cls, {}))
    except TypeError as err:
        pytest.fail(f"{cls.__name__} needs arguments; add them to REQUIRED ({err})")


def _through_json(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("case", CLASS_CASES, ids=map(_ids, CLASS_CASES))
def test_class_config_round_trip(case):
    family, cls = case
    module = FAMILIES[family]
    obj = _make(cls)
    config = obj.get_config()
    assert _through_json(config) == config, "get_config() is not plain JSON"

    again = cls.from_config(_through_json(config))
    assert type(again) is cls
    assert again.get_config() == config

    serialized = _through_json(module.serialize(obj))
    rebuilt = module.deserialize(serialized)
    assert type(rebuilt) is cls
    assert rebuilt.get_config() == config


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=map(_ids, FUNCTION_CASES))
def test_function_round_trip(case):
    family, fn = case
    module = FAMILIES[family]
    name = module.serialize(fn)
    assert isinstance(name, str)
    back = module.deserialize(_through_json(name))
    # Aliases (`mse`) come back as the function they name.
    assert back is fn or back is getattr(module, name)
    assert getattr(back, "__name__", None) == getattr(fn, "__name__", None)
    # The nested form Keras 2.13+ and Keras 3 write for functions.
    assert module.deserialize({"class_name": "function", "config": name}) is back


def test_l1_l2_factory_round_trips():
    reg = regularizers.l1_l2(l1=0.1, l2=0.2)
    back = regularizers.deserialize(_through_json(regularizers.serialize(reg)))
    assert type(back) is regularizers.L1L2 and back.get_config() == reg.get_config()


def test_non_default_arguments_survive():
    cases = [
        (layers, layers.Dense(4, activation="tanh", use_bias=False,
                              kernel_initializer=initializers.HeNormal(seed=3),
                              kernel_regularizer=regularizers.L1L2(0.1, 0.2),
                              bias_regularizer=regularizers.l2(0.3),
                              activity_regularizer=regularizers.l1(0.4))),
        (layers, layers.BatchNormalization(momentum=0.9, epsilon=1e-2, center=False,
                                           scale=False)),
        (optimizers, optimizers.Adam(0.02, amsgrad=True, clipnorm=1.0)),
        (optimizers, optimizers.SGD(schedules.ExponentialDecay(0.1, 5, 0.9), momentum=0.5,
                                    nesterov=True)),
        (losses, losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)),
        (metrics, metrics.AUC(num_thresholds=50, curve="PR", name="pr")),
        (metrics, metrics.Precision(thresholds=[0.3, 0.6], top_k=2, class_id=1)),
    ]
    for module, obj in cases:
        back = module.deserialize(_through_json(module.serialize(obj)))
        assert type(back) is type(obj) and back.get_config() == obj.get_config()


# -- user objects --------------------------------------------------------------------


def _custom_layer_class(base_name):
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    Scale.__name__ = Scale.__qualname__ = base_name
    return Scale


def _custom_loss(name):
    def loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1) * 0.5

    loss.__name__ = loss.__qualname__ = name
    return loss


def _custom_metric_class(name):
    class Peak(keras.metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            return super().update_state(keras.ops.max(y_pred, axis=-1))

    Peak.__name__ = Peak.__qualname__ = name
    return Peak


def _custom_metric_fn(name):
    def metric(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_pred - y_true), axis=-1) * 2.0

    metric.__name__ = metric.__qualname__ = name
    return metric


def _model(layer_cls, loss, metric_cls, metric_fn):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.layers.Dense(4, activation="relu", input_shape=(3,)),
        layer_cls(factor=0.5),
        keras.layers.Dense(2),
    ])
    model.compile(keras.optimizers.Adam(0.01), loss=loss,
                  metrics=[metric_cls(name="peak"), "mae", metric_fn])
    x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
    y = np.stack([x[:, 0], x[:, 1] * x[:, 2]], axis=1)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model, x, y


def _same_model(model, loaded, x, y):
    assert loaded.get_config() == model.get_config()
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.metrics_names == ["loss", "peak", "mae", model.metrics_names[-1]]
    assert loaded.get_layer(model.layers[1].name).factor == 0.5
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)


def test_registered_objects_load_without_custom_objects(tmp_path):
    assert keras.utils.register_keras_serializable is keras.saving.register_serializable
    assert keras.saving.register_keras_serializable is keras.saving.register_serializable
    register = keras.utils.register_keras_serializable(package="kt_serial")
    layer_cls = register(_custom_layer_class("RegScale"))
    loss = register(_custom_loss("reg_half_mse"))
    metric_cls = register(_custom_metric_class("RegPeak"))
    metric_fn = register(_custom_metric_fn("reg_twice_mae"))
    assert keras.losses.deserialize(keras.losses.serialize(loss)) is loss
    back = keras.layers.deserialize(_through_json(keras.layers.serialize(layer_cls(factor=3.0))))
    assert type(back) is layer_cls and back.factor == 3.0

    model, x, y = _model(layer_cls, loss, metric_cls, metric_fn)
    model.save(tmp_path / "registered.h5")
    loaded = keras.models.load_model(tmp_path / "registered.h5")
    _same_model(model, loaded, x, y)
    assert isinstance(loaded.layers[1], layer_cls)
    loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)


def test_unregistered_objects_load_with_custom_objects(tmp_path):
    layer_cls = _custom_layer_class("LooseScale")
    loss = _custom_loss("loose_half_mse")
    metric_cls = _custom_metric_class("LoosePeak")
    metric_fn = _custom_metric_fn("loose_twice_mae")
    model, x, y = _model(layer_cls, loss, metric_cls, metric_fn)
    path = tmp_path / "loose.h5"
    model.save(path)

    custom = {"LooseScale": layer_cls, "loose_half_mse": loss, "LoosePeak": metric_cls,
              "loose_twice_mae": metric_fn}
    loaded = keras.models.load_model(path, custom_objects=custom)
    _same_model(model, loaded, x, y)
    loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    # Without compiling, only the layer is needed.
    plain = keras.models.load_model(path, custom_objects={"LooseScale": layer_cls}, compile=False)
    assert plain.optimizer is None

    with pytest.raises(keras.saving.ModelFileError) as info:
        keras.models.load_model(path)
    message = str(info.value)
    assert "loose.h5" in message and "LooseScale" in message and "custom_objects" in message

    with pytest.raises(keras.saving.ModelFileError) as info:
        keras.models.load_model(path, custom_objects={"LooseScale": layer_cls})
    message = str(info.value)
    assert "loose.h5" in message and "custom_objects" in message
    assert "loose_half_mse" in message or "LoosePeak" in message

    # A metric function is needed at load time too, not first in fit().
    without_fn = {k: v for k, v in custom.items() if k != "loose_twice_mae"}
    with pytest.raises(keras.saving.ModelFileError, match="loose_twice_mae"):
        keras.models.load_model(path, custom_objects=without_fn)


def test_subclass_of_a_registered_class_keeps_its_own_name():
    register = keras.utils.register_keras_serializable(package="kt_serial")
    parent = register(_custom_metric_class("ParentPeak"))

    class ChildPeak(parent):
        pass

    config = keras.metrics.serialize(ChildPeak(name="child"))
    assert config["class_name"] == "ChildPeak"
    assert config["registered_name"] != "kt_serial>ParentPeak"
    back = keras.metrics.deserialize(config, custom_objects={"ChildPeak": ChildPeak})
    assert type(back) is ChildPeak
