"""``torch.backends.cuda``: CUDA is not built; the matmul precision flags are kept."""


class _Matmul:
    """``torch.backends.cuda.matmul``: flags that would let CUDA matmuls use TF32 / fp16."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _Matmul()


def is_built():
    return False
