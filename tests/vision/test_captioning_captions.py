"""The scene caption grammar of ``minidl.vision.captions`` on hand-made boxes."""
from collections import Counter

import numpy as np
import pytest

from minidl.vision.captions import (
    COUNT_WORDS,
    ORDERS,
    SceneCaptioner,
    class_words,
    relation,
)
from minidl.vision.datasets import open_scenes

MNIST_CLASSES = ["__background__"] + [f"{d} - {w}" for d, w in enumerate(
    "zero one two three four five six seven eight nine".split())]
FASHION_CLASSES = ["__background__", "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGITS = SceneCaptioner(class_words(MNIST_CLASSES), "digit")


def label(digit):
    return digit + 1


def words(text):
    return text.split()


def test_class_words_and_articles():
    assert class_words(MNIST_CLASSES)[1:4] == ["0", "1", "2"]
    assert class_words(FASHION_CLASSES)[1:] == ["t-shirt", "trouser", "pullover", "dress",
                                                "coat", "sandal", "shirt", "sneaker", "bag",
                                                "ankle boot"]
    fashion = SceneCaptioner(class_words(FASHION_CLASSES), "item")
    assert fashion.caption([[0, 0, 20, 20]], [10]) == words("one item : an ankle boot")
    assert DIGITS.caption([[0, 0, 20, 20]], [label(8)]) == words("one digit : an 8")


@pytest.mark.parametrize("a, b, expected", [
    ((0, 0, 10, 10), (30, 2, 40, 12), "left of"),
    ((30, 2, 40, 12), (0, 0, 10, 10), "right of"),
    ((0, 0, 10, 10), (3, 30, 13, 40), "above"),
    ((3, 30, 13, 40), (0, 0, 10, 10), "below"),
    ((20, 20, 30, 30), (0, 0, 10, 10), "right of"),   # |dx| == |dy|: horizontal
    ((0, 0, 10, 10), (20, 20, 30, 30), "left of"),
    ((0, 0, 10, 10), (0, 0, 10, 10), "right of"),     # same centre: dx >= 0
])
def test_relation_takes_the_dominant_axis(a, b, expected):
    assert relation(np.array(a, float), np.array(b, float)) == expected


# the module docstring's scene: a 3 at the top left, a 7 under it, a larger 1 right of the 7
EXAMPLE = (np.array([[60, 45, 90, 80], [10, 10, 30, 30], [12, 50, 32, 70]], np.float32),
           np.array([label(1), label(3), label(7)]))


def test_the_three_references_of_the_example_scene():
    refs = DIGITS.references(*EXAMPLE)
    assert [" ".join(r) for r in refs] == [
        "three digits : a 3 above a 7 and a 1 right of it ; the largest is a 1",  # reading
        "three digits : a 3 above a 7 and a 1 right of it ; the largest is a 1",  # top-down
        "three digits : a 1 right of a 3 and a 7 below it ; the largest is a 1"]  # size
    assert len(refs) == len(ORDERS)


def test_orders_relations_and_largest_on_four_objects():
    boxes = np.array([[70, 5, 90, 25], [5, 60, 25, 80], [40, 40, 60, 60], [10, 5, 30, 25]],
                     np.float32)
    labels = np.array([label(9), label(2), label(5), label(0)])
    assert DIGITS.order(boxes, "reading") == [1, 3, 2, 0]
    assert DIGITS.order(boxes, "top-down") == [3, 0, 2, 1]  # ties on y: the left first
    assert DIGITS.order(boxes, "size") == [1, 3, 2, 0]      # equal areas: by x
    assert " ".join(DIGITS.caption(boxes, labels)) == (
        "four digits : a 2 below a 0 and a 5 below it and a 9 above it")
    assert " ".join(DIGITS.caption(boxes, labels, "top-down")) == (
        "four digits : a 0 left of a 9 and a 5 below it and a 2 left of it")
    big = boxes.copy()
    big[2] = [35, 35, 65, 65]   # 900 >= 1.25 x 400: the 5 is clearly the largest
    assert DIGITS.caption(big, labels)[-6:] == words("; the largest is a 5")
    assert DIGITS.largest(boxes) is None
    near = boxes.copy()
    near[2] = [40, 40, 62, 60]  # 440 < 1.25 x 400: a near-tie, no largest clause
    assert "largest" not in DIGITS.caption(near, labels)


def test_captions_are_deterministic_and_independent_of_the_input_order():
    boxes, labels = EXAMPLE
    perm = [2, 0, 1]
    assert DIGITS.references(boxes, labels) == DIGITS.references(boxes[perm], labels[perm])
    assert DIGITS.references(boxes, labels) == DIGITS.references(boxes, labels)


def _named_objects(caption, names):
    """The count word and the object names a caption lists (the largest clause aside)."""
    body = caption[caption.index(":") + 1:]
    if ";" in body:
        body = body[:body.index(";")]
    text = " " + " ".join(body) + " "
    found = Counter()
    for name in sorted(set(names), key=len, reverse=True):
        for article in ("a", "an"):
            pattern = f" {article} {name} "
            while pattern in text:
                found[name] += 1
                text = text.replace(pattern, " ", 1)
    return caption[0], found


def test_references_of_real_scenes_name_exactly_their_objects():
    for data in ("scenes-mnist", "scenes-fashion"):
        scenes = open_scenes(data, "val", 12)
        captioner = SceneCaptioner.for_scenes(scenes)
        assert captioner.noun == ("digit" if data == "scenes-mnist" else "item")
        _, targets, _ = scenes.to_arrays()
        for target, refs in zip(targets, captioner.scene_references(targets)):
            expected = Counter(captioner.names[k] for k in target["labels"])
            for ref in refs:
                count, found = _named_objects(ref, captioner.names[1:])
                assert count == COUNT_WORDS[len(target["labels"]) - 1]
                assert found == expected, (ref, expected)
                relations = " ".join(ref).count(" of ") + sum(w in ("above", "below")
                                                              for w in ref)
                assert relations == len(target["labels"]) - 1


def test_clear_errors():
    with pytest.raises(ValueError, match=r"\(K, 4\)"):
        DIGITS.caption([[0, 0, 1]], [1])
    with pytest.raises(ValueError, match="1 to 9 objects"):
        DIGITS.caption(np.zeros((0, 4)), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="labels must be ints in 1..10"):
        DIGITS.caption([[0, 0, 5, 5]], [0])
    with pytest.raises(ValueError, match="unknown caption order"):
        DIGITS.caption([[0, 0, 5, 5]], [1], order="random")
    with pytest.raises(TypeError, match="names"):
        SceneCaptioner("0123", "digit")
    with pytest.raises(TypeError, match="noun"):
        SceneCaptioner(["a"], "")
