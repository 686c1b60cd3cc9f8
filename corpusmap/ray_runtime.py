"""Joining or starting Ray: the one place corpusmap imports ``ray`` at the top of a call.

Every stage that can run on a cluster takes ``ray=None | "local" | ADDRESS``:

* ``None``: nothing here runs and ``ray`` is never imported;
* ``"local"``: start a Ray instance on this machine (every node address is
  127.0.0.1; token authentication off, since nothing leaves the machine), used for
  the call and shut down after it;
* anything else (``auto``, ``ray://head:10001``, ``head:6379``): join that cluster.

A Ray that is already initialised in this process (a test fixture, a notebook, a
driver script that called ``ray.init`` itself) is reused and left running.

What it leaves out: cluster creation (``ray up``, KubeRay) and runtime
environments; every node must already have corpusmap and the same Python.
"""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from corpusmap.errors import CorpusmapError, MissingDependencyError

LOCAL = "local"
F = TypeVar("F", bound=Callable[..., Any])


def _import_ray(local: bool) -> Any:
    if local:
        # read when ray is first imported: nodes bind 127.0.0.1, not the host's address
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(
            "running on Ray needs the `ray` package; install it with pip install 'corpusmap[ray]'"
        ) from exc
    return ray


def ray_module() -> Any:
    """The ``ray`` module, with the install hint when it is missing (for workers' code)."""
    return _import_ray(local=False)


def start(address: str, num_cpus: int | None = None) -> tuple[Any, bool]:
    """Connect this process to Ray; returns ``(ray, started)``, ``started`` if we own it."""
    if not isinstance(address, str) or not address:
        raise CorpusmapError(f"--ray takes `local` or a cluster address, not {address!r}")
    local = address == LOCAL
    ray = _import_ray(local)
    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    try:
        if local:
            # "local" always starts a fresh instance: a stale /tmp/ray/ray_current_cluster
            # of a killed run is never joined
            ray.init(address="local", num_cpus=num_cpus, _node_ip_address="127.0.0.1", **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise CorpusmapError(
            f"could not join the Ray cluster at {address!r} ({exc}); check the address, "
            "or pass --ray local to start Ray on this machine"
        ) from exc
    return ray, True


@contextmanager
def session(address: str, num_cpus: int | None = None) -> Iterator[Any]:
    """``ray`` connected for the ``with`` block; shut down after it if this call started it."""
    ray, started = start(address, num_cpus)
    try:
        yield ray
    finally:
        if started:
            stop(ray)


def stop(ray: Any) -> None:
    """Shut down the Ray instance this process started.

    Ray stops its processes one by one, each given a second to exit after SIGTERM;
    its autoscaler monitor (no use to an instance that lives for one call) always
    takes that whole second, a third of a local build's fixed cost, so it is
    killed first. Everything else stops as Ray stops it.
    """
    node = getattr(getattr(ray, "_private", None), "worker", None)
    node = getattr(node, "_global_node", None)
    for info in getattr(node, "all_processes", {}).get("monitor", []):
        try:
            info.process.kill()
            info.process.wait(timeout=5)
        except (OSError, AttributeError, subprocess.TimeoutExpired):
            pass  # Ray's own shutdown below still stops it
    ray.shutdown()


def cluster_cpus(ray: Any) -> int:
    """CPUs the cluster offers now (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def one_session(fn: F) -> F:
    """Hold one Ray session for the whole call of ``fn`` when its ``ray=`` is set.

    A stage that runs several Ray steps (classify: scoring, then the pattern stage,
    which builds an index; a build: shards, then MinHash) would otherwise start and
    stop a local Ray for each (~3 s apiece); inside this session every step finds
    Ray initialised and reuses it (``start``).
    """
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        address = sig.bind_partial(*args, **kwargs).arguments.get("ray")
        if address is None or _import_ray(address == LOCAL).is_initialized():
            return fn(*args, **kwargs)
        with session(address):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
