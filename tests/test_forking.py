"""Children start from the fork server with the main program's modules loaded, however it was started.

multiprocessing makes every child import the main module again unless the fork server did; before
``service.forking`` preloaded it, each uploaded form paid ~0.5 s importing the command line anew. A
program here records in which process each of its modules was imported, and a parsing child reports it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from service.config import ROOT

DEPENDENCY = "import os\nIMPORTED_IN = os.getpid()\n"
PROGRAM = textwrap.dedent(
    """
    import os
    import sys

    import probe_dependency

    def probe(data):
        dependency = sys.modules["probe_dependency"]
        return {"dependency_from_server": dependency.IMPORTED_IN != os.getpid(),
                "reader_loaded": "service.forms.pdf_form" in sys.modules}

    if __name__ == "__main__":
        from service.forms import uploads
        print(uploads.run_limited(probe, b"-"))
    """
)


def run(tmp_path, *how: str) -> str:
    (tmp_path / "probe_dependency.py").write_text(DEPENDENCY, encoding="utf-8")
    (tmp_path / "probe_program.py").write_text(PROGRAM, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    done = subprocess.run(
        [sys.executable, *how], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_a_child_of_a_program_run_from_its_path_finds_its_imports_loaded(tmp_path):
    assert run(tmp_path, "probe_program.py") == "{'dependency_from_server': True, 'reader_loaded': True}"


def test_a_child_of_a_program_run_with_dash_m_finds_its_imports_loaded(tmp_path):
    assert run(tmp_path, "-m", "probe_program") == "{'dependency_from_server': True, 'reader_loaded': True}"
