"""Test doubles of optional dependencies: a fake ``pynvml`` and a fake ``tensorrt_llm``."""
