"""`python -m threatmodel.cli`: the same command line as `threatmodel`."""

from . import main

main()
