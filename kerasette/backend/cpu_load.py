"""How many of this process's cores other processes are using, read cheaply from /proc.

Two readings, both Linux-only (elsewhere they answer "nobody", so nothing
changes):

* `others_now()`, at the start of `fit`: the processes runnable right now
  (`procs_running` in `/proc/stat`) minus this process's own runnable
  threads. A snapshot, taken in about 0.1 ms; a CPU-bound neighbour is
  always runnable, so it is always seen.
* `others_between(a, b)`, at epoch ends: the CPU time spent on this
  process's cores between two `sample()`s (`/proc/stat`'s per-CPU counters,
  steal time included) minus the CPU time of this process itself, per
  second of wall time. An average over the epoch, with nothing of ours in
  it: OpenBLAS's own threads spinning between products count as ours.

`usable_cores()` is the cores this process may run on: its CPU affinity
(`taskset`, cpusets) and, in a container, the cgroup's CPU quota.

Example:
    >>> from kerasette.backend import cpu_load
    >>> cpu_load.usable_cores() >= 1
    True
    >>> cpu_load.others_now() >= 0
    True
"""

from __future__ import annotations

import math
import os
import time
from typing import NamedTuple

# Below this much wall time between samples, /proc/stat's counters (in
# 1/100 s per CPU) say too little to go on.
MIN_INTERVAL_S = 0.5

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Sample(NamedTuple):
    """CPU time counters at one moment."""

    wall: float  # time.monotonic()
    busy: float  # seconds any process ran on this process's cores since boot
    own: float  # this process's CPU seconds, all threads
    running: int  # processes runnable system-wide at that moment


def _affinity() -> set:
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def _cgroup_quota():
    """cgroup v2's CPU limit in cores (`cpu.max`), or None when unlimited."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def usable_cores() -> int:
    """Cores this process may run on (affinity, then any container quota)."""
    cores = len(_affinity()) or 1
    quota = _cgroup_quota()
    return min(cores, quota) if quota else cores


def sample() -> Sample | None:
    """The counters now, or None where /proc/stat cannot be read."""
    try:
        with open("/proc/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    mine = _affinity()
    busy_ticks, running = 0, 0
    for line in text.splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *fields = line.split()
            if int(name[3:]) in mine:
                # user nice system idle iowait irq softirq steal (guest is
                # already inside user): all but idle and iowait are busy.
                values = [int(v) for v in fields[:8]]
                busy_ticks += sum(values) - values[3] - values[4]
        elif line.startswith("procs_running"):
            running = int(line.split()[1])
    return Sample(time.monotonic(), busy_ticks / _TICKS, time.process_time(), running)


def _own_running_threads() -> int:
    """This process's threads in the runnable state (this one included)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        # The state letter follows the command name, which is in parentheses.
        if stat[stat.rindex(b")") + 2:][:1] == b"R":
            count += 1
    return max(count, 1)


def others_now(now: Sample | None = None) -> float:
    """Runnable processes other than this one, now, on this process's cores.

    `procs_running` counts runnable tasks on every CPU of the machine; where
    this process may use only some of them, the count is scaled down in
    proportion (an even spread is the best guess a snapshot allows). A
    CPU-bound neighbour is always runnable, so it is never missed; a kernel
    thread that happens to be runnable at that instant (0.3-0.8% of readings
    on the idle development machine) is counted too, at the cost of one
    thread until the next measurement.
    """
    now = now or sample()
    if now is None:
        return 0.0
    others = max(0, now.running - _own_running_threads())
    total = os.cpu_count() or 1
    mine = len(_affinity()) or 1
    return others * min(1.0, mine / total)


def others_between(earlier: Sample | None, later: Sample | None) -> float | None:
    """Cores' worth of CPU used by other processes on this process's cores
    between two samples, or None when the interval is too short to tell."""
    if earlier is None or later is None:
        return None
    wall = later.wall - earlier.wall
    if wall < MIN_INTERVAL_S:
        return None
    others = (later.busy - earlier.busy) - (later.own - earlier.own)
    return max(0.0, others / wall)
