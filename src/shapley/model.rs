//! The fitted model: Shapley values and credit.

use serde::{Deserialize, Serialize};

use super::MAX_SAMPLED_CHANNELS;
use super::config::{ShapleyConfig, ShapleyVariant};
use super::game::{RateGame, nonneg_shares};
use super::partial::Cell;
use crate::credit::{CONVERSION_UNITS, Report, apportion_weighted};
use crate::dataset::{ChannelId, JourneyView};
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Binding, ChannelList, ChannelMap, Weights};
use crate::paths::{FitTotals, per_channel_weights, units_report};

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
///
/// The rate variant keeps the shares of every converting coalition it
/// solved while fitting (one `f64` per channel of each), so crediting a
/// journey whose channel set was seen converting is one lookup; other
/// coalitions are solved when credited.
#[derive(Debug, Clone, PartialEq)]
pub struct Shapley {
    config: ShapleyConfig,
    channels: ChannelList,
    values: Vec<f64>,
    std_errors: Option<Vec<f64>>,
    credits: Report,
    positions: Vec<PositionCredit>,
    coalitions: usize,
    fingerprint: String,
    rate_game: Option<RateGame>,
    rate_shares: CoalitionShares,
}

/// The rate variant's per-journey shares of every converting coalition of
/// the fit within the exact limit, computed once by the fit (the same
/// `nonneg_shares(exact)` as for an unseen coalition, so the same bits):
/// credit looks a journey's coalition up instead of solving its game
/// again. One `f64` per channel of each such coalition.
#[derive(Debug, Clone, PartialEq, Default)]
struct CoalitionShares {
    /// `(coalition mask, start in shares)`, sorted by mask; a coalition of
    /// `m` channels owns `m` shares, in channel order.
    index: Vec<(u128, usize)>,
    shares: Vec<f64>,
}

impl CoalitionShares {
    /// Records the shares of coalition `k` (channel indices); a coalition
    /// not in ascending order is left to be solved when credited.
    fn push(&mut self, k: &[u32], w: &[f64]) {
        if k.len() != w.len() || k.windows(2).any(|p| p[0] >= p[1]) || k.iter().any(|&c| c >= 128) {
            return;
        }
        let mask = k.iter().fold(0u128, |m, &c| m | 1u128 << c);
        self.index.push((mask, self.shares.len()));
        self.shares.extend_from_slice(w);
    }

    /// Sorts the index for [`get`](Self::get).
    fn seal(&mut self) {
        self.index.sort_unstable_by_key(|&(m, _)| m);
        self.index.dedup_by_key(|&mut (m, _)| m);
    }

    /// The shares of the coalition `mask`, one per channel in ascending
    /// order, if the fit solved it.
    fn get(&self, mask: u128) -> Option<&[f64]> {
        let i = self.index.binary_search_by_key(&mask, |&(m, _)| m).ok()?;
        let start = self.index[i].1;
        self.shares.get(start..start + mask.count_ones() as usize)
    }
}

/// Splits `total` equally in `n` parts, leftover units to the first parts.
fn split_equal(total: i64, n: usize) -> impl Iterator<Item = i64> {
    let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
    let (q, r) = (total / n, total % n);
    (0..n).map(move |i| q + i64::from(i < r))
}

impl Shapley {
    pub(super) fn build(
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
        let totals = FitTotals {
            journeys: tot
                .conversions
                .saturating_add(tot.nulls)
                .saturating_add(empty.conversions)
                .saturating_add(empty.nulls),
            conversions: tot.conversions,
            value_minor: tot.value_minor,
            empty_conversions: empty.conversions,
            empty_value_minor: empty.value_minor,
        };
        let unit = i64::try_from(CONVERSION_UNITS).map_err(|_| overflow())?;
        let mut std_errors = None;
        let mut positions = Vec::new();
        let rate_game;
        let shares;
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
                let credits = units_report(
                    config.variant.name(),
                    config.currency,
                    &channels,
                    &units,
                    &values,
                    &totals,
                )?;
                return Ok(Shapley {
                    fingerprint: fingerprint(&config, &channels, &phi),
                    config,
                    values: phi,
                    std_errors,
                    credits,
                    positions,
                    coalitions: cells.len(),
                    channels: ChannelList::from_sorted(channels),
                    rate_game: None,
                    rate_shares: CoalitionShares::default(),
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
                let mut rate_shares = CoalitionShares::default();
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
                    if se.is_none() {
                        rate_shares.push(k, &w);
                    }
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
                let credits = units_report(
                    config.variant.name(),
                    config.currency,
                    &channels,
                    &units,
                    &values,
                    &totals,
                )?;
                rate_game = Some(game);
                rate_shares.seal();
                shares = rate_shares;
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
            channels: ChannelList::from_sorted(channels),
            rate_game,
            rate_shares: shares,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ShapleyConfig {
        &self.config
    }
    /// Channels, sorted by name.
    pub fn channels(&self) -> &[String] {
        self.channels.names()
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
    /// Attributed conversions and value per channel, as the crate's
    /// [`Report`]: lines exact in integers (units of 10⁻⁹ conversion, minor
    /// units); converted journeys with no touch are the channel breakdown's
    /// unassigned line and count in the report's totals, as in every
    /// rule-based report. The campaign and content breakdowns have no lines
    /// (the game is over channels): their unassigned bucket holds the totals.
    ///
    /// Returns `Result` like [`Markov::credits`](crate::markov::Markov::credits),
    /// so both fitted models are used the same way; the report is computed
    /// by [`finish`](super::ShapleyPartial::finish), so this never fails.
    ///
    /// # Errors
    ///
    /// None today (the signature matches the Markov model's).
    pub fn credits(&self) -> Result<Report> {
        Ok(self.credits.clone())
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
        self.channels.index(channel)
    }
}

fn fingerprint(config: &ShapleyConfig, channels: &[String], phi: &[f64]) -> String {
    let mut f = config.fingerprint();
    for (c, p) in channels.iter().zip(phi) {
        f.push_str(&format!(";{c}={:016x}", p.to_bits()));
    }
    f
}

impl Shapley {
    /// The weights of the rate variant: each touch gets `max(φ, 0)` of its
    /// channel in the exact game of the journey's channel set, split
    /// between the channel's touches (equal shares past the exact limit or
    /// when no `φ` is positive). `index` resolves a catalog id to the
    /// model's channel index.
    fn rate_weights(
        &self,
        journey: &JourneyView<'_>,
        out: &mut Weights,
        index: impl Fn(ChannelId) -> Option<usize>,
    ) {
        let mut set: Vec<u32> = journey
            .channels()
            .iter()
            .filter_map(|&c| index(c))
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        set.sort_unstable();
        set.dedup();
        let shares = match &self.rate_game {
            Some(g) if !set.is_empty() && set.len() <= usize::from(self.config.exact_limit) => {
                nonneg_shares(&g.exact(&set))
            }
            _ => vec![1.0; set.len()],
        };
        per_channel_weights(journey, out, |id| {
            index(id)
                .and_then(|i| {
                    set.binary_search(&u32::try_from(i).unwrap_or(u32::MAX))
                        .ok()
                })
                .map_or(0.0, |p| shares[p])
        });
    }
}

impl AttributionModel for Shapley {
    fn name(&self) -> &str {
        self.config.variant.name()
    }
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        match self.config.variant {
            ShapleyVariant::Rate => {
                let catalog = journey.catalog();
                self.rate_weights(journey, out, |id| self.index(catalog.channel_name(id)));
            }
            _ => per_channel_weights(journey, out, |_| 1.0),
        }
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
        match self.config.variant {
            ShapleyVariant::Rate => {
                let map: ChannelMap<'_> = binding.map(&self.channels, journey.catalog());
                // the journey's coalition: its channels' bits (n <= 128)
                let mask = journey
                    .channels()
                    .iter()
                    .filter_map(|&c| map.get(c))
                    .fold(0u128, |m, i| m | 1u128 << i);
                match self.rate_shares.get(mask) {
                    // a channel's share sits at its rank in the coalition
                    Some(shares) => per_channel_weights(journey, out, |id| {
                        map.get(id).map_or(0.0, |i| {
                            shares[(mask & ((1u128 << i) - 1)).count_ones() as usize]
                        })
                    }),
                    None => self.rate_weights(journey, out, |id| map.get(id)),
                }
            }
            _ => per_channel_weights(journey, out, |_| 1.0),
        }
        Ok(())
    }
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::JourneySet;
    use crate::model::testing::{check_bound_matches_by_name, journeys};
    use crate::shapley::fit;

    #[test]
    fn bound_weights_are_the_by_name_weights() {
        let names = ["a", "b", "c", "d", "e"];
        let fitted = journeys(400, 3, &names);
        let set = JourneySet::from_journeys(&fitted).unwrap();
        let stream = journeys(300, 4, &["z", "e", "d", "c", "b", "a"]);
        for variant in [
            ShapleyVariant::Rate,
            ShapleyVariant::Simplified,
            ShapleyVariant::Ordered,
        ] {
            let m = fit(&set, ShapleyConfig::new(variant)).unwrap();
            // the rate variant's solved coalitions (the fit's journeys) and
            // others (the stream's, some with an unknown channel)
            assert_eq!(
                m.rate_shares.index.is_empty(),
                variant != ShapleyVariant::Rate
            );
            check_bound_matches_by_name(&m, &fitted);
            check_bound_matches_by_name(&m, &stream);
        }
        // a coalition the fit never saw converting is solved when credited
        let m = fit(&set, ShapleyConfig::new(ShapleyVariant::Rate)).unwrap();
        assert!(m.rate_shares.get(1 << 5).is_none());
        assert_eq!(m.rate_shares.get(0b11).map(<[f64]>::len), Some(2));
    }
}
