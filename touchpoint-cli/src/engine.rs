//! Every call into the core library goes through this module, so a rename
//! in the core (`MarkovFit` -> `MarkovPartial`, `ChannelCredits` -> `Report`,
//! free `fit` functions) is adapted here and nowhere else. It turns the
//! core's results into the command's own output types (stable JSON keys,
//! documented in the README).

use chrono::{DateTime, Utc};
use serde::Serialize;
use touchpoint::audit::{self, AuditConfig, AuditReport};
use touchpoint::bootstrap::{self, Bootstrap, BootstrapConfig, ChannelAmount};
use touchpoint::funnel::{
    self, FunnelConfig, FunnelMetrics, Lead, Ratio, SliceBy, StageProbabilities, WinRate,
};
use touchpoint::incremental::{self, Incremental, SelectConfig, Selection, Summary};
use touchpoint::markov::{self, MarkovConfig, MarkovPartial};
use touchpoint::models::{self, LastNonDirect, ModelSpec, TimeDecay};
use touchpoint::roi::{RoiReport, Spend};
use touchpoint::rules::Rules;
use touchpoint::shapley::{self, ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::sim::{Preset, Simulator};
use touchpoint::story::{self, StoryInput};
use touchpoint::{
    AttributionModel, CreditConfig, CreditPartial, Currency, Journey, JourneySet, Milestone,
    Outcome, Report, SimpleJourney, SimpleTouch, Touchpoint, attribute,
};

use crate::cli::{By, ModelArgs, ModelName, PresetArg, ShapleyVariantArg};
use crate::error::{CliError, Result};
use crate::input::paths::PathRow;
use crate::input::{Data, Loaded};

/// A bootstrap interval of one line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntervalOut {
    /// Interval level (0.95).
    pub level: f64,
    /// Share of conversions, low end.
    pub share_low: f64,
    /// Share of conversions, high end.
    pub share_high: f64,
    /// Credited value, low end.
    pub value_low: f64,
    /// Credited value, high end.
    pub value_high: f64,
}

/// One line of credit (a channel, campaign or content asset).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    /// Channel, campaign or content name.
    pub name: String,
    /// Credited (fractional) conversions.
    pub conversions: f64,
    /// Credited value in major units.
    pub value: f64,
    /// Credited value in minor units (exact: lines + unassigned = total).
    pub value_minor: i128,
    /// Share of the credited conversions (0..1).
    pub share: f64,
    /// Bootstrap interval, with `--intervals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalOut>,
}

/// Credit no line could take (converted journeys without touches, or
/// without a campaign/content for those breakdowns).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Unassigned {
    /// Conversions.
    pub conversions: f64,
    /// Value in major units.
    pub value: f64,
    /// Value in minor units.
    pub value_minor: i128,
}

/// The result of one model: the `attribute` command's JSON.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attribution {
    /// Model name (with options, as the core names it).
    pub model: String,
    /// `channel`, `campaign` or `content`.
    pub by: &'static str,
    /// Journeys read.
    pub journeys: u64,
    /// Converted journeys.
    pub conversions: u64,
    /// Their total value, major units.
    pub value: f64,
    /// Their total value, minor units.
    pub value_minor: i128,
    /// One line per name, in first-seen order.
    pub lines: Vec<Line>,
    /// What no line took.
    pub unassigned: Unassigned,
    /// How the lines were computed (e.g. channel-level removal effects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn with_shares(mut lines: Vec<Line>) -> Vec<Line> {
    let total: f64 = lines.iter().map(|l| l.conversions).sum();
    for l in &mut lines {
        l.share = if total > 0.0 {
            l.conversions / total
        } else {
            0.0
        };
    }
    lines
}

fn by_name(by: By) -> &'static str {
    match by {
        By::Channel => "channel",
        By::Campaign => "campaign",
        By::Content => "content",
    }
}

fn from_report(r: &Report, by: By) -> Attribution {
    let b = match by {
        By::Channel => r.channels(),
        By::Campaign => r.campaigns(),
        By::Content => r.contents(),
    };
    let lines = b
        .lines()
        .iter()
        .map(|c| Line {
            name: c.name().to_owned(),
            conversions: c.conversions(),
            value: c.value(),
            value_minor: c.value_minor(),
            share: 0.0,
            interval: None,
        })
        .collect();
    let un = b.unassigned();
    Attribution {
        model: r.model().to_owned(),
        by: by_name(by),
        journeys: r.journeys(),
        conversions: r.conversions(),
        value: r.value(),
        value_minor: r.value_minor(),
        lines: with_shares(lines),
        unassigned: Unassigned {
            conversions: un.conversions(),
            value: un.value(),
            value_minor: un.value_minor(),
        },
        note: r.is_full_credit().then(|| {
            "participation credits every channel in full: lines do not sum to the total".to_owned()
        }),
    }
}

fn from_credits(c: &Report, journeys: u64) -> Attribution {
    Attribution {
        journeys,
        note: Some("channel-level credit: total x weight / sum of weights".to_owned()),
        ..from_report(c, By::Channel)
    }
}

fn markov_config(a: &ModelArgs, currency: Currency) -> Result<MarkovConfig> {
    Ok(MarkovConfig::new(a.order)?
        .collapse_repeats(a.collapse_repeats)
        .with_currency(currency))
}

fn shapley_config(a: &ModelArgs, currency: Currency) -> ShapleyConfig {
    let v = match a.shapley {
        ShapleyVariantArg::Simplified => ShapleyVariant::Simplified,
        ShapleyVariantArg::Rate => ShapleyVariant::Rate,
        ShapleyVariantArg::Ordered => ShapleyVariant::Ordered,
    };
    ShapleyConfig::new(v).with_currency(currency)
}

/// The incremental model under the core's automatic configuration
/// (`incremental::select`: candidate configurations scored by held-out
/// likelihood on 2 folds, seed 0, then the chosen one fitted on every
/// journey), with the selection (every candidate's score and the reason).
///
/// # Errors
///
/// The chosen configuration's fit errors (too little data).
pub fn incremental_fit(set: &JourneySet) -> Result<(Incremental, Selection)> {
    Ok(incremental::select(set, SelectConfig::new())?)
}

/// A per-journey model: rule-based, or fitted on `set` (Markov, Shapley,
/// incremental).
///
/// # Errors
///
/// Bad options, or a fit that fails.
pub fn model(
    name: ModelName,
    a: &ModelArgs,
    set: &JourneySet,
) -> Result<Box<dyn AttributionModel>> {
    Ok(match name {
        ModelName::Markov => Box::new(markov::fit(set, markov_config(a, set.currency())?)?),
        ModelName::Shapley => Box::new(shapley::fit(set, shapley_config(a, set.currency()))?),
        ModelName::Incremental => Box::new(incremental_fit(set)?.0),
        rule => rule_spec(rule, a)?.build()?,
    })
}

/// A rule-based model and its options as the library's serializable
/// [`ModelSpec`] (what a `CreditPartial` carries). Options are checked by
/// the model's own constructor (a zero half-life is refused there).
///
/// # Errors
///
/// Bad options; [`CliError::Usage`] for a fitted model (Markov, Shapley,
/// incremental), which has no spec.
pub fn rule_spec(name: ModelName, a: &ModelArgs) -> Result<ModelSpec> {
    let built: Box<dyn AttributionModel> = match name {
        ModelName::Markov | ModelName::Shapley | ModelName::Incremental => {
            return Err(CliError::Usage(format!(
                "{} is fitted on the data: it has no rule-based spec",
                name.as_str()
            )));
        }
        ModelName::TimeDecay => Box::new(match a.half_life_days {
            Some(d) => TimeDecay::with_half_life_days(d)?,
            None => TimeDecay::default(),
        }),
        ModelName::LastNonDirect if !a.direct.is_empty() => {
            Box::new(LastNonDirect::new(a.direct.iter().cloned())?)
        }
        other => return Ok(ModelSpec::from_name(other.as_str())?),
    };
    built
        .spec()
        .ok_or_else(|| CliError::Usage(format!("{} has no spec", name.as_str())))
}

fn minor_of(file: &str, r: &PathRow, line: usize) -> Result<i64> {
    Currency::default()
        .to_minor(r.value)
        .ok()
        .flatten()
        .ok_or_else(|| {
            CliError::data(
                file,
                Some(line as u64 + 2),
                Some("total_conversion_value"),
                format!("{} is out of range", r.value),
            )
        })
}

/// Attribution under one model, broken down by `by`.
///
/// Markov and Shapley by channel give the model's channel-level credit
/// (as `examples/attribute` does; on paths they fit the rows directly);
/// by campaign or content they credit each journey with the fitted model.
/// On paths, the rule-based models credit each row by weight
/// (`CreditPartial::observe_path`: one journey's credit times the row's
/// conversions, the row's value split once); only the incremental model
/// sees the rows expanded into journeys ([`expand_paths`]).
///
/// # Errors
///
/// Model errors; options that do not apply to paths.
pub fn attribute_loaded(l: &Loaded, name: ModelName, a: &ModelArgs, by: By) -> Result<Attribution> {
    if let Data::Paths(rows) = &l.data {
        let journeys: u64 = rows.iter().map(|r| r.conversions + r.nulls).sum();
        if by != By::Channel {
            return Err(CliError::Usage(
                "paths carry no campaigns or contents: --by needs journeys".into(),
            ));
        }
        match name {
            ModelName::Markov => {
                let mut fit = MarkovPartial::new(markov_config(a, Currency::default())?);
                for (i, r) in rows.iter().enumerate() {
                    fit.observe_path(&r.path, r.conversions, minor_of(&l.file, r, i)?, r.nulls)?;
                }
                return Ok(from_credits(&fit.finish()?.credits()?, journeys));
            }
            ModelName::Shapley => {
                let mut fit = ShapleyPartial::new(shapley_config(a, Currency::default()));
                for (i, r) in rows.iter().enumerate() {
                    fit.observe_path(&r.path, r.conversions, minor_of(&l.file, r, i)?, r.nulls)?;
                }
                return Ok(from_credits(&fit.finish()?.credits()?, journeys));
            }
            ModelName::TimeDecay => {
                return Err(CliError::Usage(
                    "paths carry no timestamps: time_decay needs journeys".into(),
                ));
            }
            ModelName::Incremental => {}
            _ => {
                // rule-based: each row credited by weight, never expanded
                let mut p = CreditPartial::new(CreditConfig::from_spec(&rule_spec(name, a)?)?);
                for (i, r) in rows.iter().enumerate() {
                    p.observe_path(&r.path, r.conversions, minor_of(&l.file, r, i)?, r.nulls)
                        .map_err(|e| {
                            CliError::data(&l.file, Some(i as u64 + 2), None, e.to_string())
                        })?;
                }
                return Ok(from_report(&p.finish(), by));
            }
        }
    }
    let set = l.set()?;
    attribute_set(&set, name, a, by)
}

/// [`attribute_loaded`] on a journey set.
///
/// # Errors
///
/// Model errors.
pub fn attribute_set(
    set: &JourneySet,
    name: ModelName,
    a: &ModelArgs,
    by: By,
) -> Result<Attribution> {
    match (name, by) {
        (ModelName::Markov, By::Channel) => Ok(from_credits(
            &markov::fit(set, markov_config(a, set.currency())?)?.credits()?,
            set.len() as u64,
        )),
        (ModelName::Shapley, By::Channel) => Ok(from_credits(
            &shapley::fit(set, shapley_config(a, set.currency()))?.credits()?,
            set.len() as u64,
        )),
        _ => {
            let m = model(name, a, set)?;
            Ok(from_report(&attribute(m.as_ref(), set)?, by))
        }
    }
}

/// Rule-based attribution of a touch table streamed journey by journey
/// into a `CreditPartial` (no `JourneySet`): `None` when streaming does
/// not apply (see [`crate::input::stream_touches`]); then use
/// [`attribute_loaded`]. Same bits as the collecting path.
///
/// # Errors
///
/// Reading and model errors.
pub fn attribute_streamed(
    args: &crate::cli::InputArgs,
    name: ModelName,
    a: &ModelArgs,
    by: By,
) -> Result<Option<(Attribution, Loaded)>> {
    if matches!(
        name,
        ModelName::Markov | ModelName::Shapley | ModelName::Incremental
    ) {
        return Ok(None);
    }
    let config = CreditConfig::from_spec(&rule_spec(name, a)?)?;
    #[cfg(feature = "parquet")]
    {
        let file = args.file.clone();
        let make = || PartialSink {
            partial: CreditPartial::new(config.clone()),
            file: file.clone(),
        };
        match crate::input::stream_parquet_columnar(args, &make)? {
            crate::input::Columnar::Read(sinks, loaded) => {
                // merged in range order (integer sums: the order does not
                // change a bit, the fixed order keeps it obvious)
                let mut sinks = sinks.into_iter();
                let mut all = sinks.next().map_or_else(|| make().partial, |s| s.partial);
                for s in sinks {
                    all.merge(&s.partial)?;
                }
                return Ok(Some((from_report(&all.finish(), by), loaded)));
            }
            crate::input::Columnar::NotContiguous => return Ok(None),
            crate::input::Columnar::NotApplicable => {}
        }
    }
    let mut partial = CreditPartial::new(config);
    let file = args.file.clone();
    let loaded = crate::input::stream_touches(
        args,
        Box::new(|j| {
            partial
                .observe(j)
                .map_err(|e| CliError::data(&file, None, None, e.to_string()))
        }),
    )?;
    Ok(loaded.map(|l| (from_report(&partial.finish(), by), l)))
}

/// A `CreditPartial` as the columnar Parquet reader's sink.
#[cfg(feature = "parquet")]
#[derive(Debug)]
pub struct PartialSink {
    partial: CreditPartial,
    file: String,
}

#[cfg(feature = "parquet")]
impl PartialSink {
    fn err(&self, e: &touchpoint::Error) -> CliError {
        CliError::data(&self.file, None, None, e.to_string())
    }
}

#[cfg(feature = "parquet")]
impl crate::input::touches::columnar::CodedSink for PartialSink {
    fn channel_code(&mut self, name: &str) -> Result<u32> {
        self.partial.channel_code(name).map_err(|e| self.err(&e))
    }
    fn campaign_code(&mut self, name: &str) -> Result<u32> {
        self.partial.campaign_code(name).map_err(|e| self.err(&e))
    }
    fn content_code(&mut self, name: &str) -> Result<u32> {
        self.partial.content_code(name).map_err(|e| self.err(&e))
    }
    fn journey(
        &mut self,
        id: &str,
        outcome: &Outcome,
        touches: &[touchpoint::CodedTouch],
    ) -> Result<()> {
        self.partial
            .observe_coded(id, outcome, touches)
            .map_err(|e| self.err(&e))
    }
    fn named(&mut self, journey: &crate::input::touches::Building) -> Result<()> {
        self.partial.observe(journey).map_err(|e| self.err(&e))
    }
}

fn amounts_of(c: &Report) -> Vec<ChannelAmount> {
    c.channels()
        .lines()
        .iter()
        .map(|l| ChannelAmount {
            name: l.name().to_owned(),
            conversions: l.conversions(),
            value: l.value(),
        })
        .collect()
}

/// A bootstrap configuration: `replicates` seeded replicates, intervals
/// at `level`.
///
/// # Errors
///
/// Zero replicates or a level outside (0, 1).
pub fn bootstrap_config(replicates: u32, seed: u64, level: f64) -> Result<BootstrapConfig> {
    Ok(BootstrapConfig::new()
        .replicates(replicates)?
        .seed(seed)
        .level(level)?)
}

/// Adds bootstrap intervals (by channel) to an attribution: rule-based
/// models re-weight each journey's fixed credit; Markov, Shapley and the
/// incremental model are refitted on every replicate.
///
/// # Errors
///
/// Bad bootstrap options, or a point fit that fails.
pub fn add_intervals(
    out: &mut Attribution,
    set: &JourneySet,
    name: ModelName,
    a: &ModelArgs,
    replicates: u32,
    seed: u64,
    level: f64,
) -> Result<u32> {
    let cfg = bootstrap_config(replicates, seed, level)?;
    let boot = match name {
        ModelName::Markov => {
            let mc = markov_config(a, set.currency())?;
            bootstrap::bootstrap_fit(set, &cfg, |rs| {
                let mut fit = MarkovPartial::new(mc);
                for (v, w) in rs.weighted() {
                    for _ in 0..w {
                        fit.observe_view(&v)?;
                    }
                }
                Ok(amounts_of(&fit.finish()?.credits()?))
            })?
        }
        ModelName::Shapley => {
            let sc = shapley_config(a, set.currency());
            bootstrap::bootstrap_fit(set, &cfg, |rs| {
                let mut fit = ShapleyPartial::new(sc);
                for (v, w) in rs.weighted() {
                    for _ in 0..w {
                        fit.observe_view(&v)?;
                    }
                }
                Ok(amounts_of(&fit.finish()?.credits()?))
            })?
        }
        ModelName::Incremental => {
            // the configuration is chosen once, on every journey; each
            // replicate refits that configuration
            let ic = incremental_fit(set)?.1.config().clone();
            bootstrap::bootstrap_fit(set, &cfg, |rs| {
                let m = Incremental::fit_weighted(rs.set(), rs.weights(), &ic)?;
                rs.credit(&m)
            })?
        }
        _ => bootstrap::bootstrap_model(model(name, a, set)?.as_ref(), set, &cfg)?,
    };
    for l in &mut out.lines {
        if let Some(ci) = boot.get(&l.name) {
            l.interval = Some(IntervalOut {
                level,
                share_low: ci.share().low(),
                share_high: ci.share().high(),
                value_low: ci.value().low(),
                value_high: ci.value().high(),
            });
        }
    }
    Ok(boot.failed_replicates())
}

/// One channel's incremental effect: expected incremental conversions over
/// all journeys (raw, may be negative) and its share with an interval.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Effect {
    /// Channel.
    pub name: String,
    /// Expected incremental conversions (raw estimate).
    pub conversions: f64,
    /// Expected incremental value (raw estimate).
    pub value: f64,
    /// Share of the positive effects (the quantity a causal truth measures).
    pub share: f64,
    /// Bootstrap interval of the share, when computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_low: Option<f64>,
    /// Bootstrap interval of the share, high end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_high: Option<f64>,
}

/// The incremental model's results: its effects as the `compare` table
/// shows them, and the core's three views in one [`Summary`].
#[derive(Debug, Clone)]
pub struct IncrementalOut {
    /// The fitted model (automatic configuration).
    pub model: Incremental,
    /// Per channel: expected incremental conversions and their share.
    pub effects: Vec<Effect>,
    /// The core's summary: credit, incremental credit with a baseline,
    /// expected effects (with intervals when computed), the configuration
    /// and how it was chosen.
    pub summary: Summary,
    /// Bootstrap intervals of the effects, with `replicates > 0`.
    pub intervals: Option<Bootstrap>,
}

/// The incremental model under the automatic configuration, its effects
/// (and, with `replicates > 0`, bootstrap intervals of their shares,
/// refitting the chosen configuration on every replicate) and its three
/// views ([`Summary`]: `Incremental::summary`, which also holds
/// `incremental_credit` and `effects_view`).
///
/// # Errors
///
/// A fit that fails.
pub fn incremental_effects(set: &JourneySet, replicates: u32, seed: u64) -> Result<IncrementalOut> {
    let (m, selection) = incremental_fit(set)?;
    let shares = m.effect_shares();
    let view = m.effects_view();
    let mut out: Vec<Effect> = view
        .channels
        .iter()
        .map(|(name, a)| Effect {
            name: name.clone(),
            conversions: a.conversions,
            value: a.value,
            share: shares.iter().find(|(n, _)| n == name).map_or(0.0, |s| s.1),
            share_low: None,
            share_high: None,
        })
        .collect();
    // the model's own channel order (first seen), as before
    let order: Vec<&str> = m.effects().iter().map(|e| e.name()).collect();
    out.sort_by_key(|e| order.iter().position(|n| *n == e.name));
    let boot = if replicates > 0 {
        let boot = incremental::bootstrap_effects(
            set,
            selection.config(),
            &BootstrapConfig::new().replicates(replicates)?.seed(seed),
        )?;
        for e in &mut out {
            if let Some(ci) = boot.get(&e.name) {
                e.share_low = Some(ci.share().low());
                e.share_high = Some(ci.share().high());
            }
        }
        Some(boot)
    } else {
        None
    };
    let mut summary = m.summary(set, boot.as_ref())?;
    summary.selection = Some(selection);
    Ok(IncrementalOut {
        model: m,
        effects: out,
        summary,
        intervals: boot,
    })
}

/// Attribution of `set` by an already fitted model (the incremental model
/// of [`incremental_effects`], so that `compare` fits it once).
///
/// # Errors
///
/// Model errors.
pub fn attribute_fitted(m: &dyn AttributionModel, set: &JourneySet, by: By) -> Result<Attribution> {
    Ok(from_report(&attribute(m, set)?, by))
}

/// The models `compare` runs, with their option label.
pub fn compare_models() -> Vec<ModelName> {
    let mut v = ModelName::RULES.to_vec();
    v.extend([
        ModelName::Markov,
        ModelName::Shapley,
        ModelName::Incremental,
    ]);
    v
}

/// Error of a model's channel shares against true shares, in percentage
/// points: `Σ_c |share_c - true_c| × 100` (channels missing on one side
/// count with 0).
pub fn error_pp(lines: &[(String, f64)], truth: &[(String, f64)]) -> f64 {
    let mut names: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    names.extend(truth.iter().map(|t| t.0.as_str()));
    names.sort_unstable();
    names.dedup();
    let get = |xs: &[(String, f64)], n: &str| xs.iter().find(|x| x.0 == n).map_or(0.0, |x| x.1);
    names
        .iter()
        .map(|n| (get(lines, n) - get(truth, n)).abs())
        .sum::<f64>()
        * 100.0
}

/// Removes touches older than `days` before the conversion; returns the
/// cleaned set and how many touches went.
///
/// # Errors
///
/// A bad number of days.
pub fn lookback(set: &JourneySet, days: f64) -> Result<(JourneySet, u64)> {
    let (clean, report) = Rules::new().lookback_days(days)?.apply(set)?;
    Ok((clean, report.touches_removed()))
}

/// Expands aggregated path rows into journeys, so that per-journey models
/// can credit them: `conversions` converting journeys sharing the row's
/// value equally (leftover cents to the first) and `nulls` non-converting
/// ones, touches one day apart (so time decay is refused on paths).
///
/// Used only where journeys are needed (the incremental model, bootstrap
/// intervals, the audit); attribution by rule-based models credits the
/// rows by weight instead (see [`attribute_loaded`]).
///
/// # Errors
///
/// A value out of range.
pub fn expand_paths(file: &str, rows: &[PathRow]) -> Result<JourneySet> {
    let mut set = JourneySet::new();
    let currency = set.currency();
    let day = |k: usize| chrono::DateTime::from_timestamp(86_400 * k as i64, 0).unwrap_or_default();
    for (r, row) in rows.iter().enumerate() {
        let touches: Vec<SimpleTouch> = row
            .path
            .iter()
            .enumerate()
            .map(|(k, c)| SimpleTouch::new(c.as_str(), day(k)))
            .collect();
        let total = minor_of(file, row, r)?;
        let n = row.conversions as i64;
        for k in 0..row.conversions + row.nulls {
            let mut j = SimpleJourney::new(format!("row{}-{k}", r + 1));
            j.touchpoints.clone_from(&touches);
            if k < row.conversions {
                let cents = total / n + i64::from((k as i64) < total % n);
                j = j.converted(currency.to_major(cents));
            }
            set.push(&j)?;
        }
    }
    Ok(set)
}

// ---------------------------------------------------------------- funnel

/// A ratio as JSON: a number, or `null` when undefined (zero denominator).
pub fn ratio(r: Ratio) -> Option<f64> {
    r.value()
}

/// One stage of the funnel.
#[derive(Debug, Clone, Serialize)]
pub struct StageOut {
    /// Stage name.
    pub stage: String,
    /// Records that reached it (cohort view).
    pub count: u64,
    /// Conversion from the previous stage (null for the first).
    pub from_previous: Option<f64>,
    /// Time spent in the stage: mean days.
    pub mean_days: Option<f64>,
    /// Median days.
    pub median_days: Option<f64>,
}

/// Velocity of one slice.
#[derive(Debug, Clone, Serialize)]
pub struct VelocityOut {
    /// Slice key (`total`, a period, a segment).
    pub key: String,
    /// Opportunities.
    pub opportunities: u64,
    /// Won.
    pub won: u64,
    /// Won / (won + lost).
    pub win_rate: Option<f64>,
    /// Average won deal.
    pub average_deal: Option<f64>,
    /// Average cycle in days.
    pub average_cycle_days: Option<f64>,
    /// Pipeline velocity per day = opportunities × win rate × average deal / cycle.
    pub per_day: Option<f64>,
}

/// ROI of one channel.
#[derive(Debug, Clone, Serialize)]
pub struct RoiOut {
    /// Channel.
    pub name: String,
    /// Spend, major units.
    pub spend: f64,
    /// Credited won revenue, major units.
    pub revenue: f64,
    /// (revenue - spend) / spend.
    pub roi: Option<f64>,
    /// revenue / spend.
    pub roas: Option<f64>,
    /// Spend per lead.
    pub cost_per_lead: Option<f64>,
    /// Spend per MQL.
    pub cost_per_mql: Option<f64>,
    /// Customer acquisition cost.
    pub cac: Option<f64>,
}

/// The `funnel` command's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelOut {
    /// Leads read.
    pub leads: u64,
    /// Stages in order, with conversion and time in stage.
    pub stages: Vec<StageOut>,
    /// Exits (lost, disqualified, recycled) with counts.
    pub exits: Vec<(String, u64)>,
    /// MQLs accepted as SQL over MQLs decided.
    pub acceptance_rate: Option<f64>,
    /// Rejection reasons with counts.
    pub rejection_reasons: Vec<(String, u64)>,
    /// Median days from creation to close.
    pub time_to_close_median_days: Option<f64>,
    /// Velocity over all records.
    pub velocity: VelocityOut,
    /// Velocity per period (month of the opportunity).
    pub velocity_by_period: Vec<VelocityOut>,
    /// Open pipeline, major units.
    pub pipeline_open: f64,
    /// Open pipeline weighted by stage win probabilities learned from closed records.
    pub pipeline_weighted: f64,
    /// Won revenue.
    pub revenue: f64,
    /// Won revenue from marketing-sourced leads.
    pub marketing_sourced: f64,
    /// Won revenue from sales-sourced leads.
    pub sales_sourced: f64,
    /// Sales-sourced won revenue that marketing touched.
    pub marketing_influenced: f64,
    /// ROI by channel (with a spend file), under `roi_model`.
    pub roi: Vec<RoiOut>,
    /// Model crediting won revenue for ROI.
    pub roi_model: String,
    /// What the funnel rules changed.
    pub rules: Vec<String>,
    /// The core's funnel metrics (for the narrative; not in the JSON).
    #[serde(skip)]
    pub metrics: Option<FunnelMetrics>,
    /// The core's ROI report, with a spend file (not in the JSON).
    #[serde(skip)]
    pub roi_report: Option<RoiReport>,
    /// The leads read (for the audit; not in the JSON).
    #[serde(skip)]
    pub leads_read: Vec<Lead>,
    /// The spend read (for the audit; not in the JSON).
    #[serde(skip)]
    pub spend_read: Option<Spend>,
}

fn velocity_out(key: &str, v: &touchpoint::funnel::Velocity) -> VelocityOut {
    VelocityOut {
        key: key.to_owned(),
        opportunities: v.opportunities,
        won: v.won,
        win_rate: ratio(v.win_rate),
        average_deal: ratio(v.average_deal),
        average_cycle_days: ratio(v.average_cycle_days),
        per_day: ratio(v.per_day),
    }
}

/// Won leads as journeys for ROI: touches up to the win, converted for the
/// deal amount.
fn won_journeys(leads: &[Lead]) -> Result<JourneySet> {
    let js: Vec<SimpleJourney> = leads
        .iter()
        .filter_map(|l| {
            let won = l.entries().iter().find(|e| e.stage == "closed_won")?;
            let mut j = SimpleJourney::new(l.id()).converted(l.amount().unwrap_or(0.0));
            j.touchpoints = l
                .touches()
                .iter()
                .filter(|t| t.ts <= won.at)
                .cloned()
                .collect();
            Some(j)
        })
        .collect();
    Ok(JourneySet::from_journeys(&js)?)
}

/// Funnel, velocity, pipeline, sourced/influenced revenue and ROI.
///
/// # Errors
///
/// Core errors (unknown stage names name the lead).
pub fn funnel_report(
    leads: &[Lead],
    spend: Option<&Spend>,
    sales: &[String],
    roi_model: ModelName,
    a: &ModelArgs,
) -> Result<FunnelOut> {
    let cfg = FunnelConfig::default().with_sales_channels(sales.iter().cloned());
    let total = funnel::fit(leads, cfg.clone())?;
    let by_period = funnel::fit(leads, cfg.clone().slice_by(SliceBy::Period))?;
    let by_channel = funnel::fit(leads, cfg.clone().slice_by(SliceBy::Channel))?;
    let t = total.total();
    let counts = t.stage_counts();
    let conv = t.cohort_conversions();
    let mut stages = Vec::new();
    for (i, c) in counts.iter().enumerate() {
        let d = t.time_in_stage(&c.stage).ok();
        stages.push(StageOut {
            stage: c.stage.clone(),
            count: c.count,
            from_previous: if i == 0 {
                None
            } else {
                conv.get(i - 1).and_then(|c| ratio(c.rate))
            },
            mean_days: d.as_ref().and_then(|d| d.mean_days),
            median_days: d.as_ref().and_then(|d| d.median_days),
        });
    }
    let acc = t.acceptance();
    let pipe = t.pipeline(&StageProbabilities::Learned)?;
    let rev = t.revenue();
    let cur = rev.currency;
    let mut roi = Vec::new();
    let mut roi_report = None;
    if let Some(spend) = spend {
        let set = won_journeys(leads)?;
        let m = model(roi_model, a, &set)?;
        let report = attribute(m.as_ref(), &set)?;
        let r = RoiReport::by_channel(&report, spend, Some(&by_channel))?;
        for l in r.lines().iter().chain([r.total()]) {
            roi.push(RoiOut {
                name: l.name.clone(),
                spend: cur.to_major_wide(l.spend_minor),
                revenue: cur.to_major_wide(l.revenue_minor),
                roi: ratio(l.roi),
                roas: ratio(l.roas),
                cost_per_lead: ratio(l.cost_per_lead),
                cost_per_mql: ratio(l.cost_per_mql),
                cac: ratio(l.cac),
            });
        }
        roi_report = Some(r);
    }
    let rules = total.rules();
    Ok(FunnelOut {
        leads: leads.len() as u64,
        stages,
        exits: t
            .exit_counts()
            .into_iter()
            .map(|e| (e.stage, e.count))
            .collect(),
        acceptance_rate: ratio(acc.rate),
        rejection_reasons: acc.reasons.clone(),
        time_to_close_median_days: t.time_to_close().median_days,
        velocity: velocity_out("total", &t.velocity(WinRate::WonOverClosed)),
        velocity_by_period: by_period
            .slices()
            .iter()
            .map(|s| velocity_out(s.key(), &s.velocity(WinRate::WonOverClosed)))
            .collect(),
        pipeline_open: cur.to_major_wide(pipe.open_minor),
        pipeline_weighted: pipe.weighted,
        revenue: cur.to_major_wide(rev.revenue_minor),
        marketing_sourced: cur.to_major_wide(rev.marketing_sourced_minor),
        sales_sourced: cur.to_major_wide(rev.sales_sourced_minor),
        marketing_influenced: cur.to_major_wide(rev.influenced_sales_sourced_minor),
        roi,
        roi_model: roi_model.as_str().to_owned(),
        rules: vec![
            format!("{} skipped stages back-populated", rules.backfilled),
            format!(
                "{} duplicate stage entries dropped",
                rules.duplicates_dropped
            ),
            format!("{} out-of-order entries re-dated", rules.reordered),
            format!("{} exits superseded by a comeback", rules.superseded_exits),
        ],
        metrics: Some(total),
        roi_report,
        leads_read: leads.to_vec(),
        spend_read: spend.cloned(),
    })
}

// ---------------------------------------------------------------- simulator

fn preset(p: PresetArg) -> Preset {
    match p {
        PresetArg::SampleLike => Preset::SampleLike,
        PresetArg::WeakEffects => Preset::WeakEffects,
        PresetArg::B2b => Preset::B2b,
        PresetArg::OrderMatters => Preset::OrderMatters,
        PresetArg::UselessEverywhere => Preset::UselessEverywhere,
        PresetArg::ManyChannels => Preset::ManyChannels,
    }
}

/// A seeded simulator of a preset.
pub fn simulator(p: PresetArg, seed: u64) -> Simulator {
    Simulator::new(preset(p).config(seed))
}

/// The preset's name.
pub fn preset_name(p: PresetArg) -> &'static str {
    preset(p).name()
}

/// The truth file of `n` simulated journeys, in the shipped sample's
/// `*.truth.json` layout.
///
/// # Errors
///
/// Simulator errors.
pub fn truth_json(sim: &Simulator, p: PresetArg, seed: u64, n: u64) -> Result<serde_json::Value> {
    let t = sim.ground_truth(n)?;
    let mut channels = serde_json::Map::new();
    for c in &t.channels {
        channels.insert(
            c.name.clone(),
            serde_json::json!({
                "beta": c.beta,
                "lost_conversions": c.lost_conversions,
                "lost_value": c.lost_value,
                "share": c.share,
                "value_share": c.value_share,
            }),
        );
    }
    Ok(serde_json::json!({
        "preset": preset_name(p),
        "journeys": t.journeys,
        "seed": seed,
        "expected_conversions": t.expected_conversions,
        "observed_conversions": t.observed_conversions,
        "channels": channels,
    }))
}

// ---------------------------------------------------------------- audit

/// A touch of a [`JourneySet`] as the core's `Touchpoint` (for the audit,
/// which reads journeys of the caller's type).
#[derive(Debug)]
struct SetTouch<'a> {
    channel: &'a str,
    ts: DateTime<Utc>,
    campaign: Option<&'a str>,
    content: Option<&'a str>,
    cost: Option<f64>,
    milestone: Option<Milestone>,
}

impl Touchpoint for SetTouch<'_> {
    fn channel(&self) -> &str {
        self.channel
    }
    fn timestamp(&self) -> DateTime<Utc> {
        self.ts
    }
    fn campaign(&self) -> Option<&str> {
        self.campaign
    }
    fn content(&self) -> Option<&str> {
        self.content
    }
    fn cost(&self) -> Option<f64> {
        self.cost
    }
    fn milestone(&self) -> Option<Milestone> {
        self.milestone
    }
}

/// A journey of a [`JourneySet`] as the core's `Journey`.
#[derive(Debug)]
struct SetJourney<'a> {
    id: &'a str,
    touches: Vec<SetTouch<'a>>,
    outcome: Outcome,
}

impl<'a> Journey for SetJourney<'a> {
    type Touch = SetTouch<'a>;
    fn id(&self) -> &str {
        self.id
    }
    fn touchpoints(&self) -> &[SetTouch<'a>] {
        &self.touches
    }
    fn outcome(&self) -> Outcome {
        self.outcome
    }
}

fn set_journeys(set: &JourneySet) -> Vec<SetJourney<'_>> {
    let cur = set.currency();
    let ms = |t: i64| DateTime::from_timestamp_millis(t).unwrap_or_default();
    set.iter()
        .map(|v| SetJourney {
            id: v.id(),
            touches: (0..v.len())
                .map(|i| SetTouch {
                    channel: v.channel_name(i),
                    ts: ms(v.timestamps()[i]),
                    campaign: v.campaign(i),
                    content: v.content(i),
                    cost: v.costs()[i].map(|c| cur.to_major(c)),
                    milestone: v.milestones()[i],
                })
                .collect(),
            outcome: Outcome {
                converted: v.converted(),
                value: cur.to_major(v.value_minor()),
                conversion_ts: v.conversion_ts().map(ms),
            },
        })
        .collect()
}

/// The core's data audit of the journeys read (in reading order), with
/// leads and spend when given.
pub fn audit_report(set: &JourneySet, leads: &[Lead], spend: Option<&Spend>) -> AuditReport {
    audit::audit_with(&set_journeys(set), leads, spend, &AuditConfig::new())
}

// ---------------------------------------------------------------- story

/// The models whose credit the narrative compares with the incremental
/// model (position-based), besides the main report (linear).
const STORY_COMPARE: [&str; 3] = ["first_touch", "last_touch", "position_based"];

/// The core's narrative (`touchpoint::story`): typed findings from the
/// linear report (the main one, "what drove revenue"), the position-based
/// reports, the incremental model and its intervals, the funnel and ROI,
/// and the audit, in the core's order. With `drivers`, the linear
/// report's channels get bootstrap intervals (`bootstrap_model`: each
/// journey's credit re-weighted on every replicate), so the driver
/// sentences carry them and say whether the leaders can be ranked.
///
/// # Errors
///
/// Model errors; bad bootstrap options; reports in different currencies.
pub fn story_findings(
    set: &JourneySet,
    incremental: Option<(&Incremental, Option<&Bootstrap>)>,
    funnel: Option<&FunnelOut>,
    audit: &AuditReport,
    drivers: Option<&BootstrapConfig>,
) -> Result<Vec<story::Finding>> {
    let main = attribute(&models::Linear, set)?;
    // the drivers' intervals: linear credit re-weighted on every replicate
    let boot = drivers
        .map(|cfg| bootstrap::bootstrap_model(&models::Linear, set, cfg))
        .transpose()?;
    let others = STORY_COMPARE
        .iter()
        .map(|n| Ok(attribute(models::by_name(n)?.as_ref(), set)?))
        .collect::<Result<Vec<Report>>>()?;
    let refs: Vec<&Report> = others.iter().collect();
    let mut input = StoryInput::new(&main).compare(&refs).audit(audit);
    if let Some(b) = &boot {
        input = input.intervals(b);
    }
    if let Some((m, b)) = incremental {
        input = input.incremental(m, b);
    }
    if let Some(f) = funnel {
        if let Some(m) = &f.metrics {
            input = input.funnel(m, None);
        }
        if let Some(r) = &f.roi_report {
            input = input.roi(r);
        }
    }
    Ok(input.findings()?)
}

/// A finding as one English sentence (the core's renderer); `symbol`
/// prefixes amounts.
pub fn english(f: &story::Finding, symbol: &str) -> String {
    story::english(f, symbol)
}
