//! The penalized Newton (IRLS) fit and the fitted model [`Incremental`].

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::config::{CreditRule, IncrementalConfig, Pairs};
use super::partial::{IncrementalPartial, Sorted, item_of, key_parts, pair_of};
use super::shape::{Coefs, Item, Shape, UNKNOWN, sigmoid, softplus};
use crate::dataset::{JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};

/// Journeys with at most this many distinct channels get exact Shapley
/// credit (`2^k` model evaluations); longer ones fall back to
/// [`CreditRule::Removal`].
pub const SHAPLEY_EXACT_LIMIT: usize = 14;

/// One channel's expected incremental effect over all journeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelEffect {
    name: String,
    journeys: u64,
    conversions: f64,
    value: f64,
}

impl ChannelEffect {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Journeys (converting or not) in which the channel appears.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Expected incremental conversions, `Σ_j p_j(all) - p_j(all without c)`
    /// over every journey `j` with the channel. A raw estimate: it is
    /// negative when the fitted effect is negative (often noise around a
    /// zero effect).
    pub fn incremental_conversions(&self) -> f64 {
        self.conversions
    }
    /// Expected incremental value: the incremental conversions times the
    /// mean value of a conversion in the data (major units). Assumes the
    /// value of a conversion does not depend on the channels; may be
    /// negative like the conversions.
    pub fn incremental_value(&self) -> f64 {
        self.value
    }
}

/// How the fit went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitDiagnostics {
    /// Journeys fitted on.
    pub journeys: u64,
    /// Converted journeys among them.
    pub conversions: u64,
    /// Distinct feature patterns (rows of the fit).
    pub patterns: usize,
    /// Coefficients fitted (the intercept and every feature seen non-zero).
    pub features: usize,
    /// Newton iterations performed.
    pub iterations: usize,
    /// Largest coefficient change of the last Newton step (`<= tolerance`,
    /// unless the fit stopped on the Newton-decrement rule; see
    /// [`IncrementalConfig::tolerance`]).
    pub last_step: f64,
    /// The penalized log-likelihood at the optimum.
    pub penalized_log_likelihood: f64,
    /// Journeys in which some channel's count exceeded the count cap (and
    /// was counted as the cap).
    pub capped_journeys: u64,
    /// What the data cannot support (few journeys for the features, a
    /// coefficient set mostly by the penalty, a rarely seen channel): read
    /// these before trusting the figures. Empty when nothing is wrong.
    #[serde(default)]
    pub warnings: Vec<FitWarning>,
}

/// Converting and non-converting journeys wanted per fitted coefficient
/// before [`FitWarning::FewJourneys`] is raised (the usual "events per
/// variable" rule of thumb for logistic regression).
pub const JOURNEYS_PER_FEATURE: u64 = 20;

/// Share of a coefficient's curvature supplied by the penalty,
/// `λ / (λ + Σ_j w_j x_jk²)`, above which [`FitWarning::LeansOnPenalty`]
/// lists it: the data determine less than 90% of it.
pub const PENALTY_SHARE_LIMIT: f64 = 0.1;

/// A channel seen on fewer journeys than this, or with fewer than
/// [`RARE_CHANNEL_OUTCOMES`] converting or non-converting journeys, raises
/// [`FitWarning::RareChannel`].
pub const RARE_CHANNEL_JOURNEYS: u64 = 20;

/// See [`RARE_CHANNEL_JOURNEYS`].
pub const RARE_CHANNEL_OUTCOMES: u64 = 5;

/// Something the data cannot support, found by the fit (in
/// [`FitDiagnostics::warnings`]). The figures are still computed; these
/// say how far to trust them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FitWarning {
    /// Fewer converting or non-converting journeys than
    /// [`JOURNEYS_PER_FEATURE`] per fitted coefficient (the intercept
    /// aside): the effects are mostly the penalty's and the sample's noise.
    FewJourneys {
        /// Converting journeys.
        converting: u64,
        /// Non-converting journeys.
        non_converting: u64,
        /// Coefficients fitted, the intercept aside.
        features: usize,
        /// Journeys of each outcome wanted.
        wanted: u64,
    },
    /// Coefficients for which the penalty supplies more than
    /// [`PENALTY_SHARE_LIMIT`] of the curvature at the optimum: the data say
    /// little about them and the penalty pulls them to 0. Each with its
    /// penalty share (0 to 1), largest first.
    LeansOnPenalty {
        /// `(coefficient, penalty share)`, coefficient named as in
        /// [`Incremental::coefficients`].
        coefficients: Vec<(String, f64)>,
    },
    /// A channel seen on too few journeys, or almost only on converting (or
    /// non-converting) ones, to estimate its effect.
    RareChannel {
        /// The channel.
        channel: String,
        /// Journeys with the channel.
        journeys: u64,
        /// Converting journeys among them.
        conversions: u64,
    },
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitWarning::FewJourneys {
                converting,
                non_converting,
                features,
                wanted,
            } => write!(
                f,
                "few journeys for the features: {converting} converting and {non_converting} \
                 non-converting journeys for {features} coefficients ({wanted} of each wanted); \
                 the effects are unreliable"
            ),
            FitWarning::LeansOnPenalty { coefficients } => {
                write!(
                    f,
                    "{} coefficient(s) set mostly by the penalty, not the data:",
                    coefficients.len()
                )?;
                for (name, share) in coefficients.iter().take(8) {
                    write!(f, " {name} ({:.0}%)", 100.0 * share)?;
                }
                if coefficients.len() > 8 {
                    write!(f, " and {} more", coefficients.len() - 8)?;
                }
                Ok(())
            }
            FitWarning::RareChannel {
                channel,
                journeys,
                conversions,
            } => write!(
                f,
                "channel {channel:?} is on {journeys} journeys ({conversions} converting): \
                 too few to estimate its effect"
            ),
        }
    }
}

/// How the credit of some journeys was decided (see
/// [`Incremental::credit_diagnostics`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditDiagnostics {
    /// Converted journeys with at least one touch.
    pub credited: u64,
    /// Journeys where some channel's raw effect was negative and was
    /// clamped to zero.
    pub clamped: u64,
    /// Journeys where every channel's effect was `<= 0`: split equally over
    /// the touches instead (the linear rule).
    pub equal_split: u64,
    /// Journeys with more than [`SHAPLEY_EXACT_LIMIT`] distinct channels,
    /// credited by single-removal effects instead of Shapley values.
    pub removal_fallback: u64,
}

/// A fitted incremental model: regularized logistic conversion model plus
/// counterfactual credit. Implements [`AttributionModel`], so
/// [`attribute`](crate::attribute) gives a report that reconciles to the
/// cent; [`effects`](Self::effects) gives each channel's expected
/// incremental conversions over all journeys.
///
/// See the [module docs](crate::incremental) for the formulas and a worked
/// example.
#[derive(Debug, Clone, PartialEq)]
pub struct Incremental {
    pub(super) config: IncrementalConfig,
    pub(super) fingerprint: String,
    pub(super) channels: Vec<String>,
    pub(super) coefs: Coefs,
    pub(super) effects: Vec<ChannelEffect>,
    /// `Σ_j p_j(∅)` and `Σ_j p_j(C_j)` over every fitted journey.
    pub(super) baseline_conversions: f64,
    pub(super) expected_conversions: f64,
    /// Mean value of a conversion, major units.
    pub(super) mean_value: f64,
    pub(super) currency_decimals: u8,
    pub(super) diagnostics: FitDiagnostics,
}

/// Reusable buffers of the per-journey credit (no allocation per journey).
#[derive(Debug, Default)]
pub(super) struct Scratch {
    pub(super) shape: Shape,
    /// Raw effects per distinct channel.
    pub(super) raw: Vec<f64>,
    /// Coalition values `v(S)`.
    pub(super) v: Vec<f64>,
    /// Shapley weights by coalition size.
    pub(super) w: Vec<f64>,
    /// Per-item terms of the linear predictor.
    pub(super) terms: Vec<f64>,
    pub(super) ends: Vec<usize>,
}

thread_local! {
    /// One [`Scratch`] per thread for [`AttributionModel::weights`] (which
    /// takes `&self`): no locking, no allocation per journey.
    pub(super) static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

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

/// The shape of a canonical packed key (channel ids are indices into the
/// sorted names), into `shape`.
pub(super) fn key_shape(key: &[u32], shape: &mut Shape) {
    let (items, pairs) = key_parts(key);
    shape.items.clear();
    shape.pairs.clear();
    shape.items.extend(items.iter().map(|&w| {
        let it = item_of(w);
        Item {
            key: it.ch,
            ch: it.ch,
            count: it.count,
            touches: u32::from(it.count),
            recent: it.recent,
            rank: it.rank,
            first: 0,
            last: 0,
        }
    }));
    // items are sorted by channel (the channel id is the top of the word)
    let pos = |ch: u32| {
        items
            .binary_search_by_key(&ch, |&w| item_of(w).ch)
            .map_or(u16::MAX, |i| u16::try_from(i).unwrap_or(u16::MAX))
    };
    shape.pairs.extend(pairs.chunks_exact(2).map(|p| {
        let (a, b, n) = pair_of(p);
        (pos(a), pos(b), n)
    }));
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

/// Penalized log-likelihood.
fn objective(rows: &Rows<'_>, buf: &mut Vec<(usize, f64)>, beta: &[f64], l2: f64) -> f64 {
    let mut ll = 0.0;
    rows.for_each(buf, |x, n, y| {
        let eta: f64 = x.iter().map(|&(j, v)| beta[j] * v).sum();
        ll += y * eta - n * softplus(eta);
    });
    let pen: f64 = beta.iter().skip(1).map(|b| b * b).sum();
    ll - 0.5 * l2 * pen
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
    let map: Vec<Option<usize>> = channels
        .iter()
        .map(|n| prev.channels.binary_search(n).ok())
        .collect();
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
    };
    let start = match prev {
        Some(m) if m.config == *config => start_from(m, &lay, &c.channels, &index, cols),
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
    if totals.conversions < wanted || non_converting < wanted {
        warnings.push(FitWarning::FewJourneys {
            converting: totals.conversions,
            non_converting,
            features,
            wanted,
        });
    }
    if config.l2 > 0.0 {
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
    for (ch, name) in c.channels.iter().enumerate() {
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
        channels: c.channels.clone(),
        coefs,
        effects,
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
    // the configuration and the coefficients' bits identify the fitted model
    let mut fp = format!("{};fit", IncrementalPartial::new(config).fingerprint());
    for (_, b) in model.coefficients() {
        fp.push_str(&format!(";{:x}", b.to_bits()));
    }
    model.fingerprint = fp;
    Ok(model)
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

    /// The configuration it was fitted with.
    pub fn config(&self) -> &IncrementalConfig {
        &self.config
    }

    /// The channels it knows, sorted by name.
    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// Each channel's expected incremental conversions and value over all
    /// fitted journeys, sorted by channel name. Raw estimates: may be
    /// negative.
    pub fn effects(&self) -> &[ChannelEffect] {
        &self.effects
    }

    /// Each channel's share of the expected incremental conversions, with
    /// negative estimates counted as zero: `max(0, Δ_c) / Σ_d max(0, Δ_d)`
    /// (all zero if no estimate is positive). This is the quantity the
    /// simulator's ground truth measures.
    pub fn effect_shares(&self) -> Vec<(String, f64)> {
        let total: f64 = self.effects.iter().map(|e| e.conversions.max(0.0)).sum();
        self.effects
            .iter()
            .map(|e| {
                let s = if total > 0.0 {
                    e.conversions.max(0.0) / total
                } else {
                    0.0
                };
                (e.name.clone(), s)
            })
            .collect()
    }

    /// How the fit went.
    pub fn diagnostics(&self) -> &FitDiagnostics {
        &self.diagnostics
    }

    /// The fitted coefficients with readable names, in layout order:
    /// `intercept`, `exposure:<channel>` (or `exposure:<channel>:<level>`
    /// for [`Exposure::Levels`](super::Exposure::Levels)), `last:<channel>`,
    /// `recent:<channel>`, `before:<a>><b>`. Features never seen are 0 and
    /// omitted for pairs.
    pub fn coefficients(&self) -> Vec<(String, f64)> {
        let c = &self.coefs;
        let mut out = vec![("intercept".to_owned(), c.intercept)];
        for (i, name) in self.channels.iter().enumerate() {
            for l in 0..c.width {
                let label = if c.width == 1 {
                    format!("exposure:{name}")
                } else {
                    format!("exposure:{name}:{}", l + 1)
                };
                out.push((label, c.exposure[i * c.width + l]));
            }
        }
        for (i, name) in self.channels.iter().enumerate() {
            if let Some(&b) = c.last.get(i) {
                out.push((format!("last:{name}"), b));
            }
        }
        for (i, name) in self.channels.iter().enumerate() {
            if let Some(&b) = c.recent.get(i) {
                out.push((format!("recent:{name}"), b));
            }
        }
        for (a, na) in self.channels.iter().enumerate() {
            for (b, nb) in self.channels.iter().enumerate() {
                if let Some(&v) = c.pair.get(a * c.k + b)
                    && v != 0.0
                {
                    out.push((format!("before:{na}>{nb}"), v));
                }
            }
        }
        out
    }

    pub(super) fn view_shape(&self, j: &JourneyView<'_>, shape: &mut Shape) {
        let cat = j.catalog();
        let chans = &self.channels;
        let lookup = |id: crate::ChannelId| -> u32 {
            chans
                .binary_search_by(|n| n.as_str().cmp(cat.channel_name(id)))
                .map_or(UNKNOWN, |i| u32::try_from(i).unwrap_or(UNKNOWN))
        };
        shape.build(
            &self.config,
            j.channels().iter().map(|&c| (c.0, lookup(c))),
            j.timestamps(),
            |_, _| true,
        );
    }

    /// The log-likelihood of the journeys of `held_out` under this model
    /// (built with the same configuration), patterns in sorted order; its
    /// channels are mapped to the model's by name once.
    pub(crate) fn held_out_log_likelihood(&self, held_out: &IncrementalPartial) -> f64 {
        let sorted = held_out.sorted();
        let map: Vec<u32> = sorted
            .channels
            .iter()
            .map(|n| {
                self.channels
                    .binary_search(n)
                    .map_or(UNKNOWN, |i| u32::try_from(i).unwrap_or(UNKNOWN))
            })
            .collect();
        let mut shape = Shape::default();
        let mut ll = 0.0;
        for i in 0..sorted.keys.len() {
            key_shape(sorted.keys.key(i), &mut shape);
            for it in &mut shape.items {
                it.ch = map[it.ch as usize];
            }
            let eta = self.coefs.eta(&self.config, &shape, |_| true);
            let cell = sorted.cell(i);
            #[expect(clippy::cast_precision_loss, reason = "counts below 2^53")]
            let (n, y) = (cell.journeys as f64, cell.conversions as f64);
            ll += y * eta - n * softplus(eta);
        }
        ll
    }

    /// The fitted conversion probability of a journey.
    pub fn predict(&self, journey: &JourneyView<'_>) -> f64 {
        let mut shape = Shape::default();
        self.view_shape(journey, &mut shape);
        sigmoid(self.coefs.eta(&self.config, &shape, |_| true))
    }

    /// Per distinct channel raw effects (Shapley or removal), and whether
    /// the removal fallback was used.
    pub(super) fn raw_effects(&self, scratch: &mut Scratch) -> bool {
        let Scratch {
            shape,
            raw: out,
            v,
            w,
            terms,
            ends,
        } = scratch;
        let shape = &*shape;
        let k = shape.items.len();
        out.clear();
        let cfg = &self.config;
        if self.config.credit == CreditRule::Shapley && k <= SHAPLEY_EXACT_LIMIT {
            let n = 1_usize << k;
            self.coefs.item_terms(cfg, shape, terms, ends);
            v.clear();
            v.extend((0..n).map(|m| {
                sigmoid(
                    self.coefs
                        .eta_terms(cfg, shape, terms, ends, |i| m >> i & 1 == 1),
                )
            }));
            // weight of a coalition of size s: s! (k-s-1)! / k!
            w.clear();
            w.resize(k, 0.0);
            for (s, ws) in w.iter_mut().enumerate() {
                let mut x = 1.0 / k as f64;
                // 1 / (k * C(k-1, s))
                for t in 0..s {
                    x *= (t + 1) as f64 / (k - 1 - t) as f64;
                }
                *ws = x;
            }
            out.resize(k, 0.0);
            for m in 0..n {
                let s = (m as u64).count_ones() as usize;
                for (i, o) in out.iter_mut().enumerate() {
                    if m >> i & 1 == 0 {
                        *o += w[s] * (v[m | 1 << i] - v[m]);
                    }
                }
            }
            false
        } else {
            let full = sigmoid(self.coefs.eta(cfg, shape, |_| true));
            out.extend((0..k).map(|i| full - sigmoid(self.coefs.eta(cfg, shape, |x| x != i))));
            self.config.credit == CreditRule::Shapley
        }
    }

    /// Counts, over the converted journeys of `set`, how credit was decided:
    /// clamped negative effects, equal-split fallbacks, removal fallbacks.
    pub fn credit_diagnostics(&self, set: &JourneySet) -> CreditDiagnostics {
        let mut d = CreditDiagnostics::default();
        let mut scratch = Scratch::default();
        for j in set.iter() {
            if !j.converted() || j.is_empty() {
                continue;
            }
            d.credited += 1;
            self.view_shape(&j, &mut scratch.shape);
            d.removal_fallback += u64::from(self.raw_effects(&mut scratch));
            let raw = &scratch.raw;
            if raw.iter().any(|&x| x < 0.0) {
                d.clamped += 1;
            }
            if raw.iter().all(|&x| x <= 0.0) {
                d.equal_split += 1;
            }
        }
        d
    }
}

impl AttributionModel for Incremental {
    fn name(&self) -> &str {
        "incremental"
    }

    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        SCRATCH.with_borrow_mut(|scratch| {
            self.view_shape(journey, &mut scratch.shape);
            self.raw_effects(scratch);
            let (shape, raw) = (&scratch.shape, &scratch.raw);
            if raw.iter().all(|&x| x <= 0.0 || x.is_nan()) {
                out.equal();
                return Ok(());
            }
            let w = out.weighted();
            let cat_ids = journey.channels();
            for id in cat_ids {
                let i = shape
                    .items
                    .iter()
                    .position(|it| it.key == id.0)
                    .unwrap_or(0);
                let it = &shape.items[i];
                w.push(raw[i].max(0.0) / f64::from(it.touches));
            }
            Ok(())
        })
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
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
                name: e.name.clone(),
                conversions: e.conversions.max(0.0),
                value: e.value.max(0.0),
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
    use crate::incremental::partial::{Canonical, Cell, Key, KeyItem};

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

    #[test]
    fn shapley_weights_sum_to_full_minus_empty() {
        // three channels with an interaction through the logistic link
        let config = IncrementalConfig::new();
        let c = Canonical {
            version: 1,
            config: config.clone(),
            channels: vec!["a".into(), "b".into(), "c".into()],
            patterns: vec![
                (
                    Key {
                        items: vec![],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 5,
                        value: 500,
                    },
                ),
                (
                    Key {
                        items: vec![
                            KeyItem {
                                ch: 0,
                                count: 1,
                                rank: 0,
                                recent: false,
                            },
                            KeyItem {
                                ch: 1,
                                count: 2,
                                rank: 0,
                                recent: false,
                            },
                            KeyItem {
                                ch: 2,
                                count: 1,
                                rank: 0,
                                recent: false,
                            },
                        ],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 60,
                        value: 6000,
                    },
                ),
                (
                    Key {
                        items: vec![KeyItem {
                            ch: 0,
                            count: 1,
                            rank: 0,
                            recent: false,
                        }],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 20,
                        value: 2000,
                    },
                ),
                (
                    Key {
                        items: vec![KeyItem {
                            ch: 1,
                            count: 1,
                            rank: 0,
                            recent: false,
                        }],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 15,
                        value: 1500,
                    },
                ),
            ],
            totals: Cell {
                journeys: 400,
                conversions: 100,
                value: 10_000,
            },
            capped_journeys: 0,
            currency_decimals: 2,
        };
        let m = IncrementalPartial::from_canonical(c.clone())
            .unwrap()
            .finish()
            .unwrap();
        let mut shape = Shape::default();
        key_shape(&c.patterns[1].0.pack().unwrap(), &mut shape);
        let mut scratch = Scratch {
            shape: shape.clone(),
            ..Scratch::default()
        };
        m.raw_effects(&mut scratch);
        let phi = scratch.raw;
        let full = sigmoid(m.coefs.eta(&config, &shape, |_| true));
        let empty = sigmoid(m.coefs.eta(&config, &shape, |_| false));
        let s: f64 = phi.iter().sum();
        assert!((s - (full - empty)).abs() < 1e-12, "{s} {}", full - empty);
        assert!(phi.iter().all(|&x| x > 0.0));
    }
}
