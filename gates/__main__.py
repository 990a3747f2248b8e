"""``python -m gates`` is ``mlsec-gates``."""

from gates.core.cli import main
from gates.core.fastexit import exit_process

exit_process(main(), "gates")
