"""``python -m gates.signature …`` behaves like ``mlsec-gates signature …``."""

import sys

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(["signature", *sys.argv[1:]]), "gates.signature")
