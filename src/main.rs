//! `circssnn` command line: a thin layer over the library.

mod cli;

/// Caches freed blocks instead of returning them to the OS: a training step
/// allocates and frees tens of large buffers, and with the system allocator
/// the resulting page faults cost ~10% of the step (measured with perf).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc's `mi_option_purge_delay`: 15 in both mimalloc.h versions that
/// libmimalloc-sys 0.1.49 builds (v2, v3); the crate names no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Never hand freed pages back to the OS: mimalloc does so 1 s after a
    // free by default, and the next training step faults them in again
    // zeroed. Measured on one QKI epoch of 1,000 windows: 27,000-38,000 ->
    // ~850 page faults, 5-8% less CPU, the same results to the bit; peak
    // memory 0.60 -> 0.71 GB.
    // SAFETY: an option store, made before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    quiet_broken_pipe();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: the crate's messages already
/// quote the OS error they wrap ("x.fa: Is a directory (os error 21)"), so a
/// cause whose text is already in the message is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// `circssnn data stats | head` ends quietly when `head` stops reading,
/// as Unix tools do, instead of panicking inside `println!` (Rust ignores
/// SIGPIPE by default, so every write would fail with a broken-pipe error).
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any
    // other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
