//! The `touchpoint` command-line tool: marketing attribution, funnel and
//! ROI from files. The binary is a thin wrapper over [`run`]; the modules
//! are public so the integration tests and `examples/attribute` can share
//! them.
//!
//! Layout: [`cli`] (arguments), [`input`] (readers), [`engine`] (every call
//! into the core crate), [`commands`] and [`report`] (what each subcommand
//! does), [`out`] and [`charts`] (rendering), [`audit`] and [`narrative`]
//! (interim seams for the core's audit and narrative modules).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod charts;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod input;
pub mod narrative;
pub mod out;
pub mod progress;
pub mod report;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Runs one parsed command.
///
/// # Errors
///
/// Every error of the command (see [`error`] for the exit codes).
pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Attribute(a) => commands::attribute(a),
        Command::Compare(a) => commands::compare(a),
        Command::Audit(a) => commands::audit(a),
        Command::Funnel(a) => commands::funnel(a),
        Command::Report(a) => report::report(a),
        Command::Simulate(a) => commands::simulate(a),
    }
}

/// Parses the process arguments, runs, prints any error on stderr and
/// returns the exit code.
pub fn main_exit() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
