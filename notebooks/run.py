"""Execute the circssnn notebooks headless with the evcxr kernel.

    python notebooks/run.py OUT_DIR notebooks/01-*.ipynb ...

First checks that each committed notebook's outputs were rendered from its
current code (`metadata.circssnn.code_sha256`, written by `render.py`):
a notebook edited without re-rendering fails here, before anything runs.
Then each notebook runs top to bottom in its own folder (so `:dep circssnn
= { path = ".." }` finds the crate), from a copy with its outputs cleared;
the executed copy is written to OUT_DIR. Exits non-zero at the first cell
that errors (a failed assertion included), printing that cell's error.
Prints the wall time of each notebook.
"""

import pathlib
import sys
import time

import nbformat
from nbclient.exceptions import CellExecutionError

from rendering import code_sha256, execute, stored_sha256


def stale(paths) -> list:
    out = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if stored_sha256(nb) != code_sha256(nb):
            out.append(path)
    return out


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = list(map(pathlib.Path, sys.argv[2:]))
    bad = stale(paths)
    if bad:
        for path in bad:
            print(
                f"{path}: its code differs from the code its committed outputs came from "
                f"(metadata.circssnn.code_sha256); re-render it: "
                f"bash scripts/render-notebooks.sh {path}",
                flush=True,
            )
        return 1
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        t0 = time.time()
        try:
            execute(nb, path)
        except CellExecutionError as err:
            nbformat.write(nb, out_dir / path.name)
            print(f"{path}: a cell failed after {time.time() - t0:.0f} s\n{err}", flush=True)
            return 1
        nbformat.write(nb, out_dir / path.name)
        print(f"{path}: {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
