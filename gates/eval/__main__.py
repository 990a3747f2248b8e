"""``python -m gates.eval …`` behaves like ``mlsec-gates eval …``."""

import sys

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(["eval", *sys.argv[1:]]), "gates.eval")
