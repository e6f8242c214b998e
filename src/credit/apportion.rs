//! Apportionment: a journey's value and its one conversion split into exact
//! integer parts by the largest-remainder method, and the per-touch
//! [`Crediter`].

use crate::credit::CONVERSION_UNITS;
use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Binding, CreditKind, Shape, Weights};

/// Journeys up to this length apportion leftovers without sorting.
pub(crate) const SMALL: usize = 24;

/// 2^52: for `0 <= x < 2^52`, `x + 2^52` is `x` rounded to an integer
/// (the float spacing there is 1), plus 2^52.
const TWO52: f64 = 4_503_599_627_370_496.0;

/// Totals up to this many units take [`split_small`]: a part `w · total /
/// sum` then stays below `2^50 · (1 + 4ε) < 2^50 + 1`, so its floor never
/// passes the total and [`floor_frac`] applies (it needs `x < 2^52`).
const SMALL_TOTAL: i64 = 1 << 50;

/// Scratch of [`split_small`]: the fractions' keys and the ranks of up to
/// [`SMALL`] parts, for up to two splits at once (lane 0 and lane 1).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lanes {
    keys: [[i64; 2]; SMALL],
    ranks: [[i64; 2]; SMALL],
    /// The keys and ranks of [`split_one`].
    one: ([i64; SMALL], [i64; SMALL]),
}

/// Splits `total` into `out.len()` integer parts by the largest-remainder
/// method over `weights` (which must be finite, `>= 0`, with positive sum
/// `sum`). Leftover units go to the largest fractional parts, ties to the
/// lower index. `scratch` is reused between calls.
pub(crate) fn apportion_weighted(
    total: i64,
    weights: &[f64],
    sum: f64,
    out: &mut [i64],
    scratch: &mut Vec<(f64, usize)>,
) {
    apportion_keyed(total, weights, sum, out, &mut Lanes::default(), scratch);
}

/// [`apportion_weighted`] with the [`Lanes`] given, so that a caller
/// splitting many journeys does not initialize them per call.
#[inline]
fn apportion_keyed(
    total: i64,
    weights: &[f64],
    sum: f64,
    out: &mut [i64],
    lanes: &mut Lanes,
    scratch: &mut Vec<(f64, usize)>,
) {
    #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
    let factor = total as f64 / sum;
    if !factor.is_finite() {
        // weights so small (all below ~1e-292) that `total / sum` overflows:
        // every positive weight would floor to the whole total and the
        // overshoot loop below would hand units back one by one (`total`
        // iterations). Scale by the share `w / sum` instead.
        apportion_tiny(total, weights, sum, out, scratch);
        return;
    }
    if split_small([total], [factor], weights, [out], lanes) != [true] {
        // longer than SMALL, a total past SMALL_TOTAL, or a rare
        // floating-point overshoot: the general path
        apportion_sorted(total, factor, weights, out, scratch);
    }
}

/// `floor(x)` (as an integer) and `x - floor(x)` for `-0.0 <= x < 2^52`,
/// with the bits of `(x as i64, x - (x as i64) as f64)`, without a
/// conversion instruction: `x + 2^52` rounds `x` to the nearest integer
/// `r`, one less when that rounded up. `x - floor(x)` is exact.
#[inline(always)]
fn floor_frac(x: f64) -> (i64, f64) {
    let y = x + TWO52;
    let r = y - TWO52;
    let up = r > x;
    // y is in [2^52, 2^53), where the float spacing is 1: the float whose
    // bits are y's less one is y - 1, so `below` is y rounded down, and
    // `below - 2^52` is `r` or `r - 1.0`, the same bits (`up` implies y >
    // 2^52). Integer arithmetic on the bits, not an `if` choosing between
    // `r - 1.0` and `r`: in the scalar loop of `split_one` the `if` was
    // compiled to a jump taken at random, about one mispredicted branch
    // per split in callgrind's branch simulation.
    let below = f64::from_bits(y.to_bits() - u64::from(up));
    let floor = below - TWO52;
    // below's bits minus 2^52's are the integer floor
    #[expect(clippy::cast_possible_wrap, reason = "below 2^52")]
    let i = (below.to_bits() - TWO52.to_bits()) as i64;
    (i, x - floor)
}

/// An integer whose order is [`f64::total_cmp`]'s order for the floats
/// `>= -0.0` (`-0.0` is -1, below `+0.0`'s 0; NaN cannot occur), such that
/// the difference of two keys never overflows: every key is in
/// `[-1, 0x7FF0_0000_0000_0000]` (infinity's bits).
#[inline(always)]
fn frac_key(frac: f64) -> i64 {
    let b = frac.to_bits();
    #[expect(clippy::cast_possible_wrap, reason = "the sign bit is cleared")]
    let magnitude = (b & !(1 << 63)) as i64;
    #[expect(clippy::cast_possible_wrap, reason = "0 or 1")]
    let negative = (b >> 63) as i64;
    magnitude - negative
}

/// The largest-remainder splits of `L` totals (`L` is 1 or 2) over the
/// same weights, each into its `outs` slice, when the journey has at most
/// [`SMALL`] touches and every total is in `0..=SMALL_TOTAL` with a finite
/// factor `total / sum`: returns which lanes it split. A lane it did not
/// split (all lanes when the journey or a total is out of range, or one
/// lane whose floors overshoot in floating point) is left for
/// [`apportion_sorted`], which gives this function's results when it
/// succeeds: the same floors and fractions, and the leftover units to the
/// largest fractions in [`f64::total_cmp`] order, ties to the earlier part.
///
/// No sort and no branch that depends on the data: the floors and
/// fractions by [`floor_frac`], the fractions ranked by counting, for each
/// pair of parts, which one comes first (`n (n - 1) / 2` subtractions per
/// lane), and part `i` gets a unit exactly when its rank is below the
/// number of units left.
#[inline(always)]
fn split_small<const L: usize>(
    totals: [i64; L],
    factors: [f64; L],
    weights: &[f64],
    outs: [&mut [i64]; L],
    lanes: &mut Lanes,
) -> [bool; L] {
    let n = weights.len();
    let fits = n <= SMALL
        && L <= 2
        && outs.iter().all(|o| o.len() == n)
        && totals.iter().all(|t| (0..=SMALL_TOTAL).contains(t))
        && factors.iter().all(|f| f.is_finite());
    if !fits {
        return [false; L];
    }
    let (keys, ranks) = (&mut lanes.keys[..n], &mut lanes.ranks[..n]);
    let mut assigned = [0_i64; L];
    for (i, ((&w, k), r)) in weights
        .iter()
        .zip(keys.iter_mut())
        .zip(ranks.iter_mut())
        .enumerate()
    {
        for l in 0..L {
            // w >= 0 (or -0.0) and factor >= 0: x is in [-0.0, 2^50 + 1)
            let (f, frac) = floor_frac(w * factors[l]);
            outs[l][i] = f;
            assigned[l] += f;
            k[l] = frac_key(frac);
            // every earlier part goes first, until shown otherwise below
            #[expect(clippy::cast_possible_wrap, reason = "i < SMALL")]
            let before = i as i64;
            r[l] = before;
        }
    }
    let mut left = [0_i64; L];
    let mut done = [false; L];
    #[expect(clippy::cast_possible_wrap, reason = "n <= SMALL")]
    let count = n as i64;
    for l in 0..L {
        left[l] = totals[l] - assigned[l];
        // the floors never pass the total, and fall short of it by less
        // than one unit per part, unless rounding overshoots (rare)
        done[l] = (0..=count).contains(&left[l]);
    }
    if left.iter().all(|&x| x <= 0) {
        return done;
    }
    // plain indices below `n <= SMALL` into the fixed arrays (the slice
    // iterators' bookkeeping per part cost more than the comparisons), and
    // each part's unit given as soon as its rank is complete: when the
    // outer loop reaches part `i`, every earlier part has counted itself
    // against it
    let (keys, ranks) = (&lanes.keys, &mut lanes.ranks);
    for i in 0..n {
        let ki = keys[i];
        let mut ri = ranks[i];
        for j in i + 1..n {
            for l in 0..L {
                // 1 when the later part j goes first (a strictly larger
                // key): the sign of ki - kj, which cannot overflow
                #[expect(clippy::cast_possible_wrap, reason = "0 or 1")]
                let later = ((ki[l] - keys[j][l]) as u64 >> 63) as i64;
                ri[l] += later;
                ranks[j][l] -= later;
            }
        }
        for l in 0..L {
            // a lane that overshot is left to `apportion_sorted`
            outs[l][i] += i64::from(done[l] & (ri[l] < left[l]));
        }
    }
    done
}

/// [`split_small`] for one total (`L == 1`): the split of a journey's
/// value when [`UnitCache`] had its conversion's split. The same floors,
/// fractions, ranks and leftover units, with less work per part: one
/// lane's keys and ranks side by side (not interleaved with a second
/// lane's), and each part's unit decided as soon as its rank is complete
/// (when the outer loop reaches part `i`, every earlier part has already
/// counted itself against it).
#[inline(always)]
fn split_one(
    total: i64,
    factor: f64,
    weights: &[f64],
    out: &mut [i64],
    one: &mut ([i64; SMALL], [i64; SMALL]),
) -> bool {
    let n = weights.len();
    if n > SMALL || out.len() != n || !(0..=SMALL_TOTAL).contains(&total) || !factor.is_finite() {
        return false;
    }
    let (keys, ranks) = (&mut one.0[..n], &mut one.1[..n]);
    let mut assigned = 0_i64;
    for (i, (((o, k), r), &w)) in out
        .iter_mut()
        .zip(keys.iter_mut())
        .zip(ranks.iter_mut())
        .zip(weights)
        .enumerate()
    {
        // w >= 0 (or -0.0) and factor >= 0: x is in [-0.0, 2^50 + 1)
        let (f, frac) = floor_frac(w * factor);
        *o = f;
        assigned += f;
        *k = frac_key(frac);
        // every earlier part goes first, until shown otherwise below
        #[expect(clippy::cast_possible_wrap, reason = "i < SMALL")]
        let before = i as i64;
        *r = before;
    }
    let left = total - assigned;
    #[expect(clippy::cast_possible_wrap, reason = "n <= SMALL")]
    let count = n as i64;
    if left <= 0 || left > count {
        // nothing to hand out, or a (rare) floating-point overshoot
        return left == 0;
    }
    // plain indices below `n <= SMALL` into the fixed arrays: the slice
    // iterators' bookkeeping cost more than the comparisons themselves
    let (keys, ranks) = (&one.0, &mut one.1);
    for i in 0..n {
        let ki = keys[i];
        let mut rank = ranks[i];
        for j in i + 1..n {
            // 1 when the later part j goes first (a strictly larger key):
            // the sign of ki - kj, which cannot overflow
            #[expect(clippy::cast_possible_wrap, reason = "0 or 1")]
            let later = ((ki - keys[j]) as u64 >> 63) as i64;
            rank += later;
            ranks[j] -= later;
        }
        out[i] += i64::from(rank < left);
    }
    true
}

/// Both largest-remainder splits of one journey over the same weights:
/// `value` into `vals` and `units` into `us`, with the same results as two
/// [`apportion_weighted`] calls, in one pass for journeys of up to
/// [`SMALL`] touches.
fn apportion_pair(
    (value, units): (i64, i64),
    weights: &[f64],
    sum: f64,
    vals: &mut [i64],
    us: &mut [i64],
    lanes: &mut Lanes,
    scratch: &mut Vec<(f64, usize)>,
) {
    #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
    let (fv, fu) = (value as f64 / sum, units as f64 / sum);
    match split_small([value, units], [fv, fu], weights, [vals, us], lanes) {
        [true, true] => {}
        [true, false] => apportion_keyed(units, weights, sum, us, lanes, scratch),
        [false, true] => apportion_keyed(value, weights, sum, vals, lanes, scratch),
        [false, false] => {
            apportion_keyed(value, weights, sum, vals, lanes, scratch);
            apportion_keyed(units, weights, sum, us, lanes, scratch);
        }
    }
}

/// The general largest-remainder split (any length): floors, then the
/// leftovers by a sort of the fractional parts.
fn apportion_sorted(
    total: i64,
    factor: f64,
    weights: &[f64],
    out: &mut [i64],
    scratch: &mut Vec<(f64, usize)>,
) {
    let mut assigned: i64 = 0;
    for (o, &w) in out.iter_mut().zip(weights) {
        let x = w * factor;
        #[expect(clippy::cast_possible_truncation, reason = "clamped to [0, total]")]
        let f = (x as i64).clamp(0, total);
        *o = f;
        assigned += f;
    }
    let mut left = total - assigned;
    if left == 0 {
        return;
    }
    scratch.clear();
    #[expect(clippy::cast_precision_loss, reason = "parts are below 2^53")]
    scratch.extend(
        weights
            .iter()
            .zip(out.iter())
            .enumerate()
            .map(|(i, (&w, &o))| (w * factor - o as f64, i)),
    );
    // largest fraction first, ties to the earlier touch
    scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    if left > 0 {
        let mut k = 0;
        while left > 0 {
            out[scratch[k % scratch.len()].1] += 1;
            left -= 1;
            k += 1;
        }
    } else {
        // floating-point overshoot: take units back from the smallest fractions
        let mut k = scratch.len();
        while left < 0 && k > 0 {
            k -= 1;
            let i = scratch[k].1;
            if out[i] > 0 {
                out[i] -= 1;
                left += 1;
            }
            if k == 0 && left < 0 {
                k = scratch.len();
            }
        }
    }
}

/// [`apportion_weighted`] when `total / sum` overflows: the parts are
/// `floor(w / sum · total)`, leftovers by the largest remainder.
#[cold]
fn apportion_tiny(
    total: i64,
    weights: &[f64],
    sum: f64,
    out: &mut [i64],
    scratch: &mut Vec<(f64, usize)>,
) {
    #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
    let t = total as f64;
    let mut assigned: i64 = 0;
    scratch.clear();
    for (i, (o, &w)) in out.iter_mut().zip(weights).enumerate() {
        let x = w / sum * t;
        #[expect(clippy::cast_possible_truncation, reason = "clamped to [0, total]")]
        let f = (x as i64).clamp(0, total - assigned);
        *o = f;
        assigned += f;
        #[expect(clippy::cast_precision_loss, reason = "parts are below 2^53")]
        scratch.push((x - f as f64, i));
    }
    // largest fraction first, ties to the earlier touch; the floors sum to
    // at most `total`, and short of it by less than one unit per touch
    scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - assigned;
    let mut k = 0;
    while left > 0 && !scratch.is_empty() {
        out[scratch[k % scratch.len()].1] += 1;
        left -= 1;
        k += 1;
    }
}

/// Splits `total` equally over `out.len()` parts; the remainder goes one unit
/// each to the earliest parts (the largest-remainder rule with its tie-break).
pub(crate) fn apportion_equal(total: i64, out: &mut [i64]) {
    let n = out.len() as i64;
    let q = total / n;
    let r = total % n;
    for (i, o) in out.iter_mut().enumerate() {
        *o = q + i64::from((i as i64) < r);
    }
}

/// Reusable buffers that turn a model's weights for one journey into exact
/// per-touch credit. Use it to get per-touch credit without building a
/// report.
///
/// # Example
///
/// ```
/// use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::Linear};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("a", t))
///     .touch(SimpleTouch::new("b", t))
///     .touch(SimpleTouch::new("c", t))
///     .converted(1.00);
/// let set = JourneySet::from_journeys([&j])?;
/// let mut c = Crediter::new();
/// c.credit(&Linear, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[34, 33, 33]); // 100 cents, leftover cent to the first
/// assert_eq!(c.conversion_units().iter().sum::<i64>(), 1_000_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Crediter {
    pub(crate) weights: Weights,
    /// The model's per-catalog lookups, kept across journeys.
    pub(crate) binding: Binding,
    pub(crate) value: Vec<i64>,
    pub(crate) units: Vec<i64>,
    pub(crate) scratch: Vec<(f64, usize)>,
    /// Keys and ranks of the fractional parts, for journeys of up to
    /// [`SMALL`] touches (never initialized per journey).
    lanes: Box<Lanes>,
    cache: UnitCache,
}

/// The last few splits of one conversion for each journey length up to
/// [`SMALL`], with the weights they were made from (rows `n * WAYS` to
/// `n * WAYS + WAYS - 1`, of `SMALL` entries each, hold length `n`,
/// replaced in turn); see [`Crediter::split_weighted`]. Several per length
/// because milestone and position models give a few different weight
/// vectors per length (one per set of anchor positions), which a single
/// entry would keep evicting.
///
/// The cache only pays when weights repeat (not under time decay, whose
/// weights follow each journey's times), so it watches itself: every
/// [`UnitCache::ROUND`] consultations it stays on only if at least one in
/// eight was a hit, and once off it tries again after `8 * ROUND`
/// journeys. Whether it is on changes the cost, never a result: an entry
/// is used only when its weights equal the journey's bit for bit.
#[derive(Debug, Default, Clone)]
struct UnitCache {
    weights: Vec<f64>,
    units: Vec<i64>,
    valid: Vec<bool>,
    /// The way of each length to replace next.
    next: Vec<u8>,
    /// Consultations and hits in the current round.
    tries: u32,
    hits: u32,
    /// Journeys left to skip while off.
    off: u32,
}

impl UnitCache {
    const ROUND: u32 = 1024;
    /// Entries per journey length.
    const WAYS: usize = 4;

    /// Whether to consult (and fill) the cache for this journey.
    #[inline]
    fn consult(&mut self) -> bool {
        if self.off > 0 {
            self.off -= 1;
            return false;
        }
        self.tries += 1;
        if self.tries >= Self::ROUND {
            if self.hits * 8 < self.tries {
                self.off = 8 * Self::ROUND;
            }
            self.tries = 0;
            self.hits = 0;
        }
        true
    }

    /// The row holding the split for exactly weights `w` (`n` of them).
    #[inline]
    fn find(&self, n: usize, w: &[f64]) -> Option<usize> {
        (n * Self::WAYS..(n + 1) * Self::WAYS).find(|&row| {
            self.valid.get(row).copied().unwrap_or(false)
                && self
                    .weights
                    .get(row * SMALL..row * SMALL + n)
                    .is_some_and(|c| c.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits()))
        })
    }

    /// Keeps the split `units` of weights `w` (`n` of them), in place of
    /// the length's oldest entry.
    #[inline]
    fn store(&mut self, n: usize, w: &[f64], units: &[i64]) {
        let Some(next) = self.next.get_mut(n) else {
            return;
        };
        let row = n * Self::WAYS + usize::from(*next);
        *next = (*next + 1) % Self::WAYS as u8;
        let cells = row * SMALL..row * SMALL + n;
        if let (Some(ws), Some(us), Some(valid)) = (
            self.weights.get_mut(cells.clone()),
            self.units.get_mut(cells),
            self.valid.get_mut(row),
        ) {
            ws.copy_from_slice(w);
            us.copy_from_slice(units);
            *valid = true;
        }
    }
}

impl Crediter {
    /// New, empty buffers.
    pub fn new() -> Crediter {
        Crediter::default()
    }

    /// Credits one journey: afterwards [`values`](Self::values) and
    /// [`conversion_units`](Self::conversion_units) hold one entry per touch
    /// (all zero for a journey that did not convert; empty for a journey
    /// with no touch).
    ///
    /// # Errors
    ///
    /// Whatever the model's [`weights`](AttributionModel::weights) returns,
    /// and [`Error::InvalidWeights`] when the weights cannot be normalized.
    pub fn credit<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        journey: &JourneyView<'_>,
    ) -> Result<()> {
        let n = journey.len();
        self.value.clear();
        self.units.clear();
        self.value.resize(n, 0);
        self.units.resize(n, 0);
        if n == 0 || !journey.converted() {
            return Ok(());
        }
        let sum = self.weigh(model, journey)?;
        self.fill(model.kind(), journey.value_minor(), sum);
        Ok(())
    }

    /// Runs the model on a journey with at least one touch and checks its
    /// weights; returns their sum (1 for the single and equal shapes).
    #[inline]
    pub(crate) fn weigh<M: AttributionModel + ?Sized>(
        &mut self,
        model: &M,
        journey: &JourneyView<'_>,
    ) -> Result<f64> {
        self.weights.clear();
        model.weights_bound(journey, &mut self.binding, &mut self.weights)?;
        self.weights
            .check(journey.len())
            .map_err(|reason| Error::InvalidWeights {
                model: model.name().to_owned(),
                journey: journey.id().to_owned(),
                reason,
            })
    }

    /// After [`weigh`](Self::weigh): per-touch credit of value `v` into
    /// `self.value` and `self.units` (already sized to the journey, zeroed).
    pub(crate) fn fill(&mut self, kind: CreditKind, v: i64, sum: f64) {
        let n = self.value.len();
        #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
        let u = CONVERSION_UNITS as i64;
        match (kind, self.weights.shape()) {
            (CreditKind::Full, shape) => {
                for i in 0..n {
                    let on = match shape {
                        Shape::Single(k) => i == k,
                        Shape::Equal => true,
                        Shape::Weighted => self.weights.raw()[i] > 0.0,
                        Shape::Unset => false,
                    };
                    if on {
                        self.value[i] = v;
                        self.units[i] = u;
                    }
                }
            }
            (_, Shape::Single(k)) => {
                self.value[k] = v;
                self.units[k] = u;
            }
            (_, Shape::Equal) => {
                apportion_equal(v, &mut self.value);
                apportion_equal(u, &mut self.units);
            }
            (_, _) => self.split_weighted(n, v, sum),
        }
    }

    /// After [`weigh`](Self::weigh) set general weights for a journey of
    /// `n` touches: the largest-remainder splits of value `v` and of one
    /// conversion into `self.value[..n]` and `self.units[..n]` (grown to at
    /// least `n`; entries past `n` are left as they were).
    ///
    /// The split of one conversion depends on the weights alone, and
    /// position-based and milestone models give the same weights to every
    /// journey of the same length and anchors: the last few splits of each
    /// length are kept with their weights (compared bit for bit, so the
    /// result is the one a new split gives) and reused when they repeat.
    #[inline]
    pub(crate) fn split_weighted(&mut self, n: usize, v: i64, sum: f64) {
        #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
        let u = CONVERSION_UNITS as i64;
        if self.cache.valid.is_empty() {
            let rows = (SMALL + 1) * UnitCache::WAYS;
            self.cache.weights.resize(rows * SMALL, 0.0);
            self.cache.units.resize(rows * SMALL, 0);
            self.cache.valid.resize(rows, false);
            self.cache.next.resize(SMALL + 1, 0);
        }
        if self.value.len() < n {
            self.value.resize(n, 0);
        }
        if self.units.len() < n {
            self.units.resize(n, 0);
        }
        let w = self.weights.raw();
        let (vals, us) = (&mut self.value[..n], &mut self.units[..n]);
        let consult = n <= SMALL && w.len() == n && self.cache.consult();
        if consult {
            if let Some(row) = self.cache.find(n, w) {
                self.cache.hits += 1;
                us.copy_from_slice(&self.cache.units[row * SMALL..row * SMALL + n]);
                #[expect(clippy::cast_precision_loss, reason = "totals are below 2^53")]
                let factor = v as f64 / sum;
                if !split_one(v, factor, w, vals, &mut self.lanes.one) {
                    apportion_keyed(v, w, sum, vals, &mut self.lanes, &mut self.scratch);
                }
                return;
            }
        }
        apportion_pair((v, u), w, sum, vals, us, &mut self.lanes, &mut self.scratch);
        if consult {
            self.cache.store(n, w, us);
        }
    }

    /// Credited value per touch, in minor units, after [`credit`](Self::credit).
    pub fn values(&self) -> &[i64] {
        &self.value
    }

    /// Credited conversions per touch, in [`CONVERSION_UNITS`].
    pub fn conversion_units(&self) -> &[i64] {
        &self.units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_tiny_weights_is_exact_and_fast() {
        // `total / sum` overflows to infinity: this used to loop `total` times
        let total = 9_000_000_000_000_000_i64;
        let mut scratch = Vec::new();
        for w in [
            vec![5e-324, 0.0, 5e-324],
            vec![1e-300, 3e-300],
            vec![5e-324; 30],
        ] {
            let sum: f64 = w.iter().sum();
            let mut out = vec![0; w.len()];
            apportion_weighted(total, &w, sum, &mut out, &mut scratch);
            assert_eq!(out.iter().sum::<i64>(), total, "{w:?}");
            assert!(out.iter().all(|&o| o >= 0));
        }
        let mut out = vec![0; 3];
        apportion_weighted(
            total,
            &[5e-324, 0.0, 5e-324],
            1e-323,
            &mut out,
            &mut scratch,
        );
        assert_eq!(out, [total / 2, 0, total / 2]);
        let mut out = vec![0; 2];
        apportion_weighted(total, &[1e-300, 3e-300], 4e-300, &mut out, &mut scratch);
        assert_eq!(out, [total / 4, total / 4 * 3]);
    }

    #[test]
    fn largest_remainder_known_answer() {
        let mut out = vec![0; 3];
        let mut s = Vec::new();
        // 100 cents over 1/3 each: 34, 33, 33 (tie to the first)
        apportion_weighted(100, &[1.0, 1.0, 1.0], 3.0, &mut out, &mut s);
        assert_eq!(out, vec![34, 33, 33]);
        // 10 over 0.15, 0.25, 0.6 -> 1.5, 2.5, 6 -> floors 1,2,6 (9), leftover to first .5 tie
        apportion_weighted(10, &[0.15, 0.25, 0.6], 1.0, &mut out, &mut s);
        assert_eq!(out.iter().sum::<i64>(), 10);
        assert_eq!(out[2], 6);
        let mut eq = vec![0; 4];
        apportion_equal(7, &mut eq);
        assert_eq!(eq, vec![2, 2, 2, 1]);
    }

    /// The reference: sort by (fraction desc, index asc), hand out leftovers.
    fn apportion_by_sort(total: i64, weights: &[f64]) -> Vec<i64> {
        let sum: f64 = weights.iter().sum();
        let factor = total as f64 / sum;
        let mut out: Vec<i64> = weights
            .iter()
            .map(|w| ((w * factor).floor() as i64).clamp(0, total))
            .collect();
        let left = total - out.iter().sum::<i64>();
        let mut order: Vec<(f64, usize)> = weights
            .iter()
            .zip(&out)
            .enumerate()
            .map(|(i, (w, &o))| (w * factor - o as f64, i))
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for k in 0..left.max(0) as usize {
            out[order[k % order.len()].1] += 1;
        }
        out
    }

    #[test]
    fn small_path_matches_sorting() {
        let mut state = 12345_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut s = Vec::new();
        for _ in 0..2000 {
            let n = 1 + (next() % 30) as usize;
            let w: Vec<f64> = (0..n)
                .map(|_| match next() % 4 {
                    0 => 0.0,
                    1 => 1.0,
                    _ => (next() % 1000) as f64 / 7.0,
                })
                .collect();
            if w.iter().sum::<f64>() <= 0.0 {
                continue;
            }
            for total in [1_i64, 99, 12_345, 1_000_000_000] {
                let sum: f64 = w.iter().sum();
                let mut out = vec![0; n];
                apportion_weighted(total, &w, sum, &mut out, &mut s);
                assert_eq!(out, apportion_by_sort(total, &w), "{total} {w:?}");
                let mut one = vec![0; n];
                let mut lanes = Lanes::default();
                if split_one(total, total as f64 / sum, &w, &mut one, &mut lanes.one) {
                    assert_eq!(one, out, "one lane {total} {w:?}");
                } else {
                    assert!(n > SMALL, "split_one declined {total} {w:?}");
                }
            }
        }
    }

    /// Both splits of `apportion_pair` (and the cached splits of
    /// `split_weighted`, whatever the weights repeat) are the reference's.
    #[test]
    fn pair_and_cached_splits_match_sorting() {
        let mut state = 987_654_321_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let units = CONVERSION_UNITS as i64;
        let mut scratch = Vec::new();
        let mut lanes = Lanes::default();
        let mut c = Crediter::new();
        // a few weight vectors per length, repeated: the cache hits
        let pool: Vec<Vec<f64>> = (0..60)
            .map(|k| {
                let n = 1 + k % 26;
                (0..n)
                    .map(|_| match next() % 5 {
                        0 => 0.0,
                        1 => 0.1,
                        _ => (next() % 1000) as f64 / 7.0,
                    })
                    .collect()
            })
            .filter(|w: &Vec<f64>| w.iter().sum::<f64>() > 0.0)
            .collect();
        for _ in 0..3000 {
            let w = &pool[(next() % pool.len() as u64) as usize];
            let n = w.len();
            let sum: f64 = w.iter().sum();
            let value = (next() % 100_000) as i64;
            let (mut vals, mut us) = (vec![0; n], vec![0; n]);
            apportion_pair(
                (value, units),
                w,
                sum,
                &mut vals,
                &mut us,
                &mut lanes,
                &mut scratch,
            );
            assert_eq!(vals, apportion_by_sort(value, w), "{value} {w:?}");
            assert_eq!(us, apportion_by_sort(units, w), "{w:?}");
            c.weights.weighted().extend_from_slice(w);
            c.split_weighted(n, value, sum);
            assert_eq!(&c.value[..n], &vals[..], "cached {value} {w:?}");
            assert_eq!(&c.units[..n], &us[..], "cached {w:?}");
        }
    }

    #[test]
    fn floor_frac_known_answers() {
        let bits = |(i, f): (i64, f64)| (i, f.to_bits());
        assert_eq!(bits(floor_frac(2.5)), (2, 0.5_f64.to_bits()));
        assert_eq!(bits(floor_frac(3.0)), (3, 0.0_f64.to_bits()));
        // rounds up to 3, then back down to 2
        assert_eq!(bits(floor_frac(2.75)), (2, 0.75_f64.to_bits()));
        assert_eq!(bits(floor_frac(0.0)), (0, 0.0_f64.to_bits()));
        // -0.0 keeps its sign in the fraction, as `x - 0.0` does
        assert_eq!(bits(floor_frac(-0.0)), (0, (-0.0_f64).to_bits()));
        assert_eq!(bits(floor_frac(5e-324)), (0, 5e-324_f64.to_bits()));
        let big = (SMALL_TOTAL + 1) as f64 - 0.25;
        assert_eq!(bits(floor_frac(big)), (SMALL_TOTAL, 0.75_f64.to_bits()));
        // the keys order -0.0 below +0.0, as `total_cmp` does
        assert!(frac_key(-0.0) < frac_key(0.0));
        assert!(frac_key(0.0) < frac_key(5e-324));
        assert!(frac_key(0.5) < frac_key(0.999_999_999_999_999_9));
    }

    proptest::proptest! {
        /// Both splits, single and paired, give the sorting reference's
        /// parts: weights with ties, zeros of both signs, subnormals,
        /// totals on both sides of `SMALL_TOTAL` and up to 2^53.
        #[test]
        fn splits_match_sorting(
            w in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(0.0),
                    proptest::strategy::Just(-0.0),
                    proptest::strategy::Just(1.0),
                    proptest::strategy::Just(0.1),
                    proptest::strategy::Just(5e-324),
                    0.0..1e3_f64,
                ],
                1..30,
            ),
            value in proptest::prop_oneof![
                0..1_000_000_i64,
                SMALL_TOTAL - 2..SMALL_TOTAL + 2,
                0..=(1_i64 << 53),
            ],
        ) {
            let sum: f64 = w.iter().sum();
            let units = CONVERSION_UNITS as i64;
            // (`total / sum` overflowing takes `apportion_tiny`, which the
            // reference does not model)
            proptest::prop_assume!(
                sum > 0.0 && (value as f64 / sum).is_finite() && (units as f64 / sum).is_finite()
            );
            let (mut vals, mut us) = (vec![0; w.len()], vec![0; w.len()]);
            let mut scratch = Vec::new();
            let mut lanes = Lanes::default();
            apportion_pair((value, units), &w, sum, &mut vals, &mut us, &mut lanes, &mut scratch);
            // the reference hands out leftovers but never takes an
            // overshoot back (floors summing past a total near 2^53): it
            // is the answer whenever it conserves the total
            let by_sort = apportion_by_sort(value, &w);
            if by_sort.iter().sum::<i64>() == value {
                proptest::prop_assert_eq!(&vals, &by_sort);
            }
            proptest::prop_assert_eq!(&us, &apportion_by_sort(units, &w));
            let mut one = vec![0; w.len()];
            apportion_weighted(value, &w, sum, &mut one, &mut scratch);
            proptest::prop_assert_eq!(&one, &vals);
            // the one-lane split, where it splits, gives the same parts
            let mut single = vec![0; w.len()];
            if split_one(value, value as f64 / sum, &w, &mut single, &mut lanes.one) {
                proptest::prop_assert_eq!(&single, &vals);
            }
            proptest::prop_assert_eq!(one.iter().sum::<i64>(), value);
            proptest::prop_assert!(one.iter().all(|&x| x >= 0));
        }
    }

    #[test]
    fn apportion_always_sums() {
        let mut s = Vec::new();
        for total in [0_i64, 1, 7, 999_999, 1 << 52] {
            for w in [vec![1e-300, 1.0], vec![0.1; 7], vec![3.0, 0.0, 1e-9, 2.5]] {
                let sum: f64 = w.iter().sum();
                let mut out = vec![0; w.len()];
                apportion_weighted(total, &w, sum, &mut out, &mut s);
                assert_eq!(out.iter().sum::<i64>(), total, "{total} {w:?}");
                assert!(out.iter().all(|&x| x >= 0));
            }
        }
    }
}
