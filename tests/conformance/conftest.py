"""Print the OpInfo conformance counts after a run that included tests/conformance."""

from tests.conformance.runner import RESULTS


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    passed = expected = failed = unsupported = 0
    for report, listed in RESULTS.values():
        unsupported += report.unsupported
        for kinds in report.samples:
            if not kinds:
                passed += 1
            elif kinds <= set(listed):
                expected += 1
            else:
                failed += 1
    ops_clean = sum(1 for report, _ in RESULTS.values() if not report.failing)
    run = passed + expected + failed
    write = terminalreporter.write_line
    terminalreporter.section("OpInfo conformance (torch op_db vs minidl)")
    write(f"ops covered {len(RESULTS)} ({ops_clean} with every check passing); "
          f"samples run {run}: passed {passed}, failing as expected {expected}, "
          f"failing unexpectedly {failed}; unsupported samples skipped {unsupported}")
