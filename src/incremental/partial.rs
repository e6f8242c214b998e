//! [`IncrementalPartial`]: the mergeable sufficient statistics of the fit,
//! and the in-memory and bootstrap fits built on it. The packed key layout
//! is in the `store` module.

use serde::{Deserialize, Serialize};

use super::config::{Exposure, IncrementalConfig, Pairs};
use super::model::Incremental;
use super::shape::Shape;
use super::solve;
use super::store::{
    Canonical, Cell, EMPTY, ITEM_LOW, Key, MAX_CHANNELS, MAX_COUNT, MAX_RANK, PAIR_LOW, Sorted,
    Store, VERSION, cmp_keys, item_of, key_parts, pack_item, pair_of, remap_key,
};
use crate::dataset::{Interner, JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;

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
    store: Store,
    totals: Cell,
    capped_journeys: u64,
    currency_decimals: Option<u8>,
    shape: Shape,
    scratch: JourneySet,
    /// Partial ids of `scratch`'s catalog channels (its catalog only grows).
    scratch_map: Vec<u32>,
    /// Per-journey scratch: touches, packed key, pairs.
    touches: Vec<(u32, u32)>,
    key: Vec<u32>,
    pair_buf: Vec<(u32, u32)>,
}

impl IncrementalPartial {
    /// An empty partial for `config` (the identity of merge).
    pub fn new(config: &IncrementalConfig) -> IncrementalPartial {
        IncrementalPartial {
            config: config.clone(),
            names: Interner::default(),
            store: Store::default(),
            totals: Cell::default(),
            capped_journeys: 0,
            currency_decimals: None,
            shape: Shape::default(),
            scratch: JourneySet::new(),
            scratch_map: Vec::new(),
            touches: Vec::new(),
            key: Vec::new(),
            pair_buf: Vec::new(),
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
        self.store.len()
    }

    /// Heap bytes allocated for the patterns and channel names (the
    /// capacity of the pattern arena, counts and index table).
    pub fn size_bytes(&self) -> usize {
        self.store.heap_bytes() + self.names.iter().map(|n| n.len() + 24).sum::<usize>()
    }

    /// Adds one journey of your own type.
    ///
    /// # Errors
    ///
    /// The journey's validation errors (see [`JourneySet::push`]);
    /// [`Error::Overflow`] if a count overflows.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let mut set = std::mem::take(&mut self.scratch);
        let mut map = std::mem::take(&mut self.scratch_map);
        set.clear_journeys();
        let r = set.push(journey).and_then(|()| {
            self.check_currency(&set)?;
            // the scratch catalog only grows: intern its new channels only
            for n in set.catalog().channels.iter().skip(map.len()) {
                map.push(self.names.try_intern(n)?);
            }
            for view in set.iter() {
                self.observe_view(&view, &map, 1)?;
            }
            Ok(())
        });
        self.scratch = set;
        self.scratch_map = map;
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

    /// One pass over `set` counting journey `i` into partial `fold[i]` of
    /// `k` partials (all with `config`).
    pub(crate) fn observe_folds(
        set: &JourneySet,
        config: &IncrementalConfig,
        fold: &[usize],
        k: usize,
    ) -> Result<Vec<IncrementalPartial>> {
        let mut parts: Vec<IncrementalPartial> =
            (0..k).map(|_| IncrementalPartial::new(config)).collect();
        let maps: Vec<Vec<u32>> = parts
            .iter_mut()
            .map(|p| p.catalog_map(set))
            .collect::<Result<_>>()?;
        for (view, &f) in set.iter().zip(fold) {
            parts[f].observe_view(&view, &maps[f], 1)?;
        }
        Ok(parts)
    }

    fn catalog_map(&mut self, set: &JourneySet) -> Result<Vec<u32>> {
        self.check_currency(set)?;
        set.catalog()
            .channels
            .iter()
            .map(|n| self.names.try_intern(n))
            .collect()
    }

    fn check_currency(&mut self, set: &JourneySet) -> Result<()> {
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
        Ok(())
    }

    fn observe_view(&mut self, view: &JourneyView<'_>, map: &[u32], weight: u64) -> Result<()> {
        let mut local = std::mem::take(&mut self.touches);
        local.clear();
        local.extend(view.channels().iter().map(|c| {
            let id = map[c.index()];
            (id, id)
        }));
        let r = self.observe_local(
            &local,
            view.timestamps(),
            view.converted(),
            view.value_minor(),
            weight,
        );
        self.touches = local;
        r
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
        // the packed key: header, sorted item words, sorted pair words
        let mut key = std::mem::take(&mut self.key);
        let mut pairs = std::mem::take(&mut self.pair_buf);
        key.clear();
        pairs.clear();
        key.push(u32::try_from(shape.items.len()).unwrap_or(u32::MAX));
        let mut too_many = None;
        for it in &shape.items {
            if it.ch as usize >= MAX_CHANNELS {
                too_many = Some(it.ch as usize + 1);
            }
            key.push(pack_item(
                it.ch,
                it.count.min(MAX_COUNT),
                it.rank.min(MAX_RANK),
                it.recent,
            ));
        }
        key[1..].sort_unstable();
        pairs.extend(shape.pairs.iter().map(|&(i, j, n)| {
            (
                shape.items[i as usize].ch,
                shape.items[j as usize].ch << PAIR_LOW | u32::from(n.min(MAX_COUNT)),
            )
        }));
        pairs.sort_unstable();
        for &(a, b) in &pairs {
            key.push(a);
            key.push(b);
        }
        let capped = shape.capped;
        self.shape = shape;
        self.pair_buf = pairs;
        if let Some(found) = too_many {
            self.key = key;
            return Err(Error::TooLarge {
                what: "channels of an incremental partial",
                found,
                limit: MAX_CHANNELS,
            });
        }
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
        let r = self.store.add(&key, &cell);
        self.key = key;
        r
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
        if self.names.len() > MAX_CHANNELS {
            return Err(Error::TooLarge {
                what: "channels of an incremental partial",
                found: self.names.len(),
                limit: MAX_CHANNELS,
            });
        }
        let (mut key, mut pairs) = (Vec::new(), Vec::new());
        for i in 0..other.store.len() {
            remap_key(
                other.store.key(i),
                |id| map[id as usize],
                &mut key,
                &mut pairs,
            );
            self.store.add(&key, &other.store.cells[i])?;
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

    /// The patterns in canonical form: used channel names sorted, keys
    /// rewritten with indices into them and sorted.
    pub(crate) fn sorted(&self) -> Sorted<'_> {
        let mut used: Vec<bool> = vec![false; self.names.len()];
        for i in 0..self.store.len() {
            for &w in key_parts(self.store.key(i)).0 {
                used[(w >> ITEM_LOW) as usize] = true;
            }
        }
        let mut channels: Vec<(&str, u32)> = self
            .names
            .iter()
            .enumerate()
            .filter(|(i, _)| used[*i])
            .map(|(i, n)| (n, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        channels.sort_unstable();
        let mut to_sorted = vec![u32::MAX; self.names.len()];
        for (pos, (_, id)) in channels.iter().enumerate() {
            to_sorted[*id as usize] = u32::try_from(pos).unwrap_or(u32::MAX);
        }
        // rewrite every key (same lengths as the partial's: no size error)
        let n = self.store.len();
        let mut remapped = Store {
            words: Vec::with_capacity(self.store.words.len()),
            ends: Vec::with_capacity(n),
            ..Store::default()
        };
        let (mut key, mut pairs) = (Vec::new(), Vec::new());
        for i in 0..n {
            remap_key(
                self.store.key(i),
                |id| to_sorted[id as usize],
                &mut key,
                &mut pairs,
            );
            let _ = remapped.push_key(&key);
        }
        let mut src: Vec<u32> = (0..n).map(|i| u32::try_from(i).unwrap_or(EMPTY)).collect();
        // keys are distinct: the unstable sort is deterministic
        src.sort_unstable_by(|&a, &b| cmp_keys(remapped.key(a as usize), remapped.key(b as usize)));
        let mut keys = Store {
            words: Vec::with_capacity(remapped.words.len()),
            ends: Vec::with_capacity(n),
            ..Store::default()
        };
        for &i in &src {
            let _ = keys.push_key(remapped.key(i as usize));
        }
        Sorted {
            cells: &self.store.cells,
            config: &self.config,
            totals: self.totals,
            capped_journeys: self.capped_journeys,
            currency_decimals: self.currency_decimals,
            channels: channels.into_iter().map(|(n, _)| n.to_owned()).collect(),
            keys,
            src,
        }
    }

    /// The serialized form.
    pub(crate) fn canonical(&self) -> Canonical {
        let sorted = self.sorted();
        let patterns = (0..sorted.keys.len())
            .map(|i| (Key::unpack(sorted.keys.key(i)), *sorted.cell(i)))
            .collect();
        Canonical {
            version: VERSION,
            config: self.config.clone(),
            channels: sorted.channels,
            patterns,
            totals: self.totals,
            capped_journeys: self.capped_journeys,
            currency_decimals: self.currency_decimals.unwrap_or(2),
        }
    }

    /// A partial from the serialized form (validated by the caller, except
    /// for the ranges of the packed fields, checked here).
    pub(crate) fn from_canonical(c: Canonical) -> Result<IncrementalPartial> {
        let mut p = IncrementalPartial::new(&c.config);
        for n in &c.channels {
            p.names.try_intern(n)?;
        }
        for (k, cell) in &c.patterns {
            let key = k.pack().ok_or_else(|| {
                Error::param(
                    "patterns",
                    "out of range",
                    "channel ids below 2^22, counts <= 64 and ranks <= 2",
                )
            })?;
            p.store.add(&key, cell)?;
        }
        p.totals = c.totals;
        p.capped_journeys = c.capped_journeys;
        // an empty partial has no currency yet (it is written with the
        // default 2): it stays the identity of merge after a round trip
        p.currency_decimals = if c.totals == Cell::default() && c.patterns.is_empty() {
            None
        } else {
            Some(c.currency_decimals)
        };
        Ok(p)
    }

    /// The partial the same journeys would give under `config`, from this
    /// one's patterns alone (no pass over the journeys), when `config`'s
    /// features can be read off them: the same recency window, an exposure
    /// cap no higher, last-touch features only if this partial has them,
    /// pairs only among those it has. Counts are capped again, last-touch
    /// ranks dropped when `config` has none, pairs outside `config` dropped;
    /// patterns that become equal merge. `None` when `config` needs what
    /// the patterns do not hold.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if merged counts overflow.
    pub(crate) fn project(&self, config: &IncrementalConfig) -> Result<Option<IncrementalPartial>> {
        let src = &self.config;
        let cap = |c: &IncrementalConfig| c.stored_count(usize::from(u16::MAX));
        let pairs_ok = match (&config.pairs, &src.pairs) {
            (Pairs::None, _) | (_, Pairs::All) => true,
            (a, b) => a == b,
        };
        if config.recency_ms != src.recency_ms
            || cap(config) > cap(src)
            || (src.exposure == Exposure::Presence && config.exposure != Exposure::Presence)
            || (config.last_touch && !src.last_touch)
            || !pairs_ok
        {
            return Ok(None);
        }
        let mut out = IncrementalPartial::new(config);
        out.names = self.names.clone();
        out.totals = self.totals;
        out.currency_decimals = self.currency_decimals;
        out.capped_journeys = if cap(config) == cap(src) {
            self.capped_journeys
        } else {
            0
        };
        let mut wanted: Option<Vec<(u32, u32)>> = match &config.pairs {
            Pairs::Only(list) => Some(
                list.iter()
                    .filter_map(|(a, b)| Some((self.names.get(a)?, self.names.get(b)?)))
                    .collect(),
            ),
            _ => None,
        };
        if let Some(w) = &mut wanted {
            w.sort_unstable();
        }
        // rewritten in place on the packed words: a key's items are sorted
        // by channel and its pairs by channel pair, which neither new counts
        // nor dropped ranks or pairs reorder
        let mut key = Vec::new();
        for i in 0..self.store.len() {
            let (items, pairs) = key_parts(self.store.key(i));
            let cell = self.store.cells[i];
            let mut capped = false;
            key.clear();
            key.push(u32::try_from(items.len()).unwrap_or(u32::MAX));
            for &w in items {
                let it = item_of(w);
                let n = config.stored_count(usize::from(it.count));
                capped |= n < it.count && config.exposure != Exposure::Presence;
                let rank = if config.last_touch { it.rank } else { 0 };
                key.push(pack_item(it.ch, n, rank, it.recent));
            }
            if config.pairs != Pairs::None {
                for p in pairs.chunks_exact(2) {
                    let (a, b, n) = pair_of(p);
                    if wanted
                        .as_ref()
                        .is_some_and(|w| w.binary_search(&(a, b)).is_err())
                    {
                        continue;
                    }
                    let n = config.stored_count(usize::from(n));
                    key.push(a);
                    key.push(b << PAIR_LOW | u32::from(n));
                }
            }
            if capped && cap(config) < cap(src) {
                out.capped_journeys = out.capped_journeys.saturating_add(cell.journeys);
            }
            out.store.add(&key, &cell)?;
        }
        Ok(Some(out))
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
    ///   tolerance within the iteration limit;
    /// - [`Error::TooLarge`] with more than
    ///   [`MAX_FEATURES`](super::MAX_FEATURES) active features, or more than
    ///   2048 channels with pair features.
    pub fn finish(&self) -> Result<Incremental> {
        solve::fit(&self.sorted())
    }

    /// [`finish`](Self::finish) with Newton started from `prev`'s
    /// coefficients (same configuration): the same optimum to the
    /// tolerance, in fewer iterations.
    pub(crate) fn finish_from(&self, prev: &Incremental) -> Result<Incremental> {
        solve::fit_from(&self.sorted(), Some(prev))
    }

    /// A fold model of [`select`](super::select): the coefficients of
    /// [`finish`](Self::finish) (warm-started from `prev` when given), no
    /// effects or warnings.
    pub(crate) fn finish_lean(&self, prev: Option<&Incremental>) -> Result<Incremental> {
        solve::fit_lean(&self.sorted(), prev)
    }
}

crate::aggregate::journey_aggregate!(
    IncrementalPartial: IncrementalConfig => Incremental,
    new(config) = IncrementalPartial::new(&config),
    finish(p) = IncrementalPartial::finish(p),
);

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
        if c.currency_decimals > 6 {
            return Err(serde::de::Error::custom(format!(
                "currency_decimals {} out of range (0 to 6)",
                c.currency_decimals
            )));
        }
        let n = c.channels.len();
        let mut names: Vec<&str> = c.channels.iter().map(String::as_str).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            // keys index into `channels`; interning would drop the repeat
            return Err(serde::de::Error::custom("repeated channel name"));
        }
        if c.patterns
            .iter()
            .any(|(_, cell)| cell.conversions > cell.journeys || cell.value < 0)
        {
            return Err(serde::de::Error::custom(
                "pattern with more conversions than journeys or a negative value",
            ));
        }
        let mut sum = Cell::default();
        for (_, cell) in &c.patterns {
            sum.checked_add(cell).map_err(serde::de::Error::custom)?;
        }
        if sum != c.totals {
            return Err(serde::de::Error::custom(
                "totals differ from the sum of the patterns",
            ));
        }
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
        IncrementalPartial::from_canonical(c).map_err(serde::de::Error::custom)
    }
}

impl Incremental {
    /// Fits the model on every journey of `set` (one partial, then
    /// [`IncrementalPartial::finish`]).
    ///
    /// # Errors
    ///
    /// As [`IncrementalPartial::finish`].
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch};
    /// use touchpoint::incremental::{Incremental, IncrementalConfig};
    ///
    /// let t = "2024-01-01T00:00:00Z".parse()?;
    /// let mut journeys = Vec::new();
    /// for i in 0..100 {
    ///     let mut j = SimpleJourney::new(format!("j{i}"));
    ///     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
    ///     j = j.touch(SimpleTouch::new("display", t));
    ///     // email converts 60% of journeys, display alone 10%
    ///     if (i % 2 == 0 && i % 10 < 6) || i % 20 == 1 { j = j.converted(10.0); }
    ///     journeys.push(j);
    /// }
    /// let set = JourneySet::from_journeys(&journeys)?;
    /// let model = Incremental::fit(&set, &IncrementalConfig::new())?;
    /// let report = attribute(&model, &set)?;
    /// let email = report.channels().get("email").unwrap();
    /// assert!(email.value() > report.channels().get("display").unwrap().value());
    /// let total: i128 = report.channels().lines().iter().map(|c| c.value_minor()).sum();
    /// assert_eq!(total, report.value_minor()); // reconciles to the cent
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit(set: &JourneySet, config: &IncrementalConfig) -> Result<Incremental> {
        let mut p = IncrementalPartial::new(config);
        p.observe_set(set)?;
        p.finish()
    }

    /// Fits on `set` with integer frequency weights per journey (see
    /// [`IncrementalPartial::observe_weighted`]).
    ///
    /// # Errors
    ///
    /// As [`IncrementalPartial::observe_weighted`] and
    /// [`IncrementalPartial::finish`].
    pub fn fit_weighted(
        set: &JourneySet,
        weights: &[u32],
        config: &IncrementalConfig,
    ) -> Result<Incremental> {
        let mut p = IncrementalPartial::new(config);
        p.observe_weighted(set, weights)?;
        p.finish()
    }
}

/// Bootstrap intervals of the expected incremental effects
/// ([`Incremental::effects`], negative estimates counted as zero, so the
/// interval shares are those of [`Incremental::effect_shares`]): the model
/// is refitted on every replicate.
///
/// # Errors
///
/// As [`bootstrap_fit`](crate::bootstrap::bootstrap_fit).
pub fn bootstrap_effects(
    set: &JourneySet,
    config: &IncrementalConfig,
    boot: &crate::bootstrap::BootstrapConfig,
) -> Result<crate::bootstrap::Bootstrap> {
    crate::bootstrap::bootstrap_fit(set, boot, |rs| {
        let m = Incremental::fit_weighted(rs.set(), rs.weights(), config)?;
        Ok(m.effects()
            .iter()
            .map(|e| crate::bootstrap::ChannelAmount {
                name: e.name().to_owned(),
                conversions: e.incremental_conversions().max(0.0),
                value: e.incremental_value().max(0.0),
            })
            .collect())
    })
}

/// Bootstrap intervals of the credited conversions, shares and value
/// ([`attribute`](crate::attribute) with the fitted model): the model is
/// refitted on every replicate and the replicate's journeys credited with it.
///
/// # Errors
///
/// As [`bootstrap_fit`](crate::bootstrap::bootstrap_fit).
pub fn bootstrap_credit(
    set: &JourneySet,
    config: &IncrementalConfig,
    boot: &crate::bootstrap::BootstrapConfig,
) -> Result<crate::bootstrap::Bootstrap> {
    crate::bootstrap::bootstrap_fit(set, boot, |rs| {
        let m = Incremental::fit_weighted(rs.set(), rs.weights(), config)?;
        rs.credit(&m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SimpleJourney, SimpleTouch};

    /// Journeys with repeated channels (counts above small caps), every
    /// order of three channels, some with no touch, some converting.
    fn journeys() -> JourneySet {
        let t0: chrono::DateTime<chrono::Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        let names = ["email", "display", "search"];
        let mut js = Vec::new();
        for i in 0..300_u32 {
            let mut j = SimpleJourney::new(format!("j{i}"));
            let len = i % 9;
            for t in 0..len {
                let c = names[((i / 9 + t * (i % 5 + 1)) % 3) as usize];
                j = j.touch(SimpleTouch::new(
                    c,
                    t0 + chrono::Duration::hours(i64::from(t)),
                ));
            }
            if i % 4 == 1 || (i % 7 == 0 && len > 2) {
                j = j.converted(f64::from(i % 13 + 1));
            }
            js.push(j);
        }
        JourneySet::from_journeys(&js).unwrap()
    }

    /// Projecting the patterns of a wide configuration gives exactly the
    /// partial that counting the narrower configuration gives: the same
    /// canonical patterns, totals and capped journeys.
    #[test]
    fn projection_equals_counting() {
        let set = journeys();
        let wide = IncrementalConfig::new()
            .count_cap(6)
            .unwrap()
            .last_touch(true)
            .pairs(Pairs::All);
        let mut source = IncrementalPartial::new(&wide);
        source.observe_set(&set).unwrap();
        let targets = [
            IncrementalConfig::new().count_cap(6).unwrap(),
            IncrementalConfig::new().count_cap(2).unwrap(),
            IncrementalConfig::new()
                .exposure(Exposure::Levels)
                .count_cap(3)
                .unwrap()
                .last_touch(true),
            IncrementalConfig::new()
                .count_cap(4)
                .unwrap()
                .pairs(Pairs::Only(vec![
                    ("display".to_owned(), "search".to_owned()),
                    ("search".to_owned(), "email".to_owned()),
                ])),
            IncrementalConfig::new()
                .exposure(Exposure::Presence)
                .last_touch(true)
                .pairs(Pairs::All),
        ];
        for target in targets {
            let projected = source.project(&target).unwrap().unwrap();
            let mut counted = IncrementalPartial::new(&target);
            counted.observe_set(&set).unwrap();
            assert_eq!(projected.canonical(), counted.canonical(), "{target:?}");
            assert!(projected.patterns() <= source.patterns());
        }
        // what the patterns do not hold is refused
        let recency = IncrementalConfig::new().recency_days(1.0).unwrap();
        assert!(source.project(&recency).unwrap().is_none());
        let higher_cap = IncrementalConfig::new().count_cap(8).unwrap();
        assert!(source.project(&higher_cap).unwrap().is_none());
        let mut narrow = IncrementalPartial::new(&IncrementalConfig::new());
        narrow.observe_set(&set).unwrap();
        assert!(
            narrow
                .project(&wide.count_cap(10).unwrap())
                .unwrap()
                .is_none()
        );
        assert!(
            narrow
                .project(&IncrementalConfig::new().last_touch(true))
                .unwrap()
                .is_none()
        );
    }
}
