"""``amp``: the CPU GradScaler follows torch's step for step (scale, skipped steps, state);
autocast keeps float32 on the CPU and disables itself for devices minidl lacks."""
import warnings

import numpy as np
import pytest
import torch

import minidl


def _train(lib, steps=12, overflow_at=(3, 4, 9), **kw):
    """SGD on a 3-weight quadratic with a scaled loss; a NaN in the data at some steps."""
    w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **kw)
    log = []
    for i in range(steps):
        x = lib.tensor([float("nan") if i in overflow_at else 1.0, 2.0, 3.0])
        opt.zero_grad()
        scaler.scale(((w * x) ** 2).sum()).backward()
        if i % 2:
            scaler.unscale_(opt)
        stepped = scaler.step(opt)
        scaler.update()
        log.append((scaler.get_scale(), stepped, w.detach().numpy().copy()))
    return log, scaler.state_dict()


@pytest.mark.parametrize("kw", [{}, {"init_scale": 8.0, "growth_interval": 2},
                                {"growth_factor": 4.0, "backoff_factor": 0.25,
                                 "growth_interval": 3}])
def test_grad_scaler_follows_torch(kw):
    mine, mine_state = _train(minidl, **kw)
    theirs, their_state = _train(torch, **kw)
    assert mine_state == their_state
    for (ms, mstep, mw), (ts, tstep, tw) in zip(mine, theirs):
        assert ms == ts and mstep == tstep
        np.testing.assert_allclose(mw, tw, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_grad_scaler_state_dict_round_trip_and_misuse():
    w = minidl.ones(2, requires_grad=True)
    opt = minidl.optim.SGD([w], lr=0.1)
    s = minidl.amp.GradScaler("cpu", init_scale=4.0)
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        minidl.amp.GradScaler("cpu").step(opt, closure=lambda: 0)
    s.update(2.0)
    t = minidl.amp.GradScaler("cpu")
    t.load_state_dict(s.state_dict())
    assert t.get_scale() == 2.0
    with pytest.raises(AssertionError, match="No inf checks"):
        t.update()
    with pytest.raises(ValueError, match="growth factor"):
        minidl.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="device type name"):
        minidl.amp.GradScaler("gpu")


def test_grad_scaler_for_a_missing_device_is_a_pass_through_as_in_torch():
    with pytest.warns(UserWarning, match="Disabling"):
        s = minidl.amp.GradScaler()  # torch's default device is "cuda"
    w = minidl.ones(2, requires_grad=True)
    opt = minidl.optim.SGD([w], lr=0.5)
    loss = w.sum()
    assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {}
    loss.backward()
    s.step(opt)
    s.update()
    assert w.tolist() == [0.5, 0.5]
    with pytest.warns(FutureWarning, match="deprecated"):
        minidl.cuda.amp.GradScaler(enabled=False)


def test_cpu_autocast_keeps_float32():
    x = minidl.randn(4, 3)
    lin = minidl.nn.Linear(3, 2)
    with minidl.autocast("cpu"):
        assert minidl.is_autocast_enabled("cpu")
        y = lin(x)
    assert not minidl.is_autocast_enabled("cpu")
    assert y.dtype == minidl.float32 and minidl.equal(y, lin(x))
    assert minidl.get_autocast_dtype("cpu") == minidl.float32

    @minidl.amp.autocast("cpu")
    def f():
        return minidl.is_autocast_enabled("cpu")
    assert f()


def test_autocast_refuses_lower_precision_and_disables_for_missing_devices():
    with pytest.raises(NotImplementedError, match="float16"):
        minidl.autocast("cpu", dtype=minidl.float16)
    with pytest.warns(UserWarning, match="not supported"):
        with minidl.autocast("cpu", dtype=minidl.float32):
            assert not minidl.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with minidl.autocast("cuda"):
            assert not minidl.is_autocast_enabled("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with minidl.autocast("cuda", enabled=False):
            pass
    with pytest.raises(ValueError, match="device_type"):
        minidl.autocast(0)
