"""`keras.utils.text_dataset_from_directory` against tf.keras 2's rules.

tf.keras 2 (tf_keras/utils/text_dataset.py, dataset_utils.py): classes are
the sorted subfolders; files sorted within each class; one shuffle of the
whole list with `np.random.RandomState(seed)`; validation takes the LAST
`int(validation_split * n)` files; `max_length` cuts bytes.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers as L
from kerasette.utils import text_dataset_from_directory

TEXTS = {
    "neg": {"a.txt": "awful bad film", "b.txt": "bad acting", "c.txt": "terrible",
            "sub/d.txt": "bad bad bad", "e.txt": "awful"},
    "pos": {"a.txt": "great film", "b.txt": "good acting", "c.txt": "fine good",
            "f.txt": "great great"},
}


@pytest.fixture
def folder(tmp_path):
    for label, files in TEXTS.items():
        for name, text in files.items():
            path = tmp_path / label / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    (tmp_path / "pos" / "notes.md").write_text("not a txt file")
    return tmp_path


def sorted_files(root):
    """The files in tf.keras 2's unshuffled order, with their labels."""
    paths, labels = [], []
    for label, name in enumerate(sorted(TEXTS)):
        for file in sorted(TEXTS[name], key=lambda f: (os.path.dirname(f), f)):
            paths.append(os.path.join(str(root), name, file))
            labels.append(label)
    return paths, labels


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def everything(ds):
    xs, ys = [], []
    for x, y in ds:
        xs += x.tolist()
        ys += y.tolist()
    return xs, ys


def test_unshuffled_order_labels_and_batches(folder, capsys):
    ds = text_dataset_from_directory(str(folder), batch_size=4, shuffle=False)
    assert "Found 9 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"] and len(ds) == math.ceil(9 / 4)
    paths, labels = sorted_files(folder)
    xs, ys = everything(ds)
    expected = [read(p) for p in paths]
    assert xs == expected and ys == labels
    x, y = next(iter(ds))
    assert x.shape == (4,) and x.dtype.kind == "U" and y.dtype == np.int32


def test_seeded_shuffle_and_validation_split_take_the_last_files(folder):
    paths, labels = sorted_files(folder)
    np.random.RandomState(7).shuffle(paths)
    np.random.RandomState(7).shuffle(labels)
    texts = [read(p) for p in paths]
    n_val = int(0.3 * len(paths))
    train = text_dataset_from_directory(str(folder), batch_size=2, seed=7,
                                        validation_split=0.3, subset="training")
    val = text_dataset_from_directory(str(folder), batch_size=2, seed=7,
                                      validation_split=0.3, subset="validation")
    assert sorted(everything(train)[0]) == sorted(texts[:-n_val])
    assert everything(val)[0] == texts[-n_val:]  # validation data comes unshuffled
    both = text_dataset_from_directory(str(folder), batch_size=2, seed=7,
                                       validation_split=0.3, subset="both")
    assert isinstance(both, list) and everything(both[1])[0] == texts[-n_val:]
    # the training order changes from pass to pass, the samples do not
    first, second = everything(both[0]), everything(both[0])
    assert sorted(first[0]) == sorted(second[0]) == sorted(texts[:-n_val])


def test_label_modes_max_length_and_unbatched(folder):
    binary = text_dataset_from_directory(str(folder), label_mode="binary", shuffle=False)
    x, y = next(iter(binary))
    assert y.shape == (9, 1) and y.dtype == np.float32
    categorical = text_dataset_from_directory(str(folder), label_mode="categorical",
                                              shuffle=False, max_length=5)
    x, y = next(iter(categorical))
    np.testing.assert_array_equal(y[0], [1, 0])
    assert x.tolist()[0] == "awful"  # "awful bad film" cut to 5 bytes
    texts_only = text_dataset_from_directory(str(folder), labels=None, shuffle=False,
                                             batch_size=None)
    first = next(iter(texts_only))
    assert str(first) == "awful bad film" and len(texts_only) == 9


def test_refuses_bad_arguments(folder):
    with pytest.raises(ValueError, match="seed"):
        text_dataset_from_directory(str(folder), validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="label_mode"):
        text_dataset_from_directory(str(folder), label_mode="sparse")
    with pytest.raises(ValueError, match="list/tuple"):
        text_dataset_from_directory(str(folder), labels=np.zeros(9))
    (folder / "third").mkdir()
    (folder / "third" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="exactly 2"):
        text_dataset_from_directory(str(folder), label_mode="binary")


def test_a_dataset_adapts_a_vectorizer_and_trains_a_model(folder):
    train = text_dataset_from_directory(str(folder), batch_size=4, seed=3)
    vectorize = L.TextVectorization(max_tokens=20, output_sequence_length=3)
    vectorize.adapt(train.map(lambda x, y: x))
    assert "bad" in vectorize.get_vocabulary()
    model = keras.Sequential([vectorize, L.Embedding(20, 4), L.GlobalAveragePooling1D(),
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3  # the dataset is read again each epoch
    assert len(model.evaluate(train, verbose=0)) == 2
    assert model.predict(train.map(lambda x, y: x), verbose=0).shape == (9, 1)
