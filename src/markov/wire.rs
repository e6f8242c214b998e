//! The serialized form of a [`MarkovPartial`]: canonical (channels sorted
//! by name, states by channel sequence, transitions by source and symbol),
//! so equal partials serialize to equal bytes whatever the order they saw
//! the data in, and checked when read (a mangled partial is an
//! [`Error::InvalidParameter`], never a wrong result later).

use serde::{Deserialize, Serialize};

use super::config::MarkovConfig;
use super::partial::{MarkovPartial, Totals, pack, unpack};
use super::{FORMAT_VERSION, MAX_ORDER, SYM_CONV, SYM_NULL};
use crate::error::{Error, Result};
use crate::money::MAX_MINOR;

impl MarkovPartial {
    /// The canonical form ([`Canon`]): channels sorted by name, states by
    /// channel sequence (start first); transitions sorted by (from, symbol).
    pub(super) fn canon(&self) -> Canon {
        // packed keys throughout: no allocation per state or transition
        let bits = self.lane_bits();
        let mut used = vec![false; self.names.len()];
        for &k in self.states.keys() {
            for_each_lane(k, bits, |c| used[c as usize] = true);
        }
        let mut order: Vec<u32> = (0..self.names.len())
            .filter(|&i| used[i])
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        order.sort_by(|&a, &b| self.names.names()[a as usize].cmp(&self.names.names()[b as usize]));
        let mut to_canon = vec![u32::MAX; self.names.len()];
        for (ci, &l) in order.iter().enumerate() {
            to_canon[l as usize] = u32::try_from(ci).unwrap_or(u32::MAX);
        }
        let channels: Vec<String> = order
            .iter()
            .map(|&l| self.names.names()[l as usize].clone())
            .collect();
        // per state: its canonical packed key and a sort key that orders
        // as the channel sequences do (oldest channel in the high lane, an
        // absent lane 0, so a prefix sorts first: the start state, key 0,
        // comes first). Lanes of `bits` bits: `64 / bits` of them (4, 5 or
        // 6) fit, at least the order.
        let top = 64 / bits - 1;
        let keys = self.states.keys();
        let mut sorted: Vec<(u64, u64, u32)> = keys
            .iter()
            .enumerate()
            .map(|(l, &k)| {
                let (mut ck, mut sk, mut i) = (0u64, 0u64, 0u32);
                for_each_lane(k, bits, |c| {
                    let v = u64::from(to_canon[c as usize] + 1);
                    ck |= v << (bits * i);
                    sk |= v << (bits * (top - i));
                    i += 1;
                });
                (sk, ck, u32::try_from(l).unwrap_or(u32::MAX))
            })
            .collect();
        sorted.sort_unstable();
        let mut state_canon = vec![0u32; keys.len()];
        for (ci, &(_, _, l)) in sorted.iter().enumerate() {
            state_canon[l as usize] = u32::try_from(ci).unwrap_or(u32::MAX);
        }
        let states: Vec<u64> = sorted.iter().map(|&(_, ck, _)| ck).collect();
        drop(sorted);
        // the order of sorting the (source, symbol) pairs, by two stable
        // counting passes: the transitions by canonical symbol (the
        // channels, then conversion and null), then those by canonical
        // source. A source's transitions have distinct symbols, so each row
        // comes out sorted, with no sort per row.
        let n = keys.len();
        let nsym = channels.len() + 2;
        let sym_rank = |sym: u32| -> usize {
            match sym {
                SYM_CONV => nsym - 2,
                SYM_NULL => nsym - 1,
                // every channel of a transition is in a state, so mapped
                c => to_canon
                    .get(c as usize)
                    .map_or(0, |&r| (r as usize).min(nsym - 1)),
            }
        };
        let mut by_sym = vec![0usize; nsym + 1];
        let mut row = vec![0usize; n + 1];
        for &key in self.trans.keys() {
            by_sym[sym_rank(key as u32) + 1] += 1;
            row[state_canon[(key >> 32) as usize] as usize + 1] += 1;
        }
        for k in 0..nsym {
            by_sym[k + 1] += by_sym[k];
        }
        for s in 0..n {
            row[s + 1] += row[s];
        }
        let mut staged = vec![(0u32, 0u32, 0u64, 0u32); self.trans.len()];
        for (e, &key) in self.trans.keys().iter().enumerate() {
            let s = state_canon[(key >> 32) as usize];
            let sym = key as u32;
            let rank = sym_rank(sym);
            let (sym, target) = if sym >= SYM_CONV {
                (sym, u32::MAX)
            } else {
                // the channel's canonical index (its rank), and the target
                // state the partial recorded, renumbered
                let t = self.next.get(e).and_then(|&t| state_canon.get(t as usize));
                (
                    u32::try_from(rank).unwrap_or(u32::MAX),
                    t.copied().unwrap_or(u32::MAX),
                )
            };
            let slot = &mut by_sym[rank];
            staged[*slot] = (s, sym, self.counts[e], target);
            *slot += 1;
        }
        let mut edges = vec![(0u32, 0u32, 0u64, 0u32); self.trans.len()];
        let mut fill = row;
        for &edge in &staged {
            let slot = &mut fill[edge.0 as usize];
            edges[*slot] = edge;
            *slot += 1;
        }
        drop(staged);
        Canon {
            channels,
            states,
            edges,
        }
    }

    pub(super) fn wire(&self) -> Wire {
        let c = self.canon();
        let bits = self.lane_bits();
        let n = u32::try_from(c.channels.len()).unwrap_or(u32::MAX);
        Wire {
            version: FORMAT_VERSION,
            fingerprint: self.config.fingerprint(),
            config: self.config,
            transitions: c
                .edges
                .iter()
                .map(|&(s, sym, count, _)| WireEdge {
                    from: unpack(c.states[s as usize], bits),
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

    fn from_wire(w: Wire) -> Result<MarkovPartial> {
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
        let mut fit = MarkovPartial::new(w.config);
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
            let s = fit.intern_state(pack(&e.from, fit.lane_bits()));
            let sym = if e.to == n {
                SYM_CONV
            } else if e.to == n + 1 {
                SYM_NULL
            } else {
                e.to
            };
            fit.add(s, sym, e.count)?;
        }
        if fit.trans.len() != w.transitions.len() {
            return Err(bad("a repeated transition".to_owned()));
        }
        fit.totals = w.totals;
        fit.check_invariants().map_err(bad)?;
        Ok(fit)
    }

    /// What every partial built by observing satisfies, checked on read:
    /// the journeys that enter a state leave it (in-flow = out-flow for
    /// every state but the start), the start state's out-flow is the
    /// journeys with touches (`conversions + nulls`), the counts into the
    /// conversion and null states are those totals, and values are
    /// `0..=MAX_MINOR` per conversion (none without a conversion).
    fn check_invariants(&self) -> std::result::Result<(), String> {
        let n = self.states.len();
        let mut inflow = vec![0u128; n];
        let mut outflow = vec![0u128; n];
        let (mut conv, mut null) = (0u128, 0u128);
        for (e, &key) in self.trans.keys().iter().enumerate() {
            let s = (key >> 32) as usize;
            let c = u128::from(self.counts[e]);
            outflow[s] += c;
            match key as u32 {
                SYM_CONV => conv += c,
                SYM_NULL => null += c,
                _ => inflow[self.next[e] as usize] += c,
            }
        }
        let t = &self.totals;
        if conv != u128::from(t.conversions) || null != u128::from(t.nulls) {
            return Err(format!(
                "totals of {} conversions and {} nulls against transitions into conversion {conv} and null {null}",
                t.conversions, t.nulls
            ));
        }
        if outflow[0] != conv + null || inflow[0] != 0 {
            return Err(format!(
                "{} journeys leaving the start state against {} absorbed",
                outflow[0],
                conv + null
            ));
        }
        if let Some(s) = (1..n).find(|&s| inflow[s] != outflow[s]) {
            return Err(format!(
                "state {:?}: {} transitions in, {} out",
                unpack(self.states.keys()[s], self.lane_bits()),
                inflow[s],
                outflow[s]
            ));
        }
        let value_ok = |count: u64, value: i128| {
            value >= 0
                && value <= i128::from(count) * i128::from(MAX_MINOR)
                && (count > 0 || value == 0)
        };
        if !value_ok(t.conversions, t.value_minor)
            || !value_ok(t.empty_conversions, t.empty_value_minor)
        {
            return Err(format!(
                "values {} / {} minor units for {} / {} conversions",
                t.value_minor, t.empty_value_minor, t.conversions, t.empty_conversions
            ));
        }
        Ok(())
    }
}

impl Serialize for MarkovPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for MarkovPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        MarkovPartial::from_wire(w).map_err(serde::de::Error::custom)
    }
}

/// A partial in canonical order: channels sorted by name; states as packed
/// keys of canonical channel ids, sorted by channel sequence (the start
/// state, key 0, first); transitions `(from, symbol, count, target)`
/// sorted by source and symbol.
pub(super) struct Canon {
    pub(super) channels: Vec<String>,
    pub(super) states: Vec<u64>,
    /// `(source, symbol, count, target)`, sorted by source then symbol;
    /// the target state of a channel symbol (`u32::MAX` for the absorbing
    /// ones), from the partial's own record of it.
    pub(super) edges: Vec<(u32, u32, u64, u32)>,
}

/// Calls `f` with the channel ids of a packed state key (lanes of `bits`
/// bits), oldest first.
#[inline]
pub(super) fn for_each_lane(key: u64, bits: u32, mut f: impl FnMut(u32)) {
    let mask = (1u64 << bits) - 1;
    let mut k = key;
    while k != 0 {
        f(((k & mask) as u32).wrapping_sub(1));
        k >>= bits;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Wire {
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
