"""``python -m gates.signature …`` behaves like ``mlsec-gates signature …``."""

import sys

from gates.core.cli import main

raise SystemExit(main(["signature", *sys.argv[1:]]))
