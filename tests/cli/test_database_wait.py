"""A database that cannot be reached is one line from any command (never a traceback),
and `kyra db upgrade --wait N` waits for one that is still starting (containers start
together: the schema job must not fail because PostgreSQL is a second late)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from tests.cli.conftest import Kyra


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with closing(src), closing(dst):
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass


@contextmanager
def _late_proxy(port: int, target: tuple[str, int], after: float) -> Iterator[None]:
    """A TCP forwarder to `target` that starts listening on `port` only after `after` s."""
    stop = threading.Event()

    def serve() -> None:
        if stop.wait(after):
            return
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(target)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "cannot reach the database"), ("es", "no se puede conectar con la base de datos")],
)
def test_an_unreachable_database_is_one_line(kyra: Kyra, lang: str, expected: str) -> None:
    kyra.env["KYRA_DATABASE_URL"] = f"postgresql+psycopg://kyra@127.0.0.1:{_free_port()}/kyra"
    for args in (("db", "upgrade"), ("db", "current"), ("db", "upgrade", "--wait", "0.3")):
        result = kyra(*args, lang=lang)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output
        assert expected in result.stderr.strip().splitlines()[-1], args


@pytest.mark.postgres
def test_db_upgrade_waits_for_a_database_that_is_starting(kyra: Kyra, pg_url: str) -> None:
    port = _free_port()
    kyra.env["KYRA_DATABASE_URL"] = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    assert kyra("db", "upgrade").exit_code == 2  # nothing listens yet: refused at once
    with _late_proxy(port, ("127.0.0.1", 5432), after=1.0):
        result = kyra("db", "upgrade", "--wait", "30")
    assert result.exit_code == 0, result.output
    assert "Waiting up to 30 s for the database" in result.stderr
    assert "up to date" in result.stdout
