//! The attribution engine: exact integer credit, mergeable partial reports,
//! and the [`Report`] by channel, campaign and content.
//!
//! # How weights become money
//!
//! For each converted journey with touches, the model's weights are
//! normalized to shares `s_i = w_i / Σw`. The journey's value `V` (an
//! integer count of minor units) is split by the *largest-remainder*
//! method: every touch first gets `floor(s_i · V)`, then the units left over
//! go one each to the touches with the largest fractional parts, ties to the
//! earlier touch. The journey's one conversion is split the same way in
//! units of 10⁻⁹ ([`CONVERSION_UNITS`]). So each journey's credit sums to
//! exactly its value, every sum after that is an integer sum, and a report
//! is the same bit for bit however the journeys were split, ordered or
//! merged.
//!
//! A converted journey with no touch is credited to the explicit
//! *unassigned* bucket of each breakdown (see [`Breakdown::unassigned`]),
//! never lost: `Σ lines + unassigned = total` holds exactly, in every
//! breakdown. Touches without a campaign (or content asset) put their credit
//! in that breakdown's unassigned bucket too.
//!
//! # Performance
//!
//! One pass over the journeys, no allocation per journey. The engine
//! branches on the shape of the weights a model sets: "all to touch k"
//! (first, last, last non-direct) credits one touch in O(1) whatever the
//! journey's length, "equal" (linear) splits inline, and general weights go
//! through the largest-remainder split, which for journeys of up to 24
//! touches runs on stack buffers and hands out leftover units without
//! sorting (the same result as the sort, tested against it). Non-converted
//! journeys cost a counter increment. Models are monomorphized when
//! [`attribute`] is called with a concrete type; through
//! `&dyn AttributionModel` each journey costs one virtual call.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataset::{JourneySet, JourneyView, NONE_ID};
use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::model::{AttributionModel, CreditKind, Shape, Weights};
use crate::money::Currency;

/// One conversion, in the fixed-point units fractional conversions are
/// counted in: 10⁹, so a channel's attributed conversions are exact to 1e-9
/// per journey and their sum over channels is exact.
pub const CONVERSION_UNITS: u64 = 1_000_000_000;

/// Format version of serialized partials.
const PARTIAL_VERSION: u32 = 1;

/// Journeys up to this length apportion leftovers without sorting.
const SMALL: usize = 24;

/// Splits `total` into `out.len()` integer parts by the largest-remainder
/// method over `weights` (which must be finite, `>= 0`, with positive sum
/// `sum`). Leftover units go to the largest fractional parts, ties to the
/// lower index. `scratch` is reused between calls.
pub(crate) fn apportion_weighted(
    total: i64,
    weights: &[f64],
    sum: f64,
    out: &mut [i64],
    scratch: &mut Vec<(f64, usize)>,
) {
    #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
    let factor = total as f64 / sum;
    let n = out.len();
    if !factor.is_finite() {
        // weights so small (all below ~1e-292) that `total / sum` overflows:
        // every positive weight would floor to the whole total and the
        // overshoot loop below would hand units back one by one (`total`
        // iterations). Scale by the share `w / sum` instead.
        apportion_tiny(total, weights, sum, out, scratch);
        return;
    }
    if n <= SMALL {
        // Same result as the general path below, without sorting: the
        // fractional parts are kept as the integer keys of their bit
        // patterns (for floats >= 0, including -0.0 < +0.0, integer order is
        // `total_cmp` order), and the leftover units are handed out one by
        // one to the largest remaining key, ties to the earlier touch.
        let mut key = [i64::MIN; SMALL];
        let mut assigned: i64 = 0;
        for ((o, k), &w) in out.iter_mut().zip(key.iter_mut()).zip(weights) {
            let x = w * factor;
            // x >= 0, so truncation is the floor
            #[expect(clippy::cast_possible_truncation, reason = "clamped to [0, total]")]
            let f = (x as i64).clamp(0, total);
            *o = f;
            assigned += f;
            #[expect(clippy::cast_precision_loss, reason = "parts are below 2^53")]
            let frac = x - f as f64;
            *k = ordered_bits(frac);
        }
        let mut left = total - assigned;
        if left >= 0 && (left as usize) <= n {
            let key = &mut key[..n];
            #[expect(clippy::cast_possible_wrap, reason = "n <= SMALL")]
            let mut keep = n as i64 - left;
            if keep < left {
                // cheaper from the other end: every part gets a unit, then
                // the `n - left` last in (key desc, index asc) order give
                // theirs back: smallest key, ties to the later touch
                for o in out.iter_mut() {
                    *o += 1;
                }
                while keep > 0 {
                    let mut worst = 0;
                    let mut worst_key = key[0];
                    for (i, &k) in key.iter().enumerate().skip(1) {
                        if k <= worst_key {
                            worst = i;
                            worst_key = k;
                        }
                    }
                    out[worst] -= 1;
                    key[worst] = i64::MAX;
                    keep -= 1;
                }
                return;
            }
            while left > 0 {
                let mut best = 0;
                let mut best_key = key[0];
                for (i, &k) in key.iter().enumerate().skip(1) {
                    if k > best_key {
                        best = i;
                        best_key = k;
                    }
                }
                out[best] += 1;
                key[best] = i64::MIN;
                left -= 1;
            }
            return;
        }
        // rare floating-point overshoot: the general path below
    }
    let mut assigned: i64 = 0;
    for (o, &w) in out.iter_mut().zip(weights) {
        let x = w * factor;
        #[expect(clippy::cast_possible_truncation, reason = "clamped to [0, total]")]
        let f = (x as i64).clamp(0, total);
        *o = f;
        assigned += f;
    }
    let mut left = total - assigned;
    if left == 0 {
        return;
    }
    scratch.clear();
    #[expect(clippy::cast_precision_loss, reason = "parts are below 2^53")]
    scratch.extend(
        weights
            .iter()
            .zip(out.iter())
            .enumerate()
            .map(|(i, (&w, &o))| (w * factor - o as f64, i)),
    );
    // largest fraction first, ties to the earlier touch
    scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    if left > 0 {
        let mut k = 0;
        while left > 0 {
            out[scratch[k % scratch.len()].1] += 1;
            left -= 1;
            k += 1;
        }
    } else {
        // floating-point overshoot: take units back from the smallest fractions
        let mut k = scratch.len();
        while left < 0 && k > 0 {
            k -= 1;
            let i = scratch[k].1;
            if out[i] > 0 {
                out[i] -= 1;
                left += 1;
            }
            if k == 0 && left < 0 {
                k = scratch.len();
            }
        }
    }
}

/// [`apportion_weighted`] when `total / sum` overflows: the parts are
/// `floor(w / sum · total)`, leftovers by the largest remainder.
#[cold]
fn apportion_tiny(
    total: i64,
    weights: &[f64],
    sum: f64,
    out: &mut [i64],
    scratch: &mut Vec<(f64, usize)>,
) {
    #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
    let t = total as f64;
    let mut assigned: i64 = 0;
    scratch.clear();
    for (i, (o, &w)) in out.iter_mut().zip(weights).enumerate() {
        let x = w / sum * t;
        #[expect(clippy::cast_possible_truncation, reason = "clamped to [0, total]")]
        let f = (x as i64).clamp(0, total - assigned);
        *o = f;
        assigned += f;
        #[expect(clippy::cast_precision_loss, reason = "parts are below 2^53")]
        scratch.push((x - f as f64, i));
    }
    // largest fraction first, ties to the earlier touch; the floors sum to
    // at most `total`, and short of it by less than one unit per touch
    scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - assigned;
    let mut k = 0;
    while left > 0 && !scratch.is_empty() {
        out[scratch[k % scratch.len()].1] += 1;
        left -= 1;
        k += 1;
    }
}

/// An integer whose order is [`f64::total_cmp`]'s order.
#[inline]
fn ordered_bits(x: f64) -> i64 {
    #[expect(clippy::cast_possible_wrap, reason = "reinterpreting the bits")]
    let b = x.to_bits() as i64;
    // negative floats: flip the magnitude bits so larger magnitudes sort lower
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Splits `total` equally over `out.len()` parts; the remainder goes one unit
/// each to the earliest parts (the largest-remainder rule with its tie-break).
fn apportion_equal(total: i64, out: &mut [i64]) {
    let n = out.len() as i64;
    let q = total / n;
    let r = total % n;
    for (i, o) in out.iter_mut().enumerate() {
        *o = q + i64::from((i as i64) < r);
    }
}

/// Reusable buffers that turn a model's weights for one journey into exact
/// per-touch credit. Use it to get per-touch credit without building a
/// report.
///
/// # Example
///
/// ```
/// use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::Linear};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("a", t))
///     .touch(SimpleTouch::new("b", t))
///     .touch(SimpleTouch::new("c", t))
///     .converted(1.00);
/// let set = JourneySet::from_journeys([&j])?;
/// let mut c = Crediter::new();
/// c.credit(&Linear, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[34, 33, 33]); // 100 cents, leftover cent to the first
/// assert_eq!(c.conversion_units().iter().sum::<i64>(), 1_000_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Crediter {
    weights: Weights,
    value: Vec<i64>,
    units: Vec<i64>,
    scratch: Vec<(f64, usize)>,
}

impl Crediter {
    /// New, empty buffers.
    pub fn new() -> Crediter {
        Crediter::default()
    }

    /// Credits one journey: afterwards [`values`](Self::values) and
    /// [`conversion_units`](Self::conversion_units) hold one entry per touch
    /// (all zero for a journey that did not convert; empty for a journey
    /// with no touch).
    ///
    /// # Errors
    ///
    /// Whatever the model's [`weights`](AttributionModel::weights) returns,
    /// and [`Error::InvalidWeights`] when the weights cannot be normalized.
    pub fn credit<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        journey: &JourneyView<'_>,
    ) -> Result<()> {
        let n = journey.len();
        self.value.clear();
        self.units.clear();
        self.value.resize(n, 0);
        self.units.resize(n, 0);
        if n == 0 || !journey.converted() {
            return Ok(());
        }
        let sum = self.weigh(model, journey)?;
        self.fill(model.kind(), journey.value_minor(), sum);
        Ok(())
    }

    /// Runs the model on a journey with at least one touch and checks its
    /// weights; returns their sum (1 for the single and equal shapes).
    #[inline]
    fn weigh<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        journey: &JourneyView<'_>,
    ) -> Result<f64> {
        self.weights.clear();
        model.weights(journey, &mut self.weights)?;
        self.weights
            .check(journey.len())
            .map_err(|reason| Error::InvalidWeights {
                model: model.name().to_owned(),
                journey: journey.id().to_owned(),
                reason,
            })
    }

    /// After [`weigh`](Self::weigh): per-touch credit of value `v` into
    /// `self.value` and `self.units` (already sized to the journey, zeroed).
    fn fill(&mut self, kind: CreditKind, v: i64, sum: f64) {
        let n = self.value.len();
        #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
        let u = CONVERSION_UNITS as i64;
        match (kind, self.weights.shape()) {
            (CreditKind::Full, shape) => {
                for i in 0..n {
                    let on = match shape {
                        Shape::Single(k) => i == k,
                        Shape::Equal => true,
                        Shape::Weighted => self.weights.raw()[i] > 0.0,
                        Shape::Unset => false,
                    };
                    if on {
                        self.value[i] = v;
                        self.units[i] = u;
                    }
                }
            }
            (_, Shape::Single(k)) => {
                self.value[k] = v;
                self.units[k] = u;
            }
            (_, Shape::Equal) => {
                apportion_equal(v, &mut self.value);
                apportion_equal(u, &mut self.units);
            }
            (_, _) => {
                let w = self.weights.raw();
                apportion_weighted(v, w, sum, &mut self.value, &mut self.scratch);
                apportion_weighted(u, w, sum, &mut self.units, &mut self.scratch);
            }
        }
    }

    /// Credited value per touch, in minor units, after [`credit`](Self::credit).
    pub fn values(&self) -> &[i64] {
        &self.value
    }

    /// Credited conversions per touch, in [`CONVERSION_UNITS`].
    pub fn conversion_units(&self) -> &[i64] {
        &self.units
    }
}

/// Integer sums for one line of a breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Acc {
    units: u128,
    value: i128,
}

/// The largest magnitude an [`Acc`] may hold outside `observe`: 2^120.
///
/// Merges and deserialization refuse sums above it, so the unchecked
/// per-touch adds of `observe` cannot overflow: one touch adds at most 2^53
/// minor units (or 10^9 conversion units), and no partial can observe
/// anywhere near 2^64 touches, so a sum stays below 2^120 + 2^117 < 2^127.
const ACC_LIMIT: u128 = 1 << 120;

impl Acc {
    /// Adds one touch's credit. Unchecked on purpose, on the hot path: see
    /// [`ACC_LIMIT`] for why it cannot overflow.
    #[inline]
    #[expect(clippy::unnecessary_wraps, reason = "keeps the call sites uniform")]
    fn add(&mut self, units: i64, value: i64) -> Result<()> {
        self.units += u128::from(units.unsigned_abs());
        self.value += i128::from(value);
        Ok(())
    }

    /// Whether both sums are within [`ACC_LIMIT`].
    fn within_limit(&self) -> bool {
        self.units <= ACC_LIMIT && self.value.unsigned_abs() <= ACC_LIMIT
    }

    fn checked_merge(&mut self, other: &Acc) -> Result<()> {
        let units = self.units.checked_add(other.units);
        let value = self.value.checked_add(other.value);
        match (units, value) {
            (Some(units), Some(value)) => {
                let sum = Acc { units, value };
                if !sum.within_limit() {
                    return Err(Error::Overflow {
                        what: "credited conversions or value",
                    });
                }
                *self = sum;
                Ok(())
            }
            (None, _) => Err(Error::Overflow {
                what: "credited conversions",
            }),
            (_, None) => Err(Error::Overflow {
                what: "credited value",
            }),
        }
    }
}

/// Sums for one breakdown (channel, campaign or content), keyed by local ids.
#[derive(Debug, Clone, Default)]
struct Dim {
    lines: Vec<Acc>,
    unassigned: Acc,
}

impl Dim {
    #[inline]
    fn add(&mut self, id: u32, units: i64, value: i64) -> Result<()> {
        if id == NONE_ID {
            self.unassigned.add(units, value)
        } else {
            let i = id as usize;
            match self.lines.get_mut(i) {
                Some(acc) => acc.add(units, value),
                None => self.grow_add(i, units, value),
            }
        }
    }

    #[cold]
    fn grow_add(&mut self, i: usize, units: i64, value: i64) -> Result<()> {
        self.lines.resize(i + 1, Acc::default());
        self.lines[i].add(units, value)
    }
}

/// A partial report: the integer sums of one model's credit over some
/// journeys. Make one per thread, partition or machine, [`merge`](Self::merge)
/// them in any order, and [`finish`](Self::finish): the result is the same,
/// bit for bit, as one pass over all journeys.
///
/// Keys are names, not local ids, so partials from differently interned
/// data merge correctly. The serialized form is name-keyed and sorted.
///
/// # Example
///
/// ```
/// use touchpoint::{CreditPartial, SimpleJourney, SimpleTouch, models::Linear};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let a = SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(10.0);
/// let b = SimpleJourney::new("b").touch(SimpleTouch::new("direct", t)).converted(5.0);
///
/// let mut left = CreditPartial::new(&Linear);
/// left.observe(&Linear, &a)?;
/// let mut right = CreditPartial::new(&Linear);
/// right.observe(&Linear, &b)?;
/// left.merge(&right)?;
/// let report = left.finish();
/// assert_eq!(report.value_minor(), 1500);
/// assert_eq!(report.channels().get("email").unwrap().value_minor(), 1000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CreditPartial {
    model: String,
    fingerprint: String,
    kind: CreditKind,
    currency: Currency,
    journeys: u64,
    conversions: u64,
    value: i128,
    scratch: JourneySet,
    channel: Dim,
    campaign: Dim,
    content: Dim,
    crediter: Crediter,
}

impl CreditPartial {
    /// An empty partial for `model` (the identity of [`merge`](Self::merge)),
    /// in the default currency.
    pub fn new<M: AttributionModel + ?Sized>(model: &M) -> CreditPartial {
        CreditPartial::with_currency(model, Currency::default())
    }

    /// An empty partial for `model` in `currency`.
    pub fn with_currency<M: AttributionModel + ?Sized>(
        model: &M,
        currency: Currency,
    ) -> CreditPartial {
        CreditPartial {
            model: model.name().to_owned(),
            fingerprint: model.fingerprint(),
            kind: model.kind(),
            currency,
            journeys: 0,
            conversions: 0,
            value: 0,
            scratch: JourneySet::with_currency(currency),
            channel: Dim::default(),
            campaign: Dim::default(),
            content: Dim::default(),
            crediter: Crediter::new(),
        }
    }

    /// The configuration fingerprint (model fingerprint and currency).
    pub fn fingerprint(&self) -> String {
        format!(
            "v{PARTIAL_VERSION};{};decimals={}",
            self.fingerprint,
            self.currency.decimals()
        )
    }

    fn check_model<M: AttributionModel + ?Sized>(&self, model: &M) -> Result<()> {
        let fp = model.fingerprint();
        if fp == self.fingerprint {
            Ok(())
        } else {
            Err(Error::IncompatiblePartials {
                left: self.fingerprint.clone(),
                right: fp,
            })
        }
    }

    /// Credits one journey of your own type into the partial.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `model` is not the model the
    /// partial was made for; the journey's validation errors (see
    /// [`JourneySet::push`]); the model's errors.
    pub fn observe<M: AttributionModel + ?Sized, J: Journey + ?Sized>(
        &mut self,
        model: &M,
        journey: &J,
    ) -> Result<()> {
        self.check_model(model)?;
        self.scratch.clear_journeys();
        self.scratch.push(journey)?;
        let set = std::mem::take(&mut self.scratch);
        let r = match set.get(0) {
            Some(view) => self.observe_local(model, &view),
            None => Ok(()),
        };
        self.scratch = set;
        r
    }

    /// Credits every journey of `set` (the fast path: ids are shared).
    fn observe_set<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        set: &JourneySet,
    ) -> Result<()> {
        debug_assert!(self.scratch.is_empty() && self.channel.lines.is_empty());
        self.scratch = set.catalog_only();
        let cat = set.catalog();
        self.channel
            .lines
            .resize(cat.channels.len(), Acc::default());
        self.campaign
            .lines
            .resize(cat.campaigns.len(), Acc::default());
        self.content
            .lines
            .resize(cat.contents.len(), Acc::default());
        for view in set.iter() {
            self.observe_local(model, &view)?;
        }
        Ok(())
    }

    /// Credits a view whose catalog is `self.scratch`'s catalog.
    #[inline]
    fn observe_local<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        view: &JourneyView<'_>,
    ) -> Result<()> {
        // checked: a deserialized partial can carry counts near the limits
        self.journeys = self.journeys.checked_add(1).ok_or(Error::Overflow {
            what: "journey count",
        })?;
        if !view.converted() {
            return Ok(());
        }
        self.conversions = self.conversions.checked_add(1).ok_or(Error::Overflow {
            what: "conversion count",
        })?;
        self.value = self
            .value
            .checked_add(i128::from(view.value_minor()))
            .ok_or(Error::Overflow {
                what: "total value",
            })?;
        if view.is_empty() {
            #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
            let u = CONVERSION_UNITS as i64;
            let v = view.value_minor();
            self.channel.unassigned.add(u, v)?;
            self.campaign.unassigned.add(u, v)?;
            self.content.unassigned.add(u, v)?;
            return Ok(());
        }
        let sum = self.crediter.weigh(model, view)?;
        let ch = view.channels();
        let n = ch.len();
        let cp = &view.campaign_ids()[..n];
        let ct = &view.content_ids()[..n];
        #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
        let units = CONVERSION_UNITS as i64;
        let value = view.value_minor();
        match (self.kind, self.crediter.weights.shape()) {
            (CreditKind::Shares, Shape::Single(k)) => {
                // `check` made sure k < n
                self.add_touch(ch[k].0, cp[k], ct[k], units, value)?;
            }
            (CreditKind::Shares, Shape::Equal) => {
                // the largest-remainder split of `apportion_equal`, inline
                let n64 = n as i64;
                let (qu, ru) = (units / n64, units % n64);
                let (qv, rv) = (value / n64, value % n64);
                for (i, ((c, &p), &t)) in ch.iter().zip(cp).zip(ct).enumerate() {
                    let i = i as i64;
                    let u = qu + i64::from(i < ru);
                    let v = qv + i64::from(i < rv);
                    self.add_touch(c.0, p, t, u, v)?;
                }
            }
            (CreditKind::Shares, Shape::Weighted) if n <= SMALL => {
                // stack buffers: no resizing, no bounds checks in the loop
                let mut vals = [0_i64; SMALL];
                let mut us = [0_i64; SMALL];
                let (vals, us) = (&mut vals[..n], &mut us[..n]);
                let c = &mut self.crediter;
                let w = c.weights.raw();
                apportion_weighted(value, w, sum, vals, &mut c.scratch);
                apportion_weighted(units, w, sum, us, &mut c.scratch);
                let touches = ch.iter().zip(cp).zip(ct);
                for (((c, &p), &t), (&u, &v)) in touches.zip(us.iter().zip(vals.iter())) {
                    if u != 0 || v != 0 {
                        self.add_touch(c.0, p, t, u, v)?;
                    }
                }
            }
            _ => {
                let c = &mut self.crediter;
                c.value.clear();
                c.units.clear();
                c.value.resize(n, 0);
                c.units.resize(n, 0);
                c.fill(self.kind, value, sum);
                for i in 0..n {
                    let (u, v) = (self.crediter.units[i], self.crediter.value[i]);
                    if u == 0 && v == 0 {
                        continue;
                    }
                    self.add_touch(ch[i].0, cp[i], ct[i], u, v)?;
                }
            }
        }
        Ok(())
    }

    /// Adds one touch's credit to the three breakdowns.
    #[inline]
    fn add_touch(
        &mut self,
        channel: u32,
        campaign: u32,
        content: u32,
        units: i64,
        value: i64,
    ) -> Result<()> {
        self.channel.add(channel, units, value)?;
        self.campaign.add(campaign, units, value)?;
        self.content.add(content, units, value)
    }

    fn named(&self) -> NamedPartial {
        let cat = self.scratch.catalog();
        let name_dim = |d: &Dim, names: &crate::dataset::Interner| {
            let mut lines = BTreeMap::new();
            for (i, acc) in d.lines.iter().enumerate() {
                if let Some(n) = names.name(i as u32) {
                    lines.insert(n.to_owned(), *acc);
                }
            }
            NamedDim {
                lines,
                unassigned: d.unassigned,
            }
        };
        NamedPartial {
            version: PARTIAL_VERSION,
            model: self.model.clone(),
            fingerprint: self.fingerprint.clone(),
            full_credit: self.kind == CreditKind::Full,
            currency: self.currency,
            journeys: self.journeys,
            conversions: self.conversions,
            value: self.value,
            channel: name_dim(&self.channel, &cat.channels),
            campaign: name_dim(&self.campaign, &cat.campaigns),
            content: name_dim(&self.content, &cat.contents),
        }
    }

    /// Adds `other`'s sums into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the two were made for different
    /// model configurations or currencies; [`Error::Overflow`] if a sum
    /// overflows.
    pub fn merge(&mut self, other: &CreditPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        let mut mine = self.named();
        mine.merge(&other.named())?;
        *self = mine.into_partial(self.kind);
        Ok(())
    }

    /// The report: lines sorted by name, amounts exact.
    pub fn finish(&self) -> Report {
        self.named().into_report()
    }
}

impl Serialize for CreditPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.named().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CreditPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let named = NamedPartial::deserialize(d)?;
        if named.version != PARTIAL_VERSION {
            return Err(serde::de::Error::custom(format!(
                "unsupported partial version {}",
                named.version
            )));
        }
        let dims = [&named.channel, &named.campaign, &named.content];
        let within = dims
            .iter()
            .all(|d| d.unassigned.within_limit() && d.lines.values().all(Acc::within_limit));
        if !within {
            return Err(serde::de::Error::custom(
                "a credited sum exceeds 2^120 (the limit that keeps further adds exact)",
            ));
        }
        let kind = if named.full_credit {
            CreditKind::Full
        } else {
            CreditKind::Shares
        };
        Ok(named.into_partial(kind))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NamedDim {
    lines: BTreeMap<String, Acc>,
    unassigned: Acc,
}

impl NamedDim {
    fn merge(&mut self, other: &NamedDim) -> Result<()> {
        for (k, v) in &other.lines {
            self.lines.entry(k.clone()).or_default().checked_merge(v)?;
        }
        self.unassigned.checked_merge(&other.unassigned)
    }

    fn breakdown(&self, currency: Currency) -> Breakdown {
        let line = |name: &str, a: &Acc| Credit {
            name: name.to_owned(),
            units: a.units,
            value_minor: a.value,
            currency,
        };
        Breakdown {
            lines: self.lines.iter().map(|(k, a)| line(k, a)).collect(),
            unassigned: line("(unassigned)", &self.unassigned),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NamedPartial {
    version: u32,
    model: String,
    fingerprint: String,
    full_credit: bool,
    currency: Currency,
    journeys: u64,
    conversions: u64,
    value: i128,
    channel: NamedDim,
    campaign: NamedDim,
    content: NamedDim,
}

impl NamedPartial {
    fn merge(&mut self, other: &NamedPartial) -> Result<()> {
        self.journeys = self
            .journeys
            .checked_add(other.journeys)
            .ok_or(Error::Overflow {
                what: "journey count",
            })?;
        self.conversions =
            self.conversions
                .checked_add(other.conversions)
                .ok_or(Error::Overflow {
                    what: "conversion count",
                })?;
        self.value = self.value.checked_add(other.value).ok_or(Error::Overflow {
            what: "total value",
        })?;
        self.channel.merge(&other.channel)?;
        self.campaign.merge(&other.campaign)?;
        self.content.merge(&other.content)
    }

    fn into_partial(self, kind: CreditKind) -> CreditPartial {
        let mut scratch = JourneySet::with_currency(self.currency);
        let dim = |nd: &NamedDim, names: &mut crate::dataset::Interner| {
            let mut d = Dim {
                lines: Vec::with_capacity(nd.lines.len()),
                unassigned: nd.unassigned,
            };
            for (k, a) in &nd.lines {
                let id = names.intern(k) as usize;
                if id >= d.lines.len() {
                    d.lines.resize(id + 1, Acc::default());
                }
                d.lines[id] = *a;
            }
            d
        };
        let cat = scratch.catalog_mut();
        let channel = dim(&self.channel, &mut cat.channels);
        let campaign = dim(&self.campaign, &mut cat.campaigns);
        let content = dim(&self.content, &mut cat.contents);
        CreditPartial {
            model: self.model,
            fingerprint: self.fingerprint,
            kind,
            currency: self.currency,
            journeys: self.journeys,
            conversions: self.conversions,
            value: self.value,
            scratch,
            channel,
            campaign,
            content,
            crediter: Crediter::new(),
        }
    }

    fn into_report(self) -> Report {
        Report {
            channels: self.channel.breakdown(self.currency),
            campaigns: self.campaign.breakdown(self.currency),
            contents: self.content.breakdown(self.currency),
            model: self.model,
            full_credit: self.full_credit,
            currency: self.currency,
            journeys: self.journeys,
            conversions: self.conversions,
            value_minor: self.value,
        }
    }
}

/// Credit of one line (a channel, campaign or content asset): attributed
/// conversions (fractional, fixed point) and value (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    name: String,
    units: u128,
    value_minor: i128,
    currency: Currency,
}

impl Credit {
    /// The line's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Attributed conversions (fractional).
    pub fn conversions(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "display conversion")]
        let c = self.units as f64 / CONVERSION_UNITS as f64;
        c
    }
    /// Attributed conversions in [`CONVERSION_UNITS`] (exact).
    pub fn conversion_units(&self) -> u128 {
        self.units
    }
    /// Attributed value in minor units (exact).
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
    /// Attributed value in major units.
    pub fn value(&self) -> f64 {
        self.currency.to_major_wide(self.value_minor)
    }
}

/// A breakdown of credit along one dimension: one [`Credit`] line per name,
/// sorted by name, plus the unassigned bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    lines: Vec<Credit>,
    unassigned: Credit,
}

impl Breakdown {
    /// The lines, sorted by name (byte order).
    pub fn lines(&self) -> &[Credit] {
        &self.lines
    }
    /// The line named `name`.
    pub fn get(&self, name: &str) -> Option<&Credit> {
        self.lines
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.lines[i])
    }
    /// Credit that belongs to no line: converted journeys with no touch, and
    /// (in the campaign and content breakdowns) touches without a campaign
    /// or content asset.
    pub fn unassigned(&self) -> &Credit {
        &self.unassigned
    }
}

/// The credit of one model over many journeys, by channel, by campaign and
/// by content asset.
///
/// For share-based models, in every breakdown
/// `Σ lines.value_minor + unassigned.value_minor == value_minor()` exactly,
/// and the same for conversion units against `conversions() · 10⁹`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    model: String,
    full_credit: bool,
    currency: Currency,
    journeys: u64,
    conversions: u64,
    value_minor: i128,
    channels: Breakdown,
    campaigns: Breakdown,
    contents: Breakdown,
}

impl Report {
    /// The model's name.
    pub fn model(&self) -> &str {
        &self.model
    }
    /// Whether the model gives full credit to every touch (participation),
    /// so lines do not sum to the totals.
    pub fn is_full_credit(&self) -> bool {
        self.full_credit
    }
    /// The currency amounts are in.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// Journeys seen, converted or not.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Converted journeys.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Total converted value, minor units.
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
    /// Total converted value, major units.
    pub fn value(&self) -> f64 {
        self.currency.to_major_wide(self.value_minor)
    }
    /// Credit by channel.
    pub fn channels(&self) -> &Breakdown {
        &self.channels
    }
    /// Credit by campaign.
    pub fn campaigns(&self) -> &Breakdown {
        &self.campaigns
    }
    /// Credit by content asset.
    pub fn contents(&self) -> &Breakdown {
        &self.contents
    }

    /// A channel-level report of a fitted model (Markov, Shapley), whose
    /// lines were apportioned by the model: `lines` are `(channel,
    /// conversion units, value minor)` sorted by name, `unassigned` the
    /// converted journeys with no touch. Campaigns and contents have no
    /// lines (a channel-level model does not see them): their unassigned
    /// bucket holds the totals, so every breakdown still reconciles.
    pub(crate) fn from_channel_totals(
        model: String,
        currency: Currency,
        (journeys, conversions, value_minor): (u64, u64, i128),
        lines: Vec<(String, u128, i128)>,
        unassigned: (u128, i128),
    ) -> Report {
        let credit = |name: String, (units, value_minor): (u128, i128)| Credit {
            name,
            units,
            value_minor,
            currency,
        };
        let everything = || Breakdown {
            lines: Vec::new(),
            unassigned: credit(
                "(unassigned)".to_owned(),
                (
                    u128::from(conversions) * u128::from(CONVERSION_UNITS),
                    value_minor,
                ),
            ),
        };
        Report {
            channels: Breakdown {
                lines: lines
                    .into_iter()
                    .map(|(name, u, v)| credit(name, (u, v)))
                    .collect(),
                unassigned: credit("(unassigned)".to_owned(), unassigned),
            },
            campaigns: everything(),
            contents: everything(),
            model,
            full_credit: false,
            currency,
            journeys,
            conversions,
            value_minor,
        }
    }
}

/// Attributes every journey of `set` with `model`.
///
/// Cost: one pass, O(touches), no allocation per journey.
///
/// # Errors
///
/// The model's errors, and [`Error::InvalidWeights`] for weights that cannot
/// be normalized (custom models only).
///
/// # Example
///
/// ```
/// use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::LastTouch};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(20.0);
/// let report = attribute(&LastTouch, &JourneySet::from_journeys([&j])?)?;
/// assert_eq!(report.channels().get("email").unwrap().value(), 20.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn attribute<M: AttributionModel + ?Sized>(model: &M, set: &JourneySet) -> Result<Report> {
    Ok(attribute_partial(model, set)?.finish())
}

/// Like [`attribute`], but returns the mergeable partial.
///
/// # Errors
///
/// As [`attribute`].
pub fn attribute_partial<M: AttributionModel + ?Sized>(
    model: &M,
    set: &JourneySet,
) -> Result<CreditPartial> {
    let mut p = CreditPartial::with_currency(model, set.currency());
    p.observe_set(model, set)?;
    Ok(p)
}

/// Several models' reports over the same journeys, side by side.
///
/// `Display` prints a table of attributed conversions per channel (rows)
/// and model (columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    reports: Vec<Report>,
}

impl Comparison {
    /// The reports, in the order the models were given.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// Every channel named in any report, sorted.
    pub fn channels(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .reports
            .iter()
            .flat_map(|r| r.channels.lines.iter().map(|c| c.name.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .reports
            .iter()
            .map(|r| r.model.len())
            .max()
            .unwrap_or(0)
            .max(8);
        let chans = self.channels();
        let cw = chans.iter().map(|c| c.len()).max().unwrap_or(0).max(12);
        write!(f, "{:<cw$}", "channel")?;
        for r in &self.reports {
            write!(f, " {:>width$}", r.model)?;
        }
        writeln!(f)?;
        for ch in chans {
            write!(f, "{ch:<cw$}")?;
            for r in &self.reports {
                let c = r.channels.get(ch).map_or(0.0, Credit::conversions);
                write!(f, " {c:>width$.2}")?;
            }
            writeln!(f)?;
        }
        write!(f, "{:<cw$}", "(unassigned)")?;
        for r in &self.reports {
            write!(f, " {:>width$.2}", r.channels.unassigned.conversions())?;
        }
        writeln!(f)
    }
}

/// Attributes `set` under each model.
///
/// # Errors
///
/// The first model error, as [`attribute`].
///
/// # Example
///
/// ```
/// use touchpoint::{compare, AttributionModel, JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::models::{FirstTouch, LastTouch};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(20.0);
/// let models: [&dyn AttributionModel; 2] = [&FirstTouch, &LastTouch];
/// let cmp = compare(&models, &JourneySet::from_journeys([&j])?)?;
/// assert_eq!(cmp.reports()[0].channels().get("display").unwrap().conversions(), 1.0);
/// println!("{cmp}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(models: &[&dyn AttributionModel], set: &JourneySet) -> Result<Comparison> {
    let reports = models
        .iter()
        .map(|m| attribute(*m, set))
        .collect::<Result<Vec<_>>>()?;
    Ok(Comparison { reports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_tiny_weights_is_exact_and_fast() {
        // `total / sum` overflows to infinity: this used to loop `total` times
        let total = 9_000_000_000_000_000_i64;
        let mut scratch = Vec::new();
        for w in [
            vec![5e-324, 0.0, 5e-324],
            vec![1e-300, 3e-300],
            vec![5e-324; 30],
        ] {
            let sum: f64 = w.iter().sum();
            let mut out = vec![0; w.len()];
            apportion_weighted(total, &w, sum, &mut out, &mut scratch);
            assert_eq!(out.iter().sum::<i64>(), total, "{w:?}");
            assert!(out.iter().all(|&o| o >= 0));
        }
        let mut out = vec![0; 3];
        apportion_weighted(
            total,
            &[5e-324, 0.0, 5e-324],
            1e-323,
            &mut out,
            &mut scratch,
        );
        assert_eq!(out, [total / 2, 0, total / 2]);
        let mut out = vec![0; 2];
        apportion_weighted(total, &[1e-300, 3e-300], 4e-300, &mut out, &mut scratch);
        assert_eq!(out, [total / 4, total / 4 * 3]);
    }

    #[test]
    fn observe_into_saturated_partial_is_an_error() {
        use crate::journey::SimpleJourney;
        use crate::models::Linear;
        use crate::touchpoint::SimpleTouch;
        let t = "2024-01-01T00:00:00Z".parse().unwrap();
        let j = SimpleJourney::new("a")
            .touch(SimpleTouch::new("email", t))
            .converted(1.0);
        let mut p = CreditPartial::new(&Linear);
        p.observe(&Linear, &j).unwrap();
        // counts and sums at their limits, as a hostile serialized partial can carry
        let mut json: serde_json::Value = serde_json::to_value(&p).unwrap();
        json["journeys"] = serde_json::json!(u64::MAX);
        let mut full: CreditPartial = serde_json::from_value(json).unwrap();
        assert!(matches!(
            full.observe(&Linear, &j),
            Err(Error::Overflow {
                what: "journey count"
            })
        ));
        let text = serde_json::to_string(&p).unwrap().replace(
            r#""email":{"units":1000000000"#,
            r#""email":{"units":340282366920938463463374607431768211455"#,
        );
        // a sum past 2^120 is refused when read, so observe's adds stay exact
        assert!(serde_json::from_str::<CreditPartial>(&text).is_err());
        let at_limit = serde_json::to_string(&p).unwrap().replace(
            r#""email":{"units":1000000000"#,
            &format!(r#""email":{{"units":{ACC_LIMIT}"#),
        );
        let mut full: CreditPartial = serde_json::from_str(&at_limit).unwrap();
        full.observe(&Linear, &j).unwrap();
        assert_eq!(
            full.finish().channels().lines()[0].conversion_units(),
            ACC_LIMIT + u128::from(CONVERSION_UNITS)
        );
        // but a merge that would pass the limit is an error, not a wrap
        let other = full.clone();
        assert!(matches!(full.merge(&other), Err(Error::Overflow { .. })));
    }

    #[test]
    fn largest_remainder_known_answer() {
        let mut out = vec![0; 3];
        let mut s = Vec::new();
        // 100 cents over 1/3 each: 34, 33, 33 (tie to the first)
        apportion_weighted(100, &[1.0, 1.0, 1.0], 3.0, &mut out, &mut s);
        assert_eq!(out, vec![34, 33, 33]);
        // 10 over 0.15, 0.25, 0.6 -> 1.5, 2.5, 6 -> floors 1,2,6 (9), leftover to first .5 tie
        apportion_weighted(10, &[0.15, 0.25, 0.6], 1.0, &mut out, &mut s);
        assert_eq!(out.iter().sum::<i64>(), 10);
        assert_eq!(out[2], 6);
        let mut eq = vec![0; 4];
        apportion_equal(7, &mut eq);
        assert_eq!(eq, vec![2, 2, 2, 1]);
    }

    /// The reference: sort by (fraction desc, index asc), hand out leftovers.
    fn apportion_by_sort(total: i64, weights: &[f64]) -> Vec<i64> {
        let sum: f64 = weights.iter().sum();
        let factor = total as f64 / sum;
        let mut out: Vec<i64> = weights
            .iter()
            .map(|w| ((w * factor).floor() as i64).clamp(0, total))
            .collect();
        let left = total - out.iter().sum::<i64>();
        let mut order: Vec<(f64, usize)> = weights
            .iter()
            .zip(&out)
            .enumerate()
            .map(|(i, (w, &o))| (w * factor - o as f64, i))
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for k in 0..left.max(0) as usize {
            out[order[k % order.len()].1] += 1;
        }
        out
    }

    #[test]
    fn small_path_matches_sorting() {
        let mut state = 12345_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut s = Vec::new();
        for _ in 0..2000 {
            let n = 1 + (next() % 30) as usize;
            let w: Vec<f64> = (0..n)
                .map(|_| match next() % 4 {
                    0 => 0.0,
                    1 => 1.0,
                    _ => (next() % 1000) as f64 / 7.0,
                })
                .collect();
            if w.iter().sum::<f64>() <= 0.0 {
                continue;
            }
            for total in [1_i64, 99, 12_345, 1_000_000_000] {
                let sum: f64 = w.iter().sum();
                let mut out = vec![0; n];
                apportion_weighted(total, &w, sum, &mut out, &mut s);
                assert_eq!(out, apportion_by_sort(total, &w), "{total} {w:?}");
            }
        }
    }

    #[test]
    fn apportion_always_sums() {
        let mut s = Vec::new();
        for total in [0_i64, 1, 7, 999_999, 1 << 52] {
            for w in [vec![1e-300, 1.0], vec![0.1; 7], vec![3.0, 0.0, 1e-9, 2.5]] {
                let sum: f64 = w.iter().sum();
                let mut out = vec![0; w.len()];
                apportion_weighted(total, &w, sum, &mut out, &mut s);
                assert_eq!(out.iter().sum::<i64>(), total, "{total} {w:?}");
                assert!(out.iter().all(|&x| x >= 0));
            }
        }
    }
}
