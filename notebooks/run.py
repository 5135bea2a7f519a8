"""Execute the circssnn notebooks headless with the evcxr kernel.

    python notebooks/run.py OUT_DIR notebooks/01-*.ipynb ...

Each notebook runs top to bottom in its own folder (so `:dep circssnn =
{ path = ".." }` finds the crate); the executed copy is written to OUT_DIR.
Exits non-zero at the first cell that errors (a failed assertion included),
printing that cell's error. Prints the wall time of each notebook.
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in map(pathlib.Path, sys.argv[2:]):
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        client = NotebookClient(
            nb,
            timeout=1800,
            kernel_name="rust",
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
        except CellExecutionError as err:
            nbformat.write(nb, out_dir / path.name)
            print(f"{path}: a cell failed after {time.time() - t0:.0f} s\n{err}", flush=True)
            return 1
        nbformat.write(nb, out_dir / path.name)
        print(f"{path}: {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
