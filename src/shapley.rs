//! Shapley value attribution: channels are players, coalitions are the
//! channel sets of journeys.
//!
//! Three value functions ([`ShapleyVariant`]):
//!
//! - **Simplified**: `v(S)` = conversions of the journeys whose channel set
//!   is `S` or a subset of `S`. Its Shapley value has a closed form: each
//!   converting journey's conversion (and value) is shared equally among its
//!   distinct channels, `φ(c) = Σ_{S ∋ c} conv(S) / |S|` (each journey set
//!   `T` is a unanimity game of weight `conv(T)`). No limit on channels.
//! - **Rate**: `v(S)` = conversion rate of the journeys whose channel set is
//!   exactly `S`, `conv(S) / (conv(S) + null(S))` (non-converting journeys
//!   needed). Each converting coalition `J` (a journey's channel set) plays
//!   its own game on the subsets of its channels, solved exactly over all
//!   `2^|J|` subsets in `O(2^|J| |J|)`, up to [`ShapleyConfig::exact_limit`]
//!   channels per journey (default 20, at most 22); its conversions and
//!   value are shared among `J`'s channels in proportion to `max(φ, 0)`
//!   (equally if no value is positive), and channel totals are summed over
//!   coalitions ([`Shapley::values`] holds these attributed conversions).
//!   This is the per-journey game of DP6's marketing-attribution-models
//!   (uncapped); a single game over all channels would let rare large
//!   coalitions with extreme rates decide everyone's credit (108 points from
//!   the truth on the sample data, against 23 for this form).
//!   **Never-observed coalitions are worth 0**: nothing was seen, so nothing
//!   is assumed (the alternative "best rate of an observed sub-coalition"
//!   was measured too: 24.3 points from the truth on the sample, against
//!   23.2). Negative Shapley values (a mix that converts worse than a
//!   sub-mix) get no credit rather than a negative one.
//! - **Ordered**: the simplified game on ordered coalitions (channels in
//!   order of first touch): each converting journey's credit is shared
//!   equally among its distinct channels and recorded by position
//!   ([`Shapley::positions`]); channel totals equal the simplified ones.
//!
//! Past the exact limit (a journey with more distinct channels) the rate
//! variant fails with [`Error::TooLarge`], unless
//! [`ShapleyConfig::sampling`] asks for permutation sampling of those
//! coalitions' games: `m` random orders from splitmix64 keyed by the seed
//! and the coalition, each channel's value the mean of its marginal
//! contributions; [`Shapley::std_errors`] then reports each channel's
//! standard error (sampled coalitions' errors, scaled by their conversions,
//! added in quadrature; the normalization is treated as fixed, so it is
//! approximate). Sampling happens only in `finish`.
//!
//! # Worked example
//!
//! Journeys `{A, B}` converting with value 30, `{A}` converting with 10,
//! `{B}` not converting. Simplified: `A = 1/2 + 1 = 1.5`, `B = 1/2`
//! conversions; value `A = 15 + 10 = 25`, `B = 15`.
//! Rate: `v({A}) = 1`, `v({B}) = 0`, `v({A,B}) = 1`; in the game of
//! `{A, B}`, `φ(A) = ½ (1 - 0) + ½ (1 - 0) = 1`, `φ(B) = ½ (0 - 0) + ½ (1 - 1) = 0`,
//! so its conversion goes to `A`, as does the one of `{A}`: `A = 2`, `B = 0`.
//!
//! ```
//! use touchpoint::shapley::{ShapleyConfig, ShapleyFit, ShapleyVariant};
//!
//! let mut fit = ShapleyFit::new(ShapleyConfig::new(ShapleyVariant::Simplified));
//! fit.observe_path(&["A", "B"], 1, 3000, 0)?;
//! fit.observe_path(&["A"], 1, 1000, 0)?;
//! fit.observe_path(&["B"], 0, 0, 1)?;
//! let m = fit.finish()?;
//! let c = m.credits();
//! assert_eq!(c.get("A").unwrap().conversions(), 1.5);
//! assert_eq!(c.get("B").unwrap().value_minor(), 1500);
//!
//! let mut fit = ShapleyFit::new(ShapleyConfig::new(ShapleyVariant::Rate));
//! fit.observe_path(&["A", "B"], 1, 3000, 0)?;
//! fit.observe_path(&["A"], 1, 1000, 0)?;
//! fit.observe_path(&["B"], 0, 0, 1)?;
//! let m = fit.finish()?;
//! assert_eq!(m.values(), &[2.0, 0.0]);
//! assert_eq!(m.credits().get("A").unwrap().value_minor(), 4000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Fitting and merging
//!
//! A [`ShapleyFit`] keeps integer counts per distinct coalition (channel
//! set, or first-touch order for the ordered variant) keyed by channel
//! names, so memory grows with distinct coalitions, not journeys; merging
//! remaps coalitions by name, and `finish` sorts channels by name and
//! coalitions canonically, so any partition merged in any order gives the
//! same bits.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::credit::{CONVERSION_UNITS, apportion_weighted};
use crate::dataset::{JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::markov::{ChannelCredits, per_channel_weights, validate_path, walk_columns};
use crate::model::{AttributionModel, Weights};
use crate::money::Currency;

/// Format version of serialized [`ShapleyFit`]s.
pub const FORMAT_VERSION: u32 = 1;
/// The largest [`ShapleyConfig::exact_limit`] accepted.
pub const MAX_EXACT_LIMIT: u8 = 22;
/// Most channels permutation sampling handles.
pub const MAX_SAMPLED_CHANNELS: usize = 128;

/// Which coalition value function (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ShapleyVariant {
    /// Conversions of journeys whose channel set is within the coalition;
    /// closed form.
    #[default]
    Simplified,
    /// Conversion rate of journeys whose channel set is exactly the
    /// coalition; exact over all subsets.
    Rate,
    /// Simplified, on ordered coalitions, credited by position.
    Ordered,
}

impl ShapleyVariant {
    fn name(self) -> &'static str {
        match self {
            ShapleyVariant::Simplified => "shapley_simplified",
            ShapleyVariant::Rate => "shapley_rate",
            ShapleyVariant::Ordered => "shapley_ordered",
        }
    }
}

/// Permutation sampling past the exact limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sampling {
    /// Number of random channel orders.
    pub permutations: u32,
    /// Seed of the splitmix64 generator.
    pub seed: u64,
}

/// Configuration of a Shapley fit.
///
/// # Example
///
/// ```
/// use touchpoint::shapley::{Sampling, ShapleyConfig, ShapleyVariant};
///
/// let c = ShapleyConfig::new(ShapleyVariant::Rate)
///     .exact_limit(16)?
///     .sampling(Some(Sampling { permutations: 2000, seed: 7 }));
/// assert_eq!(c.variant(), ShapleyVariant::Rate);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ShapleyConfigWire")]
pub struct ShapleyConfig {
    variant: ShapleyVariant,
    exact_limit: u8,
    sampling: Option<Sampling>,
    currency: Currency,
}

/// The serialized form of a [`ShapleyConfig`], whose exact limit is checked
/// as by [`ShapleyConfig::exact_limit`] when read (an unchecked limit let
/// the rate game enumerate `2^|J|` subsets of up to 128 channels).
#[derive(Deserialize)]
struct ShapleyConfigWire {
    variant: ShapleyVariant,
    exact_limit: u8,
    sampling: Option<Sampling>,
    currency: Currency,
}

impl TryFrom<ShapleyConfigWire> for ShapleyConfig {
    type Error = Error;
    fn try_from(w: ShapleyConfigWire) -> Result<ShapleyConfig> {
        Ok(ShapleyConfig::new(w.variant)
            .exact_limit(w.exact_limit)?
            .sampling(w.sampling)
            .with_currency(w.currency))
    }
}

impl Default for ShapleyConfig {
    fn default() -> ShapleyConfig {
        ShapleyConfig::new(ShapleyVariant::Simplified)
    }
}

impl ShapleyConfig {
    /// `variant`, exact limit 20 channels, no sampling, 2 decimals.
    pub fn new(variant: ShapleyVariant) -> ShapleyConfig {
        ShapleyConfig {
            variant,
            exact_limit: 20,
            sampling: None,
            currency: Currency::default(),
        }
    }

    /// The most channels the rate variant solves exactly (default 20).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] above [`MAX_EXACT_LIMIT`].
    pub fn exact_limit(self, limit: u8) -> Result<ShapleyConfig> {
        if limit > MAX_EXACT_LIMIT {
            return Err(Error::param("exact_limit", limit, "at most 22 channels"));
        }
        Ok(ShapleyConfig {
            exact_limit: limit,
            ..self
        })
    }

    /// Permutation sampling past the exact limit (default `None`: a
    /// [`Error::TooLarge`] instead).
    #[must_use]
    pub fn sampling(self, sampling: Option<Sampling>) -> ShapleyConfig {
        ShapleyConfig { sampling, ..self }
    }

    /// The currency values are kept in (default: 2 decimals).
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> ShapleyConfig {
        ShapleyConfig { currency, ..self }
    }

    /// The value function.
    pub fn variant(&self) -> ShapleyVariant {
        self.variant
    }

    /// A string identifying the configuration and format version.
    pub fn fingerprint(&self) -> String {
        format!(
            "shapley;v{FORMAT_VERSION};variant={};exact_limit={};sampling={};decimals={}",
            self.variant.name(),
            self.exact_limit,
            self.sampling.map_or_else(
                || "none".into(),
                |s| format!("{}@{}", s.permutations, s.seed)
            ),
            self.currency.decimals()
        )
    }
}

/// Integer counts of one coalition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cell {
    conversions: u64,
    nulls: u64,
    value_minor: i128,
}

impl Cell {
    fn merge(&mut self, o: &Cell) -> Result<()> {
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
        Ok(())
    }
}

/// A partial Shapley fit: integer counts per coalition. The identity of
/// [`merge`](Self::merge) is [`ShapleyFit::new`].
///
/// # Example
///
/// ```
/// use touchpoint::shapley::{ShapleyConfig, ShapleyFit, ShapleyVariant};
///
/// let config = ShapleyConfig::new(ShapleyVariant::Simplified);
/// let mut a = ShapleyFit::new(config);
/// a.observe_path(&["email", "direct"], 2, 5000, 1)?;
/// let mut b = ShapleyFit::new(config);
/// b.observe_path(&["direct", "email", "email"], 1, 1000, 0)?;
/// a.merge(&b)?;
/// let m = a.finish()?;
/// assert_eq!(m.credits().get("email").unwrap().conversions(), 1.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShapleyFit {
    config: ShapleyConfig,
    names: Vec<String>,
    name_ix: HashMap<String, u32>,
    cells: HashMap<Box<[u32]>, Cell>,
    empty: Cell,
    buf: Vec<u32>,
    key: Vec<u32>,
}

impl PartialEq for ShapleyFit {
    fn eq(&self, other: &ShapleyFit) -> bool {
        self.wire() == other.wire()
    }
}

impl ShapleyFit {
    /// An empty fit.
    pub fn new(config: ShapleyConfig) -> ShapleyFit {
        ShapleyFit {
            config,
            names: Vec::new(),
            name_ix: HashMap::new(),
            cells: HashMap::new(),
            empty: Cell::default(),
            buf: Vec::new(),
            key: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ShapleyConfig {
        &self.config
    }

    /// Distinct coalitions seen.
    pub fn coalition_count(&self) -> usize {
        self.cells.len()
    }

    /// Approximate heap bytes held.
    pub fn size_bytes(&self) -> usize {
        self.cells
            .keys()
            .map(|k| k.len() * 4 + 16 + std::mem::size_of::<Cell>() + 8)
            .sum::<usize>()
            + self
                .names
                .iter()
                .map(|n| n.capacity() * 2 + 64)
                .sum::<usize>()
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.name_ix.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.name_ix.insert(name.to_owned(), i);
        i
    }

    /// Feeds one path of local ids (in time order).
    fn feed(&mut self, ids: &[u32], cell: Cell) -> Result<()> {
        if ids.is_empty() {
            return self.empty.merge(&cell);
        }
        if cell.conversions == 0 && cell.nulls == 0 {
            return Ok(());
        }
        let key = &mut self.key;
        key.clear();
        if self.config.variant == ShapleyVariant::Ordered {
            for &c in ids {
                if !key.contains(&c) {
                    key.push(c);
                }
            }
        } else {
            key.extend_from_slice(ids);
            key.sort_unstable();
            key.dedup();
        }
        if let Some(c) = self.cells.get_mut(key.as_slice()) {
            c.merge(&cell)
        } else {
            self.cells.insert(key.clone().into_boxed_slice(), cell);
            Ok(())
        }
    }

    fn journey_cell(j: &JourneyView<'_>) -> Cell {
        if j.converted() {
            Cell {
                conversions: 1,
                nulls: 0,
                value_minor: i128::from(j.value_minor()),
            }
        } else {
            Cell {
                conversions: 0,
                nulls: 1,
                value_minor: 0,
            }
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
    /// [`Error::InvalidParameter`] if its currency differs from the
    /// configuration's; [`Error::Overflow`] if a count overflows.
    pub fn observe(&mut self, journey: &JourneyView<'_>) -> Result<()> {
        self.check_currency(journey.currency())?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for i in 0..journey.len() {
            buf.push(self.intern(journey.channel_name(i)));
        }
        let r = self.feed(&buf, Self::journey_cell(journey));
        self.buf = buf;
        r
    }

    /// Observes one journey of your own type.
    ///
    /// # Errors
    ///
    /// The journey's validation errors (see [`JourneySet::push`]), and as
    /// [`observe`](Self::observe).
    pub fn observe_journey<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let mut set = JourneySet::with_currency(self.config.currency);
        set.push(journey)?;
        match set.get(0) {
            Some(v) => self.observe(&v),
            None => Ok(()),
        }
    }

    /// Observes every journey of `set` (names looked up once per set).
    ///
    /// # Errors
    ///
    /// As [`observe`](Self::observe).
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        self.check_currency(set.currency())?;
        let cache: Vec<u32> = set
            .catalog()
            .channels
            .iter()
            .map(|n| self.intern(n))
            .collect();
        let mut buf = std::mem::take(&mut self.buf);
        let mut r = Ok(());
        for j in set.iter() {
            buf.clear();
            buf.extend(j.channels().iter().map(|c| cache[c.index()]));
            r = self.feed(&buf, Self::journey_cell(&j));
            if r.is_err() {
                break;
            }
        }
        self.buf = buf;
        r
    }

    /// Observes an aggregated path (channel sequence, conversions, their
    /// value in minor units, non-conversions); the same as observing those
    /// journeys one by one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] for a negative or too large value, or a
    /// positive value with no conversion; [`Error::InvalidJourney`] for an
    /// empty channel name; [`Error::Overflow`].
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
        for c in path {
            buf.push(self.intern(c.as_ref()));
        }
        let r = self.feed(
            &buf,
            Cell {
                conversions,
                nulls,
                value_minor: i128::from(value_minor),
            },
        );
        self.buf = buf;
        r
    }

    /// Observes journeys given as Arrow-layout columns (see
    /// [`MarkovFit::observe_columns`](crate::markov::MarkovFit::observe_columns)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for inconsistent columns,
    /// [`Error::InvalidValue`] for a bad value, [`Error::Overflow`].
    pub fn observe_columns(
        &mut self,
        offsets: &[i32],
        codes: &[u32],
        names: &[&str],
        converted: &[bool],
        values_minor: &[i64],
    ) -> Result<()> {
        if names.iter().any(|n| n.is_empty()) {
            return Err(Error::param("names", "\"\"", "non-empty channel names"));
        }
        let map: Vec<u32> = names.iter().map(|n| self.intern(n)).collect();
        let mut buf = std::mem::take(&mut self.buf);
        let r = walk_columns(
            offsets,
            codes,
            names.len(),
            converted,
            values_minor,
            |path, conv, v| {
                buf.clear();
                buf.extend(path.iter().map(|&c| map[c as usize]));
                let cell = if conv {
                    Cell {
                        conversions: 1,
                        nulls: 0,
                        value_minor: i128::from(v),
                    }
                } else {
                    Cell {
                        conversions: 0,
                        nulls: 1,
                        value_minor: 0,
                    }
                };
                self.feed(&buf, cell)
            },
        );
        self.buf = buf;
        r
    }

    /// Adds `other`'s counts into `self`, remapping coalitions by name.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations differ;
    /// [`Error::Overflow`].
    pub fn merge(&mut self, other: &ShapleyFit) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatiblePartials {
                left: self.config.fingerprint(),
                right: other.config.fingerprint(),
            });
        }
        let remap: Vec<u32> = other.names.iter().map(|n| self.intern(n)).collect();
        let ordered = self.config.variant == ShapleyVariant::Ordered;
        for (k, c) in &other.cells {
            let mut key: Vec<u32> = k.iter().map(|&i| remap[i as usize]).collect();
            if !ordered {
                key.sort_unstable();
            }
            match self.cells.get_mut(key.as_slice()) {
                Some(mine) => mine.merge(c)?,
                None => {
                    self.cells.insert(key.into_boxed_slice(), *c);
                }
            }
        }
        self.empty.merge(&other.empty)
    }

    /// Canonical form: used channels sorted by name, coalitions in canonical
    /// ids (sorted within for unordered variants), sorted.
    fn canon(&self) -> (Vec<String>, Vec<(Vec<u32>, Cell)>) {
        let mut used = vec![false; self.names.len()];
        for k in self.cells.keys() {
            for &c in k.iter() {
                used[c as usize] = true;
            }
        }
        let mut order: Vec<usize> = (0..self.names.len()).filter(|&i| used[i]).collect();
        order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
        let mut to_canon = vec![u32::MAX; self.names.len()];
        for (ci, &l) in order.iter().enumerate() {
            to_canon[l] = u32::try_from(ci).unwrap_or(u32::MAX);
        }
        let ordered = self.config.variant == ShapleyVariant::Ordered;
        let mut cells: Vec<(Vec<u32>, Cell)> = self
            .cells
            .iter()
            .map(|(k, c)| {
                let mut key: Vec<u32> = k.iter().map(|&i| to_canon[i as usize]).collect();
                if !ordered {
                    key.sort_unstable();
                }
                (key, *c)
            })
            .collect();
        cells.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let channels = order.iter().map(|&l| self.names[l].clone()).collect();
        (channels, cells)
    }

    fn wire(&self) -> Wire {
        let (channels, cells) = self.canon();
        Wire {
            version: FORMAT_VERSION,
            fingerprint: self.config.fingerprint(),
            config: self.config,
            channels,
            coalitions: cells,
            empty: self.empty,
        }
    }

    /// Computes the Shapley values and credits.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if no converting journey with touches was
    /// observed; [`Error::TooLarge`] for the rate variant past the exact
    /// limit without sampling (or past 128 channels with it);
    /// [`Error::Overflow`] if totals do not fit.
    pub fn finish(&self) -> Result<Shapley> {
        let (channels, cells) = self.canon();
        Shapley::build(self.config, channels, &cells, self.empty)
    }
}

/// Fits a Shapley model on every journey of `set` in one call.
///
/// # Errors
///
/// As [`ShapleyFit::observe_set`] and [`ShapleyFit::finish`].
pub fn fit(set: &JourneySet, config: ShapleyConfig) -> Result<Shapley> {
    let mut f = ShapleyFit::new(config);
    f.observe_set(set)?;
    f.finish()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Wire {
    version: u32,
    fingerprint: String,
    config: ShapleyConfig,
    channels: Vec<String>,
    coalitions: Vec<(Vec<u32>, Cell)>,
    empty: Cell,
}

impl Serialize for ShapleyFit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ShapleyFit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let w = Wire::deserialize(d)?;
        if w.version != FORMAT_VERSION || w.fingerprint != w.config.fingerprint() {
            return Err(D::Error::custom(format!(
                "unsupported Shapley fit {} / {}",
                w.version, w.fingerprint
            )));
        }
        let mut f = ShapleyFit::new(w.config);
        for c in &w.channels {
            f.intern(c);
        }
        // a repeated name would leave indices past the interned channels
        if f.names.len() != w.channels.len() {
            return Err(D::Error::custom("a repeated channel name"));
        }
        let n = u32::try_from(w.channels.len()).unwrap_or(u32::MAX);
        if w.empty.value_minor < 0 || w.coalitions.iter().any(|(_, c)| c.value_minor < 0) {
            return Err(D::Error::custom("a negative value"));
        }
        for (k, c) in w.coalitions {
            if k.is_empty() || k.iter().any(|&i| i >= n) {
                return Err(D::Error::custom("coalition out of range"));
            }
            let mut dedup = k.clone();
            dedup.sort_unstable();
            dedup.dedup();
            if dedup.len() != k.len() || f.cells.contains_key(k.as_slice()) {
                return Err(D::Error::custom("repeated channel or coalition"));
            }
            f.cells.insert(k.into_boxed_slice(), c);
        }
        f.empty = w.empty;
        Ok(f)
    }
}

/// Credit of a channel at one position of the ordered coalitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionCredit {
    /// The channel.
    pub channel: String,
    /// Its position among the journey's distinct channels, by first touch
    /// (1 = first).
    pub position: usize,
    /// Attributed conversions at that position, in
    /// [`CONVERSION_UNITS`].
    pub conversion_units: i64,
    /// Attributed value at that position, minor units.
    pub value_minor: i64,
}

/// A fitted Shapley model. Implements [`AttributionModel`]: the simplified
/// and ordered variants share each converting journey equally among its
/// distinct channels (their exact per-journey form); the rate variant in
/// proportion to `max(φ, 0)` of its channels in the game of its own channel
/// set (equally if none is positive, or past the exact limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Shapley {
    config: ShapleyConfig,
    channels: Vec<String>,
    values: Vec<f64>,
    std_errors: Option<Vec<f64>>,
    credits: ChannelCredits,
    positions: Vec<PositionCredit>,
    coalitions: usize,
    fingerprint: String,
    rate_game: Option<RateGame>,
}

/// Splits `total` equally in `n` parts, leftover units to the first parts.
fn split_equal(total: i64, n: usize) -> impl Iterator<Item = i64> {
    let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
    let (q, r) = (total / n, total % n);
    (0..n).map(move |i| q + i64::from(i < r))
}

impl Shapley {
    fn build(
        config: ShapleyConfig,
        channels: Vec<String>,
        cells: &[(Vec<u32>, Cell)],
        empty: Cell,
    ) -> Result<Shapley> {
        let n = channels.len();
        let mut tot = Cell::default();
        for (_, c) in cells {
            tot.merge(c)?;
        }
        if tot.conversions == 0 {
            return Err(Error::InsufficientData {
                reason: format!(
                    "{}: no converting journey with touches",
                    config.variant.name()
                ),
            });
        }
        let overflow = || Error::Overflow {
            what: "attributed totals",
        };
        let unit = i64::try_from(CONVERSION_UNITS).map_err(|_| overflow())?;
        let mut std_errors = None;
        let mut positions = Vec::new();
        let rate_game;
        let credits = match config.variant {
            ShapleyVariant::Simplified | ShapleyVariant::Ordered => {
                let mut units = vec![0i64; n];
                let mut values = vec![0i64; n];
                let mut phi = vec![0.0; n];
                let mut pos: std::collections::BTreeMap<(u32, usize), (i64, i64)> =
                    std::collections::BTreeMap::new();
                for (k, c) in cells {
                    if c.conversions == 0 {
                        continue;
                    }
                    let u = i64::try_from(c.conversions)
                        .ok()
                        .and_then(|x| x.checked_mul(unit))
                        .ok_or_else(overflow)?;
                    let v = i64::try_from(c.value_minor).map_err(|_| overflow())?;
                    // ties of the equal split go to the channel first by name
                    let mut by_name = k.clone();
                    by_name.sort_unstable();
                    for ((&ch, du), dv) in by_name
                        .iter()
                        .zip(split_equal(u, k.len()))
                        .zip(split_equal(v, k.len()))
                    {
                        let i = ch as usize;
                        units[i] = units[i].checked_add(du).ok_or_else(overflow)?;
                        values[i] = values[i].checked_add(dv).ok_or_else(overflow)?;
                        if config.variant == ShapleyVariant::Ordered {
                            let p = k.iter().position(|&x| x == ch).unwrap_or(0) + 1;
                            let e = pos.entry((ch, p)).or_default();
                            e.0 += du;
                            e.1 += dv;
                        }
                    }
                    #[expect(clippy::cast_precision_loss, reason = "Shapley values")]
                    let share = c.conversions as f64 / k.len() as f64;
                    for &ch in k {
                        phi[ch as usize] += share;
                    }
                }
                positions = pos
                    .into_iter()
                    .map(|((ch, p), (u, v))| PositionCredit {
                        channel: channels[ch as usize].clone(),
                        position: p,
                        conversion_units: u,
                        value_minor: v,
                    })
                    .collect();
                let credits = ChannelCredits::from_units(
                    config.variant.name().into(),
                    config.currency,
                    &channels,
                    &phi,
                    &units,
                    &values,
                    tot.conversions,
                    tot.value_minor,
                    empty.conversions,
                    empty.value_minor,
                )?;
                return Ok(Shapley {
                    fingerprint: fingerprint(&config, &channels, &phi),
                    config,
                    values: phi,
                    std_errors,
                    credits,
                    positions,
                    coalitions: cells.len(),
                    channels,
                    rate_game: None,
                });
            }
            ShapleyVariant::Rate => {
                if n > MAX_SAMPLED_CHANNELS {
                    return Err(Error::TooLarge {
                        what: "channels for Shapley (rate)",
                        found: n,
                        limit: MAX_SAMPLED_CHANNELS,
                    });
                }
                let game = RateGame::new(n, cells);
                let limit = usize::from(config.exact_limit);
                let mut units = vec![0i64; n];
                let mut values = vec![0i64; n];
                let mut phi = vec![0.0; n];
                let mut var = vec![0.0; n];
                let mut sampled = false;
                let mut scratch = Vec::new();
                for (k, c) in cells {
                    if c.conversions == 0 {
                        continue;
                    }
                    let (raw, se) = if k.len() <= limit {
                        (game.exact(k), None)
                    } else if let Some(s) = config.sampling {
                        let (p, se) = game.sampled(k, s)?;
                        (p, Some(se))
                    } else {
                        return Err(Error::TooLarge {
                            what: "distinct channels of one journey for exact Shapley (rate)",
                            found: k.len(),
                            limit,
                        });
                    };
                    let w = nonneg_shares(&raw);
                    let u = i64::try_from(c.conversions)
                        .ok()
                        .and_then(|x| x.checked_mul(unit))
                        .ok_or_else(overflow)?;
                    let v = i64::try_from(c.value_minor).map_err(|_| overflow())?;
                    let mut du = vec![0i64; k.len()];
                    let mut dv = vec![0i64; k.len()];
                    apportion_weighted(u, &w, 1.0, &mut du, &mut scratch);
                    apportion_weighted(v, &w, 1.0, &mut dv, &mut scratch);
                    #[expect(clippy::cast_precision_loss, reason = "Shapley values")]
                    let conv = c.conversions as f64;
                    for (i, &ch) in k.iter().enumerate() {
                        let ch = ch as usize;
                        units[ch] = units[ch].checked_add(du[i]).ok_or_else(overflow)?;
                        values[ch] = values[ch].checked_add(dv[i]).ok_or_else(overflow)?;
                        phi[ch] += conv * w[i];
                        if let Some(se) = &se {
                            let sum: f64 = raw.iter().map(|x| x.max(0.0)).sum();
                            if sum > 0.0 {
                                var[ch] += (conv * se[i] / sum).powi(2);
                            }
                        }
                    }
                    sampled |= se.is_some();
                }
                if sampled {
                    std_errors = Some(var.iter().map(|v| v.sqrt()).collect());
                }
                let credits = ChannelCredits::from_units(
                    config.variant.name().into(),
                    config.currency,
                    &channels,
                    &phi,
                    &units,
                    &values,
                    tot.conversions,
                    tot.value_minor,
                    empty.conversions,
                    empty.value_minor,
                )?;
                rate_game = Some(game);
                (credits, phi)
            }
        };
        let (credits, phi) = credits;
        Ok(Shapley {
            fingerprint: fingerprint(&config, &channels, &phi),
            config,
            values: phi,
            std_errors,
            credits,
            positions,
            coalitions: cells.len(),
            channels,
            rate_game,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ShapleyConfig {
        &self.config
    }
    /// Channels, sorted by name.
    pub fn channels(&self) -> &[String] {
        &self.channels
    }
    /// Shapley value per channel (same order as [`channels`](Self::channels)),
    /// in conversions: `Σ conv(S) / |S|` for the simplified and ordered
    /// variants, the conversions shared by each coalition's own game for the
    /// rate variant.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// The Shapley value of `channel`.
    pub fn value(&self, channel: &str) -> Option<f64> {
        self.index(channel).map(|i| self.values[i])
    }
    /// Standard errors of [`values`](Self::values) when they were sampled.
    pub fn std_errors(&self) -> Option<&[f64]> {
        self.std_errors.as_deref()
    }
    /// Attributed conversions and value per channel, exact in integers.
    pub fn credits(&self) -> &ChannelCredits {
        &self.credits
    }
    /// Per-position credit (ordered variant; empty otherwise), sorted by
    /// channel then position.
    pub fn positions(&self) -> &[PositionCredit] {
        &self.positions
    }
    /// Distinct coalitions observed.
    pub fn coalition_count(&self) -> usize {
        self.coalitions
    }
    fn index(&self, channel: &str) -> Option<usize> {
        self.channels
            .binary_search_by(|c| c.as_str().cmp(channel))
            .ok()
    }
}

fn fingerprint(config: &ShapleyConfig, channels: &[String], phi: &[f64]) -> String {
    let mut f = config.fingerprint();
    for (c, p) in channels.iter().zip(phi) {
        f.push_str(&format!(";{c}={:016x}", p.to_bits()));
    }
    f
}

impl AttributionModel for Shapley {
    fn name(&self) -> &str {
        self.config.variant.name()
    }
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        match self.config.variant {
            ShapleyVariant::Rate => {
                let mut set: Vec<u32> = (0..journey.len())
                    .filter_map(|i| self.index(journey.channel_name(i)))
                    .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                    .collect();
                set.sort_unstable();
                set.dedup();
                let shares = match &self.rate_game {
                    Some(g)
                        if !set.is_empty() && set.len() <= usize::from(self.config.exact_limit) =>
                    {
                        nonneg_shares(&g.exact(&set))
                    }
                    _ => vec![1.0; set.len()],
                };
                per_channel_weights(journey, out, |name| {
                    self.index(name)
                        .and_then(|i| {
                            set.binary_search(&u32::try_from(i).unwrap_or(u32::MAX))
                                .ok()
                        })
                        .map_or(0.0, |p| shares[p])
                });
            }
            _ => per_channel_weights(journey, out, |_| 1.0),
        }
        Ok(())
    }
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

/// Exact Shapley values of the game `v` over `n` players (`v[mask]`), in
/// `O(2ⁿ n)`: `φ_i = Σ_{S ∌ i} |S|! (n-|S|-1)! / n! · (v(S ∪ i) - v(S))`.
pub(crate) fn exact_shapley(n: usize, v: &[f64]) -> Vec<f64> {
    // w[s] = s! (n-1-s)! / n! = 1 / (n · C(n-1, s))
    let mut w = vec![0.0; n];
    let mut binom = 1.0f64;
    for (s, ws) in w.iter_mut().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "small n")]
        {
            *ws = 1.0 / (n as f64 * binom);
            binom = binom * (n - 1 - s) as f64 / (s + 1) as f64;
        }
    }
    let mut phi = vec![0.0; n];
    for mask in 0..(1usize << n) {
        let size = mask.count_ones() as usize;
        if size == n {
            continue;
        }
        let ws = w[size];
        let vs = v[mask];
        for (i, p) in phi.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                *p += ws * (v[mask | (1 << i)] - vs);
            }
        }
    }
    phi
}

/// Shares `max(φ, 0) / Σ max(φ, 0)`, or equal shares when none is positive.
fn nonneg_shares(phi: &[f64]) -> Vec<f64> {
    let w: Vec<f64> = phi
        .iter()
        .map(|&p| if p.is_finite() && p > 0.0 { p } else { 0.0 })
        .collect();
    let sum: f64 = w.iter().sum();
    if sum > 0.0 {
        w.iter().map(|x| x / sum).collect()
    } else {
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let e = 1.0 / phi.len().max(1) as f64;
        vec![e; phi.len()]
    }
}

/// Most channels whose observed rates are kept in a dense table.
const DENSE_RATES: usize = 22;

/// Observed conversion rates by coalition (bit `i` = channel `i`).
#[derive(Debug, Clone)]
struct RateGame {
    /// `2ⁿ` entries (NaN = never observed) when `n <= 22`, else empty.
    dense: Vec<f64>,
    /// Every observed coalition with its rate, sorted by mask.
    observed: Vec<(u128, f64)>,
}

impl PartialEq for RateGame {
    /// The dense table is derived (and holds NaN for unobserved coalitions).
    fn eq(&self, other: &RateGame) -> bool {
        self.observed.len() == other.observed.len()
            && self
                .observed
                .iter()
                .zip(&other.observed)
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl RateGame {
    fn new(n: usize, cells: &[(Vec<u32>, Cell)]) -> RateGame {
        let mut observed: Vec<(u128, f64)> = cells
            .iter()
            .filter(|(_, c)| c.conversions > 0 || c.nulls > 0)
            .map(|(k, c)| {
                // widened: both counts may be near u64::MAX (aggregated paths)
                let total = u128::from(c.conversions) + u128::from(c.nulls);
                #[expect(clippy::cast_precision_loss, reason = "rates")]
                let r = c.conversions as f64 / total as f64;
                (k.iter().fold(0u128, |m, &i| m | (1 << i)), r)
            })
            .collect();
        observed.sort_unstable_by_key(|&(m, _)| m);
        let mut dense = Vec::new();
        if n <= DENSE_RATES {
            dense = vec![f64::NAN; 1 << n];
            for &(m, r) in &observed {
                dense[usize::try_from(m).unwrap_or(0)] = r;
            }
        }
        RateGame { dense, observed }
    }

    fn get(&self, mask: u128) -> Option<f64> {
        if self.dense.is_empty() {
            self.observed
                .binary_search_by_key(&mask, |&(m, _)| m)
                .ok()
                .map(|i| self.observed[i].1)
        } else {
            let r = self.dense[usize::try_from(mask).unwrap_or(0)];
            (!r.is_nan()).then_some(r)
        }
    }

    /// The game on the channels of `j` (sorted ids): `v(S)` for every
    /// `S ⊆ j` in local bit order; never-observed coalitions are worth 0.
    fn local_values(&self, j: &[u32]) -> Vec<f64> {
        let size = 1usize << j.len();
        let mut global = vec![0u128; size];
        let mut v = vec![0.0; size];
        for m in 1..size {
            let low = m & m.wrapping_neg();
            global[m] = global[m ^ low] | (1u128 << j[low.trailing_zeros() as usize]);
            v[m] = self.get(global[m]).unwrap_or(0.0);
        }
        v
    }

    /// Exact Shapley values of the local game of `j`.
    fn exact(&self, j: &[u32]) -> Vec<f64> {
        exact_shapley(j.len(), &self.local_values(j))
    }

    /// Permutation-sampled Shapley values of the local game of `j`, with
    /// standard errors; the generator is splitmix64 keyed by the seed and
    /// the coalition, so results do not depend on the order of coalitions.
    fn sampled(&self, j: &[u32], sampling: Sampling) -> Result<(Vec<f64>, Vec<f64>)> {
        if sampling.permutations < 2 {
            return Err(Error::param(
                "sampling.permutations",
                sampling.permutations,
                "at least 2 permutations",
            ));
        }
        let k = j.len();
        let key = j.iter().fold(0u128, |m, &i| m | (1u128 << i));
        #[expect(clippy::cast_possible_truncation, reason = "hash folding")]
        let mut rng = sampling.seed ^ crate::markov::mix(key as u64 ^ (key >> 64) as u64);
        let mut sum = vec![0.0; k];
        let mut sum_sq = vec![0.0; k];
        let mut perm: Vec<usize> = (0..k).collect();
        for _ in 0..sampling.permutations {
            for i in (1..k).rev() {
                let r = splitmix64(&mut rng) % (i as u64 + 1);
                perm.swap(i, usize::try_from(r).unwrap_or(0));
            }
            let mut s = 0u128;
            let mut prev = 0.0;
            for &i in &perm {
                s |= 1u128 << j[i];
                let v = self.get(s).unwrap_or(0.0);
                let d = v - prev;
                sum[i] += d;
                sum_sq[i] += d * d;
                prev = v;
            }
        }
        let m = f64::from(sampling.permutations);
        let phi: Vec<f64> = sum.iter().map(|s| s / m).collect();
        let se = sum_sq
            .iter()
            .zip(&phi)
            .map(|(sq, mean)| ((sq / m - mean * mean).max(0.0) / (m - 1.0)).sqrt())
            .collect();
        Ok((phi, se))
    }
}

/// splitmix64 step.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form of the simplified game equals the general formula.
    #[test]
    fn simplified_closed_form_matches_general_formula() {
        let n = 4;
        // journeys: channel masks with conversions
        let journeys: [(usize, u64); 6] = [
            (0b0001, 3),
            (0b0011, 2),
            (0b0110, 5),
            (0b1111, 1),
            (0b1010, 4),
            (0b0100, 0),
        ];
        let mut v = vec![0.0; 1 << n];
        for (mask, vm) in v.iter_mut().enumerate() {
            for &(t, c) in &journeys {
                if t & !mask == 0 {
                    #[expect(clippy::cast_precision_loss, reason = "test")]
                    {
                        *vm += c as f64;
                    }
                }
            }
        }
        let general = exact_shapley(n, &v);
        let mut closed = vec![0.0; n];
        for &(t, c) in &journeys {
            let k = t.count_ones();
            for (i, x) in closed.iter_mut().enumerate() {
                if t & (1 << i) != 0 {
                    #[expect(clippy::cast_precision_loss, reason = "test")]
                    {
                        *x += c as f64 / f64::from(k);
                    }
                }
            }
        }
        for (g, c) in general.iter().zip(&closed) {
            assert!((g - c).abs() < 1e-12, "{general:?} vs {closed:?}");
        }
    }

    #[test]
    fn local_game_values_unobserved_as_zero() {
        let cells = vec![
            (
                vec![0],
                Cell {
                    conversions: 1,
                    nulls: 3,
                    value_minor: 0,
                },
            ),
            (
                vec![2],
                Cell {
                    conversions: 1,
                    nulls: 1,
                    value_minor: 0,
                },
            ),
        ];
        let g = RateGame::new(3, &cells);
        assert_eq!(g.local_values(&[0, 2]), vec![0.0, 0.25, 0.5, 0.0]);
        // φ(0) = ½(.25) + ½(0 - .5), φ(2) = ½(.5) + ½(0 - .25)
        assert_eq!(g.exact(&[0, 2]), vec![-0.125, 0.125]);
        assert_eq!(nonneg_shares(&[-0.125, 0.125]), vec![0.0, 1.0]);
    }

    #[test]
    fn sampling_is_close_to_exact_and_deterministic() {
        let mut cells = Vec::new();
        for mask in 1u32..32 {
            let k: Vec<u32> = (0..5).filter(|i| mask & (1 << i) != 0).collect();
            cells.push((
                k,
                Cell {
                    conversions: u64::from(mask % 7),
                    nulls: u64::from(10 + mask % 3),
                    value_minor: 0,
                },
            ));
        }
        let g = RateGame::new(5, &cells);
        let all = [0, 1, 2, 3, 4];
        let exact = g.exact(&all);
        let s = Sampling {
            permutations: 4000,
            seed: 1,
        };
        let (a, se) = g.sampled(&all, s).unwrap();
        let (b, _) = g.sampled(&all, s).unwrap();
        assert_eq!(a, b);
        for i in 0..5 {
            assert!((a[i] - exact[i]).abs() < 5.0 * se[i] + 1e-12);
        }
    }
}
