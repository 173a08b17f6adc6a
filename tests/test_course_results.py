"""The course notes' results: the Iris network and the MNIST MLP.

These train on the real data: Iris as kerasette ships it, MNIST from the
data-set cache (the `mnist_npz` fixture, which skips without it). The MNIST
runs are marked `slow` and run on the NumPy backend only (the strict backend
proves the same code paths on the small tests).
"""

import numpy as np
import pytest

import kerasette as keras


def load_iris():
    (x, y), _ = keras.datasets.iris.load_data()  # the CSV's rows, in its order
    return x, y


def iris_model(k_l2=0.001):
    L = keras.layers
    return keras.Sequential([
        L.Dense(20, activation="tanh", input_shape=(4,),
                kernel_regularizer=keras.regularizers.l2(k_l2)),
        L.Dropout(0.5),
        L.Dense(20, activation="tanh", kernel_regularizer=keras.regularizers.l2(k_l2)),
        L.Dropout(0.5),
        L.Dense(3, activation="softmax", kernel_regularizer=keras.regularizers.l2(k_l2)),
    ])


def test_iris_network_of_the_seeds_reaches_093(backend):
    keras.utils.set_random_seed(0)
    x, y = load_iris()
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    x = (x - x[:120].mean(0)) / x[:120].std(0)  # the seeds: normalise the inputs
    x_train, y_train, x_test, y_test = x[:120], y[:120], x[120:], y[120:]
    model = iris_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=20, epochs=300,
                        validation_data=(x_test, y_test), verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.93, accuracy
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.history["loss"][-1] < history.history["loss"][0]


def load_mnist(path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def mnist_mlp():
    L = keras.layers
    return keras.Sequential([
        L.Flatten(input_shape=(28, 28)),
        L.Dense(512, activation="relu"),
        L.Dense(128, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])


@pytest.mark.slow
def test_mnist_mlp_of_the_seeds(backend, mnist_npz, fixed_blas_threads):
    if backend.name != "numpy":
        pytest.skip("real-data training runs once, on the numpy backend")
    # Seed 1. Over seeds 0-3 this unregularised MLP gives 97.2-97.6% after two
    # epochs; after that it oscillates between about 97.6% and 98.2% from one
    # epoch to the next (in tf.keras too), and which side of 98% the tenth
    # epoch lands on changes with the BLAS kernels of the machine. So the
    # check is the course's claim: 97.5% after two epochs, 98% reached
    # within ten, and no collapse at the end.
    keras.utils.set_random_seed(1)
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_npz)
    x_train = x_train / np.float32(255)  # as the courses do (float32 kept)
    x_test = x_test / np.float32(255)
    model = mnist_mlp()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=10, verbose=0,
                        validation_data=(x_test, y_test))
    test_accuracy = history.history["val_accuracy"]
    assert test_accuracy[1] >= 0.975, test_accuracy
    assert max(test_accuracy) >= 0.98, test_accuracy
    assert test_accuracy[-1] >= 0.975, test_accuracy
    # The epoch's figure is the same number evaluate gives afterwards.
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert abs(accuracy - test_accuracy[-1]) <= 1e-6, (accuracy, test_accuracy[-1])
