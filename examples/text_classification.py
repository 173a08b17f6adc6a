"""Text classification from raw strings: TextVectorization inside the model.

The TensorFlow tutorial's flow ("Basic text classification"), offline:

1. A corpus of short movie reviews is generated from word lists with a
   seeded generator (positive and negative words among neutral ones, with
   some reviews that mention a word of the other side) and written to
   `reviews/{train,test}/{neg,pos}/*.txt` in a temporary folder.
2. `keras.utils.text_dataset_from_directory` reads it: a training and a
   validation subset (80/20, seeded) and a test set.
3. `TextVectorization` learns its vocabulary from the training texts
   (`adapt` on `train.map(lambda x, y: x)`), then starts the model:

       TextVectorization(10000, sequence length 40) -> Embedding(10000, 16)
       -> Dropout(0.2) -> GlobalAveragePooling1D -> Dropout(0.2) -> Dense(1, sigmoid)

   so the model takes raw strings, in `fit` as in `predict`.

The last line printed is `test_accuracy=... test_loss=...`.

Run:
    python examples/text_classification.py [--epochs 10] [--reviews 2000] [--seed 1]
        [--batch-size 32] [--verbose auto|0|1|2]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import kerasette as keras

POSITIVE = ["good", "great", "wonderful", "excellent", "moving", "brilliant", "funny",
            "charming", "superb", "enjoyable", "beautiful", "clever"]
NEGATIVE = ["bad", "awful", "boring", "terrible", "dull", "weak", "predictable", "poor",
            "tedious", "clumsy", "forgettable", "annoying"]
NEUTRAL = ["the", "movie", "film", "plot", "actors", "story", "was", "is", "a", "and", "with",
           "this", "director", "music", "ending", "scenes", "it", "quite", "really", "very",
           "of", "in", "cast", "script", "characters", "camera", "second", "half"]


def make_review(rng, positive):
    """One review: 8 to 20 neutral words with 1 to 3 words of its side and,
    one time in four, one word of the other side."""
    words = list(rng.choice(NEUTRAL, size=rng.integers(8, 21)))
    own, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
    extra = list(rng.choice(own, size=rng.integers(1, 4)))
    if rng.random() < 0.25:
        extra.append(rng.choice(other))
    for word in extra:
        words.insert(int(rng.integers(0, len(words) + 1)), word)
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", "!", "..."])


def write_corpus(root, reviews, seed):
    """`root/{train,test}/{neg,pos}/<i>.txt`: `reviews` training reviews
    (half of each class) and a quarter as many test reviews."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", reviews), ("test", max(reviews // 4, 2))):
        for label in ("neg", "pos"):
            folder = os.path.join(root, split, label)
            os.makedirs(folder)
            for i in range(count // 2):
                with open(os.path.join(folder, f"{i}.txt"), "w", encoding="utf-8") as f:
                    f.write(make_review(rng, label == "pos"))


def build_model(vectorize_layer, max_features=10000, embedding_dim=16):
    """Raw strings in, a probability of "pos" out."""
    return keras.Sequential([
        vectorize_layer,
        keras.layers.Embedding(max_features, embedding_dim),
        keras.layers.Dropout(0.2),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--reviews", type=int, default=2000, help="training reviews")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    keras.utils.set_random_seed(args.seed)
    max_features, sequence_length = 10000, 40

    with tempfile.TemporaryDirectory() as root:
        write_corpus(root, args.reviews, args.seed)
        load = keras.utils.text_dataset_from_directory
        raw_train = load(os.path.join(root, "train"), batch_size=args.batch_size,
                         validation_split=0.2, subset="training", seed=args.seed)
        raw_val = load(os.path.join(root, "train"), batch_size=args.batch_size,
                       validation_split=0.2, subset="validation", seed=args.seed)
        raw_test = load(os.path.join(root, "test"), batch_size=args.batch_size)

        vectorize_layer = keras.layers.TextVectorization(
            max_tokens=max_features, output_mode="int", output_sequence_length=sequence_length)
        vectorize_layer.adapt(raw_train.map(lambda text, label: text))
        print(f"vocabulary: {vectorize_layer.vocabulary_size()} tokens, "
              f"first {vectorize_layer.get_vocabulary()[:6]}")

        model = build_model(vectorize_layer, max_features)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(raw_train, validation_data=raw_val, epochs=args.epochs, verbose=verbose)
        test_loss, test_accuracy = model.evaluate(raw_test, verbose=0)

    examples = np.array(["A brilliant and moving story.", "Dull, predictable and boring."])
    probs = model.predict(examples, verbose=0).ravel()
    print("predictions:", [round(float(p), 3) for p in probs])
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "model": model}


if __name__ == "__main__":
    main()
