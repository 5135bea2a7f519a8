//! Helpers shared by the tests that drive the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `circssnn args` (with `CIRCSSNN_CACHE` set to `cache`); panics with
/// its stderr if it fails. Returns (stdout, stderr).
pub fn circssnn(args: &[&str], cache: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_circssnn"))
        .args(args)
        .env("CIRCSSNN_CACHE", cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "circssnn {args:?} failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A path as `&str` (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Train a tiny circRNA2Vec and a few steps of the small BERT into
/// `dir/vec` and `dir/bert` (seconds, not minutes: for plumbing tests, not
/// for accuracy). Returns their folders.
pub fn tiny_descriptors(dir: &Path) -> (PathBuf, PathBuf) {
    let (vec, bert, cache) = (dir.join("vec"), dir.join("bert"), dir.join("cache"));
    circssnn(
        &[
            "embed",
            "train-vec",
            "--max-windows",
            "3000",
            "--epochs",
            "1",
            "--min-count",
            "2",
            "--quiet",
            "--out",
            s(&vec),
        ],
        &cache,
    );
    circssnn(
        &[
            "embed",
            "pretrain-bert",
            "--max-windows",
            "1000",
            "--steps",
            "3",
            "--batch",
            "4",
            "--warmup",
            "1",
            "--quiet",
            "--out",
            s(&bert),
        ],
        &cache,
    );
    (vec, bert)
}
