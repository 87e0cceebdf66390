"""`python -m threatmodel`: the same command line as `threatmodel`."""

from threatmodel.cli import main

main()
