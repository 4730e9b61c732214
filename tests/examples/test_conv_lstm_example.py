"""examples/conv_lstm_next_frame.py in its short mode: it trains, writes the figure and the
metrics, and the selected model already beats the mean-frame baseline."""
import json

from tests.test_examples import load


def test_short_run_writes_the_figure_and_beats_the_mean_frame(tmp_path):
    result = load("conv_lstm_next_frame.py").main(
        ["--epochs", "2", "--limit", "32", "--hidden", "8", "--lr", "1e-2", "--out",
         str(tmp_path)])
    assert (tmp_path / "next_frame.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["sequences"] == [32, 32, 32]
    assert saved["test_mse"] == result["test_mse"] < result["mean_frame_mse"]
    assert 0 < result["copy_last_mse"] < result["mean_frame_mse"]
