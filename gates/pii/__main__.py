"""``python -m gates.pii …`` behaves like ``mlsec-gates pii …``."""

import sys

from gates.core.cli import main

raise SystemExit(main(["pii", *sys.argv[1:]]))
