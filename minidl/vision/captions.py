"""Deterministic captions of glyph scenes, generated from their boxes and labels.

The grammar (one caption; ``|`` separates alternatives, ``[...]`` is optional)::

    caption  := COUNT NOUN ":" chain [";" "the largest is" ART NAME]
    chain    := ART NAME_1 [REL(1, 2) ART NAME_2 ("and" ART NAME_k REL(k, k-1) "it")*]

- ``COUNT`` is ``one`` .. ``four`` (as many as the scene's objects), ``NOUN`` the scene
  set's noun (``digit`` / ``item``), plural from two on;
- ``NAME`` is a class name (``3``, ``ankle boot``), ``ART`` is ``an`` before a vowel sound
  (``an 8``, ``an ankle boot``), else ``a``;
- the objects are listed in one *order* (below); the first two are joined by the relation of
  object 1 to object 2 (``a 3 above a 7``), every further object k by its relation to the
  object named just before it, called ``it`` (``and a 1 right of it``);
- ``REL(a, b)``, where ``a`` lies relative to ``b``, from the box centres (image y grows
  downwards), ``dx = cx_a - cx_b``, ``dy = cy_a - cy_b``: the dominant axis decides,
  ``left of`` / ``right of`` when ``|dx| >= |dy|`` (``right of`` for ``dx >= 0``), else
  ``above`` (``dy < 0``) / ``below``;
- the largest clause (two objects or more) names the object of the largest box area; it is
  given only when that area is at least ``LARGEST_MARGIN`` times every other one (no
  near-ties: the clause is always visible in the image).

Every scene has one reference per order of ``ORDERS``, in that order: ``reading`` (centre x,
then centre y), ``top-down`` (centre y, then centre x) and ``size`` (box area, largest
first, then centre x); remaining ties go to the earlier object. The first (reading order)
is the caption a model is trained on; all of them are the references of BLEU. A scene of
one object has three equal references (sacreBLEU wants the same number per hypothesis).

Example, a 3 at the top left, a 7 under it and a larger 1 to the right of the 7::

    three digits : a 3 above a 7 and a 1 right of it ; the largest is a 1
"""
import numpy as np

__all__ = ["SceneCaptioner", "ORDERS", "COUNT_WORDS", "LARGEST_MARGIN", "relation",
           "class_words"]

ORDERS = ("reading", "top-down", "size")
COUNT_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
LARGEST_MARGIN = 1.25
_VOWEL_SOUNDS = ("a", "e", "i", "o", "u", "8")


def relation(box_a, box_b):
    """Where ``box_a`` lies relative to ``box_b`` (xyxy): ``left of``, ``right of``,
    ``above`` or ``below`` (the dominant axis of the centres' displacement)."""
    dx = (box_a[0] + box_a[2] - box_b[0] - box_b[2]) / 2
    dy = (box_a[1] + box_a[3] - box_b[1] - box_b[3]) / 2
    if abs(dx) >= abs(dy):
        return "right of" if dx >= 0 else "left of"
    return "below" if dy > 0 else "above"


def class_words(classes):
    """Caption names of a scene set's ``classes`` (``'__background__'`` first): MNIST's
    ``'3 - three'`` -> ``'3'``, Fashion-MNIST's ``'T-shirt/top'`` -> ``'t-shirt'``,
    ``'Ankle boot'`` -> ``'ankle boot'``."""
    return [name.split(" - ")[0].split("/")[0].lower() for name in classes]


def _article(name):
    return "an" if name.startswith(_VOWEL_SOUNDS) else "a"


class SceneCaptioner:
    """Captions (lists of word tokens) of scenes from their ``boxes`` (K, 4) xyxy and
    ``labels`` (K,) (indices into ``names``); the grammar is in the module docstring.

    Args:
        names: the caption name of every label (index 0, the background, is never used).
        noun: what the objects are called (``'digit'``: ``two digits``).
    """

    def __init__(self, names, noun):
        if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
            raise TypeError(f"SceneCaptioner(names=) must be a list of non-empty str, got "
                            f"{names!r}")
        if not isinstance(noun, str) or not noun:
            raise TypeError(f"SceneCaptioner(noun=) must be a non-empty str, got {noun!r}")
        self.names, self.noun = list(names), noun

    @classmethod
    def for_scenes(cls, scenes):
        """The captioner of a ``Scenes`` set: its class names, ``digit`` for MNIST glyphs,
        ``item`` for Fashion-MNIST."""
        return cls(class_words(scenes.classes),
                   "digit" if scenes.source.startswith("mnist") else "item")

    def _check(self, boxes, labels):
        boxes = np.asarray(boxes, dtype=np.float64)
        labels = np.asarray(labels)
        if boxes.ndim != 2 or boxes.shape[1] != 4 or labels.shape != (len(boxes),):
            raise ValueError(f"SceneCaptioner: boxes must be (K, 4) and labels (K,), got "
                             f"{boxes.shape} and {labels.shape}")
        if not 1 <= len(boxes) <= len(COUNT_WORDS):
            raise ValueError(f"SceneCaptioner: a scene needs 1 to {len(COUNT_WORDS)} objects, "
                             f"got {len(boxes)}")
        if labels.dtype.kind not in "iu" or labels.min() < 1 or labels.max() >= len(self.names):
            raise ValueError(f"SceneCaptioner: labels must be ints in 1..{len(self.names) - 1}, "
                             f"got {labels.tolist()}")
        return boxes, labels

    def order(self, boxes, kind):
        """The object indices of ``boxes`` in the order ``kind`` (one of ``ORDERS``)."""
        boxes = np.asarray(boxes, dtype=np.float64)
        cx, cy = boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        index = np.arange(len(boxes))
        keys = {"reading": (index, cy, cx), "top-down": (index, cx, cy),
                "size": (index, cx, -area)}
        if kind not in keys:
            raise ValueError(f"unknown caption order {kind!r}; choose one of {ORDERS}")
        return np.lexsort(keys[kind]).tolist()

    def _phrase(self, label):
        name = self.names[int(label)]
        return [_article(name)] + name.split()

    def caption(self, boxes, labels, order="reading"):
        """The caption of one scene, in the order ``order``, as a list of word tokens."""
        boxes, labels = self._check(boxes, labels)
        k = len(boxes)
        objects = self.order(boxes, order)
        words = [COUNT_WORDS[k - 1], self.noun + ("s" if k > 1 else ""), ":"]
        words += self._phrase(labels[objects[0]])
        if k > 1:
            words += relation(boxes[objects[0]], boxes[objects[1]]).split()
            words += self._phrase(labels[objects[1]])
        for prev, cur in zip(objects[1:], objects[2:]):
            words += ["and"] + self._phrase(labels[cur])
            words += relation(boxes[cur], boxes[prev]).split() + ["it"]
        largest = self.largest(boxes)
        if largest is not None:
            words += [";", "the", "largest", "is"] + self._phrase(labels[largest])
        return words

    def largest(self, boxes):
        """The index of the clearly largest box (area >= ``LARGEST_MARGIN`` x every other),
        or None (one object, or a near-tie)."""
        boxes = np.asarray(boxes, dtype=np.float64)
        if len(boxes) < 2:
            return None
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        first, second = np.argsort(-area, kind="stable")[:2]
        return int(first) if area[first] >= LARGEST_MARGIN * area[second] else None

    def references(self, boxes, labels):
        """One caption per order of ``ORDERS`` (token lists; the first is the training
        caption)."""
        return [self.caption(boxes, labels, order) for order in ORDERS]

    def scene_references(self, targets):
        """``references`` of every target dict (``boxes``, ``labels``: arrays or Tensors)."""
        out = []
        for target in targets:
            boxes, labels = (target[k].numpy() if hasattr(target[k], "numpy") else target[k]
                             for k in ("boxes", "labels"))
            out.append(self.references(boxes, labels))
        return out
