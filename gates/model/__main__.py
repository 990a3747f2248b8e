"""``python -m gates.model …`` behaves like ``mlsec-gates model …``."""

import sys

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(["model", *sys.argv[1:]]), "gates.model")
