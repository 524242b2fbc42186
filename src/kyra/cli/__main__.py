"""`python -m kyra.cli` runs the `kyra` command (used where no console script exists)."""

from kyra.cli import main

main()
