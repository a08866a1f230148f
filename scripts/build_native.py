"""Compile the exact planner's search (``micromoves/planning/solver.py``) with mypyc, as an optional
accelerator: ``python scripts/build_native.py`` (``make setup`` runs it).

The search is pure Python; mypyc turns the same typed source into a C extension that runs it 1.5–1.7×
faster (measured on the 2,000-person demo's plans, with identical results). The extension is built from
a copy named ``_solver_native`` that records the SHA-256 of the planning sources it was built against
(``solver.SOURCES``): ``solver.py`` uses the extension only while that digest still matches them, so an
edit takes effect at once (the pure code runs) and never hides behind a stale build. The copy ends where ``solver.py``
marks the start of its switch to the extension (that part is not compiled).

Nothing is needed at run time: the extension links only against CPython. If the compiler or mypyc is
missing, the build fails here (``make setup`` says so and goes on) and the pure search runs. A wheel or
sdist does not carry the extension: installs from them run the pure search.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "micromoves" / "planning"
SOURCE = PACKAGE / "solver.py"
NATIVE = "_solver_native"
MARKER = "# --- switch to the compiled copy"


def main() -> None:
    sys.path.insert(0, str(SRC))
    from micromoves.planning.solver import source_digest

    digest = source_digest(PACKAGE)
    text = SOURCE.read_text(encoding="utf-8")
    if MARKER not in text:
        sys.exit(f"{SOURCE} lost its marker line {MARKER!r}: the switch to the compiled copy must not be compiled")
    head = text.split(MARKER, 1)[0]
    for old in PACKAGE.glob(f"{NATIVE}*.so"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="micromoves-native-") as tmp:
        # mypyc resolves the copy's imports (micromoves.planning.model …) from a copy of the package tree.
        tree = Path(tmp) / "src"
        shutil.copytree(SRC / "micromoves", tree / "micromoves", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        copy = tree / "micromoves" / "planning" / f"{NATIVE}.py"
        copy.write_text(f"{head}\nSOURCE_SHA256 = {digest!r}\n", encoding="utf-8")
        env = {**os.environ, "MYPYC_OPT_LEVEL": "3"}
        mypyc = Path(sys.executable).with_name("mypyc")
        subprocess.run([str(mypyc), f"micromoves/planning/{NATIVE}.py"], cwd=tree, env=env, check=True)
        built = {lib.name: lib for lib in (tree / "micromoves" / "planning").glob(f"{NATIVE}*.so")}
        if not built:
            sys.exit("mypyc built no extension")
        for lib in built.values():
            shutil.copy2(lib, PACKAGE / lib.name)
            print(f"built {PACKAGE / lib.name}")


if __name__ == "__main__":
    main()
