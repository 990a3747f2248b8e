"""``python -m gates.deps …`` behaves like ``mlsec-gates deps …``."""

import sys

from gates.core.cli import main

raise SystemExit(main(["deps", *sys.argv[1:]]))
