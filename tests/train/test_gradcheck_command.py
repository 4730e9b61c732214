"""minidl gradcheck: backprop against central differences for zoo models, in float64."""
import numpy as np

import minidl
import minidl.train.gradcheck_command as gc
from minidl import cli, nn
from minidl.ops.activation import Relu


def test_relative_error_is_the_course_formula():
    a, b = np.array([1.0, 2.0, 2.0]), np.array([1.0, 2.0, 2.5])
    assert gc._relative_error(a, b) == np.linalg.norm(a - b) / (3.0 + np.linalg.norm(b))
    assert gc._relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_linear_layer_gradients_match_central_differences():
    model = nn.Linear(4, 3).double()
    x = minidl.from_numpy(np.random.default_rng(0).standard_normal((2, 4)))
    rows, overall = gc.gradient_check(model, x, entries=100)
    assert [r.name for r in rows] == ["weight", "bias", "input"]
    assert [r.checked for r in rows] == [12, 3, 8]  # every entry when fewer than --entries
    assert overall < 1e-9 and all(r.relative_error < 1e-9 for r in rows)
    assert sum(r.refined for r in rows) == 0  # smooth: no step was cut


def test_a_kink_within_the_step_is_stepped_over():
    # ReLU(w x + b) with the pre-activation 5e-7 above zero: the central difference at
    # eps = 1e-6 straddles the kink and gives 0.75 instead of 1 for the bias; a quarter of
    # the step no longer crosses it (J = r * ReLU(...) for a random r)
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU()).double()
    model[0].weight.data.fill_(1.0)
    model[0].bias.data.fill_(5e-7 - 0.5)
    x = minidl.from_numpy(np.array([[0.5]]))
    rows, overall = gc.gradient_check(model, x, entries=1)
    bias = rows[1]
    assert bias.name == "0.bias" and bias.refined == 1
    assert bias.relative_error < 1e-9  # at eps alone: 0.25 (0.75 r against r)
    assert overall < 1e-9 and all(gc.tensor_status(r, 1e-7, 1e-8) == "ok" for r in rows)


def test_tensor_status_names_kinks_only_within_the_spread():
    row = gc.TensorCheck("w", 10, 5, 1.0, 1.0, 1e-5, 5e-6, 3e-5, 5)
    assert gc.tensor_status(row, 1e-7, 1e-8) == "kinks"
    assert gc.tensor_status(row._replace(spread=4e-6), 1e-7, 1e-8) == "FAIL"
    assert gc.tensor_status(row._replace(relative_error=5e-8), 1e-7, 1e-8) == "ok"
    assert gc.tensor_status(row._replace(difference=5e-9), 1e-7, 1e-8) == "ok"


def test_lenet5_passes(capsys):
    assert cli.main(["gradcheck", "lenet5", "--entries", "3"]) == 0
    out = capsys.readouterr().out
    assert "features.0.weight" in out and "classifier.4.bias" in out and "input" in out
    assert "float64" in out and ": PASS" in out


def test_resnet18_on_a_tiny_input_passes_with_batch_norm_in_train_mode(capsys):
    code = cli.main(["gradcheck", "resnet18", "--entries", "1", "--input-size", "1", "8", "8",
                     "--batch-size", "4"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "batch norm train mode" in out and "layer4.1.bn2.weight" in out and ": PASS" in out


def test_a_broken_backward_fails_with_status_1(monkeypatch, capsys):
    def wrong(ctx, g):  # ReLU's derivative off by 0.1 %
        y, = ctx.saved_tensors
        return g * (y > 0) * 1.001
    monkeypatch.setattr(Relu, "backward", staticmethod(wrong))
    assert cli.main(["gradcheck", "lenet5", "--entries", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "failing: features.0.weight" in out


def test_batch_norm_modes():
    model, _ = gc.build_for_check("resnet18", (1, 8, 8))
    gc._set_modes(model, "train")
    assert not model.training and model.bn1.training and not model.layer1[0].training
    gc._set_modes(model, "eval")
    assert not model.bn1.training


def test_unknown_model_lists_the_names(capsys):
    assert cli.main(["gradcheck", "lenet7"]) == 1
    err = capsys.readouterr().err
    assert "unknown model 'lenet7'" in err and "lenet5" in err and "resnet18" in err
