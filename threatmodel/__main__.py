"""`python -m threatmodel`: the same command line as `threatmodel`."""

from .cli import main

main()
