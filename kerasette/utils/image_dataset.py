"""`keras.utils.image_dataset_from_directory`, as tf.keras 2's."""

from __future__ import annotations


import numpy as np

from kerasette.ops import image as image_ops
from kerasette.preprocessing import image_utils
from kerasette.utils import dataset_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def load_image(path, image_size, color_mode, interpolation, crop_to_aspect_ratio=False):
    """Decodes one file and resizes it as `tf.image.resize` does.

    Returns a `(height, width, channels)` array: float32 for `"bilinear"`,
    uint8 (the decoded dtype) for `"nearest"`, as TensorFlow returns them.
    """
    img = image_utils.open_image(path, color_mode)
    x = np.asarray(img)
    if x.ndim == 2:
        x = x[:, :, None]
    batch = x[None]
    if crop_to_aspect_ratio:
        top, left, ch, cw = image_ops.crop_box(x.shape[0], x.shape[1], *image_size)
        batch = batch[:, top:top + ch, left:left + cw]
    out = image_ops.resize_array(np, batch, image_size[0], image_size[1], interpolation)[0]
    return out.astype("float32") if interpolation == "bilinear" else out


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False, **kwargs):
    """Batches of images (and labels) from a folder with one subfolder per class.

    ```
    main_directory/
    ...class_a/
    ......a_image_1.jpg
    ...class_b/
    ......b_image_1.jpg
    ```

    gives batches of images with labels 0 (`class_a`) and 1 (`class_b`).
    Files ending in `.bmp`, `.gif` (first frame), `.jpeg`, `.jpg` or `.png`
    are read with Pillow (`pip install "kerasette[image]"`) when a batch is
    asked for, and resized as `tf.image.resize` does.

    Args:
        directory: the folder.
        labels: `"inferred"` (from the subfolders), `None` (images only),
            or a list of integer labels for the files in sorted path order.
        label_mode: `"int"` (int32 `(batch,)`), `"categorical"` (float32
            one-hot), `"binary"` (float32 `(batch, 1)`, exactly 2 classes) or
            `None` (no labels).
        class_names: with `"inferred"`, the subfolder names in the order of
            their labels (default: alphanumeric order).
        color_mode: `"rgb"`, `"rgba"` or `"grayscale"` (3, 4 or 1 channels).
            Grayscale uses Pillow's conversion (ITU-R 601-2 luma).
        batch_size: images per batch; `None` yields single images.
        image_size: `(height, width)` every image is resized to.
        shuffle: shuffle the files (once, seeded) and the order of each
            pass; if False, files come in alphanumeric order.
        seed: seed of the shuffles; required with `validation_split` and
            `shuffle`, so that the two subsets never overlap.
        validation_split: fraction of the files kept for validation.
        subset: `"training"`, `"validation"` or `"both"` (returns the two
            datasets as a list); only with `validation_split`.
        interpolation: `"bilinear"` (float32 images) or `"nearest"` (uint8).
        follow_links: descend into symlinked folders.
        crop_to_aspect_ratio: crop the largest centred window with the
            target's aspect ratio before resizing, so nothing is distorted.

    Returns:
        A `BatchDataset` (two, as a list, for `subset="both"`), which `fit`,
        `evaluate` and `predict` take; iterating yields `(images, labels)`
        batches (or `images` alone) of NumPy arrays; `.class_names` and
        `.file_paths` as in tf.keras 2.

    Example:
        >>> import os, tempfile
        >>> from kerasette.utils import save_img
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cats", "dogs"):
        ...     os.mkdir(os.path.join(root, name))
        ...     save_img(os.path.join(root, name, "1.png"), np.zeros((8, 8, 3)))
        >>> ds = image_dataset_from_directory(root, image_size=(4, 4), seed=1)
        Found 2 files belonging to 2 classes.
        >>> ds.class_names, next(iter(ds))[0].shape
        (['cats', 'dogs'], (2, 4, 4, 3))
    """
    if "smart_resize" in kwargs:
        crop_to_aspect_ratio = kwargs.pop("smart_resize")
    if kwargs:
        raise TypeError(f"image_dataset_from_directory got unknown keyword argument(s): "
                        f"{tuple(kwargs)}")
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError("Argument `labels` must be 'inferred', None, or a list of integer "
                             "labels, one per image file in sorted path order. "
                             f"Received: labels={labels!r}")
        if class_names:
            raise ValueError("Argument `class_names` can only be passed with "
                             f'labels="inferred". Received: class_names={class_names!r}')
    if label_mode not in dataset_utils.LABEL_MODES:
        raise ValueError("Argument `label_mode` must be 'int', 'categorical', 'binary' or "
                         f"None. Received: label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    image_utils.check_color_mode(color_mode, "image_dataset_from_directory")
    image_size = image_ops.check_size(image_size, "image_dataset_from_directory", "image_size")
    image_ops.check_interpolation(interpolation, "image_dataset_from_directory")
    image_utils.pil_image()  # a clear error now, not at the first batch
    paths, file_labels, class_names, seed = dataset_utils.index_checked(
        directory, labels, label_mode, class_names, batch_size, validation_split, subset,
        shuffle, seed, follow_links, ALLOWLIST_FORMATS)

    def load(path):
        return load_image(path, image_size, color_mode, interpolation, crop_to_aspect_ratio)

    def make(subset_name, train):
        part_paths, part_labels = dataset_utils.split_dataset(
            paths, file_labels, validation_split, subset_name, seed)
        if not part_paths:
            raise ValueError(f"No {'' if subset_name is None else subset_name + ' '}images "
                             f"found in directory {directory}. Allowed formats: "
                             f"{ALLOWLIST_FORMATS}")
        encoded = None if label_mode is None else dataset_utils.encode_labels(
            part_labels, label_mode, len(class_names))
        return dataset_utils.BatchDataset(part_paths, encoded, load, batch_size,
                                          shuffle=shuffle and train, seed=seed,
                                          class_names=class_names)

    if subset == "both":
        return [make("training", True), make("validation", False)]
    return make(subset, True)


__all__ = ["image_dataset_from_directory"]
