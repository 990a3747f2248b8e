"""pyarrow imported without numpy when nothing needs numpy (issue 18: start-up).

pyarrow (since 16) runs without numpy, but imports it eagerly whenever it is installed: ~90 ms of
a pii process, half of ``import pyarrow``. The pii gate never hands numpy objects to pyarrow nor
asks it for any (no ``to_numpy``/``to_pandas``), and no other gate uses pyarrow. So, when numpy is
not imported yet, ``pyarrow`` and ``pyarrow._compute`` (which imports numpy too) are
imported while ``import numpy`` fails; numpy stays importable afterwards for whoever needs it (the
model gate imports it on first use). The one thing given up, for the rest of the process: pyarrow
does not take numpy objects (``pa.array(np.arange(3))`` fails), which nothing in mlsec-gates does.
pyarrow before 16, which needs numpy, fails the first attempt and gets the ordinary import, as does everyone when
``MLSEC_GATES_ARROW_NUMPY=1`` is set. Reports are the same either way (tests check it).
"""

from __future__ import annotations

import os
import sys

ENV = "MLSEC_GATES_ARROW_NUMPY"


def import_pyarrow() -> None:
    """Import ``pyarrow`` and its compute kernels (``pyarrow._compute``, see :mod:`.compute`)
    numpy-free when possible; a no-op when pyarrow
    or numpy is already imported. Modules the gate imports on first use (``pyarrow.parquet``,
    ``pyarrow.orc``…) import numpy then if they need it. A missing pyarrow raises the ordinary
    ``ModuleNotFoundError`` (the registry turns it into the install command)."""
    if "pyarrow" in sys.modules or "numpy" in sys.modules:
        return
    # no version check first (reading the installed distributions' metadata cost ~20 ms): a
    # pyarrow that needs numpy fails this import, and gets the ordinary one below
    if os.environ.get(ENV) != "1":
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
        try:
            import pyarrow  # noqa: F401
            import pyarrow._compute  # noqa: F401
        except ImportError:
            # a pyarrow that needs numpy (before 16), or none: forget the half-imported modules and import
            # as usual (which raises the ordinary ModuleNotFoundError when pyarrow is missing)
            for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
                del sys.modules[name]
        finally:
            if "numpy" in sys.modules and sys.modules["numpy"] is None:
                del sys.modules["numpy"]
    import pyarrow  # noqa: F401,F811
