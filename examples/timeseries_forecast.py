"""Forecasting a time series one step ahead with an LSTM.

The time-series chapter of the courses: a synthetic daily series, four
years long, made of a trend, a yearly season and noise (the same recipe as
the courses' `trend`, `seasonality` and `noise` helpers), split at day
1000. Windows of the last 20 days predict the next day:

    Input(20, 1) -> Conv1D(32, 5, causal, relu) -> LSTM(32) -> Dense(1)

trained with Adam on the Huber loss, batches of 32, on the series scaled to
unit spread. The forecast on the validation years is scored by its mean
absolute error against the naive forecast (tomorrow = today), the courses'
baseline; the script prints both.

The last line printed is `val_mae=... naive_mae=...` (in the series' units).

Run:
    python examples/timeseries_forecast.py [--epochs 20] [--window 20] [--seed 1]
        [--verbose auto|0|1|2]
"""

from __future__ import annotations

import argparse

import numpy as np

import kerasette as keras

SPLIT_DAY = 1000


def make_series(seed=42):
    """Four years of daily values: trend + yearly season + noise (float32)."""
    time = np.arange(4 * 365 + 1, dtype="float32")
    trend = 0.05 * time
    phase = (time % 365) / 365
    season = np.where(phase < 0.4, np.cos(phase * 2 * np.pi), 1 / np.exp(3 * phase))
    noise = np.random.default_rng(seed).standard_normal(len(time)) * 5.0
    return (10.0 + trend + 40.0 * season + noise).astype("float32")


def windows(series, window):
    """`(n, window, 1)` inputs and the `(n,)` next values that follow them."""
    view = np.lib.stride_tricks.sliding_window_view(series, window + 1)
    return view[:, :window, None].copy(), view[:, window].copy()


def build_model(window):
    """A causal convolution, an LSTM, one linear output."""
    L = keras.layers
    return keras.Sequential([
        keras.Input(shape=(window, 1)),
        L.Conv1D(32, 5, padding="causal", activation="relu"),
        L.LSTM(32),
        L.Dense(1),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    series = make_series()
    train = series[:SPLIT_DAY]
    center, spread = float(train.mean()), float(train.std())
    scaled = (series - center) / spread
    x_train, y_train = windows(scaled[:SPLIT_DAY], args.window)
    # Validation windows may look back into the training days, as the courses' do.
    x_val, y_val = windows(scaled[SPLIT_DAY - args.window:], args.window)

    keras.utils.set_random_seed(args.seed)
    model = build_model(args.window)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="huber",
                  metrics=["mae"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
              validation_data=(x_val, y_val), verbose=verbose)
    forecast = model.predict(x_val, batch_size=256, verbose=0)[:, 0] * spread + center
    actual = series[SPLIT_DAY:]
    val_mae = float(np.mean(np.abs(forecast - actual)))
    naive_mae = float(np.mean(np.abs(series[SPLIT_DAY - 1:-1] - actual)))
    print(f"val_mae={val_mae:.3f} naive_mae={naive_mae:.3f}")
    return {"val_mae": val_mae, "naive_mae": naive_mae}


if __name__ == "__main__":
    main()
