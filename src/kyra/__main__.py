"""`python -m kyra` runs the `kyra` command."""

from kyra.cli import main

main()
