"""minidl's ops held to PyTorch's own OpInfo sample and error inputs (one test per entry).

Every OpInfo entry of ``op_db`` whose name minidl has (as a function of the same dotted name
or as a Tensor method) runs its seeded sample subset through both libraries (see runner.py
for the checks and tolerances). A check kind that fails must be listed for the op in
expected_failures.toml with its reason; a listed kind that passes fails the test too, so the
file stays the honest list of where minidl still differs.
"""
import warnings

import pytest

from tests.conformance import expected as expected_file
from tests.conformance.runner import RESULTS, minidl_callable, op_id, run_op

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_methods_invocations import op_db

OPS = [op for op in op_db if minidl_callable(op) is not None]
EXPECTED = expected_file.load()


def test_expected_failures_name_covered_ops():
    ids = {op_id(op) for op in OPS}
    assert ids, "no OpInfo entry matched minidl"
    unknown = sorted(set(EXPECTED) - ids)
    assert not unknown, f"expected_failures.toml names ops not covered: {unknown}"


@pytest.mark.parametrize("op", OPS, ids=op_id)
def test_op_matches_torch(op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_op(op)
    listed = EXPECTED.get(op_id(op), {})
    RESULTS[op_id(op)] = (report, listed)
    expected_file.check_against_list(op_id(op), report, listed)
