"""``python -m gates.eval …`` behaves like ``mlsec-gates eval …``."""

import sys

from gates.core.cli import main

raise SystemExit(main(["eval", *sys.argv[1:]]))
