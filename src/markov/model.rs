//! The fitted model: the chain, removal effects, and credit.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::config::MarkovConfig;
use super::partial::{Totals, unpack};
use super::solve::{Chain, LANES};
use super::wire::{Canon, for_each_lane};
use super::{SYM_CONV, SYM_NULL, lane_bits};
use crate::credit::Report;
use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Binding, ChannelList, Weights};
use crate::paths::{FitTotals, per_channel_weights, share_report};

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
    channels: ChannelList,
    /// Packed state keys (canonical channel ids), sorted by sequence.
    states: Vec<u64>,
    edges: Vec<(u32, u32, u64)>,
    row_totals: Vec<u64>,
    chain: Chain,
    p_conversion: f64,
    removal: Vec<f64>,
    totals: Totals,
    fingerprint: String,
}

impl Markov {
    pub(super) fn build(config: MarkovConfig, canon: Canon, totals: Totals) -> Result<Markov> {
        let Canon {
            channels,
            states,
            edges,
        } = canon;
        let n = states.len();
        let mut row_totals = vec![0u64; n];
        for &(s, _, c, _) in &edges {
            let r = &mut row_totals[s as usize];
            #[expect(
                clippy::unnecessary_lazy_evaluations,
                reason = "dropping an unused Error calls its drop glue per edge"
            )]
            let sum = r.checked_add(c).ok_or_else(|| Error::Overflow {
                what: "transition count",
            })?;
            *r = sum;
        }
        if row_totals.first().copied().unwrap_or(0) == 0 {
            return Err(Error::InsufficientData {
                reason: "markov: no journey with touches was observed".into(),
            });
        }
        let bits = lane_bits(config.order);
        // compressed rows straight from the sorted edges (sources in order)
        let mut ptr = Vec::with_capacity(n + 1);
        ptr.push(0);
        let mut to = Vec::with_capacity(edges.len());
        let mut p_to = Vec::with_capacity(edges.len());
        let mut p_conv = vec![0.0; n];
        let mut p_self = vec![0.0; n];
        let mut targets = Vec::with_capacity(edges.len());
        for &(s, sym, c, target) in &edges {
            let su = s as usize;
            while ptr.len() <= su {
                ptr.push(to.len());
            }
            #[expect(clippy::cast_precision_loss, reason = "probabilities")]
            let p = c as f64 / row_totals[su] as f64;
            match sym {
                SYM_CONV => {
                    p_conv[su] = p;
                    targets.push(SYM_CONV);
                }
                SYM_NULL => targets.push(SYM_NULL),
                ch => {
                    // the target the partial recorded (every channel
                    // transition has one)
                    let t = if (target as usize) < n {
                        target
                    } else {
                        return Err(Error::InvalidParameter {
                            parameter: "serialized Markov fit",
                            value: format!("transition {:?} -> {ch}", unpack(states[su], bits)),
                            expected: "a consistent set of states",
                        });
                    };
                    targets.push(t);
                    if t == s {
                        p_self[su] = p;
                    } else {
                        to.push(t);
                        p_to.push(p);
                    }
                }
            }
        }
        while ptr.len() <= n {
            ptr.push(to.len());
        }
        // expected visits from the start: departures over the start's (the
        // flow identity of counted walks), for the solve's stopping rule
        #[expect(clippy::cast_precision_loss, reason = "count ratios")]
        let visits: Vec<f64> = row_totals
            .iter()
            .map(|&r| r as f64 / row_totals[0] as f64)
            .collect();
        let chain = Chain::new(ptr, to, p_to, p_conv, p_self).with_visits(&visits);
        // The base chain's P(conversion) from the start: when the visits
        // hold (the chain was built from consistent counts), it is their
        // flow's `Σ_j N_j p(j, conv)`, which the counts give exactly as the
        // conversions over the start's departures (one rounding, no solve);
        // otherwise it is solved as lane 0. Then one lane per channel, the
        // channel removed (every state containing it sent to null); one
        // pass solves them all.
        let base = chain.has_visits().then(|| {
            let conversions: u128 = edges
                .iter()
                .filter(|e| e.1 == SYM_CONV)
                .map(|e| u128::from(e.2))
                .sum();
            #[expect(clippy::cast_precision_loss, reason = "a count ratio")]
            let p = conversions as f64 / row_totals[0] as f64;
            p
        });
        let first_channel = usize::from(base.is_none());
        // A channel none of whose states can still reach a conversion has a
        // removal effect of exactly 0: no lane for it. The others get one lane each, in
        // channel order after the base's, if any.
        let live = chain.live_states();
        let mut held = vec![false; channels.len()];
        for (&key, _) in states.iter().zip(&live).filter(|(_, l)| **l) {
            for_each_lane(key, bits, |c| held[c as usize] = true);
        }
        let mut lanes = first_channel;
        let lane_of: Vec<usize> = held
            .iter()
            .map(|&h| {
                if !h {
                    return usize::MAX;
                }
                lanes += 1;
                lanes - 1
            })
            .collect();
        let starts = chain.solve_starts(lanes, |first, marks| {
            for (m, &s) in marks.iter_mut().zip(&states) {
                for_each_lane(s, bits, |c| {
                    // this group's bit of channel c's lane, if it has one
                    let bit = lane_of[c as usize].wrapping_sub(first);
                    if bit < LANES {
                        *m |= 1 << bit;
                    }
                });
            }
        })?;
        let p_conversion = base.unwrap_or_else(|| starts.first().copied().unwrap_or(0.0));
        if p_conversion <= 0.0 {
            return Err(Error::InsufficientData {
                reason: "markov: no journey with touches converted".into(),
            });
        }
        let removal: Vec<f64> = lane_of
            .iter()
            .map(|&lane| match starts.get(lane) {
                Some(&x) => (1.0 - x / p_conversion).clamp(0.0, 1.0),
                None => 0.0,
            })
            .collect();
        let mut fingerprint = config.fingerprint();
        for r in &removal {
            fingerprint.push_str(&format!(";{:016x}", r.to_bits()));
        }
        let edges: Vec<(u32, u32, u64)> = edges
            .into_iter()
            .zip(targets)
            .map(|((s, _, c, _), t)| (s, t, c))
            .collect();
        Ok(Markov {
            config,
            channels: ChannelList::from_sorted(channels),
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

    /// The solved chain (tests of the solver).
    #[cfg(test)]
    pub(crate) fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &MarkovConfig {
        &self.config
    }

    /// The channels, sorted by name.
    pub fn channels(&self) -> &[String] {
        self.channels.names()
    }

    /// `P(conversion)` from the start state: for a model fitted from
    /// counts, the converted journeys with touches over the journeys with
    /// touches (what the chain's absorption probability is, exactly).
    pub fn conversion_probability(&self) -> f64 {
        self.p_conversion
    }

    /// Removal effects per channel, sorted by channel name, each in `[0, 1]`.
    pub fn removal_effects(&self) -> Vec<(&str, f64)> {
        self.channels
            .names()
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
        self.channels.index(channel)
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

    /// Bits per channel in the state keys ([`lane_bits`]).
    fn bits(&self) -> u32 {
        lane_bits(self.config.order)
    }

    fn state_names(&self, s: usize) -> Vec<String> {
        unpack(self.states[s], self.bits())
            .iter()
            .map(|&c| self.channels.names()[c as usize].clone())
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
    /// [`MarkovPartial::finish`](super::MarkovPartial::finish) for the solve.
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
        Ok(self.seq_effects(&[ids])?[0])
    }

    /// Removal effects of `seqs`, solved as lanes of one pass: every state
    /// whose channel sequence contains a sequence consecutively is sent to
    /// null in that sequence's lane.
    fn seq_effects(&self, seqs: &[&[u32]]) -> Result<Vec<f64>> {
        let bits = self.bits();
        let unpack = |key: u64, seq: &mut Vec<u32>| {
            seq.clear();
            for_each_lane(key, bits, |c| seq.push(c));
        };
        let contains = |seq: &[u32], ids: &[u32]| seq.windows(ids.len()).any(|w| w == ids);
        // a sequence in no state that can still convert has an effect of
        // exactly 0
        // (no lane); the others get one lane each, in order
        let live = self.chain.live_states();
        let mut keep = vec![false; seqs.len()];
        let mut seq = Vec::new();
        // each live state's windows looked up among the sequences (sorted
        // and distinct, as both callers give them), not every sequence
        // tried against every state
        debug_assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        let mut lens: Vec<usize> = seqs.iter().map(|ids| ids.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        for (&key, _) in self.states.iter().zip(&live).filter(|(_, l)| **l) {
            unpack(key, &mut seq);
            for &len in &lens {
                for w in seq.windows(len) {
                    if let Ok(k) = seqs.binary_search(&w) {
                        keep[k] = true;
                    }
                }
            }
        }
        let solved: Vec<&[u32]> = seqs
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(ids, _)| *ids)
            .collect();
        let starts = self.chain.solve_starts(solved.len(), |first, marks| {
            let group = &solved[first..solved.len().min(first + LANES)];
            let mut seq = Vec::new();
            for (m, &s) in marks.iter_mut().zip(&self.states) {
                unpack(s, &mut seq);
                for (l, ids) in group.iter().enumerate() {
                    if contains(&seq, ids) {
                        *m |= 1 << l;
                    }
                }
            }
        })?;
        let mut starts = starts.into_iter();
        Ok(keep
            .iter()
            .map(|&k| match k.then(|| starts.next()).flatten() {
                Some(x) => (1.0 - x / self.p_conversion).clamp(0.0, 1.0),
                None => 0.0,
            })
            .collect())
    }

    /// Removal effects of every channel sequence of length `len` found in a
    /// state (so `2 <= len <= order` is useful), sorted by sequence.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `1 <= len <= order`; as
    /// [`MarkovPartial::finish`](super::MarkovPartial::finish) for the solves.
    pub fn sequence_removal_effects(&self, len: usize) -> Result<Vec<(Vec<String>, f64)>> {
        if len == 0 || len > usize::from(self.config.order) {
            return Err(Error::param("len", len, "between 1 and the order"));
        }
        let bits = self.bits();
        let states: Vec<Vec<u32>> = self.states.iter().map(|&s| unpack(s, bits)).collect();
        let seqs: BTreeSet<&[u32]> = states.iter().flat_map(|s| s.windows(len)).collect();
        let seqs: Vec<&[u32]> = seqs.into_iter().collect();
        let effects = self.seq_effects(&seqs)?;
        Ok(seqs
            .iter()
            .zip(effects)
            .map(|(s, e)| {
                (
                    s.iter()
                        .map(|&c| self.channels.names()[c as usize].clone())
                        .collect(),
                    e,
                )
            })
            .collect())
    }

    /// Attributed conversions and value per channel, as the crate's
    /// [`Report`]: the conversions and value of journeys with touches shared
    /// `total × RE(c) / Σ RE` by the largest-remainder method, in units of
    /// 10⁻⁹ conversion and minor units, ties to the channel first by name,
    /// so `Σ lines + unassigned == totals` exactly. Converted journeys with
    /// no touch are the channel breakdown's unassigned line and count in the
    /// report's totals, as in every rule-based report. The campaign and
    /// content breakdowns have no lines (the chain is over channels): their
    /// unassigned bucket holds the totals.
    ///
    /// Returns `Result` (as [`Shapley::credits`](crate::shapley::Shapley::credits)):
    /// the totals are shared here, when asked for, and sharing can fail.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if every removal effect is 0;
    /// [`Error::Overflow`] if the totals do not fit in `i64` units.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::markov::{MarkovConfig, MarkovPartial};
    ///
    /// let mut fit = MarkovPartial::new(MarkovConfig::new(1)?);
    /// fit.observe_path(&["C1", "C2", "C3"], 1, 10_000, 0)?; // 100.00
    /// fit.observe_path(&["C1"], 0, 0, 1)?;
    /// fit.observe_path(&["C2", "C3"], 0, 0, 1)?;
    /// fit.observe_path::<&str>(&[], 1, 500, 0)?; // converted, no touch
    /// let report = fit.finish()?.credits()?;
    /// // removal effects 0.5 / 1 / 1: shares 0.2 / 0.4 / 0.4
    /// let cents: Vec<i128> = report.channels().lines().iter().map(|l| l.value_minor()).collect();
    /// assert_eq!(cents, [2000, 4000, 4000]);
    /// assert_eq!(report.channels().get("C2").unwrap().conversions(), 0.4);
    /// assert_eq!(report.channels().unassigned().value_minor(), 500);
    /// assert_eq!((report.conversions(), report.value_minor(), report.journeys()), (2, 10_500, 4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn credits(&self) -> Result<Report> {
        share_report(
            "markov",
            self.config.currency,
            self.channels.names(),
            &self.removal,
            &self.fit_totals(),
        )
    }

    fn fit_totals(&self) -> FitTotals {
        let t = &self.totals;
        FitTotals {
            journeys: t.journeys(),
            conversions: t.conversions,
            value_minor: t.value_minor,
            empty_conversions: t.empty_conversions,
            empty_value_minor: t.empty_value_minor,
        }
    }
}

impl AttributionModel for Markov {
    fn name(&self) -> &str {
        "markov"
    }

    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let catalog = journey.catalog();
        per_channel_weights(journey, out, |id| {
            self.channel_index(catalog.channel_name(id))
                .map_or(0.0, |i| self.removal[i])
        });
        Ok(())
    }

    /// As [`weights`](Self::weights), the journey's ids resolved through
    /// `binding` (one table per catalog) instead of by name.
    fn weights_bound(
        &self,
        journey: &JourneyView<'_>,
        binding: &mut Binding,
        out: &mut Weights,
    ) -> Result<()> {
        let map = binding.map(&self.channels, journey.catalog());
        per_channel_weights(journey, out, |id| {
            map.get(id).map_or(0.0, |i| self.removal[i])
        });
        Ok(())
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credit::Crediter;
    use crate::dataset::JourneySet;
    use crate::journey::SimpleJourney;
    use crate::markov::partial::push_lane;
    use crate::markov::{MarkovPartial, fit};
    use crate::model::testing::{check_bound_matches_by_name, journeys};
    use crate::touchpoint::SimpleTouch;

    #[test]
    fn base_probability_is_the_count_ratio_and_dead_channels_get_no_lane() {
        // 6 journeys with touches, 2 converted; `dead` only ends journeys
        // that did not convert. By hand: start -> a 5/6, -> b 1/6; a -> b
        // 3/5, -> dead 2/5; b -> conversion 2/4; dead -> null. x(b) = 1/2,
        // x(a) = 3/10, x(start) = 5/6 · 3/10 + 1/6 · 1/2 = 1/3 (= 2/6).
        // Without a: 1/6 · 1/2 = 1/12, effect 3/4; without b: 0, effect 1;
        // without dead: 1/3, effect 0
        let mut p = MarkovPartial::new(MarkovConfig::new(1).unwrap());
        p.observe_path(&["a", "b"], 2, 200, 1).unwrap();
        p.observe_path(&["a", "dead"], 0, 0, 2).unwrap();
        p.observe_path(&["b"], 0, 0, 1).unwrap();
        let m = p.finish().unwrap();
        // the count ratio, one rounding (no solve)
        assert_eq!(
            m.conversion_probability().to_bits(),
            (2.0_f64 / 6.0).to_bits()
        );
        assert!(m.chain().has_visits());
        assert!((m.removal_effect("a").unwrap() - 0.75).abs() < 1e-15);
        assert!((m.removal_effect("b").unwrap() - 1.0).abs() < 1e-15);
        // no lane for `dead`: exactly 0, not a rounding away from it
        assert_eq!(m.removal_effect("dead"), Some(0.0));
        let live = m.chain().live_states();
        assert_eq!(live.iter().filter(|&&l| l).count(), 3, "start, a, b");
        assert_eq!(live.len(), 4);
    }

    #[test]
    fn bound_credit_known_answer() {
        // the fit of `Markov::credits`'s example: removal effects C1 0.5,
        // C2 1, C3 1
        let mut p = MarkovPartial::new(MarkovConfig::new(1).unwrap());
        p.observe_path(&["C1", "C2", "C3"], 1, 10_000, 0).unwrap();
        p.observe_path(&["C1"], 0, 0, 1).unwrap();
        p.observe_path(&["C2", "C3"], 0, 0, 1).unwrap();
        let m = p.finish().unwrap();
        assert_eq!(m.removal_effect("C1"), Some(0.5));
        // X unknown to the model (weight 0) and first in the catalog; C1
        // twice splits its 0.5: weights 0, 1, 0.25, 0.25 of 1.5, so 150.00
        // goes 0 / 100.00 / 25.00 / 25.00
        let t = chrono::DateTime::UNIX_EPOCH;
        let j = SimpleJourney::new("j")
            .touch(SimpleTouch::new("X", t))
            .touch(SimpleTouch::new("C3", t))
            .touch(SimpleTouch::new("C1", t))
            .touch(SimpleTouch::new("C1", t))
            .converted(150.0);
        let set = JourneySet::from_journeys([&j]).unwrap();
        let mut c = Crediter::new();
        c.credit(&m, &set.get(0).unwrap()).unwrap();
        assert_eq!(c.values(), [0, 10_000, 2_500, 2_500]);
    }

    /// A fit over `k` channels named in reverse of their first-seen order,
    /// paths of 1 to 7 touches (repeats included), some converting.
    fn scrambled_fit(order: u8, k: u64, n: u64) -> MarkovPartial {
        let mut p = MarkovPartial::new(MarkovConfig::new(order).unwrap());
        let mut s = 11u64;
        for _ in 0..n {
            s = crate::hash::fmix64(s.wrapping_add(1));
            let len = 1 + (s % 7) as usize;
            let path: Vec<String> = (0..len)
                .map(|i| format!("ch{:02}", k - 1 - crate::hash::fmix64(s ^ i as u64) % k))
                .collect();
            let conv = u64::from(s % 3 == 0);
            p.observe_path(&path, conv, 100 * i64::from(s % 3 == 0), 1 - conv)
                .unwrap();
        }
        p
    }

    #[test]
    fn canon_orders_states_by_sequence_and_transitions_by_source_and_symbol() {
        for order in 1..=super::super::MAX_ORDER {
            let fit = scrambled_fit(order, 12, 3000);
            let c = fit.canon();
            let bits = fit.lane_bits();
            // channels by name; states by channel sequence, start first
            assert!(c.channels.windows(2).all(|w| w[0] < w[1]));
            let seqs: Vec<Vec<u32>> = c.states.iter().map(|&k| unpack(k, bits)).collect();
            assert!(seqs[0].is_empty());
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "order {order}");
            assert_eq!(seqs.len(), fit.states.len());
            // every transition once, sorted by (source, symbol), with the
            // partial's count under the canonical names
            assert!(
                c.edges
                    .windows(2)
                    .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
            );
            assert_eq!(c.edges.len(), fit.trans.len());
            let name = |sym: u32| match sym {
                SYM_CONV | SYM_NULL => format!("{sym}"),
                ch => c.channels[ch as usize].clone(),
            };
            let mut want: Vec<(Vec<String>, String, u64)> = fit
                .trans
                .keys()
                .iter()
                .zip(&fit.counts)
                .map(|(&key, &n)| {
                    let from = unpack(fit.states.keys()[(key >> 32) as usize], bits)
                        .iter()
                        .map(|&l| fit.names.names()[l as usize].clone())
                        .collect();
                    let sym = key as u32;
                    let to = if sym >= SYM_CONV {
                        format!("{sym}")
                    } else {
                        fit.names.names()[sym as usize].clone()
                    };
                    (from, to, n)
                })
                .collect();
            let mut got: Vec<(Vec<String>, String, u64)> = c
                .edges
                .iter()
                .map(|&(s, sym, n, target)| {
                    // the recorded target is the source's sequence followed
                    // by the channel
                    if sym < SYM_CONV {
                        let want = push_lane(c.states[s as usize], sym, order.into(), bits);
                        assert_eq!(c.states[target as usize], want, "order {order}");
                    } else {
                        assert_eq!(target, u32::MAX);
                    }
                    let from = seqs[s as usize].iter().map(|&ch| name(ch)).collect();
                    (from, name(sym), n)
                })
                .collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "order {order}");
        }
    }

    #[test]
    fn sequence_removals_are_bit_identical_to_lone_solves() {
        // more than two groups of lanes: every observed pair of channels
        let m = scrambled_fit(3, 6, 4000).finish().unwrap();
        let effects = m.sequence_removal_effects(2).unwrap();
        assert!(effects.len() > 2 * super::LANES, "{}", effects.len());
        let start = 0;
        for (seq, re) in &effects {
            let ids: Vec<u32> = seq
                .iter()
                .map(|c| u32::try_from(m.channel_index(c).unwrap()).unwrap())
                .collect();
            let removed: Vec<bool> = m
                .states
                .iter()
                .map(|&k| unpack(k, m.bits()).windows(2).any(|w| w == ids.as_slice()))
                .collect();
            let x = m.chain.solve(&removed).unwrap()[start];
            let lone = (1.0 - x / m.p_conversion).clamp(0.0, 1.0);
            assert_eq!(re.to_bits(), lone.to_bits(), "{seq:?}");
        }
        // and the channel removals of `finish`
        for (c, re) in m.removal_effects() {
            let id = u32::try_from(m.channel_index(c).unwrap()).unwrap();
            let removed: Vec<bool> = m
                .states
                .iter()
                .map(|&k| unpack(k, m.bits()).contains(&id))
                .collect();
            let x = m.chain.solve(&removed).unwrap()[start];
            let lone = (1.0 - x / m.p_conversion).clamp(0.0, 1.0);
            assert_eq!(re.to_bits(), lone.to_bits(), "{c}");
        }
    }

    #[test]
    fn bound_weights_are_the_by_name_weights() {
        let names = ["a", "b", "c", "d", "e"];
        let set = JourneySet::from_journeys(journeys(400, 1, &names)).unwrap();
        // the stream: a channel the model never saw, names first seen in
        // another order
        let stream = journeys(300, 2, &["z", "e", "d", "c", "b", "a"]);
        for order in 1..=3 {
            let m = fit(&set, MarkovConfig::new(order).unwrap()).unwrap();
            check_bound_matches_by_name(&m, &stream);
        }
    }
}
