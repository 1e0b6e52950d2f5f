"""`python -m remogpt.cli` runs the `remogpt` command."""

from . import main

main()
