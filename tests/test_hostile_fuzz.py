"""Fuzz of every reader (issue 14): a library error, or a value equal to what the input says.

Hypothesis drives the generators of ``tests/hostile.py`` (one per reader: CSV, Parquet, Zeus,
CodeCarbon, Wilkins, request mixes, trtllm-bench, the measurement store, saved fits, parameter
tables) through a seeded ``random.Random``; each generated input comes with an oracle that
reads the input independently. Derandomized, so CI sees the same inputs every run;
``benchmarks/hostile_inputs.py`` runs many more, each in a capped child process.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hostile import GENERATORS, classify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = {"csv": 80, "parquet": 40, "store": 60, "fit": 40, "table": 30}


@pytest.mark.parametrize("reader", list(GENERATORS))
def test_fuzz_reader_gives_a_library_error_or_what_the_input_says(reader: str) -> None:
    generate = GENERATORS[reader]

    @given(rnd=st.randoms(use_true_random=False))
    @settings(
        max_examples=EXAMPLES.get(reader, 50),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.large_base_example,
            HealthCheck.data_too_large,
        ],
    )
    def fuzz(rnd: random.Random) -> None:
        case = generate(rnd).hostile(0)
        with tempfile.TemporaryDirectory() as tmp:
            outcome, detail = classify(case, Path(tmp))
        assert outcome in ("library error", "accepted"), f"{outcome}: {detail}"

    fuzz()


def test_generators_are_deterministic() -> None:
    for generate in GENERATORS.values():
        a, b = generate(random.Random(3)), generate(random.Random(3))
        assert a.files == b.files


def test_fuzz_reaches_both_outcomes() -> None:
    # a fuzz that only ever produces errors would test no oracle
    for reader, generate in GENERATORS.items():
        outcomes = set()
        for seed in range(40):
            case = generate(random.Random(seed)).hostile(seed)
            with tempfile.TemporaryDirectory() as tmp:
                outcomes.add(classify(case, Path(tmp))[0])
            if outcomes >= {"library error", "accepted"}:
                break
        assert outcomes >= {"library error", "accepted"}, (reader, outcomes)
