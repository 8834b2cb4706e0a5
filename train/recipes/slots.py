"""CPU slots for stages that run at the same time (`recipe run --jobs N`).

Why pin: vLLM's CPU backend binds its compute threads to cores it picks itself (on a 2-core machine one core,
the other left to its front end), and every vLLM process picks the same core, so two stages started side by
side would share one core while the other idles. Each slot therefore owns a disjoint group of the cores
this process may use: the stage's process tree is confined to them (CPU affinity, inherited by children),
torch gets as many threads as the group has cores, and vLLM binds its compute threads inside it
(see slot_env).
"""
from __future__ import annotations

import os


def cpu_slots(jobs: int) -> list[list[int] | None]:
    """`jobs` disjoint core groups; [None] (no pinning, the old behaviour) when jobs is 1.

    More jobs than cores is refused: two pinned stages on one core would each run at half speed, which a
    user asking for parallel stages does not expect."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if jobs == 1:
        return [None]
    cores = sorted(os.sched_getaffinity(0))
    if jobs > len(cores):
        raise ValueError(f"--jobs {jobs} is more than the {len(cores)} cores this process may use "
                         f"({','.join(map(str, cores))})")
    size, extra = divmod(len(cores), jobs)
    groups, start = [], 0
    for k in range(jobs):
        end = start + size + (1 if k < extra else 0)
        groups.append(cores[start:end])
        start = end
    return groups


def slot_env(env: dict[str, str], cores: list[int] | None) -> dict[str, str]:
    """The stage's environment for its slot: thread counts and vLLM's binding follow the slot's cores.

    vLLM's compute threads get every core of the slot but the first, which is left to its Python front end
    (scheduling, detokenising), as vLLM's own automatic binding leaves one core; a one-core slot shares its
    core. Measured on 2 cores (docs/benchmarks.md, "--jobs"): one vLLM eval confined to one core took 1.7x
    as long as unconfined, and two side by side did 1.26x the work of one unconfined after the other."""
    if cores is None:
        return env
    compute = cores[1:] if len(cores) > 1 else cores
    return {**env, "OMP_NUM_THREADS": str(len(cores)), "MKL_NUM_THREADS": str(len(cores)),
            "VLLM_CPU_OMP_THREADS_BIND": _ranges(compute)}


def _ranges(cores: list[int]) -> str:
    """vLLM's core-list syntax: "0-3,6"."""
    parts, start = [], None
    for i, c in enumerate(cores):
        if start is None:
            start = c
        if i + 1 == len(cores) or cores[i + 1] != c + 1:
            parts.append(f"{start}-{c}" if c != start else str(c))
            start = None
    return ",".join(parts)


def pin_to(cores: list[int] | None):
    """A preexec function that confines the child process (and everything it starts) to `cores`."""
    if cores is None:
        return None
    return lambda: os.sched_setaffinity(0, cores)
