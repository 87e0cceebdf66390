"""`python -m threatmodel.cli`: the same command line as `threatmodel`."""

from threatmodel.cli import main

main()
