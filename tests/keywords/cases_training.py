"""Cases for training: optimizers, schedulers, autograd and data loading."""
import multiprocessing

import numpy as np
import torch

import minidl

from .checks import Custom, Differs, NoOp, Refused, Seeded, Warns, each

_OPTIMIZERS = "Adadelta Adagrad Adam AdamW Adamax NAdam RAdam RMSprop SGD"
_UNUSED = "(w * w).sum(), [w, x.requires_grad_()]"  # x does not enter the output
_LENIENT = "lambda a: a.exp(), (xd.requires_grad_(),), raise_exception=False"
_ONE_CYCLE_EPOCHS = "opt, 0.5, epochs=2, steps_per_epoch=4"
_PLATEAU_WORSE = "opt, mode='max', patience=0"  # the metric falls: every epoch is worse
# LBFGS needs a closure, so its keywords are checked by _lbfgs_keyword (value; None: by name)
_LBFGS_VALUES = {"params": None, "lr": 0.5, "max_iter": 3, "max_eval": 5, "tolerance_grad": 1e3,
                 "tolerance_change": 1e-2, "history_size": 2, "line_search_fn": "strong_wolfe"}


def _optim(names):
    return " ".join(f"optim.{n}" for n in names.split())


TRAINING_CASES = {
    # ------------------------------------------------------------------- optimizers
    **each(_optim("Adam AdamW Adamax NAdam RAdam"), "betas", Differs("(0.5, 0.6)")),
    **each(_optim(_OPTIMIZERS), "foreach",
           NoOp("True", "foreach picks torch's multi-tensor kernels: the same update")),
    **each(_optim("Adagrad Adam AdamW SGD"), "fused",
           NoOp("True", "fused picks torch's fused kernels: the same update")),
    **each(_optim("Adadelta Adam AdamW Adamax NAdam RAdam RMSprop"), "capturable",
           Refused("True", RuntimeError, "capturable")),
    **each(_optim(_OPTIMIZERS), "differentiable",
           Refused("True", NotImplementedError, "differentiable")),
    **each(_optim("Adam NAdam RAdam"), "decoupled_weight_decay",
           Differs("True", base="params, lr=0.1, weight_decay=0.1")),
    ("optim.SGD", "nesterov"): [Differs("True", base="params, lr=0.1, momentum=0.9")],
    ("optim.SGD", "dampening"): [Differs("0.5", base="params, lr=0.1, momentum=0.9")],
    ("optim.Adadelta", "rho"): [Differs("0.5")],
    ("optim.Adagrad", "lr_decay"): [Differs("0.5")],
    ("optim.Adagrad", "initial_accumulator_value"): [Differs("1.0")],
    ("optim.NAdam", "momentum_decay"): [Differs("0.5")],
    **{("optim.LBFGS", kw): [Custom(lambda lib, kw=kw, v=v: _lbfgs_keyword(kw, v),
                                    "two closure steps on a Rosenbrock: torch's, and changed")]
       for kw, v in _LBFGS_VALUES.items()},
    **each("optim.Optimizer", "params", Custom(lambda torch: _optimizer_base(torch),
                                               "the base class keeps its groups and defaults")),
    **each("optim.Optimizer", "defaults", Custom(lambda torch: _optimizer_base(torch),
                                                 "the base class keeps its groups and defaults")),
    # ------------------------------------------------------------------- schedulers
    ("lr_scheduler.LRScheduler", "optimizer"): [
        Custom(lambda torch: _scheduler_base(torch, "optimizer"),
               "a subclass's get_lr drives the optimizer")],
    ("lr_scheduler.LRScheduler", "last_epoch"): [
        Custom(lambda torch: _scheduler_base(torch, "last_epoch"), "resuming needs initial_lr")],
    ("lr_scheduler.ChainedScheduler", "optimizer"): [
        NoOp("opt", "the schedulers' own optimizer"),
        Refused("torch.optim.SGD(params, lr=0.1)", ValueError, "optimizer")],
    ("lr_scheduler.SequentialLR", "last_epoch"): [Differs("3")],
    ("lr_scheduler.ConstantLR", "factor"): [Differs("0.5")],
    **each("lr_scheduler.ConstantLR lr_scheduler.LinearLR lr_scheduler.PolynomialLR",
           "total_iters", Differs("3")),
    ("lr_scheduler.LinearLR", "start_factor"): [Differs("0.5")],
    ("lr_scheduler.LinearLR", "end_factor"): [Differs("0.5")],
    ("lr_scheduler.PolynomialLR", "power"): [Differs("2.0")],
    ("lr_scheduler.CosineAnnealingWarmRestarts", "T_mult"): [Differs("2")],
    ("lr_scheduler.CyclicLR", "mode"): [Differs("'triangular2'")],
    ("lr_scheduler.CyclicLR", "gamma"): [
        Differs("0.5", base="opt, 0.01, 0.1, 2, mode='exp_range'")],
    ("lr_scheduler.CyclicLR", "step_size_up"): [Differs("3")],
    ("lr_scheduler.CyclicLR", "step_size_down"): [Differs("1")],
    ("lr_scheduler.CyclicLR", "scale_fn"): [Differs("lambda c: 0.5")],
    ("lr_scheduler.CyclicLR", "scale_mode"): [
        Differs("'iterations'", base="opt, 0.01, 0.1, 2, scale_fn=lambda c: 0.9 ** c")],
    **each("lr_scheduler.CyclicLR lr_scheduler.OneCycleLR", "base_momentum", Differs("0.5")),
    **each("lr_scheduler.CyclicLR lr_scheduler.OneCycleLR", "max_momentum", Differs("0.99")),
    ("lr_scheduler.OneCycleLR", "total_steps"): [Differs("10")],
    ("lr_scheduler.OneCycleLR", "epochs"): [Differs("3", base=_ONE_CYCLE_EPOCHS)],
    ("lr_scheduler.OneCycleLR", "steps_per_epoch"): [Differs("5", base=_ONE_CYCLE_EPOCHS)],
    ("lr_scheduler.OneCycleLR", "pct_start"): [Differs("0.5")],
    ("lr_scheduler.OneCycleLR", "anneal_strategy"): [Differs("'linear'")],
    ("lr_scheduler.OneCycleLR", "div_factor"): [Differs("5.0")],
    ("lr_scheduler.OneCycleLR", "final_div_factor"): [Differs("10.0")],
    ("lr_scheduler.ReduceLROnPlateau", "mode"): [Differs("'max'")],
    ("lr_scheduler.ReduceLROnPlateau", "threshold"): [Differs("0.5", base="opt, patience=0")],
    ("lr_scheduler.ReduceLROnPlateau", "threshold_mode"): [
        Differs("'abs'", base="opt, threshold=0.03, patience=0")],
    **{("lr_scheduler.ReduceLROnPlateau", kw): [Differs(value, base=_PLATEAU_WORSE)]
       for kw, value in (("factor", "0.5"), ("patience", "3"), ("cooldown", "2"),
                         ("min_lr", "0.05"), ("eps", "0.5"))},
    # --------------------------------------------------------------------- autograd
    ("autograd.grad", "allow_unused"): [Differs("True", base=_UNUSED, from_error=True)],
    ("autograd.grad", "materialize_grads"): [
        Differs("True", base=_UNUSED + ", allow_unused=True")],
    ("autograd.grad", "grad_outputs"): [Differs("torch.tensor(2.0)")],
    ("autograd.grad", "retain_graph"): [Custom(lambda torch: _retains(torch, "grad"),
                                               "a second backward through the graph works")],
    ("autograd.grad", "create_graph"): [Custom(lambda torch: _second_derivative(torch, "grad"),
                                               "the gradient is recorded: d2(x^3)/dx2 = 6x")],
    ("autograd.backward", "grad_tensors"): [Differs("torch.tensor(2.0)")],
    ("Tensor.backward", "gradient"): [Differs("torch.tensor(2.0)")],
    **each("autograd.backward Tensor.backward", "retain_graph",
           Custom(lambda torch: _retains(torch, "backward"), "a second backward works")),
    **each("autograd.backward Tensor.backward", "create_graph",
           Custom(lambda torch: _second_derivative(torch, "backward"),
                  ".grad is recorded: d2(x^3)/dx2 = 6x")),
    **each("autograd.backward Tensor.backward", "inputs",
           Custom(lambda torch: _backward_inputs(torch), "only the given tensors accumulate")),
    ("autograd.gradcheck", "eps"): [Differs("0.5", base=_LENIENT)],
    ("autograd.gradcheck", "atol"): [Differs("0.0", base=_LENIENT + ", rtol=0.0, eps=1e-3")],
    ("autograd.gradcheck", "rtol"): [Differs("0.0", base=_LENIENT + ", atol=0.0, eps=1e-3")],
    ("autograd.gradcheck", "raise_exception"): [
        Custom(lambda torch: _gradcheck_raises(torch), "False returns False instead of raising")],
    ("autograd.gradcheck", "nondet_tol"): [
        Custom(lambda torch: _gradcheck_nondet(torch), "the tolerance between two backwards")],
    ("autograd.gradcheck", "check_undefined_grad"): [
        Custom(lambda torch: _gradcheck_undefined(torch), "zero output grads, zero input grads")],
    ("autograd.gradcheck", "check_grad_dtypes"): [
        Custom(lambda torch: _gradcheck_dtypes(torch),
               "gradients arrive in their input's dtype, as in torch")],
    ("autograd.gradcheck", "fast_mode"): [
        Custom(lambda torch: _gradcheck_fast(torch),
               "torch's v^T J u check finds a wrong backward and passes a right one")],
    **{("autograd.gradcheck", kw): [Refused("True", NotImplementedError, kw)]
       for kw in ("check_batched_grad", "check_batched_forward_grad", "check_forward_ad")},
    ("autograd.gradcheck", "check_backward_ad"): [
        Refused("False", ValueError, "check_backward_ad")],
    ("autograd.gradgradcheck", "grad_outputs"): [
        Custom(lambda torch: _gradgrad_outputs(torch), "the given cotangents are used")],
    ("autograd.gradgradcheck", "eps"): [Differs("0.5", base=_LENIENT)],
    ("autograd.gradgradcheck", "raise_exception"): [
        Custom(lambda torch: _gradcheck_raises(torch, "gradgradcheck"),
               "False returns False instead of raising")],
    ("autograd.gradgradcheck", "atol"): [
        Differs("0.0", base=_LENIENT + ", rtol=0.0, eps=1e-3")],
    ("autograd.gradgradcheck", "rtol"): [
        Differs("0.0", base=_LENIENT + ", atol=0.0, eps=1e-3")],
    ("autograd.gradgradcheck", "gen_non_contig_grad_outputs"): [
        NoOp("True", "non-contiguous generated cotangents: the same verdict")],
    ("autograd.gradgradcheck", "nondet_tol"): [
        Custom(lambda torch: _gradgrad_nondet(torch), "the tolerance between two backwards")],
    ("autograd.gradgradcheck", "check_undefined_grad"): [
        Custom(lambda torch: _gradgrad_undefined(torch), "zero output grads, zero input grads")],
    ("autograd.gradgradcheck", "check_grad_dtypes"): [
        Custom(lambda torch: _gradgrad_dtypes(torch), "a second derivative in the wrong dtype")],
    ("autograd.gradgradcheck", "fast_mode"): [
        Custom(lambda torch: _gradgrad_fast(torch),
               "v^T J u finds a wrong second derivative and passes a right one")],
    **{("autograd.gradgradcheck", kw): [Refused("True", NotImplementedError, kw)]
       for kw in ("check_batched_grad", "check_fwd_over_rev", "masked")},
    ("autograd.gradgradcheck", "check_rev_over_rev"): [
        Refused("False", ValueError, "check_rev_over_rev")],
    # ------------------------------------------------------------------------- data
    ("data.DataLoader", "generator"): [Seeded(base="ds, 3, True")],
    ("data.DataLoader", "batch_size"): [Differs("2")],
    ("data.DataLoader", "sampler"): [Differs("data.SubsetRandomSampler([1, 2])")],
    ("data.DataLoader", "batch_sampler"): [Differs("[[0, 1], [5]]", base="ds")],
    ("data.DataLoader", "collate_fn"): [Differs("len")],
    ("data.DataLoader", "num_workers"): [
        NoOp("2", "worker processes hand back the batches num_workers=0 gives, in order")],
    ("data.DataLoader", "pin_memory"): [Warns("True", "no accelerator")],
    ("data.DataLoader", "pin_memory_device"): [
        Warns("'cuda'", "pin_memory_device is deprecated", base="ds, 3, pin_memory=True")],
    ("data.DataLoader", "timeout"): [Custom(lambda torch: _loader_times_out(torch),
                                            "a worker slower than timeout is an error")],
    ("data.DataLoader", "worker_init_fn"): [Custom(lambda torch: _worker_init(torch),
                                                   "called once in every worker")],
    ("data.DataLoader", "multiprocessing_context"): [
        Refused("'spawn'", ValueError, "multiprocessing_context"),
        Refused("'threads'", ValueError, "multiprocessing_context", base="ds, 3, num_workers=2"),
        Custom(lambda torch: _spawned(torch), "the workers are started by that context")],
    ("data.DataLoader", "prefetch_factor"): [
        Refused("2", ValueError, "prefetch_factor"),
        NoOp("4", "batches come back in order however many are prefetched", in_torch=False,
             base="ds, 3, num_workers=2")],
    ("data.DataLoader", "persistent_workers"): [
        Refused("True", ValueError, "persistent_workers"),
        Custom(lambda torch: _persistent(torch), "the worker pool outlives the epoch")],
    ("data.DataLoader", "in_order"): [Custom(lambda torch: _out_of_order(torch),
                                             "in_order=False hands a ready batch back first")],
    ("data.RandomSampler", "num_samples"): [Differs("3")],
    ("data.WeightedRandomSampler", "replacement"): [Differs("False", base="[0.1, 0.1, 0.8], 3")],
}


def _optimizer_base(torch):
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Optimizer(params=[w], defaults={"lr": 0.5})
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is w


def _scheduler_base(torch, kw):
    class Halving(torch.optim.lr_scheduler.LRScheduler):
        def get_lr(self):
            return [g["lr"] * 0.5 for g in self.optimizer.param_groups]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
    if kw == "optimizer":
        scheduler = Halving(optimizer=opt)
        opt.step()
        scheduler.step()
        assert opt.param_groups[0]["lr"] == 0.25
        return
    try:
        Halving(opt, last_epoch=3)
    except KeyError as e:
        assert "initial_lr" in str(e)
    else:
        raise AssertionError("last_epoch=3 without initial_lr should fail")


def _retains(torch, how):
    """retain_graph=True keeps the graph for one more backward; the next one fails."""
    w = torch.ones(2, requires_grad=True)
    y = (w * w).sum()

    def once(**kw):
        return torch.autograd.grad(y, w, **kw) if how == "grad" else y.backward(**kw)
    once(retain_graph=True)
    once()
    try:
        once()
    except RuntimeError:
        return
    raise AssertionError("a third backward without retain_graph should fail")


def _function(torch, backward):
    class Doubling(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return backward(g)
    return Doubling.apply


def _x(torch):
    return torch.randn(3, dtype=torch.float64, requires_grad=True)


def _second_derivative(torch, how):
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = (x ** 3).sum()
    if how == "grad":
        g, = torch.autograd.grad(y, x, create_graph=True)
    else:
        y.backward(create_graph=True)
        g, x.grad = x.grad, None
    assert g.requires_grad
    h, = torch.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0], h


def _backward_inputs(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]


def _wrong_second(torch):
    """x^2 with the right first derivative 2x but a constant (detached) one inside."""
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * 2 * a.detach()
    return Square.apply


def _gradgrad_outputs(torch):
    x, ggc = _x(torch), torch.autograd.gradgradcheck
    v = torch.ones(3, dtype=torch.float64, requires_grad=True)
    assert ggc(lambda a: a.sin() * a, (x,), grad_outputs=(v,))
    try:
        ggc(lambda a: a.sin() * a, (x,), grad_outputs=(torch.ones(2, dtype=torch.float64),))
    except RuntimeError:
        return
    raise AssertionError("a cotangent of the wrong shape should be refused")


def _twice(torch, inner_backward):
    """2x whose backward is itself a custom 2x with ``inner_backward``: the second
    derivative runs ``inner_backward``."""
    inner = _function(torch, inner_backward)
    return _function(torch, lambda g: inner(g))


def _gradgrad_nondet(torch):
    calls = []

    def jittery(g):
        calls.append(1)
        return g * (2 + len(calls) * 1e-9)
    f, x, ggc = _twice(torch, jittery), _x(torch), torch.autograd.gradgradcheck
    assert not ggc(f, (x,), raise_exception=False, check_undefined_grad=False)
    assert ggc(f, (x,), nondet_tol=1e-6, check_undefined_grad=False)


def _gradgrad_undefined(torch):
    f = _twice(torch, lambda g: g * 2 + 1e-12)  # a second derivative even where the grad is 0
    x, ggc = _x(torch), torch.autograd.gradgradcheck
    assert not ggc(f, (x,), raise_exception=False)
    assert ggc(f, (x,), check_undefined_grad=False)


def _gradgrad_dtypes(torch):
    """Gradients of the recorded backward are cast to their inputs' dtypes, so the check
    passes with check_grad_dtypes=True, in minidl and in torch alike."""
    import torch as real
    for lib in (torch, real):
        assert lib.autograd.gradgradcheck(lambda a: a.sin() * a, (_x(lib),),
                                          check_grad_dtypes=True)


def _gradgrad_fast(torch):
    x, ggc = _x(torch), torch.autograd.gradgradcheck
    assert not ggc(_wrong_second(torch), (x,), fast_mode=True, raise_exception=False)
    assert ggc(lambda a: a.tanh() * a, (x,), fast_mode=True)


def _gradcheck_raises(torch, name="gradcheck"):
    x, gc = _x(torch), getattr(torch.autograd, name)
    assert gc(lambda a: a.exp(), (x,), eps=0.5, raise_exception=False) is False
    try:
        gc(lambda a: a.exp(), (x,), eps=0.5)
    except RuntimeError:
        return
    raise AssertionError("gradcheck should raise")


def _gradcheck_nondet(torch):
    calls = []

    def jittery(g):
        calls.append(1)
        return g * 2 + len(calls) * 1e-9
    f, x, gc = _function(torch, jittery), _x(torch), torch.autograd.gradcheck
    assert not gc(f, (x,), raise_exception=False, check_undefined_grad=False)
    assert gc(f, (x,), nondet_tol=1e-6, check_undefined_grad=False)


def _gradcheck_undefined(torch):
    f = _function(torch, lambda g: g * 2 + 1e-12)  # a gradient even where the output's is 0
    x, gc = _x(torch), torch.autograd.gradcheck
    assert not gc(f, (x,), raise_exception=False)
    assert gc(f, (x,), check_undefined_grad=False)


def _gradcheck_dtypes(torch):
    """The engine casts a gradient to its input's dtype (torch's does too), so even a backward
    returning float32 for a float64 input passes, in minidl and in torch alike."""
    import torch as real
    for lib in (torch, real):
        f = _function(lib, lambda g: (g * 2).float())
        assert lib.autograd.gradcheck(f, (_x(lib),), atol=1e-4, check_grad_dtypes=True)


def _gradcheck_fast(torch):
    wrong, x, gc = _function(torch, lambda g: g * 3), _x(torch), torch.autograd.gradcheck
    assert not gc(wrong, (x,), fast_mode=True, raise_exception=False)
    assert gc(lambda a: a.tanh() * a, (x,), fast_mode=True)


class _Held:
    """A data set of 0..7 whose item 0 waits (at most ``hold`` seconds) for ``release``."""

    def __init__(self, torch, hold=0):
        self.torch, self.release, self.hold = torch, multiprocessing.Event(), hold

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0 and self.hold:
            self.release.wait(self.hold)
        return self.torch.tensor(i)


def _out_of_order(torch):
    loader = torch.utils.data.DataLoader
    held = _Held(torch, hold=10)  # released once the first batch has come back
    batches = iter(loader(held, batch_size=None, num_workers=2, in_order=False))
    first = int(next(batches))
    held.release.set()
    assert first == 1 and sorted(int(b) for b in batches) == [0, 2, 3, 4, 5, 6, 7], first
    in_order = loader(_Held(torch, hold=0.3), batch_size=None, num_workers=2)
    assert int(next(iter(in_order))) == 0


def _loader_times_out(torch):
    class Stuck(_Held):
        def __getitem__(self, i):
            self.release.wait(0.3)
            return self.torch.tensor(i)
    try:
        list(torch.utils.data.DataLoader(Stuck(torch), num_workers=1, timeout=0.05))
    except RuntimeError as e:
        assert "timed out" in str(e)
        return
    raise AssertionError("the loader should time out")


def _worker_init(torch):
    seen = multiprocessing.SimpleQueue()  # the workers are processes
    list(torch.utils.data.DataLoader(_Held(torch), num_workers=2,
                                     worker_init_fn=seen.put))
    assert sorted(seen.get() for _ in range(2)) == [0, 1] and seen.empty()


def _spawned(torch):
    loader = torch.utils.data.DataLoader(torch.arange(4), batch_size=2, num_workers=1,
                                         multiprocessing_context="spawn", persistent_workers=True)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
    assert all(type(p).__name__ == "SpawnProcess" for p in loader._pool.workers)


def _persistent(torch):
    loader = torch.utils.data.DataLoader(_Held(torch), num_workers=2,
                                         persistent_workers=True)
    first = [int(b) for b in loader]
    pool = loader._pool
    assert [int(b) for b in loader] == first and pool is not None and loader._pool is pool


def _lbfgs_keyword(kw, value):
    """LBFGS(params=..., kw=value): two closure steps give torch's parameters and counters,
    and (unless ``value`` is None: ``params`` by name) differ from the steps without it."""
    def steps(lib, options):
        w = lib.nn.Parameter(lib.tensor(np.array([-1.2, 1.0, 0.5])))
        opt = lib.optim.LBFGS(params=[w], **options)

        def closure():
            opt.zero_grad()
            loss = (10 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        state = opt.state_dict()["state"][0]
        return np.array(w.tolist()), state["func_evals"], state["n_iter"]

    changed = {} if value is None else {kw: value}
    ours, theirs = steps(minidl, changed), steps(torch, changed)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-9)  # 40 iterations
    assert ours[1:] == theirs[1:], f"LBFGS({kw}={value!r}): (func_evals, n_iter) {ours[1:]} " \
                                   f"but torch {theirs[1:]}"
    if value is not None:
        plain = steps(minidl, {})
        assert ours[1:] != plain[1:] or not np.allclose(ours[0], plain[0]), \
            f"LBFGS({kw}={value!r}) has no effect"
