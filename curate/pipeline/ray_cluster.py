"""A Ray cluster of separate processes on this machine: a head node and worker nodes started with
`ray start`, as a multi-machine user would start them (one `ray start --head`, then `ray start --address`
on each other machine). Used by the curate benchmark and the cluster tests, so the distributed path they
measure is the one such a user runs, not `ray.init()`'s in-process shortcut.

Each node runs `ray start --block` in a session of its own, so a node can be killed (a lost machine)
and the whole cluster stopped by the ids of its sessions' processes without touching any other Ray on the
machine (`ray stop` would stop every Ray of this user).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORWARDED_ENV = ("OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM", "HF_HUB_OFFLINE", "ALIGNSMITH_CACHE",
                 "NLTK_DATA", "ALIGNSMITH_SAFETY_CACHE", "ALIGNSMITH_EMBED_MODEL")
_IDLE_TITLES = ("ray::IDLE", "ray::DashboardAgent", "ray::RuntimeEnvAgent")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_executable() -> str:
    candidate = Path(sys.executable).with_name("ray")
    return str(candidate) if candidate.exists() else "ray"


class LocalRayCluster:
    """`with LocalRayCluster(workers=1) as cluster:` → `cluster.address` to connect to; `kill_worker(0)`."""

    def __init__(self, workers: int = 1, head_cpus: int = 1, worker_cpus: int = 1,
                 object_store_bytes: int = 300 * 2**20):
        self.workers, self.head_cpus, self.worker_cpus = workers, head_cpus, worker_cpus
        self.object_store_bytes = object_store_bytes
        # short: Ray's socket paths under it must stay below the 107-character Unix limit
        self.temp_dir = tempfile.mkdtemp(prefix="rc", dir="/tmp")
        self.address = f"127.0.0.1:{free_port()}"
        self.head: subprocess.Popen | None = None
        self.nodes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        env.setdefault("OMP_NUM_THREADS", "1")
        log = Path(self.temp_dir) / f"{name}.log"
        self.logs.append(log)
        ports = ["--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
                 "--dashboard-agent-listen-port", str(free_port()), "--metrics-export-port", str(free_port()),
                 "--runtime-env-agent-port", str(free_port())]
        cmd = [_ray_executable(), "start", "--block", "--disable-usage-stats",
               "--object-store-memory", str(self.object_store_bytes), *ports, *args]
        with open(log, "w") as out:  # the child keeps its own handle
            return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, timeout: float = 120.0) -> "LocalRayCluster":
        """Start the head, wait until it answers, then start and wait for the workers."""
        port = self.address.rsplit(":", 1)[1]
        self.head = self._start(["--head", "--port", port, "--num-cpus", str(self.head_cpus),
                                 "--include-dashboard", "false", "--ray-client-server-port", str(free_port()),
                                 "--temp-dir", self.temp_dir], "head")
        self._wait_for_nodes(1, timeout)
        for k in range(self.workers):
            self.nodes.append(self._start(["--address", self.address, "--num-cpus", str(self.worker_cpus)],
                                          f"worker{k}"))
        self._wait_for_nodes(1 + self.workers, timeout)
        return self

    def alive_nodes(self) -> int:
        """How many nodes the head's control store lists as alive (asked from a fresh process)."""
        code = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
                "print(sum(n['Alive'] for n in ray.nodes()))")
        env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        done = subprocess.run([sys.executable, "-c", code, self.address], capture_output=True, text=True,
                              timeout=120, env=env)
        try:
            return int(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return 0

    def _wait_for_nodes(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.head.poll() is not None:
                raise RuntimeError(f"ray head exited early; log: {self.logs[0].read_text()[-2000:]}")
            if self.alive_nodes() >= n:
                return
            time.sleep(1.0)
        raise TimeoutError(f"{n} Ray nodes not up after {timeout:.0f} s; logs in {self.temp_dir}")

    def kill_worker(self, k: int = 0) -> None:
        """SIGKILL every process of worker node k (its raylet and the tasks it runs): a lost machine."""
        _kill_group(self.nodes[k], signal.SIGKILL)

    def running_tasks(self, k: int = 0) -> list[str]:
        """Titles of the tasks worker node k is running now (`ray::MapBatches(...)`; idle and agent processes
        are left out)."""
        names = []
        for pid in _session_pids(self.nodes[k].pid):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith("ray::") and title not in _IDLE_TITLES:
                names.append(title)
        return names

    def stop(self) -> None:
        """Stop every node of this cluster (workers first), by process group; other Rays are untouched."""
        for proc in [*self.nodes, self.head]:
            if proc is not None:
                _kill_group(proc, signal.SIGTERM)
        for proc in [*self.nodes, self.head]:
            if proc is not None:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
                _kill_group(proc, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)  # session logs and sockets of this cluster only

    def __enter__(self) -> "LocalRayCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _session_pids(sid: int) -> list[int]:
    """Processes whose session id is `sid` (Linux /proc), the node's own process first."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # field 6 of /proc/PID/stat is the session id; the command name (field 2) may hold spaces
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == sid:
                pids.append(int(entry.name))
    return sorted(pids, key=lambda pid: pid != sid)


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal every process of the node's session: start_new_session made the node's pid the session id,
    and Ray's task workers sit in process groups of their own inside it."""
    for pid in _session_pids(proc.pid) or [proc.pid]:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
