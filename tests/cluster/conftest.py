"""Ray instances for the cluster tests: started here, on 127.0.0.1 only, always shut down.

``ray_local`` is one local instance (2 CPUs) shared by a module's tests (starting
Ray takes seconds); ``ray_cluster`` is a fresh ``ray.cluster_utils.Cluster`` per
test: a head with no CPUs (the driver's node) and two worker nodes, one of which
a test may remove to simulate a lost machine. Both set the environment before Ray
is imported, start explicitly (never joining a stale ``/tmp/ray`` cluster) and
shut down in a finalizer.
"""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node binds 127.0.0.1
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# Ray workers inherit the environment Ray starts with: keep their model-hash cache private
os.environ.setdefault("CORPUSMAP_CACHE", tempfile.mkdtemp(prefix="corpusmap-ray-cache-"))

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def ray_cluster():
    """A head (no CPUs) and two 1-CPU worker nodes, all on 127.0.0.1."""
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False},
    )
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster, workers
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """The seeded tiny Llama of tests/generation (its own folder: that suite names its own)."""
    from tests.generation.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("ray-tiny-llama")))
