"""CPU seconds and peak memory of this process and every process below it, for benchmarks.

Workers fork from a fork server (local engine) or a daemon (pyspark), so they are
grandchildren: getrusage(RUSAGE_CHILDREN) does not see them. The tree is sampled with psutil
while the block runs (a process's last < interval before it exits can be missed). CPU seconds
count from the block's start, so a fork server or JVM started earlier is charged only for what
it does inside the block. On a shared machine wall time mostly measures the neighbours; CPU
time does not.
"""

from __future__ import annotations

import resource
import threading

import psutil


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ProcessTree:
    """`with ProcessTree() as tree: ...`, then `tree.cpu_seconds()`, `tree.peak_rss_mb()`.

    Descendants are grouped by kind: "jvm" (java) or "python" (everything else).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.me = psutil.Process()
        self.kind: dict[int, str] = {}
        self.rss: dict[int, float] = {}  # pid -> peak MB
        self.cpu: dict[int, tuple[float, float]] = {}  # pid -> (at start or 0, last seen)
        self.own = 0.0
        self.own_rss = 0.0  # peak MB of this process inside the block (sampled)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessTree:
        self._sample(started=True)
        self._own0 = own_cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.own = own_cpu() - self._own0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, started: bool = False) -> None:
        try:
            self.own_rss = max(self.own_rss, self.me.memory_info().rss / 2**20)
            children = self.me.children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            try:
                with child.oneshot():
                    rss = child.memory_info().rss / 2**20
                    times = child.cpu_times()
                    name = child.name()
            except psutil.Error:
                continue  # the process ended meanwhile
            pid, used = child.pid, times.user + times.system
            self.kind[pid] = "jvm" if name.startswith("java") else "python"
            self.rss[pid] = max(self.rss.get(pid, 0.0), rss)
            first = self.cpu[pid][0] if pid in self.cpu else (used if started else 0.0)
            self.cpu[pid] = (first, used)

    def cpu_seconds(self, kind: str | None = None) -> float:
        """CPU seconds the descendants (of `kind`) used inside the block."""
        return sum(last - first for pid, (first, last) in self.cpu.items()
                   if kind is None or self.kind[pid] == kind)

    def peak_rss_mb(self, kind: str | None = None) -> float:
        """The largest peak resident memory of one descendant (of `kind`)."""
        return max((mb for pid, mb in self.rss.items() if kind is None or self.kind[pid] == kind),
                   default=0.0)

    @staticmethod
    def own_peak_rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
