//! The absorbing-chain solver.
//!
//! `x[s]` is the probability of reaching the conversion state from state
//! `s`: `x[s] = p(s, conv) + Σ_t p(s, t) · x[t]`, with `x = 0` on removed
//! states (they lead to null). The transient states are split into strongly
//! connected components (Tarjan), solved one component at a time, sinks
//! first, so each component only depends on components already solved:
//!
//! - a single state: `x[s] = (p(s, conv) + Σ_{t≠s} p(s, t) x[t]) / (1 - p(s, s))`,
//!   exact (self-loops from kept repeats cost nothing);
//! - a component of at most [`DENSE_LIMIT`] states: Gaussian elimination
//!   with partial pivoting on `(I - Q) x = b`, direct;
//! - a larger component: its cheap states eliminated when there are enough
//!   of them (below, "Eliminating the cheap states"), then Gauss-Seidel
//!   sweeps (self-loops folded into the
//!   diagonal, applied as a multiplication by its reciprocal), started from
//!   0, with Aitken extrapolation along the sweeps' dominant mode (see
//!   [`Accel`]), until a sweep's changes, weighted by the states' expected
//!   visits, sum to at most the component's share of [`EFFECT_TOLERANCE`]
//!   (below; without the visits, until their mean is at most
//!   [`TOLERANCE`]); [`Error::NotConverged`] after [`MAX_SWEEPS`] sweeps.
//!
//! The sweep order of a large component: the reverse of its
//! Eades-Lin-Smyth ordering ([`sweep_orders`]), a greedy feedback-arc-set
//! heuristic in `O(states + edges)`, so that most edges `i -> j` have `j`
//! swept before `i` and `i`'s update reads `j`'s new value. A sweep's
//! error then decays faster: on the `many_channels` loop (order 3) the
//! visits-weighted share of edges that read a value of the sweep before
//! falls from 0.53 (Tarjan's pop order) to 0.26, plain sweeps decay at
//! 0.227 instead of 0.307, and its five groups of lanes take 71 sweeps
//! instead of 88; order 4 / 12 channels / 1M 30 instead of 42. The
//! ordering costs 2 to 3 ms there (about 20 ns per edge), a few sweeps'
//! worth, and a sweep a little more (a state's successors no longer sit
//! next to it in the iterate). The stopping rule below holds in any
//! order.
//!
//! Why the extrapolation pays: the sweep operator of these chains has one
//! real dominant eigenvalue (the chain's overall continuation rate, squared
//! by the sweep order: 0.31 on the `many_channels` preset at order 3) well
//! apart from the rest (at most 0.14 there). Plain sweeps spend most of
//! their time on that one mode; one jump removes most of it. The mode is
//! estimated from the visits-weighted sum of a sweep's changes: the
//! unweighted sum is dominated by rarely visited states (a few
//! observations, probabilities like 4/5) whose values settle along long
//! thin paths, not along the mode.
//! Krylov (GMRES preconditioned by a sweep) and over-relaxation were tried
//! in a prototype and did no better (26 iterations; SOR diverges past 1.2);
//! a direct sparse factorization of the loop fills in (after eliminating the
//! cheap 85% of the 20k states the rest is dense).
//!
//! Accuracy (the stopping rule): after a sweep with changes `d`, the
//! residual of state `i`'s equation is `r_i = Σ_j p(i, j) d_j` over the
//! states `j` swept after it (its update saw their old values). The error
//! of `x[0]` is `Σ_i N_i r_i`, `N` the expected visits from the start, so
//! `|error| ≤ Σ_j |d_j| Σ_i N_i p(i, j) ≤ Σ_j N_j |d_j|` (the flow identity
//! `N_j = [j = 0] + Σ_i N_i p(i, j)`), summed over the large components
//! (single states and dense components are exact up to rounding). A removal
//! only cuts walks short, so its visits are at most the base chain's, and
//! the base chain's `N` bounds every lane's error. A removal effect
//! `1 - x'/x` is then off by at most `(|e'| + |e|) / x`: with each of `B`
//! components stopping at `Σ N_j |d_j| ≤ EFFECT_TOLERANCE / 2 · x / B`,
//! within [`EFFECT_TOLERANCE`]. A fitted chain's `N` is exact from its counts
//! (departures from `s` over departures from the start) and `x[0] = Σ N_j
//! p(j, conv)`; [`Chain::with_visits`] checks the flow identity before
//! relying on it. Tested against a direct solve of the whole loop (module
//! `accuracy` below, and random chains): every removal effect within
//! [`EFFECT_TOLERANCE`] (observed: up to 5e-14).
//!
//! Sweeps per group of lanes, before -> after the visits-weighted rule and
//! probe (the old rule stopped on a largest change of 1e-15): 24 -> 19
//! (`many_channels`, order 3, 300k journeys, 20k-state loop), 27 -> 21
//! (12 channels, order 3, 100k), 28 -> 21 (12 channels, order 4, 1M). Tried
//! and not kept: vector extrapolation over 2 to 5 sweeps (reduced-rank, with
//! uniform or visits weights; 18 to 22 sweeps, each extrapolation costing
//! about a sweep), and warm starts of the removal lanes from the base
//! solution (1 to 2 sweeps fewer, on all groups but the base's, for a
//! separate base pass).
//!
//! Many removals at once ([`Chain::solve_starts`]): the base chain and every
//! removal share the chain's structure (edges, components, their order and
//! local indexing), and differ only in which states are sent to null. They
//! are solved as [`LANES`] lanes of one pass: each component is visited
//! once per group of lanes, and a Gauss-Seidel sweep reads each edge once
//! and applies it to every lane (the lanes' iterates interleaved, so the
//! per-edge work is a short vector loop with no dependency between lanes;
//! the per-state update is branch-free, a lane mask selecting which lanes
//! move). Each lane performs exactly the operations of a lone solve, in the
//! same order (its weighted sums too), extrapolates at the same sweeps and
//! stops at the same sweep,
//! so its bits are those of [`Chain::solve`] whatever the grouping or the
//! thread count; what is shared is the reading of the structure and the
//! latency of the floating-point adds, which a lone solve spends waiting.
//! Every lane of a group runs through one interleaved pass for single
//! states too (a dense component is eliminated lane by lane).
//!
//! Eliminating the cheap states (before the sweeps of a large component):
//! a greedy pass in sweep order takes each state with `in · out ≤ in + out`
//! edges inside the component (in practice one successor or one
//! predecessor), a positive diagonal and no edge to a state already taken,
//! so no two taken states are adjacent. Each is folded into its
//! predecessors: row `i` gains `f · p(s, j)` on every successor `j` of `s`
//! and `f · b(s)` on its own terms, with `f = p(i, s) / (1 - p(s, s))`, a
//! return `i -> s -> i` going to the diagonal. The sweeps then run on the
//! kept states only, and an eliminated state's value is computed once, from
//! its successors (all kept), after they have converged. That is the chain
//! watched only at kept states: a walk's visits to a kept state are the
//! same, so the stopping rule above holds with the same weights. The
//! eliminated states' rows are summed without regard to removals; a lane
//! that removes an eliminated `s` but neither end of a path `i -> s -> j`
//! subtracts the path again (a correction term per lane, `-q · x[j]`,
//! against `x[i]`'s value before the update for a return). In every other
//! lane the unmasked term changes nothing: a removed `j` holds 0 and a
//! removed `i` is never updated. For a channel removal at order 2 and above
//! no correction is ever needed, since every channel of `s` is in `i` or in
//! `j` (tested on the `many_channels` loop); a sequence removal or an
//! arbitrary set (the random chains of the tests) may need some. The pass
//! is kept only when it takes at least a fifth of the component's states
//! ([`ELIM_MIN_SHARE`]): on the `many_channels` loop (order 3) it takes
//! 7,175 of 20,115 states and 6,441 of 70,824 edges, and the sweeps per
//! group fall from 19 to 17 (a watched chain mixes a little faster); on the
//! 12-channel benches it would take 5 to 12% of far denser loops (6 to 8
//! edges per state) and cost a sweep more, so they are swept as before.
//!
//! Memory: nothing is allocated per state, per component or per lane. The
//! chain is compressed rows built straight from the sorted transitions, the
//! components one flat array, a removal set one bit per state and lane
//! (`u8` marks filled per group by the caller), and each thread reuses one
//! [`Scratch`] (the group's iterate, the sweep buffers, the dense matrix)
//! across groups and components. A state's lane vector is 64-byte aligned,
//! so an edge's read of its target touches one cache line.

use crate::error::{Error, Result};

/// Largest component solved by dense elimination.
pub(crate) const DENSE_LIMIT: usize = 96;
/// Bound on the error of every removal effect left by the Gauss-Seidel
/// stopping rule when the chain's expected visits are known
/// ([`Chain::with_visits`]); rounding comes on top (a few ulps, tested).
pub(crate) const EFFECT_TOLERANCE: f64 = 5e-13;
/// Gauss-Seidel stopping rule without the expected visits: largest mean
/// absolute change of a component's states in a sweep that ends it.
pub(crate) const TOLERANCE: f64 = 1e-15;
/// Relative mismatch allowed in the flow identity the expected visits must
/// satisfy before [`Chain::with_visits`] uses them (rounding of the count
/// ratios is about 1e-15).
const VISITS_CHECK: f64 = 1e-9;
/// A block's cheap states are eliminated only when they are at least one
/// in this many of its states.
const ELIM_MIN_SHARE: usize = 5;
/// Gauss-Seidel sweep limit per component.
pub(crate) const MAX_SWEEPS: usize = 1_000_000;
/// Removals solved together in one pass (one group of lanes; a `u8` holds
/// one bit per lane).
pub(crate) const LANES: usize = 8;

/// Removal marks of one group of lanes: per state, bit `l` set when the
/// state is sent to null in lane `l` of the group.
pub(crate) type LaneMarks = [u8];

/// One state's values in the [`LANES`] lanes of a group, on a cache line of
/// its own (an edge's read of its target's lanes touches one line, never two).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(64))]
struct Lanes([f64; LANES]);

/// The width of a group of lanes: [`LANES`], or [`NARROW`] for a last
/// group of at most that many removal sets (half the arithmetic per edge
/// and per state; the lane vectors and the scratch stay the 8-wide ones,
/// so no second set of buffers). A lane's operations do not depend on the
/// width, so its bits do not either.
const NARROW: usize = 4;

/// A transient chain, ready to solve for any set of removed states.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    /// Transitions to other transient states, compressed rows.
    ptr: Vec<usize>,
    to: Vec<u32>,
    p: Vec<f64>,
    p_conv: Vec<f64>,
    p_self: Vec<f64>,
    /// Components, sinks first: component `k` is
    /// `members[comp_ptr[k]..comp_ptr[k + 1]]`, in Tarjan pop order
    /// (downstream first), a large component's members in its sweep order
    /// ([`sweep_orders`]).
    comp_ptr: Vec<usize>,
    members: Vec<u32>,
    /// The components solved iteratively, in component order, with their
    /// edges in local indices.
    blocks: Vec<Block>,
    /// Whether [`with_visits`](Self::with_visits) accepted the chain's
    /// expected visits (they satisfy the flow identity).
    visits: bool,
}

/// A large component's edges, split into internal (local column indices,
/// contiguous in sweep order) and external (already solved) ones.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    /// Its component's index.
    comp: usize,
    ptr: Vec<usize>,
    col: Vec<u32>,
    p: Vec<f64>,
    ext_ptr: Vec<usize>,
    ext_to: Vec<u32>,
    ext_p: Vec<f64>,
    /// Weight of each state's change in the stopping rule and in the
    /// extrapolation's ratio: its expected visits when known, else `1/m`.
    w: Vec<f64>,
    /// Stopping rule: a sweep whose weighted sum of absolute changes is at
    /// most this ends the lane.
    tol: f64,
    /// The states swept (local indices, in sweep order) and the states
    /// eliminated before the sweeps: see [`Reduced`].
    red: Reduced,
}

/// A large component with a set of cheap states eliminated (module docs,
/// "Eliminating the cheap states"): no two of them joined by an edge, each
/// with `in · out ≤ in + out` edges inside the component, so that folding
/// them into their predecessors removes at least as many edges as it adds.
/// The sweeps run over the kept states only, on the rows of the chain
/// observed only at kept states; an eliminated state's value is computed
/// from its successors' once they have converged.
#[derive(Debug, Clone, PartialEq, Default)]
struct Reduced {
    /// Kept states, local indices, in sweep order.
    keep: Vec<u32>,
    /// Weight of each kept state (the block's `w` of that state).
    w: Vec<f64>,
    /// Kept rows: `col` (kept indices) and `p` over `ptr`, each the direct
    /// probability plus every path through an eliminated state (without
    /// regard to removals: see `fill`).
    ptr: Vec<usize>,
    col: Vec<u32>,
    p: Vec<f64>,
    /// Per kept row (`via_ptr`): its eliminated successors `s` (local) and
    /// `p(i, s) / (1 - p(s, s))`, which weighs `s`'s own terms in the row.
    via_ptr: Vec<usize>,
    via_s: Vec<u32>,
    via_f: Vec<f64>,
    /// Per kept row: the reciprocal of its diagonal, `1 - p(i, i)` less
    /// every return `i -> s -> i` through an eliminated `s` (0 when not
    /// positive: the state keeps 0).
    inv: Vec<f64>,
    /// Per kept row (`fill_ptr`): each path `i -> s -> j` through an
    /// eliminated `s`, its kept column `j` (`j = i` for a return, a term
    /// of the diagonal) and its probability. A lane that removes `s` but
    /// not `i` subtracts it again (a correction term: `-q · x[j]`, with
    /// `x[i]`'s value before the update for a return); in every other lane
    /// it changes nothing (`j` removed holds 0, `i` removed is never
    /// updated), so a chain whose removals always take `i` or `j` with `s`
    /// (every channel removal at order 2 and above) needs none.
    fill_ptr: Vec<usize>,
    fill_col: Vec<u32>,
    fill_s: Vec<u32>,
    fill_p: Vec<f64>,
    /// Eliminated states (local), with `1 / (1 - p(s, s))`.
    elim: Vec<u32>,
    elim_inv: Vec<f64>,
}

/// Buffers reused across the components and groups one thread solves (no
/// allocation per component or per lane).
#[derive(Debug, Default)]
struct Scratch {
    x: Vec<Lanes>,
    marks: Vec<u8>,
    local: Vec<u32>,
    b: Vec<Lanes>,
    xl: Vec<Lanes>,
    dl: Vec<Lanes>,
    /// Per kept state of a reduced block: its own terms, the lanes that
    /// update it, and its correction terms (compressed rows).
    bred: Vec<Lanes>,
    live: Vec<u8>,
    cptr: Vec<usize>,
    ccol: Vec<u32>,
    cw: Vec<Lanes>,
    a: Vec<f64>,
    sol: Vec<f64>,
    /// Sweeps run by the groups this scratch solved (for tests).
    sweeps: usize,
}

impl Chain {
    /// A chain from its compressed rows: the transitions of state `s` to
    /// other transient states (`t != s`) are `to[ptr[s]..ptr[s + 1]]` with
    /// probabilities `p[..]`; `p_conv[s]`, `p_self[s]`.
    pub(crate) fn new(
        ptr: Vec<usize>,
        to: Vec<u32>,
        p: Vec<f64>,
        p_conv: Vec<f64>,
        p_self: Vec<f64>,
    ) -> Chain {
        let n = p_conv.len();
        let (comp_ptr, mut members) = tarjan(n, &ptr, &to);
        sweep_orders(&comp_ptr, &mut members, &ptr, &to, DENSE_LIMIT + 1);
        let mut chain = Chain {
            ptr,
            to,
            p,
            p_conv,
            p_self,
            comp_ptr,
            members,
            blocks: Vec::new(),
            visits: false,
        };
        chain.blocks = chain.make_blocks(DENSE_LIMIT + 1);
        chain
    }

    /// The chain with its expected visits from the start state (state 0):
    /// `visits[s]` is the expected number of times a walk from the start
    /// stands in state `s` (a fitted chain's departures from `s` over its
    /// departures from the start). They must satisfy the flow identity
    /// `visits[t] = [t = 0] + Σ_s visits[s] p(s, t)` (self-loops included)
    /// within a relative [`VISITS_CHECK`] (0 for a state the start never
    /// reaches); otherwise (inconsistent counts, a length mismatch) the
    /// chain is returned unchanged and keeps the plain stopping rule.
    ///
    /// With them, a large component's lanes stop on the sweep whose changes,
    /// weighted by the visits, sum to at most `EFFECT_TOLERANCE / 2 ·
    /// P(conversion) / blocks`: that sum bounds the component's share of
    /// the error of `x[0]` (module docs), so every removal effect
    /// `1 - x'[0] / x[0]` is within [`EFFECT_TOLERANCE`] of its exact value,
    /// rounding aside.
    pub(crate) fn with_visits(mut self, visits: &[f64]) -> Chain {
        let n = self.len();
        if visits.len() != n || n == 0 {
            return self;
        }
        let mut inflow = vec![0.0; n];
        inflow[0] = 1.0;
        let mut x0 = 0.0;
        for s in 0..n {
            let v = visits[s];
            if !(v.is_finite() && v >= 0.0) {
                return self;
            }
            inflow[s] += v * self.p_self[s];
            for e in self.ptr[s]..self.ptr[s + 1] {
                inflow[self.to[e] as usize] += v * self.p[e];
            }
            x0 += v * self.p_conv[s];
        }
        // (a NaN fails the comparison, so it is refused too)
        let consistent = inflow
            .iter()
            .zip(visits)
            .all(|(&i, &v)| (i - v).abs() <= VISITS_CHECK * v);
        if !consistent || !x0.is_finite() {
            return self;
        }
        self.visits = true;
        #[expect(clippy::cast_precision_loss, reason = "a count of blocks")]
        let tol = EFFECT_TOLERANCE / 2.0 * x0 / self.blocks.len() as f64;
        for k in 0..self.blocks.len() {
            let comp = self.comp(self.blocks[k].comp);
            let w: Vec<f64> = comp.iter().map(|&s| visits[s as usize]).collect();
            let b = &mut self.blocks[k];
            if !b.red.is_identity() {
                b.red.w = b.red.keep.iter().map(|&i| w[i as usize]).collect();
            }
            b.w = w;
            b.tol = tol;
        }
        self
    }

    /// A chain from one row of `(target, probability)` per state.
    #[cfg(test)]
    pub(crate) fn from_rows(rows: &[Vec<(u32, f64)>], p_conv: Vec<f64>, p_self: Vec<f64>) -> Chain {
        let mut ptr = vec![0];
        let (mut to, mut p) = (Vec::new(), Vec::new());
        for row in rows {
            for &(t, q) in row {
                to.push(t);
                p.push(q);
            }
            ptr.push(to.len());
        }
        Chain::new(ptr, to, p, p_conv, p_self)
    }

    /// The blocks of every component of at least `min` states.
    fn make_blocks(&self, min: usize) -> Vec<Block> {
        let mut local = vec![u32::MAX; self.len()];
        let mut blocks = Vec::new();
        for k in 0..self.comp_ptr.len() - 1 {
            let comp = self.comp(k);
            if comp.len() < min {
                continue;
            }
            for (i, &s) in comp.iter().enumerate() {
                local[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
            }
            let mut b = Block {
                comp: k,
                ptr: vec![0],
                col: Vec::new(),
                p: Vec::new(),
                ext_ptr: vec![0],
                ext_to: Vec::new(),
                ext_p: Vec::new(),
                #[expect(clippy::cast_precision_loss, reason = "a weight")]
                w: vec![1.0 / comp.len() as f64; comp.len()],
                tol: TOLERANCE,
                red: Reduced::default(),
            };
            for &s in comp {
                let s = s as usize;
                for e in self.ptr[s]..self.ptr[s + 1] {
                    let t = self.to[e] as usize;
                    if local[t] == u32::MAX {
                        b.ext_to.push(self.to[e]);
                        b.ext_p.push(self.p[e]);
                    } else {
                        b.col.push(local[t]);
                        b.p.push(self.p[e]);
                    }
                }
                b.ptr.push(b.col.len());
                b.ext_ptr.push(b.ext_to.len());
            }
            for &s in comp {
                local[s as usize] = u32::MAX;
            }
            let p_self: Vec<f64> = comp.iter().map(|&s| self.p_self[s as usize]).collect();
            b.red = Reduced::new(&b, &p_self);
            blocks.push(b);
        }
        blocks
    }

    fn comp(&self, k: usize) -> &[u32] {
        &self.members[self.comp_ptr[k]..self.comp_ptr[k + 1]]
    }

    pub(crate) fn len(&self) -> usize {
        self.p_conv.len()
    }

    /// The states that can still reach a conversion: sending any other
    /// state to null changes no value, so a removal of only such states
    /// leaves `P(conversion)` exactly as it is. (Every state of a fitted
    /// chain is reachable from the start: a walk from it visited the
    /// state.) By components downstream first, `O(states + transitions)`:
    /// a component can when one of its states converts or leads out of it
    /// to a state that can.
    pub(crate) fn live_states(&self) -> Vec<bool> {
        let mut can = vec![false; self.len()];
        for k in 0..self.comp_ptr.len().saturating_sub(1) {
            let comp = self.comp(k);
            let any = comp.iter().any(|&s| {
                let s = s as usize;
                self.p_conv[s] > 0.0
                    || self.to[self.ptr[s]..self.ptr[s + 1]]
                        .iter()
                        .any(|&t| can[t as usize])
            });
            if any {
                for &s in comp {
                    can[s as usize] = true;
                }
            }
        }
        can
    }

    /// Size of the largest strongly connected component.
    pub(crate) fn largest_component(&self) -> usize {
        self.comp_ptr
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// Conversion probability from every state, with `removed` states sent
    /// to null: one removal set alone, the reference the lanes of
    /// [`solve_starts`](Self::solve_starts) are tested against.
    #[cfg(test)]
    pub(crate) fn solve(&self, removed: &[bool]) -> Result<Vec<f64>> {
        Ok(self.solve_counted(removed)?.0)
    }

    /// How many correction terms the reduced blocks need for one removal
    /// set (paths through an eliminated state the set removes, from a kept
    /// state it does not remove to one it does not remove), and how many
    /// blocks are reduced.
    #[cfg(test)]
    fn corrections(&self, removed: &[bool]) -> (usize, usize) {
        let (mut terms, mut reduced) = (0, 0);
        for block in &self.blocks {
            let red = &block.red;
            if red.is_identity() {
                continue;
            }
            reduced += 1;
            let comp = self.comp(block.comp);
            let gone = |i: u32| removed[comp[i as usize] as usize];
            for (k, &i) in red.keep.iter().enumerate() {
                for f in red.fill_ptr[k]..red.fill_ptr[k + 1] {
                    let j = red.keep[red.fill_col[f] as usize];
                    if gone(red.fill_s[f]) && !gone(i) && !gone(j) {
                        terms += 1;
                    }
                }
            }
        }
        (terms, reduced)
    }

    /// Whether [`with_visits`](Self::with_visits) accepted the expected
    /// visits (then the stopping rule uses them, and the start's conversion
    /// probability is their flow's, `Σ_j N_j p(j, conv)`).
    pub(crate) fn has_visits(&self) -> bool {
        self.visits
    }

    /// [`solve`](Self::solve), with the sweeps its large components took.
    #[cfg(test)]
    fn solve_counted(&self, removed: &[bool]) -> Result<(Vec<f64>, usize)> {
        let n = self.len();
        let mut x = vec![0.0; n];
        let mut local = vec![u32::MAX; n];
        let mut blocks = self.blocks.iter().peekable();
        let mut sweeps = 0;
        for k in 0..self.comp_ptr.len() - 1 {
            let comp = self.comp(k);
            if let Some(block) = blocks.next_if(|b| b.comp == k) {
                sweeps += self.gauss_seidel(comp, block, removed, &mut x)?;
            } else if comp.len() == 1 {
                let s = comp[0] as usize;
                if removed[s] {
                    continue;
                }
                let mut b = self.p_conv[s];
                for e in self.ptr[s]..self.ptr[s + 1] {
                    b += self.p[e] * x[self.to[e] as usize];
                }
                let d = 1.0 - self.p_self[s];
                x[s] = if d > 0.0 {
                    (b / d).clamp(0.0, 1.0)
                } else {
                    0.0
                };
            } else {
                let m = comp.len();
                let mut a = vec![0.0; m * (m + 1)];
                let mut sol = vec![0.0; m];
                for (i, &s) in comp.iter().enumerate() {
                    local[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
                }
                let out = self.dense(comp, |s| removed[s], |t| x[t], &local, &mut a, &mut sol);
                for (&s, v) in comp.iter().zip(out) {
                    x[s as usize] = *v;
                    local[s as usize] = u32::MAX;
                }
            }
        }
        Ok((x, sweeps))
    }

    /// `P(conversion)` from the start state (state 0) for `lanes` removal
    /// sets at once. `mark(first, marks)` receives the group of lanes
    /// `first..first + LANES` (the last group may be shorter) and a zeroed
    /// mark per state, and sets bit `l` of `marks[s]` when state `s` is
    /// removed in lane `first + l`. Bit-identical to `solve(&removed_k)?[0]`
    /// for every set `k`. Groups of [`LANES`] sets are solved in parallel
    /// under the `rayon` feature (same bits).
    pub(crate) fn solve_starts<F>(&self, lanes: usize, mark: F) -> Result<Vec<f64>>
    where
        F: Fn(usize, &mut LaneMarks) + Sync,
    {
        let groups: Vec<usize> = (0..lanes).step_by(LANES).collect();
        let one = |scratch: &mut Scratch, &first: &usize| -> Result<Vec<f64>> {
            let used = lanes.min(first + LANES) - first;
            scratch.marks.clear();
            scratch.marks.resize(self.len(), 0);
            mark(first, &mut scratch.marks);
            Ok(if used <= NARROW {
                self.solve_group::<NARROW>(used, scratch)?[..used].to_vec()
            } else {
                self.solve_group::<LANES>(used, scratch)?[..used].to_vec()
            })
        };
        #[cfg(feature = "rayon")]
        let parts: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            groups
                .par_iter()
                .map_init(Scratch::default, one)
                .collect::<Result<_>>()?
        };
        #[cfg(not(feature = "rayon"))]
        let parts: Vec<Vec<f64>> = {
            let mut scratch = Scratch::default();
            groups
                .iter()
                .map(|g| one(&mut scratch, g))
                .collect::<Result<_>>()?
        };
        Ok(parts.into_iter().flatten().collect())
    }

    /// One group of `used <= LANES` removal sets, marked in
    /// `scratch.marks`: `x[0]` for each lane.
    fn solve_group<const W: usize>(&self, used: usize, scratch: &mut Scratch) -> Result<[f64; W]> {
        let n = self.len();
        let mut x = std::mem::take(&mut scratch.x);
        x.clear();
        x.resize(n, Lanes::default());
        scratch.local.clear();
        scratch.local.resize(n, u32::MAX);
        let lanes_used: u8 = if used >= 8 {
            u8::MAX
        } else {
            (1u8 << used) - 1
        };
        let mut blocks = self.blocks.iter().peekable();
        for k in 0..self.comp_ptr.len() - 1 {
            let comp = self.comp(k);
            if let Some(block) = blocks.next_if(|b| b.comp == k) {
                self.gauss_seidel_lanes::<W>(comp, block, lanes_used, &mut x, scratch)?;
            } else if comp.len() == 1 {
                let s = comp[0] as usize;
                let live = lanes_used & !scratch.marks[s];
                if live == 0 {
                    continue;
                }
                let d = 1.0 - self.p_self[s];
                let mut b = [self.p_conv[s]; W];
                for e in self.ptr[s]..self.ptr[s + 1] {
                    let q = self.p[e];
                    let xt = &x[self.to[e] as usize].0;
                    for l in 0..W {
                        b[l] += q * xt[l];
                    }
                }
                let xs = &mut x[s].0;
                for l in 0..W {
                    if live & (1 << l) != 0 {
                        xs[l] = if d > 0.0 {
                            (b[l] / d).clamp(0.0, 1.0)
                        } else {
                            0.0
                        };
                    }
                }
            } else {
                let Scratch {
                    marks,
                    local,
                    a,
                    sol,
                    ..
                } = scratch;
                let m = comp.len();
                a.clear();
                a.resize(m * (m + 1), 0.0);
                sol.clear();
                sol.resize(m, 0.0);
                for (i, &s) in comp.iter().enumerate() {
                    local[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
                }
                for l in 0..used {
                    let bit = 1u8 << l;
                    let out =
                        self.dense(comp, |s| marks[s] & bit != 0, |t| x[t].0[l], local, a, sol);
                    for (&s, v) in comp.iter().zip(out.iter()) {
                        x[s as usize].0[l] = *v;
                    }
                }
                for &s in comp {
                    local[s as usize] = u32::MAX;
                }
            }
        }
        let start: [f64; W] = std::array::from_fn(|l| x.first().map_or(0.0, |v| v.0[l]));
        scratch.x = x;
        Ok(start)
    }

    /// [`gauss_seidel`](Self::gauss_seidel) for up to [`LANES`] removal
    /// sets: the same operations per lane, in the same order, each lane
    /// frozen after the sweep that would have stopped its lone solve.
    fn gauss_seidel_lanes<const W: usize>(
        &self,
        comp: &[u32],
        block: &Block,
        lanes_used: u8,
        x: &mut [Lanes],
        scratch: &mut Scratch,
    ) -> Result<()> {
        let m = comp.len();
        let red = &block.red;
        let Scratch {
            marks,
            b,
            xl,
            dl,
            bred,
            live,
            cptr,
            ccol,
            cw,
            sweeps: scratch_sweeps,
            ..
        } = scratch;
        // every state's own terms: its conversion and its edges out of the
        // block (already solved); 0 in the lanes that remove it and in
        // unused lanes
        b.clear();
        b.resize(m, Lanes::default());
        for (i, &s) in comp.iter().enumerate() {
            let s = s as usize;
            let kept = lanes_used & !marks[s];
            if kept == 0 {
                continue;
            }
            let mut v = [self.p_conv[s]; W];
            for e in block.ext_ptr[i]..block.ext_ptr[i + 1] {
                let q = block.ext_p[e];
                let xt = &x[block.ext_to[e] as usize].0;
                for l in 0..W {
                    v[l] += q * xt[l];
                }
            }
            for (l, (bl, &vl)) in b[i].0.iter_mut().zip(&v).enumerate() {
                if kept & (1 << l) != 0 {
                    *bl = vl;
                }
            }
        }
        // per swept state: the lanes that update it (not removed there, a
        // positive diagonal); for a reduced block also its terms with its
        // eliminated successors' folded in, and the correction terms of
        // the lanes that remove an eliminated state but not the row's own
        live.clear();
        cptr.clear();
        cptr.push(0);
        ccol.clear();
        cw.clear();
        let rows = if red.is_identity() {
            for (&s, &r) in comp.iter().zip(&red.inv) {
                live.push(if r > 0.0 {
                    lanes_used & !marks[s as usize]
                } else {
                    0
                });
            }
            Rows {
                b,
                inv: &red.inv,
                w: &block.w,
                ptr: &block.ptr,
                col: &block.col,
                p: &block.p,
            }
        } else {
            bred.clear();
            bred.resize(red.keep.len(), Lanes::default());
            for (k, &i) in red.keep.iter().enumerate() {
                let alive = lanes_used & !marks[comp[i as usize] as usize];
                let mut v: [f64; W] = std::array::from_fn(|l| b[i as usize].0[l]);
                for a in red.via_ptr[k]..red.via_ptr[k + 1] {
                    let (f, bs) = (red.via_f[a], &b[red.via_s[a] as usize].0);
                    for l in 0..W {
                        v[l] += f * bs[l];
                    }
                }
                bred[k].0[..W].copy_from_slice(&v);
                live.push(if red.inv[k] > 0.0 { alive } else { 0 });
                for f in red.fill_ptr[k]..red.fill_ptr[k + 1] {
                    let gone = marks[comp[red.fill_s[f] as usize] as usize];
                    let j = red.fill_col[f];
                    let lanes = alive & !marks[comp[red.keep[j as usize] as usize] as usize] & gone;
                    if lanes != 0 {
                        let mut c = Lanes::default();
                        for (l, cl) in c.0.iter_mut().enumerate() {
                            if lanes & (1 << l) != 0 {
                                *cl = -red.fill_p[f];
                            }
                        }
                        ccol.push(j);
                        cw.push(c);
                    }
                }
                cptr.push(ccol.len());
            }
            Rows {
                b: bred,
                inv: &red.inv,
                w: &red.w,
                ptr: &red.ptr,
                col: &red.col,
                p: &red.p,
            }
        };
        let mk = rows.inv.len();
        xl.clear();
        xl.resize(mk, Lanes::default());
        // the change of each state in the last sweep, per lane
        dl.clear();
        dl.resize(mk, Lanes::default());
        let corrections = Corrections {
            ptr: cptr,
            col: ccol,
            w: cw,
        };
        // lanes still sweeping, one bit each
        let mut active: u8 = lanes_used;
        let mut sweeps = 0;
        let mut last = [f64::INFINITY; W];
        let mut acc = [Accel::default(); W];
        while active != 0 {
            if sweeps == MAX_SWEEPS {
                let residual = (0..W)
                    .filter(|&l| active & (1 << l) != 0)
                    .map(|l| last[l])
                    .fold(0.0, f64::max);
                return Err(Error::NotConverged {
                    what: "markov absorbing-chain solve",
                    iterations: sweeps,
                    residual,
                });
            }
            sweeps += 1;
            *scratch_sweeps += 1;
            let (delta, sum) = if corrections.w.is_empty() {
                sweep::<W, false>(&rows, &corrections, live, active, xl, dl)
            } else {
                sweep::<W, true>(&rows, &corrections, live, active, xl, dl)
            };
            last = delta;
            let mut extrapolate = [0.0f64; W];
            let mut any = false;
            for l in 0..W {
                if active & (1 << l) == 0 {
                    continue;
                }
                if delta[l] <= block.tol {
                    // this lane's lone solve stops here: freeze it
                    active &= !(1 << l);
                } else if let Some(c) = acc[l].step(sum[l]) {
                    extrapolate[l] = c;
                    any = true;
                }
            }
            if any {
                for (xi, di) in xl.iter_mut().zip(dl.iter()) {
                    for ((x, &c), &d) in xi.0.iter_mut().zip(&extrapolate).zip(&di.0) {
                        // c = 0 leaves the lane's value as it is
                        *x = (*x + c * d).clamp(0.0, 1.0);
                    }
                }
            }
        }
        // the swept states' values, then each eliminated state's from its
        // successors (all swept) and its own terms
        if red.is_identity() {
            for (&s, v) in comp.iter().zip(xl.iter()) {
                x[s as usize] = *v;
            }
            return Ok(());
        }
        for (&i, v) in red.keep.iter().zip(xl.iter()) {
            x[comp[i as usize] as usize] = *v;
        }
        for (&s, &r) in red.elim.iter().zip(&red.elim_inv) {
            let gs = comp[s as usize] as usize;
            let alive = lanes_used & !marks[gs];
            if alive == 0 {
                continue;
            }
            let s = s as usize;
            let mut v: [f64; W] = std::array::from_fn(|l| b[s].0[l]);
            for e in block.ptr[s]..block.ptr[s + 1] {
                let q = block.p[e];
                let xt = &x[comp[block.col[e] as usize] as usize].0;
                for l in 0..W {
                    v[l] += q * xt[l];
                }
            }
            for (l, (xs, &vl)) in x[gs].0.iter_mut().zip(&v).enumerate() {
                if alive & (1 << l) != 0 {
                    *xs = (vl * r).min(1.0);
                }
            }
        }
        Ok(())
    }

    /// One lane of a small component by Gaussian elimination with partial
    /// pivoting: `removed(s)` for its states, `x(t)` for the states already
    /// solved, `local` mapping the component's states to `0..m`; `a` and
    /// `sol` are buffers of `m * (m + 1)` and `m` zeros. Returns the
    /// component's values in member order (removed states 0).
    fn dense<'s>(
        &self,
        comp: &[u32],
        removed: impl Fn(usize) -> bool,
        x: impl Fn(usize) -> f64,
        local: &[u32],
        a: &mut [f64],
        sol: &'s mut [f64],
    ) -> &'s [f64] {
        let m = comp.len();
        let w = m + 1;
        a.fill(0.0);
        for (i, &s) in comp.iter().enumerate() {
            let s = s as usize;
            let row = &mut a[i * w..(i + 1) * w];
            if removed(s) {
                row[i] = 1.0;
                continue;
            }
            row[i] = 1.0 - self.p_self[s];
            let mut b = self.p_conv[s];
            for e in self.ptr[s]..self.ptr[s + 1] {
                let t = self.to[e] as usize;
                if removed(t) {
                    continue;
                }
                match local[t] {
                    u32::MAX => b += self.p[e] * x(t),
                    j => row[j as usize] -= self.p[e],
                }
            }
            row[m] = b;
        }
        // Gaussian elimination, partial pivoting (first largest pivot wins)
        for k in 0..m {
            let mut piv = k;
            for r in k + 1..m {
                if a[r * w + k].abs() > a[piv * w + k].abs() {
                    piv = r;
                }
            }
            if piv != k {
                for c in 0..w {
                    a.swap(k * w + c, piv * w + c);
                }
            }
            let d = a[k * w + k];
            if d == 0.0 {
                continue;
            }
            for r in k + 1..m {
                let f = a[r * w + k] / d;
                if f != 0.0 {
                    for c in k..w {
                        a[r * w + c] -= f * a[k * w + c];
                    }
                }
            }
        }
        for k in (0..m).rev() {
            let mut v = a[k * w + m];
            for c in k + 1..m {
                v -= a[k * w + c] * sol[c];
            }
            let d = a[k * w + k];
            sol[k] = if d == 0.0 { 0.0 } else { v / d };
        }
        for (i, &s) in comp.iter().enumerate() {
            sol[i] = if removed(s as usize) {
                0.0
            } else {
                sol[i].clamp(0.0, 1.0)
            };
        }
        sol
    }

    /// One removal set's large component alone (the reference of
    /// [`gauss_seidel_lanes`](Self::gauss_seidel_lanes)): its sweeps.
    #[cfg(test)]
    fn gauss_seidel(
        &self,
        comp: &[u32],
        block: &Block,
        removed: &[bool],
        x: &mut [f64],
    ) -> Result<usize> {
        let m = comp.len();
        let red = &block.red;
        // the swept rows: the block's own, or its reduction's
        let m32 = u32::try_from(m).unwrap_or(u32::MAX);
        let keep: Vec<u32> = if red.is_identity() {
            (0..m32).collect()
        } else {
            red.keep.clone()
        };
        let (ptr, col, p, w) = if red.is_identity() {
            (&block.ptr[..], &block.col[..], &block.p[..], &block.w[..])
        } else {
            (&red.ptr[..], &red.col[..], &red.p[..], &red.w[..])
        };
        let mk = keep.len();
        let gone = |i: u32| removed[comp[i as usize] as usize];
        // removed states stay at 0 (so their terms vanish); inv = 0 marks them
        let mut b = vec![0.0; m];
        for (i, &s) in comp.iter().enumerate() {
            let s = s as usize;
            if removed[s] {
                continue;
            }
            let mut v = self.p_conv[s];
            for e in block.ext_ptr[i]..block.ext_ptr[i + 1] {
                v += block.ext_p[e] * x[block.ext_to[e] as usize];
            }
            b[i] = v;
        }
        let mut bred = vec![0.0; mk];
        let mut inv = vec![0.0; mk];
        let mut corr: Vec<Vec<(u32, f64)>> = vec![Vec::new(); mk];
        for (k, &i) in keep.iter().enumerate() {
            let mut v = b[i as usize];
            if red.is_identity() {
                bred[k] = v;
                if !gone(i) {
                    inv[k] = red.inv[k];
                }
                continue;
            }
            for a in red.via_ptr[k]..red.via_ptr[k + 1] {
                v += red.via_f[a] * b[red.via_s[a] as usize];
            }
            bred[k] = v;
            if gone(i) {
                continue;
            }
            inv[k] = red.inv[k];
            for f in red.fill_ptr[k]..red.fill_ptr[k + 1] {
                let j = red.fill_col[f];
                if gone(red.fill_s[f]) && !gone(keep[j as usize]) {
                    corr[k].push((j, -red.fill_p[f]));
                }
            }
        }
        let mut xl = vec![0.0; mk];
        let mut dl = vec![0.0; mk];
        let mut sweeps = 0;
        let mut acc = Accel::default();
        loop {
            if sweeps == MAX_SWEEPS {
                return Err(Error::NotConverged {
                    what: "markov absorbing-chain solve",
                    iterations: sweeps,
                    residual: dl.iter().fold(0.0, |a: f64, &d: &f64| a.max(d.abs())),
                });
            }
            sweeps += 1;
            let mut delta = 0.0f64;
            let mut sum = 0.0;
            for k in 0..mk {
                let old = xl[k];
                let mut v = bred[k];
                for e in ptr[k]..ptr[k + 1] {
                    v += p[e] * xl[col[e] as usize];
                }
                for &(j, q) in &corr[k] {
                    v += q * xl[j as usize];
                }
                let new = (v * inv[k]).min(1.0);
                let ch = new - old;
                xl[k] = new;
                dl[k] = ch;
                let wc = w[k] * ch;
                delta += wc.abs();
                sum += wc;
            }
            if delta <= block.tol {
                break;
            }
            if let Some(c) = acc.step(sum) {
                for (xi, di) in xl.iter_mut().zip(&dl) {
                    *xi = (*xi + c * di).clamp(0.0, 1.0);
                }
            }
        }
        for (k, &i) in keep.iter().enumerate() {
            x[comp[i as usize] as usize] = xl[k];
        }
        for (&s, &r) in red.elim.iter().zip(&red.elim_inv) {
            if gone(s) {
                continue;
            }
            let s = s as usize;
            let mut v = b[s];
            for e in block.ptr[s]..block.ptr[s + 1] {
                v += block.p[e] * x[comp[block.col[e] as usize] as usize];
            }
            x[comp[s] as usize] = (v * r).min(1.0);
        }
        Ok(sweeps)
    }
}

impl Reduced {
    /// `block`'s reduction, `p_self` its states' self-loop probabilities
    /// (local indices): a greedy pass in sweep order takes every state with
    /// a positive diagonal, `in · out ≤ in + out` edges inside the block and
    /// no edge to a state already taken.
    fn new(block: &Block, p_self: &[f64]) -> Reduced {
        let m = block.ptr.len() - 1;
        let mut inn = vec![0usize; m];
        for &c in &block.col {
            inn[c as usize] += 1;
        }
        // `near`: a successor of a state taken. A state is taken when it is
        // not near one taken before it and none of its successors was taken
        // (then no two taken states share an edge)
        let mut taken = vec![false; m];
        let mut near = vec![false; m];
        for s in 0..m {
            let succ = &block.col[block.ptr[s]..block.ptr[s + 1]];
            let out = succ.len();
            if near[s]
                || 1.0 - p_self[s] <= 0.0
                || inn[s] * out > inn[s] + out
                || succ.iter().any(|&c| taken[c as usize])
            {
                continue;
            }
            taken[s] = true;
            for &c in succ {
                near[c as usize] = true;
            }
        }
        if taken.iter().filter(|&&t| t).count() * ELIM_MIN_SHARE < m {
            return Reduced::identity(p_self);
        }
        let mut red = Reduced::default();
        let mut kept_at = vec![u32::MAX; m];
        for (i, &t) in taken.iter().enumerate() {
            let li = u32::try_from(i).unwrap_or(u32::MAX);
            if t {
                red.elim.push(li);
                red.elim_inv.push(1.0 / (1.0 - p_self[i]));
            } else {
                kept_at[i] = u32::try_from(red.keep.len()).unwrap_or(u32::MAX);
                red.keep.push(li);
            }
        }
        red.w = red.keep.iter().map(|&i| block.w[i as usize]).collect();
        // where a kept column sits in the row being built (positions only
        // grow, so one from an earlier row is below the row's start)
        let mut slot = vec![usize::MAX; red.keep.len()];
        red.ptr.push(0);
        red.via_ptr.push(0);
        red.fill_ptr.push(0);
        for &i in &red.keep {
            let i = i as usize;
            let row = red.col.len();
            let mut d = 1.0 - p_self[i];
            for e in block.ptr[i]..block.ptr[i + 1] {
                let j = block.col[e] as usize;
                if !taken[j] {
                    slot[kept_at[j] as usize] = red.col.len();
                    red.col.push(kept_at[j]);
                    red.p.push(block.p[e]);
                }
            }
            for e in block.ptr[i]..block.ptr[i + 1] {
                let s = block.col[e] as usize;
                if !taken[s] {
                    continue;
                }
                let f = block.p[e] * (1.0 / (1.0 - p_self[s]));
                red.via_s.push(block.col[e]);
                red.via_f.push(f);
                for e2 in block.ptr[s]..block.ptr[s + 1] {
                    let j = block.col[e2] as usize;
                    let q = f * block.p[e2];
                    if j == i {
                        d -= q;
                        red.fill_col.push(kept_at[i]);
                    } else {
                        let k = kept_at[j] as usize;
                        match slot[k] {
                            at if at != usize::MAX && at >= row => red.p[at] += q,
                            _ => {
                                slot[k] = red.col.len();
                                red.col.push(kept_at[j]);
                                red.p.push(q);
                            }
                        }
                        red.fill_col.push(kept_at[j]);
                    }
                    red.fill_s.push(block.col[e]);
                    red.fill_p.push(q);
                }
            }
            red.ptr.push(red.col.len());
            red.via_ptr.push(red.via_s.len());
            red.fill_ptr.push(red.fill_s.len());
            if d <= 0.0 && 1.0 - p_self[i] > 0.0 {
                // returns through eliminated states took the whole diagonal
                // (a closed pair, up to rounding): keep the block as it is
                return Reduced::identity(p_self);
            }
            red.inv.push(if d > 0.0 { 1.0 / d } else { 0.0 });
        }
        red
    }

    /// No state eliminated: the block's own rows are swept (only the
    /// diagonals' reciprocals are kept here).
    fn identity(p_self: &[f64]) -> Reduced {
        Reduced {
            inv: p_self
                .iter()
                .map(|&ps| {
                    let d = 1.0 - ps;
                    if d > 0.0 { 1.0 / d } else { 0.0 }
                })
                .collect(),
            ..Reduced::default()
        }
    }

    /// Whether no state is eliminated (then the block's own rows and
    /// weights are swept, and `keep`, `w` and the rows here are empty).
    fn is_identity(&self) -> bool {
        self.elim.is_empty()
    }
}

/// The rows one sweep runs over: per swept state its own terms (lanes),
/// the reciprocal of its diagonal, its weight in the stopping rule, and its
/// edges to other swept states (compressed).
struct Rows<'a> {
    b: &'a [Lanes],
    inv: &'a [f64],
    w: &'a [f64],
    ptr: &'a [usize],
    col: &'a [u32],
    p: &'a [f64],
}

/// A group's correction terms, per swept state (compressed): a weight per
/// lane (0 in the lanes it does not concern) on a swept state's value.
struct Corrections<'a> {
    ptr: &'a [usize],
    col: &'a [u32],
    w: &'a [Lanes],
}

/// One Gauss-Seidel sweep of a group's lanes over `rows` (with the
/// correction terms when `CORR`): each state's lanes in `live & active`
/// updated in place, their changes stored in `d`. Returns the sweep's
/// weighted sums of absolute and of signed changes, per lane.
fn sweep<const W: usize, const CORR: bool>(
    rows: &Rows<'_>,
    corr: &Corrections<'_>,
    live: &[u8],
    active: u8,
    x: &mut [Lanes],
    d: &mut [Lanes],
) -> ([f64; W], [f64; W]) {
    let mut delta = [0.0f64; W];
    let mut sum = [0.0f64; W];
    // the per-state arrays zipped (no bounds check per state but the
    // iterate's), the edges one iterator through the block
    let states = rows
        .b
        .iter()
        .zip(rows.inv)
        .zip(rows.w)
        .zip(live)
        .zip(d.iter_mut())
        .zip(rows.ptr.windows(2));
    for (k, (((((bi, &r), &w), &lv), di), pw)) in states.enumerate() {
        let mut v: [f64; W] = std::array::from_fn(|l| bi.0[l]);
        // the state's edges as two slices zipped: a counted loop (an
        // iterator taken from a running zip checked both ends per edge)
        let (qs, cs) = (
            rows.p.get(pw[0]..pw[1]).unwrap_or_default(),
            rows.col.get(pw[0]..pw[1]).unwrap_or_default(),
        );
        for (&q, &c) in qs.iter().zip(cs) {
            let xc = &x[c as usize].0;
            for l in 0..W {
                v[l] += q * xc[l];
            }
        }
        if CORR {
            let (a, z) = (
                corr.ptr.get(k).copied().unwrap_or_default(),
                corr.ptr.get(k + 1).copied().unwrap_or_default(),
            );
            let (qs, cs) = (
                corr.w.get(a..z).unwrap_or_default(),
                corr.col.get(a..z).unwrap_or_default(),
            );
            for (q, &c) in qs.iter().zip(cs) {
                let xc = &x[c as usize].0;
                for l in 0..W {
                    v[l] += q.0[l] * xc[l];
                }
            }
        }
        let Some(mask) = LANE_MASKS[usize::from(lv & active)].first_chunk::<W>() else {
            // never: W <= LANES
            continue;
        };
        update_lanes::<W>(&v, r, w, mask, &mut x[k].0, &mut di.0, &mut delta, &mut sum);
    }
    (delta, sum)
}

/// One state's update in every lane of a sweep: `x = min(v · r, 1)` in the
/// lanes of `mask`, the others kept; the change recorded in `d` and, times
/// the state's weight `w`, added to the sweep's sums of absolute and of
/// signed changes.
///
/// Written as plain compares and bit selects in a function of its own so
/// the lanes vectorize (inlined into the sweep, the compiler scalarized
/// them): `t < 1 ? t : 1` is `t.min(1.0)` for every input, NaN included,
/// and the sums are the lone solve's in the same order, so the bits are
/// those of the lone solve.
#[inline(never)]
#[expect(
    clippy::too_many_arguments,
    reason = "one state's lanes, inlined by hand"
)]
fn update_lanes<const W: usize>(
    v: &[f64; W],
    r: f64,
    w: f64,
    mask: &[u64; W],
    x: &mut [f64; LANES],
    d: &mut [f64; LANES],
    delta: &mut [f64; W],
    sum: &mut [f64; W],
) {
    let mut new = [0.0f64; W];
    for l in 0..W {
        let t = v[l] * r;
        new[l] = if t < 1.0 { t } else { 1.0 };
    }
    for l in 0..W {
        let old = x[l];
        let sel = f64::from_bits((new[l].to_bits() & mask[l]) | (old.to_bits() & !mask[l]));
        let ch = sel - old;
        x[l] = sel;
        d[l] = ch;
        // |w · ch| is w · |ch| bit for bit (w >= 0, rounding is symmetric)
        let wc = w * ch;
        delta[l] += wc.abs();
        sum[l] += wc;
    }
}

/// One mask per set of live lanes: all ones in the lanes whose bit is set.
const LANE_MASKS: [[u64; LANES]; 256] = {
    let mut t = [[0u64; LANES]; 256];
    let mut bits = 0;
    while bits < 256 {
        let mut l = 0;
        while l < LANES {
            if bits & (1 << l) != 0 {
                t[bits][l] = u64::MAX;
            }
            l += 1;
        }
        bits += 1;
    }
    t
};

/// Aitken extrapolation of one lane's sweeps along its dominant mode.
///
/// After a few Gauss-Seidel sweeps the change of a sweep is, up to a
/// fast-decaying rest, a fixed vector times `λ^k` (the dominant eigenvalue
/// `λ` of the sweep operator, real and positive for a nonnegative chain).
/// `λ` is estimated as the ratio of the summed changes of two consecutive
/// sweeps (weighted by the block's state weights, the expected visits when
/// known); once two consecutive estimates agree within [`AITKEN_AGREE`]
/// (relative) and at least [`AITKEN_EVERY`] sweeps ran since the last jump,
/// the iterate jumps to the limit of that geometric tail,
/// `x + λ/(1-λ) · Δx`. The next sweeps then only see the faster modes.
#[derive(Debug, Clone, Copy, Default)]
struct Accel {
    prev_sum: Option<f64>,
    prev_ratio: Option<f64>,
    since: usize,
}

/// Sweeps between two extrapolations, at least.
const AITKEN_EVERY: usize = 3;
/// Relative agreement of two consecutive ratio estimates before a jump.
const AITKEN_AGREE: f64 = 0.02;

impl Accel {
    /// Records a sweep's summed change; `Some(c)` when the lane should jump
    /// by `c` times its last change.
    fn step(&mut self, sum: f64) -> Option<f64> {
        self.since += 1;
        let ratio = self.prev_sum.map(|p| sum / p);
        if let (Some(r), Some(q)) = (ratio, self.prev_ratio) {
            if self.since >= AITKEN_EVERY && r > 0.0 && r < 1.0 && (r - q).abs() <= AITKEN_AGREE * r
            {
                *self = Accel::default();
                return Some(r / (1.0 - r));
            }
        }
        self.prev_sum = Some(sum);
        self.prev_ratio = ratio;
        None
    }
}

/// Reorders the members of every component of at least `min` states into
/// its Gauss-Seidel sweep order: the reverse of the Eades-Lin-Smyth
/// ordering of its internal edges (self-loops aside), so that most edges
/// `i -> j` have `j` swept before `i` and `i`'s update reads `j`'s value
/// of the same sweep.
///
/// Eades-Lin-Smyth (1993), in `O(states + edges)`: repeatedly take every
/// sink (to the back of the ordering), then every source (to the front),
/// then the state whose out-degree less in-degree among the states left
/// is largest (to the front), removing each with its edges. Ties go to
/// the state that entered its degree bucket last, a fixed rule, so the
/// order depends on the chain alone.
fn sweep_orders(comp_ptr: &[usize], members: &mut [u32], ptr: &[usize], to: &[u32], min: usize) {
    // made for the first large component (most chains have none)
    let mut local = Vec::new();
    for k in 0..comp_ptr.len().saturating_sub(1) {
        let comp = &mut members[comp_ptr[k]..comp_ptr[k + 1]];
        if comp.len() < min {
            continue;
        }
        if local.is_empty() {
            local = vec![u32::MAX; ptr.len().saturating_sub(1)];
        }
        for (i, &s) in comp.iter().enumerate() {
            local[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
        }
        let order = feedback_order(comp, ptr, to, &local);
        for &s in comp.iter() {
            local[s as usize] = u32::MAX;
        }
        let new: Vec<u32> = order.iter().map(|&i| comp[i as usize]).collect();
        comp.copy_from_slice(&new);
    }
}

/// [`sweep_orders`] for one component: the sweep order as local indices.
#[inline(never)]
fn feedback_order(comp: &[u32], ptr: &[usize], to: &[u32], local: &[u32]) -> Vec<u32> {
    const NIL: u32 = u32::MAX;
    let m = comp.len();
    // internal edges, forward and backward (compressed rows)
    let mut fptr = Vec::with_capacity(m + 1);
    fptr.push(0usize);
    let mut fcol = Vec::new();
    let mut inn = vec![0u32; m];
    for &s in comp {
        for &t in &to[ptr[s as usize]..ptr[s as usize + 1]] {
            let j = local[t as usize];
            if j != NIL {
                fcol.push(j);
                inn[j as usize] += 1;
            }
        }
        fptr.push(fcol.len());
    }
    let mut bptr = Vec::with_capacity(m + 1);
    bptr.push(0usize);
    for i in 0..m {
        bptr.push(bptr[i] + inn[i] as usize);
    }
    let mut bcol = vec![0u32; fcol.len()];
    let mut fill: Vec<usize> = bptr[..m].to_vec();
    for i in 0..m {
        for &j in &fcol[fptr[i]..fptr[i + 1]] {
            bcol[fill[j as usize]] = i as u32;
            fill[j as usize] += 1;
        }
    }
    // per state: in-degree, out-degree and bucket among the states left,
    // and whether it is left (one cache line holds four states)
    #[derive(Clone, Copy)]
    struct Node {
        inn: u32,
        out: u32,
        key: u32,
        alive: bool,
    }
    let max_in = inn.iter().copied().max().unwrap_or(0);
    let max_out = (0..m).map(|i| fptr[i + 1] - fptr[i]).max().unwrap_or(0);
    let mut node: Vec<Node> = (0..m)
        .map(|i| {
            let out = (fptr[i + 1] - fptr[i]) as u32;
            Node {
                inn: inn[i],
                out,
                key: out + max_in - inn[i],
                alive: true,
            }
        })
        .collect();
    drop(inn);
    // out - in + max_in, in 0..=max_in + max_out; each bucket a stack of
    // states, an entry stale once its state moved or left
    let max_key = max_in as usize + max_out;
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); max_key + 1];
    for (v, n) in node.iter().enumerate() {
        buckets[n.key as usize].push(v as u32);
    }
    let mut top = max_key;
    let (mut sinks, mut sources): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    let (mut front, mut back) = (Vec::with_capacity(m), Vec::new());
    'take: for _ in 0..m {
        let v = loop {
            if let Some(v) = sinks.pop() {
                if node[v as usize].alive {
                    back.push(v);
                    break v as usize;
                }
            } else if let Some(v) = sources.pop() {
                if node[v as usize].alive {
                    front.push(v);
                    break v as usize;
                }
            } else if let Some(v) = buckets[top].pop() {
                let n = node[v as usize];
                if n.alive && n.key as usize == top {
                    front.push(v);
                    break v as usize;
                }
            } else if top > 0 {
                top -= 1;
            } else {
                // never: every state left has an entry at its key
                break 'take;
            }
        };
        node[v].alive = false;
        for &j in &fcol[fptr[v]..fptr[v + 1]] {
            let n = &mut node[j as usize];
            if n.alive {
                n.inn -= 1;
                n.key += 1;
                buckets[n.key as usize].push(j);
                top = top.max(n.key as usize);
                if n.inn == 0 {
                    sources.push(j);
                }
            }
        }
        for &i in &bcol[bptr[v]..bptr[v + 1]] {
            let n = &mut node[i as usize];
            if n.alive {
                n.out -= 1;
                n.key -= 1;
                buckets[n.key as usize].push(i);
                if n.out == 0 {
                    sinks.push(i);
                }
            }
        }
    }
    front.extend(
        (0..m)
            .filter(|&v| node[v].alive)
            .map(|v| u32::try_from(v).unwrap_or(NIL)),
    );
    // the ordering is `front` then `back` reversed; sweep it backwards
    back.extend(front.iter().rev());
    back
}

/// Strongly connected components (iterative Tarjan), emitted sinks first,
/// members in pop order (deterministic for a given graph), flat: component
/// `k` is `members[comp_ptr[k]..comp_ptr[k + 1]]`.
fn tarjan(n: usize, ptr: &[usize], to: &[u32]) -> (Vec<usize>, Vec<u32>) {
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp_ptr = vec![0];
    let mut members = Vec::with_capacity(n);
    let mut next = 0u32;
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root as u32, ptr[root]));
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut e)) = call.last_mut() {
            let vu = v as usize;
            if *e < ptr[vu + 1] {
                let w = to[*e] as usize;
                *e += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, ptr[w]));
                } else if on_stack[w] {
                    low[vu] = low[vu].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    let p = parent as usize;
                    low[p] = low[p].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    // pop order: last discovered (downstream) first, which
                    // lets a Gauss-Seidel sweep carry values upstream
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        members.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp_ptr.push(members.len());
                }
            }
        }
    }
    (comp_ptr, members)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sweep order of a component, by hand (Eades-Lin-Smyth, swept
    /// backwards). A path `0 -> 1 -> 2`: its sinks come off one by one,
    /// so the sweep runs `2, 1, 0`, each state after its successor. A
    /// four-cycle `0 -> 1 -> 2 -> 3 -> 0` with a chord `0 -> 2`: no sink
    /// or source, so the state of largest out-degree less in-degree goes
    /// first, 0 (2 - 1); then 3 is a sink (its one edge led to 0), then 2,
    /// then 1: the sweep runs `3, 2, 1, 0` and only `3 -> 0` reads a value
    /// of the sweep before.
    #[test]
    fn sweep_order_by_hand() {
        let csr = |rows: &[&[u32]]| {
            let mut ptr = vec![0];
            let mut to = Vec::new();
            for r in rows {
                to.extend_from_slice(r);
                ptr.push(to.len());
            }
            (ptr, to)
        };
        let (ptr, to) = csr(&[&[1], &[2], &[]]);
        assert_eq!(feedback_order(&[0, 1, 2], &ptr, &to, &[0, 1, 2]), [2, 1, 0]);
        let (ptr, to) = csr(&[&[1, 2], &[2], &[3], &[0]]);
        let order = feedback_order(&[0, 1, 2, 3], &ptr, &to, &[0, 1, 2, 3]);
        assert_eq!(order, [3, 2, 1, 0]);
        // in a chain, the component's members take that order (states
        // named by their index, so local and global indices agree)
        let comp_ptr = vec![0, 4];
        let mut members = vec![0, 1, 2, 3];
        sweep_orders(&comp_ptr, &mut members, &ptr, &to, 4);
        assert_eq!(members, [3, 2, 1, 0]);
        // below the size threshold a component keeps Tarjan's order
        members = vec![0, 1, 2, 3];
        sweep_orders(&comp_ptr, &mut members, &ptr, &to, 5);
        assert_eq!(members, [0, 1, 2, 3]);
    }

    #[test]
    fn two_state_loop_dense_and_iterative_agree() {
        // s0 -> s1 (0.5), conv 0.25, null 0.25; s1 -> s0 (0.5), conv 0.5
        let edges = vec![vec![(1, 0.5)], vec![(0, 0.5)]];
        let c = Chain::from_rows(&edges, vec![0.25, 0.5], vec![0.0, 0.0]);
        assert_eq!(c.largest_component(), 2);
        let x = c.solve(&[false, false]).unwrap();
        // x0 = .25 + .5 x1, x1 = .5 + .5 x0 => x0 = .5/.75 = 2/3
        assert!((x[0] - 2.0 / 3.0).abs() < 1e-15);
        // the same component through the iterative path
        let mut big = c.clone();
        big.blocks = big.make_blocks(2);
        assert_eq!(big.blocks.len(), 1);
        let y = big.solve(&[false, false]).unwrap();
        assert!((y[0] - x[0]).abs() < 1e-14 && (y[1] - x[1]).abs() < 1e-14);
        let r = c.solve(&[false, true]).unwrap();
        assert!((r[0] - 0.25).abs() < 1e-15 && r[1] == 0.0);
    }

    fn splitmix(s: &mut u64) -> u64 {
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random chain of `n` states: a few edges each (mostly to a ring
    /// neighbourhood, so components form, large and small), a self-loop on
    /// some, conversion and null mass on every state.
    fn random_chain(n: usize, seed: u64) -> Chain {
        let mut r = seed;
        let mut unit = || (splitmix(&mut r) >> 11) as f64 / (1u64 << 53) as f64;
        let mut edges = vec![Vec::new(); n];
        let mut p_conv = vec![0.0; n];
        let mut p_self = vec![0.0; n];
        for s in 0..n {
            let k = 1 + (unit() * 4.0) as usize;
            let mut w: Vec<f64> = (0..k + 3).map(|_| 0.05 + unit()).collect();
            let total: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= total);
            let mut targets = Vec::new();
            for (j, &wj) in w.iter().enumerate().take(k) {
                // states past 0.8 n only link among themselves: a separate
                // component downstream; every 7th state has no way back
                let t = if s % 7 == 3 {
                    (s + 1 + j) % n
                } else if s * 5 >= n * 4 {
                    n * 4 / 5 + (unit() * (n / 5) as f64) as usize
                } else {
                    (unit() * n as f64) as usize
                };
                if t != s && !targets.contains(&t) {
                    targets.push(t);
                    edges[s].push((t as u32, wj));
                }
            }
            p_conv[s] = w[k];
            if s % 3 == 0 {
                p_self[s] = w[k + 1];
            }
        }
        Chain::from_rows(&edges, p_conv, p_self)
    }

    /// Expected visits of every state from state 0, by iterating the flow
    /// identity `v = e_0 + Qᵀ v` to its fixed point (independent of the
    /// solver's code).
    fn visits_of(c: &Chain) -> Vec<f64> {
        let n = c.len();
        let mut v = vec![0.0; n];
        for _ in 0..5000 {
            let mut next = vec![0.0; n];
            next[0] = 1.0;
            for s in 0..n {
                next[s] += v[s] * c.p_self[s];
                for e in c.ptr[s]..c.ptr[s + 1] {
                    next[c.to[e] as usize] += v[s] * c.p[e];
                }
            }
            if next == v {
                break;
            }
            v = next;
        }
        v
    }

    #[test]
    fn visits_are_checked_before_use() {
        let c = random_chain(400, 3);
        assert!(!c.has_visits());
        let v = visits_of(&c);
        assert!(v[0] >= 1.0 && v.iter().filter(|&&x| x > 0.0).count() > 300);
        assert!(c.clone().with_visits(&v).has_visits());
        // a length mismatch, a state's visits off by 1e-6, a reachable
        // state's set to 0, a NaN: refused, the plain rule kept
        assert!(!c.clone().with_visits(&v[1..]).has_visits());
        let s = (0..400).find(|&s| v[s] > 0.1).unwrap();
        for (s, x) in [(s, v[s] * (1.0 + 1e-6)), (s, 0.0), (0, f64::NAN)] {
            let mut w = v.clone();
            w[s] = x;
            assert!(!c.clone().with_visits(&w).has_visits(), "{s} {x}");
        }
    }

    /// Removal effects `1 - x'[0] / x[0]` under the visits stopping rule
    /// against a direct solve (every component by Gaussian elimination):
    /// within [`EFFECT_TOLERANCE`], on random chains with a large loop.
    #[test]
    fn visits_rule_meets_the_effect_tolerance() {
        for (n, seed) in [(400, 3u64), (700, 5)] {
            let c = random_chain(n, seed);
            assert!(c.largest_component() > DENSE_LIMIT, "{n}");
            let c = c.clone().with_visits(&visits_of(&c));
            assert!(c.has_visits());
            let mut direct = c.clone();
            direct.blocks.clear();
            let none = vec![false; n];
            let base = c.solve(&none).unwrap()[0];
            let exact_base = direct.solve(&none).unwrap()[0];
            assert!(base > 0.01, "{base}");
            for k in 1..6 {
                let removed: Vec<bool> = (0..n).map(|s| s % (k + 2) == 1).collect();
                let re = 1.0 - c.solve(&removed).unwrap()[0] / base;
                let exact = 1.0 - direct.solve(&removed).unwrap()[0] / exact_base;
                assert!(
                    (re - exact).abs() <= EFFECT_TOLERANCE,
                    "n={n} k={k}: {re} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn lanes_are_bit_identical_to_lone_solves() {
        for (n, seed, visits) in [
            (40, 1u64, false),
            (150, 2, false),
            (400, 3, false),
            (1000, 4, false),
            (400, 3, true),
            (1000, 4, true),
        ] {
            let c = random_chain(n, seed);
            if n >= 400 {
                assert!(c.largest_component() > DENSE_LIMIT, "{n}");
            }
            let c = if visits {
                let c = c.clone().with_visits(&visits_of(&c));
                assert!(c.has_visits());
                c
            } else {
                c
            };
            // 19 removal sets (more than two groups of lanes): none, then
            // states whose index is in a residue class, then single states
            let set = |k: usize| -> Vec<bool> {
                (0..n)
                    .map(|s| match k {
                        0 => false,
                        1..=9 => s % (k + 2) == 1,
                        _ => s == (k * 37) % n,
                    })
                    .collect()
            };
            let starts = c
                .solve_starts(19, |first, marks| {
                    for k in first..19.min(first + LANES) {
                        for (m, r) in marks.iter_mut().zip(set(k)) {
                            *m |= u8::from(r) << (k - first);
                        }
                    }
                })
                .unwrap();
            assert_eq!(starts.len(), 19);
            if n >= 400 {
                // the large components are reduced, and the removal sets
                // (unlike a channel's) need correction terms
                let (terms, reduced) = c.corrections(&set(3));
                assert!(reduced > 0 && terms > 0, "n={n}: {reduced} {terms}");
            }
            for (k, &x0) in starts.iter().enumerate() {
                let lone = c.solve(&set(k)).unwrap()[0];
                assert_eq!(x0.to_bits(), lone.to_bits(), "n={n} set={k}");
                assert!((0.0..=1.0).contains(&x0));
                // removal never raises the conversion probability
                assert!(x0 <= starts[0], "n={n} set={k}");
            }
        }
    }
}

#[cfg(all(test, feature = "sim"))]
mod accuracy {
    use std::collections::HashMap;

    use super::*;
    use crate::markov::{Markov, MarkovConfig, Target};

    /// The chain of a fitted model, rebuilt from its public transitions,
    /// with each state's channel names.
    fn chain_of(m: &Markov) -> (Chain, Vec<Vec<String>>) {
        let tr = m.transitions();
        let mut idx: HashMap<Vec<String>, u32> = HashMap::new();
        let mut states: Vec<Vec<String>> = Vec::new();
        let mut id = |s: &Vec<String>, states: &mut Vec<Vec<String>>| -> u32 {
            *idx.entry(s.clone()).or_insert_with(|| {
                states.push(s.clone());
                (states.len() - 1) as u32
            })
        };
        let mut raw = Vec::new();
        for t in &tr {
            let f = id(&t.from, &mut states);
            let to = match &t.to {
                Target::State(s) => Some(id(s, &mut states)),
                _ => None,
            };
            raw.push((f, to, matches!(t.to, Target::Conversion), t.probability));
        }
        let n = states.len();
        let mut edges = vec![Vec::new(); n];
        let mut pc = vec![0.0; n];
        let mut ps = vec![0.0; n];
        for (f, to, conv, p) in raw {
            match to {
                Some(t) if t == f => ps[f as usize] = p,
                Some(t) => edges[f as usize].push((t, p)),
                None if conv => pc[f as usize] = p,
                None => {}
            }
        }
        (Chain::from_rows(&edges, pc, ps), states)
    }

    /// Removal effects on the `many_channels` preset (order 3) against a
    /// direct solve: the same chain with its large component solved by
    /// Gaussian elimination with partial pivoting instead of accelerated
    /// Gauss-Seidel. Every effect within 1e-12, never negative.
    #[test]
    fn removal_effects_match_a_direct_solve_on_many_channels() {
        let set = crate::sim::Simulator::new(crate::sim::Preset::ManyChannels.config(7))
            .journey_set(JOURNEYS)
            .unwrap();
        let m = crate::markov::fit(&set, MarkovConfig::new(3).unwrap()).unwrap();
        // the fitted chain's counts satisfy the flow identity, so its
        // removal effects come from the visits stopping rule
        assert!(m.chain().has_visits());
        let (chain, states) = chain_of(&m);
        let big = chain.largest_component();
        assert!(big > 4 * DENSE_LIMIT, "largest component {big}");
        // the loop is reduced, and no channel removal needs a correction
        // (every state on a path i -> s -> j has its channels in i or j)
        for (name, _) in m.removal_effects() {
            let removed: Vec<bool> = states
                .iter()
                .map(|s| s.iter().any(|c| c.as_str() == name))
                .collect();
            assert_eq!(chain.corrections(&removed), (0, 1), "{name}");
        }
        let mut direct = chain.clone();
        direct.blocks.clear();
        let start = states.iter().position(Vec::is_empty).unwrap();
        let base = direct.solve(&vec![false; chain.len()]).unwrap()[start];
        assert!((base - m.conversion_probability()).abs() < 1e-14);
        for (name, re) in m.removal_effects() {
            let removed: Vec<bool> = states
                .iter()
                .map(|s| s.iter().any(|c| c.as_str() == name))
                .collect();
            let x = direct.solve(&removed).unwrap()[start];
            let exact = 1.0 - x / base;
            assert!(re >= 0.0, "{name}: {re}");
            assert!(
                (re - exact).abs() <= EFFECT_TOLERANCE,
                "{name}: {re} vs direct {exact}"
            );
        }
    }

    const JOURNEYS: u64 = 20_000;
}
