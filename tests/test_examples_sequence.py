"""The sequence examples run and reach what they promise: the LSTM over
MNIST's rows (real data, slow), the time-series forecast (beats the naive
forecast), and the IMDB script's one-line message when the data set is not
there."""

from __future__ import annotations

import pytest
from test_examples import load_example

import kerasette as keras


def test_timeseries_forecast_beats_the_naive_forecast(capsys):
    example = load_example("timeseries_forecast")
    result = example.main(["--epochs", "20", "--verbose", "0"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"val_mae={result['val_mae']:.3f} naive_mae={result['naive_mae']:.3f}"
    assert result["val_mae"] < 0.9 * result["naive_mae"], result


def test_timeseries_windows_are_the_next_values():
    example = load_example("timeseries_forecast")
    series = example.make_series()
    x, y = example.windows(series, 5)
    assert x.shape == (len(series) - 5, 5, 1) and x.dtype == series.dtype
    assert (x[3, :, 0] == series[3:8]).all() and y[3] == series[8]


def test_imdb_script_says_in_one_line_when_the_data_set_is_missing(capsys, monkeypatch):
    example = load_example("imdb_lstm")

    def unavailable(**kwargs):
        raise keras.datasets.DatasetUnavailableError("imdb.npz: no copy in the cache "
                                                     "and no network")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", unavailable)
    assert example.main([]) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "IMDB data set is not available" in err[0]


def test_imdb_model_shapes():
    model = load_example("imdb_lstm").build_model(num_words=500)
    assert model.output_shape == (None, 1)
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "LSTM", "Dense"]


@pytest.mark.slow
def test_mnist_lstm_reaches_097(backend, mnist_npz, capsys):
    if backend.name != "numpy":
        pytest.skip("real-data training runs once, on the numpy backend")
    result = load_example("mnist_lstm").main(["--verbose", "0"])
    assert result["test_accuracy"] >= 0.97, result


def test_mnist_lstm_docstring_states_the_parameter_count():
    example = load_example("mnist_lstm")
    assert f"{example.build_model().count_params():,} parameters" in example.__doc__
