"""`minidl train yolo|fasterrcnn` for one short epoch, and `minidl detect` on its checkpoint."""
import json

import numpy as np
import pytest
from PIL import Image

from minidl.cli import main


@pytest.mark.parametrize("task", ["yolo", "fasterrcnn"])
def test_train_writes_checkpoints_and_pictures_then_detect_draws_boxes(task, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", task, "--epochs", "1", "--limit", "16", "--eval-limit", "6",
               "--batch-size", "8", "--out", str(out), "--no-progress", "--threads", "1",
               "--patience", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "16 / 6 / 6 train / val / test scenes" in printed
    assert "test mAP@0.5" in printed and "detected images/s" in printed
    for name in ("best.safetensors", "last.safetensors", "metrics.json", "curves.png",
                 "detections.png", "sample_scene.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["selected"]["monitor"] == "val_map50"
    row = metrics["history"][0]
    assert 0 <= row["val_map50"] <= 1 and 0 <= row["val_map"] <= row["val_map50"]
    assert row["images_per_s"] > 0
    # a scene of another size: the image is resized to the canvas, boxes come back scaled
    big = np.asarray(Image.open(out / "sample_scene.png").convert("L").resize((192, 144)))
    Image.fromarray(big).save(tmp_path / "scene.png")
    rc = main(["detect", str(out / "best.safetensors"), str(tmp_path / "scene.png"),
               "--out", str(tmp_path / "boxes.png"), "--min-score", "0"])
    assert rc == 0
    assert "drawn into" in capsys.readouterr().out
    with Image.open(tmp_path / "boxes.png") as drawn:
        assert drawn.size == (192, 144) and drawn.mode == "RGB"
    (tmp_path / "bad.png").write_text("not an image")
    assert main(["detect", str(out / "best.safetensors"), str(tmp_path / "bad.png")]) == 1
    assert "is not an image file Pillow can read" in capsys.readouterr().err


def test_detect_refuses_missing_files_and_other_checkpoints(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "none.safetensors"), str(tmp_path / "x.png")]) == 1
    assert "checkpoint" in capsys.readouterr().err
    import minidl
    minidl.save({"model": {}, "config": {"task": "seq2seq"}}, str(tmp_path / "c.safetensors"))
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x.png")
    assert main(["detect", str(tmp_path / "c.safetensors"), str(tmp_path / "x.png")]) == 1
    assert "not a checkpoint of 'minidl train yolo | fasterrcnn'" in capsys.readouterr().err
