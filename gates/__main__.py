"""``python -m gates`` is ``mlsec-gates``."""

from gates.core.cli import main

raise SystemExit(main())
