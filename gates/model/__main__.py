"""``python -m gates.model …`` behaves like ``mlsec-gates model …``."""

import sys

from gates.core.cli import main

raise SystemExit(main(["model", *sys.argv[1:]]))
