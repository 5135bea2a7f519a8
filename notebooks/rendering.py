"""What the committed notebooks carry besides their code, shared by
`run.py` (CI: execute fresh copies, check the committed outputs are of
this code) and `render.py` (regenerate the committed outputs).

- `code_sha256(nb)`: SHA-256 of the notebook's code cells, in order. The
  rendered notebook stores it under `metadata.circssnn.code_sha256`; a
  notebook whose code changed since it was rendered no longer matches.
- `add_static_images(nb)`: beside every plotly figure an `image/png`
  copy, so GitHub, any viewer without plotly.js, and JupyterLab before the
  notebook is trusted show the figure (JupyterLab draws neither plotly nor
  SVG outputs of an untrusted notebook, but does draw PNG). Needs
  `render-requirements.txt` and a Chromium; `render.py` only.
"""

import hashlib
import json
import pathlib

from nbclient import NotebookClient

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PNG_MIME = "image/png"


def execute(nb, path: pathlib.Path, record_timing=True) -> None:
    """Run `nb` top to bottom with the evcxr kernel, in the folder of
    `path` (so `:dep circssnn = { path = ".." }` finds the crate). Raises
    nbclient's CellExecutionError at the first failing cell."""
    NotebookClient(
        nb,
        timeout=1800,
        kernel_name="rust",
        record_timing=record_timing,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()


def code_sha256(nb) -> str:
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode("utf-8"))
            h.update(b"\0")
    return h.hexdigest()


def stored_sha256(nb):
    return nb.metadata.get("circssnn", {}).get("code_sha256")


def plotly_outputs(nb):
    return [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if PLOTLY_MIME in out.get("data", {})
    ]


# A figure whose plotly JSON is larger than this is committed as its PNG
# only: nbformat writes one number per line, so notebook 02's eight 128 x 128
# attention maps alone would add 2 MB to the file. Executing the notebook
# brings the interactive figure back.
MAX_COMMITTED_JSON = 200_000


def add_static_images(nb, width=900, height=500) -> int:
    """Render each plotly figure to PNG with Kaleido 1.x, which drives a
    local headless Chromium (`BROWSER_PATH`, else the first Chrome or
    Chromium it finds) with the plotly.js bundled in the plotly package:
    offline. Figures over MAX_COMMITTED_JSON keep only the PNG. Returns the
    number of figures rendered."""
    import base64

    import kaleido

    n = 0
    for out in plotly_outputs(nb):
        fig = out["data"][PLOTLY_MIME]
        if isinstance(fig, str):
            fig = json.loads(fig)
        layout = fig.get("layout", {})
        opts = {
            "format": "png",
            "width": layout.get("width", width),
            "height": layout.get("height", height),
        }
        png = kaleido.calc_fig_sync(fig, opts=opts)
        out["data"][PNG_MIME] = base64.b64encode(png).decode("ascii")
        if len(json.dumps(fig)) > MAX_COMMITTED_JSON:
            del out["data"][PLOTLY_MIME]
        n += 1
    return n
