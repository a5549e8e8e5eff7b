"""`python -m demo`: see demo/cli.py."""

from demo.cli import main

main(prog_name="python -m demo")
