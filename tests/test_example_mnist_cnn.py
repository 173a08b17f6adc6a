"""examples/mnist_cnn.py: the courses' CNN, and a short real-data run (one epoch
on the first 12,000 images: 25-70 s on two busy CPU cores)."""

import pytest
from test_examples import check_last_line, load_example, numpy_only

import kerasette as keras


def test_mnist_cnn_has_the_two_conv_blocks():
    cnn = load_example("mnist_cnn")
    model = cnn.build_model()
    L = keras.layers
    assert [type(layer) for layer in model.layers] == [
        L.Conv2D, L.MaxPooling2D, L.Conv2D, L.MaxPooling2D, L.Flatten, L.Dense, L.Dropout,
        L.Dense]
    assert model.count_params() == 225_034
    assert model.compute_output_shape((None, 28, 28, 1)) == (None, 10)


@pytest.mark.slow
def test_mnist_cnn_on_a_fifth_of_the_data_reaches_093(backend, mnist_npz, fixed_blas_threads,
                                                       capsys):
    numpy_only(backend)
    cnn = load_example("mnist_cnn")
    result = cnn.main(["--epochs", "1", "--limit", "12000", "--verbose", "0"])
    check_last_line(capsys.readouterr().out, result)
    assert result["test_accuracy"] >= 0.93, result  # 0.9401 here
