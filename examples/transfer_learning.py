"""Transfer learning and fine-tuning with keras.applications.MobileNetV2.

The TensorFlow transfer-learning tutorial's recipe, offline:

0. A pretrained base. Offline there are no ImageNet weights, so a stand-in
   is made here: a whole `MobileNetV2(weights=None)` classifier trained on a
   bigger synthetic set (1,200 images of 4 shapes: cross, ring, square,
   disc, in random colours on noise; seeded), its weights saved with
   `save_weights` in the layout of Keras's published `.h5` files.
1. The base, `MobileNetV2(include_top=False)`, loads them by layer name
   (the notop model has no classifier layers), is frozen
   (`base.trainable = False`) and is called with `training=False`, so its
   batch norms stay in inference mode.
2. `mobilenet_v2.preprocess_input` inside the model (pixels in [0, 255] to
   [-1, 1]), then the base, `GlobalAveragePooling2D`, `Dropout` and a new
   `Dense` head on logits, trained with Adam on the new, small task (120
   images of 3 shapes).
3. Fine-tuning: the base's top block (`block_16_*` and `Conv_1`) unfrozen,
   the model recompiled with a 10x lower learning rate, training resumed
   (`initial_epoch`).

With `--weights imagenet` the base starts from Keras's ImageNet weights
instead (`MobileNetV2` downloads them into `$KERASETTE_HOME/models/`, or
finds them there: copy the `.h5` file in by hand on an offline machine).
The last line printed is `val_accuracy=...` (0.8667 with the defaults, in
about 25 seconds on a 2-core CPU, most of it the stand-in's pretraining).

Run:
    python examples/transfer_learning.py [--epochs 12] [--fine-tune-epochs 4]
        [--per-class 40] [--pretrain-epochs 8] [--pretrain-per-class 300]
        [--size 48] [--alpha 0.35]
        [--weights none|imagenet|PATH]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import kerasette as keras

SOURCE_CLASSES = ("cross", "ring", "square", "disc")  # the stand-in for ImageNet's 1000
CLASSES = ("cross", "ring", "square")  # the new task
TOP_BLOCK = "block_16_expand"  # the first layer fine-tuning unfreezes


def draw(shape, size, rng):
    """One `size`x`size` RGB image (uint8): `shape` in a random colour on noise."""
    image = rng.integers(0, 60, (size, size, 3)).astype("float32")
    radius = rng.integers(size // 6, size // 3)
    cy, cx = rng.integers(radius + 1, size - radius - 1, 2)
    yy, xx = np.mgrid[:size, :size]
    d2 = (yy - cy) ** 2 + (xx - cx) ** 2
    if shape == "ring":
        mask = (d2 <= radius ** 2) & (d2 >= (radius - max(2, size // 16)) ** 2)
    elif shape == "disc":
        mask = d2 <= radius ** 2
    elif shape == "square":
        mask = (abs(yy - cy) <= radius) & (abs(xx - cx) <= radius)
    else:
        bar = max(1, size // 24)
        mask = ((abs(yy - cy) <= bar) & (abs(xx - cx) <= radius)) | (
            (abs(xx - cx) <= bar) & (abs(yy - cy) <= radius))
    image[mask] = rng.integers(100, 256, 3)
    return image.astype("uint8")


def make_data(classes, per_class, size, seed):
    """`(x, y)`: `per_class` images of each class (float32 pixels in [0, 255]), shuffled."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(classes)), per_class)
    rng.shuffle(y)
    x = np.stack([draw(classes[label], size, rng) for label in y]).astype("float32")
    return x, y


def calibrate_batch_norms(base, images):
    """Sets every batch norm's moving statistics to those of `images`.

    MobileNetV2's batch norms keep 99.9% of their moving averages per step
    (`momentum=0.999`), tuned for ImageNet's long runs: after the few
    hundred steps of a short pretraining they still hold their initial
    means 0 and variances 1, and inference-mode outputs are wrong. One
    forward pass in training mode with `momentum=0` sets each one's
    statistics to its input's. (Keras's ImageNet weights need none of this.)
    """
    norms = [layer for layer in base.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    base(keras.applications.mobilenet_v2.preprocess_input(images.copy()), training=True)
    for layer, momentum in zip(norms, momenta):
        layer.momentum = momentum


def pretrain_stand_in(path, size, alpha, per_class, epochs, seed):
    """Trains a whole `MobileNetV2(weights=None)` classifier on the bigger
    `SOURCE_CLASSES` set and saves its weights to `path`, in the layout of
    Keras's published ImageNet files."""
    x, y = make_data(SOURCE_CLASSES, per_class, size, seed + 1)
    net = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha,
                                         weights=None, classes=len(SOURCE_CLASSES))
    inputs = keras.Input(shape=(size, size, 3))
    model = keras.Model(inputs, net(keras.applications.mobilenet_v2.preprocess_input(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    calibrate_batch_norms(net, x[:128])
    net.save_weights(path)
    accuracy = model.evaluate(x, y, verbose=0)[1]
    print(f"stand-in pretraining: {len(x)} images of {len(SOURCE_CLASSES)} classes, "
          f"{epochs} epochs, accuracy={accuracy:.4f}; weights saved to {path}")


def build_model(size, alpha, weights, stand_in=None):
    """`(model, base)`: the frozen base with a new classification head.

    The base is `MobileNetV2(include_top=False)` with `weights` ("imagenet",
    a notop file's path, or None); with `stand_in`, the weights of a whole
    classifier are read into it by layer name, as Keras's notop files hold
    only these base layers.
    """
    base = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha,
                                          include_top=False, weights=weights)
    if stand_in is not None:
        base.load_weights(stand_in, by_name=True)
    base.trainable = False
    inputs = keras.Input(shape=(size, size, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs)
    x = base(x, training=False)  # batch norms stay in inference mode, even when fine-tuned
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(len(CLASSES))(x)
    return keras.Model(inputs, outputs), base


def unfreeze_top_block(base):
    """Makes the base trainable from `TOP_BLOCK` on, frozen below it."""
    base.trainable = True
    names = [layer.name for layer in base.layers]
    first = names.index(TOP_BLOCK)
    for layer in base.layers[:first]:
        layer.trainable = False


def compile_model(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--fine-tune-epochs", type=int, default=4)
    parser.add_argument("--per-class", type=int, default=40, help="images per class, new task")
    parser.add_argument("--pretrain-epochs", type=int, default=8)
    parser.add_argument("--pretrain-per-class", type=int, default=300)
    parser.add_argument("--size", type=int, default=48, help="image side, 32 to 96")
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--weights", default="none",
                        help='"none" (a stand-in pretrained here), "imagenet" (downloaded or '
                             "from the cache) or the path of a notop .h5 file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        stand_in = None
        if args.weights == "none":
            stand_in = os.path.join(folder, "stand_in.h5")
            pretrain_stand_in(stand_in, args.size, args.alpha, args.pretrain_per_class,
                              args.pretrain_epochs, args.seed)
        weights = None if args.weights == "none" else args.weights
        model, base = build_model(args.size, args.alpha, weights, stand_in)
    x, y = make_data(CLASSES, args.per_class, args.size, args.seed)
    compile_model(model, args.learning_rate)
    print(f"new task: {len(x)} images of {len(CLASSES)} classes; base {base.name} "
          f"({len(base.layers)} layers, {base.count_params():,} parameters) frozen; "
          f"trainable weights: {len(model.trainable_weights)}")
    model.fit(x, y, epochs=args.epochs, batch_size=16, validation_split=0.25, verbose=2)

    unfreeze_top_block(base)
    compile_model(model, args.learning_rate / 10)  # recompile after changing `trainable`
    print(f"fine-tuning from {TOP_BLOCK}: trainable weights: {len(model.trainable_weights)}")
    history = model.fit(x, y, epochs=args.epochs + args.fine_tune_epochs,
                        initial_epoch=args.epochs, batch_size=16, validation_split=0.25,
                        verbose=2)
    accuracy = float(history.history["val_accuracy"][-1])
    print('ImageNet weights: MobileNetV2(weights="imagenet") downloads Keras\'s published file '
          "into $KERASETTE_HOME/models/ (offline: put the .h5 there), then run with "
          "--weights imagenet.")
    print(f"val_accuracy={accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
