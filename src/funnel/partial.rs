//! The mergeable funnel partial and the free `fit`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::acc::SliceAcc;
use super::config::{FunnelConfig, SliceBy, SourceView};
use super::lead::Lead;
use super::metrics::{FunnelMetrics, SliceMetrics};
use super::normalize::{Record, Resolved, RuleCounts, normalize};
use crate::aggregate::Aggregate;
use crate::error::{Error, Result};

/// Format version of serialized funnel partials.
const FUNNEL_VERSION: u32 = 1;

/// Key of the total slice: the one slice when metrics are not sliced, and
/// the key of [`FunnelMetrics::total`].
pub const TOTAL_SLICE: &str = "(all)";
/// Key of the slice of records with no value for the slicing dimension (no
/// touch, no campaign, no content asset, no segment).
pub const MISSING_SLICE: &str = "(none)";

/// Former name of [`TOTAL_SLICE`].
#[deprecated(since = "0.2.0", note = "renamed `funnel::TOTAL_SLICE`")]
pub const ALL: &str = TOTAL_SLICE;
/// Former name of [`MISSING_SLICE`].
#[deprecated(since = "0.2.0", note = "renamed `funnel::MISSING_SLICE`")]
pub const NONE: &str = MISSING_SLICE;

#[derive(Debug, Clone, Default)]
struct Scratch {
    resolved: Vec<Resolved>,
    records: Vec<Record>,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}

/// A mergeable funnel partial: integer counts, minor-unit sums and
/// day-bucket duration histograms per slice (see `MERGEABLE.md`): make one
/// per thread, partition or machine with [`new`](Self::new) (the identity of
/// merge), [`observe`](Self::observe) leads, [`merge`](Self::merge) in any
/// order and [`finish`](Self::finish). Merging two partials over disjoint
/// leads gives exactly the partial of their union.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{FunnelConfig, FunnelPartial, Lead};
///
/// let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
/// let a = Lead::new("a").stage("mql", t("01-02")?).stage("sql", t("01-05")?);
/// let b = Lead::new("b").stage("mql", t("01-03")?);
/// let cfg = FunnelConfig::default();
/// let mut left = FunnelPartial::new(cfg.clone());
/// left.observe(&a)?;
/// let mut right = FunnelPartial::new(cfg);
/// right.observe(&b)?;
/// left.merge(&right)?;
/// let m = left.finish();
/// assert_eq!(m.total().reached("mql")?, 2);
/// assert_eq!(m.total().reached("sql")?, 1);
/// assert_eq!(m.total().reached("inquiry")?, 2); // back-populated
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PartialWire")]
pub struct FunnelPartial {
    version: u32,
    config: FunnelConfig,
    rules: RuleCounts,
    slices: BTreeMap<String, SliceAcc>,
    #[serde(skip)]
    scratch: Scratch,
}

/// The serialized form, checked on deserialization (format version, and
/// every per-stage vector the length of the stages), so a deserialized
/// partial cannot make later calls panic.
#[derive(Deserialize)]
struct PartialWire {
    version: u32,
    config: FunnelConfig,
    rules: RuleCounts,
    slices: BTreeMap<String, SliceAcc>,
}

impl TryFrom<PartialWire> for FunnelPartial {
    type Error = Error;
    fn try_from(w: PartialWire) -> Result<FunnelPartial> {
        if w.version != FUNNEL_VERSION {
            return Err(Error::param(
                "version",
                w.version,
                "a funnel partial of format version 1",
            ));
        }
        for a in w.slices.values() {
            a.check(&w.config)?;
        }
        Ok(FunnelPartial {
            version: w.version,
            config: w.config,
            rules: w.rules,
            slices: w.slices,
            scratch: Scratch::default(),
        })
    }
}

impl FunnelPartial {
    /// An empty partial (the identity of [`merge`](Self::merge)).
    pub fn new(config: FunnelConfig) -> FunnelPartial {
        FunnelPartial {
            version: FUNNEL_VERSION,
            config,
            rules: RuleCounts::default(),
            slices: BTreeMap::new(),
            scratch: Scratch::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FunnelConfig {
        &self.config
    }

    /// The configuration fingerprint, with the format version.
    pub fn fingerprint(&self) -> String {
        format!("v{};{}", self.version, self.config.fingerprint())
    }

    /// Observes one lead: normalizes its stage entries under the documented
    /// rules (counted in [`RuleCounts`]) and adds its record(s). Cost:
    /// O(entries · log entries + touches). On error the partial is unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLead`] for a stage name not in the stages (the error
    /// names the lead and lists the valid stages), an invalid amount, or an out-of-order
    /// entry under [`OutOfOrder::Reject`](super::OutOfOrder::Reject).
    pub fn observe(&mut self, lead: &Lead) -> Result<()> {
        let mut sc = std::mem::take(&mut self.scratch);
        let mut rules = RuleCounts::default();
        let res = normalize(
            lead,
            &self.config,
            &mut sc.resolved,
            &mut sc.records,
            &mut rules,
        );
        let amount = match res {
            Ok(a) => a,
            Err(e) => {
                self.scratch = sc;
                return Err(e);
            }
        };
        // Every count and sum of a slice is bounded by its record count
        // (checked when a partial is read), so only that count can overflow:
        // check it for every slice this lead adds to before changing anything.
        let n = u64::try_from(sc.records.len()).unwrap_or(u64::MAX);
        let full = sc.records.iter().any(|r| {
            let key = slice_key(&self.config, lead, r);
            self.slices
                .get(key.as_ref())
                .is_some_and(|a| a.records.checked_add(n).is_none())
        });
        let merged = if full {
            Err(Error::Overflow {
                what: "funnel records",
            })
        } else {
            self.rules.merge(&rules)
        };
        if let Err(e) = merged {
            self.scratch = sc;
            return Err(e);
        }
        let cfg = &self.config;
        let (p, x) = (cfg.stages.len(), cfg.stages.exits().len());
        for r in &sc.records {
            let key = slice_key(cfg, lead, r);
            let acc = match self.slices.get_mut(key.as_ref()) {
                Some(a) => a,
                None => self
                    .slices
                    .entry(key.into_owned())
                    .or_insert_with(|| SliceAcc::new(p, x)),
            };
            acc.observe(cfg, lead, r, amount);
        }
        self.scratch = sc;
        Ok(())
    }

    /// Adds `other`'s sums into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] when the configurations (or format
    /// versions) differ; [`Error::Overflow`] when a sum overflows (then
    /// `self` may be partly merged: discard it).
    pub fn merge(&mut self, other: &FunnelPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        self.rules.merge(&other.rules)?;
        let (p, x) = (self.config.stages.len(), self.config.stages.exits().len());
        for (k, v) in &other.slices {
            self.slices
                .entry(k.clone())
                .or_insert_with(|| SliceAcc::new(p, x))
                .merge(v)?;
        }
        Ok(())
    }

    /// An estimate of the bytes the partial holds.
    pub fn size_bytes(&self) -> usize {
        let per = |a: &SliceAcc| {
            std::mem::size_of::<SliceAcc>()
                + a.entered.len() * (16 + 8 * a.reached.len())
                + a.rejections.keys().map(|k| k.len() + 32).sum::<usize>()
                + a.reached.len() * 64
        };
        std::mem::size_of::<FunnelPartial>()
            + self
                .slices
                .iter()
                .map(|(k, a)| k.len() + per(a))
                .sum::<usize>()
    }

    /// The metrics: slices sorted by key, and their total (the slices
    /// summed; see [`FunnelMetrics::total_overflowed`]).
    pub fn finish(&self) -> FunnelMetrics {
        let cfg = &self.config;
        let (p, x) = (cfg.stages.len(), cfg.stages.exits().len());
        let mut total = SliceAcc::new(p, x);
        let mut overflow = false;
        for a in self.slices.values() {
            overflow |= total.merge(a).is_err();
        }
        let mk = |key: &str, acc: SliceAcc| SliceMetrics {
            key: key.to_owned(),
            acc,
            config: cfg.clone(),
        };
        FunnelMetrics {
            rules: self.rules,
            total: mk(TOTAL_SLICE, total),
            slices: self.slices.iter().map(|(k, a)| mk(k, a.clone())).collect(),
            total_overflowed: overflow,
            config: cfg.clone(),
        }
    }
}

fn slice_key<'a>(cfg: &FunnelConfig, lead: &'a Lead, r: &Record) -> Cow<'a, str> {
    let touch = match cfg.source {
        SourceView::Original => lead.touches().first(),
        SourceView::CycleFirstTouch => r.first_touch.map(|i| &lead.touches()[i]),
    };
    let opt = |o: Option<&'a str>| Cow::Borrowed(o.unwrap_or(MISSING_SLICE));
    match cfg.slice {
        SliceBy::Total => Cow::Borrowed(TOTAL_SLICE),
        SliceBy::Channel => opt(touch.map(|t| t.channel.as_str())),
        SliceBy::Campaign => opt(touch.and_then(|t| t.campaign.as_deref())),
        SliceBy::Content => opt(touch.and_then(|t| t.content.as_deref())),
        SliceBy::Segment => opt(lead.segment()),
        SliceBy::Owner => Cow::Borrowed(lead.owner().as_str()),
        SliceBy::Period => Cow::Owned(cfg.period.label_of(r.created)),
    }
}

/// Runs leads through one [`FunnelPartial`] and finishes it: the in-memory
/// path (the same shape as every model module's `fit(&data, config)`).
///
/// # Errors
///
/// As [`FunnelPartial::observe`], for the first lead that fails.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{self, FunnelConfig, Lead};
///
/// let t = "2024-01-02T00:00:00Z".parse()?;
/// let leads = [Lead::new("a").stage("sql", t), Lead::new("b").stage("inquiry", t)];
/// let m = funnel::fit(&leads, FunnelConfig::default())?;
/// assert_eq!(m.total().reached("mql")?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit<'a>(
    leads: impl IntoIterator<Item = &'a Lead>,
    config: FunnelConfig,
) -> Result<FunnelMetrics> {
    let mut p = FunnelPartial::new(config);
    for l in leads {
        p.observe(l)?;
    }
    Ok(p.finish())
}

/// Former name of [`fit`], with the arguments the other way round.
///
/// # Errors
///
/// As [`fit`].
#[deprecated(since = "0.2.0", note = "use `funnel::fit(leads, config)`")]
pub fn funnel<'a>(
    config: FunnelConfig,
    leads: impl IntoIterator<Item = &'a Lead>,
) -> Result<FunnelMetrics> {
    fit(leads, config)
}

/// The funnel's [`Aggregate`]: made from a [`FunnelConfig`], finishes into
/// [`FunnelMetrics`]. It observes [`Lead`]s with the inherent
/// [`observe`](FunnelPartial::observe) (leads are not journeys, so it is
/// not a [`JourneyAggregate`](crate::JourneyAggregate)).
impl Aggregate for FunnelPartial {
    type Config = FunnelConfig;
    type Output = FunnelMetrics;

    fn new(config: FunnelConfig) -> FunnelPartial {
        FunnelPartial::new(config)
    }
    fn fingerprint(&self) -> String {
        FunnelPartial::fingerprint(self)
    }
    fn observed(&self) -> u64 {
        self.rules.leads
    }
    fn size_bytes(&self) -> usize {
        FunnelPartial::size_bytes(self)
    }
    fn merge(&mut self, other: &FunnelPartial) -> Result<()> {
        FunnelPartial::merge(self, other)
    }
    fn finish(&self) -> Result<FunnelMetrics> {
        Ok(FunnelPartial::finish(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(id: &str, stage: &str) -> Lead {
        Lead::new(id).stage(stage, "2024-01-02T00:00:00Z".parse().unwrap())
    }

    /// A helper generic over the trait, as an engine would drive it.
    fn merged<A: Aggregate>(config: A::Config, parts: Vec<A>) -> Result<A::Output> {
        let mut total = A::new(config);
        for p in &parts {
            total.merge(p)?;
        }
        total.finish()
    }

    #[test]
    fn aggregate_matches_the_inherent_calls() {
        let cfg = FunnelConfig::default();
        let mut a = FunnelPartial::new(cfg.clone());
        a.observe(&lead("a", "sql")).unwrap();
        let mut b = <FunnelPartial as Aggregate>::new(cfg.clone());
        b.observe(&lead("b", "inquiry")).unwrap();
        b.observe(&lead("c", "mql")).unwrap();
        assert_eq!((Aggregate::observed(&a), Aggregate::observed(&b)), (1, 2));
        assert_eq!(Aggregate::fingerprint(&a), a.fingerprint());
        let m = merged(cfg.clone(), vec![a, b]).unwrap();
        let direct = fit(
            &[lead("a", "sql"), lead("b", "inquiry"), lead("c", "mql")],
            cfg.clone(),
        )
        .unwrap();
        assert_eq!(m, direct);
        assert_eq!(m.total().reached("mql").unwrap(), 2);
        assert_eq!(m.total().key(), TOTAL_SLICE);
        // another configuration refuses to merge
        let other = FunnelPartial::new(cfg.slice_by(SliceBy::Channel));
        let mut x = FunnelPartial::new(FunnelConfig::default());
        assert!(matches!(
            Aggregate::merge(&mut x, &other),
            Err(Error::IncompatiblePartials { .. })
        ));
    }

    #[test]
    #[expect(deprecated, reason = "the former names must keep working")]
    fn former_names_still_work() {
        assert_eq!(ALL, TOTAL_SLICE);
        assert_eq!(NONE, MISSING_SLICE);
        let l = [lead("a", "mql")];
        assert_eq!(
            funnel(FunnelConfig::default(), &l).unwrap(),
            fit(&l, FunnelConfig::default()).unwrap()
        );
    }
}
