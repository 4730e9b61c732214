"""The examples run as scripts; the torch-style one also runs unchanged on real torch."""
import pathlib
import types

import torch

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name, swap_torch=False):
    source = (EXAMPLES / name).read_text()
    if swap_torch:
        source = (source.replace("import minidl as torch", "import torch")
                  .replace("minidl.nn", "torch.nn")
                  .replace("minidl.utils.data", "torch.utils.data"))
    module = types.ModuleType(name[:-3])
    exec(compile(source, str(EXAMPLES / name), "exec"), module.__dict__)
    return module


def test_torch_style_lenet_learns_in_minidl():
    accuracy = load("lenet_torch_style.py").main(["--epochs", "2", "--limit", "2000"])
    assert accuracy > 0.7


def test_torch_style_lenet_is_plain_torch_code():
    module = load("lenet_torch_style.py", swap_torch=True)
    model = module.LeNet5()
    out = model(torch.zeros(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 61706
