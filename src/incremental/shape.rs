//! One journey as the model sees it: its distinct channels with their
//! exposure counts, recency flags, last-touch ranks and order pairs; and the
//! linear predictor of a channel subset.

use std::collections::HashMap;

use super::config::IncrementalConfig;

/// A channel index the fitted model does not know (no coefficients).
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// One distinct channel of a journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Item {
    /// Grouping key (catalog id of the journey's channel).
    pub(crate) key: u32,
    /// Index into the coefficient tables, or [`UNKNOWN`].
    pub(crate) ch: u32,
    /// Count as stored (capped; 1 for presence).
    pub(crate) count: u16,
    /// Actual number of touches (for splitting credit over touches).
    pub(crate) touches: u32,
    /// Touched within the recency window of the journey's last touch.
    pub(crate) recent: bool,
    /// 0 = channel of the last touch, 1 = the latest other one, ...
    pub(crate) rank: u16,
    pub(crate) first: u32,
    pub(crate) last: u32,
}

/// A journey's distinct channels and its "i before j" pairs: indices into
/// `items` and the (stored) count of `j` touches after the first `i` touch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    pub(crate) items: Vec<Item>,
    pub(crate) pairs: Vec<(u16, u16, u16)>,
    pub(crate) seq: Vec<usize>,
    /// Whether some channel's count was capped.
    pub(crate) capped: bool,
    /// Scratch of the pair counts: later touches per item, and touches of
    /// each item after each item's first touch.
    suffix: Vec<u32>,
    after: Vec<u32>,
    /// Item of each key, once a journey has more than [`SCAN_ITEMS`]
    /// distinct channels (below, a scan of `items` is faster); only read
    /// by key, never iterated, so its order cannot reach a result.
    slots: HashMap<u32, usize>,
}

/// Distinct channels up to which [`Shape::build`] finds a touch's item by
/// scanning; above, through [`Shape::slots`], so a journey's cost stays
/// linear in its touches.
const SCAN_ITEMS: usize = 32;

impl Shape {
    /// Builds the shape of a journey given as `(key, ch)` per touch in time
    /// order, with timestamps `ts`. `pair_ok(ch_a, ch_b)` says whether the
    /// configuration wants the pair feature `(a, b)`.
    pub(crate) fn build(
        &mut self,
        config: &IncrementalConfig,
        touches: impl Iterator<Item = (u32, u32)>,
        ts: &[i64],
        pair_ok: impl Fn(&Item, &Item) -> bool,
    ) {
        self.items.clear();
        self.pairs.clear();
        self.capped = false;
        self.seq.clear();
        self.slots.clear();
        let end = ts.last().copied().unwrap_or(0);
        for (pos, (key, ch)) in touches.enumerate() {
            let pos32 = u32::try_from(pos).unwrap_or(u32::MAX);
            let recent = config
                .recency_ms
                .is_some_and(|w| ts.get(pos).is_some_and(|&t| end.saturating_sub(t) <= w));
            let found = if self.items.len() <= SCAN_ITEMS {
                self.items.iter().position(|it| it.key == key)
            } else {
                if self.slots.is_empty() {
                    self.slots
                        .extend(self.items.iter().enumerate().map(|(i, it)| (it.key, i)));
                }
                self.slots.get(&key).copied()
            };
            match found {
                Some(i) => {
                    let it = &mut self.items[i];
                    it.touches = it.touches.saturating_add(1);
                    it.last = pos32;
                    it.recent |= recent;
                    self.seq.push(i);
                }
                None => {
                    if !self.slots.is_empty() {
                        self.slots.insert(key, self.items.len());
                    }
                    self.seq.push(self.items.len());
                    self.items.push(Item {
                        key,
                        ch,
                        count: 0,
                        touches: 1,
                        recent,
                        rank: 0,
                        first: pos32,
                        last: pos32,
                    });
                }
            }
        }
        for it in &mut self.items {
            it.count = config.stored_count(it.touches as usize);
            if u32::from(it.count) < it.touches && config.exposure != super::Exposure::Presence {
                self.capped = true;
            }
        }
        if config.last_touch {
            // rank by last occurrence, latest first
            let mut order: Vec<usize> = (0..self.items.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(self.items[i].last));
            for (r, i) in order.into_iter().enumerate() {
                self.items[i].rank = u16::try_from(r).unwrap_or(u16::MAX);
            }
        }
        if !matches!(config.pairs, super::Pairs::None) {
            // after(a, b): touches of item b after item a's first touch.
            // Up to DENSE_PAIRS distinct items: a k * k table from one
            // backward pass keeping counts of later touches. Above (a
            // journey with thousands of distinct channels), memory must
            // not grow with k * k: each item's positions, grouped by item,
            // and a binary search per pair. Both give the same counts.
            let k = self.items.len();
            let dense = k <= DENSE_PAIRS;
            let (suffix, after) = (&mut self.suffix, &mut self.after);
            suffix.clear();
            suffix.resize(k, 0);
            after.clear();
            let (mut start, mut positions) = (Vec::new(), Vec::new());
            if dense {
                after.resize(k * k, 0);
                for (pos, &it) in self.seq.iter().enumerate().rev() {
                    if self.items[it].first as usize == pos {
                        after[it * k..(it + 1) * k].copy_from_slice(suffix);
                    }
                    suffix[it] += 1;
                }
            } else {
                // a counting sort of the positions by item
                start.resize(k + 1, 0_usize);
                for &it in &self.seq {
                    start[it + 1] += 1;
                }
                for i in 0..k {
                    start[i + 1] += start[i];
                }
                let mut fill = start.clone();
                positions.resize(self.seq.len(), 0_usize);
                for (pos, &it) in self.seq.iter().enumerate() {
                    positions[fill[it]] = pos;
                    fill[it] += 1;
                }
            }
            let after_count = |i: usize, j: usize| -> usize {
                if dense {
                    after[i * k + j] as usize
                } else {
                    let ps = &positions[start[j]..start[j + 1]];
                    let first = self.items[i].first as usize;
                    ps.len() - ps.partition_point(|&p| p <= first)
                }
            };
            for (i, a) in self.items.iter().enumerate() {
                for (j, b) in self.items.iter().enumerate() {
                    if i != j && a.first < b.last && pair_ok(a, b) {
                        self.pairs.push((
                            u16::try_from(i).unwrap_or(u16::MAX),
                            u16::try_from(j).unwrap_or(u16::MAX),
                            config.stored_count(after_count(i, j)),
                        ));
                    }
                }
            }
        }
    }
}

/// Distinct items of one journey up to which ordered-pair counts use a
/// `k * k` table (256 KiB at the limit); above, memory stays linear in the
/// journey's touches.
const DENSE_PAIRS: usize = 256;

/// Fitted coefficients laid out by channel index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Coefs {
    pub(crate) k: usize,
    pub(crate) width: usize,
    pub(crate) intercept: f64,
    /// `k * width` exposure coefficients.
    pub(crate) exposure: Vec<f64>,
    /// `k` last-touch coefficients (empty when off).
    pub(crate) last: Vec<f64>,
    /// `k` recency coefficients (empty when off).
    pub(crate) recent: Vec<f64>,
    /// `k * k` pair coefficients, `[a * k + b]` for "a before b" (empty when off).
    pub(crate) pair: Vec<f64>,
}

impl Coefs {
    /// Calls `emit` with each term item `it` adds to the linear predictor
    /// (exposure products, then recency), in order. The one definition of
    /// an item's terms: [`eta`](Self::eta) and
    /// [`item_terms`](Self::item_terms) both go through it.
    fn for_item_terms(&self, config: &IncrementalConfig, it: &Item, mut emit: impl FnMut(f64)) {
        if it.ch == UNKNOWN {
            return;
        }
        let c = it.ch as usize;
        let base = c * self.width;
        for l in 0..self.width {
            let x = config.exposure_value(l, it.count);
            if x != 0.0 {
                emit(self.exposure[base + l] * x);
            }
        }
        if it.recent && !self.recent.is_empty() {
            emit(self.recent[c]);
        }
    }

    /// The linear predictor of `shape` restricted to the items for which
    /// `present(i)` holds: the intercept, each present item's terms (added
    /// by `add_item(i, &mut eta)`), the last-touch term of the latest
    /// present item and the pairs of present items. The one skeleton of
    /// [`eta`](Self::eta) and [`eta_terms`](Self::eta_terms), which differ
    /// only in where an item's terms come from.
    fn eta_with(
        &self,
        config: &IncrementalConfig,
        shape: &Shape,
        present: impl Fn(usize) -> bool,
        mut add_item: impl FnMut(usize, &mut f64),
    ) -> f64 {
        let mut eta = self.intercept;
        let mut last: Option<(u16, u32)> = None;
        for (i, it) in shape.items.iter().enumerate() {
            if !present(i) {
                continue;
            }
            if last.is_none_or(|(r, _)| it.rank < r) {
                last = Some((it.rank, it.ch));
            }
            add_item(i, &mut eta);
        }
        if let Some((_, ch)) = last
            && ch != UNKNOWN
            && !self.last.is_empty()
        {
            eta += self.last[ch as usize];
        }
        if !self.pair.is_empty() {
            for &(i, j, n) in &shape.pairs {
                let (a, b) = (&shape.items[i as usize], &shape.items[j as usize]);
                if a.ch != UNKNOWN && b.ch != UNKNOWN && present(i as usize) && present(j as usize)
                {
                    eta += self.pair[a.ch as usize * self.k + b.ch as usize] * config.pair_value(n);
                }
            }
        }
        eta
    }

    /// The linear predictor of `shape` restricted to the items for which
    /// `present(i)` holds.
    pub(crate) fn eta(
        &self,
        config: &IncrementalConfig,
        shape: &Shape,
        present: impl Fn(usize) -> bool,
    ) -> f64 {
        self.eta_with(config, shape, present, |i, eta| {
            self.for_item_terms(config, &shape.items[i], |t| *eta += t);
        })
    }

    /// The terms [`eta`](Self::eta) adds for each item, flat in `terms`,
    /// item `i`'s ending at `ends[i]`: computed once per journey for the
    /// `2^k` evaluations of the Shapley credit.
    pub(crate) fn item_terms(
        &self,
        config: &IncrementalConfig,
        shape: &Shape,
        terms: &mut Vec<f64>,
        ends: &mut Vec<usize>,
    ) {
        terms.clear();
        ends.clear();
        for it in &shape.items {
            self.for_item_terms(config, it, |t| terms.push(t));
            ends.push(terms.len());
        }
    }

    /// [`eta`](Self::eta) from the terms of [`item_terms`](Self::item_terms):
    /// the same skeleton and the same additions in the same order, so the
    /// same bits.
    pub(crate) fn eta_terms(
        &self,
        config: &IncrementalConfig,
        shape: &Shape,
        terms: &[f64],
        ends: &[usize],
        present: impl Fn(usize) -> bool,
    ) -> f64 {
        self.eta_with(config, shape, present, |i, eta| {
            let a = if i == 0 { 0 } else { ends[i - 1] };
            for &t in &terms[a..ends[i]] {
                *eta += t;
            }
        })
    }
}

/// The logistic function, stable for every finite or infinite input.
pub(crate) fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^eta)`, stable.
pub(crate) fn softplus(eta: f64) -> f64 {
    if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::{Exposure, Pairs};

    /// Pair counts by hand: touches `a b a b c b` (items a, b, c). "b after
    /// a": b's touches after a's first (positions 1, 3, 5) = 3; "c after a"
    /// 1; "a after b": position 2 = 1; "c after b" 1; "b after c":
    /// position 5 = 1; "a after c": none (a's last touch is before c's
    /// first), so no pair.
    #[test]
    fn pair_counts_by_hand() {
        let config = IncrementalConfig::new()
            .exposure(Exposure::Linear)
            .pairs(Pairs::All);
        let touches = [0_u32, 1, 0, 1, 2, 1];
        let ts: Vec<i64> = (0..6).collect();
        let mut shape = Shape::default();
        shape.build(&config, touches.iter().map(|&c| (c, c)), &ts, |_, _| true);
        let counts: Vec<u16> = shape.items.iter().map(|it| it.count).collect();
        assert_eq!(counts, [2, 3, 1]);
        let mut pairs = shape.pairs.clone();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            [(0, 1, 3), (0, 2, 1), (1, 0, 1), (1, 2, 1), (2, 1, 1)]
        );
        // a cap of 2 caps the pair count too
        let capped = config.count_cap(2).unwrap();
        shape.build(&capped, touches.iter().map(|&c| (c, c)), &ts, |_, _| true);
        assert!(shape.pairs.contains(&(0, 1, 2)));
        assert!(shape.capped);
    }

    /// Past `SCAN_ITEMS` distinct channels items are found through the key
    /// table: the same items, in first-touch order, with the same touch
    /// counts and sequence as a scan. Keys 1000, 1007, ... (40 distinct,
    /// `7 * i mod 40` apart), then the first three keys again: each of
    /// those has 2 touches, the others 1.
    #[test]
    fn many_items_are_found_by_key() {
        let config = IncrementalConfig::new().exposure(Exposure::Linear);
        let first: Vec<u32> = (0..40).map(|i| 1000 + (7 * i) % 40).collect();
        let touches: Vec<u32> = first
            .iter()
            .copied()
            .chain(first[..3].iter().copied())
            .collect();
        let ts: Vec<i64> = (0..touches.len() as i64).collect();
        let mut shape = Shape::default();
        shape.build(&config, touches.iter().map(|&c| (c, c)), &ts, |_, _| true);
        let keys: Vec<u32> = shape.items.iter().map(|it| it.key).collect();
        assert_eq!(keys, first);
        let counts: Vec<u32> = shape.items.iter().map(|it| it.touches).collect();
        let mut want = vec![1; 40];
        want[..3].copy_from_slice(&[2, 2, 2]);
        assert_eq!(counts, want);
        let seq: Vec<usize> = (0..40).chain(0..3).collect();
        assert_eq!(shape.seq, seq);
        assert_eq!((shape.items[1].first, shape.items[1].last), (1, 41));
        // a second, short journey through the same scratch scans again
        shape.build(
            &config,
            [5_u32, 6, 5].iter().map(|&c| (c, c)),
            &ts[..3],
            |_, _| true,
        );
        let keys: Vec<u32> = shape.items.iter().map(|it| it.key).collect();
        assert_eq!((keys, shape.seq.clone()), (vec![5, 6], vec![0, 1, 0]));
    }

    /// Above `DENSE_PAIRS` distinct items the counts come from sorted
    /// positions, not a `k * k` table: the same pairs and counts as
    /// counting by brute force.
    #[test]
    fn pair_counts_without_a_square_table() {
        let config = IncrementalConfig::new()
            .exposure(Exposure::Linear)
            .pairs(Pairs::All);
        let k = DENSE_PAIRS as u32 + 4;
        // every channel once, then channels 0..8 again
        let touches: Vec<u32> = (0..k).chain(0..8).collect();
        let ts: Vec<i64> = (0..touches.len() as i64).collect();
        let mut shape = Shape::default();
        shape.build(&config, touches.iter().map(|&c| (c, c)), &ts, |_, _| true);
        assert!(shape.after.is_empty(), "no square table above the limit");
        let mut brute = Vec::new();
        for (i, a) in shape.items.iter().enumerate() {
            for (j, b) in shape.items.iter().enumerate() {
                if i != j && a.first < b.last {
                    let n = touches
                        .iter()
                        .enumerate()
                        .filter(|&(p, &c)| p > a.first as usize && c == b.key)
                        .count();
                    brute.push((i as u16, j as u16, config.stored_count(n)));
                }
            }
        }
        let mut pairs = shape.pairs.clone();
        pairs.sort_unstable();
        brute.sort_unstable();
        assert_eq!(pairs, brute);
        // by hand: channel 0 (first at 0) is followed by both touches of
        // channel 3 (at 3 and k + 3); channel 5 (first at 5) by one of
        // channel 2 (at k + 2, not at 2)
        assert!(pairs.contains(&(0, 3, 2)));
        assert!(pairs.contains(&(5, 2, 1)));
    }
}
