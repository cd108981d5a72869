"""Choose the CPU trainer's torch thread count by timing its own steps.

A NEP training step on CPU is thousands of small torch operations. With two threads on an otherwise idle
machine a step takes ~0.08 s against ~0.12 s with one (8 frames of 150 atoms, measured here), but only if
idle OpenMP threads spin between operations; on shared cores spinning threads are descheduled and a step
can become 10x slower, while sleeping (``OMP_WAIT_POLICY=PASSIVE``) threads make two threads no faster than
one. :class:`ThreadTuner` lets the trainer find out instead of guessing: it times a few steps with each
candidate thread count, keeps the fastest, and probes again every ``recheck_every`` steps, because the load
of a cluster node or a laptop changes during a fit; a run of slow steps (another process took a core) starts a
probe at once. The worst case is close to the one-thread speed.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import median

#: steps timed per candidate thread count in a probe
PROBE_STEPS = 4
#: steps between probes
RECHECK_EVERY = 250
#: a probe starts at once when the median of the last DRIFT_WINDOW steps exceeds DRIFT_FACTOR x the chosen
#: count's probe median (another process took a core: two spinning threads can become 5x slower)
DRIFT_WINDOW = 5
DRIFT_FACTOR = 1.5
#: a probe of a candidate stops early when one of its steps is this many times slower than the best median
ABANDON_FACTOR = 3.0


class ThreadTuner:
    """Picks torch's thread count among ``{1, max_threads}`` by the median wall time of timed steps.

    Call :meth:`threads_for_next_step` before a step (it sets the count with ``set_threads``) and
    :meth:`record` with the step's wall time (s) after it. ``history`` lists every decision as
    ``{"step", "threads", "median_s": {threads: s}}``.
    """

    def __init__(self, max_threads: int, set_threads: Callable[[int], None], probe_steps: int = PROBE_STEPS,
                 recheck_every: int = RECHECK_EVERY, warmup_steps: int = 2):
        if int(max_threads) < 1:
            raise ValueError(f"max_threads must be >= 1, got {max_threads}")
        # one thread first: the safe baseline against which a slow multi-thread step is abandoned early
        self.candidates = [1, int(max_threads)] if int(max_threads) > 1 else [1]
        self.current = 1
        self._set_threads = set_threads
        self._applied: int | None = None
        self.probe_steps = int(probe_steps)
        self.recheck_every = int(recheck_every)
        self._warmup = int(warmup_steps)
        self._queue: list[int] = []
        self._samples: dict[int, list[float]] = {}
        self._since_probe = 0
        self._recent: list[float] = []
        self._reference: float | None = None
        self.steps = 0
        self.history: list[dict] = []
        if len(self.candidates) > 1:
            self._start_probe()

    @property
    def probing(self) -> bool:
        return bool(self._queue)

    def _start_probe(self) -> None:
        self._samples = {n: [] for n in self.candidates}
        self._queue = [n for n in self.candidates for _ in range(self.probe_steps)]

    def threads_for_next_step(self) -> int:
        """The thread count of the next step (applied through ``set_threads`` when it changes)."""
        wanted = self.current if self._warmup > 0 or not self._queue else self._queue[0]
        if wanted != self._applied:
            self._set_threads(wanted)
            self._applied = wanted
        return wanted

    def record(self, seconds: float) -> None:
        """Wall time (s) of the step just taken with the count returned by :meth:`threads_for_next_step`."""
        self.steps += 1
        if self._warmup > 0:  # the first steps allocate and fill caches: not representative
            self._warmup -= 1
            return
        if not self._queue:
            self._since_probe += 1
            self._recent = [*self._recent[-(DRIFT_WINDOW - 1):], float(seconds)]
            drifted = (self._reference is not None and len(self._recent) == DRIFT_WINDOW
                       and median(self._recent) > DRIFT_FACTOR * self._reference)
            if len(self.candidates) > 1 and (drifted or self._since_probe >= self.recheck_every):
                self._start_probe()
            return
        threads = self._queue.pop(0)
        self._samples[threads].append(float(seconds))
        best = min((median(v) for v in self._samples.values() if v), default=float(seconds))
        if len(self._samples[threads]) < self.probe_steps and seconds > ABANDON_FACTOR * best:
            self._queue = [n for n in self._queue if n != threads]  # hopeless: stop timing this count
        if not self._queue:
            medians = {n: median(v) for n, v in self._samples.items() if v}
            self.current = min(medians, key=lambda n: medians[n])
            self._reference = medians[self.current]
            self._recent = []
            self._since_probe = 0
            self.history.append({"step": self.steps, "threads": self.current,
                                 "median_s": {str(n): round(s, 5) for n, s in medians.items()}})
