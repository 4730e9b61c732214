"""``minidl.utils.modes.eval_mode``: eval inside, each submodule's own flag restored after,
also when the body raises."""
import pytest

from minidl import nn
from minidl.utils.modes import eval_mode


def test_eval_mode_restores_every_submodule_flag():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(0.5))
    model.train()
    model[1].eval()  # a frozen BatchNorm
    with eval_mode(model) as m:
        assert m is model and not any(x.training for x in model.modules())
    assert [x.training for x in model.modules()] == [True, True, False, True]
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("inside")
    assert [x.training for x in model.modules()] == [True, True, False, True]
