//! [`IncrementalPartial`]: the mergeable sufficient statistics of the fit.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::config::{IncrementalConfig, Pairs};
use super::fit::{self, Incremental};
use super::shape::Shape;
use crate::dataset::{Interner, JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;

/// Format version of serialized partials.
const VERSION: u32 = 1;

/// One distinct channel of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct KeyItem {
    /// Channel id (local to the partial, or an index into sorted names).
    pub(crate) ch: u32,
    /// Stored (capped) count.
    pub(crate) count: u16,
    /// Rank by last occurrence, capped at 2 (0 = last touch); 0 when the
    /// last-touch features are off.
    pub(crate) rank: u16,
    /// Recency flag (false when off).
    pub(crate) recent: bool,
}

/// A distinct feature pattern: items sorted by channel, pairs sorted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Key {
    pub(crate) items: Vec<KeyItem>,
    /// "a before b" pairs, as channel ids, with the stored count of `b`
    /// touches after the first `a` touch.
    pub(crate) pairs: Vec<(u32, u32, u16)>,
}

impl Key {
    fn remap(&self, map: impl Fn(u32) -> u32) -> Key {
        let mut items: Vec<KeyItem> = self
            .items
            .iter()
            .map(|it| KeyItem {
                ch: map(it.ch),
                ..*it
            })
            .collect();
        items.sort_unstable();
        let mut pairs: Vec<(u32, u32, u16)> = self
            .pairs
            .iter()
            .map(|&(a, b, n)| (map(a), map(b), n))
            .collect();
        pairs.sort_unstable();
        Key { items, pairs }
    }
}

/// Integer counts of one pattern.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cell {
    /// Journeys (weighted).
    pub(crate) journeys: u64,
    /// Converted journeys (weighted).
    pub(crate) conversions: u64,
    /// Converted value, minor units (weighted).
    pub(crate) value: i128,
}

impl Cell {
    fn checked_add(&mut self, o: &Cell) -> Result<()> {
        self.journeys = self
            .journeys
            .checked_add(o.journeys)
            .ok_or(Error::Overflow {
                what: "pattern journeys",
            })?;
        self.conversions = self
            .conversions
            .checked_add(o.conversions)
            .ok_or(Error::Overflow {
                what: "pattern conversions",
            })?;
        self.value = self.value.checked_add(o.value).ok_or(Error::Overflow {
            what: "pattern value",
        })?;
        Ok(())
    }
}

/// The canonical form: names sorted, keys use indices into them, patterns
/// sorted. What serde writes and what [`fit`] reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Canonical {
    pub(crate) version: u32,
    pub(crate) config: IncrementalConfig,
    pub(crate) channels: Vec<String>,
    pub(crate) patterns: Vec<(Key, Cell)>,
    pub(crate) totals: Cell,
    pub(crate) capped_journeys: u64,
    pub(crate) currency_decimals: u8,
}

/// The mergeable state of an [`incremental`](crate::incremental) fit: the
/// distinct feature patterns of the journeys seen, each with integer counts
/// (journeys, conversions, value in minor units), keyed by channel *names*.
///
/// It follows the crate's merge rules: an empty partial is the identity of
/// [`merge`](Self::merge); [`observe`](Self::observe) adds one journey;
/// partials built on any split of the data merge to the same state; and
/// [`finish`](Self::finish) fits on the patterns in sorted order, so the
/// fitted model is the same bit for bit however the data was split, ordered
/// or merged. Memory grows with the number of distinct patterns, not with
/// journeys. Serialized (serde) in canonical, name-sorted form.
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleJourney, SimpleTouch};
/// use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let config = IncrementalConfig::new();
/// let mut left = IncrementalPartial::new(&config);
/// let mut right = IncrementalPartial::new(&config);
/// for i in 0..40 {
///     let mut j = SimpleJourney::new(format!("j{i}"));
///     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
///     if i % 5 < 2 { j = j.converted(10.0); }
///     if i < 20 { left.observe(&j)? } else { right.observe(&j)? }
/// }
/// left.merge(&right)?;
/// assert_eq!(left.journeys(), 40);
/// assert_eq!(left.patterns(), 2); // {email} and {}
/// let model = left.finish()?;
/// assert_eq!(model.effects()[0].name(), "email");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct IncrementalPartial {
    config: IncrementalConfig,
    names: Interner,
    patterns: HashMap<Key, Cell>,
    totals: Cell,
    capped_journeys: u64,
    currency_decimals: Option<u8>,
    shape: Shape,
    scratch: JourneySet,
}

impl IncrementalPartial {
    /// An empty partial for `config` (the identity of merge).
    pub fn new(config: &IncrementalConfig) -> IncrementalPartial {
        IncrementalPartial {
            config: config.clone(),
            names: Interner::default(),
            patterns: HashMap::new(),
            totals: Cell::default(),
            capped_journeys: 0,
            currency_decimals: None,
            shape: Shape::default(),
            scratch: JourneySet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IncrementalConfig {
        &self.config
    }

    /// Format version and configuration fingerprint; partials merge only
    /// when these are equal.
    pub fn fingerprint(&self) -> String {
        format!("v{VERSION};{}", self.config.fingerprint())
    }

    /// Journeys observed (weighted).
    pub fn journeys(&self) -> u64 {
        self.totals.journeys
    }

    /// Converted journeys observed (weighted).
    pub fn conversions(&self) -> u64 {
        self.totals.conversions
    }

    /// Number of distinct feature patterns held.
    pub fn patterns(&self) -> usize {
        self.patterns.len()
    }

    /// Approximate heap bytes held by the patterns.
    pub fn size_bytes(&self) -> usize {
        let per_key = std::mem::size_of::<(Key, Cell)>() + 16;
        self.patterns
            .keys()
            .map(|k| {
                per_key
                    + k.items.len() * std::mem::size_of::<KeyItem>()
                    + k.pairs.len() * std::mem::size_of::<(u32, u32, u16)>()
            })
            .sum::<usize>()
            + self.names.iter().map(|n| n.len() + 24).sum::<usize>()
    }

    /// Adds one journey of your own type.
    ///
    /// # Errors
    ///
    /// The journey's validation errors (see [`JourneySet::push`]);
    /// [`Error::Overflow`] if a count overflows.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let mut set = std::mem::take(&mut self.scratch);
        set.clear_journeys();
        let r = set.push(journey).and_then(|()| self.observe_set(&set));
        self.scratch = set;
        r
    }

    /// Adds every journey of `set`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `set` uses another currency than
    /// journeys seen before; [`Error::Overflow`] if a count overflows.
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        let map = self.catalog_map(set)?;
        for view in set.iter() {
            self.observe_view(&view, &map, 1)?;
        }
        Ok(())
    }

    /// Adds every journey of `set` with an integer frequency weight each
    /// (`weights[i]` copies of journey `i`; 0 leaves it out). This is how
    /// a bootstrap replicate is fitted.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`weights`) if `weights.len() != set.len()`;
    /// otherwise as [`observe_set`](Self::observe_set).
    pub fn observe_weighted(&mut self, set: &JourneySet, weights: &[u32]) -> Result<()> {
        if weights.len() != set.len() {
            return Err(Error::param(
                "weights",
                weights.len(),
                "one weight per journey of the set",
            ));
        }
        let map = self.catalog_map(set)?;
        for (view, &w) in set.iter().zip(weights) {
            if w > 0 {
                self.observe_view(&view, &map, u64::from(w))?;
            }
        }
        Ok(())
    }

    /// Adds journeys given as Arrow-layout columns, with no copy into a
    /// [`JourneySet`]: journey `j` owns touches `offsets[j]..offsets[j+1]`;
    /// `channels` are codes into `names`; `timestamps` are Unix ms (sorted
    /// stably per journey here); `converted` and `values_minor` (minor
    /// units, ignored when not converted) are per journey.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the column lengths disagree, offsets
    /// are negative or decreasing, or a code is out of range;
    /// [`Error::InvalidValue`] for a negative value of a converted journey;
    /// [`Error::Overflow`] if a count overflows.
    pub fn observe_columns(
        &mut self,
        offsets: &[i32],
        channels: &[u32],
        names: &[&str],
        timestamps: &[i64],
        converted: &[bool],
        values_minor: &[i64],
    ) -> Result<()> {
        let n = offsets.len().saturating_sub(1);
        if offsets.is_empty() || converted.len() != n || values_minor.len() != n {
            return Err(Error::param(
                "offsets",
                offsets.len(),
                "journeys + 1 offsets, and one converted flag and value per journey",
            ));
        }
        if channels.len() != timestamps.len() {
            return Err(Error::param(
                "timestamps",
                timestamps.len(),
                "one timestamp per channel code",
            ));
        }
        let bad_offset = || {
            Error::param(
                "offsets",
                "out of order",
                "non-decreasing offsets within the columns",
            )
        };
        let map: Vec<u32> = names
            .iter()
            .map(|s| self.names.try_intern(s))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = Vec::new();
        let mut local: Vec<(u32, u32)> = Vec::new();
        let mut ts: Vec<i64> = Vec::new();
        for j in 0..n {
            let a = usize::try_from(offsets[j]).map_err(|_| bad_offset())?;
            let b = usize::try_from(offsets[j + 1]).map_err(|_| bad_offset())?;
            if a > b || b > channels.len() {
                return Err(bad_offset());
            }
            order.clear();
            order.extend(a..b);
            order.sort_by_key(|&i| timestamps[i]); // stable
            local.clear();
            ts.clear();
            for &i in &order {
                let code = channels[i] as usize;
                let id = *map
                    .get(code)
                    .ok_or_else(|| Error::param("channels", code, "codes below names.len()"))?;
                local.push((id, id));
                ts.push(timestamps[i]);
            }
            let value = if converted[j] { values_minor[j] } else { 0 };
            if value < 0 {
                return Err(Error::InvalidValue {
                    journey: format!("#{j}"),
                    #[expect(clippy::cast_precision_loss, reason = "error message")]
                    value: value as f64,
                });
            }
            self.observe_local(&local, &ts, converted[j], value, 1)?;
        }
        Ok(())
    }

    fn catalog_map(&mut self, set: &JourneySet) -> Result<Vec<u32>> {
        let d = set.currency().decimals();
        match self.currency_decimals {
            Some(x) if x != d => {
                return Err(Error::IncompatiblePartials {
                    left: format!("decimals={x}"),
                    right: format!("decimals={d}"),
                });
            }
            _ => {}
        }
        if !set.is_empty() {
            self.currency_decimals = Some(d);
        }
        set.catalog()
            .channels
            .iter()
            .map(|n| self.names.try_intern(n))
            .collect()
    }

    fn observe_view(&mut self, view: &JourneyView<'_>, map: &[u32], weight: u64) -> Result<()> {
        let local: Vec<(u32, u32)> = view
            .channels()
            .iter()
            .map(|c| {
                let id = map[c.index()];
                (id, id)
            })
            .collect();
        self.observe_local(
            &local,
            view.timestamps(),
            view.converted(),
            view.value_minor(),
            weight,
        )
    }

    fn observe_local(
        &mut self,
        touches: &[(u32, u32)],
        ts: &[i64],
        converted: bool,
        value: i64,
        weight: u64,
    ) -> Result<()> {
        let mut shape = std::mem::take(&mut self.shape);
        let names = &self.names;
        let config = &self.config;
        shape.build(config, touches.iter().copied(), ts, |a, b| {
            match &config.pairs {
                Pairs::None => false,
                Pairs::All => true,
                Pairs::Only(list) => {
                    let (na, nb) = (names.name(a.ch), names.name(b.ch));
                    list.iter()
                        .any(|(x, y)| Some(x.as_str()) == na && Some(y.as_str()) == nb)
                }
            }
        });
        let mut items: Vec<KeyItem> = shape
            .items
            .iter()
            .map(|it| KeyItem {
                ch: it.ch,
                count: it.count,
                rank: it.rank.min(2),
                recent: it.recent,
            })
            .collect();
        items.sort_unstable();
        let mut pairs: Vec<(u32, u32, u16)> = shape
            .pairs
            .iter()
            .map(|&(i, j, n)| (shape.items[i as usize].ch, shape.items[j as usize].ch, n))
            .collect();
        pairs.sort_unstable();
        let capped = shape.capped;
        self.shape = shape;
        let cell = Cell {
            journeys: weight,
            conversions: if converted { weight } else { 0 },
            value: if converted {
                i128::from(value) * i128::from(weight)
            } else {
                0
            },
        };
        self.totals.checked_add(&cell)?;
        if capped {
            self.capped_journeys = self.capped_journeys.saturating_add(weight);
        }
        self.patterns
            .entry(Key { items, pairs })
            .or_default()
            .checked_add(&cell)
    }

    /// Adds `other`'s counts into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations (or currencies)
    /// differ; [`Error::Overflow`] if a count overflows.
    pub fn merge(&mut self, other: &IncrementalPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        match (self.currency_decimals, other.currency_decimals) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::IncompatiblePartials {
                    left: format!("decimals={a}"),
                    right: format!("decimals={b}"),
                });
            }
            (None, b) => self.currency_decimals = b,
            _ => {}
        }
        let map: Vec<u32> = other
            .names
            .iter()
            .map(|n| self.names.try_intern(n))
            .collect::<Result<_>>()?;
        for (k, c) in &other.patterns {
            let key = k.remap(|id| map[id as usize]);
            self.patterns.entry(key).or_default().checked_add(c)?;
        }
        self.totals.checked_add(&other.totals)?;
        self.capped_journeys = self
            .capped_journeys
            .checked_add(other.capped_journeys)
            .ok_or(Error::Overflow {
                what: "capped journeys",
            })?;
        Ok(())
    }

    /// The canonical form: used channel names sorted, patterns sorted.
    pub(crate) fn canonical(&self) -> Canonical {
        let mut used: Vec<bool> = vec![false; self.names.len()];
        for k in self.patterns.keys() {
            for it in &k.items {
                used[it.ch as usize] = true;
            }
        }
        let mut channels: Vec<(String, u32)> = self
            .names
            .iter()
            .enumerate()
            .filter(|(i, _)| used[*i])
            .map(|(i, n)| (n.to_owned(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        channels.sort();
        let mut to_sorted = vec![u32::MAX; self.names.len()];
        for (pos, (_, id)) in channels.iter().enumerate() {
            to_sorted[*id as usize] = u32::try_from(pos).unwrap_or(u32::MAX);
        }
        let mut patterns: Vec<(Key, Cell)> = self
            .patterns
            .iter()
            .map(|(k, c)| (k.remap(|id| to_sorted[id as usize]), *c))
            .collect();
        patterns.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Canonical {
            version: VERSION,
            config: self.config.clone(),
            channels: channels.into_iter().map(|(n, _)| n).collect(),
            patterns,
            totals: self.totals,
            capped_journeys: self.capped_journeys,
            currency_decimals: self.currency_decimals.unwrap_or(2),
        }
    }

    fn from_canonical(c: Canonical) -> IncrementalPartial {
        let mut names = Interner::default();
        for n in &c.channels {
            names.intern(n);
        }
        IncrementalPartial {
            config: c.config,
            names,
            patterns: c.patterns.into_iter().collect(),
            totals: c.totals,
            capped_journeys: c.capped_journeys,
            currency_decimals: Some(c.currency_decimals),
            shape: Shape::default(),
            scratch: JourneySet::new(),
        }
    }

    /// Fits the model on the patterns, in sorted order.
    ///
    /// # Errors
    ///
    /// - [`Error::InsufficientData`] with no journeys, or without both
    ///   converting and non-converting journeys, or (only with `l2 = 0`)
    ///   when the features are collinear or separate the outcome so the
    ///   Newton system is singular;
    /// - [`Error::NotConverged`] if the Newton iterations do not reach the
    ///   tolerance within the iteration limit.
    pub fn finish(&self) -> Result<Incremental> {
        fit::fit(&self.canonical())
    }
}

impl Serialize for IncrementalPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.canonical().serialize(s)
    }
}

impl<'de> Deserialize<'de> for IncrementalPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let c = Canonical::deserialize(d)?;
        if c.version != VERSION {
            return Err(serde::de::Error::custom(format!(
                "unsupported partial version {}",
                c.version
            )));
        }
        let n = c.channels.len();
        let bad = c.patterns.iter().any(|(k, _)| {
            k.items.iter().any(|it| it.ch as usize >= n)
                || k.pairs.iter().any(|&(a, b, _)| {
                    a == b
                        || !k.items.iter().any(|it| it.ch == a)
                        || !k.items.iter().any(|it| it.ch == b)
                })
        });
        if bad {
            return Err(serde::de::Error::custom(
                "pattern refers to an unknown channel",
            ));
        }
        Ok(IncrementalPartial::from_canonical(c))
    }
}
