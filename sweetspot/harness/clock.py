"""Clocks for the harness: the wall clock of a real GPU run, and the virtual clock of the fake.

Every time-dependent part of the harness (measurement windows, cooldowns, the fake engine)
asks a :class:`Clock` for the time and sleeps through it, so that the simulated engine can
run a sweep of several minutes of simulated GPU time in a fraction of a second while the
code paths stay the ones a real run takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ..exceptions import SpecError

__all__ = ["Clock", "RealClock", "SimClock"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds, and a way to let time pass."""

    simulated: bool

    def now(self) -> float:
        """Monotonic time [s] (the origin is arbitrary)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` [s] pass (the GPU idles meanwhile)."""
        ...


class RealClock:
    """The host's monotonic clock (:func:`time.monotonic`, :func:`time.sleep`)."""

    simulated = False

    def now(self) -> float:
        """Monotonic wall time [s]."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` [s] of wall time (nothing for ``seconds <= 0``)."""
        if seconds > 0:
            time.sleep(seconds)


class SimClock:
    """Virtual time of the simulated GPUs.

    Parameters
    ----------
    on_advance : callable, optional
        Called as ``on_advance(seconds)`` when :meth:`sleep` lets idle time pass, so that the
        simulated devices integrate their idle power over it.
    time_scale : float, default 0
        Wall seconds actually slept per simulated second: 0 runs as fast as the host can,
        0.01 makes a 5 s simulated window last 50 ms of wall time (useful to watch a sweep, or
        to interrupt one in a test).
    """

    simulated = True

    def __init__(
        self, *, on_advance: Callable[[float], None] | None = None, time_scale: float = 0.0
    ) -> None:
        if not time_scale >= 0:
            raise SpecError(
                f"time_scale must be >= 0 (0 runs the fake clock instantly, 1 in real time); "
                f"got {time_scale!r}."
            )
        self._now = 0.0
        self._on_advance = on_advance
        self.time_scale = float(time_scale)

    def now(self) -> float:
        """Simulated time [s] since the simulated devices were created."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` [s] of simulated idle time pass."""
        if seconds <= 0:
            return
        if self._on_advance is not None:
            self._on_advance(seconds)
        else:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move the virtual time forward by ``seconds`` [s] (busy or idle: the caller knows)."""
        if seconds < 0:
            raise SpecError(
                f"time cannot go backwards; got {seconds!r} s. Pass the seconds that elapsed, "
                "a non-negative number."
            )
        self._now += seconds
        if self.time_scale > 0:
            time.sleep(seconds * self.time_scale)
