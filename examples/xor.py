"""XOR with the seeds' 2-2-1 sigmoid network, trained by a GradientTape loop.

The course notes train this network with plain gradient descent on the
squared error, `L = sum((y - t)^2)`, and `SGD(0.5)`. This script does the
same with `kerasette.GradientTape` and `SGD.apply_gradients`, then prints
the network's outputs for the four patterns.

Run:
    python examples/xor.py [--steps 5000] [--seed 1]
"""

from __future__ import annotations

import argparse

import numpy as np

import kerasette as keras

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
T = np.array([[0], [1], [1], [0]], dtype="float32")


def train(steps: int, seed: int, learning_rate: float = 0.5, verbose: bool = True):
    """Trains the 2-2-1 network; returns the model and its final outputs."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.layers.Dense(2, activation="sigmoid", input_shape=(2,)),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    optimizer = keras.optimizers.SGD(learning_rate)
    x = keras.ops.convert_to_tensor(X)  # moved to the device once
    t = keras.ops.convert_to_tensor(T)
    for step in range(steps):
        with keras.GradientTape() as tape:
            y = model(x, training=True)
            loss = keras.ops.sum(keras.ops.square(y - t))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        if verbose and step % 1000 == 0:
            print(f"step {step:5d}  loss {float(loss):.6f}")
    return model, model(x).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    args = parser.parse_args(argv)
    _, outputs = train(args.steps, args.seed, args.learning_rate)
    print("outputs:", " ".join(f"{v:.4f}" for v in outputs.ravel()))
    predictions = (outputs.ravel() > 0.5).astype(int)
    print("predictions:", predictions.tolist())
    accuracy = float((predictions == T.ravel()).mean())
    print(f"accuracy={accuracy}")
    return accuracy


if __name__ == "__main__":
    main()
