"""sweetspot: the energy of LLM inference over input and output length."""

from __future__ import annotations

from .architecture import Architecture
from .exceptions import SweetspotError

__version__ = "0.1.0"
__all__ = ["Architecture", "SweetspotError", "__version__"]
