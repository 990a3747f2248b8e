"""``python -m gates.pii …`` behaves like ``mlsec-gates pii …``."""

import sys

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(["pii", *sys.argv[1:]]), "gates.pii")
