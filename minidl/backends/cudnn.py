"""``torch.backends.cudnn``: no cuDNN here; its flags are kept and govern nothing."""

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
