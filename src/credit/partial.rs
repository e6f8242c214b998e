//! [`CreditConfig`] and the mergeable [`CreditPartial`].

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::credit::CONVERSION_UNITS;
use crate::credit::apportion::Crediter;
use crate::credit::names::NameTable;
use crate::credit::report::Report;
use crate::credit::wire::{NamedDim, NamedPartial};
use crate::dataset::{
    Catalog, ChannelId, InternedTouch, Interner, JourneySet, JourneyView, NONE_ID,
};
use crate::error::{Error, Result};
#[cfg(test)]
use crate::journey::SimpleJourney;
use crate::journey::{Journey, Outcome};
use crate::model::{AttributionModel, CreditKind, Shape};
use crate::models::ModelSpec;
use crate::money::{Currency, MAX_MINOR};
#[cfg(test)]
use crate::touchpoint::SimpleTouch;
use crate::touchpoint::{Milestone, Touchpoint};

/// Format version of serialized partials.
pub(crate) const PARTIAL_VERSION: u32 = 1;

/// One conversion in [`CONVERSION_UNITS`], as the `i64` the engine adds.
#[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
const UNITS: i64 = CONVERSION_UNITS as i64;

/// Which breakdowns a [`CreditPartial`] computes besides channels (always
/// computed).
///
/// Campaign and content breakdowns cost two more sums per credited touch;
/// a caller that reads only channels asks for [`Breakdowns::CHANNELS`]. A
/// breakdown that was not computed is empty in the [`Report`] (no line, a
/// zero unassigned bucket) and [`Report::breakdowns`] says so.
///
/// # Example
///
/// ```
/// use touchpoint::{Breakdowns, CreditConfig, CreditPartial, JourneyAggregate};
/// use touchpoint::{SimpleJourney, SimpleTouch, models::Linear};
///
/// let config = CreditConfig::new(Linear).with_breakdowns(Breakdowns::CHANNELS);
/// let mut p = CreditPartial::new(config);
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// p.observe(&SimpleJourney::new("a").touch(SimpleTouch::new("email", t).campaign("q1")).converted(1.0))?;
/// let r = p.finish();
/// assert_eq!(r.channels().get("email").unwrap().value_minor(), 100);
/// assert!(r.campaigns().lines().is_empty() && !r.breakdowns().campaigns());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Breakdowns {
    campaigns: bool,
    contents: bool,
}

impl Breakdowns {
    /// Channels, campaigns and content assets (the default).
    pub const ALL: Breakdowns = Breakdowns {
        campaigns: true,
        contents: true,
    };
    /// Channels only.
    pub const CHANNELS: Breakdowns = Breakdowns {
        campaigns: false,
        contents: false,
    };

    /// Channels, plus campaigns and content assets as asked.
    pub const fn new(campaigns: bool, contents: bool) -> Breakdowns {
        Breakdowns {
            campaigns,
            contents,
        }
    }

    /// Whether every breakdown is computed.
    pub(crate) fn is_all(&self) -> bool {
        *self == Breakdowns::ALL
    }

    /// Whether the campaign breakdown is computed.
    pub const fn campaigns(self) -> bool {
        self.campaigns
    }

    /// Whether the content breakdown is computed.
    pub const fn contents(self) -> bool {
        self.contents
    }
}

impl Default for Breakdowns {
    /// [`Breakdowns::ALL`].
    fn default() -> Breakdowns {
        Breakdowns::ALL
    }
}

/// What a [`CreditPartial`] is made from: the model, the currency amounts
/// are kept in, and the breakdowns to compute.
///
/// The model is held behind an `Arc`, so configs and partials clone
/// cheaply. Built-in models also carry their [`ModelSpec`]: a partial
/// serialized on one machine is rebuilt with its model on another (see
/// [`CreditPartial`] for models without a spec).
///
/// # Example
///
/// ```
/// use touchpoint::{CreditConfig, Currency, models::TimeDecay};
///
/// let config = CreditConfig::new(TimeDecay::with_half_life_days(3.0)?)
///     .with_currency(Currency::new(0)?);
/// assert_eq!(config.model_name(), "time_decay");
/// assert!(config.spec().is_some());
/// let by_name = CreditConfig::by_name("j_shaped")?;
/// assert_eq!(by_name.model_name(), "j_shaped");
/// # Ok::<(), touchpoint::Error>(())
/// ```
#[derive(Clone)]
pub struct CreditConfig {
    model: Option<Arc<dyn AttributionModel>>,
    spec: Option<ModelSpec>,
    name: String,
    model_fingerprint: String,
    kind: CreditKind,
    currency: Currency,
    breakdowns: Breakdowns,
}

impl fmt::Debug for CreditConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreditConfig")
            .field("model", &self.model_fingerprint)
            .field("attached", &self.model.is_some())
            .field("spec", &self.spec)
            .field("currency", &self.currency)
            .field("breakdowns", &self.breakdowns)
            .finish()
    }
}

impl CreditConfig {
    /// A config for `model`, in the default currency, every breakdown.
    pub fn new<M: AttributionModel + 'static>(model: M) -> CreditConfig {
        CreditConfig::from_arc(Arc::new(model))
    }

    /// A config for a shared model (for example a fitted model, or a
    /// `Box<dyn AttributionModel>` turned into an `Arc` with `Arc::from`).
    pub fn from_arc(model: Arc<dyn AttributionModel>) -> CreditConfig {
        CreditConfig {
            spec: model.spec(),
            name: model.name().to_owned(),
            model_fingerprint: model.fingerprint(),
            kind: model.kind(),
            model: Some(model),
            currency: Currency::default(),
            breakdowns: Breakdowns::ALL,
        }
    }

    /// A config for the model `spec` describes.
    ///
    /// # Errors
    ///
    /// As [`ModelSpec::build`].
    pub fn from_spec(spec: &ModelSpec) -> Result<CreditConfig> {
        let model: Arc<dyn AttributionModel> = Arc::from(spec.build()?);
        Ok(CreditConfig::from_arc(model))
    }

    /// A config for the default configuration of the model named `name`
    /// (see [`ModelSpec::from_name`]).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for a name that is not a rule-based model.
    pub fn by_name(name: &str) -> Result<CreditConfig> {
        CreditConfig::from_spec(&ModelSpec::from_name(name)?)
    }

    /// A config for a model borrowed for the call only: attached (rebuilt
    /// from its spec) when the model has one, detached otherwise.
    pub(crate) fn borrowed<M: AttributionModel + ?Sized>(model: &M) -> CreditConfig {
        let spec = model.spec();
        let rebuilt: Option<Arc<dyn AttributionModel>> = spec
            .as_ref()
            .and_then(|s| s.build().ok())
            .filter(|m| m.fingerprint() == model.fingerprint())
            .map(Arc::from);
        CreditConfig {
            model: rebuilt,
            spec,
            name: model.name().to_owned(),
            model_fingerprint: model.fingerprint(),
            kind: model.kind(),
            currency: Currency::default(),
            breakdowns: Breakdowns::ALL,
        }
    }

    /// The same config with amounts in `currency`.
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> CreditConfig {
        CreditConfig { currency, ..self }
    }

    /// The same config computing only `breakdowns`.
    #[must_use]
    pub fn with_breakdowns(self, breakdowns: Breakdowns) -> CreditConfig {
        CreditConfig { breakdowns, ..self }
    }

    /// The model, when attached (always, unless the config came from a
    /// deserialized partial of a model without a [`ModelSpec`]).
    pub fn model(&self) -> Option<&dyn AttributionModel> {
        self.model.as_deref()
    }

    /// The model's [`ModelSpec`], for built-in models.
    pub fn spec(&self) -> Option<&ModelSpec> {
        self.spec.as_ref()
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// The model's fingerprint ([`AttributionModel::fingerprint`]).
    pub fn model_fingerprint(&self) -> &str {
        &self.model_fingerprint
    }

    /// The currency amounts are kept in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The breakdowns computed.
    pub fn breakdowns(&self) -> Breakdowns {
        self.breakdowns
    }

    /// The fingerprint of partials made from this config: format version,
    /// model fingerprint, currency decimals and (when not every breakdown)
    /// the breakdowns. Partials merge only when their fingerprints agree.
    pub fn fingerprint(&self) -> String {
        let mut fp = format!(
            "v{PARTIAL_VERSION};{};decimals={}",
            self.model_fingerprint,
            self.currency.decimals()
        );
        if self.breakdowns != Breakdowns::ALL {
            fp.push_str(&format!(
                ";campaigns={},contents={}",
                self.breakdowns.campaigns, self.breakdowns.contents
            ));
        }
        fp
    }

    /// The config a deserialized partial carries: the model rebuilt from
    /// its spec (and checked against the fingerprint), or detached.
    pub(crate) fn from_wire(
        name: String,
        model_fingerprint: String,
        kind: CreditKind,
        spec: Option<ModelSpec>,
        currency: Currency,
        breakdowns: Breakdowns,
    ) -> Result<CreditConfig> {
        let model = match &spec {
            Some(s) => {
                let m: Arc<dyn AttributionModel> = Arc::from(s.build()?);
                if m.fingerprint() != model_fingerprint || m.name() != name || m.kind() != kind {
                    return Err(Error::param(
                        "credit_partial",
                        format!("spec {s} builds {:?}", m.fingerprint()),
                        "a model spec that builds the partial's model",
                    ));
                }
                Some(m)
            }
            None => None,
        };
        Ok(CreditConfig {
            model,
            spec,
            name,
            model_fingerprint,
            kind,
            currency,
            breakdowns,
        })
    }
}

/// Integer sums for one line of a breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Acc {
    pub(crate) units: u128,
    pub(crate) value: i128,
}

/// The largest magnitude an [`Acc`] may hold outside `observe`: 2^120.
///
/// Merges, aggregated rows and deserialization refuse sums above it, so the
/// unchecked per-touch adds of `observe` cannot overflow: one touch adds at
/// most 2^53 minor units (or 10^9 conversion units), and no partial can
/// observe anywhere near 2^64 touches, so a sum stays below
/// 2^120 + 2^117 < 2^127.
pub(crate) const ACC_LIMIT: u128 = 1 << 120;

impl Acc {
    /// Adds one touch's credit. Unchecked on purpose, on the hot path: see
    /// [`ACC_LIMIT`] for why it cannot overflow.
    #[inline]
    fn add(&mut self, units: i64, value: i64) {
        // credited units are never negative: reinterpreting is exact
        #[expect(clippy::cast_sign_loss, reason = "units >= 0")]
        let units = units as u64;
        self.units += u128::from(units);
        self.value += i128::from(value);
    }

    /// Whether both sums are within [`ACC_LIMIT`].
    pub(crate) fn within_limit(&self) -> bool {
        self.units <= ACC_LIMIT && self.value.unsigned_abs() <= ACC_LIMIT
    }

    /// Adds `other`, refusing a sum past [`ACC_LIMIT`].
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`].
    pub(crate) fn checked_merge(&mut self, other: &Acc) -> Result<()> {
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

/// Sums for one breakdown (channel, campaign or content), keyed by the
/// local ids of the partial's catalog.
///
/// Slot 0 is the unassigned bucket and slot `id + 1` the line of local id
/// `id`: the "no campaign" sentinel [`NONE_ID`] (`u32::MAX`) wraps to slot
/// 0, so adding a touch's credit is one indexed add, without a branch on
/// whether the touch names a campaign (a branch that is taken at random on
/// real data, and mispredicted often).
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    slots: Vec<Acc>,
    /// Per-slot `(units, value)` parts not yet added to `slots`, for the
    /// batch path (see [`Dim::add_fast`]); all zero outside
    /// [`Sums::credit`].
    fast: Vec<[u64; 2]>,
}

impl Default for Dim {
    fn default() -> Dim {
        Dim {
            slots: vec![Acc::default()],
            fast: vec![[0; 2]],
        }
    }
}

impl Dim {
    /// The slot of local id `id` (`NONE_ID` is slot 0).
    #[inline(always)]
    fn slot(id: u32) -> usize {
        id.wrapping_add(1) as usize
    }

    /// The unassigned bucket.
    pub(crate) fn unassigned(&self) -> &Acc {
        &self.slots[0]
    }

    /// The unassigned bucket, mutably.
    pub(crate) fn unassigned_mut(&mut self) -> &mut Acc {
        &mut self.slots[0]
    }

    /// The line of local id `i`, if it has a slot.
    pub(crate) fn line(&self, i: usize) -> Option<&Acc> {
        self.slots.get(i + 1)
    }

    /// Mutable access to the line of local id `i`, growing the slots.
    fn line_mut(&mut self, i: usize) -> &mut Acc {
        if i + 1 >= self.slots.len() {
            self.slots.resize(i + 2, Acc::default());
        }
        &mut self.slots[i + 1]
    }

    /// How many lines have a slot.
    pub(crate) fn lines_len(&self) -> usize {
        self.slots.len() - 1
    }

    /// Makes room for `lines` lines, so that the adds of `observe` never
    /// grow the slots.
    #[inline(always)]
    fn reserve_lines(&mut self, lines: usize) {
        if self.slots.len() < lines + 1 {
            self.slots.resize(lines + 1, Acc::default());
        }
        if self.fast.len() < lines + 1 {
            self.fast.resize(lines + 1, [0; 2]);
        }
    }

    /// [`add`](Self::add) into the slot's 64-bit part, a plain add where
    /// `add` needs a carry into the upper half of a 128-bit sum (an
    /// add-with-carry into memory, the costliest instruction of the batch
    /// loop). The parts are added to the sums by [`flush`](Self::flush),
    /// at least every [`FLUSH_JOURNEYS`] journeys: credited value and
    /// units are never negative, a share-based journey adds at most 2^53
    /// minor units and 10^9 conversion units to a breakdown in all, so a
    /// part stays below `FLUSH_JOURNEYS · 2^53 = 2^63` and cannot wrap.
    #[inline(always)]
    fn add_fast(&mut self, id: u32, units: i64, value: i64) {
        let i = Dim::slot(id);
        #[expect(clippy::cast_sign_loss, reason = "credit is never negative")]
        let (units, value) = (units as u64, value as u64);
        match self.fast.get_mut(i) {
            Some(f) => {
                f[0] += units;
                f[1] += value;
            }
            None => self.grow_add_fast(i, units, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_add_fast(&mut self, i: usize, units: u64, value: u64) {
        self.fast.resize(i + 1, [0; 2]);
        self.fast[i] = [units, value];
    }

    /// Adds the 64-bit parts of [`add_fast`](Self::add_fast) to the sums
    /// and zeroes them: exact (integer sums), so the result is the one
    /// per-touch 128-bit adds give, bit for bit.
    fn flush(&mut self) {
        if self.slots.len() < self.fast.len() {
            self.slots.resize(self.fast.len(), Acc::default());
        }
        for (acc, f) in self.slots.iter_mut().zip(&mut self.fast) {
            if *f != [0; 2] {
                acc.units += u128::from(f[0]);
                #[expect(clippy::cast_possible_wrap, reason = "below 2^63")]
                let value = f[1] as i64;
                acc.value += i128::from(value);
                *f = [0; 2];
            }
        }
    }

    /// Adds one touch's credit to the line of `id` (or the unassigned
    /// bucket for [`NONE_ID`]).
    #[inline(always)]
    fn add(&mut self, id: u32, units: i64, value: i64) {
        let i = Dim::slot(id);
        match self.slots.get_mut(i) {
            Some(acc) => acc.add(units, value),
            None => self.grow_add(i, units, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_add(&mut self, i: usize, units: i64, value: i64) {
        self.slots.resize(i + 1, Acc::default());
        self.slots[i].add(units, value);
    }

    /// Adds an aggregated row's credit, checked.
    fn checked_add(&mut self, id: u32, acc: &Acc) -> Result<()> {
        let i = Dim::slot(id);
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Acc::default());
        }
        self.slots[i].checked_merge(acc)
    }

    /// The lines keyed by name, sorted: one line per name of the catalog
    /// (a name seen on a touch that earned nothing has a zero line), so a
    /// streamed partial and a batch one name the same lines. Empty when the
    /// breakdown is not computed.
    pub(crate) fn named(&self, names: &Interner, computed: bool) -> NamedDim {
        let mut lines = std::collections::BTreeMap::new();
        if computed {
            for (i, n) in names.iter().enumerate() {
                let acc = self.line(i).copied().unwrap_or_default();
                lines.insert(n.to_owned(), acc);
            }
        }
        NamedDim {
            lines,
            unassigned: *self.unassigned(),
        }
    }
}

/// Maps the ids of the set being observed to the partial's local ids.
trait Ids {
    fn channel(&self, id: u32) -> u32;
    fn campaign(&self, id: u32) -> u32;
    fn content(&self, id: u32) -> u32;
}

/// The set's catalog is the partial's: ids are used as they are.
struct Same;

impl Ids for Same {
    #[inline]
    fn channel(&self, id: u32) -> u32 {
        id
    }
    #[inline]
    fn campaign(&self, id: u32) -> u32 {
        id
    }
    #[inline]
    fn content(&self, id: u32) -> u32 {
        id
    }
}

/// Another catalog: one lookup per id, built once per set.
struct Remap {
    channel: Vec<u32>,
    campaign: Vec<u32>,
    content: Vec<u32>,
}

impl Remap {
    fn lookup(map: &[u32], id: u32) -> u32 {
        map.get(id as usize).copied().unwrap_or(NONE_ID)
    }
}

impl Ids for Remap {
    #[inline]
    fn channel(&self, id: u32) -> u32 {
        Remap::lookup(&self.channel, id)
    }
    #[inline]
    fn campaign(&self, id: u32) -> u32 {
        Remap::lookup(&self.campaign, id)
    }
    #[inline]
    fn content(&self, id: u32) -> u32 {
        Remap::lookup(&self.content, id)
    }
}

/// The sums of a partial.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    pub(crate) journeys: u64,
    pub(crate) conversions: u64,
    pub(crate) value: i128,
    pub(crate) channel: Dim,
    pub(crate) campaign: Dim,
    pub(crate) content: Dim,
}

/// The overflow error of a count, built only when it happens.
#[cold]
#[inline(never)]
fn overflow(what: &'static str) -> Error {
    Error::Overflow { what }
}

/// The most journeys the batch path credits between two
/// [`Dim::flush`]es (`2^10`, so that the 64-bit parts stay below `2^63`).
const FLUSH_JOURNEYS: usize = 1 << 10;

/// One conversion split equally over `n` touches: quotient and remainder,
/// tabled for journeys of up to 32 touches (a division per journey saved).
const UNIT_SPLITS: [(i64, i64); 33] = {
    let mut t = [(0, 0); 33];
    let mut n = 1;
    while n < 33 {
        t[n] = (UNITS / n as i64, UNITS % n as i64);
        n += 1;
    }
    t
};

/// The equal split of one conversion and of `value` over `n > 0` touches,
/// as quotient and remainder each: touch `k` gets `qu + (k < ru)` units and
/// `qv + (k < rv)` minor units (the largest-remainder split of
/// `apportion_equal`, without its buffer).
#[inline(always)]
fn equal_split(n: usize, value: i64) -> ((i64, i64), (i64, i64)) {
    #[expect(clippy::cast_possible_wrap, reason = "journey lengths fit")]
    let n64 = n as i64;
    let units = match UNIT_SPLITS.get(n) {
        Some(&split) => split,
        None => (UNITS / n64, UNITS % n64),
    };
    (units, (value / n64, value % n64))
}

/// One converted journey's credit per touch, from the weights `c` holds
/// (`sum` is what [`Crediter::weigh`] returned), handed to `part` as
/// `(touch, units, value, full)`: the one place where weights become
/// per-touch credit, for [`Sums`] (plain adds) and [`Counted`] (`count`
/// times each part). Share-based credit (`full == false`) goes to the
/// touch a single-touch model names or to every touch, in order (each
/// part at most one journey's value); any other kind (`full == true`)
/// only to touches with a non-zero part. `touches` has the journey's `n`
/// touches in time order.
#[inline(always)]
fn credit_parts<T>(
    c: &mut Crediter,
    kind: CreditKind,
    (n, value, sum): (usize, i64, f64),
    touches: impl Iterator<Item = T> + Clone,
    mut part: impl FnMut(T, i64, i64, bool) -> Result<()>,
) -> Result<()> {
    match (kind, c.weights.shape()) {
        (CreditKind::Shares, Shape::Single(k)) => {
            // `check` made sure k < n
            if let Some(t) = touches.clone().nth(k) {
                part(t, UNITS, value, false)?;
            }
        }
        (CreditKind::Shares, Shape::Equal) => {
            let ((qu, ru), (qv, rv)) = equal_split(n, value);
            for (k, t) in touches.enumerate() {
                #[expect(clippy::cast_possible_wrap, reason = "journey lengths fit")]
                let k = k as i64;
                part(t, qu + i64::from(k < ru), qv + i64::from(k < rv), false)?;
            }
        }
        (CreditKind::Shares, Shape::Weighted) => {
            c.split_weighted(n, value, sum);
            for (t, (&u, &v)) in touches.zip(c.units.iter().zip(&c.value)) {
                part(t, u, v, false)?;
            }
        }
        _ => {
            c.value.clear();
            c.units.clear();
            c.value.resize(n, 0);
            c.units.resize(n, 0);
            c.fill(kind, value, sum);
            for (t, (&u, &v)) in touches.zip(c.units.iter().zip(&c.value)) {
                if u != 0 || v != 0 {
                    part(t, u, v, true)?;
                }
            }
        }
    }
    Ok(())
}

impl Sums {
    /// Makes room in every computed breakdown for the names of `catalog`,
    /// so that crediting never grows a breakdown touch by touch. Inlined:
    /// the streaming path calls it once per journey.
    #[inline(always)]
    fn reserve(&mut self, b: Breakdowns, catalog: &Catalog) {
        self.channel.reserve_lines(catalog.channels.len());
        if b.campaigns {
            self.campaign.reserve_lines(catalog.campaigns.len());
        }
        if b.contents {
            self.content.reserve_lines(catalog.contents.len());
        }
    }

    /// Counts one journey (all or nothing); whether it needs crediting.
    #[inline(always)]
    fn count<const CP: bool, const CT: bool>(
        &mut self,
        converted: bool,
        value: i64,
        empty: bool,
    ) -> Result<bool> {
        // checked: a deserialized partial can carry counts near the limits
        let Some(journeys) = self.journeys.checked_add(1) else {
            return Err(overflow("journey count"));
        };
        if !converted {
            self.journeys = journeys;
            return Ok(false);
        }
        let Some(conversions) = self.conversions.checked_add(1) else {
            return Err(overflow("conversion count"));
        };
        let Some(total) = self.value.checked_add(i128::from(value)) else {
            return Err(overflow("total value"));
        };
        (self.journeys, self.conversions, self.value) = (journeys, conversions, total);
        if empty {
            self.channel.unassigned_mut().add(UNITS, value);
            if CP {
                self.campaign.unassigned_mut().add(UNITS, value);
            }
            if CT {
                self.content.unassigned_mut().add(UNITS, value);
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// Adds one touch's credit to its channel, campaign and content lines
    /// (the last two when computed).
    #[inline(always)]
    fn add_touch<I: Ids, const CP: bool, const CT: bool, const FAST: bool>(
        &mut self,
        ids: &I,
        touch: (ChannelId, u32, u32),
        units: i64,
        value: i64,
    ) {
        if FAST {
            self.channel.add_fast(ids.channel(touch.0.0), units, value);
            if CP {
                self.campaign.add_fast(ids.campaign(touch.1), units, value);
            }
            if CT {
                self.content.add_fast(ids.content(touch.2), units, value);
            }
            return;
        }
        self.channel.add(ids.channel(touch.0.0), units, value);
        if CP {
            self.campaign.add(ids.campaign(touch.1), units, value);
        }
        if CT {
            self.content.add(ids.content(touch.2), units, value);
        }
    }

    /// [`Dim::flush`] of every breakdown.
    fn flush(&mut self) {
        self.channel.flush();
        self.campaign.flush();
        self.content.flush();
    }

    /// Credits every journey of `views` (ids mapped by `ids`), with the
    /// breakdowns chosen once for the whole run.
    #[inline]
    fn credit<'a, M: AttributionModel + ?Sized, I: Ids>(
        &mut self,
        c: &mut Crediter,
        model: &M,
        kind: CreditKind,
        b: Breakdowns,
        views: impl Iterator<Item = JourneyView<'a>>,
        ids: &I,
    ) -> Result<()> {
        match (b.campaigns, b.contents) {
            (true, true) => self.credit_views::<M, I, true, true>(c, model, kind, views, ids),
            (true, false) => self.credit_views::<M, I, true, false>(c, model, kind, views, ids),
            (false, true) => self.credit_views::<M, I, false, true>(c, model, kind, views, ids),
            (false, false) => self.credit_views::<M, I, false, false>(c, model, kind, views, ids),
        }
    }

    /// Credits one journey of the partial's own catalog (the streaming
    /// path): [`credit`](Self::credit) without the iterator and the batch
    /// machinery around it (peeking, flushes), which cost a streamed
    /// journey about a hundred instructions.
    #[inline]
    fn credit_single<M: AttributionModel + ?Sized>(
        &mut self,
        c: &mut Crediter,
        model: &M,
        kind: CreditKind,
        b: Breakdowns,
        view: &JourneyView<'_>,
    ) -> Result<()> {
        match (b.campaigns, b.contents) {
            (true, true) => {
                self.credit_one::<M, Same, true, true, false>(c, model, kind, view, &Same)
            }
            (true, false) => {
                self.credit_one::<M, Same, true, false, false>(c, model, kind, view, &Same)
            }
            (false, true) => {
                self.credit_one::<M, Same, false, true, false>(c, model, kind, view, &Same)
            }
            (false, false) => {
                self.credit_one::<M, Same, false, false, false>(c, model, kind, view, &Same)
            }
        }
    }

    fn credit_views<'a, M: AttributionModel + ?Sized, I: Ids, const CP: bool, const CT: bool>(
        &mut self,
        c: &mut Crediter,
        model: &M,
        kind: CreditKind,
        views: impl Iterator<Item = JourneyView<'a>>,
        ids: &I,
    ) -> Result<()> {
        // a batch of journeys adds into the 64-bit parts, flushed every
        // `FLUSH_JOURNEYS` journeys and at the end (on error too: what was
        // credited before the error stays credited, as with direct adds);
        // one journey (the streaming path) adds straight to the sums
        let mut views = views.peekable();
        let Some(first) = views.next() else {
            return Ok(());
        };
        if views.peek().is_none() {
            return self.credit_one::<M, I, CP, CT, false>(c, model, kind, &first, ids);
        }
        let mut r = self.credit_one::<M, I, CP, CT, true>(c, model, kind, &first, ids);
        let mut since = 1;
        if r.is_ok() {
            for view in views {
                if since == FLUSH_JOURNEYS {
                    self.flush();
                    since = 0;
                }
                since += 1;
                r = self.credit_one::<M, I, CP, CT, true>(c, model, kind, &view, ids);
                if r.is_err() {
                    break;
                }
            }
        }
        self.flush();
        r
    }

    /// Credits one journey: `view`'s ids are mapped by `ids`.
    #[inline(always)]
    fn credit_one<
        M: AttributionModel + ?Sized,
        I: Ids,
        const CP: bool,
        const CT: bool,
        const FAST: bool,
    >(
        &mut self,
        c: &mut Crediter,
        model: &M,
        kind: CreditKind,
        view: &JourneyView<'_>,
        ids: &I,
    ) -> Result<()> {
        let converted = view.converted();
        let ch = view.channels();
        let n = ch.len();
        // weigh first: a model error leaves the sums as they were
        let sum = if converted && n != 0 {
            c.weigh(model, view)?
        } else {
            0.0
        };
        let value = view.value_minor();
        if !self.count::<CP, CT>(converted, value, n == 0)? {
            return Ok(());
        }
        let (cp, ct) = (view.campaign_ids(), view.content_ids());
        let touches = ch.iter().zip(cp).zip(ct).map(|((&h, &p), &t)| (h, p, t));
        credit_parts(c, kind, (n, value, sum), touches, |t, u, v, full| {
            if full {
                // a journey can add `n · value`: never into the 64-bit parts
                self.add_touch::<I, CP, CT, false>(ids, t, u, v);
            } else {
                self.add_touch::<I, CP, CT, FAST>(ids, t, u, v);
            }
            Ok(())
        })
    }
}

/// The streaming front end of [`CreditPartial::observe`]: one journey of
/// the caller's type validated exactly as [`JourneySet::push`] validates
/// it (value, then every cost, before any name is interned), its touches
/// put in time order (stable), its names interned into the partial's
/// catalog in that order through [`NameTable`]s (ids follow first
/// appearance, as in `push`), and staged as the partial's one-journey set.
/// Every buffer is reused: no allocation per journey once they have grown.
#[derive(Debug, Clone, Default)]
struct Stager {
    /// A journey's `(time, input index)` pairs, sorted by time (stable).
    order: Vec<(i64, u32)>,
    /// Scratch for putting a journey's costs in time order.
    costs: Vec<Option<i64>>,
    /// Scratch for putting a journey's milestones in time order.
    milestones: Vec<Option<Milestone>>,
    channels: NameTable,
    campaigns: NameTable,
    contents: NameTable,
}

/// The catalog id of `name`, through the cache (the name's key computed
/// once, for the lookup and, if the name is new, the insert).
#[inline(always)]
fn lookup(table: &mut NameTable, names: &mut Interner, name: &str) -> Result<u32> {
    let key = NameTable::key(name);
    if let Some(id) = table.get_key(key) {
        return Ok(id);
    }
    let id = names.try_intern(name)?;
    table.insert_key(key, id);
    Ok(id)
}

impl Stager {
    /// Forgets the cached ids (the catalog was replaced).
    fn forget(&mut self) {
        self.channels.clear();
        self.campaigns.clear();
        self.contents.clear();
    }

    /// Whether a name missed a cache since the last call (see
    /// [`NameTable::take_missed`]): when not, the catalog has not grown.
    #[inline(always)]
    fn take_missed(&mut self) -> bool {
        // `|`, not `||`: every flag is cleared
        self.channels.take_missed() | self.campaigns.take_missed() | self.contents.take_missed()
    }

    /// Validates `journey` and interns its names into `set`'s catalog. A
    /// converted journey is then staged: `set` holds exactly it, and the
    /// result is [`Staged::Set`]. A journey that did not convert is only
    /// validated and interned (its credit is nothing, and the sums need
    /// only its count): `set`'s journeys are left as they were, and the
    /// result is [`Staged::NotConverted`]. On error `set` holds no journey.
    ///
    /// One pass over the touches validates (costs, in input order, before
    /// any name is interned), reads the times and looks the names up in
    /// the [`NameTable`]s without interning; a second pass interning the
    /// names in time order runs only when a name was not cached or the
    /// touches were not in time order.
    #[inline]
    fn stage<J: Journey + ?Sized>(&mut self, journey: &J, set: &mut JourneySet) -> Result<Staged> {
        let r = self.stage_in(journey, set);
        if r.is_err() {
            set.clear_journeys();
        }
        r
    }

    #[inline]
    fn stage_in<J: Journey + ?Sized>(
        &mut self,
        journey: &J,
        set: &mut JourneySet,
    ) -> Result<Staged> {
        let currency = set.currency();
        let outcome = journey.outcome();
        if !outcome.converted {
            // `value_minor` of a journey that did not convert is 0 and
            // never an error: the costs and the names are all there is
            self.intern_only(journey, set.catalog_mut(), currency)?;
            return Ok(Staged::NotConverted);
        }
        let value = outcome.value_minor(journey.id(), currency)?;
        let conversion_ts = outcome.conversion_ts.map(|t| t.timestamp_millis());
        self.stage_touches(
            journey.id(),
            (true, value, conversion_ts),
            journey.touchpoints(),
            set,
            (
                |t| (t.timestamp().timestamp_millis(), t.cost(), t.milestone()),
                |tables, _, t| Self::peek_touch(tables, t),
            ),
            |tables, catalog, _, t| Self::intern_touch(tables, catalog, t),
        )?;
        Ok(Staged::Set)
    }

    /// Stages one journey given by codes into `set`'s catalog (what
    /// [`CreditPartial::observe_coded`] credits): the amounts converted, the
    /// touches sorted by time (stable) and every code checked, as
    /// [`stage_in`](Self::stage_in) stages a journey of names. On error
    /// `set` holds no journey.
    ///
    /// # Errors
    ///
    /// As [`JourneySet::push`]; a code outside the catalog is
    /// [`Error::InvalidParameter`] (`touches`).
    fn stage_coded(
        &mut self,
        id: &str,
        outcome: &Outcome,
        touches: &[CodedTouch],
        set: &mut JourneySet,
    ) -> Result<()> {
        let r = self.stage_coded_in(id, outcome, touches, set);
        if r.is_err() {
            set.clear_journeys();
        }
        r
    }

    /// The body of [`stage_coded`](Self::stage_coded); the caller empties
    /// the set on error.
    fn stage_coded_in(
        &mut self,
        id: &str,
        outcome: &Outcome,
        touches: &[CodedTouch],
        set: &mut JourneySet,
    ) -> Result<()> {
        let value = outcome.value_minor(id, set.currency())?;
        let conversion_ts = outcome.conversion_ts.map(|t| t.timestamp_millis());
        self.stage_touches(
            id,
            (outcome.converted, value, conversion_ts),
            touches,
            set,
            (
                |t| (t.ts_millis, t.cost, t.milestone),
                |_, catalog, t| coded_ids(catalog, t),
            ),
            |_, catalog, i, t| {
                coded_ids(catalog, t).ok_or_else(|| {
                    Error::param(
                        "touches",
                        format!("touch {i} of journey {id:?}"),
                        "codes from this partial's catalog",
                    )
                })
            },
        )
    }

    /// The one staging body of [`stage_in`](Self::stage_in) (touches of
    /// the caller's type, names interned) and
    /// [`stage_coded`](Self::stage_coded) (codes checked): the touches go
    /// straight into `set`'s columns, and `set` then holds exactly this
    /// journey. The caller empties the set on error.
    ///
    /// One or two passes over the touches. The first, in input order,
    /// reads each touch's time, cost and milestone (`read`), validates
    /// every cost before any name is interned, and gives each touch's ids
    /// from the caches alone (`peek`, which interns nothing; `None` when a
    /// name is not cached or a code is out of range). When the touches are
    /// in time order and every touch had its ids, the journey is staged.
    /// Otherwise the id columns are emptied, the touches put in time order
    /// (stable, as [`JourneySet::push`]), and the second pass, in that
    /// order, gives each touch's channel, campaign and content ids (`ids`,
    /// called with the name caches, the catalog and the touch's input
    /// index, interning new names or refusing bad codes): ids follow first
    /// appearance in time order, as in `push`. Both passes give the same
    /// ids to a journey whose names are all cached.
    #[inline(always)]
    fn stage_touches<T>(
        &mut self,
        id: &str,
        outcome: (bool, i64, Option<i64>),
        touches: &[T],
        set: &mut JourneySet,
        (read, peek): (
            impl Fn(&T) -> (i64, Option<f64>, Option<Milestone>),
            impl Fn((&NameTable, &NameTable, &NameTable), &Catalog, &T) -> Option<(u32, u32, u32)>,
        ),
        mut ids: impl FnMut(
            (&mut NameTable, &mut NameTable, &mut NameTable),
            &mut Catalog,
            usize,
            &T,
        ) -> Result<(u32, u32, u32)>,
    ) -> Result<()> {
        let currency = set.currency();
        let cols = set.staging();
        // first pass, input order: times, costs and milestones, every cost
        // validated before any name is interned
        //
        // The first pass also looks every touch's ids up without interning
        // (`peek`: the caches only, nothing changes): when the touches are
        // in time order and every name was cached, the id columns are
        // complete after this one pass, and the second pass (another walk
        // over the caller's touches and their names) is skipped. That is
        // nearly every journey once the names have been seen.
        let mut sorted = true;
        let mut known = true;
        let mut prev = i64::MIN;
        let tables = (&self.channels, &self.campaigns, &self.contents);
        for (i, t) in touches.iter().enumerate() {
            let (ts, cost, milestone) = read(t);
            sorted &= prev <= ts;
            prev = ts;
            let cost = match cost {
                Some(c) => match currency.to_minor(c)? {
                    Some(minor) => Some(minor),
                    None => return Err(invalid_cost(id, i, c)),
                },
                None => None,
            };
            cols.ts.push(ts);
            cols.cost.push(cost);
            cols.milestone.push(milestone);
            let (ch, cp, ct) = match peek(tables, cols.catalog, t) {
                Some(ids) => ids,
                None => {
                    known = false;
                    (0, NONE_ID, NONE_ID)
                }
            };
            cols.channel.push(ChannelId(ch));
            cols.campaign.push(cp);
            cols.content.push(ct);
        }
        if sorted && known {
            return set.seal_staged(id, outcome);
        }
        cols.channel.clear();
        cols.campaign.clear();
        cols.content.clear();
        // the input order of touches, sorted by time (stable), as `push`,
        // and the first pass's columns put in that order
        if !sorted {
            let order = &mut self.order;
            order.clear();
            order.extend(
                cols.ts
                    .iter()
                    .enumerate()
                    .map(|(i, &ts)| (ts, u32::try_from(i).unwrap_or(u32::MAX))),
            );
            order.sort_by_key(|&(ts, _)| ts);
            permute(cols.cost, order, &mut self.costs);
            permute(cols.milestone, order, &mut self.milestones);
            cols.ts.clear();
            cols.ts.extend(order.iter().map(|&(ts, _)| ts));
        }
        // second pass: ids, in time order
        for k in 0..touches.len() {
            let i = if sorted {
                k
            } else {
                self.order.get(k).map_or(k, |&(_, i)| i as usize)
            };
            let Some(t) = touches.get(i) else {
                // never: `order` is a permutation of the touches (a short
                // column is refused by `seal_staged`)
                continue;
            };
            let (ch, cp, ct) = ids(
                (&mut self.channels, &mut self.campaigns, &mut self.contents),
                cols.catalog,
                i,
                t,
            )?;
            cols.channel.push(ChannelId(ch));
            cols.campaign.push(cp);
            cols.content.push(ct);
        }
        set.seal_staged(id, outcome)
    }

    /// The validation and interning of [`stage_in`](Self::stage_in) alone,
    /// for a journey that did not convert: every cost checked (in input
    /// order, before any name is interned), then the names interned in
    /// time order (stable), exactly as `stage_in` and `push` intern them,
    /// so the catalog's ids are the same whichever path a journey takes.
    ///
    /// Time order is decided on the `DateTime`s, with no conversion to
    /// milliseconds: touches in `DateTime` order are in millisecond order
    /// too, and a stable sort by milliseconds leaves them as they are.
    /// Only a journey that is not in `DateTime` order is sorted (by
    /// milliseconds, stable, as `push`). The checking pass also looks the
    /// names up without interning: a journey in time order whose names are
    /// all cached has nothing to intern and is done after that one pass.
    #[inline]
    fn intern_only<J: Journey + ?Sized>(
        &mut self,
        journey: &J,
        cat: &mut Catalog,
        currency: Currency,
    ) -> Result<()> {
        let touches = journey.touchpoints();
        let mut sorted = true;
        // as in `stage_touches`: when every name is cached (looked up
        // without interning) and the touches are in time order, there is
        // nothing to intern and no second pass
        let mut known = true;
        let mut prev = None;
        let peek = (&self.channels, &self.campaigns, &self.contents);
        for (i, t) in touches.iter().enumerate() {
            if let Some(c) = t.cost() {
                if currency.to_minor(c)?.is_none() {
                    return Err(invalid_cost(journey.id(), i, c));
                }
            }
            let ts = t.timestamp();
            if let Some(p) = prev {
                sorted &= p <= ts;
            }
            prev = Some(ts);
            known &= Self::peek_touch(peek, t).is_some();
        }
        if sorted && known {
            return Ok(());
        }
        let tables = (&mut self.channels, &mut self.campaigns, &mut self.contents);
        if sorted {
            for t in touches {
                Self::intern_touch((&mut *tables.0, &mut *tables.1, &mut *tables.2), cat, t)?;
            }
            return Ok(());
        }
        let order = &mut self.order;
        order.clear();
        order.extend(touches.iter().enumerate().map(|(i, t)| {
            (
                t.timestamp().timestamp_millis(),
                u32::try_from(i).unwrap_or(u32::MAX),
            )
        }));
        order.sort_by_key(|&(ts, _)| ts);
        for &(_, i) in order.iter() {
            let i = i as usize;
            if let Some(t) = touches.get(i) {
                Self::intern_touch((&mut *tables.0, &mut *tables.1, &mut *tables.2), cat, t)?;
            }
        }
        Ok(())
    }

    /// The cached ids of one touch's channel, campaign and content names
    /// ([`NONE_ID`] for a missing campaign or content), or `None` when a
    /// name is not cached: [`intern_touch`](Self::intern_touch) without
    /// interning.
    #[inline(always)]
    fn peek_touch<T: Touchpoint>(
        (channels, campaigns, contents): (&NameTable, &NameTable, &NameTable),
        t: &T,
    ) -> Option<(u32, u32, u32)> {
        let ch = channels.get(t.channel());
        let cp = t.campaign().map_or(Some(NONE_ID), |c| campaigns.get(c));
        let ct = t.content().map_or(Some(NONE_ID), |c| contents.get(c));
        Some((ch?, cp?, ct?))
    }

    /// Interns one touch's channel, campaign and content names: their ids,
    /// [`NONE_ID`] for a missing campaign or content.
    #[inline(always)]
    fn intern_touch<T: Touchpoint>(
        tables: (&mut NameTable, &mut NameTable, &mut NameTable),
        cat: &mut Catalog,
        t: &T,
    ) -> Result<(u32, u32, u32)> {
        let ch = lookup(tables.0, &mut cat.channels, t.channel())?;
        let cp = match t.campaign() {
            Some(c) => lookup(tables.1, &mut cat.campaigns, c)?,
            None => NONE_ID,
        };
        let ct = match t.content() {
            Some(c) => lookup(tables.2, &mut cat.contents, c)?,
            None => NONE_ID,
        };
        Ok((ch, cp, ct))
    }
}

/// The ids of a coded touch, if its codes are in `catalog`.
#[inline(always)]
fn coded_ids(catalog: &Catalog, t: &CodedTouch) -> Option<(u32, u32, u32)> {
    let inside = |c: Option<u32>, n: usize| c.is_none_or(|c| (c as usize) < n);
    ((t.channel as usize) < catalog.channels.len()
        && inside(t.campaign, catalog.campaigns.len())
        && inside(t.content, catalog.contents.len()))
    .then(|| {
        (
            t.channel,
            t.campaign.unwrap_or(NONE_ID),
            t.content.unwrap_or(NONE_ID),
        )
    })
}

/// Puts `column` (optional values in input order) in the order of
/// `order`'s input indices, through the reused buffer `scratch`.
fn permute<T: Copy>(
    column: &mut Vec<Option<T>>,
    order: &[(i64, u32)],
    scratch: &mut Vec<Option<T>>,
) {
    scratch.clear();
    scratch.extend(
        order
            .iter()
            .map(|&(_, i)| column.get(i as usize).copied().flatten()),
    );
    std::mem::swap(column, scratch);
}

/// The error of a touch whose cost is not a valid amount.
#[cold]
#[inline(never)]
fn invalid_cost(journey: &str, touch: usize, cost: f64) -> Error {
    Error::InvalidCost {
        journey: journey.to_owned(),
        touch,
        cost,
    }
}

/// What [`Stager::stage`] did with a journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staged {
    /// The journey converted and is the set's one journey.
    Set,
    /// The journey did not convert: validated and its names interned, not
    /// staged.
    NotConverted,
}

/// A partial report: the integer sums of one model's credit over some
/// journeys. Make one per thread, partition or machine from a
/// [`CreditConfig`], [`observe`](Self::observe) journeys (or
/// [`observe_set`](Self::observe_set) a whole [`JourneySet`], or
/// [`observe_path`](Self::observe_path) aggregated rows), [`merge`](Self::merge)
/// partials in any order, and [`finish`](Self::finish): the result is the
/// same, bit for bit, as one pass over all journeys with
/// [`attribute`](crate::attribute). This is the one way to credit a
/// stream; [`attribute`](crate::attribute) is the one way to credit a set
/// in memory.
///
/// Keys are names, not local ids, so partials from differently interned
/// data merge correctly. The serialized form is name-keyed and sorted, and
/// is checked when read exactly as the partial's own invariants require
/// (see below).
///
/// # The model after a serde round trip
///
/// A partial holds its model behind an `Arc`. The serialized form carries
/// the model's fingerprint and, for every built-in model, its
/// [`ModelSpec`]: deserializing rebuilds the model from the spec (and
/// refuses a spec that does not build a model of the same fingerprint), so
/// a partial read on a remote executor observes, merges and finishes like
/// the original. A model without a spec (a closure, a fitted model)
/// cannot be rebuilt from data: the deserialized partial is *detached*. It
/// merges and finishes as any other (neither needs the model); observing
/// needs the model back, attached with [`with_model`](Self::with_model),
/// which checks the fingerprint. Observing into a detached partial is
/// [`Error::ModelNotAttached`].
///
/// # What is checked when a partial is read
///
/// The format version; every sum within 2^120; the total value and every
/// credited value `>= 0`; at most as many conversions as journeys; for
/// share-based models, in every computed breakdown, lines plus unassigned
/// equal to the totals exactly (conversion units and value); a breakdown that was not computed
/// empty; the spec, if any, building the partial's model. A partial that
/// fails is a serde error, never a panic or a wrong report later.
///
/// # Example
///
/// ```
/// use touchpoint::{CreditConfig, CreditPartial, SimpleJourney, SimpleTouch, models::Linear};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let a = SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(10.0);
/// let b = SimpleJourney::new("b").touch(SimpleTouch::new("direct", t)).converted(5.0);
///
/// let config = CreditConfig::new(Linear);
/// let mut left = CreditPartial::new(config.clone());
/// left.observe(&a)?;
/// let mut right = CreditPartial::new(config);
/// right.observe(&b)?;
/// // ship `right` to another machine and back
/// let right: CreditPartial = serde_json::from_str(&serde_json::to_string(&right)?)?;
/// left.merge(&right)?;
/// let report = left.finish();
/// assert_eq!(report.value_minor(), 1500);
/// assert_eq!(report.channels().get("email").unwrap().value_minor(), 1000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CreditPartial {
    config: CreditConfig,
    sums: Sums,
    /// The local catalog (ids of the sums) and, while observing one
    /// journey, that journey.
    scratch: JourneySet,
    crediter: Crediter,
    stager: Stager,
}

impl fmt::Debug for CreditPartial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreditPartial")
            .field("config", &self.config)
            .field("journeys", &self.sums.journeys)
            .field("conversions", &self.sums.conversions)
            .field("value", &self.sums.value)
            .finish_non_exhaustive()
    }
}

impl CreditPartial {
    /// An empty partial (the identity of [`merge`](Self::merge)).
    pub fn new(config: CreditConfig) -> CreditPartial {
        CreditPartial {
            scratch: JourneySet::with_currency(config.currency),
            config,
            sums: Sums::default(),
            crediter: Crediter::new(),
            stager: Stager::default(),
        }
    }

    /// An empty partial for a model borrowed by reference (a model that is
    /// not `'static`, or owned elsewhere), in `currency`. Built-in models
    /// are attached (rebuilt from their [`ModelSpec`]); any other model is
    /// detached: observe with [`observe_with`](Self::observe_with), which
    /// takes the model with each call.
    pub fn with_currency<M: AttributionModel + ?Sized>(
        model: &M,
        currency: Currency,
    ) -> CreditPartial {
        CreditPartial::new(CreditConfig::borrowed(model).with_currency(currency))
    }

    /// The configuration.
    pub fn config(&self) -> &CreditConfig {
        &self.config
    }

    /// The configuration fingerprint (see [`CreditConfig::fingerprint`]).
    pub fn fingerprint(&self) -> String {
        self.config.fingerprint()
    }

    /// Journeys observed (converted or not).
    pub fn journeys(&self) -> u64 {
        self.sums.journeys
    }

    /// Attaches `model` to a detached partial (or replaces the attached
    /// one by an equal model).
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `model`'s fingerprint is not the
    /// partial's.
    pub fn with_model(mut self, model: Arc<dyn AttributionModel>) -> Result<CreditPartial> {
        let fp = model.fingerprint();
        if fp != self.config.model_fingerprint {
            return Err(Error::IncompatiblePartials {
                left: self.config.model_fingerprint.clone(),
                right: fp,
            });
        }
        self.config.model = Some(model);
        Ok(self)
    }

    fn attached(&self) -> Result<Arc<dyn AttributionModel>> {
        self.config
            .model
            .clone()
            .ok_or_else(|| Error::ModelNotAttached {
                fingerprint: self.config.model_fingerprint.clone(),
            })
    }

    /// Credits one journey of your own type with the partial's model.
    ///
    /// Cost: the journey's names are interned into the partial's catalog
    /// through a small exact cache (a name of up to 16 bytes is found
    /// without hashing its bytes), and a converted journey's touches are
    /// written straight into the columns of the partial's one-journey
    /// scratch set, in time order (no intermediate list, no copy); no
    /// allocation per journey once the buffers have grown. A journey that did not convert
    /// earns no credit: it is validated and its names interned (a name
    /// seen only there still gets its zero line), and nothing else is
    /// done with it (no staging, no model call). On journeys too large
    /// for the processor's caches, most of what remains is the reading of
    /// the journey itself (its touches, then their names), which any scan
    /// of the same values pays too: names kept inside the touch (as
    /// [`SimpleTouch`](crate::SimpleTouch) keeps them, in a
    /// [`Name`](crate::Name)) stream faster than names each in their own
    /// heap allocation (a `String` per name), because a touch is then one
    /// place in memory, not up to four.
    ///
    /// # Errors
    ///
    /// [`Error::ModelNotAttached`] for a detached partial; the journey's
    /// validation errors (see [`JourneySet::push`]); the model's errors;
    /// [`Error::Overflow`] past `u64::MAX` journeys.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let Some(model) = self.config.model.as_deref() else {
            return Err(Error::ModelNotAttached {
                fingerprint: self.config.model_fingerprint.clone(),
            });
        };
        Self::stage_and_credit(
            &self.config,
            (&mut self.sums, &mut self.crediter),
            (&mut self.stager, &mut self.scratch),
            model,
            journey,
        )
    }

    /// Credits one journey with `model`, given by reference (for a detached
    /// partial, or a model that is not `'static`).
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `model` is not the model the
    /// partial was made for; otherwise as [`observe`](Self::observe).
    pub fn observe_with<M: AttributionModel + ?Sized, J: Journey + ?Sized>(
        &mut self,
        model: &M,
        journey: &J,
    ) -> Result<()> {
        self.check_model(model)?;
        Self::stage_and_credit(
            &self.config,
            (&mut self.sums, &mut self.crediter),
            (&mut self.stager, &mut self.scratch),
            model,
            journey,
        )
    }

    /// Stages `journey` (validated, its names interned) and credits it with
    /// `model`, or only counts it when it did not convert: the one body of
    /// [`observe`](Self::observe) and [`observe_with`](Self::observe_with).
    /// Takes the fields, not `self`: `model` may be borrowed from `config`.
    #[inline(always)]
    fn stage_and_credit<M: AttributionModel + ?Sized, J: Journey + ?Sized>(
        config: &CreditConfig,
        (sums, crediter): (&mut Sums, &mut Crediter),
        (stager, scratch): (&mut Stager, &mut JourneySet),
        model: &M,
        journey: &J,
    ) -> Result<()> {
        let staged = stager.stage(journey, scratch)?;
        // the sums are sized to the catalog only when it may have grown:
        // most journeys name only names seen before, and sizing costs a
        // few dozen instructions per journey (the adds grow the sums on
        // their own; sizing only keeps them from growing touch by touch
        // and gives a name seen only on unconverted journeys its line)
        if stager.take_missed() {
            sums.reserve(config.breakdowns, scratch.catalog());
        }
        match staged {
            Staged::Set => Self::credit_reserved(config, sums, crediter, scratch, model),
            Staged::NotConverted => sums.count::<false, false>(false, 0, true).map(|_| ()),
        }
    }

    /// Credits the journey staged in `scratch` (by `observe`,
    /// `observe_with` or `observe_coded`) with `model`, the sums sized to
    /// the catalog first. Takes the fields, not `self`: `model` may be
    /// borrowed from `config`.
    fn credit_staged<M: AttributionModel + ?Sized>(
        config: &CreditConfig,
        sums: &mut Sums,
        crediter: &mut Crediter,
        scratch: &JourneySet,
        model: &M,
    ) -> Result<()> {
        sums.reserve(config.breakdowns, scratch.catalog());
        Self::credit_reserved(config, sums, crediter, scratch, model)
    }

    /// [`credit_staged`](Self::credit_staged) with the sums already sized.
    #[inline(always)]
    fn credit_reserved<M: AttributionModel + ?Sized>(
        config: &CreditConfig,
        sums: &mut Sums,
        crediter: &mut Crediter,
        scratch: &JourneySet,
        model: &M,
    ) -> Result<()> {
        // the staged set holds exactly one journey
        match scratch.get(0) {
            Some(view) => {
                sums.credit_single(crediter, model, config.kind, config.breakdowns, &view)
            }
            None => Ok(()),
        }
    }

    fn check_model<M: AttributionModel + ?Sized>(&self, model: &M) -> Result<()> {
        let fp = model.fingerprint();
        if fp == self.config.model_fingerprint {
            Ok(())
        } else {
            Err(Error::IncompatiblePartials {
                left: self.config.model_fingerprint.clone(),
                right: fp,
            })
        }
    }

    /// Credits every journey of `set` (the batch path: the set's ids are
    /// used directly when the partial is empty, mapped once per set
    /// otherwise).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when the set's currency is not the
    /// partial's (minor units of two currencies must not be summed);
    /// otherwise as [`observe`](Self::observe).
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        let model = self.attached()?;
        self.observe_set_with(model.as_ref(), set)
    }

    /// [`observe_set`](Self::observe_set) with the model given (and
    /// monomorphized) by the caller: what [`attribute`](crate::attribute)
    /// runs. The model must be the partial's (checked by the callers).
    pub(crate) fn observe_set_with<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        set: &JourneySet,
    ) -> Result<()> {
        if set.currency() != self.config.currency {
            // the set's minor units would be summed in another currency's
            return Err(Error::param(
                "set",
                format_args!("journeys in {:?}", set.currency()),
                "journeys in the partial's currency (JourneySet::with_currency)",
            ));
        }
        let (kind, b) = (self.config.kind, self.config.breakdowns);
        let empty = self.scratch.catalog().channels.is_empty()
            && self.scratch.catalog().campaigns.is_empty()
            && self.scratch.catalog().contents.is_empty();
        if empty {
            // adopt the set's catalog: its ids are the partial's
            self.scratch = set.catalog_only();
            self.stager.forget();
            self.sums.reserve(b, set.catalog());
            return self
                .sums
                .credit(&mut self.crediter, model, kind, b, set.iter(), &Same);
        }
        let cat = set.catalog();
        let local = self.scratch.catalog_mut();
        let map = |from: &Interner, to: &mut Interner| -> Result<Vec<u32>> {
            from.iter().map(|n| to.try_intern(n)).collect()
        };
        let ids = Remap {
            channel: map(&cat.channels, &mut local.channels)?,
            campaign: map(&cat.campaigns, &mut local.campaigns)?,
            content: map(&cat.contents, &mut local.contents)?,
        };
        self.sums.reserve(b, self.scratch.catalog());
        self.sums
            .credit(&mut self.crediter, model, kind, b, set.iter(), &ids)
    }

    /// Credits an aggregated row: `conversions` converted journeys along
    /// `path` (channel names in order) worth `value_minor` in all, and
    /// `nulls` journeys along it that did not convert. What
    /// `markov::MarkovPartial::observe_path` (formerly `MarkovFit`)
    /// reads, for the rule-based models.
    ///
    /// The row is credited **by weight**, never expanded journey by
    /// journey, so a count of 10^18 costs what a count of 1 costs: the
    /// model weighs the path once; each touch gets `conversions` times one
    /// journey's conversion units (exact, so conversions reconcile as if
    /// the journeys had been observed one by one), and the row's value is
    /// split **once** by the largest remainder over the same weights (so
    /// each touch's value may differ by a cent from the sum of per-journey
    /// splits; the row's value is conserved exactly).
    ///
    /// Paths carry no times: touch `i` is placed `i` days after the first
    /// and the journey has no conversion time, so time decay sees one-day
    /// steps and milestone models see no milestone. Credit time-based
    /// models from journeys when the times matter.
    ///
    /// # Errors
    ///
    /// [`Error::ModelNotAttached`] for a detached partial;
    /// [`Error::InvalidParameter`] for a value outside `0..=2^53` minor
    /// units (`value_minor`), a value without conversions (`value_minor`)
    /// or an empty channel name (`path`); [`Error::Overflow`] when a count
    /// or a sum overflows. On error the partial's sums are unchanged: every
    /// check (counts, the model's weights, each sum against its limit) is
    /// made before anything is added, without copying the sums. A path's
    /// new channel names are interned before the model runs, so an error
    /// found after that (the model's, or a line past its limit) leaves them
    /// in the catalog, as zero lines in the report.
    ///
    /// # Example
    ///
    /// A million conversions along `display > email`, $3,000,000 in all,
    /// and 5 journeys that did not convert, under linear credit:
    ///
    /// ```
    /// use touchpoint::{CreditConfig, CreditPartial, models::Linear};
    ///
    /// let mut p = CreditPartial::new(CreditConfig::new(Linear));
    /// p.observe_path(&["display", "email"], 1_000_000, 300_000_000, 5)?;
    /// let r = p.finish();
    /// assert_eq!(r.journeys(), 1_000_005);
    /// assert_eq!(r.channels().get("email").unwrap().value_minor(), 150_000_000);
    /// assert_eq!(r.channels().get("email").unwrap().conversions(), 500_000.0);
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn observe_path<S: AsRef<str>>(
        &mut self,
        path: &[S],
        conversions: u64,
        value_minor: i64,
        nulls: u64,
    ) -> Result<()> {
        let model = self.attached()?;
        if !(0..=MAX_MINOR).contains(&value_minor) {
            return Err(Error::param(
                "value_minor",
                value_minor,
                "a row value in 0..=2^53 minor units",
            ));
        }
        if conversions == 0 && value_minor != 0 {
            return Err(Error::param(
                "value_minor",
                value_minor,
                "no value on a row without conversions",
            ));
        }
        if path.iter().any(|c| c.as_ref().is_empty()) {
            return Err(Error::param(
                "path",
                "an empty channel name",
                "non-empty channel names",
            ));
        }
        // validate first (counts, the model, every sum), then apply: on
        // error the sums are unchanged, and nothing is cloned per row
        let rows = conversions
            .checked_add(nulls)
            .ok_or_else(|| overflow("journey count"))?;
        let journeys = self
            .sums
            .journeys
            .checked_add(rows)
            .ok_or_else(|| overflow("journey count"))?;
        let total_conversions = self
            .sums
            .conversions
            .checked_add(conversions)
            .ok_or_else(|| overflow("conversion count"))?;
        let total_value = self
            .sums
            .value
            .checked_add(i128::from(value_minor))
            .ok_or_else(|| overflow("total value"))?;
        let b = self.config.breakdowns;
        // the channel lines to add, by local id, and what the campaign and
        // content breakdowns' unassigned buckets get (paths name neither)
        let mut lines: Vec<(u32, Acc)> = Vec::new();
        let mut whole = Acc::default();
        if conversions > 0 {
            if path.is_empty() {
                whole = Acc {
                    units: u128::from(conversions) * u128::from(CONVERSION_UNITS),
                    value: i128::from(value_minor),
                };
                lines.push((NONE_ID, whole));
            } else {
                // touches one day apart from the epoch, names interned
                let cat = self.scratch.catalog_mut();
                let mut touches = Vec::with_capacity(path.len());
                let mut ts = 0_i64;
                for name in path {
                    touches.push(InternedTouch {
                        channel: ChannelId(cat.channels.try_intern(name.as_ref())?),
                        ts,
                        campaign: NONE_ID,
                        content: NONE_ID,
                        cost: None,
                        milestone: None,
                    });
                    ts = ts.saturating_add(86_400_000);
                }
                self.scratch
                    .stage_interned("(aggregated path)", (true, 0, None), &touches)?;
                let Some(view) = self.scratch.get(0) else {
                    return Ok(());
                };
                let c = &mut self.crediter;
                let sum = c.weigh(model.as_ref(), &view)?;
                let n = view.len();
                c.value.clear();
                c.units.clear();
                c.value.resize(n, 0);
                c.units.resize(n, 0);
                c.fill(self.config.kind, value_minor, sum);
                for (id, (&u, &v)) in view.channels().iter().zip(c.units.iter().zip(&c.value)) {
                    let acc = Acc {
                        units: u128::from(u.unsigned_abs()) * u128::from(conversions),
                        value: i128::from(v),
                    };
                    whole.checked_merge(&acc)?;
                    lines.push((id.0, acc));
                }
                // one sum per channel (a path may repeat one)
                lines.sort_unstable_by_key(|&(id, _)| id);
                lines.dedup_by(|next, kept| {
                    let same = next.0 == kept.0;
                    if same {
                        kept.1.units += next.1.units;
                        kept.1.value += next.1.value;
                    }
                    same
                });
            }
        }
        let current = |dim: &Dim, id: u32| {
            if id == NONE_ID {
                *dim.unassigned()
            } else {
                dim.line(id as usize).copied().unwrap_or_default()
            }
        };
        for (id, acc) in &lines {
            current(&self.sums.channel, *id).checked_merge(acc)?;
        }
        if b.campaigns {
            let mut a = *self.sums.campaign.unassigned();
            a.checked_merge(&whole)?;
        }
        if b.contents {
            let mut a = *self.sums.content.unassigned();
            a.checked_merge(&whole)?;
        }
        // every check passed: apply
        for (id, acc) in &lines {
            self.sums.channel.checked_add(*id, acc)?;
        }
        if b.campaigns {
            self.sums.campaign.unassigned_mut().checked_merge(&whole)?;
        }
        if b.contents {
            self.sums.content.unassigned_mut().checked_merge(&whole)?;
        }
        self.sums.journeys = journeys;
        self.sums.conversions = total_conversions;
        self.sums.value = total_value;
        Ok(())
    }

    /// The sums keyed by name (the serialized form).
    pub(crate) fn named(&self) -> NamedPartial {
        let cat = self.scratch.catalog();
        let c = &self.config;
        NamedPartial {
            version: PARTIAL_VERSION,
            model: c.name.clone(),
            fingerprint: c.model_fingerprint.clone(),
            full_credit: c.kind == CreditKind::Full,
            currency: c.currency,
            spec: c.spec.clone(),
            breakdowns: c.breakdowns,
            journeys: self.sums.journeys,
            conversions: self.sums.conversions,
            value: self.sums.value,
            channel: self.sums.channel.named(&cat.channels, true),
            campaign: self
                .sums
                .campaign
                .named(&cat.campaigns, c.breakdowns.campaigns),
            content: self
                .sums
                .content
                .named(&cat.contents, c.breakdowns.contents),
        }
    }

    /// A partial from its config and name-keyed sums (already validated).
    pub(crate) fn from_named(config: CreditConfig, named: &NamedPartial) -> Result<CreditPartial> {
        let mut p = CreditPartial::new(config);
        p.sums.journeys = named.journeys;
        p.sums.conversions = named.conversions;
        p.sums.value = named.value;
        let cat = p.scratch.catalog_mut();
        let fill = |nd: &NamedDim, names: &mut Interner, d: &mut Dim| -> Result<()> {
            *d.unassigned_mut() = nd.unassigned;
            for (k, a) in &nd.lines {
                let id = names.try_intern(k)? as usize;
                *d.line_mut(id) = *a;
            }
            Ok(())
        };
        fill(&named.channel, &mut cat.channels, &mut p.sums.channel)?;
        fill(&named.campaign, &mut cat.campaigns, &mut p.sums.campaign)?;
        fill(&named.content, &mut cat.contents, &mut p.sums.content)?;
        Ok(p)
    }

    /// Adds `other`'s sums into `self`. A detached partial merged with an
    /// attached one keeps (or takes) the model.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the two were made for different
    /// model configurations, currencies or breakdowns; [`Error::Overflow`]
    /// if a sum overflows. On error `self` is unchanged.
    pub fn merge(&mut self, other: &CreditPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        let overflow = |what| Error::Overflow { what };
        let (a, b) = (&self.sums, &other.sums);
        let mut sums = Sums {
            journeys: a
                .journeys
                .checked_add(b.journeys)
                .ok_or(overflow("journey count"))?,
            conversions: a
                .conversions
                .checked_add(b.conversions)
                .ok_or(overflow("conversion count"))?,
            value: a
                .value
                .checked_add(b.value)
                .ok_or(overflow("total value"))?,
            ..a.clone()
        };
        let mut catalog = self.scratch.catalog().clone();
        let theirs = other.scratch.catalog();
        let merge_dim = |mine: &mut Dim, names: &mut Interner, d: &Dim, their: &Interner| {
            mine.unassigned_mut().checked_merge(d.unassigned())?;
            // every name of theirs, in their order, so the lines stay the
            // names seen (see `Dim::named`)
            for (i, name) in their.iter().enumerate() {
                let id = names.try_intern(name)?;
                if let Some(acc) = d.line(i) {
                    mine.checked_add(id, acc)?;
                }
            }
            Ok::<(), Error>(())
        };
        merge_dim(
            &mut sums.channel,
            &mut catalog.channels,
            &b.channel,
            &theirs.channels,
        )?;
        merge_dim(
            &mut sums.campaign,
            &mut catalog.campaigns,
            &b.campaign,
            &theirs.campaigns,
        )?;
        merge_dim(
            &mut sums.content,
            &mut catalog.contents,
            &b.content,
            &theirs.contents,
        )?;
        self.sums = sums;
        *self.scratch.catalog_mut() = catalog;
        if self.config.model.is_none() {
            self.config.model.clone_from(&other.config.model);
        }
        Ok(())
    }

    /// The report: lines sorted by name, amounts exact.
    pub fn finish(&self) -> Report {
        self.named().into_report()
    }

    /// An estimate of the bytes the partial holds.
    pub fn size_bytes(&self) -> usize {
        let cat = self.scratch.catalog();
        let names = |i: &Interner| i.iter().map(|n| n.len() + 32).sum::<usize>();
        let lines = self.sums.channel.lines_len()
            + self.sums.campaign.lines_len()
            + self.sums.content.lines_len();
        std::mem::size_of::<CreditPartial>()
            + lines * (std::mem::size_of::<Acc>() + std::mem::size_of::<[u64; 2]>())
            + names(&cat.channels)
            + names(&cat.campaigns)
            + names(&cat.contents)
    }

    /// Credits every journey of `set` as `counts[i]` identical journeys:
    /// exactly, bit for bit, what observing journey `i` `counts[i]` times
    /// gives (each journey's own largest-remainder split, multiplied by its
    /// count), in time independent of the counts (a count of 2^62 costs
    /// what a count of 1 costs). This is the way in for aggregated data
    /// whose credit must equal the expanded journeys' to the cent (one
    /// distinct journey per row with how many times it occurred);
    /// [`observe_path`](Self::observe_path) instead splits a row's whole
    /// value once over the path.
    ///
    /// Cost: one model call and one split per journey of `set` with a
    /// non-zero count, summed into local sums indexed by the set's ids;
    /// the partial is changed once, at the end, after every check passed.
    /// Into an empty partial the set's catalog is adopted; otherwise the
    /// set's names are mapped once into a copy of the partial's catalog
    /// (so that an error leaves it unchanged). Every name of the set's
    /// catalog gets a line, as with [`observe_set`](Self::observe_set),
    /// also a name seen only on a journey whose count is 0 (which adds
    /// nothing else).
    ///
    /// # Errors
    ///
    /// [`Error::ModelNotAttached`] for a detached partial;
    /// [`Error::InvalidParameter`] when `counts` does not hold one count per
    /// journey of the set (`counts`) or the set's currency is not the
    /// partial's (`set`); the model's errors; [`Error::Overflow`] when a
    /// count or a sum overflows. On error the partial is unchanged.
    ///
    /// # Example
    ///
    /// Three journeys `email > search` worth $10.01 each and five
    /// `search` journeys that did not convert, under linear credit: one
    /// journey's split is 501 + 500 cents (the odd cent to the first
    /// touch), so email gets 3 x 501 and search 3 x 500 cents.
    ///
    /// ```
    /// use touchpoint::{CreditConfig, CreditPartial, JourneySet, SimpleJourney, SimpleTouch};
    /// use touchpoint::models::Linear;
    ///
    /// let t = "2024-01-01T00:00:00Z".parse()?;
    /// let won = SimpleJourney::new("won")
    ///     .touch(SimpleTouch::new("email", t))
    ///     .touch(SimpleTouch::new("search", t))
    ///     .converted(10.01);
    /// let lost = SimpleJourney::new("lost").touch(SimpleTouch::new("search", t));
    /// let set = JourneySet::from_journeys([&won, &lost])?;
    ///
    /// let mut p = CreditPartial::new(CreditConfig::new(Linear));
    /// p.observe_set_counted(&set, &[3, 5])?;
    /// let r = p.finish();
    /// assert_eq!((r.journeys(), r.conversions(), r.value_minor()), (8, 3, 3003));
    /// assert_eq!(r.channels().get("email").unwrap().value_minor(), 1503);
    /// assert_eq!(r.channels().get("search").unwrap().value_minor(), 1500);
    /// assert_eq!(r.channels().get("search").unwrap().conversions(), 1.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe_set_counted(&mut self, set: &JourneySet, counts: &[u64]) -> Result<()> {
        let model = self.attached()?;
        self.counted_by_breakdowns(model.as_ref(), set, counts)
    }

    /// [`observe_set_counted`](Self::observe_set_counted) with `model`
    /// given by reference (for a detached partial, or a model that is not
    /// `'static`; a concrete model type is also compiled into the loop).
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `model` is not the model the
    /// partial was made for; otherwise as
    /// [`observe_set_counted`](Self::observe_set_counted).
    pub fn observe_set_counted_with<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        set: &JourneySet,
        counts: &[u64],
    ) -> Result<()> {
        self.check_model(model)?;
        self.counted_by_breakdowns(model, set, counts)
    }

    /// Runs [`counted`](Self::counted) with the partial's breakdowns.
    fn counted_by_breakdowns<M: AttributionModel + ?Sized>(
        &mut self,
        m: &M,
        set: &JourneySet,
        counts: &[u64],
    ) -> Result<()> {
        match (
            self.config.breakdowns.campaigns,
            self.config.breakdowns.contents,
        ) {
            (true, true) => self.counted::<_, true, true>(m, set, counts),
            (true, false) => self.counted::<_, true, false>(m, set, counts),
            (false, true) => self.counted::<_, false, true>(m, set, counts),
            (false, false) => self.counted::<_, false, false>(m, set, counts),
        }
    }

    /// [`observe_set_counted`](Self::observe_set_counted) with the
    /// breakdowns chosen at compile time.
    fn counted<M: AttributionModel + ?Sized, const CP: bool, const CT: bool>(
        &mut self,
        model: &M,
        set: &JourneySet,
        counts: &[u64],
    ) -> Result<()> {
        if set.currency() != self.config.currency {
            return Err(Error::param(
                "set",
                format_args!("journeys in {:?}", set.currency()),
                "journeys in the partial's currency (JourneySet::with_currency)",
            ));
        }
        if counts.len() != set.len() {
            return Err(Error::param(
                "counts",
                format_args!("{} counts for {} journeys", counts.len(), set.len()),
                "one count per journey of the set",
            ));
        }
        // the totals, checked before anything is credited; they also bound
        // the local sums below (see `Counted`)
        let (_, _, converted, values) = set.fit_columns();
        let (mut journeys, mut conversions, mut value) =
            (self.sums.journeys, self.sums.conversions, self.sums.value);
        for ((&n, &won), &v) in counts.iter().zip(converted).zip(values) {
            journeys = journeys
                .checked_add(n)
                .ok_or_else(|| overflow("journey count"))?;
            if won {
                conversions = conversions
                    .checked_add(n)
                    .ok_or_else(|| overflow("conversion count"))?;
                value = value
                    .checked_add(i128::from(v) * i128::from(n))
                    .ok_or_else(|| overflow("total value"))?;
            }
        }
        let cat = set.catalog();
        let mut local = Counted {
            channel: vec![Acc::default(); cat.channels.len() + 1],
            campaign: vec![Acc::default(); if CP { cat.campaigns.len() + 1 } else { 1 }],
            content: vec![Acc::default(); if CT { cat.contents.len() + 1 } else { 1 }],
        };
        let kind = self.config.kind;
        let c = &mut self.crediter;
        for (view, &count) in set.iter().zip(counts) {
            if count == 0 || !view.converted() {
                continue;
            }
            local.journey::<M, CP, CT>(c, model, kind, &view, count)?;
        }
        // map the set's ids to the partial's, then check every sum before
        // changing anything
        let adopt = self.scratch.catalog().channels.is_empty()
            && self.scratch.catalog().campaigns.is_empty()
            && self.scratch.catalog().contents.is_empty();
        let (catalog, ids) = if adopt {
            (None, None)
        } else {
            let mut mine = self.scratch.catalog().clone();
            let map = |from: &Interner, to: &mut Interner| -> Result<Vec<u32>> {
                from.iter().map(|n| to.try_intern(n)).collect()
            };
            let ids = Remap {
                channel: map(&cat.channels, &mut mine.channels)?,
                campaign: map(&cat.campaigns, &mut mine.campaigns)?,
                content: map(&cat.contents, &mut mine.contents)?,
            };
            (Some(mine), Some(ids))
        };
        let target = |map: Option<&Vec<u32>>, slot: usize| -> u32 {
            let id = u32::try_from(slot).unwrap_or(0).wrapping_sub(1);
            match map {
                Some(m) if id != NONE_ID => Remap::lookup(m, id),
                _ => id,
            }
        };
        let dims = [
            (
                &self.sums.channel,
                &local.channel,
                ids.as_ref().map(|i| &i.channel),
            ),
            (
                &self.sums.campaign,
                &local.campaign,
                ids.as_ref().map(|i| &i.campaign),
            ),
            (
                &self.sums.content,
                &local.content,
                ids.as_ref().map(|i| &i.content),
            ),
        ];
        for (dim, sums, map) in dims {
            for (slot, acc) in sums.iter().enumerate() {
                let id = target(map, slot);
                let mut sum = if id == NONE_ID {
                    *dim.unassigned()
                } else {
                    dim.line(id as usize).copied().unwrap_or_default()
                };
                sum.checked_merge(acc)?;
            }
        }
        // every check passed: apply
        let dims = [
            (
                &mut self.sums.channel,
                &local.channel,
                ids.as_ref().map(|i| &i.channel),
            ),
            (
                &mut self.sums.campaign,
                &local.campaign,
                ids.as_ref().map(|i| &i.campaign),
            ),
            (
                &mut self.sums.content,
                &local.content,
                ids.as_ref().map(|i| &i.content),
            ),
        ];
        for (dim, sums, map) in dims {
            for (slot, acc) in sums.iter().enumerate() {
                if *acc != Acc::default() {
                    dim.checked_add(target(map, slot), acc)?;
                }
            }
        }
        (self.sums.journeys, self.sums.conversions, self.sums.value) =
            (journeys, conversions, value);
        match catalog {
            Some(mine) => *self.scratch.catalog_mut() = mine,
            None => {
                self.scratch = set.catalog_only();
                self.stager.forget();
            }
        }
        Ok(())
    }
}

/// The local sums of [`CreditPartial::observe_set_counted`], indexed by the
/// set's ids (slot 0 unassigned, slot `id + 1` the line of `id`, as
/// [`Dim`]).
///
/// Share-based credit adds unchecked: the counts' total fits in `u64`
/// (checked first), and each converted journey's credit sums to one
/// conversion and its value, so every slot stays below
/// `2^64 * 10^9 < 2^94` units and `2^64 * 2^53 = 2^117` minor units.
/// Full credit (a journey's value on every touch) has no such bound and
/// adds checked.
struct Counted {
    channel: Vec<Acc>,
    campaign: Vec<Acc>,
    content: Vec<Acc>,
}

/// `count` times one touch's credit, unchecked (see [`Counted`]).
#[inline(always)]
fn add_times(sums: &mut [Acc], id: u32, units: i64, value: i64, count: u64) {
    if let Some(acc) = sums.get_mut(Dim::slot(id)) {
        // credited units are never negative: reinterpreting is exact
        #[expect(clippy::cast_sign_loss, reason = "units >= 0")]
        let units = units as u64;
        acc.units += u128::from(units) * u128::from(count);
        acc.value += i128::from(value) * i128::from(count);
    }
}

/// `count` times one touch's credit, checked.
fn checked_add_times(sums: &mut [Acc], id: u32, units: i64, value: i64, count: u64) -> Result<()> {
    if let Some(acc) = sums.get_mut(Dim::slot(id)) {
        let add = Acc {
            units: u128::from(units.unsigned_abs()) * u128::from(count),
            value: i128::from(value) * i128::from(count),
        };
        let units = acc.units.checked_add(add.units);
        let value = acc.value.checked_add(add.value);
        match (units, value) {
            (Some(units), Some(value)) => *acc = Acc { units, value },
            (None, _) => return Err(overflow("credited conversions")),
            (_, None) => return Err(overflow("credited value")),
        }
    }
    Ok(())
}

impl Counted {
    /// Adds `count` times the credit of one converted journey.
    #[inline(always)]
    fn journey<M: AttributionModel + ?Sized, const CP: bool, const CT: bool>(
        &mut self,
        c: &mut Crediter,
        model: &M,
        kind: CreditKind,
        view: &JourneyView<'_>,
        count: u64,
    ) -> Result<()> {
        let n = view.len();
        let value = view.value_minor();
        if n == 0 {
            checked_add_times(&mut self.channel, NONE_ID, UNITS, value, count)?;
            if CP {
                checked_add_times(&mut self.campaign, NONE_ID, UNITS, value, count)?;
            }
            if CT {
                checked_add_times(&mut self.content, NONE_ID, UNITS, value, count)?;
            }
            return Ok(());
        }
        let sum = c.weigh(model, view)?;
        let (ch, cp, ct) = (view.channels(), view.campaign_ids(), view.content_ids());
        let touches = ch.iter().zip(cp).zip(ct).map(|((&h, &p), &t)| (h, p, t));
        credit_parts(
            c,
            kind,
            (n, value, sum),
            touches,
            |(h, p, t), u, v, full| {
                if full {
                    // a journey can add `n · value`, times `count`: checked
                    checked_add_times(&mut self.channel, h.0, u, v, count)?;
                    if CP {
                        checked_add_times(&mut self.campaign, p, u, v, count)?;
                    }
                    if CT {
                        checked_add_times(&mut self.content, t, u, v, count)?;
                    }
                } else {
                    add_times(&mut self.channel, h.0, u, v, count);
                    if CP {
                        add_times(&mut self.campaign, p, u, v, count);
                    }
                    if CT {
                        add_times(&mut self.content, t, u, v, count);
                    }
                }
                Ok(())
            },
        )
    }
}

crate::aggregate::journey_aggregate!(
    CreditPartial: CreditConfig => Report,
    new(config) = CreditPartial::new(config),
    finish(p) = Ok(CreditPartial::finish(p)),
);

/// One touch of a journey whose names are already coded in a
/// [`CreditPartial`]'s catalog: what
/// [`CreditPartial::observe_coded`] takes from a columnar reader that maps
/// each distinct name to a code once (per dictionary, say) instead of
/// hashing a name per touch.
///
/// Made with [`CodedTouch::new`] and its setters (the type is
/// `#[non_exhaustive]`: a later field will not break your code); the
/// fields are public to read and to set.
///
/// # Example
///
/// ```
/// use touchpoint::{CodedTouch, Milestone};
///
/// let t = CodedTouch::new(0, 1_000).campaign(2).cost(1.5).milestone(Milestone::LeadCreated);
/// assert_eq!((t.channel, t.campaign, t.content), (0, Some(2), None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CodedTouch {
    /// The channel's code, from [`CreditPartial::channel_code`].
    pub channel: u32,
    /// The time in milliseconds since the Unix epoch (what
    /// `DateTime::timestamp_millis` gives: sub-millisecond parts are
    /// floored, as [`JourneySet::push`] stores times).
    pub ts_millis: i64,
    /// The campaign's code, from [`CreditPartial::campaign_code`].
    pub campaign: Option<u32>,
    /// The content asset's code, from [`CreditPartial::content_code`].
    pub content: Option<u32>,
    /// The touch's cost in major units, as [`Touchpoint::cost`](crate::Touchpoint::cost).
    pub cost: Option<f64>,
    /// The funnel milestone the touch marks.
    pub milestone: Option<crate::touchpoint::Milestone>,
}

impl CodedTouch {
    /// A touch of channel code `channel` at `ts_millis` (milliseconds since
    /// the Unix epoch), with no campaign, content, cost or milestone.
    pub fn new(channel: u32, ts_millis: i64) -> CodedTouch {
        CodedTouch {
            channel,
            ts_millis,
            campaign: None,
            content: None,
            cost: None,
            milestone: None,
        }
    }

    /// Sets the campaign's code.
    #[must_use]
    pub fn campaign(mut self, code: u32) -> CodedTouch {
        self.campaign = Some(code);
        self
    }

    /// Sets the content asset's code.
    #[must_use]
    pub fn content(mut self, code: u32) -> CodedTouch {
        self.content = Some(code);
        self
    }

    /// Sets the touch's cost, in major units.
    #[must_use]
    pub fn cost(mut self, cost: f64) -> CodedTouch {
        self.cost = Some(cost);
        self
    }

    /// Sets the funnel milestone the touch marks.
    #[must_use]
    pub fn milestone(mut self, milestone: Milestone) -> CodedTouch {
        self.milestone = Some(milestone);
        self
    }
}

/// Journeys given by codes: the columnar way into a partial.
impl CreditPartial {
    /// The code of channel `name` in this partial's catalog (interned if
    /// new). Codes stay valid for the partial's life: observing and
    /// merging add names, never renumber them.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] past `u32::MAX - 1` distinct names.
    pub fn channel_code(&mut self, name: &str) -> Result<u32> {
        self.scratch.catalog_mut().channels.try_intern(name)
    }

    /// The code of campaign `name` (see [`channel_code`](Self::channel_code)).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] past `u32::MAX - 1` distinct names.
    pub fn campaign_code(&mut self, name: &str) -> Result<u32> {
        self.scratch.catalog_mut().campaigns.try_intern(name)
    }

    /// The code of content asset `name` (see [`channel_code`](Self::channel_code)).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] past `u32::MAX - 1` distinct names.
    pub fn content_code(&mut self, name: &str) -> Result<u32> {
        self.scratch.catalog_mut().contents.try_intern(name)
    }

    /// Credits one journey given by its id, outcome and coded touches:
    /// the same credit, bit for bit, as [`observe`](Self::observe) of the
    /// journey with the names the codes stand for (touches are sorted by
    /// time, stably, and amounts converted as [`JourneySet::push`] does),
    /// without a hash lookup per touch.
    ///
    /// # Errors
    ///
    /// [`Error::ModelNotAttached`] for a detached partial;
    /// [`Error::InvalidParameter`] (`touches`) for a code this partial did
    /// not hand out; otherwise as [`observe`](Self::observe).
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::{CodedTouch, CreditConfig, CreditPartial, Outcome, models::Linear};
    ///
    /// let mut p = CreditPartial::new(CreditConfig::new(Linear));
    /// let (email, search) = (p.channel_code("email")?, p.channel_code("search")?);
    /// let touch = CodedTouch::new;
    /// let outcome = Outcome { converted: true, value: 10.0, conversion_ts: None };
    /// // given out of time order: sorted as `observe` sorts
    /// p.observe_coded("j1", &outcome, &[touch(search, 2_000), touch(email, 1_000)])?;
    /// let r = p.finish();
    /// assert_eq!(r.channels().get("email").unwrap().value_minor(), 500);
    /// assert_eq!(r.channels().get("search").unwrap().value_minor(), 500);
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn observe_coded(
        &mut self,
        id: &str,
        outcome: &crate::journey::Outcome,
        touches: &[CodedTouch],
    ) -> Result<()> {
        let Some(model) = self.config.model.as_deref() else {
            return Err(Error::ModelNotAttached {
                fingerprint: self.config.model_fingerprint.clone(),
            });
        };
        self.stager
            .stage_coded(id, outcome, touches, &mut self.scratch)?;
        Self::credit_staged(
            &self.config,
            &mut self.sums,
            &mut self.crediter,
            &self.scratch,
            model,
        )
    }
}

#[cfg(test)]
mod coded_tests {
    use super::*;
    use crate::journey::Outcome;
    use crate::models::{Linear, TimeDecay, WShaped};
    use crate::touchpoint::{Milestone, Touchpoint};

    /// Journeys with unsorted touches, equal times, campaigns, contents,
    /// costs, milestones, a conversion without touches and one that did
    /// not convert.
    fn journeys() -> Vec<SimpleJourney> {
        let t = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        vec![
            SimpleJourney::new("a")
                .touch(SimpleTouch::new("email", t(3_000)).campaign("spring"))
                .touch(SimpleTouch::new("search", t(1_000)).cost(0.25))
                .touch(SimpleTouch::new("display", t(1_000)).content("banner"))
                .touch(SimpleTouch::new("email", t(2_000)).milestone(Milestone::LeadCreated))
                .converted(10.01),
            SimpleJourney::new("b").converted(4.0),
            SimpleJourney::new("c").touch(SimpleTouch::new("search", t(5_000))),
            SimpleJourney::new("d")
                .touch(SimpleTouch::new("direct", t(9_000)).milestone(Milestone::Closed))
                .touch(SimpleTouch::new("display", t(8_000)))
                .converted(7.0),
        ]
    }

    fn coded(p: &mut CreditPartial, j: &SimpleJourney) -> Result<()> {
        let mut touches = Vec::new();
        for t in j.touchpoints() {
            touches.push(CodedTouch {
                channel: p.channel_code(t.channel())?,
                ts_millis: t.timestamp().timestamp_millis(),
                campaign: t.campaign().map(|c| p.campaign_code(c)).transpose()?,
                content: t.content().map(|c| p.content_code(c)).transpose()?,
                cost: t.cost(),
                milestone: t.milestone(),
            });
        }
        let o: Outcome = j.outcome();
        p.observe_coded(j.id(), &o, &touches)
    }

    #[test]
    fn coded_journeys_credit_as_observed_ones() {
        for config in [
            CreditConfig::new(Linear),
            CreditConfig::new(WShaped::default()),
            CreditConfig::new(TimeDecay::with_half_life_days(1.0).unwrap_or_default()),
        ] {
            let mut by_name = CreditPartial::new(config.clone());
            let mut by_code = CreditPartial::new(config);
            for j in journeys() {
                by_name.observe(&j).unwrap();
                coded(&mut by_code, &j).unwrap();
            }
            assert_eq!(by_name.finish(), by_code.finish());
            assert_eq!(
                serde_json::to_string(&by_name).unwrap(),
                serde_json::to_string(&by_code).unwrap()
            );
        }
    }

    #[test]
    fn foreign_codes_and_bad_amounts_are_refused() {
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        let email = p.channel_code("email").unwrap();
        let touch = |channel| CodedTouch {
            channel,
            ts_millis: 0,
            campaign: None,
            content: None,
            cost: None,
            milestone: None,
        };
        let won = Outcome {
            converted: true,
            value: 1.0,
            conversion_ts: None,
        };
        let e = p.observe_coded("j", &won, &[touch(email + 1)]).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
        let e = p
            .observe_coded(
                "j",
                &won,
                &[CodedTouch {
                    campaign: Some(0),
                    ..touch(email)
                }],
            )
            .unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
        let bad = Outcome { value: -1.0, ..won };
        let e = p.observe_coded("j", &bad, &[touch(email)]).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { .. }), "{e}");
        let e = p
            .observe_coded(
                "j",
                &won,
                &[CodedTouch {
                    cost: Some(f64::NAN),
                    ..touch(email)
                }],
            )
            .unwrap_err();
        assert!(matches!(e, Error::InvalidCost { touch: 0, .. }), "{e}");
        // nothing was counted; a good journey still goes in
        assert_eq!(p.journeys(), 0);
        p.observe_coded("j", &won, &[touch(email)]).unwrap();
        assert_eq!(
            p.finish().channels().get("email").unwrap().value_minor(),
            100
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Linear;

    fn journey() -> SimpleJourney {
        let t = "2024-01-01T00:00:00Z".parse().unwrap_or_default();
        SimpleJourney::new("a")
            .touch(SimpleTouch::new("email", t))
            .converted(1.0)
    }

    #[test]
    fn a_set_in_another_currency_is_refused() -> Result<()> {
        // 1.00 in 0 decimals is 1 minor unit; summed into a 2-decimal
        // partial it would read as 0.01
        let mut yen = JourneySet::with_currency(Currency::new(0)?);
        yen.push(&journey())?;
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        let e = p.observe_set(&yen).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    parameter: "set",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(p.finish().value_minor(), 0, "the partial is unchanged");
        let mut same = CreditPartial::new(CreditConfig::new(Linear).with_currency(yen.currency()));
        same.observe_set(&yen)?;
        assert_eq!(same.finish().value_minor(), 1);
        Ok(())
    }

    #[test]
    fn observe_into_saturated_partial_is_an_error() {
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        p.observe(&journey()).unwrap();
        // counts at their limits, as a hostile serialized partial can carry
        let mut full = p.clone();
        full.sums.journeys = u64::MAX;
        let before = full.finish();
        assert!(matches!(
            full.observe(&journey()),
            Err(Error::Overflow {
                what: "journey count"
            })
        ));
        assert_eq!(full.finish(), before, "unchanged on error");
        // a line at the limit still takes one more touch exactly
        let mut at_limit = p.clone();
        at_limit.sums.channel.line_mut(0).units = ACC_LIMIT;
        at_limit.observe(&journey()).unwrap();
        assert_eq!(
            at_limit.sums.channel.line(0).map(|a| a.units),
            Some(ACC_LIMIT + u128::from(CONVERSION_UNITS))
        );
        // but a merge that would pass the limit is an error, not a wrap
        let other = at_limit.clone();
        assert!(matches!(
            at_limit.merge(&other),
            Err(Error::Overflow { .. })
        ));
    }

    /// Journeys the streaming front end must stage exactly as
    /// `JourneySet::push` does: touches out of time order with ties,
    /// campaigns and contents on some touches, names longer than 16 bytes
    /// and of every short length, a conversion time.
    fn tricky() -> Vec<SimpleJourney> {
        let at =
            |s: i64| chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default();
        let names = [
            "e",
            "em",
            "ema",
            "email",
            "paid_search",
            "organic_search_brand",
            "x",
        ];
        let mut out = Vec::new();
        for k in 0..40_usize {
            let mut j = SimpleJourney::new(format!("j{k}"));
            for i in 0..(k % 7 + 1) {
                // out of order, with ties
                let s = ((i * 7 + k) % 5) as i64 * 3600;
                let mut t = SimpleTouch::new(names[(i + k) % names.len()], at(s));
                if (i + k) % 3 == 0 {
                    t = t.campaign(format!("campaign_with_a_long_name_{}", i % 2));
                }
                if (i + k) % 4 == 1 {
                    t = t.content(names[i % names.len()]);
                }
                if i == 1 && k % 5 == 0 {
                    t = t.milestone(crate::touchpoint::Milestone::LeadCreated);
                }
                j = j.touch(t);
            }
            if k % 3 != 2 {
                #[expect(clippy::cast_precision_loss, reason = "small")]
                let v = 10.0 + k as f64 * 1.37;
                j = j.converted(v).converted_at(at(40_000));
            }
            out.push(j);
        }
        out
    }

    #[test]
    fn streaming_front_end_stages_as_push_does() {
        let journeys = tricky();
        let set = JourneySet::from_journeys(&journeys).unwrap();
        for name in [
            "linear",
            "first_touch",
            "time_decay",
            "position_based",
            "w_shaped",
            "participation",
        ] {
            for b in [
                Breakdowns::ALL,
                Breakdowns::CHANNELS,
                Breakdowns::new(true, false),
                Breakdowns::new(false, true),
            ] {
                let config = CreditConfig::by_name(name).unwrap().with_breakdowns(b);
                let batch = crate::credit::attribute_with(&config, &set).unwrap();
                let mut p = CreditPartial::new(config);
                for j in &journeys {
                    p.observe(j).unwrap();
                }
                assert_eq!(p.finish(), batch, "{name} {b:?}");
                // the same ids too: names interned in time order, whether a
                // journey converted (staged) or not (interned only)
                let (got, want) = (p.scratch.catalog(), set.catalog());
                assert!(got.channels.iter().eq(want.channels.iter()));
                assert!(got.campaigns.iter().eq(want.campaigns.iter()));
                assert!(got.contents.iter().eq(want.contents.iter()));
            }
        }
    }

    /// The staged journey's columns (times, names, costs, milestones) are
    /// those `push` builds, journey by journey, for touches out of time
    /// order with ties: the first pass's columns are put in time order with
    /// the same stable permutation as the names.
    #[test]
    fn staged_columns_are_pushed_columns() {
        let mut journeys = tricky();
        for (k, j) in journeys.iter_mut().enumerate() {
            for (i, t) in j.touchpoints.iter_mut().enumerate() {
                if (i + k) % 2 == 0 {
                    #[expect(clippy::cast_precision_loss, reason = "small")]
                    let c = (i * 10 + k) as f64 / 100.0;
                    t.cost = Some(c);
                }
            }
        }
        let mut stager = Stager::default();
        let mut scratch = JourneySet::new();
        let mut pushed = JourneySet::new();
        let mut staged = 0;
        for j in &journeys {
            pushed.push(j).unwrap();
            if stager.stage(j, &mut scratch).unwrap() != Staged::Set {
                continue;
            }
            staged += 1;
            let (Some(got), Some(want)) = (scratch.get(0), pushed.get(pushed.len() - 1)) else {
                panic!("one staged journey");
            };
            assert_eq!(scratch.len(), 1);
            assert_eq!(got.id(), want.id());
            assert_eq!(got.value_minor(), want.value_minor());
            assert_eq!(got.conversion_ts(), want.conversion_ts());
            assert_eq!(got.timestamps(), want.timestamps(), "{}", want.id());
            assert_eq!(got.costs(), want.costs(), "{}", want.id());
            assert_eq!(got.milestones(), want.milestones(), "{}", want.id());
            let names = |v: &JourneyView<'_>, set: &JourneySet| -> Vec<String> {
                v.channels()
                    .iter()
                    .map(|&c| set.catalog().channel_name(c).to_owned())
                    .collect()
            };
            assert_eq!(names(&got, &scratch), names(&want, &pushed));
            assert_eq!(got.campaign_ids(), want.campaign_ids());
            assert_eq!(got.content_ids(), want.content_ids());
        }
        assert!(staged > 20, "{staged}");
        // some journeys are out of order and carry costs: the permutation ran
        assert!(journeys.iter().any(|j| {
            j.touchpoints.windows(2).any(|w| w[0].ts > w[1].ts)
                && j.touchpoints.iter().any(|t| t.cost.is_some())
                && j.outcome().converted
        }));
    }

    #[test]
    fn a_rejected_journey_interns_nothing() {
        let t = "2024-01-01T00:00:00Z".parse().unwrap_or_default();
        let bad = SimpleJourney::new("bad")
            .touch(SimpleTouch::new("never_seen", t).campaign("nor_this"))
            .touch(SimpleTouch::new("email", t).cost(f64::NAN))
            .converted(1.0);
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        p.observe(&journey()).unwrap();
        assert!(matches!(
            p.observe(&bad),
            Err(Error::InvalidCost { touch: 1, .. })
        ));
        // the same for a journey that did not convert (interned, not staged)
        let bad = SimpleJourney::new("bad")
            .touch(SimpleTouch::new("never_seen", t).campaign("nor_this"))
            .touch(SimpleTouch::new("email", t).cost(-1.0));
        assert!(matches!(
            p.observe(&bad),
            Err(Error::InvalidCost { touch: 1, .. })
        ));
        p.observe(&journey()).unwrap();
        let r = p.finish();
        assert!(r.channels().get("never_seen").is_none());
        assert!(r.campaigns().lines().is_empty());
        assert_eq!(r.journeys(), 2);
        assert_eq!(
            r.channels().get("email").map(|c| c.value_minor()),
            Some(200)
        );
    }

    #[test]
    fn streamed_and_batch_partials_name_the_same_lines() {
        let t = "2024-01-01T00:00:00Z".parse().unwrap_or_default();
        let unconverted = SimpleJourney::new("b").touch(SimpleTouch::new("display", t));
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        p.observe(&unconverted).unwrap();
        p.observe(&journey()).unwrap();
        let set = JourneySet::from_journeys([&unconverted, &journey()]).unwrap();
        let report = crate::credit::attribute(&Linear, &set).unwrap();
        assert_eq!(p.finish(), report);
        // "display" earned nothing but was seen: a zero line in both
        assert_eq!(
            report.channels().get("display").map(|c| c.value_minor()),
            Some(0)
        );
    }
}

#[cfg(test)]
mod counted_tests {
    use super::*;
    use crate::touchpoint::Milestone;
    use proptest::prelude::*;

    /// Small journeys from a seed: 0 to 5 touches over four channels,
    /// some with a campaign, a content asset or a milestone, some not
    /// converted, values with odd cents.
    fn journeys(seed: u64, n: usize) -> Vec<SimpleJourney> {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let names = ["email", "search", "display", "direct"];
        let t = |ms: u64| {
            chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
                .unwrap_or_default()
        };
        (0..n)
            .map(|k| {
                let mut j = SimpleJourney::new(format!("j{k}"));
                for _ in 0..next() % 6 {
                    let r = next();
                    let mut touch = SimpleTouch::new(names[(r % 4) as usize], t(r % 1_000_000_000));
                    if r % 3 == 0 {
                        touch = touch.campaign(format!("c{}", r % 5));
                    }
                    if r % 5 == 1 {
                        touch = touch.content("banner");
                    }
                    if r % 7 == 2 {
                        touch = touch.milestone(Milestone::LeadCreated);
                    }
                    if r % 11 == 3 {
                        touch = touch.milestone(Milestone::OpportunityCreated);
                    }
                    j = j.touch(touch);
                }
                if next() % 4 != 0 {
                    #[expect(clippy::cast_precision_loss, reason = "small")]
                    let v = (next() % 100_000) as f64 / 100.0;
                    j = j.converted(v);
                }
                j
            })
            .collect()
    }

    fn expanded(
        config: &CreditConfig,
        pre: &[SimpleJourney],
        js: &[SimpleJourney],
        counts: &[u64],
    ) -> CreditPartial {
        let mut p = CreditPartial::new(config.clone());
        for j in pre {
            p.observe(j).unwrap();
        }
        for (j, &c) in js.iter().zip(counts) {
            for _ in 0..c {
                p.observe(j).unwrap();
            }
        }
        p
    }

    fn counted(
        config: &CreditConfig,
        pre: &[SimpleJourney],
        js: &[SimpleJourney],
        counts: &[u64],
    ) -> CreditPartial {
        let mut p = CreditPartial::new(config.clone());
        for j in pre {
            p.observe(j).unwrap();
        }
        let set = JourneySet::from_journeys(js).unwrap();
        p.observe_set_counted(&set, counts).unwrap();
        p
    }

    const MODELS: [&str; 8] = [
        "first_touch",
        "last_touch",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
        "full_path",
        "participation",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Counted journeys credit exactly as the journeys observed that
        /// many times, into an empty partial (the set's catalog adopted)
        /// and into one that already holds names (mapped).
        #[test]
        fn counted_is_the_expanded_journeys(seed in any::<u64>(), counts in proptest::collection::vec(1_u64..4, 1..12), pre in 0_usize..3) {
            let js = journeys(seed, counts.len());
            let before = journeys(seed ^ 0xABCD, pre);
            for name in MODELS {
                for b in [Breakdowns::ALL, Breakdowns::CHANNELS, Breakdowns::new(true, false)] {
                    let config = CreditConfig::by_name(name).unwrap().with_breakdowns(b);
                    let want = expanded(&config, &before, &js, &counts);
                    let got = counted(&config, &before, &js, &counts);
                    prop_assert_eq!(want.finish(), got.finish(), "{} {:?}", name, b);
                    prop_assert_eq!(
                        serde_json::to_string(&want).unwrap(),
                        serde_json::to_string(&got).unwrap()
                    );
                }
            }
        }
    }

    #[test]
    fn a_huge_count_is_the_count_times_one_journey() {
        let t = "2024-01-01T00:00:00Z".parse().unwrap_or_default();
        let j = SimpleJourney::new("j")
            .touch(SimpleTouch::new("email", t))
            .touch(SimpleTouch::new("search", t))
            .touch(SimpleTouch::new("display", t))
            .converted(1.00);
        let set = JourneySet::from_journeys([&j]).unwrap();
        let mut p = CreditPartial::new(CreditConfig::by_name("linear").unwrap());
        let count = 1_u64 << 62;
        p.observe_set_counted(&set, &[count]).unwrap();
        let r = p.finish();
        // one journey: 34, 33, 33 cents; 333,333,334 + 2 x 333,333,333 units
        let line = |n: &str| {
            r.channels()
                .get(n)
                .map(|l| (l.conversion_units(), l.value_minor()))
        };
        let c = u128::from(count);
        let v = i128::from(count);
        assert_eq!(line("email"), Some((333_333_334 * c, 34 * v)));
        assert_eq!(line("search"), Some((333_333_333 * c, 33 * v)));
        assert_eq!(line("display"), Some((333_333_333 * c, 33 * v)));
        assert_eq!(
            (r.journeys(), r.conversions(), r.value_minor()),
            (count, count, 100 * v)
        );
        assert_eq!(r.campaigns().unassigned().value_minor(), 100 * v);
    }

    #[test]
    fn errors_leave_the_partial_unchanged() {
        let js = journeys(7, 6);
        let set = JourneySet::from_journeys(&js).unwrap();
        let mut p = CreditPartial::new(CreditConfig::by_name("linear").unwrap());
        p.observe(&js[0]).unwrap();
        let before = serde_json::to_string(&p).unwrap();
        // one count missing
        let e = p.observe_set_counted(&set, &[1; 5]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    parameter: "counts",
                    ..
                }
            ),
            "{e}"
        );
        // the journey count overflows on the last journey
        let e = p
            .observe_set_counted(&set, &[1, 1, 1, 1, 1, u64::MAX - 3])
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Overflow {
                    what: "journey count"
                }
            ),
            "{e}"
        );
        // a set in another currency
        let mut yen = JourneySet::with_currency(Currency::new(0).unwrap());
        yen.push(&js[0]).unwrap();
        let e = p.observe_set_counted(&yen, &[1]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    parameter: "set",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(serde_json::to_string(&p).unwrap(), before);
        // a line at the limit: the credit would pass it
        let mut full = p.clone();
        let won = SimpleJourney::new("w")
            .touch(SimpleTouch::new("email", chrono::DateTime::UNIX_EPOCH))
            .converted(1.0);
        full.observe(&won).unwrap();
        let id = full.channel_code("email").unwrap() as usize;
        full.sums.channel.line_mut(id).units = ACC_LIMIT;
        let at_limit = full.finish();
        let e = full
            .observe_set_counted(&JourneySet::from_journeys([&won]).unwrap(), &[1])
            .unwrap_err();
        assert!(matches!(e, Error::Overflow { .. }), "{e}");
        assert_eq!(full.finish(), at_limit);
        assert_eq!(full.journeys(), p.journeys() + 1);
    }

    #[test]
    fn observe_path_known_answer_and_unchanged_on_error() {
        let mut p = CreditPartial::new(CreditConfig::by_name("linear").unwrap());
        p.observe_path(&["a", "b", "a"], 3, 1_000, 2).unwrap();
        // one row, 3 conversions of 1000 cents over a > b > a: 334 / 333 /
        // 333 cents, and units 3 x (333,333,334 + 333,333,333) for a
        let r = p.finish();
        let line = |n: &str| {
            r.channels()
                .get(n)
                .map(|l| (l.conversion_units(), l.value_minor()))
        };
        assert_eq!(line("a"), Some((3 * 666_666_667, 667)));
        assert_eq!(line("b"), Some((3 * 333_333_333, 333)));
        assert_eq!(r.journeys(), 5);
        let mut full = p.clone();
        let id = full.channel_code("b").unwrap() as usize;
        full.sums.channel.line_mut(id).units = ACC_LIMIT;
        let before = full.finish();
        let e = full.observe_path(&["a", "b"], 1, 10, 0).unwrap_err();
        assert!(matches!(e, Error::Overflow { .. }), "{e}");
        assert_eq!(full.finish(), before, "a is not credited either");
        let e = full.observe_path(&["a"], u64::MAX, 0, 1).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Overflow {
                    what: "journey count"
                }
            ),
            "{e}"
        );
        assert_eq!(full.finish(), before);
        // an empty path: the unassigned buckets, campaigns and contents too
        let mut q = CreditPartial::new(CreditConfig::by_name("linear").unwrap());
        let empty: [&str; 0] = [];
        q.observe_path(&empty, 2, 500, 0).unwrap();
        let r = q.finish();
        assert_eq!(r.channels().unassigned().value_minor(), 500);
        assert_eq!(
            r.campaigns().unassigned().conversion_units(),
            2 * 1_000_000_000
        );
    }
}

#[cfg(test)]
mod flush_tests {
    use super::*;
    use crate::models::{Linear, PositionBased, TimeDecay};

    /// 3,000 journeys near the largest value (2^53 minor units) each, in
    /// one batch: the 64-bit parts of the batch path would wrap without
    /// their flush every `FLUSH_JOURNEYS` journeys (3,000 · 2^53 > 2^64).
    /// The batch report must equal the streamed one (direct 128-bit adds)
    /// and the hand total: every journey's whole value and one conversion
    /// on its channels.
    #[test]
    fn batches_past_the_flush_interval_sum_exactly() -> Result<()> {
        let t: chrono::DateTime<chrono::Utc> = "2024-01-01T00:00:00Z".parse().expect("a time");
        let t2 = t + chrono::Duration::days(1);
        // close to the largest value, 2^53 cents
        #[expect(clippy::cast_precision_loss, reason = "exact: 2^53 - 1024")]
        let big = (MAX_MINOR - 1024) as f64 / 100.0;
        let journeys: Vec<SimpleJourney> = (0..3000)
            .map(|i| {
                SimpleJourney::new(format!("j{i}"))
                    .touch(SimpleTouch::new("a", t).campaign("c"))
                    .touch(SimpleTouch::new("b", t2))
                    .converted(big)
            })
            .collect();
        let set = JourneySet::from_journeys(&journeys)?;
        let each = set.get(0).map_or(0, |j| j.value_minor());
        // within a few units of 2^53 (the cents round trip through f64)
        assert!((MAX_MINOR - 2048..=MAX_MINOR).contains(&each), "{each}");
        let total = 3000 * i128::from(each);
        for config in [
            CreditConfig::new(Linear),
            CreditConfig::new(TimeDecay::default()),
            CreditConfig::new(PositionBased::u_shaped()),
        ] {
            let mut batch = CreditPartial::new(config.clone());
            batch.observe_set(&set)?;
            let mut stream = CreditPartial::new(config);
            for j in &journeys {
                stream.observe(j)?;
            }
            let (b, s) = (batch.finish(), stream.finish());
            assert_eq!(b, s);
            let ch = b.channels();
            let a = ch.get("a").map_or(0, |l| l.value_minor());
            let bb = ch.get("b").map_or(0, |l| l.value_minor());
            assert_eq!(a + bb, total);
            // the campaign "c" is on touch "a" only, the rest unassigned
            let cp = b.campaigns();
            assert_eq!(cp.get("c").map_or(0, |l| l.value_minor()), a);
            assert_eq!(cp.unassigned().value_minor(), bb);
        }
        Ok(())
    }
}
