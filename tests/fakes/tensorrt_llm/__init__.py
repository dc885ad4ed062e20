"""A fake of the ``tensorrt_llm`` package: the subset of the LLM API the driver uses.

``from tensorrt_llm import LLM, SamplingParams`` and ``from tensorrt_llm.llmapi import
KvCacheConfig`` work as in TensorRT-LLM 1.x; see :mod:`tests.fakes.tensorrt_llm.llmapi`.
"""

from .llmapi import LLM, KvCacheConfig, SamplingParams

__version__ = "1.0.0+fake"

__all__ = ["LLM", "KvCacheConfig", "SamplingParams", "__version__"]
