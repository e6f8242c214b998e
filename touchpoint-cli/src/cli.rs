//! Command-line arguments (clap derive). Every model and option has a
//! one-line description that `--help` prints.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Marketing attribution, funnel and ROI from files: tables on a terminal,
/// JSON or CSV for pipelines, a self-contained HTML report with charts.
#[derive(Debug, Parser)]
#[command(name = "touchpoint", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Models (--model; `touchpoint help attribute` lists their options):
  first_touch      100% to the first touch
  last_touch       100% to the last touch
  last_non_direct  100% to the last touch not in the direct set (--direct)
  linear           1/n to each of n touches
  time_decay       weight 2^(-age/half-life) back from the conversion (--half-life-days)
  position_based   U-shaped: 40% first, 40% last, 20% over the middle (alias u_shaped)
  j_shaped         20% first, 60% last, 20% middle
  inverse_j        60% first, 20% last, 20% middle
  w_shaped         30% first, lead creation, opportunity creation; 10% the rest
  full_path        22.5% each first, lead, opportunity, close; 10% the rest
  participation    100% to every distinct channel
  markov           Markov chain removal effects of order K (--order)
  shapley          Shapley values (--shapley simplified|rate|ordered)
  incremental      logistic conversion model credited by counterfactual removal

Exit codes: 0 success, 1 computation failed on valid input, 2 bad arguments, 3 file not \
readable or writable, 4 bad input data (the message names file, line or row, and column)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Credit per channel (or campaign, content) under one model.
    Attribute(AttributeArgs),
    /// Every model side by side, the incremental model's effect shares, and
    /// each model's error when a truth file is given.
    Compare(CompareArgs),
    /// Findings about the data before any attribution (duplicates, gaps,
    /// channel names, sufficiency).
    Audit(AuditArgs),
    /// Funnel, acceptance, time in stage, velocity, pipeline,
    /// sourced/influenced revenue and ROI from a leads file.
    Funnel(FunnelArgs),
    /// One self-contained HTML file with the narrative, tables and charts.
    Report(ReportArgs),
    /// Simulated journeys with their ground truth, for trying everything
    /// without data.
    Simulate(SimulateArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned tables (for a terminal).
    #[default]
    Table,
    /// One JSON document on stdout (stable keys, see the README).
    Json,
    /// CSV with a header row on stdout.
    Csv,
}

/// Options every command that prints shares.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Currency code shown beside amounts (display only; amounts are read
    /// in major units with 2 decimals).
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

/// How the journeys file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum InputFormat {
    /// From the file name: `*.paths.csv` paths, other `*.csv` and
    /// `*.parquet` touches, anything else (and `-`) JSON lines.
    #[default]
    Auto,
    /// The crate's JSON lines, one journey per line.
    Jsonl,
    /// Aggregated paths CSV: `path,total_conversions,total_conversion_value,total_null`.
    Paths,
    /// Touch-level CSV, one row per touch (column names by the `--*-col` flags).
    TouchesCsv,
    /// Touch-level Parquet, one row per touch.
    TouchesParquet,
}

/// Where journeys come from and how their columns are named.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Journeys file; `-` reads standard input (JSON lines unless `--input-format` says otherwise).
    pub file: String,
    /// Layout of FILE.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// Conversions keyed by journey id (CSV, or JSON lines with the same
    /// column names as fields): marks those journeys converted.
    #[arg(long, value_name = "FILE")]
    pub conversions: Option<PathBuf>,
    /// Journey id column [default: first of journey_id, user_pseudo_id, id].
    #[arg(long, value_name = "NAME")]
    pub journey_col: Option<String>,
    /// Channel column [default: first of channel, default_channel_group;
    /// else `source / medium` from utm_source+utm_medium or source+medium].
    #[arg(long, value_name = "NAME")]
    pub channel_col: Option<String>,
    /// Source column combined with `--medium-col` into `source / medium` when there is no channel column.
    #[arg(long, value_name = "NAME")]
    pub source_col: Option<String>,
    /// Medium column (see `--source-col`).
    #[arg(long, value_name = "NAME")]
    pub medium_col: Option<String>,
    /// Timestamp column: RFC 3339 text, or integer epoch (GA4's
    /// event_timestamp is microseconds) [default: first of ts, timestamp, event_timestamp, event_time].
    #[arg(long, value_name = "NAME")]
    pub ts_col: Option<String>,
    /// Unit of integer timestamps.
    #[arg(long, value_enum, default_value_t = EpochUnit::Auto)]
    pub ts_unit: EpochUnit,
    /// Campaign column [default: first of campaign, utm_campaign].
    #[arg(long, value_name = "NAME")]
    pub campaign_col: Option<String>,
    /// Content column [default: first of content, utm_content].
    #[arg(long, value_name = "NAME")]
    pub content_col: Option<String>,
    /// Cost column [default: cost].
    #[arg(long, value_name = "NAME")]
    pub cost_col: Option<String>,
    /// Milestone column: lead_created, opportunity_created or closed [default: milestone].
    #[arg(long, value_name = "NAME")]
    pub milestone_col: Option<String>,
    /// Converted flag column on touch rows (true/false, 1/0) [default: converted].
    #[arg(long, value_name = "NAME")]
    pub converted_col: Option<String>,
    /// Conversion value column [default: first of value, conversion_value, purchase_revenue].
    #[arg(long, value_name = "NAME")]
    pub value_col: Option<String>,
    /// Conversion time column [default: conversion_ts].
    #[arg(long, value_name = "NAME")]
    pub conversion_ts_col: Option<String>,
    /// Keep only touches within D days before the conversion (a journey rule; the count removed goes to stderr).
    #[arg(long, value_name = "D")]
    pub lookback_days: Option<f64>,
    /// No progress bar and no read summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Unit of integer timestamps in touch tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EpochUnit {
    /// By magnitude: above 1e17 nanoseconds, 1e14 microseconds, 1e11 milliseconds, else seconds.
    #[default]
    Auto,
    /// Seconds since 1970-01-01 UTC.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds (GA4 event_timestamp).
    Us,
    /// Nanoseconds.
    Ns,
}

/// Every model of the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ModelName {
    /// 100% to the first touch.
    FirstTouch,
    /// 100% to the last touch.
    LastTouch,
    /// 100% to the last touch not in the direct set (`--direct`).
    LastNonDirect,
    /// 1/n to each of n touches.
    Linear,
    /// weight 2^(-age/half-life) back from the conversion (`--half-life-days`, default 7).
    TimeDecay,
    /// U-shaped: 40% first, 40% last, 20% over the middle.
    #[value(alias = "u_shaped")]
    PositionBased,
    /// 20% first, 60% last, 20% middle.
    JShaped,
    /// 60% first, 20% last, 20% middle.
    InverseJ,
    /// 30% first, 30% lead creation, 30% opportunity creation, 10% the rest.
    WShaped,
    /// 22.5% each first, lead, opportunity, close; 10% the rest.
    FullPath,
    /// 100% to every distinct channel (credit does not sum to the total).
    Participation,
    /// Markov chain removal effects of order K (`--order`), solved exactly.
    Markov,
    /// Shapley values (`--shapley simplified|rate|ordered`).
    Shapley,
    /// Logistic conversion model credited by counterfactual removal.
    Incremental,
}

impl ModelName {
    /// The model's name as the crate spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::FirstTouch => "first_touch",
            ModelName::LastTouch => "last_touch",
            ModelName::LastNonDirect => "last_non_direct",
            ModelName::Linear => "linear",
            ModelName::TimeDecay => "time_decay",
            ModelName::PositionBased => "position_based",
            ModelName::JShaped => "j_shaped",
            ModelName::InverseJ => "inverse_j",
            ModelName::WShaped => "w_shaped",
            ModelName::FullPath => "full_path",
            ModelName::Participation => "participation",
            ModelName::Markov => "markov",
            ModelName::Shapley => "shapley",
            ModelName::Incremental => "incremental",
        }
    }

    /// Every rule-based model (no fit).
    pub const RULES: [ModelName; 11] = [
        ModelName::FirstTouch,
        ModelName::LastTouch,
        ModelName::LastNonDirect,
        ModelName::Linear,
        ModelName::TimeDecay,
        ModelName::PositionBased,
        ModelName::JShaped,
        ModelName::InverseJ,
        ModelName::WShaped,
        ModelName::FullPath,
        ModelName::Participation,
    ];
}

/// Shapley variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ShapleyVariantArg {
    /// Each converting journey shared equally among its distinct channels.
    #[default]
    Simplified,
    /// One exact game per converting channel set, v(S) = conversion rate of journeys with exactly S.
    Rate,
    /// Ordered Shapley (position-aware).
    Ordered,
}

/// Options of the models.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Markov order (1 to 6; orders 5 and 6 hold at most 4,094 and 1,022 channels).
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub order: u8,
    /// Markov: collapse consecutive repeats of a channel.
    #[arg(long)]
    pub collapse_repeats: bool,
    /// Shapley variant.
    #[arg(long, value_enum, default_value_t = ShapleyVariantArg::Simplified)]
    pub shapley: ShapleyVariantArg,
    /// Time-decay half-life in days.
    #[arg(long, value_name = "D")]
    pub half_life_days: Option<f64>,
    /// A channel last_non_direct skips (repeatable) [default: direct].
    #[arg(long, value_name = "CHANNEL")]
    pub direct: Vec<String>,
}

/// What to break credit down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum By {
    /// Channel.
    #[default]
    Channel,
    /// Campaign.
    Campaign,
    /// Content asset.
    Content,
}

/// `touchpoint attribute`.
#[derive(Debug, Clone, Args)]
pub struct AttributeArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// The model.
    #[arg(long, short, value_enum)]
    pub model: ModelName,
    /// Model options.
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Break credit down by channel, campaign or content.
    #[arg(long, value_enum, default_value_t = By::Channel)]
    pub by: By,
    /// Bootstrap intervals from R seeded replicates (data-driven models are refitted on each).
    #[arg(long, value_name = "R")]
    pub intervals: Option<u32>,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bootstrap interval level.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `touchpoint compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Model options.
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Ground truth (`*.truth.json`, as `simulate` writes): adds each model's error in points.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `touchpoint audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Leads, spend and funnel options.
#[derive(Debug, Clone, Args)]
pub struct FunnelOpts {
    /// Spend file (CSV `channel,campaign,period,amount` or JSON lines of the same fields).
    #[arg(long, value_name = "FILE")]
    pub spend: Option<PathBuf>,
    /// A channel whose leads are sales-sourced (repeatable).
    #[arg(long, value_name = "CHANNEL")]
    pub sales_channel: Vec<String>,
    /// Model crediting won revenue to channels for ROI.
    #[arg(long = "roi-model", value_enum, default_value_t = ModelName::Linear)]
    pub roi_model: ModelName,
}

/// `touchpoint funnel`.
#[derive(Debug, Clone, Args)]
pub struct FunnelArgs {
    /// Leads file (CSV, one row per stage entry or touch; or JSON lines of leads); `-` for stdin (JSON lines).
    pub leads: String,
    /// Funnel options.
    #[command(flatten)]
    pub opts: FunnelOpts,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `touchpoint report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Model options.
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Ground truth file, for each model's error.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Leads file for the funnel, velocity and ROI sections.
    #[arg(long, value_name = "FILE")]
    pub leads: Option<PathBuf>,
    /// Funnel options.
    #[command(flatten)]
    pub funnel: FunnelOpts,
    /// Bootstrap replicates for the intervals: the incremental effects' (refitted on each; default 30) and the narrative's top channels' under linear credit (re-weighted; default 200).
    #[arg(long, value_name = "R")]
    pub intervals: Option<u32>,
    /// Where to write the HTML file.
    #[arg(long, value_name = "OUT.html")]
    pub html: PathBuf,
    /// Report title.
    #[arg(long, default_value = "Marketing attribution report")]
    pub title: String,
    /// Currency code shown beside amounts.
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

/// Simulator presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PresetArg {
    /// The shipped sample's shape: 12 channels, presence effects, ~12.6% conversion.
    SampleLike,
    /// The sample's shape with effects a fifth as strong.
    WeakEffects,
    /// B2B: long paths, milestones, costs, late strong channels.
    B2b,
    /// A closing bonus for paid_search; retargeting works only after display.
    OrderMatters,
    /// display everywhere with no effect.
    UselessEverywhere,
    /// 36 channels, sparse paths.
    ManyChannels,
}

/// `touchpoint simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Simulator preset.
    #[arg(long, value_enum)]
    pub preset: PresetArg,
    /// Number of journeys.
    #[arg(long, default_value_t = 10_000)]
    pub journeys: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Journeys file to write (JSON lines); the truth goes beside it as `NAME.truth.json`.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the journeys' funnel leads (JSON lines) for `funnel` and `report --leads`.
    #[arg(long, value_name = "FILE")]
    pub leads: Option<PathBuf>,
}
