//! The command's errors and their exit codes.
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | success |
//! | 1 | a model or computation failed on valid input (for example too little data) |
//! | 2 | bad arguments (unknown option, unknown model, missing value): printed by the argument parser |
//! | 3 | a file could not be opened, read or written |
//! | 4 | bad input data: the message names the file, the line or row, and the column or field |

use std::fmt;

/// Exit code: a model or computation failed on valid input.
pub const EXIT_COMPUTE: u8 = 1;
/// Exit code: bad arguments.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a file could not be opened, read or written.
pub const EXIT_IO: u8 = 3;
/// Exit code: bad input data.
pub const EXIT_DATA: u8 = 4;

/// Where in an input file a problem is: file, 1-based line or row, and
/// the column or field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// File name as given on the command line (`-` for standard input).
    pub file: String,
    /// 1-based line (text formats) or row (Parquet, counted over the file).
    pub line: Option<u64>,
    /// Column name or JSON field path.
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(l) = self.line {
            write!(f, ": line {l}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column `{c}`")?;
        }
        Ok(())
    }
}

/// Every error the command reports.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments found after parsing (an option that does not apply).
    Usage(String),
    /// A file could not be opened, read or written.
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Bad input data at a location.
    Data {
        /// Where.
        at: Location,
        /// What.
        message: String,
    },
    /// The core library refused the computation.
    Compute(touchpoint::Error),
    /// A computation failed for another reason (message says what).
    Other(String),
}

impl CliError {
    /// A data error at `file`, `line`, `column`.
    pub fn data(
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> CliError {
        CliError::Data {
            at: Location {
                file: file.to_owned(),
                line,
                column: column.map(str::to_owned),
            },
            message: message.into(),
        }
    }

    /// The process exit code of this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io { .. } => EXIT_IO,
            CliError::Data { .. } => EXIT_DATA,
            CliError::Compute(_) | CliError::Other(_) => EXIT_COMPUTE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Io { file, source } => write!(f, "{file}: {source}"),
            CliError::Data { at, message } => write!(f, "{at}: {message}"),
            CliError::Compute(e) => write!(f, "{e}"),
            CliError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<touchpoint::Error> for CliError {
    fn from(e: touchpoint::Error) -> CliError {
        CliError::Compute(e)
    }
}

/// The command's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
