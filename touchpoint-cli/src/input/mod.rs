//! Reading journeys, leads, spend and truth files. Every reader names the
//! file, the line or row and the column of a problem, and reports what its
//! rules removed (printed on stderr by the commands).

pub mod jsonl;
pub mod leads;
pub mod paths;
pub mod spend;
pub mod touches;
pub mod truth;

use std::io::Read;

use touchpoint::JourneySet;

use crate::cli::{InputArgs, InputFormat};
use crate::engine;
use crate::error::{CliError, Result};
use crate::progress::Progress;

/// Journeys as read: one per journey, or aggregated paths.
#[derive(Debug)]
pub enum Data {
    /// Journeys, interned.
    Set(Box<JourneySet>),
    /// Aggregated path rows.
    Paths(Vec<paths::PathRow>),
}

/// What was read, with a human summary of what the readers and rules did.
#[derive(Debug)]
pub struct Loaded {
    /// The file name as given.
    pub file: String,
    /// The data.
    pub data: Data,
    /// One line per fact (records read, rows dropped and why).
    pub summary: Vec<String>,
}

impl Loaded {
    /// Prints the summary on stderr.
    pub fn print_summary(&self, quiet: bool) {
        if !quiet {
            for l in &self.summary {
                eprintln!("{}: {l}", self.file);
            }
        }
    }

    /// The journeys as a set (aggregated paths are expanded, see
    /// [`engine::expand_paths`]).
    ///
    /// # Errors
    ///
    /// A path row whose value is out of range.
    pub fn set(&self) -> Result<std::borrow::Cow<'_, JourneySet>> {
        Ok(match &self.data {
            Data::Set(s) => std::borrow::Cow::Borrowed(s),
            Data::Paths(rows) => std::borrow::Cow::Owned(engine::expand_paths(&self.file, rows)?),
        })
    }
}

/// With `TOUCHPOINT_TIMINGS` set, prints the seconds since `t0` at the end
/// of a phase on stderr (`timing <phase> <seconds>`).
pub fn timing(phase: &str, t0: std::time::Instant) {
    if std::env::var_os("TOUCHPOINT_TIMINGS").is_some() {
        eprintln!("timing {phase} {:.3}", t0.elapsed().as_secs_f64());
    }
}

/// Reads a whole file, or standard input for `-`.
///
/// # Errors
///
/// [`CliError::Io`] naming the file.
pub fn read_bytes(file: &str) -> Result<Vec<u8>> {
    let io = |source| CliError::Io {
        file: file.to_owned(),
        source,
    };
    if file == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v).map_err(io)?;
        Ok(v)
    } else {
        std::fs::read(file).map_err(io)
    }
}

/// The layout of `file` under `--input-format`.
pub fn layout(file: &str, f: InputFormat) -> InputFormat {
    match f {
        InputFormat::Auto => {
            let lower = file.to_ascii_lowercase();
            if lower.ends_with(".paths.csv") {
                InputFormat::Paths
            } else if lower.ends_with(".csv") {
                InputFormat::TouchesCsv
            } else if lower.ends_with(".parquet") || lower.ends_with(".pq") {
                InputFormat::TouchesParquet
            } else {
                InputFormat::Jsonl
            }
        }
        f => f,
    }
}

#[cfg(feature = "parquet")]
fn read_parquet(
    file: &str,
    bytes: &[u8],
    args: &InputArgs,
    bar: &mut Progress,
    sink: Option<touches::Sink<'_>>,
) -> Result<touches::TouchTable> {
    bar.set_len(0);
    touches::read_parquet(
        file,
        bytes::Bytes::copy_from_slice(bytes),
        args,
        &mut |r, n| {
            bar.set_len(n);
            bar.set(r);
        },
        sink,
    )
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(
    file: &str,
    _: &[u8],
    _: &InputArgs,
    _: &mut Progress,
    _: Option<touches::Sink<'_>>,
) -> Result<touches::TouchTable> {
    Err(CliError::Usage(format!(
        "{file}: this build has no Parquet support (build with the default `parquet` feature)"
    )))
}

/// Streams a touch-level table journey by journey into `sink`, without
/// collecting the journeys, when that gives the same result as [`load`]:
/// a touch table, no conversions file, no journey rule, and the rows of
/// each journey contiguous (as exports grouped or sorted by user are).
/// Returns `None` when it does not apply or the rows turn out not to be
/// contiguous; the caller then uses [`load`] (the sink may have seen some
/// journeys and must be discarded).
///
/// # Errors
///
/// As [`load`].
pub fn stream_touches(args: &InputArgs, sink: touches::Sink<'_>) -> Result<Option<Loaded>> {
    let format = layout(&args.file, args.input_format);
    if !matches!(
        format,
        InputFormat::TouchesCsv | InputFormat::TouchesParquet
    ) || args.conversions.is_some()
        || args.lookback_days.is_some()
    {
        return Ok(None);
    }
    let t0 = std::time::Instant::now();
    let file = args.file.clone();
    let bytes = read_bytes(&file)?;
    let mut bar = Progress::new("reading", bytes.len() as u64, args.quiet);
    let table = if format == InputFormat::TouchesCsv {
        touches::read_csv(&file, &bytes, args, &mut |b| bar.set(b as u64), Some(sink))
    } else {
        read_parquet(&file, &bytes, args, &mut bar, Some(sink))
    };
    bar.finish();
    let table = match table {
        Err(CliError::Other(m)) if m == touches::NOT_CONTIGUOUS => {
            path("rows streamed stopped: rows of a journey are not contiguous");
            return Ok(None);
        }
        t => t?,
    };
    path("rows streamed (rows of each journey contiguous)");
    timing("rows streamed into the model", t0);
    let c = table.counts;
    let mut summary = vec![format!(
        "read {} rows into {} journeys ({} touches), streamed (rows of each journey contiguous); channel from `{}`",
        c.rows,
        c.streamed_journeys.unwrap_or(0),
        c.touches,
        c.channel_from
    )];
    dropped_rows(&c, &mut summary);
    Ok(Some(Loaded {
        file,
        data: Data::Paths(Vec::new()),
        summary,
    }))
}

/// With `TOUCHPOINT_TIMINGS` set, says on stderr which reading path ran
/// (`path <name>`).
pub fn path(name: &str) {
    if std::env::var_os("TOUCHPOINT_TIMINGS").is_some() {
        eprintln!("path {name}");
    }
}

/// Reads a touch-level Parquet file by columns into coded sinks (one per
/// thread, see [`touches::columnar`]), when that gives the same result as
/// [`load`]: a Parquet touch table, no conversions file, no journey rule,
/// one channel column, and the rows of each journey contiguous. Otherwise
/// says why not (the sinks made so far must be discarded).
///
/// # Errors
///
/// As [`load`].
#[cfg(feature = "parquet")]
pub fn stream_parquet_columnar<S: touches::columnar::CodedSink>(
    args: &InputArgs,
    make_sink: &(dyn Fn() -> S + Sync),
) -> Result<Columnar<S>> {
    let format = layout(&args.file, args.input_format);
    if format != InputFormat::TouchesParquet
        || args.conversions.is_some()
        || args.lookback_days.is_some()
    {
        return Ok(Columnar::NotApplicable);
    }
    let t0 = std::time::Instant::now();
    let file = args.file.clone();
    let source = if file == "-" {
        touches::columnar::Source::Bytes(bytes::Bytes::from(read_bytes(&file)?))
    } else {
        touches::columnar::Source::File(std::path::PathBuf::from(&file))
    };
    let mut bar = Progress::new("reading", 0, args.quiet);
    let threads = touches::threads();
    let read =
        touches::read_parquet_columnar(&file, source, args, threads, make_sink, &mut |r, n| {
            bar.set_len(n);
            bar.set(r);
        });
    bar.finish();
    let (sinks, c) = match read {
        Err(CliError::Other(m)) if m == touches::NOT_CONTIGUOUS => {
            path("columnar stopped: rows of a journey are not contiguous");
            return Ok(Columnar::NotContiguous);
        }
        Ok(None) => return Ok(Columnar::NotApplicable),
        Ok(Some(r)) => r,
        Err(e) => return Err(e),
    };
    path(&format!(
        "columnar ({} thread{}, rows of each journey contiguous)",
        sinks.len(),
        if sinks.len() == 1 { "" } else { "s" }
    ));
    timing("rows read into the model", t0);
    let mut summary = vec![format!(
        "read {} rows into {} journeys ({} touches), streamed (rows of each journey contiguous); channel from `{}`",
        c.rows,
        c.streamed_journeys.unwrap_or(0),
        c.touches,
        c.channel_from
    )];
    dropped_rows(&c, &mut summary);
    Ok(Columnar::Read(
        sinks,
        Loaded {
            file,
            data: Data::Paths(Vec::new()),
            summary,
        },
    ))
}

/// What [`stream_parquet_columnar`] did.
#[cfg(feature = "parquet")]
#[derive(Debug)]
pub enum Columnar<S> {
    /// Read: the sinks in row-group order, and the read summary.
    Read(Vec<S>, Loaded),
    /// The columnar path does not apply (not Parquet, a conversions file or
    /// a rule, or a channel built from source and medium).
    NotApplicable,
    /// The rows of a journey are not contiguous: collect instead.
    NotContiguous,
}

/// What a touch-level read dropped or set aside, for the stderr summary
/// (the same lines whether the rows were streamed or collected).
fn dropped_rows(c: &touches::TouchCounts, summary: &mut Vec<String>) {
    if c.rows_without_journey > 0 {
        summary.push(format!(
            "dropped {} rows without a journey id",
            c.rows_without_journey
        ));
    }
    if c.empty_rows_dropped > 0 {
        summary.push(format!(
            "dropped {} rows with neither a channel nor a conversion",
            c.empty_rows_dropped
        ));
    }
    if c.conversion_only_rows > 0 {
        summary.push(format!(
            "{} rows without a channel carried only a conversion (not touches)",
            c.conversion_only_rows
        ));
    }
}

/// Reads the journeys file named by `args`, applies the conversions file
/// and the journey rules.
///
/// # Errors
///
/// Unreadable files (exit 3), bad data naming file/line/column (exit 4).
pub fn load(args: &InputArgs) -> Result<Loaded> {
    let file = args.file.clone();
    let format = layout(&file, args.input_format);
    if args.conversions.is_some()
        && !matches!(
            format,
            InputFormat::TouchesCsv | InputFormat::TouchesParquet
        )
    {
        return Err(CliError::Usage(
            "--conversions applies to touch-level tables (CSV or Parquet), not to journeys or paths".into(),
        ));
    }
    let t0 = std::time::Instant::now();
    let bytes = read_bytes(&file)?;
    timing("read file", t0);
    let mut summary = Vec::new();
    let mut bar = Progress::new("reading", bytes.len() as u64, args.quiet);
    let data = match format {
        InputFormat::Jsonl | InputFormat::Auto => {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64
                    + 1;
                CliError::data(&file, Some(line), None, "not valid UTF-8")
            })?;
            let mut set = JourneySet::new();
            let c = jsonl::read_into(&file, text, &mut set, |b| bar.set(b as u64))?;
            summary.push(format!(
                "read {} journeys ({} touches, {} converted)",
                c.journeys,
                set.touch_count(),
                set.conversions()
            ));
            if c.blank_lines > 0 {
                summary.push(format!("skipped {} blank lines", c.blank_lines));
            }
            if c.values_ignored > 0 {
                summary.push(format!(
                    "ignored the value of {} journeys that did not convert",
                    c.values_ignored
                ));
            }
            Data::Set(Box::new(set))
        }
        InputFormat::Paths => {
            let rows = paths::read(&file, &bytes)?;
            let j: u64 = rows.iter().map(|r| r.conversions + r.nulls).sum();
            let c: u64 = rows.iter().map(|r| r.conversions).sum();
            summary.push(format!(
                "read {} path rows ({j} journeys, {c} conversions)",
                rows.len()
            ));
            Data::Paths(rows)
        }
        InputFormat::TouchesCsv | InputFormat::TouchesParquet => {
            let mut table = if format == InputFormat::TouchesCsv {
                touches::read_csv(&file, &bytes, args, &mut |b| bar.set(b as u64), None)?
            } else {
                read_parquet(&file, &bytes, args, &mut bar, None)?
            };
            if let Some(conv) = &args.conversions {
                let name = conv.display().to_string();
                let data = read_bytes(&name)?;
                touches::apply_conversions(&mut table, &name, &data, args)?;
            }
            path("rows collected into journeys");
            timing("rows grouped into journeys", t0);
            let (set, c) = table.into_set(&file)?;
            timing("journeys interned", t0);
            summary.push(format!(
                "read {} rows into {} journeys ({} touches, {} converted); channel from `{}`",
                c.rows,
                set.len(),
                c.touches,
                set.conversions(),
                c.channel_from
            ));
            dropped_rows(&c, &mut summary);
            if args.conversions.is_some() {
                summary.push(format!(
                    "conversions file: {} rows; {} for journeys with no touch (their value is unassigned)",
                    c.conversion_file_rows, c.conversions_without_touches
                ));
            }
            Data::Set(Box::new(set))
        }
    };
    bar.finish();
    let data = match (data, args.lookback_days) {
        (Data::Paths(_), Some(_)) => {
            return Err(CliError::Usage(
                "paths carry no timestamps: --lookback-days needs journeys".into(),
            ));
        }
        (Data::Set(set), Some(days)) => {
            let (clean, removed) = engine::lookback(&set, days)?;
            summary.push(format!("lookback {days} days: removed {removed} touches"));
            Data::Set(Box::new(clean))
        }
        (d, None) => d,
    };
    Ok(Loaded {
        file,
        data,
        summary,
    })
}
