"""Classification metrics against hand-computed figures."""
import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.train import (
    Trainer,
    accuracy,
    confusion_matrix,
    evaluate,
    precision_recall_f1,
    top_k_accuracy,
)
from minidl.utils.data import DataLoader, TensorDataset

PRED = np.array([0, 0, 2, 2, 1, 0, 2])
TARGET = np.array([0, 2, 2, 2, 1, 1, 0])
# by hand: rows = truth, columns = prediction
MATRIX = [[1, 0, 1], [1, 1, 0], [1, 0, 2]]
PRECISION, RECALL, F1 = [1 / 3, 1, 2 / 3], [1 / 2, 1 / 2, 2 / 3], [0.4, 2 / 3, 2 / 3]
SCORES = np.array([[0.1, 0.5, 0.3, 0.1],     # class 2: second
                   [0.9, 0.0, 0.05, 0.05],   # class 3: tied with 2 for second, 2 wins
                   [0.2, 0.2, 0.2, 0.4]], dtype=np.float32)  # class 0: tied, 0 wins
SCORE_TARGET = np.array([2, 3, 0])


def test_accuracy_and_confusion_matrix():
    assert accuracy(PRED, TARGET) == pytest.approx(4 / 7)
    assert accuracy(minidl.from_numpy(SCORES), minidl.from_numpy(SCORE_TARGET)) == 0
    m = confusion_matrix(PRED, TARGET)
    assert m.dtype == np.int64 and m.tolist() == MATRIX
    assert confusion_matrix(PRED, TARGET, 4).tolist() == [r + [0] for r in MATRIX] + [[0] * 4]


def test_precision_recall_f1_per_class_and_macro():
    p, r, f = precision_recall_f1(PRED, TARGET, average=None)
    np.testing.assert_allclose(p, PRECISION)
    np.testing.assert_allclose(r, RECALL)
    np.testing.assert_allclose(f, F1)
    assert precision_recall_f1(PRED, TARGET) == pytest.approx((2 / 3, 5 / 9, 26 / 45))
    # a class never seen nor predicted counts 0 in the macro means
    assert precision_recall_f1(PRED, TARGET, 4) == pytest.approx((0.5, 5 / 12, 26 / 60))


def test_top_k_accuracy():
    assert [top_k_accuracy(SCORES, SCORE_TARGET, k) for k in (1, 2, 3, 4)] == pytest.approx(
        [0, 2 / 3, 1, 1])


def test_bad_input():
    with pytest.raises(ValueError, match="one entry per sample"):
        accuracy(PRED[:3], TARGET)
    with pytest.raises(ValueError, match="integer class indices"):
        confusion_matrix(PRED.astype(np.float32), TARGET)
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 2\)"):
        confusion_matrix(PRED, TARGET, 2)
    with pytest.raises(ValueError, match="k must be an integer from 1 to the number of classes"):
        top_k_accuracy(SCORES, SCORE_TARGET, 5)
    with pytest.raises(ValueError, match="average must be 'macro' or None"):
        precision_recall_f1(PRED, TARGET, average="micro")


def test_evaluation_reports_top_k():
    x = minidl.from_numpy(SCORES)
    loader = DataLoader(TensorDataset(x, minidl.from_numpy(SCORE_TARGET)), batch_size=2)
    result = evaluate(nn.Identity(), loader, top_k=2)
    assert result["acc"] == 0 and result["top2_acc"] == pytest.approx(2 / 3)
    model = nn.Linear(4, 4)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), train_loader=loader,
                      val_loader=loader, progress=None, top_k=3)
    trainer.fit(1)
    assert 0 <= trainer.history[0]["val_top3_acc"] <= 1
