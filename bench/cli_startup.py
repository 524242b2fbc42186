"""CPU time of short `kyra` commands, the cost an operator pays on every call.

Run with `.venv/bin/python bench/cli_startup.py [--runs N]`. Each command runs as a real
process (`python -m kyra ...`) in a scratch project (`kyra init` and one applied
workflow); the figure is the child's user+sys CPU seconds from `resource.getrusage`
(wall time on a shared machine says more about the neighbours). Target: `--help` and
`workflows list` at most 0.5 s. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS: list[list[str]] = [
    ["--help"],
    ["--version"],
    ["workflows", "list"],
    ["workflows", "show", "hello-kyra"],
    ["executions", "list"],
    ["fixes", "list"],
    ["db", "current"],
]
TARGET_SECONDS = 0.5
TARGETED = (("--help",), ("workflows", "list"))


def cpu_of(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """user+sys CPU seconds of one `python -m kyra ARGS` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "kyra", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command (default 7).")
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYRA_")}
    env["KYRA_LANG"] = "en"
    with tempfile.TemporaryDirectory(prefix="kyra-bench-cli-") as scratch:
        root = Path(scratch)
        for setup in (["init"], ["workflows", "apply", ".kyra/workflows/hello-kyra.yaml"]):
            subprocess.run(
                [sys.executable, "-m", "kyra", *setup],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                check=True,
            )
        for args in COMMANDS:
            cpu_of(args, root, env)  # warm the file cache and the bytecode
        print(f"{'command':<32} {'median':>8} {'min':>8} {'max':>8}   (CPU s, {runs} runs)")
        for args in COMMANDS:
            samples = [cpu_of(args, root, env) for _ in range(runs)]
            median = statistics.median(samples)
            label = "kyra " + " ".join(args)
            mark = ""
            if tuple(args) in TARGETED:
                mark = "  ok" if median <= TARGET_SECONDS else f"  over {TARGET_SECONDS} s"
            print(f"{label:<32} {median:>8.3f} {min(samples):>8.3f} {max(samples):>8.3f}{mark}")


if __name__ == "__main__":
    main()
