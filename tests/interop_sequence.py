"""The fixtures' sequence and preprocessing models, written once for every Keras.

`build(keras, name)` takes the Keras module to build with (kerasette,
tf_keras or Keras 3) and writes the architectures of
`shared/fixtures/keras2/README.md` (recurrent, Embedding, Masking, Conv1D,
Rescaling, Normalization), plus TimeDistributed(Dense) over an LSTM and an
IMDB-shaped Embedding -> LSTM -> Dense, in the public API that all three
share. No kerasette import here: `interop_functional_loader.py` imports this
module next to real Keras only. The arrays travel in `interop_functional`'s
`.npz` layout (`save_arrays` / `load_arrays`).
"""

from __future__ import annotations

import numpy as np
from interop_functional import load_arrays, save_arrays, unpack

__all__ = ["MODELS", "build", "compile_kwargs", "data", "load_arrays", "save_arrays", "unpack"]

MODELS = ("simple_rnn", "lstm", "gru", "gru_noreset", "lstm_seq", "gru_state", "bilstm",
          "masking", "embed_pool", "embed_pool_mask", "conv1d", "preproc_rescaling",
          "preproc_norm", "time_distributed", "imdb_lstm")

_SHAPES = {"embed_pool": (10,), "embed_pool_mask": (10,), "imdb_lstm": (20,),
           "conv1d": (20, 3), "preproc_rescaling": (8, 8), "preproc_norm": (4,)}
_VOCAB = {"embed_pool": 50, "embed_pool_mask": 50, "imdb_lstm": 100}


def build(keras, name, adapt_data=None):
    """The model `name`, built with the module `keras`. `preproc_norm`'s
    Normalization is `adapt`ed on `adapt_data` when given (kerasette's side);
    a loader leaves it unadapted and fills it with `load_weights`."""
    L = keras.layers
    recurrent = {"simple_rnn": lambda: L.SimpleRNN(6), "lstm": lambda: L.LSTM(6),
                 "gru": lambda: L.GRU(6), "gru_noreset": lambda: L.GRU(6, reset_after=False)}
    if name in recurrent:
        return keras.Sequential([keras.Input(shape=(7, 3)), recurrent[name](), L.Dense(2)])
    if name == "lstm_seq":
        return keras.Sequential([keras.Input(shape=(7, 3)), L.LSTM(5, return_sequences=True),
                                 L.LSTM(4), L.Dense(1)])
    if name == "gru_state":
        inp = keras.Input(shape=(7, 3))
        seq, state = L.GRU(6, return_sequences=True, return_state=True)(inp)
        joined = L.Concatenate()([L.GlobalAveragePooling1D()(seq), state])
        return keras.Model(inp, L.Dense(2)(joined))
    if name == "bilstm":
        return keras.Sequential([keras.Input(shape=(7, 3)), L.Bidirectional(L.LSTM(4)),
                                 L.Dense(2, activation="softmax")])
    if name == "masking":
        return keras.Sequential([keras.Input(shape=(7, 3)), L.Masking(mask_value=0.0),
                                 L.LSTM(5), L.Dense(1)])
    if name in ("embed_pool", "embed_pool_mask"):
        return keras.Sequential([
            keras.Input(shape=(10,), dtype="int32"),
            L.Embedding(50, 8, mask_zero=name == "embed_pool_mask"),
            L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    if name == "conv1d":
        return keras.Sequential([
            keras.Input(shape=(20, 3)), L.Conv1D(6, 3, padding="same", activation="relu"),
            L.MaxPooling1D(2), L.Conv1D(6, 3, strides=2, padding="valid", activation="relu"),
            L.AveragePooling1D(2), L.GlobalMaxPooling1D(), L.Dense(3, activation="softmax")])
    if name == "preproc_rescaling":
        return keras.Sequential([
            keras.Input(shape=(8, 8)), L.Rescaling(1.0 / 255, offset=0.0), L.Flatten(),
            L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    if name == "preproc_norm":
        norm = L.Normalization()
        if adapt_data is not None:
            norm.adapt(adapt_data)
        return keras.Sequential([keras.Input(shape=(4,)), norm, L.Dense(8, activation="relu"),
                                 L.Dense(1)])
    if name == "time_distributed":
        return keras.Sequential([keras.Input(shape=(7, 3)), L.LSTM(5, return_sequences=True),
                                 L.TimeDistributed(L.Dense(2))])
    if name == "imdb_lstm":
        return keras.Sequential([keras.Input(shape=(20,), dtype="int32"), L.Embedding(100, 8),
                                 L.LSTM(6), L.Dense(1, activation="sigmoid")])
    raise ValueError(f"unknown sequence fixture {name!r}; expected one of {MODELS}")


def compile_kwargs(keras, name) -> dict:
    """The fixtures' compile arguments: Adam(1e-2); the loss as users write it."""
    kwargs = {"optimizer": keras.optimizers.Adam(1e-2)}
    if name in ("bilstm", "conv1d", "preproc_rescaling"):
        kwargs.update(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    elif name in ("embed_pool", "embed_pool_mask", "imdb_lstm"):
        kwargs.update(loss="binary_crossentropy", metrics=["accuracy"])
    else:
        kwargs.update(loss="mse")
    return kwargs


def _tokens(rng, n, length, vocab):
    """Token ids with a zero (padding) tail of random length, as pad_sequences
    writes them with padding="post"; at least one real token per row."""
    x = rng.randint(1, vocab, size=(n, length)).astype("int32")
    for row, keep in zip(x, rng.randint(1, length + 1, size=n)):
        row[keep:] = 0
    return x


def data(name, n, seed, probe=False):
    """`([x], [y])` for `name`: inputs and targets as lists of one array. A
    `probe` of `embed_pool_mask` starts with an all-padding row, whose masked
    mean is 0/0: NaN in every Keras (the fixtures' README)."""
    rng = np.random.RandomState(seed)
    if name in _VOCAB:
        x = _tokens(rng, n, _SHAPES[name][0], _VOCAB[name])
        if name == "embed_pool_mask" and probe:
            x[0] = 0
        y = rng.randint(0, 2, size=(n, 1)).astype("float32")
    elif name == "preproc_rescaling":
        x = rng.randint(0, 256, size=(n, 8, 8)).astype("float32")
        y = rng.randint(0, 3, size=(n,))
    elif name == "preproc_norm":
        x = (rng.rand(n, 4) * np.array([1.0, 10.0, 100.0, 1000.0])).astype("float32")
        y = rng.rand(n, 1).astype("float32")
    else:
        x = rng.rand(*((n,) + _SHAPES.get(name, (7, 3)))).astype("float32")
        if name == "masking":  # zero tails, and one all-zero step in the middle
            for i, keep in enumerate(rng.randint(2, 8, size=n)):
                x[i, keep:] = 0.0
            x[n // 2, 1] = 0.0
        if name in ("bilstm", "conv1d"):
            y = rng.randint(0, 2 if name == "bilstm" else 3, size=(n,))
        else:
            width = {"lstm_seq": 1, "masking": 1}.get(name, 2)
            shape = (n, 7, 2) if name == "time_distributed" else (n, width)
            y = rng.rand(*shape).astype("float32")
    return [x], [y]
