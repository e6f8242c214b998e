//! Accumulating: integer counts per coalition of a [`ShapleyPartial`], and
//! every way to observe journeys into it.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::FORMAT_VERSION;
use super::config::{ShapleyConfig, ShapleyVariant};
use super::model::Shapley;
use super::wire::Wire;
use crate::dataset::{JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::hash::WordBuild;
use crate::journey::Journey;
use crate::paths::{
    JourneyScratch, LocalNames, add_outcomes, check_currency, map_column_names, read_journey,
    validate_path, walk_columns,
};

/// Integer counts of one coalition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cell {
    pub(super) conversions: u64,
    pub(super) nulls: u64,
    pub(super) value_minor: i128,
}

impl Cell {
    pub(super) fn merge(&mut self, o: &Cell) -> Result<()> {
        add_outcomes(
            (
                &mut self.conversions,
                &mut self.nulls,
                &mut self.value_minor,
            ),
            (o.conversions, o.nulls, o.value_minor),
        )
    }
}

/// A partial Shapley fit: integer counts per coalition. The identity of
/// [`merge`](Self::merge) is [`ShapleyPartial::new`].
///
/// # Example
///
/// ```
/// use touchpoint::shapley::{ShapleyConfig, ShapleyPartial, ShapleyVariant};
///
/// let config = ShapleyConfig::new(ShapleyVariant::Simplified);
/// let mut a = ShapleyPartial::new(config);
/// a.observe_path(&["email", "direct"], 2, 5000, 1)?;
/// let mut b = ShapleyPartial::new(config);
/// b.observe_path(&["direct", "email", "email"], 1, 1000, 0)?;
/// a.merge(&b)?;
/// let m = a.finish()?;
/// assert_eq!(m.credits()?.channels().get("email").unwrap().conversions(), 1.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShapleyPartial {
    pub(super) config: ShapleyConfig,
    /// Channel names by local id.
    pub(super) names: LocalNames,
    /// Counts per coalition (the channels' local ids, in increasing order
    /// for the unordered variants, in first-touch order for
    /// [`Ordered`](ShapleyVariant::Ordered)). Entries are never removed,
    /// so an entry's index is stable: `masks` caches it.
    pub(super) cells: IndexMap<Box<[u32]>, Cell, WordBuild>,
    pub(super) empty: Cell,
    cache: Vec<u32>,
    scratch: JourneyScratch,
    key: Vec<u32>,
    /// The unordered variants' cache from a coalition of channels with
    /// local ids below 64, as a bit set, to its index in `cells`: a
    /// journey's coalition is found without sorting its ids or hashing a
    /// slice. Derived data only (filled on first use, valid for ever since
    /// `cells` only grows).
    masks: HashMap<u64, u32, WordBuild>,
}

impl PartialEq for ShapleyPartial {
    fn eq(&self, other: &ShapleyPartial) -> bool {
        self.wire() == other.wire()
    }
}

impl ShapleyPartial {
    /// An empty fit.
    pub fn new(config: ShapleyConfig) -> ShapleyPartial {
        ShapleyPartial {
            config,
            names: LocalNames::new(u32::MAX as usize - 1, "distinct channels in a Shapley fit"),
            cells: IndexMap::default(),
            empty: Cell::default(),
            cache: Vec::new(),
            scratch: JourneyScratch::default(),
            key: Vec::new(),
            masks: HashMap::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ShapleyConfig {
        &self.config
    }

    /// The configuration fingerprint (see [`ShapleyConfig::fingerprint`]): two
    /// partials merge only when theirs are equal.
    pub fn fingerprint(&self) -> String {
        self.config.fingerprint()
    }

    /// Journeys observed (paths count their conversions plus nulls).
    pub fn journeys(&self) -> u64 {
        self.cells
            .values()
            .chain(std::iter::once(&self.empty))
            .fold(0u64, |n, c| {
                n.saturating_add(c.conversions).saturating_add(c.nulls)
            })
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
            + self.names.size_bytes()
            + self.cache.capacity() * 4
            + self.scratch.size_bytes()
            + self.masks.capacity() * 16
    }

    /// Feeds one path of local ids (in time order).
    pub(super) fn feed(&mut self, ids: &[u32], cell: Cell) -> Result<()> {
        if ids.is_empty() {
            return self.empty.merge(&cell);
        }
        if cell.conversions == 0 && cell.nulls == 0 {
            return Ok(());
        }
        if self.config.variant != ShapleyVariant::Ordered {
            // the coalition as a bit set, when every id is below 64
            let (mask, small) = ids.iter().fold((0_u64, true), |(m, small), &c| {
                (m | 1_u64.checked_shl(c).unwrap_or(0), small && c < 64)
            });
            if small {
                return self.feed_mask(mask, cell);
            }
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

    /// Adds `cell` to the coalition of bit set `mask` (an unordered
    /// variant's coalition of ids below 64): through the `masks` cache, or,
    /// the first time, as [`feed`](Self::feed) does with the ids in
    /// increasing order (the set's bits, lowest first: sorted and
    /// deduplicated, the key `feed` builds).
    #[inline]
    fn feed_mask(&mut self, mask: u64, cell: Cell) -> Result<()> {
        if let Some(&i) = self.masks.get(&mask) {
            if let Some((_, c)) = self.cells.get_index_mut(i as usize) {
                return c.merge(&cell);
            }
        }
        let key = &mut self.key;
        key.clear();
        let mut m = mask;
        while m != 0 {
            key.push(m.trailing_zeros());
            m &= m - 1;
        }
        let i = match self.cells.get_full_mut(key.as_slice()) {
            Some((i, _, c)) => {
                c.merge(&cell)?;
                i
            }
            None => {
                self.cells
                    .insert_full(key.clone().into_boxed_slice(), cell)
                    .0
            }
        };
        if let Ok(i) = u32::try_from(i) {
            self.masks.insert(mask, i);
        }
        Ok(())
    }

    /// Observes one journey of your own type: validated as
    /// [`JourneySet::push`] validates (value, costs), its touches put in
    /// time order (stable), its channel names looked up in the fit's own
    /// table. No [`JourneySet`] is built: this is the streaming path.
    ///
    /// # Errors
    ///
    /// The journey's validation errors ([`Error::InvalidValue`],
    /// [`Error::InvalidCost`]); [`Error::Overflow`] if a count overflows.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let o = read_journey(
            journey,
            self.config.currency,
            &mut self.names,
            &mut self.scratch,
        )?;
        let ids = std::mem::take(&mut self.scratch.ids);
        let r = self.feed(&ids, outcome_cell(o.converted, o.value_minor));
        self.scratch.ids = ids;
        r
    }

    /// Observes one journey of your own type.
    ///
    /// # Errors
    ///
    /// As [`observe`](Self::observe).
    #[deprecated(since = "0.2.0", note = "use `observe`, which takes your journey type")]
    pub fn observe_journey<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        self.observe(journey)
    }

    /// Observes one journey of a [`JourneySet`] (a view).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if its currency differs from the
    /// configuration's; [`Error::Overflow`] if a count overflows.
    pub fn observe_view(&mut self, journey: &JourneyView<'_>) -> Result<()> {
        check_currency(journey.currency(), self.config.currency)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.names.intern_into(
            (0..journey.len()).map(|i| journey.channel_name(i)),
            &mut scratch.ids,
        );
        let r = r.and_then(|()| {
            self.feed(
                &scratch.ids,
                outcome_cell(journey.converted(), journey.value_minor()),
            )
        });
        self.scratch = scratch;
        r
    }

    /// Observes every journey of `set` (names looked up once per set).
    ///
    /// # Errors
    ///
    /// As [`observe_view`](Self::observe_view).
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        check_currency(set.currency(), self.config.currency)?;
        let mut cache = std::mem::take(&mut self.cache);
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut r = self.names.map_catalog(set, &mut cache);
        if r.is_ok() {
            let (offsets, channels, converted, values) = set.fit_columns();
            for i in 0..converted.len() {
                scratch.ids.clear();
                scratch.ids.extend(
                    channels[offsets[i]..offsets[i + 1]]
                        .iter()
                        .map(|c| cache[c.index()]),
                );
                r = self.feed(&scratch.ids, outcome_cell(converted[i], values[i]));
                if r.is_err() {
                    break;
                }
            }
        }
        self.cache = cache;
        self.scratch = scratch;
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
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self
            .names
            .intern_into(path.iter().map(AsRef::as_ref), &mut scratch.ids);
        let buf = &scratch.ids;
        let r = r.and_then(|()| {
            self.feed(
                buf,
                Cell {
                    conversions,
                    nulls,
                    value_minor: i128::from(value_minor),
                },
            )
        });
        self.scratch = scratch;
        r
    }

    /// Observes journeys given as Arrow-layout columns (see
    /// [`MarkovPartial::observe_columns`](crate::markov::MarkovPartial::observe_columns)).
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
        let map = map_column_names(names, &mut self.names)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let buf = &mut scratch.ids;
        let r = walk_columns(
            offsets,
            codes,
            names.len(),
            converted,
            values_minor,
            |path, conv, v| {
                buf.clear();
                buf.extend(path.iter().map(|&c| map[c as usize]));
                self.feed(buf, outcome_cell(conv, v))
            },
        );
        self.scratch = scratch;
        r
    }

    /// Adds `other`'s counts into `self`, remapping coalitions by name.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations differ;
    /// [`Error::Overflow`].
    pub fn merge(&mut self, other: &ShapleyPartial) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatiblePartials {
                left: self.config.fingerprint(),
                right: other.config.fingerprint(),
            });
        }
        let mut remap = Vec::with_capacity(other.names.len());
        for n in other.names.names() {
            remap.push(self.names.intern(n)?);
        }
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
    pub(super) fn canon(&self) -> (Vec<String>, Vec<(Vec<u32>, Cell)>) {
        let mut used = vec![false; self.names.len()];
        for k in self.cells.keys() {
            for &c in k.iter() {
                used[c as usize] = true;
            }
        }
        let mut order: Vec<usize> = (0..self.names.len()).filter(|&i| used[i]).collect();
        order.sort_by(|&a, &b| self.names.names()[a].cmp(&self.names.names()[b]));
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
        let channels = order
            .iter()
            .map(|&l| self.names.names()[l].clone())
            .collect();
        (channels, cells)
    }

    pub(super) fn wire(&self) -> Wire {
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

/// The cell of one journey.
fn outcome_cell(converted: bool, value_minor: i64) -> Cell {
    if converted {
        Cell {
            conversions: 1,
            nulls: 0,
            value_minor: i128::from(value_minor),
        }
    } else {
        Cell {
            conversions: 0,
            nulls: 1,
            value_minor: 0,
        }
    }
}

crate::aggregate::journey_aggregate!(
    ShapleyPartial: ShapleyConfig => Shapley,
    new(config) = ShapleyPartial::new(config),
    finish(p) = ShapleyPartial::finish(p),
);

#[cfg(test)]
mod tests {
    use super::*;

    fn path(ids: &[usize]) -> Vec<String> {
        ids.iter().map(|i| format!("c{i}")).collect()
    }

    /// The coalitions, by channel name, sorted, with their counts.
    fn coalitions(p: &ShapleyPartial) -> Vec<(Vec<String>, u64, u64)> {
        let names = p.names.names();
        let mut out: Vec<_> = p
            .cells
            .iter()
            .map(|(k, c)| {
                let mut n: Vec<String> = k.iter().map(|&i| names[i as usize].clone()).collect();
                n.sort();
                (n, c.conversions, c.nulls)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn bit_set_coalitions_are_the_sorted_ones() -> Result<()> {
        // 70 channels: ids 0..70 in first-seen order, so a coalition with
        // c65 or above takes the slice path and the others the bit set
        let mut p = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Simplified));
        p.observe_path(&path(&(0..70).collect::<Vec<_>>()), 0, 0, 1)?;
        p.observe_path(&path(&[3, 1, 3]), 1, 100, 0)?;
        p.observe_path(&path(&[1, 3]), 0, 0, 2)?;
        p.observe_path(&path(&[3, 1]), 1, 50, 0)?;
        p.observe_path(&path(&[65, 1, 65]), 1, 10, 0)?;
        p.observe_path(&path(&[1, 65]), 0, 0, 1)?;
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let mut all = path(&(0..70).collect::<Vec<_>>());
        all.sort();
        assert_eq!(
            coalitions(&p),
            vec![
                (all, 0, 1),
                (s(&["c1", "c3"]), 2, 2),
                (s(&["c1", "c65"]), 1, 1),
            ]
        );
        // keys are the ids in increasing order, as the slice path builds
        for k in p.cells.keys() {
            assert!(k.windows(2).all(|w| w[0] < w[1]), "{k:?}");
        }
        assert_eq!(
            p.cells.get([1_u32, 3].as_slice()).map(|c| c.value_minor),
            Some(150)
        );
        Ok(())
    }

    #[test]
    fn the_bit_set_cache_survives_merges() -> Result<()> {
        let config = ShapleyConfig::new(ShapleyVariant::Rate);
        let paths: Vec<(Vec<String>, u64)> = (0..40_usize)
            .map(|k| (path(&[k % 5, (k * 3) % 7, k % 2]), (k % 3 == 0).into()))
            .collect();
        // one partial, against: the even paths, a merge of the odd ones
        // (coalitions and channels inserted behind the cache), then every
        // path again through the cache
        let mut one = ShapleyPartial::new(config);
        let mut left = ShapleyPartial::new(config);
        let mut right = ShapleyPartial::new(config);
        for (i, (p, conv)) in paths.iter().enumerate() {
            one.observe_path(p, *conv, 0, 1 - conv)?;
            let half = if i % 2 == 0 { &mut left } else { &mut right };
            half.observe_path(p, *conv, 0, 1 - conv)?;
        }
        left.merge(&right)?;
        for (p, conv) in &paths {
            one.observe_path(p, *conv, 0, 1 - conv)?;
            left.observe_path(p, *conv, 0, 1 - conv)?;
        }
        assert_eq!(coalitions(&left), coalitions(&one));
        assert!(left == one);
        Ok(())
    }
}
