"""The Dockerfile and compose.yaml, built and run for real with Podman (Debian's package;
no Docker engine runs on CI's machines, Podman does).

No image registry is reachable there, so the base image is Debian bookworm from Debian's
mirror (debootstrap: its Python is 3.11, as in python:3.11-slim-bookworm, the Dockerfile's
default base), and PostgreSQL and Redis run from a local stand-in image built from Debian's
packages (tests/deploy/services.Containerfile, compose.ci.yaml). Everything else — the
image, the entry point, the volume, the non-root user, both compose profiles, the
scale-out processes talking over the compose network — is what a user runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE = "localhost/kyra-base:bookworm"
IMAGE = "localhost/kyra:ci"
SERVICES = "localhost/kyra-ci-services:latest"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
COMPOSE = [str(Path(sys.executable).with_name("podman-compose"))]

# The first test builds both images in its session fixture (up to 900 s each on a cold, busy
# machine): the suite-wide 120 s timeout would cut the build, not a hang.
pytestmark = [pytest.mark.container, pytest.mark.timeout(1200)]

SMOKE = """\
name: smoke
trigger: manual
inputs: {who: nobody}
steps:
  - name: greet
    action: transform
    with: {value: {greeting: "hello {{ inputs.who }}"}}
"""

TICKING = """\
name: ticking
trigger: {interval: 1s}
steps:
  - name: tick
    action: transform
    with: {value: {at: "{{ now.isoformat() }}"}}
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf"), **extra}


def run(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> str:
    """Standard output of `command`, which must succeed (else its stderr's tail)."""
    done = subprocess.run(
        command,
        env=env or _env(),
        cwd=ROOT,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr[-3000:]}"
    return done.stdout


def podman(*args: str, timeout: float = 120, input: str | None = None) -> str:
    return run(["podman", *args], timeout=timeout, input=input)


def logs(container: str) -> str:
    """A container's output: `podman logs` replays its stdout and stderr on its own."""
    done = subprocess.run(
        ["podman", "logs", container], env=_env(), capture_output=True, text=True, timeout=30
    )
    return done.stdout + done.stderr


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_image() -> None:
    """Debian bookworm with Python 3.11 from Debian's mirror, imported as BASE (once)."""
    if subprocess.run(["podman", "image", "exists", BASE], env=_env()).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(root),
                "http://deb.debian.org/debian",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            subprocess.run(
                ["podman", "import", "-", BASE], stdin=tar.stdout, env=_env(), check=True,
                capture_output=True, timeout=300,
            )  # fmt: skip
        assert tar.returncode == 0


@pytest.fixture(scope="session")
def images() -> None:
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: scripts/setup installs it (Debian packages)")
    _base_image()
    secret = ["--secret", f"id=pip_cert,src={CA_BUNDLE}"] if CA_BUNDLE.is_file() else []
    podman(
        "build", "--format", "docker", "--network", "host", *secret,
        "--build-arg", f"BASE={BASE}", "-t", IMAGE, str(ROOT), timeout=900,
    )  # fmt: skip
    podman(
        "build", "--network", "host", "--build-arg", f"BASE={BASE}",
        "-f", str(HERE / "services.Containerfile"), "-t", SERVICES, str(HERE), timeout=900,
    )  # fmt: skip


class Stack:
    """One compose project (a unique name, so runs never collide), torn down with its
    volumes at the end."""

    def __init__(self, profile: str, **env: str) -> None:
        self.project = f"kyra{profile.replace('-', '')}{uuid.uuid4().hex[:6]}"
        self.profile = profile
        self.port = _free_port()
        self.env = _env(KYRA_IMAGE=IMAGE, KYRA_PORT=str(self.port), **env)
        self.url = f"http://127.0.0.1:{self.port}"

    def compose(self, *args: str, timeout: float = 300) -> str:
        files = ["-f", str(ROOT / "compose.yaml"), "-f", str(HERE / "compose.ci.yaml")]
        command = [*COMPOSE, "-p", self.project, *files, "--profile", self.profile, *args]
        return run(command, env=self.env, timeout=timeout)

    def container(self, service: str, n: int = 1) -> str:
        return f"{self.project}_{service}_{n}"

    def kyra(self, service: str, *args: str, input: str | None = None) -> str:
        flags = ["-i"] if input is not None else []
        return podman("exec", *flags, self.container(service), "kyra", *args, input=input)

    def ready(self, timeout: float = 120) -> None:
        def answers() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(answers, timeout, f"{self.url}/readyz", every=0.5)
        except AssertionError as exc:
            tail = logs(self.container(self._api))[-4000:]
            raise AssertionError(f"{exc}:\n{tail}") from None

    @property
    def _api(self) -> str:
        return "kyra" if self.profile == "embedded" else "api"

    def down(self) -> None:
        """Everything of this project, also what `compose down` misses (containers added
        by --scale, the anonymous /data volumes of the one-off containers)."""
        label = f"label=io.podman.compose.project={self.project}"
        containers = podman("ps", "-aq", "--filter", label).split()
        mounts = "{{range .Mounts}}{{.Name}} {{end}}"
        anonymous = podman("inspect", "--format", mounts, *containers).split() if containers else []
        self.compose("down", "-v", "-t", "5", timeout=180)
        left = podman("ps", "-aq", "--filter", label).split()
        if left:
            podman("rm", "-f", "-v", "-t", "2", *left, timeout=120)
        named = podman("volume", "ls", "-q", "--filter", label).split()
        existing = set(podman("volume", "ls", "-q").split())
        gone = [v for v in {*named, *anonymous} if v in existing]
        if gone:
            podman("volume", "rm", "-f", *gone, timeout=60)


def eventually(check: Callable[[], object], timeout: float) -> None:
    """`wait_for` a `check` that may also fail (an AssertionError) while it is not true."""

    def attempt() -> object:
        try:
            return check()
        except AssertionError:
            return False

    wait_for(attempt, timeout, "a container-side check", every=1.0)


def _api_key(stack: Stack, service: str) -> dict[str, str]:
    key = stack.kyra(service, "apikeys", "create", "--tenant", "default").strip().splitlines()[0]
    return {"Authorization": f"Bearer {key}"}


def _run_and_wait(stack: Stack, headers: dict[str, str], name: str) -> dict[str, Any]:
    queued = httpx.post(f"{stack.url}/api/v1/workflows/{name}/run", headers=headers, timeout=10)
    assert queued.status_code == 202, queued.text
    execution = queued.json()["execution_id"]

    def finished() -> dict[str, Any] | None:
        got = httpx.get(f"{stack.url}/api/v1/executions/{execution}", headers=headers, timeout=10)
        body: dict[str, Any] = got.json()
        return body if body["status"] in ("succeeded", "failed") else None

    done: dict[str, Any] = wait_for(finished, 60, f"execution {execution}", every=0.2)
    return done


@pytest.fixture
def embedded(images: None) -> Iterator[Stack]:
    stack = Stack("embedded")
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def scale_out(images: None) -> Iterator[Stack]:
    stack = Stack("scale-out")
    try:
        yield stack
    finally:
        stack.down()


def test_embedded_profile_serves_runs_and_keeps_its_data(embedded: Stack) -> None:
    stack = embedded
    stack.compose("up", "-d")
    stack.ready()
    # Not root, and the entry point made the project on the empty volume.
    assert podman("exec", stack.container("kyra"), "id", "-u").strip() == "10001"
    assert httpx.get(f"{stack.url}/healthz", timeout=5).json()["status"] == "ok"
    headers = _api_key(stack, "kyra")
    created = httpx.post(
        f"{stack.url}/api/v1/workflows",
        headers={**headers, "Content-Type": "application/yaml"},
        content=SMOKE,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    done = _run_and_wait(stack, headers, "smoke")
    assert done["status"] == "succeeded"
    assert done["steps"][0]["output"] == {"greeting": "hello nobody"}
    # Logs are JSON lines (the image sets KYRA_LOG_FORMAT=json), access log included.
    lines = [json.loads(x) for x in logs(stack.container("kyra")).splitlines() if x[:1] == "{"]
    assert any(x.get("path") == f"/api/v1/executions/{done['id']}" for x in lines)

    # Down and up again: the volume keeps the key file, the database and the API key.
    stack.compose("down", "-t", "10")
    stack.compose("up", "-d")
    stack.ready()
    listed = httpx.get(f"{stack.url}/api/v1/workflows", headers=headers, timeout=10)
    assert listed.status_code == 200, listed.text
    assert [w["name"] for w in listed.json()] == ["smoke"]


def test_scale_out_profile_runs_on_celery_workers(scale_out: Stack) -> None:
    stack = scale_out
    key = stack.compose("--profile", "tools", "run", "--rm", "keygen").strip().splitlines()[-1]
    assert len(key) == 44 and key.endswith("=")
    stack.env["KYRA_SECRET_KEY"] = key
    # Podman 4.3 (Debian 12) cannot start a container whose dependency chain includes a
    # finished one (the migrate job), which Docker Compose and newer Podman do: start in
    # the order the depends_on conditions describe.
    stack.compose("up", "-d", "db", "redis", "migrate")
    assert podman("wait", stack.container("migrate"), timeout=180).strip() == "0"
    stack.compose("up", "-d", "--no-deps", "--scale", "worker=2", "api", "scheduler", "worker")
    stack.ready()
    assert "Database schema upgraded" in logs(stack.container("migrate"))

    def kinds() -> list[str]:
        status = json.loads(stack.kyra("api", "status", "--json"))
        return sorted(w["kind"] for w in status["workers"] if w["healthy"])

    eventually(lambda: kinds().count("celery") == 2, 90)
    assert {"scheduler", "embedded"} <= set(kinds())

    headers = _api_key(stack, "api")
    created = httpx.post(
        f"{stack.url}/api/v1/workflows",
        headers={**headers, "Content-Type": "application/yaml"},
        content=SMOKE,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert _run_and_wait(stack, headers, "smoke")["status"] == "succeeded"

    # Without the API process only the scheduler and the Celery workers are left: a
    # workflow on an interval trigger still runs, on the workers.
    podman("stop", "-t", "10", stack.container("api"), timeout=60)
    # The compose network's DNS (aardvark-dns) reloads when a container stops; a one-shot
    # command in that instant cannot resolve `db`, so these are retried (the long-running
    # processes retry on their own).
    eventually(lambda: stack.kyra("scheduler", "workflows", "apply", "-", input=TICKING), 30)

    def ticks() -> int:
        out = stack.kyra("scheduler", "executions", "list", "--workflow", "ticking", "--json")
        return sum(e["status"] == "succeeded" for e in json.loads(out))

    def processed_by_celery() -> int:
        status = json.loads(stack.kyra("scheduler", "status", "--json"))
        return sum(w["processed"] for w in status["workers"] if w["kind"] == "celery")

    eventually(lambda: ticks() >= 2, 90)
    eventually(lambda: processed_by_celery() >= 2, 60)  # counts travel with heartbeats
