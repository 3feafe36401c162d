"""Every schema, against arbitrary damage to a valid document: it loads, or it reports coded problems.

Hypothesis replaces one value anywhere in a sample with arbitrary JSON (or deletes it). Whatever comes
in, ``load`` either returns or raises ``ValidationError`` whose every message is a coded Problem at a
path that exists — never another exception, never an uncoded message.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.errors import Problem, flatten
from service.documents import KINDS
from tests.helpers import load_sample

SAMPLES = {
    "support-plan": "support-plan-child-parent",
    "service-agreement": "service-agreement-child-care",
    "delivery-act": "delivery-act-adult-aplp",
    "reimbursement-request": "reimbursement-request-liepaja-2020-09",
}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def paths(data, prefix=()):
    """Every path to a value in nested dicts and lists."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:3]):
            yield from paths(value, (*prefix, index))


@st.composite
def damaged(draw, sample: str):
    data = copy.deepcopy(load_sample(sample))
    path = draw(st.sampled_from([p for p in paths(data) if p]))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON)
    return data


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_any_damage_gives_a_load_or_coded_problems(kind):
    schema = KINDS[kind].schema

    @given(damaged(SAMPLES[kind]))
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def check(data):
        try:
            schema().load(data)
        except ValidationError as exc:
            problems = flatten(exc.messages)
            assert problems
            uncoded = [(path, message) for path, message in problems if not isinstance(message, Problem)]
            assert uncoded == []

    check()
