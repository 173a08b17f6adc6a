"""`keras.utils.text_dataset_from_directory`, as tf.keras 2's."""

from __future__ import annotations

import numbers

from kerasette.utils import dataset_utils

ALLOWLIST_FORMATS = (".txt",)


def load_text(path, max_length=None) -> str:
    """The text of one file: its first `max_length` bytes (tf's `substr`
    counts bytes), decoded as UTF-8 (a character cut in two, or any invalid
    byte, becomes U+FFFD)."""
    with open(path, "rb") as f:
        data = f.read() if max_length is None else f.read(max_length)
    return data.decode("utf-8", errors="replace")


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False):
    """Batches of texts (and labels) from a folder with one subfolder per class.

    ```
    main_directory/
    ...class_a/
    ......a_text_1.txt
    ...class_b/
    ......b_text_1.txt
    ```

    gives batches of strings with labels 0 (`class_a`) and 1 (`class_b`).
    Only `.txt` files are read, when a batch is asked for.

    Args:
        directory: the folder.
        labels: `"inferred"` (from the subfolders), `None` (texts only), or
            a list of integer labels for the files in sorted path order.
        label_mode: `"int"` (int32 `(batch,)`), `"categorical"` (float32
            one-hot), `"binary"` (float32 `(batch, 1)`, exactly 2 classes) or
            `None` (no labels).
        class_names: with `"inferred"`, the subfolder names in the order of
            their labels (default: alphanumeric order).
        batch_size: texts per batch; `None` yields single texts.
        max_length: keep at most this many bytes of each file.
        shuffle: shuffle the files (once, seeded) and the training order of
            each pass; if False, files come in alphanumeric order.
        seed: seed of the shuffles; required with `validation_split` and
            `shuffle`, so that the two subsets never overlap.
        validation_split: fraction of the files kept for validation (the
            last ones of the shuffled list).
        subset: `"training"`, `"validation"` or `"both"` (the two datasets,
            as a list); only with `validation_split`.
        follow_links: descend into symlinked folders.

    Returns:
        A `kerasette.utils.dataset_utils.BatchDataset` (two, as a list, for
        `subset="both"`), which `fit`, `evaluate`, `predict` and
        `TextVectorization.adapt` (after `.map(lambda x, y: x)`) take;
        iterating yields `(texts, labels)` batches (or `texts` alone): a
        NumPy str array of shape `(batch,)` (tf.keras 2 yields UTF-8 bytes)
        and the labels; `.class_names` as in tf.keras 2.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for name, text in (("neg", "awful film"), ("pos", "great film")):
        ...     os.mkdir(os.path.join(root, name))
        ...     with open(os.path.join(root, name, "1.txt"), "w") as f:
        ...         _ = f.write(text)
        >>> ds = text_dataset_from_directory(root, shuffle=False)
        Found 2 files belonging to 2 classes.
        >>> texts, labels = next(iter(ds))
        >>> ds.class_names, texts.tolist(), labels.tolist()
        (['neg', 'pos'], ['awful film', 'great film'], [0, 1])
    """
    if labels is not None and not (isinstance(labels, str) and labels == "inferred"):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                "as the number of text files in the target directory. If you wish to infer "
                'the labels from the subdirectory names in the target directory, pass '
                '`labels="inferred"`. If you wish to get a dataset that only contains text '
                f"samples (no labels), pass `labels=None`. Received: labels={labels!r}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels!r}, and class_names={class_names!r}")
    if label_mode not in dataset_utils.LABEL_MODES:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(
            max_length, numbers.Integral) or max_length < 0):
        raise ValueError("Argument `max_length` must be a non-negative int or None. "
                         f"Received: max_length={max_length!r}")
    paths, file_labels, class_names, seed = dataset_utils.index_checked(
        directory, labels, label_mode, class_names, batch_size, validation_split, subset,
        shuffle, seed, follow_links, ALLOWLIST_FORMATS)

    def load(path):
        return load_text(path, max_length)

    def make(subset_name, train):
        part_paths, part_labels = dataset_utils.split_dataset(
            paths, file_labels, validation_split, subset_name, seed)
        if not part_paths:
            which = f"{subset_name} " if subset == "both" else ""
            raise ValueError(f"No {which}text files found in directory {directory}. "
                             "Allowed format: .txt")
        encoded = None if label_mode is None else dataset_utils.encode_labels(
            part_labels, label_mode, len(class_names))
        return dataset_utils.BatchDataset(part_paths, encoded, load, batch_size,
                                          shuffle=shuffle and train, seed=seed,
                                          class_names=class_names)

    if subset == "both":
        return [make("training", True), make("validation", False)]
    return make(subset, True)


__all__ = ["load_text", "text_dataset_from_directory"]
