"""Private ``redis-server`` processes that a test can stop and start again, to fake a Redis outage for
real, and the topologies built from them: a Sentinel deployment (:class:`SentinelTopology`) and a
Redis Cluster (:class:`ClusterTopology`).

The machine's shared Redis (127.0.0.1:6379) is never touched: each fixture starts its own servers on
free ports with persistence off, so a restart comes back empty, as a crashed cache would. A missing
``redis-server`` is an error (``FileNotFoundError``), never a skip.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    """One redis-server subprocess on 127.0.0.1:<port>; :meth:`stop` and :meth:`start` toggle it.

    ``args``: more command-line options (``["--replicaof", ...]``, ``["--cluster-enabled", "yes"]``);
    ``config``: the text of a configuration file to start from (a sentinel needs one it can rewrite);
    ``sentinel``: start it as a sentinel.
    """

    def __init__(
        self, port: int | None = None, *, args: tuple[str, ...] = (), config: str | None = None, sentinel: bool = False
    ) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="pushmfa-redis-")
        self.args = tuple(args)
        self.config = config
        self.sentinel = sentinel

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        assert not self.running
        head = [REDIS_SERVER]
        if self.config is not None:
            path = os.path.join(self._dir, "redis.conf")
            if not os.path.exists(path):  # a restart keeps what the server rewrote (a sentinel's state)
                with open(path, "w") as f:
                    f.write(self.config)
            head.append(path)
        if self.sentinel:
            head.append("--sentinel")
        self.proc = subprocess.Popen(
            [
                *head,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", self._dir,
                "--loglevel", "warning",
                *self.args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode} on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Kill the server (SIGKILL: a crash, not a clean shutdown) and wait until the port is closed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
            except OSError:
                return
            time.sleep(0.02)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def _wait(predicate, timeout: float, what: str, interval: float = 0.05):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - a server still starting or failing over
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _client(port: int):  # noqa: ANN202 - redis.Redis
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=1)


class SentinelTopology:
    """A primary, one replica and three sentinels (quorum 2) on free loopback ports.

    Sentinels declare the primary down after ``down_after_ms`` without an answer and promote the
    replica. :meth:`kill_primary` crashes the current primary; :meth:`wait_for_promotion` returns
    when the sentinels name another one.
    """

    SERVICE = "pushmfa"

    def __init__(self, down_after_ms: int = 1000) -> None:
        self.primary = RedisProcess()
        self.replica = RedisProcess(args=("--replicaof", "127.0.0.1", str(self.primary.port)))
        config = (
            f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary.port} 2\n"
            f"sentinel down-after-milliseconds {self.SERVICE} {down_after_ms}\n"
            f"sentinel failover-timeout {self.SERVICE} 10000\n"
            f"sentinel parallel-syncs {self.SERVICE} 1\n"
        )
        self.sentinels = [RedisProcess(config=config, sentinel=True) for _ in range(3)]

    @property
    def servers(self) -> list[RedisProcess]:
        return [self.primary, self.replica]

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.sentinels]

    def start(self) -> None:
        for proc in [self.primary, self.replica, *self.sentinels]:
            proc.start()
        _wait(lambda: _client(self.replica.port).info("replication").get("master_link_status") == "up",
              20, "the replica to sync")
        # every sentinel knows the replica and the two other sentinels: a failover can happen
        for sentinel in self.sentinels:
            client = _client(sentinel.port)
            _wait(lambda c=client: len(c.execute_command("SENTINEL", "REPLICAS", self.SERVICE)) == 1
                  and len(c.execute_command("SENTINEL", "SENTINELS", self.SERVICE)) == 2, 30,
                  "the sentinels to discover each other")

    def primary_port(self) -> int:
        """The primary's port, as the sentinels name it now."""
        for sentinel in self.sentinels:
            if sentinel.running:
                try:
                    host, port = _client(sentinel.port).execute_command(
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.SERVICE)
                    return int(port)
                except Exception:  # noqa: BLE001,S112 - ask the next sentinel
                    continue
        raise RuntimeError("no sentinel answered")

    def kill_primary(self) -> int:
        """Crash the current primary (SIGKILL); returns its port."""
        port = self.primary_port()
        for server in self.servers:
            if server.port == port:
                server.stop()
                return port
        raise RuntimeError(f"the primary on port {port} is not one of ours")

    def wait_for_promotion(self, old_port: int, timeout: float = 30.0) -> int:
        """Block until the sentinels name a primary other than ``old_port`` that answers as one."""

        def promoted() -> int | None:
            port = self.primary_port()
            if port == old_port:
                return None
            role = _client(port).execute_command("ROLE")[0]
            return port if role in (b"master", "master") else None

        return _wait(promoted, timeout, "the sentinels to promote the replica", interval=0.02)

    def cache(self, key_prefix: str) -> dict:
        """A django-redis cache on this deployment, through django-redis's Sentinel client."""
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://{self.SERVICE}/0",
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": self.sentinel_addresses,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 2,
            },
        }

    def close(self) -> None:
        for proc in [*self.sentinels, self.primary, self.replica]:
            proc.close()


REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


class ClusterTopology:
    """A Redis Cluster of ``primaries`` primaries with one replica each, built with
    ``redis-cli --cluster create`` on free loopback ports (cluster bus ports free too).

    :meth:`kill_primary` crashes the primary serving a key; :meth:`wait_for_promotion` returns when
    its replica took over the slot and the cluster is whole again.
    """

    def __init__(self, primaries: int = 3, node_timeout_ms: int = 1000) -> None:
        self.nodes = [
            RedisProcess(args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                               "--cluster-node-timeout", str(node_timeout_ms), "--cluster-port", str(free_port()),
                               # a replica takes over however long it was cut off (tests kill at will)
                               "--cluster-replica-validity-factor", "0"))
            for _ in range(2 * primaries)
        ]
        self.primaries = primaries

    @property
    def startup_nodes(self) -> list[str]:
        return [f"redis://127.0.0.1:{node.port}" for node in self.nodes[: self.primaries]]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in self.nodes],
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60,
        )
        self.wait_until_ok()

    def wait_until_ok(self, timeout: float = 30.0) -> None:
        """Every live node reports ``cluster_state:ok`` and a replica per primary is in sync."""

        def ok() -> bool:
            for node in self.nodes:
                if not node.running:
                    continue
                client = _client(node.port)
                if client.cluster("INFO").get("cluster_state") != "ok":
                    return False
                replication = client.info("replication")
                if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                    return False
            return True

        _wait(ok, timeout, "the cluster to be ok", interval=0.05)

    def slot_owner(self, slot: int) -> int:
        """The port of the primary that serves ``slot`` now (asked of a live node)."""
        for node in self.nodes:
            if not node.running:
                continue
            for start, end, primary, *_replicas in _client(node.port).execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(primary[1])
        raise RuntimeError(f"no live node serves slot {slot}")

    def kill_primary(self, slot: int = 0) -> int:
        """Crash (SIGKILL) the primary serving ``slot``; returns its port."""
        port = self.slot_owner(slot)
        next(node for node in self.nodes if node.port == port).stop()
        return port

    def wait_for_promotion(self, old_port: int, slot: int = 0, timeout: float = 30.0) -> int:
        """Block until another node serves ``slot`` as a primary and answers."""

        def promoted() -> int | None:
            port = self.slot_owner(slot)
            if port == old_port:
                return None
            return port if _client(port).execute_command("ROLE")[0] in (b"master", "master") else None

        return _wait(promoted, timeout, "a replica to take over the slot", interval=0.02)

    def cache(self, key_prefix: str) -> dict:
        """A cache on this cluster through the app's cluster backend (what the Cluster store runs on)."""
        return {
            "BACKEND": "django_pushmfa.push.store.cluster_cache.RedisClusterCache",
            "LOCATION": self.startup_nodes,
            "KEY_PREFIX": key_prefix,
            # per node; redis-py's default (100) is less than the 200 threads of the race tests
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2, "max_connections": 1000},
        }

    def close(self) -> None:
        for node in self.nodes:
            node.close()
