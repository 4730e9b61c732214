"""minidl's nn layers held to PyTorch's own ModuleInfo inputs (one test per module).

Every ModuleInfo entry of ``module_db`` whose class name minidl.nn has runs its seeded input
subset through both libraries with the same weights (see modules.py). Failing check kinds
must be listed in expected_failures.toml under the module's name (``nn.Conv2d``), exactly as
for ops; a listed kind that passes fails the test.
"""
import warnings

import pytest

from tests.conformance import expected as expected_file
from tests.conformance.modules import RESULTS, minidl_module, module_id, run_module

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_modules import module_db

MODULES = [m for m in module_db if minidl_module(m) is not None]
EXPECTED = expected_file.load()


@pytest.mark.parametrize("info", MODULES, ids=module_id)
def test_module_matches_torch(info):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_module(info)
    listed = EXPECTED.get(module_id(info), {})
    RESULTS[module_id(info)] = (report, listed)
    expected_file.check_against_list(module_id(info), report, listed)
