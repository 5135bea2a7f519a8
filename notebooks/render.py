"""Regenerate the committed notebooks: execute each one top to bottom with
the evcxr kernel and write it back in place with its outputs, a PNG copy
of every figure, and the hash of the code that produced them.

    python notebooks/render.py [notebooks/NN-*.ipynb ...]   (default: all)

`bash scripts/render-notebooks.sh` sets up the kernel and runs this. A cell
error stops it, and the notebook on disk is left as it was.
"""

import datetime
import pathlib
import sys
import time

import nbformat
from nbclient.exceptions import CellExecutionError

from rendering import add_static_images, code_sha256, execute


def main() -> int:
    here = pathlib.Path(__file__).parent
    paths = [pathlib.Path(p) for p in sys.argv[1:]] or sorted(here.glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        try:
            execute(nb, path, record_timing=False)
        except CellExecutionError as err:
            print(f"{path}: a cell failed after {time.time() - t0:.0f} s; left unchanged\n{err}", flush=True)
            return 1
        seconds = time.time() - t0
        figures = add_static_images(nb)
        nb.metadata["circssnn"] = {
            "code_sha256": code_sha256(nb),
            "rendered": datetime.date.today().isoformat(),
            "seconds": round(seconds),
        }
        nbformat.write(nb, path)
        print(f"{path}: {seconds:.0f} s, {figures} figures", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
