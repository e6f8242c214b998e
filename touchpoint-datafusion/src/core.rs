//! Every call into the `touchpoint` core crate lives in this module, so a
//! rename in the core (e.g. `MarkovFit` -> `MarkovPartial`) is adapted here
//! and nowhere else.
//!
//! A [`CorePartial`] wraps one of the core's mergeable partials, built from
//! a [`ModelSpec`]; the rest of the crate only moves Arrow data in and out.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion_common::{DataFusionError, Result};
pub(crate) use touchpoint::Currency;
use touchpoint::funnel::{FunnelPartial, Lead};
use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
use touchpoint::markov::{MarkovConfig, MarkovPartial};
use touchpoint::models::{self, FullPath, LastNonDirect, PositionBased, TimeDecay, WShaped};
use touchpoint::shapley::{ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::{
    AttributionModel, Breakdowns, CreditConfig, CreditPartial, Journey, JourneySet, Milestone,
    Outcome, Report, Touchpoint,
};

use crate::spec::{Kind, ModelSpec};

/// Turns a core error into a DataFusion execution error naming the function.
pub(crate) fn core_err(kind: Kind, e: &touchpoint::Error) -> DataFusionError {
    DataFusionError::Execution(format!("tp_{kind}: {e}"))
}

/// The currency of a spec (`decimals=N`, default 2).
pub(crate) fn currency(spec: &ModelSpec) -> Result<Currency> {
    match spec.parsed::<u8>("decimals")? {
        None => Ok(Currency::default()),
        Some(d) => Currency::new(d).map_err(|e| core_err(spec.kind(), &e)),
    }
}

/// Major units to minor units exactly as the core's `JourneySet::push`
/// does; `None` for a negative, non-finite or too large amount.
pub(crate) fn to_minor(currency: Currency, value: f64) -> Option<i64> {
    currency.to_minor(value).ok().flatten()
}

/// One batch of journeys in Arrow layout: journey `i` has touches
/// `offsets[i]..offsets[i + 1]` of `codes` (indices into `names`), in time
/// order (checked by the caller).
#[derive(Debug)]
pub(crate) struct Columns<'a> {
    pub offsets: &'a [i32],
    pub codes: &'a [u32],
    pub names: &'a [&'a str],
    /// Unix milliseconds per touch; empty when the query gave none.
    pub ts_ms: &'a [i64],
    pub converted: &'a [bool],
    /// The value as given (major units; 0 when not converted).
    pub values: &'a [f64],
    /// The same in minor units, converted by [`to_minor`].
    pub values_minor: &'a [i64],
    /// Campaign code per touch (into `campaign_names`, `NONE` for none);
    /// empty when the query gave no campaigns.
    pub campaign_codes: &'a [u32],
    pub campaign_names: &'a [&'a str],
    /// Content code per touch, as the campaigns.
    pub content_codes: &'a [u32],
    pub content_names: &'a [&'a str],
    /// Milestone per touch; empty when the query gave none.
    pub milestones: &'a [Option<Milestone>],
    /// Conversion time per journey (Unix ms); empty when the query gave none.
    pub conversion_ts: &'a [Option<i64>],
}

/// One line of a finished report.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The channel; `None` for the unassigned line (converted journeys with
    /// no touch).
    pub channel: Option<String>,
    /// Credited conversions (fractional).
    pub conversions: f64,
    /// Credited conversions in the core's exact units (10⁻⁹ conversion for
    /// the fitted models), when the model has them.
    pub conversion_units: Option<i64>,
    /// Credited value, major units.
    pub value: f64,
    /// Credited value, exact minor units, when the model has them.
    pub value_minor: Option<i64>,
    /// The model's weight for the channel (removal effect, Shapley value,
    /// effect share), for the fitted models.
    pub weight: Option<f64>,
    /// Journeys touching the channel (incremental model only).
    pub journeys: Option<u64>,
    /// Which breakdown the line belongs to: `"channel"`, `"campaign"` or
    /// `"content"` (campaigns and contents only when the query gave them).
    pub breakdown: &'static str,
    /// The line's name in its breakdown (the channel, campaign or content
    /// asset); `None` for the breakdown's unassigned line.
    pub name: Option<String>,
}

/// One of the core's partials.
pub(crate) enum CorePartial {
    Credit {
        partial: Box<CreditPartial>,
        currency: Currency,
    },
    Markov(Box<MarkovPartial>),
    Shapley(Box<ShapleyPartial>),
    Incremental(Box<IncrementalPartial>),
    Funnel(Box<FunnelPartial>),
}

impl fmt::Debug for CorePartial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorePartial::Credit { partial, .. } => f
                .debug_struct("Credit")
                .field("model", &partial.config().model_name())
                .field("partial", partial)
                .finish(),
            CorePartial::Markov(p) => f.debug_tuple("Markov").field(p).finish(),
            CorePartial::Shapley(p) => f.debug_tuple("Shapley").field(p).finish(),
            CorePartial::Incremental(p) => f.debug_tuple("Incremental").field(p).finish(),
            CorePartial::Funnel(p) => f.debug_tuple("Funnel").field(p).finish(),
        }
    }
}

fn f64_opt(spec: &ModelSpec, key: &str) -> Result<Option<f64>> {
    spec.parsed::<f64>(key)
}

/// The rule-based model a credit spec names, with its options.
fn credit_model(spec: &ModelSpec) -> Result<Arc<dyn AttributionModel>> {
    let k = Kind::Credit;
    let err = |e: touchpoint::Error| core_err(k, &e);
    let name = spec.model();
    let unused = |keys: &[&str]| -> Result<()> {
        for key in Kind::Credit.keys() {
            if *key != "breakdowns" && !keys.contains(key) && spec.get(key).is_some() {
                return Err(DataFusionError::Plan(format!(
                    "tp_credit: option '{key}' does not apply to model '{name}'"
                )));
            }
        }
        Ok(())
    };
    Ok(match name {
        "time_decay" => {
            unused(&["half_life_days"])?;
            match f64_opt(spec, "half_life_days")? {
                Some(d) => Arc::new(TimeDecay::with_half_life_days(d).map_err(err)?),
                None => Arc::new(TimeDecay::default()),
            }
        }
        "position_based" | "u_shaped" | "j_shaped" | "inverse_j"
            if spec.get("first").is_some()
                || spec.get("last").is_some()
                || spec.get("two_touch_first").is_some() =>
        {
            unused(&["first", "last", "two_touch_first"])?;
            let first = f64_opt(spec, "first")?.unwrap_or(0.4);
            let last = f64_opt(spec, "last")?.unwrap_or(0.4);
            let two = f64_opt(spec, "two_touch_first")?.unwrap_or(0.5);
            Arc::new(PositionBased::new(first, last, two).map_err(err)?)
        }
        "w_shaped" if spec.get("first").is_some() => {
            unused(&["first", "lead", "opportunity"])?;
            let g = |key| -> Result<f64> {
                f64_opt(spec, key)?.ok_or_else(|| {
                    DataFusionError::Plan(format!("tp_credit: w_shaped needs '{key}'"))
                })
            };
            Arc::new(WShaped::new(g("first")?, g("lead")?, g("opportunity")?).map_err(err)?)
        }
        "full_path" if spec.get("first").is_some() => {
            unused(&["first", "lead", "opportunity", "close"])?;
            let g = |key| -> Result<f64> {
                f64_opt(spec, key)?.ok_or_else(|| {
                    DataFusionError::Plan(format!("tp_credit: full_path needs '{key}'"))
                })
            };
            Arc::new(
                FullPath::new(g("first")?, g("lead")?, g("opportunity")?, g("close")?)
                    .map_err(err)?,
            )
        }
        "last_non_direct" if spec.get("direct").is_some() => {
            unused(&["direct"])?;
            let direct = spec.get("direct").unwrap_or_default().split('|');
            Arc::new(LastNonDirect::new(direct).map_err(err)?)
        }
        _ => {
            unused(&[])?;
            Arc::from(models::by_name(name).map_err(err)?)
        }
    })
}

/// The campaign and content breakdowns a credit spec asks for
/// (`breakdowns=campaigns,contents`, set from the extras the query gives);
/// channels only by default.
pub(crate) fn breakdowns(spec: &ModelSpec) -> Result<Breakdowns> {
    let (mut campaigns, mut contents) = (false, false);
    if let Some(list) = spec.get("breakdowns") {
        for b in list.split(',') {
            match b {
                "campaigns" => campaigns = true,
                "contents" => contents = true,
                _ => {
                    return Err(DataFusionError::Plan(format!(
                        "tp_credit: breakdowns={list}: '{b}' is not one of campaigns, contents"
                    )));
                }
            }
        }
    }
    Ok(Breakdowns::new(campaigns, contents))
}

impl CorePartial {
    /// An empty partial (the identity of merge) for `spec`.
    ///
    /// # Errors
    ///
    /// A plan error for an unknown model or an invalid option value.
    pub(crate) fn new(spec: &ModelSpec) -> Result<CorePartial> {
        let kind = spec.kind();
        let err = |e: touchpoint::Error| core_err(kind, &e);
        let currency = currency(spec)?;
        Ok(match kind {
            Kind::Credit => {
                let config = CreditConfig::from_arc(credit_model(spec)?)
                    .with_currency(currency)
                    .with_breakdowns(breakdowns(spec)?);
                CorePartial::Credit {
                    partial: Box::new(CreditPartial::new(config)),
                    currency,
                }
            }
            Kind::Markov => {
                let order = spec.parsed::<u8>("order")?.unwrap_or(1);
                let collapse = spec.parsed::<bool>("collapse_repeats")?.unwrap_or(false);
                let config = MarkovConfig::new(order)
                    .map_err(err)?
                    .collapse_repeats(collapse)
                    .with_currency(currency);
                CorePartial::Markov(Box::new(MarkovPartial::new(config)))
            }
            Kind::Shapley => {
                let variant = match spec.get("variant").unwrap_or("simplified") {
                    "simplified" => ShapleyVariant::Simplified,
                    "rate" => ShapleyVariant::Rate,
                    "ordered" => ShapleyVariant::Ordered,
                    v => {
                        return Err(DataFusionError::Plan(format!(
                            "tp_shapley: variant={v} is not one of simplified, rate, ordered"
                        )));
                    }
                };
                let mut config = ShapleyConfig::new(variant).with_currency(currency);
                if let Some(limit) = spec.parsed::<u8>("exact_limit")? {
                    config = config.exact_limit(limit).map_err(err)?;
                }
                CorePartial::Shapley(Box::new(ShapleyPartial::new(config)))
            }
            Kind::Incremental => {
                let mut c = IncrementalConfig::new();
                if let Some(v) = spec.parsed::<usize>("max_iterations")? {
                    c = c.max_iterations(v).map_err(err)?;
                }
                if let Some(v) = spec.parsed::<f64>("tolerance")? {
                    c = c.tolerance(v).map_err(err)?;
                }
                if let Some(v) = spec.parsed::<u16>("count_cap")? {
                    c = c.count_cap(v).map_err(err)?;
                }
                if let Some(v) = spec.parsed::<bool>("last_touch")? {
                    c = c.last_touch(v);
                }
                if let Some(v) = spec.parsed::<f64>("recency_days")? {
                    c = c.recency_days(v).map_err(err)?;
                }
                CorePartial::Incremental(Box::new(IncrementalPartial::new(&c)))
            }
            Kind::Funnel => CorePartial::Funnel(Box::new(FunnelPartial::new(
                crate::funnel::funnel_config(spec)?,
            ))),
        })
    }

    fn kind(&self) -> Kind {
        match self {
            CorePartial::Credit { .. } => Kind::Credit,
            CorePartial::Markov(_) => Kind::Markov,
            CorePartial::Shapley(_) => Kind::Shapley,
            CorePartial::Incremental(_) => Kind::Incremental,
            CorePartial::Funnel(_) => Kind::Funnel,
        }
    }

    /// Observes a batch of journey rows.
    pub(crate) fn observe_columns<'a>(&mut self, c: &Columns<'a>) -> Result<()> {
        let kind = self.kind();
        let err = |e: touchpoint::Error| core_err(kind, &e);
        match self {
            CorePartial::Credit { partial, currency } => {
                // One interned set per batch, credited on the core's batch
                // path (`observe_set`): much faster than one journey at a
                // time.
                let mut set = JourneySet::with_currency(*currency);
                let mut touches = Vec::new();
                for i in 0..c.converted.len() {
                    let (a, b) = (c.offsets[i] as usize, c.offsets[i + 1] as usize);
                    touches.clear();
                    let name = |codes: &[u32], names: &[&'a str], t: usize| {
                        codes.get(t).and_then(|&k| names.get(k as usize).copied())
                    };
                    for t in a..b {
                        touches.push(RowTouch {
                            channel: c.names[c.codes[t] as usize],
                            ts: datetime(c.ts_ms[t])?,
                            campaign: name(c.campaign_codes, c.campaign_names, t),
                            content: name(c.content_codes, c.content_names, t),
                            milestone: c.milestones.get(t).copied().flatten(),
                        });
                    }
                    let mut outcome = if c.converted[i] {
                        Outcome::converted(c.values[i])
                    } else {
                        Outcome::not_converted()
                    };
                    if let Some(Some(ms)) = c.conversion_ts.get(i) {
                        outcome.conversion_ts = Some(datetime(*ms)?);
                    }
                    let j = RowJourney {
                        touches: &touches,
                        outcome,
                    };
                    set.push(&j).map_err(err)?;
                }
                partial.observe_set(&set).map_err(err)
            }
            CorePartial::Markov(p) => p
                .observe_columns(c.offsets, c.codes, c.names, c.converted, c.values_minor)
                .map_err(err),
            CorePartial::Shapley(p) => p
                .observe_columns(c.offsets, c.codes, c.names, c.converted, c.values_minor)
                .map_err(err),
            CorePartial::Incremental(p) => p
                .observe_columns(
                    c.offsets,
                    c.codes,
                    c.names,
                    c.ts_ms,
                    c.converted,
                    c.values_minor,
                )
                .map_err(err),
            CorePartial::Funnel(_) => Err(DataFusionError::Plan(
                "tp_funnel reads lead rows (lead_id, stages, stage_times, amount), not journeys"
                    .into(),
            )),
        }
    }

    /// Observes a batch of lead rows (funnel only).
    pub(crate) fn observe_leads(&mut self, leads: &[Lead]) -> Result<()> {
        match self {
            CorePartial::Funnel(p) => crate::funnel::observe_leads(p, leads),
            other => Err(DataFusionError::Plan(format!(
                "tp_{} reads journeys, not lead rows",
                other.kind()
            ))),
        }
    }

    /// Observes one aggregated path row: Markov and Shapley fit it, the
    /// rule-based models credit it by weight (the row's credit of one
    /// journey, times `conversions`; never expanded into journeys), the
    /// incremental model counts it as weighted journeys (see
    /// [`observe_incremental_path`]).
    pub(crate) fn observe_path(
        &mut self,
        path: &[&str],
        conversions: u64,
        value_minor: i64,
        nulls: u64,
        currency: Currency,
    ) -> Result<()> {
        let kind = self.kind();
        let err = |e: touchpoint::Error| core_err(kind, &e);
        match self {
            CorePartial::Markov(p) => p
                .observe_path(path, conversions, value_minor, nulls)
                .map_err(err),
            CorePartial::Shapley(p) => p
                .observe_path(path, conversions, value_minor, nulls)
                .map_err(err),
            CorePartial::Credit { partial, .. } => partial
                .observe_path(path, conversions, value_minor, nulls)
                .map_err(err),
            CorePartial::Incremental(p) => {
                observe_incremental_path(p, path, conversions, value_minor, nulls, currency)
            }
            CorePartial::Funnel(_) => Err(DataFusionError::Plan(
                "tp_funnel reads lead rows (lead_id, stages, stage_times, amount), not paths"
                    .into(),
            )),
        }
    }

    /// Adds `other` into `self`.
    pub(crate) fn merge(&mut self, other: &CorePartial) -> Result<()> {
        let kind = self.kind();
        let err = |e: touchpoint::Error| core_err(kind, &e);
        match (self, other) {
            (CorePartial::Credit { partial: a, .. }, CorePartial::Credit { partial: b, .. }) => {
                a.merge(b).map_err(err)
            }
            (CorePartial::Markov(a), CorePartial::Markov(b)) => a.merge(b).map_err(err),
            (CorePartial::Shapley(a), CorePartial::Shapley(b)) => a.merge(b).map_err(err),
            (CorePartial::Incremental(a), CorePartial::Incremental(b)) => a.merge(b).map_err(err),
            (CorePartial::Funnel(a), CorePartial::Funnel(b)) => a.merge(b).map_err(err),
            (_, b) => Err(DataFusionError::Execution(format!(
                "tp_{kind}: cannot merge a tp_{} partial",
                b.kind()
            ))),
        }
    }

    /// The core's serde form (JSON).
    pub(crate) fn to_json(&self) -> Result<Vec<u8>> {
        let r = match self {
            CorePartial::Credit { partial, .. } => serde_json::to_vec(partial),
            CorePartial::Markov(p) => serde_json::to_vec(p),
            CorePartial::Shapley(p) => serde_json::to_vec(p),
            CorePartial::Incremental(p) => serde_json::to_vec(p),
            CorePartial::Funnel(p) => serde_json::to_vec(p),
        };
        r.map_err(|e| {
            DataFusionError::Execution(format!("tp_{}: serializing a partial: {e}", self.kind()))
        })
    }

    /// Reads the core's serde form for `spec` (checked as the core checks
    /// a deserialized partial).
    pub(crate) fn from_json(spec: &ModelSpec, json: &[u8]) -> Result<CorePartial> {
        let kind = spec.kind();
        let bad = |e: serde_json::Error| {
            DataFusionError::Execution(format!("tp_{kind}: a stored partial does not read: {e}"))
        };
        Ok(match kind {
            Kind::Credit => {
                let partial: CreditPartial = serde_json::from_slice(json).map_err(bad)?;
                // the breakdowns are part of the spec (and of the core's
                // fingerprint): a partial stored with others (e.g. by a
                // build that computed every breakdown) is refused here
                if partial.config().breakdowns() != breakdowns(spec)? {
                    return Err(DataFusionError::Execution(format!(
                        "tp_credit: a stored partial's breakdowns do not match its spec '{spec}'"
                    )));
                }
                CorePartial::Credit {
                    partial: Box::new(
                        partial
                            .with_model(credit_model(spec)?)
                            .map_err(|e| core_err(kind, &e))?,
                    ),
                    currency: currency(spec)?,
                }
            }
            Kind::Markov => CorePartial::Markov(serde_json::from_slice(json).map_err(bad)?),
            Kind::Shapley => CorePartial::Shapley(serde_json::from_slice(json).map_err(bad)?),
            Kind::Incremental => {
                CorePartial::Incremental(serde_json::from_slice(json).map_err(bad)?)
            }
            Kind::Funnel => {
                let p: FunnelPartial = serde_json::from_slice(json).map_err(bad)?;
                // the stored configuration must be the one the spec builds
                let want = crate::funnel::funnel_config(spec)?;
                if p.config() != &want {
                    return Err(DataFusionError::Execution(format!(
                        "tp_funnel: a stored partial's configuration does not match its spec '{spec}'"
                    )));
                }
                CorePartial::Funnel(Box::new(p))
            }
        })
    }

    /// An estimate of the bytes held (the core's own where it has one).
    pub(crate) fn size_hint(&self) -> usize {
        let inner = match self {
            CorePartial::Credit { partial, .. } => partial.size_bytes(),
            CorePartial::Markov(p) => p.size_bytes(),
            CorePartial::Shapley(p) => p.size_bytes(),
            CorePartial::Incremental(p) => p.size_bytes(),
            CorePartial::Funnel(p) => p.size_bytes(),
        };
        std::mem::size_of::<CorePartial>() + inner
    }

    /// Finishes: the per-channel report, lines sorted by channel name, the
    /// unassigned line (if any) last.
    pub(crate) fn finish(&self) -> Result<Vec<Line>> {
        let kind = self.kind();
        let err = |e: touchpoint::Error| core_err(kind, &e);
        let wide = |v: i128| {
            i64::try_from(v).map_err(|_| {
                DataFusionError::Execution(format!("tp_{kind}: a credited sum exceeds i64"))
            })
        };
        let mut out = Vec::new();
        match self {
            CorePartial::Credit { partial, .. } => {
                let report = partial.finish();
                let asked = partial.config().breakdowns();
                let mut parts = vec![("channel", report.channels())];
                if asked.campaigns() {
                    parts.push(("campaign", report.campaigns()));
                }
                if asked.contents() {
                    parts.push(("content", report.contents()));
                }
                for (breakdown, b) in parts {
                    let channel = |n: Option<&str>| {
                        if breakdown == "channel" {
                            n.map(str::to_owned)
                        } else {
                            None
                        }
                    };
                    for l in b.lines() {
                        out.push(Line {
                            channel: channel(Some(l.name())),
                            conversions: l.conversions(),
                            conversion_units: Some(wide(l.conversion_units() as i128)?),
                            value: l.value(),
                            value_minor: Some(wide(l.value_minor())?),
                            weight: None,
                            journeys: None,
                            breakdown,
                            name: Some(l.name().to_owned()),
                        });
                    }
                    let u = b.unassigned();
                    if u.conversion_units() != 0 || u.value_minor() != 0 {
                        out.push(Line {
                            channel: None,
                            conversions: u.conversions(),
                            conversion_units: Some(wide(u.conversion_units() as i128)?),
                            value: u.value(),
                            value_minor: Some(wide(u.value_minor())?),
                            weight: None,
                            journeys: None,
                            breakdown,
                            name: None,
                        });
                    }
                }
            }
            CorePartial::Markov(_) | CorePartial::Shapley(_) => {
                // the report and the model's weight per channel (removal
                // effect, Shapley value)
                let (report, weights): (Report, Vec<(String, f64)>) = match self {
                    CorePartial::Markov(p) => {
                        if p.journeys() == 0 {
                            return Ok(out);
                        }
                        let fit = p.finish().map_err(err)?;
                        let w = fit
                            .removal_effects()
                            .into_iter()
                            .map(|(c, w)| (c.to_owned(), w))
                            .collect();
                        (fit.credits().map_err(err)?, w)
                    }
                    CorePartial::Shapley(p) => {
                        let fit = p.finish().map_err(err)?;
                        let w = fit
                            .channels()
                            .iter()
                            .cloned()
                            .zip(fit.values().iter().copied())
                            .collect();
                        (fit.credits().map_err(err)?, w)
                    }
                    _ => unreachable!("matched above"),
                };
                let weight = |c: &str| weights.iter().find(|w| w.0 == c).map(|w| w.1);
                let b = report.channels();
                for l in b.lines() {
                    out.push(Line {
                        channel: Some(l.name().to_owned()),
                        conversions: l.conversions(),
                        conversion_units: Some(wide(l.conversion_units() as i128)?),
                        value: l.value(),
                        value_minor: Some(wide(l.value_minor())?),
                        weight: weight(l.name()),
                        journeys: None,
                        breakdown: "channel",
                        name: Some(l.name().to_owned()),
                    });
                }
                let u = b.unassigned();
                if u.conversion_units() != 0 || u.value_minor() != 0 {
                    out.push(Line {
                        channel: None,
                        conversions: u.conversions(),
                        conversion_units: None,
                        value: u.value(),
                        value_minor: Some(wide(u.value_minor())?),
                        weight: None,
                        journeys: None,
                        breakdown: "channel",
                        name: None,
                    });
                }
            }
            CorePartial::Incremental(p) => {
                if p.journeys() == 0 {
                    return Ok(out);
                }
                let fit = p.finish().map_err(err)?;
                let shares = fit.effect_shares();
                for e in fit.effects() {
                    let share = shares.iter().find(|(n, _)| n == e.name()).map(|(_, s)| *s);
                    out.push(Line {
                        channel: Some(e.name().to_owned()),
                        conversions: e.incremental_conversions(),
                        conversion_units: None,
                        value: e.incremental_value(),
                        value_minor: None,
                        weight: share,
                        journeys: Some(e.journeys()),
                        breakdown: "channel",
                        name: Some(e.name().to_owned()),
                    });
                }
                out.sort_by(|a, b| a.channel.cmp(&b.channel));
            }
            CorePartial::Funnel(_) => {
                return Err(DataFusionError::Plan(
                    "tp_report: this is a funnel partial; finish it with tp_funnel_report".into(),
                ));
            }
        }
        Ok(out)
    }

    /// Finishes a funnel partial into its report lines.
    pub(crate) fn finish_funnel(&self) -> Result<Vec<crate::funnel::FunnelLine>> {
        match self {
            CorePartial::Funnel(p) => crate::funnel::finish(p),
            other => Err(DataFusionError::Plan(format!(
                "tp_funnel_report: this is a tp_{} partial; finish it with tp_report",
                other.kind()
            ))),
        }
    }
}

/// One aggregated path row into the incremental model, through the core's
/// frequency-weighted `IncrementalPartial::observe_weighted`: a set of up
/// to three journeys along `path` (touch `i` placed `i` days after the
/// first, as the other path forms do) — one converted journey carrying the
/// row's whole value, the row's other `conversions - 1` converted journeys
/// with value 0, and `nulls` journeys that did not convert — each weighted
/// by its count (the core's weights are `u32`: larger counts use copies).
/// The model's sufficient
/// statistics are sums per feature pattern (journeys, conversions, value
/// in minor units), and a path is one pattern, so this adds exactly what
/// observing the `conversions + nulls` journeys one by one would, however
/// their value was split among them. Never expanded into journeys: the
/// cost does not grow with the counts.
fn observe_incremental_path(
    p: &mut IncrementalPartial,
    path: &[&str],
    conversions: u64,
    value_minor: i64,
    nulls: u64,
    currency: Currency,
) -> Result<()> {
    let kind = Kind::Incremental;
    let err = |e: touchpoint::Error| core_err(kind, &e);
    if conversions == 0 && value_minor != 0 {
        return Err(DataFusionError::Execution(format!(
            "tp_incremental: a path row has value {} but no conversions",
            currency.to_major(value_minor)
        )));
    }
    let value = currency.to_major(value_minor);
    if to_minor(currency, value) != Some(value_minor) {
        return Err(DataFusionError::Execution(format!(
            "tp_incremental: a path row's value {value} does not convert back to {value_minor} minor units exactly; it is too large for the path form"
        )));
    }
    const DAY_MS: i64 = 86_400_000;
    let mut touches = Vec::with_capacity(path.len());
    for (i, ch) in path.iter().enumerate() {
        let ms = i64::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(DAY_MS))
            .ok_or_else(|| DataFusionError::Execution("tp_incremental: a path too long".into()))?;
        touches.push(RowTouch {
            channel: ch,
            ts: datetime(ms)?,
            campaign: None,
            content: None,
            milestone: None,
        });
    }
    // (outcome, count) of each kind of journey the row stands for
    let kinds = [
        (Outcome::converted(value), u64::from(conversions > 0)),
        (Outcome::converted(0.0), conversions.saturating_sub(1)),
        (Outcome::not_converted(), nulls),
    ];
    // the core's weights are u32: a count above u32::MAX is spread over
    // copies of the journey (at most MAX_COPIES per kind)
    const MAX_COPIES: u64 = 1024;
    let mut set = JourneySet::with_currency(currency);
    let mut weights: Vec<u32> = Vec::new();
    for (outcome, count) in kinds {
        let mut left = count;
        if left > MAX_COPIES * u64::from(u32::MAX) {
            return Err(DataFusionError::Execution(format!(
                "tp_incremental: a path row counts {count} journeys; the path form takes at most {} per row",
                MAX_COPIES * u64::from(u32::MAX)
            )));
        }
        while left > 0 {
            let w = u32::try_from(left).unwrap_or(u32::MAX);
            set.push(&RowJourney {
                touches: &touches,
                outcome,
            })
            .map_err(err)?;
            weights.push(w);
            left -= u64::from(w);
        }
    }
    if weights.is_empty() {
        return Ok(());
    }
    p.observe_weighted(&set, &weights).map_err(err)
}

/// Unix milliseconds as a `DateTime`, or an error naming the value.
fn datetime(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        DataFusionError::Execution(format!("tp_credit: timestamp {ms} ms is out of range"))
    })
}

/// A touch borrowed from Arrow data (no string copied).
#[derive(Debug)]
struct RowTouch<'a> {
    channel: &'a str,
    ts: DateTime<Utc>,
    campaign: Option<&'a str>,
    content: Option<&'a str>,
    milestone: Option<Milestone>,
}

impl Touchpoint for RowTouch<'_> {
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
    fn milestone(&self) -> Option<Milestone> {
        self.milestone
    }
}

/// A journey row borrowed from Arrow data.
#[derive(Debug)]
struct RowJourney<'a, 'b> {
    touches: &'b [RowTouch<'a>],
    outcome: Outcome,
}

impl<'a> Journey for RowJourney<'a, '_> {
    type Touch = RowTouch<'a>;
    fn id(&self) -> &str {
        "row"
    }
    fn touchpoints(&self) -> &[RowTouch<'a>] {
        self.touches
    }
    fn outcome(&self) -> Outcome {
        self.outcome
    }
}
