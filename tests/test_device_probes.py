"""Device and backend probes answer as a CPU-only build of torch does; a script can name
any device, and moving something to one minidl lacks fails at that moment, by name."""
import warnings

import pytest
import torch

import minidl

PROBES = ["cuda.is_available()", "cuda.device_count()", "cuda.is_initialized()",
          "cuda.manual_seed(0)", "cuda.manual_seed_all(0)", "cuda.seed()", "cuda.seed_all()",
          "cuda.empty_cache()", "cuda.memory_allocated()", "cuda.max_memory_allocated()",
          "cuda.memory_reserved()", "cuda.is_bf16_supported()", "cuda.get_arch_list()",
          "accelerator.is_available()", "accelerator.device_count()",
          "accelerator.current_accelerator()", "mps.is_available()", "mps.device_count()",
          "mps.manual_seed(0)", "backends.mps.is_available()", "backends.mps.is_built()",
          "backends.cudnn.is_available()", "backends.cudnn.version()",
          "backends.cudnn.enabled", "backends.cudnn.benchmark", "backends.cudnn.deterministic",
          "backends.cuda.is_built()", "backends.cuda.matmul.allow_tf32",
          "cpu.is_available()", "cpu.device_count()", "cpu.current_device()",
          "are_deterministic_algorithms_enabled()",
          "is_deterministic_algorithms_warn_only_enabled()",
          "get_float32_matmul_precision()", "str(device('cuda'))", "repr(device('cuda:1'))",
          "device('mps').type", "device('cuda', 0) == device('cuda:0')",
          "device('cuda') == device('cpu')", "is_autocast_enabled('cpu')"]
RAISING = ["cuda.synchronize()", "cuda.current_device()", "cuda.get_device_name()",
           "cuda.get_device_capability()", "cuda.get_rng_state()", "cuda.initial_seed()",
           "accelerator.current_device_index()", "accelerator.synchronize()",
           "mps.synchronize()", "device('gpu')", "device('cuda:x')", "device('cuda:-1')"]


def _eval(lib, src):
    try:
        return eval(src, {n: getattr(lib, n) for n in dir(lib) if not n.startswith("__")})
    except Exception as e:  # noqa: BLE001 -- the error type is what is compared
        return type(e)


@pytest.mark.parametrize("src", PROBES)
def test_probe_answers_as_a_cpu_build_of_torch(src):
    assert _eval(minidl, src) == _eval(torch, src)


@pytest.mark.parametrize("src", RAISING)
def test_call_that_needs_a_device_raises_as_torch_does(src):
    err = _eval(torch, src)
    assert isinstance(err, type) and _eval(minidl, src) is err


@pytest.mark.parametrize("move", [
    lambda: minidl.zeros(2).to("cuda"), lambda: minidl.zeros(2, device="cuda:0"),
    lambda: minidl.zeros(2).to(minidl.device("mps")), lambda: minidl.nn.Linear(2, 2).to("cuda"),
    lambda: minidl.nn.Linear(2, 2, device="cuda"), lambda: minidl.ones(2).cuda(),
    lambda: minidl.Generator(device="cuda")])
def test_moving_to_a_missing_device_fails_then_naming_it(move):
    with pytest.raises(RuntimeError, match="CPU only"):
        move()


def test_the_device_selection_idiom_picks_the_cpu():
    device = (minidl.accelerator.current_accelerator()
              if minidl.accelerator.is_available() else minidl.device("cpu"))
    assert minidl.ones(2, device=device).device == minidl.device("cpu")
    device = minidl.device("cuda" if minidl.cuda.is_available() else "cpu")
    assert str(minidl.nn.Linear(2, 2).to(device).weight.device) == "cpu"


def test_backend_flags_are_kept_as_assigned():
    old = minidl.backends.cudnn.benchmark
    minidl.backends.cudnn.benchmark = True
    assert minidl.backends.cudnn.benchmark is True
    minidl.backends.cudnn.benchmark = old
    import minidl.backends.cudnn as cudnn  # importable by its torch path too
    assert cudnn.is_available() is False


def test_deterministic_and_matmul_precision_flags():
    minidl.use_deterministic_algorithms(True, warn_only=True)
    assert minidl.are_deterministic_algorithms_enabled()
    assert minidl.is_deterministic_algorithms_warn_only_enabled()
    minidl.use_deterministic_algorithms(False)
    assert not minidl.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError, match="mode"):
        minidl.use_deterministic_algorithms("yes")
    minidl.set_float32_matmul_precision("high")
    assert minidl.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning, match="no effect"):
        minidl.set_float32_matmul_precision("low")
    assert minidl.get_float32_matmul_precision() == "high"
    minidl.set_float32_matmul_precision("highest")


def test_compile_returns_the_model_with_a_notice():
    model = minidl.nn.Linear(3, 2)
    with pytest.warns(UserWarning, match="no compiler"):
        assert minidl.compile(model) is model
    with pytest.warns(UserWarning, match="no compiler"):
        @minidl.compile(mode="max-autotune")
        def f(x):
            return x + 1
    assert f(minidl.ones(1)).item() == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert minidl.compile(model, disable=True) is model
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        minidl.compile(model, mode="fastest")
    with pytest.raises(RuntimeError, match="mode or options"):
        minidl.compile(model, mode="default", options={})


def test_cpu_module_and_autocast_availability():
    assert minidl.cpu.synchronize() is None and minidl.cpu.set_device("cpu") is None
    with pytest.raises(RuntimeError, match="CPU only"):
        minidl.cpu.set_device("cuda:0")
    assert minidl.amp.is_autocast_available("cpu") is True
    assert minidl.amp.is_autocast_available("cuda") is False
    assert minidl.get_device_module("cpu") is minidl.cpu
    with pytest.raises(RuntimeError, match="Expected one of"):
        minidl.get_device_module("gpu")
