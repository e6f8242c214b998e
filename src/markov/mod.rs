//! Markov chain attribution of order k, solved exactly.
//!
//! # The model
//!
//! Each journey is a walk through states: a start state, one state per
//! sequence of the last `k` channels touched (at the start of a path a state
//! holds the shorter prefix, so `A > B > C` at order 2 visits `(A)`,
//! `(A,B)`, `(B,C)`), and the absorbing states *conversion* and *null*
//! (the journey ended without converting). Transition probabilities are the
//! observed transition counts over all journeys, converting and not,
//! normalized per state. Consecutive repeats of a channel are kept by
//! default (a self-transition at order 1); [`MarkovConfig::collapse_repeats`]
//! drops them first.
//!
//! `P(conversion)` is the probability of absorption in *conversion* from the
//! start state, solved exactly as a linear system (see below), never by
//! simulating random walks. The **removal effect** of channel `c` is
//!
//! ```text
//! RE(c) = 1 - P(conversion | c removed) / P(conversion)
//! ```
//!
//! where removing `c` sends every transition into a state that contains `c`
//! to *null*. Attributed conversions (and value) of `c` are
//! `total × RE(c) / Σ RE`, shared exactly in integer units by
//! [`ChannelCredits`].
//!
//! **Removal effects lie in `[0, 1]`.** With `x = (I - Q)⁻¹ r` written as the
//! Neumann series `Σ Qⁿ r` (all terms `>= 0`), removing states only zeroes
//! entries of `Q` and `r`, so every term, hence `x(start)`, can only
//! decrease: `0 <= P(conv | c removed) <= P(conv)`. The computed ratio is
//! clamped to `[0, 1]` so that rounding (at most a few ulps) can never show
//! as a negative credit.
//!
//! # Worked example (the textbook case)
//!
//! Three converting journeys `A > B > A > B > B > A`, `A > B > B > A > A`,
//! `A > A` at order 1. Every walk starts at `A`, so removing `A` leaves no
//! conversion: `RE(A) = 1`. Leaving `A`, the counts are `A→B` 3, `A→A` 2,
//! `A→conv` 3; with `B` removed the walk converts with probability
//! `(3/8) / (1 - 2/8) = 1/2`, so `RE(B) = 1/2`. Shares `1 : 1/2` of 3
//! conversions: `A = 2`, `B = 1` exactly (a simulating tool prints 1.991 /
//! 1.009).
//!
//! ```
//! use touchpoint::markov::{MarkovConfig, MarkovFit};
//!
//! let mut fit = MarkovFit::new(MarkovConfig::new(1)?);
//! fit.observe_path(&["A", "B", "A", "B", "B", "A"], 1, 100, 0)?;
//! fit.observe_path(&["A", "B", "B", "A", "A"], 1, 100, 0)?;
//! fit.observe_path(&["A", "A"], 1, 100, 0)?;
//! let model = fit.finish()?;
//! assert_eq!(model.conversion_probability(), 1.0);
//! assert_eq!(model.removal_effect("B"), Some(0.5));
//! let credits = model.credits()?;
//! assert_eq!(credits.get("A").unwrap().conversion_units(), 2_000_000_000);
//! assert_eq!(credits.get("B").unwrap().value_minor(), 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Solver
//!
//! The transient states are split into strongly connected components
//! (Tarjan) and solved one component at a time in reverse topological order,
//! so each component only sees values already final. A single state (with
//! its self-loop folded into the diagonal) is solved in closed form, a
//! component of at most 96 states by Gaussian elimination with partial
//! pivoting, a larger one by Gauss-Seidel sweeps started from zero (the
//! iterates then increase monotonically) until the largest change in a sweep
//! is at most `1e-15`; past 10⁶ sweeps the fit fails with
//! [`Error::NotConverged`]. Cost: one solve per channel plus one, each
//! `O(states + transitions)` for acyclic parts.
//!
//! # Fitting, merging, reproducing
//!
//! A [`MarkovFit`] holds integer transition counts keyed by channel
//! *names* (state keys pack local channel ids, remapped by name on
//! [`merge`](MarkovFit::merge) and in serialization), so memory grows with
//! the number of distinct states and transitions, never with journeys.
//! [`finish`](MarkovFit::finish) sorts channels by name and states by their
//! channel sequence before building the chain, so any partition of the data,
//! merged in any order, gives the same model bit for bit. Journeys and
//! aggregated paths feed the same counts: a journey is a path row with one
//! conversion or one null.
//!
//! Journeys with no touch do not enter the chain; their conversions and
//! value are reported as unassigned in [`ChannelCredits`] and counted in
//! [`Markov::empty_journeys`].

mod credits;
mod solve;
mod table;

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

pub use self::credits::{ChannelCredit, ChannelCredits};
use self::solve::Chain;
use self::table::{IndexMap64, mix64};
use crate::dataset::{JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::model::{AttributionModel, Weights};
use crate::money::{Currency, MAX_MINOR};

/// The crate's fixed, seedless 64-bit mixer (fmix64).
pub(crate) fn mix(k: u64) -> u64 {
    mix64(k)
}

/// Format version of serialized [`MarkovFit`]s.
pub const FORMAT_VERSION: u32 = 1;
/// The highest supported order.
pub const MAX_ORDER: u8 = 4;
/// The most distinct channels a fit can hold (state keys pack 16 bits per channel).
pub const MAX_CHANNELS: usize = 65_534;

const SYM_CONV: u32 = u32::MAX - 1;
const SYM_NULL: u32 = u32::MAX;
const LANE: u32 = 16;

/// Configuration of a Markov fit: order, repeat handling and currency.
///
/// # Example
///
/// ```
/// use touchpoint::markov::MarkovConfig;
///
/// let c = MarkovConfig::new(2)?.collapse_repeats(true);
/// assert_eq!(c.order(), 2);
/// assert!(MarkovConfig::new(0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MarkovConfigWire")]
pub struct MarkovConfig {
    order: u8,
    collapse_repeats: bool,
    currency: Currency,
}

/// The serialized form of a [`MarkovConfig`], whose order is checked as by
/// [`MarkovConfig::new`] when read (order 0 underflowed the state keys).
#[derive(Deserialize)]
struct MarkovConfigWire {
    order: u8,
    collapse_repeats: bool,
    currency: Currency,
}

impl TryFrom<MarkovConfigWire> for MarkovConfig {
    type Error = Error;
    fn try_from(w: MarkovConfigWire) -> Result<MarkovConfig> {
        Ok(MarkovConfig::new(w.order)?
            .collapse_repeats(w.collapse_repeats)
            .with_currency(w.currency))
    }
}

impl Default for MarkovConfig {
    /// Order 1, repeats kept, 2 decimals.
    fn default() -> MarkovConfig {
        MarkovConfig {
            order: 1,
            collapse_repeats: false,
            currency: Currency::default(),
        }
    }
}

impl MarkovConfig {
    /// Order `order` (1 to [`MAX_ORDER`]), repeats kept, 2 decimals.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `1 <= order <= 4`.
    pub fn new(order: u8) -> Result<MarkovConfig> {
        if !(1..=MAX_ORDER).contains(&order) {
            return Err(Error::param("order", order, "an integer from 1 to 4"));
        }
        Ok(MarkovConfig {
            order,
            ..MarkovConfig::default()
        })
    }

    /// Whether consecutive touches of the same channel collapse into one
    /// before counting. Default: `false` (repeats are self-transitions).
    #[must_use]
    pub fn collapse_repeats(self, collapse: bool) -> MarkovConfig {
        MarkovConfig {
            collapse_repeats: collapse,
            ..self
        }
    }

    /// The currency values are kept in (default: 2 decimals). Journeys
    /// observed must use the same.
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> MarkovConfig {
        MarkovConfig { currency, ..self }
    }

    /// The order `k`.
    pub fn order(&self) -> u8 {
        self.order
    }

    /// Whether repeats are collapsed.
    pub fn collapses_repeats(&self) -> bool {
        self.collapse_repeats
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// A string identifying the configuration and format version; partials
    /// with different fingerprints refuse to merge.
    pub fn fingerprint(&self) -> String {
        format!(
            "markov;v{FORMAT_VERSION};order={};collapse_repeats={};decimals={}",
            self.order,
            self.collapse_repeats,
            self.currency.decimals()
        )
    }
}

/// Number of channel lanes used in a packed state key.
#[inline]
fn lanes(key: u64) -> u32 {
    (64 - key.leading_zeros()).div_ceil(LANE)
}

/// Appends channel `c` to the packed state `key`, keeping the last `order`.
#[inline]
fn push_lane(key: u64, c: u32, order: u32) -> u64 {
    let v = u64::from(c + 1);
    let len = lanes(key);
    if len < order {
        key | (v << (LANE * len))
    } else {
        (key >> LANE) | (v << (LANE * (order - 1)))
    }
}

/// The channel ids of a packed key, oldest first.
fn unpack(key: u64) -> Vec<u32> {
    (0..lanes(key))
        .map(|i| {
            let v = ((key >> (LANE * i)) & 0xffff) as u32;
            v - 1
        })
        .collect()
}

fn pack(ids: &[u32]) -> u64 {
    ids.iter()
        .enumerate()
        .fold(0, |k, (i, &c)| k | (u64::from(c + 1) << (LANE * i as u32)))
}

/// Integer totals of a fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Totals {
    /// Journeys with at least one touch that converted.
    conversions: u64,
    /// Journeys with at least one touch that did not convert.
    nulls: u64,
    /// Value of `conversions`, minor units.
    value_minor: i128,
    /// Converted journeys with no touch.
    empty_conversions: u64,
    /// Non-converted journeys with no touch.
    empty_nulls: u64,
    /// Value of `empty_conversions`, minor units.
    empty_value_minor: i128,
}

impl Totals {
    fn merge(&mut self, o: &Totals) -> Result<()> {
        let ov = |what| Error::Overflow { what };
        self.conversions = self
            .conversions
            .checked_add(o.conversions)
            .ok_or(ov("conversion count"))?;
        self.nulls = self.nulls.checked_add(o.nulls).ok_or(ov("null count"))?;
        self.value_minor = self
            .value_minor
            .checked_add(o.value_minor)
            .ok_or(ov("total value"))?;
        self.empty_conversions = self
            .empty_conversions
            .checked_add(o.empty_conversions)
            .ok_or(ov("conversion count"))?;
        self.empty_nulls = self
            .empty_nulls
            .checked_add(o.empty_nulls)
            .ok_or(ov("null count"))?;
        self.empty_value_minor = self
            .empty_value_minor
            .checked_add(o.empty_value_minor)
            .ok_or(ov("total value"))?;
        Ok(())
    }

    fn journeys(&self) -> u64 {
        self.conversions
            .saturating_add(self.nulls)
            .saturating_add(self.empty_conversions)
            .saturating_add(self.empty_nulls)
    }
}

/// A partial Markov fit: integer transition counts over some journeys or
/// aggregated paths. The identity of [`merge`](Self::merge) is
/// [`MarkovFit::new`]; [`finish`](Self::finish) solves the chain.
///
/// Serializes (serde) to a name-keyed, sorted form with the format version
/// and configuration fingerprint; two fits compare equal when their
/// serialized forms do.
///
/// # Example: two shards, merged
///
/// ```
/// use touchpoint::markov::{MarkovConfig, MarkovFit};
///
/// let config = MarkovConfig::new(1)?;
/// let mut a = MarkovFit::new(config);
/// a.observe_path(&["C1", "C2", "C3"], 1, 10_000, 0)?;
/// let mut b = MarkovFit::new(config);
/// b.observe_path(&["C1"], 0, 0, 1)?;
/// b.observe_path(&["C2", "C3"], 0, 0, 1)?;
/// a.merge(&b)?;
/// let m = a.finish()?;
/// assert!((m.conversion_probability() - 1.0 / 3.0).abs() < 1e-15);
/// assert_eq!(m.removal_effect("C1"), Some(0.5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MarkovFit {
    config: MarkovConfig,
    names: Vec<String>,
    name_ix: HashMap<String, u32>,
    /// Packed state keys; index 0 is the start state (key 0).
    states: IndexMap64,
    /// `(state << 32) | symbol` -> transition index.
    trans: IndexMap64,
    counts: Vec<u64>,
    next: Vec<u32>,
    totals: Totals,
    /// Scratch: catalog id -> local id, for `observe_set`.
    cache: Vec<u32>,
    buf: Vec<u32>,
    /// Dense cache `(state, column) -> transition index` in rows of `wcap`
    /// columns (channels, then conversion and null), while it fits in
    /// [`DENSE_BUDGET`] cells; `wcap == 0` when off. Derived data only.
    dense: Vec<u32>,
    wcap: usize,
}

/// Most cells of the dense transition cache (16 MiB).
const DENSE_BUDGET: usize = 1 << 22;

impl PartialEq for MarkovFit {
    fn eq(&self, other: &MarkovFit) -> bool {
        self.wire() == other.wire()
    }
}

impl MarkovFit {
    /// An empty fit (the identity of [`merge`](Self::merge)).
    pub fn new(config: MarkovConfig) -> MarkovFit {
        let mut states = IndexMap64::default();
        states.insert_new(0);
        MarkovFit {
            config,
            names: Vec::new(),
            name_ix: HashMap::new(),
            states,
            trans: IndexMap64::default(),
            counts: Vec::new(),
            next: Vec::new(),
            totals: Totals::default(),
            cache: Vec::new(),
            buf: Vec::new(),
            dense: vec![u32::MAX; 16],
            wcap: 16,
        }
    }

    #[inline]
    fn col(&self, sym: u32) -> usize {
        match sym {
            SYM_CONV => self.wcap - 2,
            SYM_NULL => self.wcap - 1,
            c => c as usize,
        }
    }

    /// Rebuilds the dense cache with `wcap` columns (or turns it off).
    fn rebuild_dense(&mut self, wcap: usize) {
        self.dense.clear();
        if self.states.len().saturating_mul(wcap) > DENSE_BUDGET {
            self.wcap = 0;
            self.dense.shrink_to_fit();
            return;
        }
        self.wcap = wcap;
        self.dense.resize(self.states.len() * wcap, u32::MAX);
        for (e, &key) in self.trans.keys().iter().enumerate() {
            let s = (key >> 32) as usize;
            let c = self.col(key as u32);
            self.dense[s * wcap + c] = u32::try_from(e).unwrap_or(u32::MAX);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MarkovConfig {
        &self.config
    }

    /// Number of journeys observed (paths count their conversions plus nulls).
    pub fn journeys(&self) -> u64 {
        self.totals.journeys()
    }

    /// Number of distinct states seen, excluding the start state.
    pub fn state_count(&self) -> usize {
        self.states.len() - 1
    }

    /// Approximate heap bytes held.
    pub fn size_bytes(&self) -> usize {
        self.states.size_bytes()
            + self.trans.size_bytes()
            + self.counts.capacity() * 8
            + self.next.capacity() * 4
            + self
                .names
                .iter()
                .map(|n| n.capacity() * 2 + 64)
                .sum::<usize>()
            + self.cache.capacity() * 4
            + self.buf.capacity() * 4
            + self.dense.capacity() * 4
    }

    fn intern(&mut self, name: &str) -> Result<u32> {
        if let Some(&i) = self.name_ix.get(name) {
            return Ok(i);
        }
        if self.names.len() >= MAX_CHANNELS {
            return Err(Error::TooLarge {
                what: "distinct channels in a Markov fit",
                found: self.names.len() + 1,
                limit: MAX_CHANNELS,
            });
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.name_ix.insert(name.to_owned(), i);
        if self.wcap != 0 && self.names.len() + 2 > self.wcap {
            self.rebuild_dense(self.wcap * 2);
        }
        Ok(i)
    }

    /// Adds `w` to transition `(s, sym)`, creating it (and its target state)
    /// if new; returns the target state (`u32::MAX` for absorbing symbols).
    #[inline]
    fn add(&mut self, s: u32, sym: u32, w: u64) -> Result<u32> {
        if self.wcap != 0 {
            let e = self.dense[s as usize * self.wcap + self.col(sym)];
            if e != u32::MAX {
                let e = e as usize;
                self.counts[e] = self.counts[e].checked_add(w).ok_or(Error::Overflow {
                    what: "transition count",
                })?;
                return Ok(self.next[e]);
            }
        }
        self.add_slow(s, sym, w)
    }

    fn add_slow(&mut self, s: u32, sym: u32, w: u64) -> Result<u32> {
        let key = (u64::from(s) << 32) | u64::from(sym);
        if let Some(e) = self.trans.get(key) {
            let e = e as usize;
            self.counts[e] = self.counts[e].checked_add(w).ok_or(Error::Overflow {
                what: "transition count",
            })?;
            return Ok(self.next[e]);
        }
        let target = if sym >= SYM_CONV {
            u32::MAX
        } else {
            let k = push_lane(
                self.states.keys()[s as usize],
                sym,
                u32::from(self.config.order),
            );
            self.intern_state(k)
        };
        let e = self.trans.insert_new(key);
        self.counts.push(w);
        self.next.push(target);
        if self.wcap != 0 {
            let c = self.col(sym);
            self.dense[s as usize * self.wcap + c] = e;
        }
        Ok(target)
    }

    /// Interns a packed state key, growing the dense cache by a row.
    fn intern_state(&mut self, key: u64) -> u32 {
        let (s, new) = self.states.intern(key);
        if new && self.wcap != 0 {
            let rows = self.states.len();
            if rows.saturating_mul(self.wcap) > DENSE_BUDGET {
                self.wcap = 0;
                self.dense = Vec::new();
            } else {
                self.dense.resize(rows * self.wcap, u32::MAX);
            }
        }
        s
    }

    /// Feeds one path of local ids with its weights.
    #[inline(always)]
    fn step_fast(&mut self, s: u32, sym: u32, w: u64) -> Option<u32> {
        if self.wcap == 0 {
            return None;
        }
        let e = *self.dense.get(s as usize * self.wcap + self.col(sym))?;
        if e == u32::MAX {
            return None;
        }
        let e = e as usize;
        self.counts[e] = self.counts[e].checked_add(w)?;
        Some(self.next[e])
    }

    #[inline]
    fn feed<I: ExactSizeIterator<Item = u32>>(
        &mut self,
        ids: I,
        conversions: u64,
        nulls: u64,
        value: i64,
    ) -> Result<()> {
        let w = conversions.checked_add(nulls).ok_or(Error::Overflow {
            what: "path weight",
        })?;
        if ids.len() == 0 {
            let t = Totals {
                empty_conversions: conversions,
                empty_nulls: nulls,
                empty_value_minor: i128::from(value),
                ..Totals::default()
            };
            return self.totals.merge(&t);
        }
        if w == 0 {
            return Ok(());
        }
        let mut s = 0u32;
        let mut prev = u32::MAX;
        let collapse = self.config.collapse_repeats;
        for c in ids {
            if collapse && c == prev {
                continue;
            }
            prev = c;
            s = match self.step_fast(s, c, w) {
                Some(t) => t,
                None => self.add_slow(s, c, w)?,
            };
        }
        if conversions > 0 {
            self.add(s, SYM_CONV, conversions)?;
        }
        if nulls > 0 {
            self.add(s, SYM_NULL, nulls)?;
        }
        let t = &mut self.totals;
        match (
            t.conversions.checked_add(conversions),
            t.nulls.checked_add(nulls),
            t.value_minor.checked_add(i128::from(value)),
        ) {
            (Some(c), Some(n), Some(v)) => {
                (t.conversions, t.nulls, t.value_minor) = (c, n, v);
                Ok(())
            }
            _ => Err(Error::Overflow {
                what: "journey totals",
            }),
        }
    }

    fn check_currency(&self, currency: Currency) -> Result<()> {
        if currency == self.config.currency {
            Ok(())
        } else {
            Err(Error::param(
                "currency",
                format!("{} decimals", currency.decimals()),
                "the currency of the fit's configuration",
            ))
        }
    }

    /// Observes one journey of a [`JourneySet`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the journey's currency differs from
    /// the configuration's; [`Error::TooLarge`] past [`MAX_CHANNELS`]
    /// channels; [`Error::Overflow`] if a count overflows.
    pub fn observe(&mut self, journey: &JourneyView<'_>) -> Result<()> {
        self.check_currency(journey.currency())?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let r = (|| {
            for i in 0..journey.len() {
                buf.push(self.intern(journey.channel_name(i))?);
            }
            self.feed_journey(buf.iter().copied(), journey)
        })();
        self.buf = buf;
        r
    }

    #[inline]
    fn feed_journey<I: ExactSizeIterator<Item = u32>>(
        &mut self,
        ids: I,
        j: &JourneyView<'_>,
    ) -> Result<()> {
        if j.converted() {
            self.feed(ids, 1, 0, j.value_minor())
        } else {
            self.feed(ids, 0, 1, 0)
        }
    }

    /// Observes one journey of your own type (validated and sorted by time
    /// as [`JourneySet::push`] does).
    ///
    /// # Errors
    ///
    /// The journey's validation errors, and as [`observe`](Self::observe).
    pub fn observe_journey<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let mut set = JourneySet::with_currency(self.config.currency);
        set.push(journey)?;
        match set.get(0) {
            Some(v) => self.observe(&v),
            None => Ok(()),
        }
    }

    /// Observes every journey of `set` (the fast path: channel names are
    /// looked up once per set, not per touch).
    ///
    /// # Errors
    ///
    /// As [`observe`](Self::observe).
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        self.observe_range(set, 0, set.len())
    }

    fn observe_range(&mut self, set: &JourneySet, from: usize, to: usize) -> Result<()> {
        self.check_currency(set.currency())?;
        let cat = &set.catalog().channels;
        let mut cache = std::mem::take(&mut self.cache);
        cache.clear();
        let mut r = Ok(());
        for name in cat.iter() {
            match self.intern(name) {
                Ok(i) => cache.push(i),
                Err(e) => {
                    r = Err(e);
                    break;
                }
            }
        }
        if r.is_ok() {
            let (offsets, channels, converted, values) = set.fit_columns();
            let to = to.min(converted.len());
            for i in from..to {
                let ids = channels[offsets[i]..offsets[i + 1]]
                    .iter()
                    .map(|c| cache[c.index()]);
                r = if converted[i] {
                    self.feed(ids, 1, 0, values[i])
                } else {
                    self.feed(ids, 0, 1, 0)
                };
                if r.is_err() {
                    break;
                }
            }
        }
        self.cache = cache;
        r
    }

    /// Observes an aggregated path: the channel sequence, how many journeys
    /// with this path converted (and their total value in minor units) and
    /// how many did not. Equivalent, bit for bit, to observing the same
    /// journeys one by one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] if `value_minor` is negative or above
    /// [`MAX_MINOR`], or positive with no conversion;
    /// [`Error::InvalidJourney`] for an empty channel name; as
    /// [`observe`](Self::observe) otherwise.
    pub fn observe_path<S: AsRef<str>>(
        &mut self,
        path: &[S],
        conversions: u64,
        value_minor: i64,
        nulls: u64,
    ) -> Result<()> {
        validate_path(path, conversions, value_minor)?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let r = (|| {
            for c in path {
                buf.push(self.intern(c.as_ref())?);
            }
            self.feed(buf.iter().copied(), conversions, nulls, value_minor)
        })();
        self.buf = buf;
        r
    }

    /// Observes journeys given as Arrow-layout columns, with no copying of
    /// strings: journey `i` has touches `offsets[i]..offsets[i + 1]` of
    /// `codes` (indices into `names`, already in time order), converted flag
    /// `converted[i]` and value `values_minor[i]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the columns are inconsistent (lengths,
    /// decreasing or negative offsets, codes out of range); as
    /// [`observe_path`](Self::observe_path) for values.
    pub fn observe_columns(
        &mut self,
        offsets: &[i32],
        codes: &[u32],
        names: &[&str],
        converted: &[bool],
        values_minor: &[i64],
    ) -> Result<()> {
        let mut map = Vec::with_capacity(names.len());
        for name in names {
            if name.is_empty() {
                return Err(Error::param("names", "\"\"", "non-empty channel names"));
            }
            map.push(self.intern(name)?);
        }
        walk_columns(
            offsets,
            codes,
            names.len(),
            converted,
            values_minor,
            |path, conv, v| {
                let ids = path.iter().map(|&c| map[c as usize]);
                if conv {
                    self.feed(ids, 1, 0, v)
                } else {
                    self.feed(ids, 0, 1, 0)
                }
            },
        )
    }

    /// Adds `other`'s counts into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations differ;
    /// [`Error::Overflow`] if a count overflows; [`Error::TooLarge`] past
    /// [`MAX_CHANNELS`] channels.
    pub fn merge(&mut self, other: &MarkovFit) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatiblePartials {
                left: self.config.fingerprint(),
                right: other.config.fingerprint(),
            });
        }
        let mut remap = Vec::with_capacity(other.names.len());
        for n in &other.names {
            remap.push(self.intern(n)?);
        }
        let mut state_map = Vec::with_capacity(other.states.len());
        for &k in other.states.keys() {
            let ids: Vec<u32> = unpack(k).into_iter().map(|c| remap[c as usize]).collect();
            state_map.push(self.intern_state(pack(&ids)));
        }
        for (e, &key) in other.trans.keys().iter().enumerate() {
            let s = (key >> 32) as u32;
            let sym = key as u32;
            let sym = if sym >= SYM_CONV {
                sym
            } else {
                remap[sym as usize]
            };
            self.add(state_map[s as usize], sym, other.counts[e])?;
        }
        self.totals.merge(&other.totals)
    }

    /// The canonical form: channels used, sorted; states sorted by channel
    /// sequence (start first); transitions sorted by (from, symbol).
    fn canon(&self) -> Canon {
        let mut used = vec![false; self.names.len()];
        for &k in self.states.keys() {
            for c in unpack(k) {
                used[c as usize] = true;
            }
        }
        let mut order: Vec<u32> = (0..self.names.len())
            .filter(|&i| used[i])
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut to_canon = vec![u32::MAX; self.names.len()];
        for (ci, &l) in order.iter().enumerate() {
            to_canon[l as usize] = u32::try_from(ci).unwrap_or(u32::MAX);
        }
        let channels: Vec<String> = order
            .iter()
            .map(|&l| self.names[l as usize].clone())
            .collect();
        let seqs: Vec<Vec<u32>> = self
            .states
            .keys()
            .iter()
            .map(|&k| unpack(k).iter().map(|&c| to_canon[c as usize]).collect())
            .collect();
        let mut sorder: Vec<u32> = (0..seqs.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        sorder.sort_by(|&a, &b| seqs[a as usize].cmp(&seqs[b as usize]));
        let mut state_canon = vec![0u32; seqs.len()];
        for (ci, &l) in sorder.iter().enumerate() {
            state_canon[l as usize] = u32::try_from(ci).unwrap_or(u32::MAX);
        }
        let states: Vec<Vec<u32>> = sorder.iter().map(|&l| seqs[l as usize].clone()).collect();
        let mut edges: Vec<(u32, u32, u64)> = self
            .trans
            .keys()
            .iter()
            .enumerate()
            .map(|(e, &key)| {
                let s = (key >> 32) as u32;
                let sym = key as u32;
                let sym = if sym >= SYM_CONV {
                    sym
                } else {
                    to_canon[sym as usize]
                };
                (state_canon[s as usize], sym, self.counts[e])
            })
            .collect();
        edges.sort_unstable();
        Canon {
            channels,
            states,
            edges,
        }
    }

    fn wire(&self) -> Wire {
        let c = self.canon();
        let n = u32::try_from(c.channels.len()).unwrap_or(u32::MAX);
        Wire {
            version: FORMAT_VERSION,
            fingerprint: self.config.fingerprint(),
            config: self.config,
            transitions: c
                .edges
                .iter()
                .map(|&(s, sym, count)| WireEdge {
                    from: c.states[s as usize].clone(),
                    to: match sym {
                        SYM_CONV => n,
                        SYM_NULL => n + 1,
                        c => c,
                    },
                    count,
                })
                .collect(),
            channels: c.channels,
            totals: self.totals,
        }
    }

    fn from_wire(w: Wire) -> Result<MarkovFit> {
        let bad = |what: String| Error::InvalidParameter {
            parameter: "serialized Markov fit",
            value: what,
            expected: "a fit serialized by this version of touchpoint",
        };
        if w.version != FORMAT_VERSION || w.fingerprint != w.config.fingerprint() {
            return Err(bad(format!("version {} / {}", w.version, w.fingerprint)));
        }
        if w.config.order == 0 || w.config.order > MAX_ORDER {
            return Err(bad(format!("order {}", w.config.order)));
        }
        let mut fit = MarkovFit::new(w.config);
        for c in &w.channels {
            fit.intern(c)?;
        }
        // a repeated name would leave indices past the interned channels
        if fit.names.len() != w.channels.len() {
            return Err(bad("a repeated channel name".to_owned()));
        }
        let n = u32::try_from(w.channels.len()).unwrap_or(u32::MAX);
        for e in &w.transitions {
            if e.from.len() > usize::from(w.config.order)
                || e.from.iter().any(|&c| c >= n)
                || e.to > n + 1
                || e.count == 0
            {
                return Err(bad(format!("transition {:?} -> {}", e.from, e.to)));
            }
            let s = fit.intern_state(pack(&e.from));
            let sym = if e.to == n {
                SYM_CONV
            } else if e.to == n + 1 {
                SYM_NULL
            } else {
                e.to
            };
            fit.add(s, sym, e.count)?;
        }
        let t = &w.totals;
        if t.value_minor < 0 || t.empty_value_minor < 0 {
            return Err(bad("a negative total value".to_owned()));
        }
        fit.totals = w.totals;
        Ok(fit)
    }

    /// Solves the chain: conversion probability, removal effects, credits.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if no journey with touches was observed
    /// or none converted; [`Error::NotConverged`] if an iterative solve of a
    /// component larger than 96 states does not settle.
    pub fn finish(&self) -> Result<Markov> {
        let canon = self.canon();
        Markov::build(self.config, canon, self.totals)
    }
}

/// Fits a Markov model on every journey of `set` in one call.
///
/// # Errors
///
/// As [`MarkovFit::observe_set`] and [`MarkovFit::finish`].
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch, markov::{self, MarkovConfig}};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let a = SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(10.0);
/// let b = SimpleJourney::new("b").touch(SimpleTouch::new("display", t));
/// let m = markov::fit(&JourneySet::from_journeys([&a, &b])?, MarkovConfig::new(1)?)?;
/// assert_eq!(m.conversion_probability(), 0.5);
/// assert_eq!(m.removal_effect("email"), Some(1.0));
/// assert_eq!(m.removal_effect("display"), Some(0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit(set: &JourneySet, config: MarkovConfig) -> Result<Markov> {
    fit_partial(set, config)?.finish()
}

/// Counts every journey of `set` into a fresh [`MarkovFit`]. With the
/// `rayon` feature, fixed chunks of 16,384 journeys are counted in parallel
/// and merged in chunk order (the result is the same bit for bit).
///
/// # Errors
///
/// As [`MarkovFit::observe_set`].
pub fn fit_partial(set: &JourneySet, config: MarkovConfig) -> Result<MarkovFit> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 14;
        if set.len() > CHUNK {
            let chunks: Vec<usize> = (0..set.len().div_ceil(CHUNK)).collect();
            let parts: Vec<MarkovFit> = chunks
                .par_iter()
                .map(|&c| {
                    let mut f = MarkovFit::new(config);
                    f.observe_range(set, c * CHUNK, ((c + 1) * CHUNK).min(set.len()))?;
                    Ok(f)
                })
                .collect::<Result<_>>()?;
            let mut it = parts.into_iter();
            let mut acc = it.next().unwrap_or_else(|| MarkovFit::new(config));
            for p in it {
                acc.merge(&p)?;
            }
            return Ok(acc);
        }
    }
    let mut f = MarkovFit::new(config);
    f.observe_set(set)?;
    Ok(f)
}

/// Validates Arrow-layout journey columns and calls `f(codes, converted,
/// value)` per journey.
pub(crate) fn walk_columns(
    offsets: &[i32],
    codes: &[u32],
    names: usize,
    converted: &[bool],
    values_minor: &[i64],
    mut f: impl FnMut(&[u32], bool, i64) -> Result<()>,
) -> Result<()> {
    let n = converted.len();
    if offsets.len() != n + 1 || values_minor.len() != n {
        return Err(Error::param(
            "offsets",
            offsets.len(),
            "journeys + 1 offsets and one value per journey",
        ));
    }
    if let Some(&c) = codes.iter().find(|&&c| c as usize >= names) {
        return Err(Error::param("codes", c, "indices into names"));
    }
    for i in 0..n {
        let (a, b) = (offsets[i], offsets[i + 1]);
        let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
            return Err(Error::param("offsets", a.min(b), "non-negative offsets"));
        };
        if a > b || b > codes.len() {
            return Err(Error::param(
                "offsets",
                b,
                "non-decreasing offsets within codes",
            ));
        }
        let v = if converted[i] { values_minor[i] } else { 0 };
        if !(0..=MAX_MINOR).contains(&v) {
            return Err(Error::InvalidValue {
                journey: format!("#{i}"),
                #[expect(clippy::cast_precision_loss, reason = "message")]
                value: v as f64,
            });
        }
        f(&codes[a..b], converted[i], v)?;
    }
    Ok(())
}

pub(crate) fn validate_path<S: AsRef<str>>(
    path: &[S],
    conversions: u64,
    value_minor: i64,
) -> Result<()> {
    let label = || {
        path.iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(" > ")
    };
    if !(0..=MAX_MINOR).contains(&value_minor) || (conversions == 0 && value_minor != 0) {
        return Err(Error::InvalidValue {
            journey: label(),
            #[expect(clippy::cast_precision_loss, reason = "message")]
            value: value_minor as f64,
        });
    }
    if path.iter().any(|c| c.as_ref().is_empty()) {
        return Err(Error::InvalidJourney {
            journey: label(),
            reason: "empty channel name in path".into(),
        });
    }
    Ok(())
}

impl Serialize for MarkovFit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for MarkovFit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        MarkovFit::from_wire(w).map_err(serde::de::Error::custom)
    }
}

struct Canon {
    channels: Vec<String>,
    states: Vec<Vec<u32>>,
    edges: Vec<(u32, u32, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Wire {
    version: u32,
    fingerprint: String,
    config: MarkovConfig,
    channels: Vec<String>,
    transitions: Vec<WireEdge>,
    totals: Totals,
}

/// One transition: from a state (channel indices, oldest first) by a
/// symbol (a channel index; `channels.len()` = conversion, `+ 1` = null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WireEdge {
    from: Vec<u32>,
    to: u32,
    count: u64,
}

/// Where a transition goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// A transient state: its channel sequence, oldest first.
    State(Vec<String>),
    /// The absorbing conversion state.
    Conversion,
    /// The absorbing null state (no conversion).
    Null,
}

/// One row of the transition matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The source state's channel sequence, oldest first (empty = start).
    pub from: Vec<String>,
    /// The target.
    pub to: Target,
    /// Observed transitions (journeys).
    pub count: u64,
    /// `count / Σ counts out of from`.
    pub probability: f64,
}

/// A fitted Markov model: transition matrix, base conversion probability,
/// removal effects, and channel credit. Implements [`AttributionModel`]:
/// each converting journey's value is shared among its own channels in
/// proportion to their removal effects (a channel touched twice splits its
/// weight between its touches), so campaign and content reports reconcile
/// too. A journey whose channels all have zero removal effect is shared
/// equally.
#[derive(Debug, Clone, PartialEq)]
pub struct Markov {
    config: MarkovConfig,
    channels: Vec<String>,
    states: Vec<Vec<u32>>,
    edges: Vec<(u32, u32, u64)>,
    row_totals: Vec<u64>,
    chain: Chain,
    p_conversion: f64,
    removal: Vec<f64>,
    totals: Totals,
    fingerprint: String,
}

impl Markov {
    fn build(config: MarkovConfig, canon: Canon, totals: Totals) -> Result<Markov> {
        let Canon {
            channels,
            states,
            edges,
        } = canon;
        let n = states.len();
        let mut row_totals = vec![0u64; n];
        for &(s, _, c) in &edges {
            let r = &mut row_totals[s as usize];
            *r = r.checked_add(c).ok_or(Error::Overflow {
                what: "transition count",
            })?;
        }
        if row_totals.first().copied().unwrap_or(0) == 0 {
            return Err(Error::InsufficientData {
                reason: "markov: no journey with touches was observed".into(),
            });
        }
        // target state of a channel symbol: push_lane on the canonical seq
        let index: HashMap<&[u32], u32> = states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_slice(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let order = usize::from(config.order);
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        let mut p_conv = vec![0.0; n];
        let mut p_self = vec![0.0; n];
        let mut targets = Vec::with_capacity(edges.len());
        let mut seq = Vec::with_capacity(order + 1);
        for &(s, sym, c) in &edges {
            let su = s as usize;
            #[expect(clippy::cast_precision_loss, reason = "probabilities")]
            let p = c as f64 / row_totals[su] as f64;
            match sym {
                SYM_CONV => {
                    p_conv[su] = p;
                    targets.push(SYM_CONV);
                }
                SYM_NULL => targets.push(SYM_NULL),
                ch => {
                    seq.clear();
                    seq.extend_from_slice(&states[su]);
                    seq.push(ch);
                    if seq.len() > order {
                        seq.remove(0);
                    }
                    let t = *index
                        .get(seq.as_slice())
                        .ok_or_else(|| Error::InvalidParameter {
                            parameter: "serialized Markov fit",
                            value: format!("transition {:?} -> {ch}", states[su]),
                            expected: "a consistent set of states",
                        })?;
                    targets.push(t);
                    if t == s {
                        p_self[su] = p;
                    } else {
                        rows[su].push((t, p));
                    }
                }
            }
        }
        drop(index);
        let chain = Chain::new(rows, p_conv, p_self);
        let base = chain.solve(&vec![false; n])?;
        let p_conversion = base[0];
        if p_conversion <= 0.0 {
            return Err(Error::InsufficientData {
                reason: "markov: no journey with touches converted".into(),
            });
        }
        let contains = |c: u32| -> Vec<bool> { states.iter().map(|s| s.contains(&c)).collect() };
        let one = |c: u32| -> Result<f64> {
            let x = chain.solve(&contains(c))?;
            Ok((1.0 - x[0] / p_conversion).clamp(0.0, 1.0))
        };
        let ids: Vec<u32> = (0..channels.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        #[cfg(feature = "rayon")]
        let removal: Vec<f64> = {
            use rayon::prelude::*;
            ids.par_iter().map(|&c| one(c)).collect::<Result<_>>()?
        };
        #[cfg(not(feature = "rayon"))]
        let removal: Vec<f64> = ids.iter().map(|&c| one(c)).collect::<Result<_>>()?;
        let mut fingerprint = config.fingerprint();
        for r in &removal {
            fingerprint.push_str(&format!(";{:016x}", r.to_bits()));
        }
        let mut edges = edges;
        for (e, t) in edges.iter_mut().zip(targets) {
            e.1 = t;
        }
        Ok(Markov {
            config,
            channels,
            states,
            edges,
            row_totals,
            chain,
            p_conversion,
            removal,
            totals,
            fingerprint,
        })
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &MarkovConfig {
        &self.config
    }

    /// The channels, sorted by name.
    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// `P(conversion)` from the start state.
    pub fn conversion_probability(&self) -> f64 {
        self.p_conversion
    }

    /// Removal effects per channel, sorted by channel name, each in `[0, 1]`.
    pub fn removal_effects(&self) -> Vec<(&str, f64)> {
        self.channels
            .iter()
            .map(String::as_str)
            .zip(self.removal.iter().copied())
            .collect()
    }

    /// The removal effect of `channel`, if it was seen.
    pub fn removal_effect(&self, channel: &str) -> Option<f64> {
        self.channel_index(channel).map(|i| self.removal[i])
    }

    fn channel_index(&self, channel: &str) -> Option<usize> {
        self.channels
            .binary_search_by(|c| c.as_str().cmp(channel))
            .ok()
    }

    /// Number of transient states (channel sequences), excluding the start.
    pub fn state_count(&self) -> usize {
        self.states.len() - 1
    }

    /// Size of the largest strongly connected set of states (1 when the
    /// chain has no loop but self-loops).
    pub fn largest_loop(&self) -> usize {
        self.chain.largest_component()
    }

    /// Journeys observed, with or without touches.
    pub fn journeys(&self) -> u64 {
        self.totals.journeys()
    }

    /// Converted journeys with at least one touch.
    pub fn conversions(&self) -> u64 {
        self.totals.conversions
    }

    /// Their total value, minor units.
    pub fn value_minor(&self) -> i128 {
        self.totals.value_minor
    }

    /// Journeys with no touch (`(converted, not converted)`); they are not
    /// in the chain, and converted ones are reported as unassigned.
    pub fn empty_journeys(&self) -> (u64, u64) {
        (self.totals.empty_conversions, self.totals.empty_nulls)
    }

    fn state_names(&self, s: usize) -> Vec<String> {
        self.states[s]
            .iter()
            .map(|&c| self.channels[c as usize].clone())
            .collect()
    }

    /// The transition matrix, row by row: sources in canonical order (start
    /// first, then channel sequences sorted by name), targets sorted.
    pub fn transitions(&self) -> Vec<Transition> {
        self.edges
            .iter()
            .map(|&(s, t, count)| {
                let su = s as usize;
                #[expect(clippy::cast_precision_loss, reason = "probabilities")]
                let probability = count as f64 / self.row_totals[su] as f64;
                Transition {
                    from: self.state_names(su),
                    to: match t {
                        SYM_CONV => Target::Conversion,
                        SYM_NULL => Target::Null,
                        t => Target::State(self.state_names(t as usize)),
                    },
                    count,
                    probability,
                }
            })
            .collect()
    }

    /// The removal effect of a channel *sequence* (`["paid_social",
    /// "email"]` for `paid_social > email`): every state whose channel
    /// sequence contains it consecutively is sent to null. A sequence of
    /// one channel gives [`removal_effect`](Self::removal_effect).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `1 <= sequence.len() <= order`;
    /// [`Error::UnknownName`] for a channel not seen; as
    /// [`MarkovFit::finish`] for the solve.
    pub fn sequence_removal_effect<S: AsRef<str>>(&self, sequence: &[S]) -> Result<f64> {
        if sequence.is_empty() || sequence.len() > usize::from(self.config.order) {
            return Err(Error::param(
                "sequence",
                sequence.len(),
                "between 1 and the order channels",
            ));
        }
        let mut ids = Vec::with_capacity(sequence.len());
        for c in sequence {
            let c = c.as_ref();
            let i = self.channel_index(c).ok_or_else(|| Error::UnknownName {
                kind: "channel",
                name: c.to_owned(),
            })?;
            ids.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        self.seq_effect(&ids)
    }

    fn seq_effect(&self, ids: &[u32]) -> Result<f64> {
        let removed: Vec<bool> = self
            .states
            .iter()
            .map(|s| s.windows(ids.len()).any(|w| w == ids))
            .collect();
        let x = self.chain.solve(&removed)?;
        Ok((1.0 - x[0] / self.p_conversion).clamp(0.0, 1.0))
    }

    /// Removal effects of every channel sequence of length `len` found in a
    /// state (so `2 <= len <= order` is useful), sorted by sequence.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `1 <= len <= order`; as
    /// [`MarkovFit::finish`] for the solves.
    pub fn sequence_removal_effects(&self, len: usize) -> Result<Vec<(Vec<String>, f64)>> {
        if len == 0 || len > usize::from(self.config.order) {
            return Err(Error::param("len", len, "between 1 and the order"));
        }
        let seqs: BTreeSet<&[u32]> = self.states.iter().flat_map(|s| s.windows(len)).collect();
        let seqs: Vec<&[u32]> = seqs.into_iter().collect();
        #[cfg(feature = "rayon")]
        let effects: Vec<f64> = {
            use rayon::prelude::*;
            seqs.par_iter()
                .map(|s| self.seq_effect(s))
                .collect::<Result<_>>()?
        };
        #[cfg(not(feature = "rayon"))]
        let effects: Vec<f64> = seqs
            .iter()
            .map(|s| self.seq_effect(s))
            .collect::<Result<_>>()?;
        Ok(seqs
            .iter()
            .zip(effects)
            .map(|(s, e)| {
                (
                    s.iter()
                        .map(|&c| self.channels[c as usize].clone())
                        .collect(),
                    e,
                )
            })
            .collect())
    }

    /// Attributed conversions and value per channel:
    /// `total × RE(c) / Σ RE`, exact in integer units.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if every removal effect is 0;
    /// [`Error::Overflow`] if the totals do not fit in `i64` units.
    pub fn credits(&self) -> Result<ChannelCredits> {
        ChannelCredits::share(
            "markov".into(),
            self.config.currency,
            &self.channels,
            &self.removal,
            self.totals.conversions,
            self.totals.value_minor,
            self.totals.empty_conversions,
            self.totals.empty_value_minor,
        )
    }
}

impl AttributionModel for Markov {
    fn name(&self) -> &str {
        "markov"
    }

    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        per_channel_weights(journey, out, |name| {
            self.channel_index(name).map_or(0.0, |i| self.removal[i])
        });
        Ok(())
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

/// Fills `out` with `weight(channel) / occurrences(channel)` per touch, or
/// equal weights when all are zero.
pub(crate) fn per_channel_weights(
    journey: &JourneyView<'_>,
    out: &mut Weights,
    weight: impl Fn(&str) -> f64,
) {
    let ch = journey.channels();
    let w = out.weighted();
    w.clear();
    let mut sum = 0.0;
    for (i, c) in ch.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "journey lengths are small")]
        let occ = ch.iter().filter(|d| *d == c).count() as f64;
        let x = weight(journey.channel_name(i)) / occ;
        let x = if x.is_finite() && x > 0.0 { x } else { 0.0 };
        sum += x;
        w.push(x);
    }
    if sum <= 0.0 {
        out.equal();
    }
}

/// The result of [`select_order`]: held-out scores per order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSelection {
    /// `(order, mean held-out log-likelihood per journey)`; order 0 is the
    /// baseline that predicts the overall conversion rate.
    pub scores: Vec<(u8, f64)>,
    /// The order with the highest score (the lowest order on ties).
    pub recommended: u8,
    /// Journeys fitted on.
    pub train_journeys: u64,
    /// Journeys scored.
    pub test_journeys: u64,
}

/// Whether a journey id falls in the held-out fifth.
fn held_out(id: &str) -> bool {
    // FNV-1a, then the fmix64 finalizer: fixed, seedless, platform-independent
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h) % 5 == 0
}

/// Recommends a Markov order by held-out log-likelihood of conversion.
///
/// Criterion: journeys whose id hashes (FNV-1a then fmix64) to 0 mod 5 are
/// held out (a fixed split, independent of order or partition); the rest fit
/// a chain of each order `1..=max_order`. For each held-out journey with
/// touches, the chain predicts the conversion probability of the path's
/// final state, `q = (conv + ½) / (conv + null + 1)` from that state's
/// absorbing counts, backing off to shorter suffixes of the path when the
/// state was never seen, then to the overall rate. The score of an order is
/// the mean of `y ln q + (1 - y) ln(1 - q)` (higher is better); order 0 (the
/// overall rate) is reported as a baseline. The recommendation is the best
/// order, the lower one on ties.
///
/// # Errors
///
/// [`Error::InvalidParameter`] unless `1 <= max_order <= 4`;
/// [`Error::InsufficientData`] if either side of the split has no journey
/// with touches or the training side has no conversion.
pub fn select_order(
    set: &JourneySet,
    max_order: u8,
    collapse_repeats: bool,
) -> Result<OrderSelection> {
    MarkovConfig::new(max_order)?;
    let test: Vec<bool> = set.iter().map(|j| held_out(j.id())).collect();
    let mut fits = Vec::new();
    for k in 1..=max_order {
        let mut f = MarkovFit::new(
            MarkovConfig::new(k)?
                .collapse_repeats(collapse_repeats)
                .with_currency(set.currency()),
        );
        for (j, &t) in set.iter().zip(&test) {
            if !t {
                f.observe(&j)?;
            }
        }
        fits.push(f);
    }
    let train = fits[0].totals;
    if train.conversions == 0 {
        return Err(Error::InsufficientData {
            reason: "select_order: no conversion in the training split".into(),
        });
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let base = (train.conversions as f64 + 0.5) / ((train.conversions + train.nulls) as f64 + 1.0);
    let mut sums = vec![0.0; usize::from(max_order) + 1];
    let mut scored = 0u64;
    let mut path = Vec::new();
    for (j, &t) in set.iter().zip(&test) {
        if !t || j.is_empty() {
            continue;
        }
        scored += 1;
        let y = j.converted();
        let ll = |q: f64| if y { q.ln() } else { (1.0 - q).ln() };
        sums[0] += ll(base);
        for (k, f) in fits.iter().enumerate() {
            path.clear();
            let mut prev = None;
            for i in 0..j.len() {
                let id = f.name_ix.get(j.channel_name(i)).copied();
                if collapse_repeats && prev == Some(id) {
                    continue;
                }
                prev = Some(id);
                path.push(id);
            }
            let state_len = path.len().min(k + 1);
            let mut q = base;
            for l in (1..=state_len).rev() {
                let suffix = &path[path.len() - l..];
                let Some(ids) = suffix.iter().copied().collect::<Option<Vec<u32>>>() else {
                    continue;
                };
                let Some(s) = f.states.get(pack(&ids)) else {
                    continue;
                };
                let get = |sym: u32| {
                    f.trans
                        .get((u64::from(s) << 32) | u64::from(sym))
                        .map_or(0, |e| f.counts[e as usize])
                };
                let (c, m) = (get(SYM_CONV), get(SYM_NULL));
                if c + m > 0 {
                    #[expect(clippy::cast_precision_loss, reason = "rates")]
                    let v = (c as f64 + 0.5) / ((c + m) as f64 + 1.0);
                    q = v;
                    break;
                }
            }
            sums[k + 1] += ll(q);
        }
    }
    if scored == 0 {
        return Err(Error::InsufficientData {
            reason: "select_order: no held-out journey with touches".into(),
        });
    }
    #[expect(clippy::cast_precision_loss, reason = "means")]
    let scores: Vec<(u8, f64)> = sums
        .iter()
        .enumerate()
        .map(|(k, s)| (u8::try_from(k).unwrap_or(0), s / scored as f64))
        .collect();
    let mut recommended = 1;
    let mut best = f64::NEG_INFINITY;
    for &(k, s) in &scores[1..] {
        if s > best {
            best = s;
            recommended = k;
        }
    }
    Ok(OrderSelection {
        scores,
        recommended,
        train_journeys: train.journeys(),
        test_journeys: scored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_read_checks_the_order() {
        let c = MarkovConfig::new(3).unwrap().collapse_repeats(true);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<MarkovConfig>(&text).unwrap(), c);
        for order in ["0", "5", "255"] {
            let bad = text.replace("\"order\":3", &format!("\"order\":{order}"));
            assert!(serde_json::from_str::<MarkovConfig>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packing_round_trips() {
        let mut k = 0;
        for c in [3, 5, 7, 9, 11] {
            k = push_lane(k, c, 3);
        }
        assert_eq!(unpack(k), vec![7, 9, 11]);
        assert_eq!(pack(&[7, 9, 11]), k);
        assert_eq!(unpack(push_lane(0, 0, 4)), vec![0]);
    }

    #[test]
    fn toy3_order2_states() {
        let mut f = MarkovFit::new(MarkovConfig::new(2).unwrap());
        f.observe_path(&["C1", "C2", "C3"], 1, 100, 0).unwrap();
        f.observe_path(&["C1"], 0, 0, 1).unwrap();
        f.observe_path(&["C2", "C3"], 0, 0, 1).unwrap();
        let m = f.finish().unwrap();
        assert_eq!(m.state_count(), 4);
        assert!((m.conversion_probability() - 1.0 / 3.0).abs() < 1e-15);
    }
}

#[cfg(test)]
mod dense_tests {
    use super::*;

    fn feed_all(f: &mut MarkovFit, n: u64) {
        let mut s = 7u64;
        for _ in 0..n {
            s = mix64(s.wrapping_add(1));
            let len = 1 + (s % 6) as usize;
            let path: Vec<String> = (0..len)
                .map(|i| format!("c{}", mix64(s ^ i as u64) % 40))
                .collect();
            f.observe_path(&path, s % 2, 0, 1 - s % 2).unwrap();
        }
    }

    #[test]
    fn dense_cache_changes_nothing() {
        let config = MarkovConfig::new(3).unwrap();
        let mut a = MarkovFit::new(config);
        feed_all(&mut a, 3000);
        let mut b = MarkovFit::new(config);
        b.wcap = 0;
        b.dense.clear();
        feed_all(&mut b, 3000);
        assert!(a.wcap != 0);
        assert_eq!(a, b);
        assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        // merging into a fit whose cache is off, and the reverse
        let mut c = MarkovFit::new(config);
        c.merge(&b).unwrap();
        assert_eq!(c, a);
        let mut d = b.clone();
        d.merge(&a).unwrap();
        let mut e = a.clone();
        e.merge(&b).unwrap();
        assert_eq!(d, e);
    }
}
