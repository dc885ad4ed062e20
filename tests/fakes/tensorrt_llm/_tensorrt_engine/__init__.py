"""Fake ``tensorrt_llm._tensorrt_engine``: the TensorRT backend's ``LLM`` (engine directories)."""

from ..llmapi import TrtLLM as LLM

__all__ = ["LLM"]
