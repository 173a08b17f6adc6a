"""Images in class folders, augmentation layers and a small CNN.

The TensorFlow image tutorials' pipeline on a data set written here: first
a folder of synthetic 32x32 PNG images, one subfolder per class (`cross`,
`ring`, `square`: a shape of random colour, size and place on a noisy
background; seeded), then

- `keras.utils.image_dataset_from_directory` with `validation_split=0.2`,
  `subset="both"` and a seed (the two subsets never overlap);
- a Sequential model that starts with `Rescaling(1/255)`, then
  `RandomFlip("horizontal")` and `RandomRotation(0.1)` (active in `fit`
  only), then two Conv2D/MaxPooling2D blocks and a Dense head on logits;
- `fit` on the dataset with `validation_data`.

Writing the images needs Pillow (`pip install "kerasette[image]"`). The last
line printed is `val_accuracy=...` (0.9000 with the defaults, in about 5
seconds on a 2-core CPU).

Run:
    python examples/image_folder_augmentation.py [--epochs 20] [--per-class 100]
        [--data-dir DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import kerasette as keras

CLASSES = ("cross", "ring", "square")
SIZE = 32


def draw(shape, rng):
    """One 32x32 RGB image of `shape`, as uint8."""
    image = rng.integers(0, 60, (SIZE, SIZE, 3)).astype("float32")  # dark noise
    colour = rng.integers(120, 256, 3)
    radius = rng.integers(6, 11)
    cy, cx = rng.integers(radius + 1, SIZE - radius - 1, 2)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    if shape == "ring":
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        mask = (d2 <= radius ** 2) & (d2 >= (radius - 3) ** 2)
    elif shape == "square":
        mask = (abs(yy - cy) <= radius) & (abs(xx - cx) <= radius)
    else:  # a cross of two bars
        mask = ((abs(yy - cy) <= 1) & (abs(xx - cx) <= radius)) | (
            (abs(xx - cx) <= 1) & (abs(yy - cy) <= radius))
    image[mask] = colour
    return image.astype("uint8")


def write_images(root, per_class, seed):
    """Writes `per_class` PNG files into `root/<class>/`; returns `root`."""
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            keras.utils.save_img(os.path.join(folder, f"{name}_{i:04d}.png"),
                                 draw(name, rng), scale=False)
    return root


def build_model(num_classes):
    L = keras.layers
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        L.Rescaling(1.0 / 255),
        L.RandomFlip("horizontal"),
        L.RandomRotation(0.1),
        L.Conv2D(16, 3, padding="same", activation="relu"),
        L.MaxPooling2D(),
        L.Conv2D(32, 3, padding="same", activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(num_classes),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--per-class", type=int, default=100, help="images per class")
    parser.add_argument("--data-dir", default=None,
                        help="folder for the images (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    root = args.data_dir or tempfile.mkdtemp(prefix="kerasette_shapes_")
    write_images(root, args.per_class, args.seed)
    print(f"wrote {args.per_class * len(CLASSES)} images to {root}")

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        root, validation_split=0.2, subset="both", seed=123, image_size=(SIZE, SIZE),
        batch_size=32)
    print("classes:", train_ds.class_names)

    model = build_model(len(train_ds.class_names))
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=val_ds, epochs=args.epochs, verbose=0)
    h = history.history
    for epoch in range(len(h["loss"])):
        print(f"epoch {epoch + 1:3d}  loss {h['loss'][epoch]:.4f}  "
              f"accuracy {h['accuracy'][epoch]:.4f}  val_loss {h['val_loss'][epoch]:.4f}  "
              f"val_accuracy {h['val_accuracy'][epoch]:.4f}")
    val_accuracy = h["val_accuracy"][-1]
    print(f"val_accuracy={val_accuracy:.4f}")
    return float(val_accuracy)


if __name__ == "__main__":
    main()
