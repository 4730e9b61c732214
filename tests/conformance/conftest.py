"""Print the OpInfo / ModuleInfo conformance counts after a run that included them."""

from tests.conformance import modules, runner


def _counts(results):
    passed = expected = failed = unsupported = 0
    for report, listed in results.values():
        unsupported += report.unsupported
        for kinds in report.samples:
            if not kinds:
                passed += 1
            elif kinds <= set(listed):
                expected += 1
            else:
                failed += 1
    clean = sum(1 for report, _ in results.values() if not report.failing)
    return (f"covered {len(results)} ({clean} with every check passing); samples run "
            f"{passed + expected + failed}: passed {passed}, failing as expected {expected}, "
            f"failing unexpectedly {failed}; unsupported samples skipped {unsupported}")


def pytest_terminal_summary(terminalreporter):
    if not runner.RESULTS and not modules.RESULTS:
        return
    terminalreporter.section("conformance with PyTorch's own test inputs")
    if runner.RESULTS:
        terminalreporter.write_line(f"ops (op_db): {_counts(runner.RESULTS)}")
    if modules.RESULTS:
        terminalreporter.write_line(f"modules (module_db): {_counts(modules.RESULTS)}")
