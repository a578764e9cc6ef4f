"""`python -m phoneauth` is the `phoneauth` command."""

from phoneauth.cli import main

main()
