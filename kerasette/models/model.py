"""`Model`: a layer that groups layers (training arrives with compile/fit)."""

from __future__ import annotations

from kerasette.layers.base import Layer
from kerasette.models.summary import print_summary
from kerasette.training.trainer import Trainer


class Model(Trainer, Layer):
    """Base class of models. Subclass it and define `call` (its layers are
    tracked when assigned as attributes), or use `Sequential`.

    Example:
        >>> import kerasette as keras
        >>> class TwoLayers(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = keras.layers.Dense(4, activation="relu")
        ...         self.out = keras.layers.Dense(1)
        ...     def call(self, x, training=None):
        ...         return self.out(self.hidden(x))
        >>> m = TwoLayers()
        >>> m(keras.ops.ones((2, 3))).shape
        (2, 1)
        >>> m.count_params()
        21

    Copies and pickles: `copy.deepcopy(model)` and `pickle.dumps(model)`
    work (joblib, multiprocessing and Dask send models this way). The copy
    has the same layers, weights, compile state, optimizer state (slots
    and `iterations`) and history, and trains on exactly as the original
    would. kerasette pickles the objects themselves rather than a saved
    `.keras` file (Keras 3's way) so that subclassed models, custom layers
    and losses travel as they are, with no `get_config` needed; pickle
    finds their classes by import path, as for any Python object. Each
    tensor travels as a NumPy array and lands on the backend active where
    it is loaded; what belongs to one process (the backend module, scratch
    buffers, the optimizer's flat buffers) is left behind and made again on
    the next step. As with any pickle, load only pickles you trust: to share
    a model, save it to `.h5` or `.keras`, which load without running code.

        >>> import copy, pickle
        >>> copy.deepcopy(m).count_params()
        21
        >>> seq = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
        >>> seq.compile(optimizer="adam", loss="mse")
        >>> twin = pickle.loads(pickle.dumps(seq))
        >>> [w.shape for w in twin.get_weights()], twin.optimizer.name
        ([(3, 1), (1,)], 'Adam')

    The functional API: `keras.Model(inputs, outputs)` (or
    `keras.Model(inputs=..., outputs=...)`) makes a
    `kerasette.models.functional.Functional` model of the layer graph
    between symbolic `inputs` and `outputs`:

        >>> inputs = keras.Input(shape=(3,))
        >>> hidden = keras.layers.Dense(4, activation="relu")(inputs)
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        >>> type(model).__name__, model.count_params()
        ('Functional', 21)
    """

    # A model passes host arrays of strings on to its first layer, which
    # takes them (TextVectorization) or refuses them naming itself.
    _string_input = True

    def __new__(cls, *args, **kwargs):
        # `keras.Model(inputs, outputs)` is a functional model (Keras's
        # dispatch, keras/src/models/model.py); `Model()` and subclasses
        # stay what they are.
        if cls is Model and _functional_arguments(args, kwargs):
            from kerasette.models.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if _functional_arguments(args, kwargs):
            from kerasette.models.functional import Functional

            if not isinstance(self, Functional):
                raise NotImplementedError(
                    f"{type(self).__name__}: subclassing keras.Model and passing `inputs` and "
                    "`outputs` to its __init__ is not supported yet. Build the model with "
                    "keras.Model(inputs, outputs), or define `call` in the subclass."
                )
        Layer.__init__(self, *args, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model from its config: a functional graph's config (with
        `input_layers`) rebuilds a functional model, as in Keras; other
        configs go to the class's own constructor."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config:
            from kerasette.models.functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)

    @property
    def layers(self) -> list:
        return list(self._sublayers)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None,
             zipped=None):
        """Saves the model: config, weights and, when compiled and
        `include_optimizer`, the compiled state and optimizer state.

        `.h5`/`.hdf5` get tf.keras 2's format (tf.keras 2.21 and Keras 3
        both load it); `.keras` gets Keras 3's zip; a name without extension
        (`model.save("IrisModel")`) a folder in Keras 3's format unzipped,
        which Keras 3 loads too. `save_format` (tf.keras 2's) and `zipped`
        (Keras 3's) choose the format whatever the name
        (`kerasette.saving.save_model`). Writes go to a temporary name that
        is renamed over the target, so an interrupted save never leaves a
        broken model or destroys the previous one.

        What the user set on the target stays: its permission bits, its
        owner and group (where the process may set them), and a symbolic
        link (the file it points to is replaced). Hard links do not stay:
        other names of the old file keep the old model.

        Raises:
            kerasette.saving.atomic.SaveError: an `OSError` (same `errno`)
                when the disk is full, a quota is exceeded or a file-size
                limit is reached; it names the target, and the previous
                file is unchanged.
        """
        from kerasette.saving.api import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                   save_format=save_format, zipped=zipped)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights to HDF5: Keras 3's layout for `*.weights.h5`,
        tf.keras 2's legacy layout for other names (`*.h5`). The file is
        written to a temporary name and renamed, so a crash never leaves a
        half-written file behind; the old file's mode, owner and symbolic
        links stay, its hard links do not (as for `save`).

        Raises:
            kerasette.saving.atomic.SaveError: disk full, quota or file-size
                limit (an `OSError` naming the target, which is unchanged).
        """
        from kerasette.saving import weights_h5

        weights_h5.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Reads weights saved by kerasette, tf.keras 2 or Keras 3 (legacy
        `.h5` weights or full-model files, and `.weights.h5`). Counts and
        shapes are checked before anything is assigned.

        Raises:
            kerasette.saving.ModelFileError: naming the file and the problem.
        """
        from kerasette.saving import weights_h5

        weights_h5.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def _summary_rows(self):
        return [(layer.name, type(layer).__name__, "multiple" if layer.built else "?",
                 layer.count_params() if layer.built else 0) for layer in self.layers]

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Prints Keras's summary table: each layer's output shape and
        parameter count, then total, trainable and non-trainable counts.

        Args:
            line_length: total width of the table (default 65).
            positions: right edges of the columns (fractions or ints).
            print_fn: function receiving each line (default `print`).

        Raises:
            ValueError: if the model is not built yet.
        """
        if not self.built:
            raise ValueError(
                "This model has not yet been built. Build the model first by calling "
                "`build()` or by calling the model on a batch of data, or give the "
                "first layer an `input_shape`."
            )
        print_summary(self, self._summary_rows(), line_length, positions, print_fn)


def _functional_arguments(args, kwargs) -> bool:
    """Whether a `Model(...)` call passes a graph's inputs and outputs."""
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))
