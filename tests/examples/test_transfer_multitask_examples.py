"""The transfer-learning and multi-task examples in their short modes: each writes its
figure and the phenomenon shows in the numbers it returns."""
import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.train.recipes import load_classifier, resolve_config, train_classifier
from tests.test_examples import load


def _figure_written(result, tmp_path, name):
    assert result["figure"] == str(tmp_path / name)
    assert (tmp_path / name).stat().st_size > 10000


def _state(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _changed(a, b):
    return {k for k in a if not np.array_equal(a[k], b[k])}


def _check_transferred(result, pretrained_state):
    """Frozen features bit-for-bit the pretrained ones, fresh 10-way heads, the rest trained."""
    frozen, tuned = result["runs"]["frozen"][0]["model"], result["runs"]["fine-tune"][0]["model"]
    _assert_same(_state(frozen.features), pretrained_state["features"])
    assert not any(p.requires_grad for p in frozen.features.parameters())
    assert all(p.requires_grad for p in frozen.classifier.parameters())
    assert _changed(_state(frozen.classifier), pretrained_state["classifier"]) == {
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    assert _changed(_state(tuned.features), pretrained_state["features"]) == {
        "0.weight", "0.bias", "3.weight", "3.bias"}
    for model in (frozen, tuned):
        head = model.classifier[-1]
        assert (head.in_features, head.out_features) == (84, 10)
        assert head is not result["pretrained"].classifier[-1]
    # the pretrained net itself is left as it was: trainable, with its own head
    assert all(p.requires_grad for p in result["pretrained"].parameters())
    _assert_same(_state(result["pretrained"].features), pretrained_state["features"])


def test_mnist_features_give_fashion_a_head_start_and_frozen_layers_stay_put(tmp_path):
    module = load("transfer_learning.py")
    result = module.main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "transfer_learning.png")
    assert result["pretrain_acc"] > 0.93          # LeNet-5 did learn MNIST
    runs = result["runs"]
    assert set(runs) == {"scratch", "frozen", "fine-tune"}
    for mode, (run,) in runs.items():
        assert len(run["val_acc"]) == 30
        assert run["val_acc"][run["best_epoch"] - 1] == run["val_acc"].max()
        assert result["test_acc"][mode] == run["test_acc"] > 0.6   # chance is 0.1
    # the honest phenomenon: frozen MNIST features learn Fashion faster from 100 labels ...
    # (epochs 1-5 margin 0.06-0.15 over 8 other subset / pretraining seeds)
    early = result["early_val_acc"]
    assert early["frozen"] > early["scratch"] + 0.04
    # ... and the best epochs end up close (scratch is not left behind)
    assert abs(result["test_acc"]["frozen"] - result["test_acc"]["scratch"]) < 0.06
    pretrained = {name: _state(getattr(result["pretrained"], name))
                  for name in ("features", "classifier")}
    _check_transferred(result, pretrained)


def test_make_model_replaces_the_head_with_a_fresh_one_and_freezes_only_features():
    module = load("transfer_learning.py")
    minidl.manual_seed(5)
    pretrained = module.get_model("lenet5")
    before = _state(pretrained)
    for mode in ("frozen", "fine-tune"):
        model = module.make_model(mode, pretrained, seed=7)
        minidl.manual_seed(7)
        fresh = _state(minidl.nn.Linear(84, 10))
        _assert_same(_state(model.classifier[-1]), fresh)
        assert not np.array_equal(fresh["weight"], before["classifier.4.weight"])
        _assert_same({k: v for k, v in _state(model).items() if not k.startswith("classifier.4")},
                     {k: v for k, v in before.items() if not k.startswith("classifier.4")})
        frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
        assert frozen == ({"features.0.weight", "features.0.bias", "features.3.weight",
                           "features.3.bias"} if mode == "frozen" else set())
    _assert_same(_state(pretrained), before)
    assert all(p.requires_grad for p in pretrained.parameters())


def test_transfer_starts_from_a_minidl_train_checkpoint(tmp_path):
    config = resolve_config("lenet", epochs=1, limit=1000, seed=1)
    summary = train_classifier(config, out_dir=str(tmp_path / "run"), progress=False)
    path = str(tmp_path / "run" / "best.safetensors")
    saved, saved_config = load_classifier(path)
    module = load("transfer_learning.py")
    result = module.main(["--quick", "--checkpoint", path, "--epochs", "2",
                          "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "transfer_learning.png")
    assert all(len(run["val_acc"]) == 2 for (run,) in result["runs"].values())
    assert result["pretrain_acc"] == pytest.approx(summary["test_acc"], abs=1e-9)
    _assert_same(_state(result["pretrained"]), _state(saved))
    _check_transferred(result, {name: _state(getattr(saved, name))
                                for name in ("features", "classifier")})


def test_multitask_net_learns_both_tasks_as_well_as_two_single_task_nets(tmp_path):
    module = load("multitask_learning.py")
    result = module.main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "multitask_learning.png")
    assert result["weights"] == (1.0, 0.5)
    runs = result["runs"]
    multi, digit, parity = runs["multi-task"], runs["digit only"], runs["parity only"]
    for run in runs.values():
        assert len(run["loss"]) == len(run["val"]["digit"]) == 8
    assert multi["test"]["digit"] > 0.88 and multi["test"]["parity"] > 0.9  # chance .1, .5
    assert multi["val"]["digit"][-1] > multi["val"]["digit"][0]
    # one shared trunk does about as well as two nets (gaps <= 0.033 over seeds 0-3)
    assert multi["test"]["digit"] > digit["test"]["digit"] - 0.05
    assert multi["test"]["parity"] > parity["test"]["parity"] - 0.05
    assert digit["test"]["digit"] > 0.88 and parity["test"]["parity"] > 0.9
    # the logged loss is the weighted sum of the logged task losses
    np.testing.assert_allclose(multi["loss"], 1.0 * multi["l1"] + 0.5 * multi["l2"],
                               rtol=1e-6)
    np.testing.assert_allclose(digit["loss"], digit["l1"], rtol=1e-6)
    assert multi["loss"][-1] < 0.5 * multi["loss"][0]
    # a zero weight leaves that head exactly at its initial weights, the rest trained
    minidl.manual_seed(0)
    init = _state(module.TwoHeadNet())
    assert _changed(_state(digit["model"]), init) == {k for k in init
                                                      if not k.startswith("parity_head")}
    assert _changed(_state(parity["model"]), init) == {k for k in init
                                                       if not k.startswith("digit_head")}
    assert _changed(_state(multi["model"]), init) == set(init)


def _bce_ce(digit_logits, parity_logit, digits):
    """The two losses recomputed in float64 NumPy from the logits."""
    z = digit_logits.astype(np.float64)
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    ce = -log_p[np.arange(len(digits)), digits].mean()
    s, t = parity_logit.astype(np.float64), digits % 2
    bce = (np.maximum(s, 0) - s * t + np.log1p(np.exp(-np.abs(s)))).mean()
    return ce, bce


@pytest.mark.parametrize("weights", [(1.0, 0.5), (0.3, 2.0)])
def test_multitask_loss_is_exactly_the_weighted_sum_and_so_is_its_gradient(weights):
    module = load("multitask_learning.py")
    from minidl.vision.datasets import load_bundled
    images, labels = load_bundled("mnist-mini", train=True)
    x = minidl.from_numpy(images.numpy()[:32, None].astype(np.float32) / 255.0)
    y = minidl.from_numpy(labels.numpy()[:32])
    minidl.manual_seed(0)
    model = module.TwoHeadNet()
    total, l1, l2 = module.losses(model, x, y, weights)
    with minidl.no_grad():
        digit_logits, parity_logit = model(x)
    ce, bce = _bce_ce(digit_logits.numpy(), parity_logit.numpy(), y.numpy())
    assert l1.item() == pytest.approx(ce, rel=1e-5)
    assert l2.item() == pytest.approx(bce, rel=1e-5)
    assert total.item() == pytest.approx(weights[0] * ce + weights[1] * bce, rel=1e-5)
    assert total.item() == pytest.approx(weights[0] * l1.item() + weights[1] * l2.item(),
                                         rel=1e-6)
    params = list(model.parameters())
    grads = []
    for loss in (total, l1, l2):
        model.zero_grad()
        loss.backward(retain_graph=True)
        grads.append([np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy().copy()
                      for p in params])
    for g, g1, g2 in zip(*grads):
        np.testing.assert_allclose(g, weights[0] * g1 + weights[1] * g2, rtol=1e-4,
                                   atol=1e-7)
    assert F.cross_entropy(digit_logits, y).item() == pytest.approx(l1.item(), rel=1e-6)


def test_multitask_weights_come_from_the_command_line():
    module = load("multitask_learning.py")
    assert module.parse(["--weights", "2", "0.25"]).weights == [2.0, 0.25]
    with pytest.raises(SystemExit):
        module.parse(["--weights", "-1", "1"])
    with pytest.raises(SystemExit):
        module.parse(["--weights", "0", "0"])
