# Sourced by scripts/test.sh and scripts/render-notebooks.sh (from the
# repository root): installs, once, what executes the notebooks headless
# (about 10 minutes on a fresh machine) and exports the variables the
# evcxr kernel and Jupyter read. Everything goes under target/notebook-env.
#
# - the evcxr Jupyter kernel (cargo install);
# - rust-src beside the Rust in use (rustup if there is one);
# - nbclient in a Python venv.

ENV_DIR="$PWD/target/notebook-env"
mkdir -p "$ENV_DIR"

# evcxr compiles every cell against the standard library's sources: with
# rustup, add them; with any other Rust (conda-forge's, a distribution's),
# they must already be there.
RUST_SRC="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
if [ ! -d "$RUST_SRC" ]; then
  if command -v rustup >/dev/null 2>&1; then
    rustup component add rust-src
  else
    echo "scripts/notebook-env.sh: $RUST_SRC is missing: the notebooks' evcxr kernel needs the standard" >&2
    echo "library's sources. Install them beside this Rust (conda: 'conda install -c conda-forge rust-src';" >&2
    echo "Debian: 'apt install rust-src'), or use rustup ('rustup component add rust-src')." >&2
    exit 1
  fi
fi
if [ ! -x "$ENV_DIR/bin/evcxr_jupyter" ]; then
  # opt-level 1: the kernel mostly waits on rustc, and a fully optimised
  # build of it is the slowest step of a fresh CI run.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --locked --root "$ENV_DIR" evcxr_jupyter@0.22.0
fi
if [ ! -x "$ENV_DIR/venv/bin/python" ]; then
  python3 -m venv "$ENV_DIR/venv"
  "$ENV_DIR/venv/bin/pip" install -q -r notebooks/requirements.txt
fi
export PATH="$ENV_DIR/bin:$PATH"
# The kernel spec goes under this folder, not the user's Jupyter data dir.
export JUPYTER_DATA_DIR="$ENV_DIR/jupyter"
export JUPYTER_PATH="$ENV_DIR/jupyter"
evcxr_jupyter --install >/dev/null
# evcxr's own settings: a 3 GB cache of compiled crates (a smaller one is
# corrupted by plotly's dependencies), so notebooks after the first reuse dfdx.
export EVCXR_CONFIG_DIR="$ENV_DIR/evcxr-config"
mkdir -p "$EVCXR_CONFIG_DIR"
echo ":cache 3000" > "$EVCXR_CONFIG_DIR/init.evcxr"
# One build folder for every kernel: the notebooks run one after another
# (run.py and render.py never start two kernels at once), so a kernel after
# the first reuses the compiled circssnn and its cell crates instead of
# building them again in a fresh temporary folder (notebook 07: 204 -> 97 s
# after notebook 05, same cache, same load). Two kernels at once must not
# share it: leave EVCXR_TMPDIR unset for interactive JupyterLab sessions.
export EVCXR_TMPDIR="$ENV_DIR/evcxr-tmp"
mkdir -p "$EVCXR_TMPDIR"
