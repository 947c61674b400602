"""`python -m tart ...`: the `tart` command where the package is importable but not installed (a lent GPU machine)."""

from tart.app.cli import app

app(prog_name="tart")
