"""The one fork server every child process of the service starts from: upload parsers, local job workers.

Forking the threaded web server itself is unsafe, and a fresh interpreter (spawn) pays ~0.6 s importing
the service for every child. multiprocessing's fork server is a small single-threaded process that
imports a list of modules once, when it starts, and forks each child from itself, so a child starts in
milliseconds with those modules loaded.

What a child finds loaded is that list: the modules each user asks for (:func:`context`), gathered until
the server starts (with the first child; what is asked for later each child imports itself) — and what
the main program imports. multiprocessing makes every child run the main program's module again (as
``__mp_main__``: the ``veidlapas`` command, a benchmark, pytest), and Python 3.11's fork server cannot
preload ``__main__`` itself (it never receives the main's path), so without help every upload would
import the whole command line anew (~0.5 s each). The server therefore imports, by name, the module of
everything the main program's top level holds (``service.cli`` for the ``veidlapas`` command) and, for a
program run with ``python -m``, that module itself: the child's re-run then finds them loaded.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from multiprocessing.context import ForkServerContext
from types import ModuleType

_CONTEXT: ForkServerContext = multiprocessing.get_context("forkserver")
_LOCK = threading.Lock()
_MODULES: list[str] = []


def context(*modules: str) -> ForkServerContext:
    """The fork server's context, with ``modules`` (and the main program's) added to what it imports
    when it starts."""
    with _LOCK:
        for module in (*main_imports(), *modules):
            if module not in _MODULES:
                _MODULES.append(module)
        _CONTEXT.set_forkserver_preload(list(_MODULES))
    return _CONTEXT


def main_imports(main: ModuleType | None = None) -> list[str]:
    """The importable modules behind the main program's top-level names, and the program's own module
    when it was run with ``python -m``.

    >>> import types, json
    >>> program = types.ModuleType("__main__")
    >>> program.dumps, program.json = json.dumps, json
    >>> main_imports(program)
    ['json']
    """
    main = main if main is not None else sys.modules.get("__main__")
    found: list[str] = []
    run_as = getattr(getattr(main, "__spec__", None), "name", None)
    if run_as and not run_as.endswith("__main__"):  # a package's __main__ is never run again
        found.append(run_as)
    for value in vars(main).values() if main is not None else ():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        known = isinstance(name, str) and name in sys.modules and not name.startswith(("__", "builtins"))
        if known and name not in found:
            found.append(name)
    return found
