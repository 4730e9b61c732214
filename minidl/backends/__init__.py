"""``torch.backends``: the flags scripts set for torch's vendor libraries.

minidl computes with NumPy on the CPU, so it has none of cuDNN, MPS, CUDA, oneDNN, MKL or
OpenMP itself: each submodule reports what a CPU-only build reports for a library it lacks
(``is_available()`` False) and keeps the flags scripts assign (``cudnn.benchmark = True``),
which then govern nothing -- as on a CPU build of torch, where no cuDNN kernel runs either.
"""
from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp  # noqa: F401
