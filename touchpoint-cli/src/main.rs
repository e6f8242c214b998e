//! The `touchpoint` binary: see the crate's README or `touchpoint --help`.

fn main() -> std::process::ExitCode {
    touchpoint_cli::main_exit()
}
