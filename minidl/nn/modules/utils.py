"""``torch.nn.modules.utils``: the tuple helpers layers use for their size arguments."""


def _ntuple(n):
    """A parser that keeps a tuple / list (as a tuple) and repeats a scalar ``n`` times."""
    def parse(x):
        if isinstance(x, (tuple, list)):
            return tuple(x)
        return (x,) * n
    return parse


_single, _pair, _triple, _quadruple = _ntuple(1), _ntuple(2), _ntuple(3), _ntuple(4)
