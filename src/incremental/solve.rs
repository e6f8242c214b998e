//! The penalized Newton (IRLS) fit: design layout, rows regenerated from
//! the packed pattern keys, the solver, and the warnings it finds.

use nalgebra::{DMatrix, DVector};

use super::config::{CreditRule, IncrementalConfig, Pairs};
use super::model::{
    ChannelEffect, FitDiagnostics, FitWarning, Incremental, JOURNEYS_PER_FEATURE,
    PENALTY_SHARE_LIMIT, RARE_CHANNEL_JOURNEYS, RARE_CHANNEL_OUTCOMES,
};
use super::shape::{Coefs, Shape, sigmoid, softplus};
use super::store::{Sorted, VERSION, item_of, key_parts, key_shape, pair_of};
use crate::error::{Error, Result};
use crate::model::ChannelList;

/// Column layout of the full design (before dropping inactive columns).
struct Layout {
    k: usize,
    width: usize,
    last: bool,
    recent: bool,
    pairs: bool,
    /// `exposure_value(l, count)` at `[l * 65 + count]` (stored counts are
    /// at most 64): the rows are regenerated on every Newton pass.
    expo_values: Vec<f64>,
    /// `pair_value(count)` at `[count]`.
    pair_values: Vec<f64>,
    /// Sum-to-zero coding of the last-touch features: the reference
    /// channel (its coefficient is minus the sum of the others') and the
    /// other channels seen as a last touch. `None` before the active
    /// columns are known (plain indicators).
    last_contrast: Option<(u32, Vec<u32>)>,
}

impl Layout {
    fn new(config: &IncrementalConfig, k: usize) -> Layout {
        let width = config.exposure_width();
        Layout {
            k,
            width,
            last: config.last_touch,
            recent: config.recency_ms.is_some(),
            pairs: !matches!(config.pairs, Pairs::None),
            expo_values: (0..width * 65)
                .map(|i| config.exposure_value(i / 65, (i % 65) as u16))
                .collect(),
            pair_values: (0..65_u16).map(|n| config.pair_value(n)).collect(),
            last_contrast: None,
        }
    }
    fn expo(&self, c: usize, l: usize) -> usize {
        1 + c * self.width + l
    }
    fn last_col(&self, c: usize) -> usize {
        1 + self.k * self.width + c
    }
    fn recent_col(&self, c: usize) -> usize {
        1 + self.k * self.width + usize::from(self.last) * self.k + c
    }
    fn pair_col(&self, a: usize, b: usize) -> usize {
        1 + self.k * self.width
            + (usize::from(self.last) + usize::from(self.recent)) * self.k
            + a * self.k
            + b
    }
    fn total(&self) -> usize {
        1 + self.k * self.width
            + (usize::from(self.last) + usize::from(self.recent)) * self.k
            + usize::from(self.pairs) * self.k * self.k
    }
}

/// The name of full-layout column `j` (as in [`Incremental::coefficients`]).
fn col_label(lay: &Layout, channels: &[String], j: usize) -> String {
    let name = |c: usize| channels.get(c).map_or("?", String::as_str);
    let k = lay.k;
    if j == 0 {
        return "intercept".to_owned();
    }
    let mut j = j - 1;
    if j < k * lay.width {
        let (c, l) = (j / lay.width, j % lay.width);
        return if lay.width == 1 {
            format!("exposure:{}", name(c))
        } else {
            format!("exposure:{}:{}", name(c), l + 1)
        };
    }
    j -= k * lay.width;
    if lay.last {
        if j < k {
            return format!("last:{}", name(j));
        }
        j -= k;
    }
    if lay.recent {
        if j < k {
            return format!("recent:{}", name(j));
        }
        j -= k;
    }
    format!("before:{}>{}", name(j / k.max(1)), name(j % k.max(1)))
}

/// The full-design feature vector of a canonical packed key (sparse),
/// mirroring [`Coefs::eta`] with every item present.
fn row(lay: &Layout, key: &[u32], out: &mut Vec<(usize, f64)>) {
    let (items, pairs) = key_parts(key);
    out.clear();
    out.push((0, 1.0));
    let mut last: Option<(u16, u32)> = None;
    for &w in items {
        let it = item_of(w);
        if last.is_none_or(|(r, _)| it.rank < r) {
            last = Some((it.rank, it.ch));
        }
        let c = it.ch as usize;
        for l in 0..lay.width {
            let x = lay.expo_values[l * 65 + usize::from(it.count)];
            if x != 0.0 {
                out.push((lay.expo(c, l), x));
            }
        }
        if lay.recent && it.recent {
            out.push((lay.recent_col(c), 1.0));
        }
    }
    if lay.last
        && let Some((_, ch)) = last
    {
        match &lay.last_contrast {
            Some((reference, others)) if *reference == ch => {
                out.extend(others.iter().map(|&c| (lay.last_col(c as usize), -1.0)));
            }
            _ => out.push((lay.last_col(ch as usize), 1.0)),
        }
    }
    if lay.pairs {
        for p in pairs.chunks_exact(2) {
            let (a, b, n) = pair_of(p);
            out.push((
                lay.pair_col(a as usize, b as usize),
                lay.pair_values[usize::from(n)],
            ));
        }
    }
}

/// The rows of the fit, generated pattern by pattern in sorted order from
/// the packed keys (no design matrix is stored): features in active-column
/// indices, journeys, conversions.
struct Rows<'a> {
    sorted: &'a Sorted<'a>,
    lay: &'a Layout,
    /// Full-layout column -> active column.
    index: &'a [usize],
    /// Journeys and conversions per sorted pattern, as floats.
    ny: &'a [(f64, f64)],
    /// Active columns of the free last-touch contrasts (empty without
    /// last-touch features): the penalty also covers the reference
    /// channel's coefficient, minus their sum (see [`penalty`]).
    contrast: Vec<usize>,
}

impl Rows<'_> {
    /// Calls `f(row, journeys, conversions)` for every pattern in order.
    fn for_each(&self, buf: &mut Vec<(usize, f64)>, mut f: impl FnMut(&[(usize, f64)], f64, f64)) {
        for (i, &(n, y)) in self.ny.iter().enumerate() {
            row(self.lay, self.sorted.keys.key(i), buf);
            for e in buf.iter_mut() {
                e.0 = self.index[e.0];
            }
            f(buf, n, y);
        }
    }
}

/// `Σ_{k≥1} β_k²` over every coefficient of the model, the reference
/// channel's last-touch coefficient `-Σ contrasts` included: the ridge
/// treats every channel alike, so the fit does not depend on which channel
/// is the reference (the last in name order), and on data where every
/// journey has a touch it has the optimum of the plain indicators (whose
/// penalty already drove `Σ_c γ_c` to 0).
fn penalty(beta: &[f64], contrast: &[usize]) -> f64 {
    let pen: f64 = beta.iter().skip(1).map(|b| b * b).sum();
    if contrast.is_empty() {
        return pen;
    }
    let reference: f64 = contrast.iter().map(|&j| beta[j]).sum();
    pen + reference * reference
}

/// Penalized log-likelihood.
fn objective(rows: &Rows<'_>, buf: &mut Vec<(usize, f64)>, beta: &[f64], l2: f64) -> f64 {
    let mut ll = 0.0;
    rows.for_each(buf, |x, n, y| {
        let eta: f64 = x.iter().map(|&(j, v)| beta[j] * v).sum();
        ll += y * eta - n * softplus(eta);
    });
    ll - 0.5 * l2 * penalty(beta, &rows.contrast)
}

pub(crate) fn fit(c: &Sorted<'_>) -> Result<Incremental> {
    fit_from(c, None)
}

/// The coefficients of `prev` laid out for a fit on `channels` with layout
/// `lay` (active columns `index`, `cols` of them): the same feature's
/// coefficient where `prev` has it (channels matched by name), 0 elsewhere.
/// A warm start for [`newton`].
fn start_from(
    prev: &Incremental,
    lay: &Layout,
    channels: &[String],
    index: &[usize],
    cols: usize,
) -> Vec<f64> {
    let mut beta = vec![0.0; cols];
    let pc = &prev.coefs;
    let map: Vec<Option<usize>> = channels.iter().map(|n| prev.channels.index(n)).collect();
    let k = lay.k;
    for (j, &a) in index.iter().enumerate() {
        if a == usize::MAX {
            continue;
        }
        let mut r = j;
        let value = if r == 0 {
            Some(pc.intercept)
        } else {
            r -= 1;
            if r < k * lay.width {
                let (c, l) = (r / lay.width, r % lay.width);
                map[c]
                    .filter(|_| pc.width == lay.width)
                    .map(|pcx| pc.exposure[pcx * pc.width + l])
            } else {
                r -= k * lay.width;
                if lay.last && r < k {
                    map[r].and_then(|x| pc.last.get(x).copied())
                } else {
                    if lay.last {
                        r -= k;
                    }
                    if lay.recent && r < k {
                        map[r].and_then(|x| pc.recent.get(x).copied())
                    } else {
                        if lay.recent {
                            r -= k;
                        }
                        let (x, y) = (r / k.max(1), r % k.max(1));
                        match (map[x], map[y]) {
                            (Some(px), Some(py)) => pc.pair.get(px * pc.k + py).copied(),
                            _ => None,
                        }
                    }
                }
            }
        };
        if let Some(v) = value
            && v.is_finite()
        {
            beta[a] = v;
        }
    }
    beta
}

/// [`fit`], with Newton started from `prev`'s coefficients when given (the
/// same optimum to the tolerance, in fewer iterations when `prev` was
/// fitted on similar data with the same configuration).
pub(crate) fn fit_from(c: &Sorted<'_>, prev: Option<&Incremental>) -> Result<Incremental> {
    fit_with(c, prev, false)
}

/// [`fit_from`] for a model only scored or used as a warm start (the
/// folds of [`select`](super::select)): the same coefficients, without the
/// passes over the patterns for the effects (left at 0) and the warnings
/// (left empty).
pub(crate) fn fit_lean(c: &Sorted<'_>, prev: Option<&Incremental>) -> Result<Incremental> {
    fit_with(c, prev, true)
}

fn fit_with(c: &Sorted<'_>, prev: Option<&Incremental>, lean: bool) -> Result<Incremental> {
    let config = c.config();
    let totals = *c.totals();
    if totals.journeys == 0 {
        return Err(Error::InsufficientData {
            reason: "no journeys to fit the incremental model on".into(),
        });
    }
    if totals.conversions == 0 || totals.conversions == totals.journeys {
        return Err(Error::InsufficientData {
            reason: "the incremental model needs both converting and non-converting journeys"
                .into(),
        });
    }
    let k = c.channels.len();
    let lay = Layout::new(config, k);
    if lay.pairs && k.saturating_mul(k) > MAX_PAIR_TABLE {
        return Err(Error::TooLarge {
            what: "channels with order-pair features (pairs table)",
            found: k.saturating_mul(k),
            limit: MAX_PAIR_TABLE,
        });
    }
    // active columns over the full layout; rows are regenerated from the
    // packed keys on every pass instead of being stored
    let npat = c.keys.len();
    let mut active = vec![false; lay.total()];
    active[0] = true;
    let mut buf = Vec::new();
    let mut ny: Vec<(f64, f64)> = Vec::with_capacity(npat);
    for i in 0..npat {
        row(&lay, c.keys.key(i), &mut buf);
        for &(j, _) in &buf {
            active[j] = true;
        }
        let cell = c.cell(i);
        #[expect(clippy::cast_precision_loss, reason = "counts below 2^53")]
        ny.push((cell.journeys as f64, cell.conversions as f64));
    }
    // identified baseline: the last-touch indicators of a journey with at
    // least one touch sum to 1, so with plain indicators the intercept (the
    // empty journey's log-odds) is pinned only by the penalty; code them
    // with sum-to-zero contrasts (the reference channel's coefficient is
    // minus the sum of the others')
    let mut lay = lay;
    if lay.last {
        let seen: Vec<u32> = (0..k)
            .filter(|&c| active[lay.last_col(c)])
            .map(|c| u32::try_from(c).unwrap_or(u32::MAX))
            .collect();
        if let Some((&reference, others)) = seen.split_last() {
            active[lay.last_col(reference as usize)] = false;
            lay.last_contrast = Some((reference, others.to_vec()));
        }
    }
    let lay = lay;
    let mut index = vec![usize::MAX; lay.total()];
    let mut cols = 0;
    for (j, &a) in active.iter().enumerate() {
        if a {
            index[j] = cols;
            cols += 1;
        }
    }
    if cols > MAX_FEATURES {
        return Err(Error::TooLarge {
            what: "features of the incremental model",
            found: cols,
            limit: MAX_FEATURES,
        });
    }
    let rows = Rows {
        sorted: c,
        lay: &lay,
        index: &index,
        ny: &ny,
        contrast: lay
            .last_contrast
            .as_ref()
            .map_or_else(Vec::new, |(_, others)| {
                others
                    .iter()
                    .map(|&c| index[lay.last_col(c as usize)])
                    .collect()
            }),
    };
    // a warm start needs the same exposure features (the other feature
    // families are matched by name, missing ones start at 0)
    let start = match prev {
        Some(m)
            if m.config.exposure == config.exposure && m.config.count_cap == config.count_cap =>
        {
            start_from(m, &lay, &c.channels, &index, cols)
        }
        _ => vec![0.0; cols],
    };
    let (beta, iterations, last_step, obj) = newton(&rows, cols, config, start)?;
    // back to the full layout
    let mut full: Vec<f64> = index
        .iter()
        .map(|&i| if i == usize::MAX { 0.0 } else { beta[i] })
        .collect();
    if let Some((reference, others)) = &lay.last_contrast {
        full[lay.last_col(*reference as usize)] = -others
            .iter()
            .map(|&c| full[lay.last_col(c as usize)])
            .sum::<f64>();
    }
    let take =
        |f: &dyn Fn(usize) -> usize, n: usize| -> Vec<f64> { (0..n).map(|c| full[f(c)]).collect() };
    let mut exposure = vec![0.0; k * lay.width];
    for ch in 0..k {
        for l in 0..lay.width {
            exposure[ch * lay.width + l] = full[lay.expo(ch, l)];
        }
    }
    let coefs = Coefs {
        k,
        width: lay.width,
        intercept: full[0],
        exposure,
        last: if lay.last {
            take(&|c| lay.last_col(c), k)
        } else {
            Vec::new()
        },
        recent: if lay.recent {
            take(&|c| lay.recent_col(c), k)
        } else {
            Vec::new()
        },
        pair: if lay.pairs {
            (0..k * k)
                .map(|i| full[lay.pair_col(i / k, i % k)])
                .collect()
        } else {
            Vec::new()
        },
    };
    // expected incremental conversions over all journeys, patterns in order
    let mut inc = vec![0.0_f64; k];
    let mut exposed = vec![0_u64; k];
    let mut exposed_conv = vec![0_u64; k];
    let (mut baseline_conversions, mut expected_conversions) = (0.0, 0.0);
    let mut shape = Shape::default();
    for (i, &(n, _)) in ny.iter().enumerate() {
        if lean {
            break;
        }
        key_shape(c.keys.key(i), &mut shape);
        let full_p = sigmoid(coefs.eta(config, &shape, |_| true));
        expected_conversions += n * full_p;
        baseline_conversions += n * sigmoid(coefs.eta(config, &shape, |_| false));
        if shape.items.is_empty() {
            continue;
        }
        let cell = c.cell(i);
        for (i, it) in shape.items.iter().enumerate() {
            let without = sigmoid(coefs.eta(config, &shape, |x| x != i));
            inc[it.ch as usize] += n * (full_p - without);
            exposed[it.ch as usize] += cell.journeys;
            exposed_conv[it.ch as usize] += cell.conversions;
        }
    }
    // warnings: what the data cannot support
    let mut warnings = Vec::new();
    let features = cols - 1;
    let wanted = JOURNEYS_PER_FEATURE.saturating_mul(features.max(1) as u64);
    let non_converting = totals.journeys - totals.conversions;
    if !lean && (totals.conversions < wanted || non_converting < wanted) {
        warnings.push(FitWarning::FewJourneys {
            converting: totals.conversions,
            non_converting,
            features,
            wanted,
        });
    }
    if config.l2 > 0.0 && !lean {
        let mut info = vec![0.0_f64; cols];
        rows.for_each(&mut buf, |x, n, _| {
            let eta: f64 = x.iter().map(|&(j, v)| beta[j] * v).sum();
            let mu = sigmoid(eta);
            let w = n * mu * (1.0 - mu);
            for &(j, v) in x {
                info[j] += w * v * v;
            }
        });
        let mut leaning: Vec<(String, f64)> = index
            .iter()
            .enumerate()
            .filter(|&(j, &a)| j > 0 && a != usize::MAX)
            .map(|(j, &a)| (j, config.l2 / (config.l2 + info[a])))
            .filter(|&(_, share)| share > PENALTY_SHARE_LIMIT)
            .map(|(j, share)| (col_label(&lay, &c.channels, j), share))
            .collect();
        leaning.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if !leaning.is_empty() {
            warnings.push(FitWarning::LeansOnPenalty {
                coefficients: leaning,
            });
        }
    }
    for (ch, name) in c.channels.iter().enumerate().filter(|_| !lean) {
        let (j, y) = (exposed[ch], exposed_conv[ch]);
        if j < RARE_CHANNEL_JOURNEYS || y < RARE_CHANNEL_OUTCOMES || j - y < RARE_CHANNEL_OUTCOMES {
            warnings.push(FitWarning::RareChannel {
                channel: name.clone(),
                journeys: j,
                conversions: y,
            });
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "display amounts")]
    let mean_value = totals.value as f64
        / totals.conversions as f64
        / 10_f64.powi(i32::from(c.currency_decimals()));
    let effects = c
        .channels
        .iter()
        .enumerate()
        .map(|(i, name)| ChannelEffect {
            name: name.clone(),
            journeys: exposed[i],
            conversions: inc[i],
            value: inc[i] * mean_value,
        })
        .collect();
    let mut model = Incremental {
        fingerprint: String::new(),
        config: config.clone(),
        channels: ChannelList::from_sorted(c.channels.clone()),
        coefs,
        effects,
        calibration: Vec::new(),
        baseline_conversions,
        expected_conversions,
        mean_value,
        currency_decimals: c.currency_decimals(),
        diagnostics: FitDiagnostics {
            journeys: totals.journeys,
            conversions: totals.conversions,
            patterns: npat,
            features: cols,
            iterations,
            last_step,
            penalized_log_likelihood: obj,
            capped_journeys: c.capped_journeys(),
            warnings,
        },
    };
    if !lean && config.credit == CreditRule::Calibrated {
        let (m, warning) = model.calibration_of(c);
        model.calibration = m;
        model.diagnostics.warnings.extend(warning);
    }
    // the configuration, the coefficients' and the multipliers' bits
    // identify the fitted model
    let mut fp = format!("v{VERSION};{};fit", config.fingerprint());
    for (_, b) in model.coefficients() {
        fp.push_str(&format!(";{:x}", b.to_bits()));
    }
    for m in &model.calibration {
        fp.push_str(&format!(";m{:x}", m.to_bits()));
    }
    model.fingerprint = fp;
    Ok(model)
}

/// Score statistics of the order features `base` does not have, at `base`
/// (a model fitted on `c`'s patterns without them): of each channel's
/// last-touch indicator `[closer = c]` (by channel index of `c`, 0 where the
/// channel never closes) and of every order pair `(a, b)` seen (channel
/// indices, name order). With `x` the feature, `μ` the fitted probability
/// of a pattern of `n` journeys and `y` conversions,
///
/// ```text
/// U = Σ x (y − n μ),   I = Σ n μ (1 − μ) x²,   statistic = U² / I
/// ```
///
/// (the score test: about twice the gain in log-likelihood a coefficient
/// for the feature would bring). `I` leaves out the feature's correlation
/// with the fitted ones, which can only make the statistic smaller: the
/// screen is conservative. `c`'s patterns must carry last-touch ranks and
/// every pair (counted with `last_touch` and [`Pairs::All`]); counts are
/// capped at `base`'s count cap, pair features valued as in `base`'s
/// configuration.
#[expect(clippy::type_complexity, reason = "a private helper's pair")]
pub(crate) fn order_scores(
    c: &Sorted<'_>,
    base: &Incremental,
) -> (Vec<f64>, Vec<((usize, usize), f64)>) {
    let config = &base.config;
    let k = c.channels.len();
    let map: Vec<u32> = c
        .channels
        .iter()
        .map(|n| {
            base.channels.index(n).map_or(super::shape::UNKNOWN, |i| {
                u32::try_from(i).unwrap_or(super::shape::UNKNOWN)
            })
        })
        .collect();
    let mut u = vec![0.0_f64; k * k];
    let mut info = vec![0.0_f64; k * k];
    let (mut lu, mut linfo) = (vec![0.0_f64; k], vec![0.0_f64; k]);
    let mut shape = Shape::default();
    for i in 0..c.keys.len() {
        key_shape(c.keys.key(i), &mut shape);
        let Some(closer) = shape
            .items
            .iter()
            .min_by_key(|it| it.rank)
            .map(|it| it.ch as usize)
        else {
            continue;
        };
        let pairs: Vec<(usize, usize, u16)> = shape
            .pairs
            .iter()
            .map(|&(a, b, n)| {
                (
                    shape.items[a as usize].ch as usize,
                    shape.items[b as usize].ch as usize,
                    config.stored_count(usize::from(n)),
                )
            })
            .collect();
        for it in &mut shape.items {
            it.ch = map[it.ch as usize];
            it.count = config.stored_count(usize::from(it.count));
        }
        // the base's own pair terms see its cap, as its items do
        for p in &mut shape.pairs {
            p.2 = config.stored_count(usize::from(p.2));
        }
        let mu = sigmoid(base.coefs.eta(&base.config, &shape, |_| true));
        let cell = c.cell(i);
        #[expect(clippy::cast_precision_loss, reason = "counts below 2^53")]
        let (n, y) = (cell.journeys as f64, cell.conversions as f64);
        let (r, w) = (y - n * mu, n * mu * (1.0 - mu));
        lu[closer] += r;
        linfo[closer] += w;
        for (a, b, m) in pairs {
            let x = config.pair_value(m);
            u[a * k + b] += x * r;
            info[a * k + b] += w * x * x;
        }
    }
    let last = (0..k)
        .map(|c| {
            if linfo[c] > 0.0 {
                lu[c] * lu[c] / linfo[c]
            } else {
                0.0
            }
        })
        .collect();
    let pairs = (0..k * k)
        .filter(|&j| info[j] > 0.0)
        .map(|j| ((j / k, j % k), u[j] * u[j] / info[j]))
        .collect();
    (last, pairs)
}

/// Most fitted coefficients (the Newton system is a dense `P × P` matrix,
/// factorized in `O(P³)` per step).
pub const MAX_FEATURES: usize = 4096;

/// Most entries of the `K × K` pair table (`K` channels) with pair features.
const MAX_PAIR_TABLE: usize = 1 << 22;

/// Relative Newton-decrement level at which the fit stops (see
/// [`IncrementalConfig::tolerance`]).
const DECREMENT_EPS: f64 = 1e-13;

/// Penalized Newton-Raphson (IRLS) from `start` (β = 0 unless warm
/// started) with step halving.
/// Returns (β, iterations, last step, objective).
fn newton(
    rows: &Rows<'_>,
    p: usize,
    config: &IncrementalConfig,
    start: Vec<f64>,
) -> Result<(Vec<f64>, usize, f64, f64)> {
    let l2 = config.l2;
    let mut buf = Vec::new();
    let mut beta = start;
    let mut obj = objective(rows, &mut buf, &beta, l2);
    let mut h = vec![0.0; p * p];
    let mut g = vec![0.0; p];
    let mut step = f64::INFINITY;
    for iter in 1..=config.max_iterations {
        h.fill(0.0);
        g.fill(0.0);
        rows.for_each(&mut buf, |x, n, y| {
            let eta: f64 = x.iter().map(|&(j, v)| beta[j] * v).sum();
            let mu = sigmoid(eta);
            let w = n * mu * (1.0 - mu);
            let r = y - n * mu;
            for (a, &(ja, va)) in x.iter().enumerate() {
                g[ja] += va * r;
                for &(jb, vb) in &x[a..] {
                    let (lo, hi) = if ja <= jb { (ja, jb) } else { (jb, ja) };
                    h[lo * p + hi] += w * va * vb;
                }
            }
        });
        for j in 1..p {
            g[j] -= l2 * beta[j];
            h[j * p + j] += l2;
        }
        // the reference's term λ/2 · (Σ contrasts)²: gradient λ·Σ and a
        // constant λ on every (contrast, contrast) entry (upper triangle)
        if !rows.contrast.is_empty() {
            let reference: f64 = rows.contrast.iter().map(|&j| beta[j]).sum();
            for (i, &a) in rows.contrast.iter().enumerate() {
                g[a] -= l2 * reference;
                for &b in &rows.contrast[i..] {
                    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                    h[lo * p + hi] += l2;
                }
            }
        }
        for a in 0..p {
            for b in 0..a {
                h[a * p + b] = h[b * p + a];
            }
        }
        let hm = DMatrix::from_row_slice(p, p, &h);
        let gv = DVector::from_column_slice(&g);
        let delta = match hm.clone().cholesky() {
            Some(ch) => Some(ch.solve(&gv)),
            None => hm.lu().solve(&gv),
        };
        let delta = match delta {
            Some(d) if d.iter().all(|x| x.is_finite()) => d,
            _ => {
                return Err(Error::InsufficientData {
                    reason: "the Newton system of the incremental fit is singular: features are \
                             collinear or separate the outcome; use l2 > 0"
                        .into(),
                });
            }
        };
        let full_step = delta.iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        // Newton decrement: the gain in L the full step predicts
        let decrement: f64 = 0.5 * g.iter().zip(delta.iter()).map(|(a, b)| a * b).sum::<f64>();
        // step halving until the objective does not decrease
        let mut t = 1.0;
        let mut accepted = false;
        let mut cand = vec![0.0; p];
        for _ in 0..60 {
            for j in 0..p {
                cand[j] = beta[j] + t * delta[j];
            }
            let o = objective(rows, &mut buf, &cand, l2);
            if o.is_finite() && o >= obj - 1e-12 * obj.abs() {
                obj = o;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // no improvement representable: at the optimum to machine
            // precision if the Newton step is already tiny
            if full_step <= config.tolerance.max(1e-7) {
                return Ok((beta, iter, full_step, obj));
            }
            return Err(Error::NotConverged {
                what: "incremental logistic fit (line search)",
                iterations: iter,
                residual: full_step,
            });
        }
        std::mem::swap(&mut beta, &mut cand);
        step = t * full_step;
        // converged: the step is below tolerance, or a full Newton step was
        // taken whose predicted gain is at the level of rounding (the
        // remaining change lies along directions the data barely determine,
        // e.g. collinear features under a tiny penalty)
        if step <= config.tolerance || (t == 1.0 && decrement <= DECREMENT_EPS * (1.0 + obj.abs()))
        {
            return Ok((beta, iter, step, obj));
        }
    }
    Err(Error::NotConverged {
        what: "incremental logistic fit",
        iterations: config.max_iterations,
        residual: step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::shape::Coefs;
    use crate::incremental::store::{Key, KeyItem};

    /// The design row and the linear predictor must agree for every
    /// feature family, or the fit and the credit would see different models.
    #[test]
    fn design_row_mirrors_eta() {
        let config = IncrementalConfig::new()
            .exposure(crate::incremental::Exposure::Levels)
            .count_cap(3)
            .unwrap()
            .last_touch(true)
            .pairs(Pairs::All)
            .recency_days(2.0)
            .unwrap();
        let k = 3;
        let lay = Layout::new(&config, k);
        assert_eq!(
            (lay.width, lay.last, lay.recent, lay.pairs),
            (3, true, true, true)
        );
        let key = Key {
            items: vec![
                KeyItem {
                    ch: 0,
                    count: 2,
                    rank: 1,
                    recent: false,
                },
                KeyItem {
                    ch: 1,
                    count: 1,
                    rank: 0,
                    recent: true,
                },
                KeyItem {
                    ch: 2,
                    count: 3,
                    rank: 2,
                    recent: true,
                },
            ],
            pairs: vec![(0, 1, 1), (2, 0, 2), (2, 1, 1)],
        };
        let words = key.pack().unwrap();
        let mut shape = Shape::default();
        key_shape(&words, &mut shape);
        let mut x = Vec::new();
        row(&lay, &words, &mut x);
        // arbitrary distinct coefficients
        let full: Vec<f64> = (0..lay.total())
            .map(|i| 0.01 * (i as f64 + 1.0).sqrt())
            .collect();
        let coefs = Coefs {
            k,
            width: 3,
            intercept: full[0],
            exposure: (0..k * 3).map(|i| full[lay.expo(i / 3, i % 3)]).collect(),
            last: (0..k).map(|c| full[lay.last_col(c)]).collect(),
            recent: (0..k).map(|c| full[lay.recent_col(c)]).collect(),
            pair: (0..k * k)
                .map(|i| full[lay.pair_col(i / k, i % k)])
                .collect(),
        };
        let dot: f64 = x.iter().map(|&(j, v)| full[j] * v).sum();
        let eta = coefs.eta(&config, &shape, |_| true);
        // the cached-terms predictor gives the same bits for every subset
        let (mut terms, mut ends) = (Vec::new(), Vec::new());
        coefs.item_terms(&config, &shape, &mut terms, &mut ends);
        for m in 0..8_usize {
            let present = |i: usize| m >> i & 1 == 1;
            assert_eq!(
                coefs.eta(&config, &shape, present).to_bits(),
                coefs
                    .eta_terms(&config, &shape, &terms, &ends, present)
                    .to_bits()
            );
        }
        assert!((dot - eta).abs() < 1e-12, "{dot} {eta}");
        // 1 + exposure levels (2 + 1 + 3) + last + 2 recency + 3 pairs
        assert_eq!(x.len(), 1 + 6 + 1 + 2 + 3);
        // removing channel 1 (the last touch) moves the last touch to channel 0
        let without = coefs.eta(&config, &shape, |i| i != 1);
        let expected = full[0]
            + full[lay.expo(0, 0)]
            + full[lay.expo(0, 1)]
            + full[lay.expo(2, 0)]
            + full[lay.expo(2, 1)]
            + full[lay.expo(2, 2)]
            + full[lay.last_col(0)]
            + full[lay.recent_col(2)]
            + full[lay.pair_col(2, 0)];
        assert!((without - expected).abs() < 1e-12);
    }
}
