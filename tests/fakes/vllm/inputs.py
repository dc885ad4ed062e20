"""Fake ``vllm.inputs``: ``TokensPrompt`` is a TypedDict, as in ``vllm/inputs/data.py``."""

from __future__ import annotations

from typing import TypedDict


class TokensPrompt(TypedDict):
    """Schema for a tokenized prompt."""

    prompt_token_ids: list[int]


__all__ = ["TokensPrompt"]
