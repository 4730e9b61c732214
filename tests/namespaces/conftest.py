"""Print the API-surface summary (torch names / in minidl / left out, by reason) after a run."""

from tests.namespaces.matcher import RESULTS

# Reasons shown per namespace; all of them with -v (the repo's addopts has -q, so verbosity 0).
BIGGEST_REASONS = 4


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("torch API surface: torch names / in minidl / left out")
    totals = [0, 0, 0]
    for ns, result in RESULTS.items():
        left = sum(len(names) for names in result.left_out.values())
        counts = (len(result.torch_names), len(result.present), left)
        totals = [t + c for t, c in zip(totals, counts)]
        write(f"{ns:36s} {counts[0]:5d} {counts[1]:5d} {counts[2]:5d}")
        ranked = sorted(result.left_out.items(), key=lambda item: -len(item[1]))
        shown = len(ranked) if terminalreporter.verbosity >= 0 else BIGGEST_REASONS
        for reason, names in ranked[:shown]:
            write(f"    {len(names):4d}  {reason}")
        if len(ranked) > shown:
            rest = sum(len(names) for _, names in ranked[shown:])
            write(f"    {rest:4d}  ({len(ranked) - shown} more reasons; -v lists them)")
    write(f"{'all namespaces':36s} {totals[0]:5d} {totals[1]:5d} {totals[2]:5d}")
