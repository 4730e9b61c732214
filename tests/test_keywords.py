"""Nothing accepted and silently ignored: every keyword of every public callable does
something, or is refused by name.

Every keyword parameter (``inspect.signature``; positional-only, ``*args`` and ``self``
aside) of every public callable (tests/keywords/targets.py) is called with a non-default
value and checked to have had an effect (tests/keywords/checks.py). The checks come from
a per-callable table (tests/keywords/cases.py), else from generic rules by keyword name
(tests/keywords/rules.py), else -- for a required parameter -- from passing it by name.
A (callable, keyword) pair with no case fails, so a new keyword cannot slip in unchecked.
"""
import inspect

import pytest

import minidl
from tests.keywords.calls import BASE
from tests.keywords.cases import CASES
from tests.keywords.checks import ByName
from tests.keywords.harness import make_ns, split_args
from tests.keywords.rules import RULES
from tests.keywords.targets import targets

TARGETS = targets()
PAIRS = [(q, p.name) for q, t in TARGETS.items() for p in t.keywords()]


def _current(target, kw):
    """The value the base call gives ``kw``: the one it passes, else the default."""
    ns = make_ns(minidl)
    args, kwargs = eval(f"_split({BASE[target.qualname].partition(' | ')[0]})",
                        {**ns, "_split": split_args})
    bound = target.signature.bind_partial(*args, **kwargs).arguments
    return bound.get(kw, target.signature.parameters[kw].default)


def checks_for(qualname, kw):
    """The checks of one (callable, keyword) pair, or None when it has no case."""
    short = qualname.partition(".")[2]
    for key in ((qualname, kw), (short, kw)):
        if key in CASES:
            return CASES[key]
    param = TARGETS[qualname].signature.parameters[kw]
    if param.kind is param.VAR_KEYWORD:
        return RULES["kwargs"](None)
    if param.default is inspect.Parameter.empty:
        return [ByName()]
    if kw in RULES and qualname in BASE:
        return RULES[kw](_current(TARGETS[qualname], kw))
    return None


def test_every_keyword_has_a_case():
    missing = [f"{q}({kw}=)" for q, kw in PAIRS if checks_for(q, kw) is None]
    no_base = sorted({q for q, _ in PAIRS if q not in BASE})
    assert not missing, f"{len(missing)} keywords have no case: {', '.join(missing)}"
    assert not no_base, f"{len(no_base)} callables have no base call: {', '.join(no_base)}"


@pytest.mark.parametrize("qualname, kw", PAIRS, ids=[f"{q}-{kw}" for q, kw in PAIRS])
def test_keyword_has_an_effect(qualname, kw):
    cases = checks_for(qualname, kw)
    if cases is None or qualname not in BASE:
        pytest.fail(f"{qualname}({kw}=...) has no case (see test_every_keyword_has_a_case)")
    for check in cases:
        check.verify(TARGETS[qualname], kw, BASE[qualname])
