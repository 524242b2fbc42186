"""SQLite write turns: threads and processes take turns without SQLite's sleeping busy
handler, and no holder can make a waiter wait forever."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

from kyra.store.db import make_engine
from kyra.store.sqlite_turn import WriterTurns


def _connection(turns: WriterTurns) -> dict[str, object]:
    info: dict[str, object] = {}
    turns.open(info)
    return info


def test_a_second_thread_waits_for_the_turn_and_gets_it_when_given_back(
    tmp_path: Path,
) -> None:
    turns = WriterTurns(str(tmp_path / "db.sqlite"), timeout=30)
    first, second = _connection(turns), _connection(turns)
    turns.take(first)
    taken = threading.Event()

    def waiter() -> None:
        turns.take(second)
        taken.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert not taken.wait(0.2)  # held by the first connection
    turns.give_back(first)
    assert taken.wait(10)
    thread.join()
    assert "kyra_turn_holder" in second and "kyra_turn_holder" not in first
    turns.give_back(second)
    for info in (first, second):
        turns.close(info)


def test_a_thread_nesting_two_connections_does_not_wait_for_itself(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "db.sqlite"), timeout=30)
    outer, inner = _connection(turns), _connection(turns)
    turns.take(outer)
    turns.take(inner)  # would block for 30 s if it waited for its own thread's turn
    assert "kyra_turn_holder" not in inner  # SQLite's own lock decides for the inner one
    turns.give_back(inner)
    turns.give_back(outer)
    again = _connection(turns)
    turns.take(again)
    assert "kyra_turn_holder" in again  # the turn really was given back


def test_a_turn_never_given_back_delays_a_waiter_only_until_the_timeout(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "db.sqlite"), timeout=0.2)
    stuck, waiter = _connection(turns), _connection(turns)
    turns.take(stuck)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (turns.take(waiter), done.set()))
    thread.start()
    assert done.wait(10)  # went ahead without the turn: SQLite decides from here
    thread.join()
    assert "kyra_turn_holder" not in waiter


def _insert_rows(url: str, n: int, worker: int) -> None:
    engine = make_engine(url, write_turns=True)
    for i in range(n):
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t (worker, i) VALUES (?, ?)", (worker, i))
    engine.dispose()


def test_processes_and_threads_writing_together_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    engine = make_engine(url, write_turns=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (worker INTEGER, i INTEGER)")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_insert_rows, args=(url, 300, w)) for w in (1, 2)]
    threads = [threading.Thread(target=_insert_rows, args=(url, 300, w)) for w in (3, 4)]
    for worker in [*procs, *threads]:
        worker.start()
    for thread in threads:
        thread.join()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT worker, count(*) FROM t GROUP BY worker").all()
    counts = {worker: n for worker, n in rows}
    assert counts == {1: 300, 2: 300, 3: 300, 4: 300}
    assert (tmp_path / "shared.db-turn").exists()
    engine.dispose()


def test_a_connection_closed_while_holding_its_turn_gives_it_back(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "db.sqlite"), timeout=30)
    broken, other = _connection(turns), _connection(turns)
    turns.take(broken)
    turns.close(broken)  # invalidated mid-transaction: closed, never checked in
    done = threading.Event()
    thread = threading.Thread(target=lambda: (turns.take(other), done.set()))
    thread.start()
    assert done.wait(5)  # not 30 s: the turn came back with the close
    thread.join()
    assert "kyra_turn_holder" in other
    turns.give_back(other)


def test_an_engine_with_turns_holds_one_for_each_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/turns.db", write_turns=True)
    with engine.begin() as conn:
        assert "kyra_turn_holder" in conn.connection.info  # taken before BEGIN IMMEDIATE
        record = conn.connection.info
    assert "kyra_turn_holder" not in record  # given back with the connection
    plain = make_engine(f"sqlite:///{tmp_path}/plain.db")
    with plain.begin() as conn:
        assert "kyra_turn_fd" not in conn.connection.info
    engine.dispose()
    plain.dispose()
