"""Text and sequence utilities, as tf.keras 2's `keras.preprocessing`.

- `keras.preprocessing.sequence.pad_sequences` (also `keras.utils.pad_sequences`)
- `keras.preprocessing.text`: `Tokenizer`, `tokenizer_from_json`,
  `text_to_word_sequence`, `one_hot`, `hashing_trick`
- `keras.preprocessing.image`: `ImageDataGenerator`, `load_img`,
  `img_to_array`, `array_to_img`, `save_img` (Pillow for files)

Plain Python and NumPy on the host: their results are lists and NumPy
arrays that go to `model.fit` like any other data.

Example:
    >>> import kerasette as keras
    >>> tokenizer = keras.preprocessing.text.Tokenizer(oov_token="<OOV>")
    >>> tokenizer.fit_on_texts(["a good movie", "a bad movie", "a movie"])
    >>> keras.preprocessing.sequence.pad_sequences(
    ...     tokenizer.texts_to_sequences(["a good film"]), maxlen=4)
    array([[0, 2, 4, 1]], dtype=int32)
"""

from kerasette.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
