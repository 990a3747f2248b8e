"""CI platform integration, beside the core: the sticky PR/MR comment (GitHub, GitLab) and GitHub
annotations, both read from the JSON report a ``run`` step wrote.

This package imports the core and is never imported by it: the CLI finds its commands through
the ``mlsec_gates.commands`` entry point (``ci = "gates.ci:add_commands"``).

- :mod:`.commands`: the ``comment`` and ``annotations`` commands;
- :mod:`.report`: a JSON report read back into a run;
- :mod:`.annotate`: workflow commands, one per problem, every failing gate first;
- :mod:`.sticky`, :mod:`.github`, :mod:`.gitlab`, :mod:`.http`: finding and editing our comment.
"""

from __future__ import annotations

from .commands import add_commands

__all__ = ["add_commands"]
