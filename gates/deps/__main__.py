"""``python -m gates.deps …`` behaves like ``mlsec-gates deps …``."""

import sys

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(["deps", *sys.argv[1:]]), "gates.deps")
