"""scripts/zoo_table.py: the README's zoo table from the metrics.json of real CLI runs."""
import importlib.util
import json
import os

import pytest

from minidl import cli

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "zoo_table.py")


def load_script():
    spec = importlib.util.spec_from_file_location("zoo_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_from_cli_runs(tmp_path, capsys):
    out = tmp_path / "mlp"
    assert cli.main(["train", "mlp", "--data", "fashion-mnist-mini", "--epochs", "2",
                     "--limit", "256", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    load_script().main([str(out)])
    header, rule, row = capsys.readouterr().out.strip().splitlines()
    assert header.startswith("| model | epochs | batch | best epoch | val acc. % (best) | test "
                             "acc. % |") and rule.startswith("|---|")
    cells = [c.strip() for c in row.strip("|").split("|")]
    log = json.loads((out / "metrics.json").read_text())
    assert cells[:4] == ["mlp", "2", "128", str(log["selected"]["epoch"])]
    assert cells[4:6] == [f"{100 * log['selected']['val_acc']:.2f}",
                          f"{100 * log['test']['acc']:.2f}"]
    assert cells[6:8] == ["269.3 k", "268.8 k"]               # 784-256-256-10 params, MACs


def test_folder_without_metrics_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        load_script().main([str(tmp_path)])
    assert "no metrics.json" in capsys.readouterr().err


def test_old_metrics_name_the_missing_entry(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"config": {}, "history": []}))
    with pytest.raises(SystemExit, match="has no 'selected' entry"):
        load_script().main([str(tmp_path)])
