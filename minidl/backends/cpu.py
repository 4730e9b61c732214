"""``torch.backends.cpu``: what the CPU kernels use."""


def get_cpu_capability():
    """torch names the SIMD level its own kernels were dispatched to ('AVX2', ...); minidl
    has no dispatch of its own (NumPy picks its SIMD level inside), so: 'DEFAULT'."""
    return "DEFAULT"
