//! `circssnn` command line: a thin layer over the library.

mod cli;

/// Caches freed blocks instead of returning them to the OS: a training step
/// allocates and frees tens of large buffers, and with the system allocator
/// the resulting page faults cost ~10% of the step (measured with perf).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
