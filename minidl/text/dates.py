"""A generated translation task: dates in many human formats -> ISO 8601.

Each pair is ``(source, target)``, e.g. ``("the 3rd of March 1998", "1998-03-03")``. Dates
are drawn uniformly from 1950-01-01 to 2049-12-31 and written in one of ``FORMATS``
(worded, with or without ordinal suffixes and weekdays, abbreviated months, numeric). The
numeric formats are **day first** (``03/03/1998``, ``3.3.98`` = 3 March, British order);
two-digit years mean 1950-1999 for 50-99 and 2000-2049 for 00-49. Every source is then
kept as written (capitalised names), lower-cased or upper-cased (probabilities 0.5 / 0.3
/ 0.2).

The splits come from one deterministic stream of distinct sources drawn with
``random.Random(seed)``: the first 1,000 are ``"val"``, the next 1,000 ``"test"``, the rest
``"train"`` (20,000 by default, or ``n``) — so no source string is in two splits, and a
larger training set extends the default one.
"""

import datetime
import random
from functools import lru_cache

__all__ = ["dates", "FORMATS", "DATES_SPLIT_SIZES"]

DATES_SPLIT_SIZES = {"train": 20_000, "val": 1_000, "test": 1_000}
_FIRST = datetime.date(1950, 1, 1)
_SPAN_DAYS = (datetime.date(2049, 12, 31) - _FIRST).days + 1
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

FORMATS = (
    "{d} {Month} {Y}",
    "{Month} {d}, {Y}",
    "{Month} {d} {Y}",
    "the {dth} of {Month} {Y}",
    "the {dth} of {Month}, {Y}",
    "{dth} {Month} {Y}",
    "{Month} {dth}, {Y}",
    "{Weekday}, {Month} {dth} {Y}",
    "{Weekday}, {d} {Month} {Y}",
    "{Weekday} the {dth} of {Month} {Y}",
    "{Wkd} {d} {Mon} {Y}",
    "{d} {Mon} {Y}",
    "{Mon} {d}, {Y}",
    "{Mon}. {d}, {Y}",
    "{d} {Mon} '{yy}",
    "{dd}/{mm}/{Y}",
    "{d}/{m}/{Y}",
    "{d}/{m}/{yy}",
    "{dd}.{mm}.{Y}",
    "{d}.{m}.{yy}",
    "{dd}-{Mon}-{Y}",
    "{dd}-{mm}-{Y}",
)


def ordinal(day):
    """``1 -> "1st"``, ``2 -> "2nd"``, ``11 -> "11th"``, ``23 -> "23rd"``."""
    if 10 <= day % 100 <= 20:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def format_date(date, template):
    """``date`` written with one of ``FORMATS``."""
    month = _MONTHS[date.month - 1]
    weekday = _WEEKDAYS[date.weekday()]
    return template.format(
        d=date.day, dd=f"{date.day:02d}", dth=ordinal(date.day), m=date.month,
        mm=f"{date.month:02d}", Month=month, Mon=month[:3], Y=date.year,
        yy=f"{date.year % 100:02d}", Weekday=weekday, Wkd=weekday[:3])


def _draw(rng):
    date = _FIRST + datetime.timedelta(days=rng.randrange(_SPAN_DAYS))
    source = format_date(date, rng.choice(FORMATS))
    case = rng.random()
    if case >= 0.8:
        source = source.upper()
    elif case >= 0.5:
        source = source.lower()
    return source, date.isoformat()


@lru_cache(maxsize=8)
def _stream(seed, count):
    rng = random.Random(seed)
    seen, pairs = set(), []
    while len(pairs) < count:
        pair = _draw(rng)
        if pair[0] not in seen:
            seen.add(pair[0])
            pairs.append(pair)
    return tuple(pairs)


def dates(split="train", n=None, seed=0):
    """``(source, target)`` pairs of the date-normalisation task for ``split``.

    ``n``: how many (default: the split's size in ``DATES_SPLIT_SIZES``; ``"train"`` may
    ask for more, ``"val"`` / ``"test"`` for at most their size). ``seed`` picks the stream.
    """
    if split not in DATES_SPLIT_SIZES:
        raise ValueError(f"dates(split=) must be one of {tuple(DATES_SPLIT_SIZES)}, got "
                         f"{split!r}")
    size = DATES_SPLIT_SIZES[split]
    if n is None:
        n = size
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"dates(n=) must be an int >= 0 or None, got {n!r}")
    if split != "train" and n > size:
        raise ValueError(f"dates(split={split!r}) has {size} pairs, asked for n={n}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"dates(seed=) must be an int, got {seed!r}")
    held_out = DATES_SPLIT_SIZES["val"] + DATES_SPLIT_SIZES["test"]
    start = {"val": 0, "test": DATES_SPLIT_SIZES["val"], "train": held_out}[split]
    return list(_stream(seed, max(start + n, held_out))[start:start + n])
