//! Helpers shared by the tests that drive the binary.
// Each test binary compiles this module and uses a different subset of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `circssnn args`, not yet run.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_circssnn"));
    cmd.args(args);
    cmd
}

/// Run `cmd` (`circssnn args`, maybe with extra environment); panics with
/// its stderr if it fails. Returns (stdout, stderr).
pub fn succeed(args: &[&str], cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "circssnn {args:?} failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Run `cmd` (`circssnn args`), which must fail. Returns its stderr.
pub fn fail(args: &[&str], cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "circssnn {args:?} should fail:\n{stderr}"
    );
    stderr
}

/// Run `circssnn args`; panics with its stderr if it fails. Returns
/// (stdout, stderr).
pub fn ok(args: &[&str]) -> (String, String) {
    succeed(args, &mut command(args))
}

/// Run `circssnn args`, which must fail. Returns its stderr.
pub fn fails(args: &[&str]) -> String {
    fail(args, &mut command(args))
}

/// [`ok`] with `CIRCSSNN_CACHE` set to `cache`.
pub fn circssnn(args: &[&str], cache: &Path) -> (String, String) {
    succeed(args, command(args).env("CIRCSSNN_CACHE", cache))
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
