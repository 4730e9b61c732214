"""examples/nadaraya_watson.py in its short mode: it writes the figure and the metrics, the
attention weights are softmaxes matching the Gaussian-kernel formula, and the learned width
fits the true function at least as well as the fixed one."""
import json

import numpy as np

from tests.test_examples import load


def test_short_run_learns_a_kernel_at_least_as_good_as_the_fixed_one(tmp_path):
    module = load("nadaraya_watson.py")
    result = module.main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "nadaraya_watson.png").stat().st_size > 10000
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["mse_learned"] == result["mse_learned"] <= result["mse_fixed"]
    assert result["w"] > 1 and result["loo_mse_last"] < result["loo_mse_first"]
    fixed, learned = result["weights"]["fixed"], result["weights"]["learned"]
    assert fixed.shape == learned.shape == (50, 50)
    for weights in (fixed, learned):
        assert (weights >= 0).all()
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    x_train, y_train, x_test, y_true = module.make_data(50, 50, 0.5, 0)
    kernel = np.exp(-(x_test[:, None] - x_train[None]) ** 2 / 2)
    np.testing.assert_allclose(fixed, kernel / kernel.sum(axis=1, keepdims=True), rtol=1e-10)
    assert np.isclose(result["mse_fixed"], np.mean((fixed @ y_train - y_true) ** 2))


def test_leave_one_out_weights_ignore_the_point_itself():
    module = load("nadaraya_watson.py")
    import minidl
    x = minidl.from_numpy(np.array([0.0, 0.5, 2.0]))
    weights = module.attention_weights(x, x, 3.0, leave_one_out=True).numpy()
    np.testing.assert_array_equal(np.diag(weights), 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
