"""The systems the benchmarks compare, each training the same networks.

A system trains one network: `epoch()` runs one timed epoch over the
training set (shuffled, as `fit` does), `test_accuracy()` evaluates it
(untimed). Every system sees the same float32 arrays.

Networks (Keras names):
    "mlp": Dense(512, relu) -> Dense(128, relu) -> Dense(10, softmax)
           on flat 784-pixel rows;
    "cnn": the courses' CNN of `examples/mnist_cnn.py` on 28x28x1 images;
    "small_cnn": Conv2D(16, 3, relu) -> MaxPooling2D(2) -> Conv2D(32, 3, relu)
           -> MaxPooling2D(2) -> Flatten -> Dense(10, softmax), the small
           CNN of a first convolution lesson;
    "iris": Dense(20, tanh) -> Dense(20, tanh) -> Dense(3, softmax).
All train with Adam(1e-3, epsilon=1e-7) on (sparse) categorical cross-entropy.
"""

from __future__ import annotations

import importlib.util

import numpy as np


# The networks on 28x28x1 images (the others take flat rows).
IMAGE_NETWORKS = ("cnn", "small_cnn")


def available(module: str) -> bool:
    """Whether `module` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


# -- kerasette -----------------------------------------------------------------------------
def keras_layers(keras, network, input_dim=None):
    """The network as a list of Keras layers (kerasette and tf.keras share the API)."""
    L = keras.layers
    if network == "mlp":
        return [L.Dense(512, activation="relu", input_shape=(784,)),
                L.Dense(128, activation="relu"),
                L.Dense(10, activation="softmax")]
    if network == "iris":
        return [L.Dense(20, activation="tanh", input_shape=(input_dim or 4,)),
                L.Dense(20, activation="tanh"),
                L.Dense(3, activation="softmax")]
    if network == "cnn":  # examples/mnist_cnn.py's network, for either Keras
        return [L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
                L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Flatten(),
                L.Dense(128, activation="relu"),
                L.Dropout(0.5),
                L.Dense(10, activation="softmax")]
    if network == "small_cnn":
        return [L.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)),
                L.MaxPooling2D(2),
                L.Conv2D(32, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Flatten(),
                L.Dense(10, activation="softmax")]
    raise ValueError(f"unknown network {network!r}")


class KerasLike:
    """kerasette, or tf.keras (`tf_keras`), through `compile`/`fit`/`evaluate`.

    Both run the course code unchanged: `fit(epochs=1, verbose=0)` per timed
    epoch, with the `accuracy` metric that course scripts ask for.
    """

    def __init__(self, module_name, network, data, batch_size, seed=1, functional=False):
        self.name = "kerasette" if module_name == "kerasette" else "tf.keras"
        keras = importlib.import_module(module_name)
        self.keras = keras
        keras.utils.set_random_seed(seed)
        layers = keras_layers(keras, network, data.x_train.shape[-1])
        if functional:  # the same layers called on keras.Input: keras.Model(inputs, outputs)
            inputs = h = keras.Input(shape=data.x_train.shape[1:])
            for layer in layers:
                h = layer(h)
            self.model = keras.Model(inputs, h)
        else:
            self.model = keras.Sequential(layers)
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-7),
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        self.data = data
        self.batch_size = batch_size

    def epoch(self):
        self.model.fit(self.data.x_train, self.data.y_train, batch_size=self.batch_size,
                       epochs=1, verbose=0)

    def test_accuracy(self):
        return float(self.model.evaluate(self.data.x_test, self.data.y_test, batch_size=1000,
                                         verbose=0)[1])


# -- PyTorch -------------------------------------------------------------------------------------
class Torch:
    """PyTorch eager: the same network and a plain training loop."""

    def __init__(self, network, data, batch_size, seed=1, device="cpu"):
        import torch

        self.name = "PyTorch" if device == "cpu" else "PyTorch CUDA"
        self.torch = torch
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.model = torch_network(torch, network, data.x_train.shape[-1]).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.loss = torch.nn.CrossEntropyLoss()
        images = network in IMAGE_NETWORKS  # NHWC arrays, NCHW for PyTorch
        x_train = data.x_train.transpose(0, 3, 1, 2) if images else data.x_train
        x_test = data.x_test.transpose(0, 3, 1, 2) if images else data.x_test
        self.x_train = torch.from_numpy(np.ascontiguousarray(x_train)).to(self.device)
        self.y_train = torch.from_numpy(data.y_train.astype(np.int64)).to(self.device)
        self.x_test = torch.from_numpy(np.ascontiguousarray(x_test)).to(self.device)
        self.y_test = torch.from_numpy(data.y_test.astype(np.int64)).to(self.device)
        self.batch_size = batch_size

    def step(self, xb, yb):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(xb), yb)
        loss.backward()
        self.opt.step()

    def epoch(self):
        torch, b = self.torch, self.batch_size
        self.model.train()
        order = torch.randperm(len(self.x_train), device=self.device)
        for start in range(0, len(order), b):
            idx = order[start:start + b]
            self.step(self.x_train[idx], self.y_train[idx])
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def test_accuracy(self):
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            pred = self.model(self.x_test).argmax(1)
        return float((pred == self.y_test).float().mean())


def torch_network(torch, network, input_dim=None):
    """The network in PyTorch, with Keras's Glorot-uniform weights and zero biases."""
    nn = torch.nn
    if network == "mlp":
        layers = [nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 128), nn.ReLU(),
                  nn.Linear(128, 10)]
    elif network == "iris":
        layers = [nn.Linear(input_dim or 4, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh(),
                  nn.Linear(20, 3)]
    elif network == "cnn":
        layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128),
                  nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10)]
    elif network == "small_cnn":
        layers = [nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 5 * 5, 10)]
    else:
        raise ValueError(f"unknown network {network!r}")
    model = nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


# -- the hardware floor ------------------------------------------------------------------------
class GemmFloor:
    """Only the MLP's matrix products for one epoch, with NumPy into preallocated outputs.

    Per batch: the forward product of each layer, the weight gradient of each
    layer and the input gradient of every layer but the first (8 products for
    784-512-128-10). Nothing else: no activations, loss, optimizer or batching.
    """

    name = "GEMM floor"
    sizes = (784, 512, 128, 10)

    def __init__(self, data, batch_size, seed=1):
        rng = np.random.default_rng(seed)
        self.x = data.x_train
        self.batch_size = batch_size
        n = len(self.x)
        self.weights = [rng.standard_normal((a, b), dtype=np.float32) * 0.05
                        for a, b in zip(self.sizes[:-1], self.sizes[1:])]
        # Buffers for a full batch and for the last, shorter one.
        sizes = {batch_size, n % batch_size or batch_size}
        self.buffers = {b: self._buffers(b, rng) for b in sizes}

    def _buffers(self, b, rng):
        acts = [np.empty((b, s), np.float32) for s in self.sizes[1:]]
        grads = [rng.standard_normal((b, s), dtype=np.float32) for s in self.sizes[1:]]
        dinputs = [np.empty((b, s), np.float32) for s in self.sizes[1:-1]]
        dweights = [np.empty_like(w) for w in self.weights]
        return acts, grads, dinputs, dweights

    def epoch(self):
        x, w, b = self.x, self.weights, self.batch_size
        for start in range(0, len(x), b):
            xb = x[start:start + b]
            acts, grads, dinputs, dweights = self.buffers[len(xb)]
            inputs = [xb] + acts[:-1]
            for i in range(3):
                np.matmul(inputs[i], w[i], out=acts[i])
            for i in range(3):
                np.matmul(inputs[i].T, grads[i], out=dweights[i])
            for i in (2, 1):
                np.matmul(grads[i], w[i].T, out=dinputs[i - 1])

    def test_accuracy(self):
        return None
