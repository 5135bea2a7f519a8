//! Every notebook in `notebooks/` executed top to bottom with the evcxr
//! kernel; a cell error or a failed assertion cell fails the test, and so
//! does a committed notebook whose code changed since its outputs were
//! rendered (`notebooks/run.py` checks the stored code hash first).
//!
//! Ignored by plain `cargo test` because it needs the notebook toolchain
//! (evcxr_jupyter, rust-src, nbclient): `bash scripts/test.sh` installs it
//! and runs this test. Executed copies land in `target/notebooks/`.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs the evcxr kernel and nbclient: run `bash scripts/test.sh`"]
fn notebooks_run_top_to_bottom() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("CIRCSSNN_NOTEBOOK_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut notebooks: Vec<_> = std::fs::read_dir(root.join("notebooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    notebooks.sort();
    assert!(notebooks.len() >= 3, "notebooks missing: {notebooks:?}");
    let status = Command::new(&python)
        .arg(root.join("notebooks/run.py"))
        .arg(root.join("target/notebooks"))
        .args(&notebooks)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run `bash scripts/test.sh`)"));
    assert!(
        status.success(),
        "a notebook failed; see the output above and target/notebooks/"
    );
}
