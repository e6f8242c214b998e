//! Automatic configuration of the incremental model ([`select`]).

use serde::{Deserialize, Serialize};

use super::config::{CreditRule, Exposure, IncrementalConfig, Pairs};
use super::model::Incremental;
use super::partial::IncrementalPartial;
use super::solve;
use crate::dataset::JourneySet;
use crate::error::{Error, Result};
use crate::hash::{fnv1a as fnv1a64, splitmix64_at as splitmix64};

/// Settings of [`select`]: the candidate configurations, the number of
/// folds and the seed of the fold assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectConfig {
    candidates: Vec<(String, IncrementalConfig)>,
    order_stage: bool,
    folds: u32,
    seed: u64,
}

impl Default for SelectConfig {
    fn default() -> SelectConfig {
        let levels = IncrementalConfig::new()
            .exposure(Exposure::Levels)
            .count_cap(4)
            .unwrap_or_default();
        SelectConfig {
            candidates: vec![
                ("log1p".to_owned(), IncrementalConfig::new()),
                ("levels4".to_owned(), levels),
            ],
            order_stage: true,
            folds: 2,
            seed: 0,
        }
    }
}

impl SelectConfig {
    /// The default candidates (`log1p`: the default configuration;
    /// `levels4`: [`Exposure::Levels`] with a cap of 4), then the order
    /// stage (the better of the two with the last-touch and order-pair
    /// features that pass the screen of [`select`], labelled `+order`), 2
    /// folds, seed 0.
    pub fn new() -> SelectConfig {
        SelectConfig::default()
    }

    /// Replaces the candidates: `(label, configuration)` pairs, tried in
    /// order (ties go to the earlier one). Turns the order stage off (turn
    /// it back on with [`order_stage`](Self::order_stage)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`candidates`) if empty.
    pub fn candidates(self, candidates: Vec<(String, IncrementalConfig)>) -> Result<SelectConfig> {
        if candidates.is_empty() {
            return Err(Error::param("candidates", 0, "at least one configuration"));
        }
        Ok(SelectConfig {
            candidates,
            order_stage: false,
            ..self
        })
    }

    /// Whether, after the candidates, the best of them is tried again with
    /// the order features that pass a score-test screen (last touch, and
    /// the order pairs of [`Pairs::All`] with evidence, see [`select`]) as
    /// one more candidate (default on). Order features multiply the fit's
    /// cost (up to `K²` pair coefficients for `K` channels), so they are
    /// tried once, on the best exposure, and only those the data support.
    /// The stage needs the candidates' patterns to be projectable from one
    /// counting pass (the same recency window, all or none with
    /// [`Exposure::Presence`]); otherwise it is skipped.
    #[must_use]
    pub fn order_stage(self, on: bool) -> SelectConfig {
        SelectConfig {
            order_stage: on,
            ..self
        }
    }

    /// The number of folds (default 2).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`folds`) unless in `2..=20`.
    pub fn folds(self, folds: u32) -> Result<SelectConfig> {
        if !(2..=20).contains(&folds) {
            return Err(Error::param("folds", folds, "2 to 20"));
        }
        Ok(SelectConfig { folds, ..self })
    }

    /// The seed of the fold assignment (default 0).
    #[must_use]
    pub fn seed(self, seed: u64) -> SelectConfig {
        SelectConfig { seed, ..self }
    }

    /// Whether the order stage is on.
    pub fn get_order_stage(&self) -> bool {
        self.order_stage
    }
    /// The candidates.
    pub fn get_candidates(&self) -> &[(String, IncrementalConfig)] {
        &self.candidates
    }
    /// The number of folds.
    pub fn get_folds(&self) -> u32 {
        self.folds
    }
    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }
}

/// One candidate's result in a [`Selection`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The candidate's label.
    pub label: String,
    /// Its configuration.
    pub config: IncrementalConfig,
    /// Mean held-out log-likelihood per journey (higher is better), or
    /// `None` if a fold's fit failed.
    pub score: Option<f64>,
    /// Why a fold's fit failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What [`select`] found: every candidate's score, the chosen one and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Every candidate, in the order tried.
    pub candidates: Vec<CandidateScore>,
    /// Index of the chosen candidate.
    pub chosen: usize,
    /// Why, in one sentence.
    pub reason: String,
    /// Folds used.
    pub folds: u32,
}

impl Selection {
    /// The chosen configuration.
    pub fn config(&self) -> &IncrementalConfig {
        &self.candidates[self.chosen].config
    }
    /// The chosen candidate's label.
    pub fn label(&self) -> &str {
        &self.candidates[self.chosen].label
    }
}

/// The fold of a journey id.
pub(crate) fn fold_of(seed: u64, id: &str, folds: u32) -> usize {
    (splitmix64(seed ^ fnv1a64(id.as_bytes())) % u64::from(folds)) as usize
}

/// Chooses a configuration for `set` and fits it on every journey.
///
/// # Method
///
/// Each journey goes to fold `splitmix64(seed ⊕ fnv1a64(id)) mod K`: a pure
/// function of its id, so the folds (and every score) are the same bits
/// whatever the order, sharding or thread count. One pass over the
/// journeys counts the feature patterns of each fold under a configuration
/// that holds every candidate's features (the largest count cap, last
/// touch, every order pair); each candidate's fold partials are
/// projections of those patterns (counts capped again, ranks and pairs it
/// does not use dropped, equal patterns merged: the partials counting the
/// candidate itself would give, with no second pass over the journeys).
/// The training set of fold `f` is the merge of the other folds' partials;
/// the model is fitted on it and scored on fold `f`'s patterns by the mean
/// held-out log-likelihood per journey,
///
/// ```text
/// score = (1 / N) Σ_f Σ_{j ∈ fold f} [ y_j ln p̂_{−f}(j) + (1 − y_j) ln(1 − p̂_{−f}(j)) ]
/// ```
///
/// (`p̂_{−f}` fitted without fold `f`; the sum runs over patterns in sorted
/// order, so it is deterministic). The candidate with the highest score is
/// chosen (ties go to the earlier, simpler candidate); it is then fitted on
/// every journey. Fold fits stop at a coefficient step of `1e-6` (only
/// their held-out scores are used); each fold's fit after the first, and
/// the final fit, start Newton from the previous fit's coefficients: the
/// same optimum to the solver's tolerance in fewer steps (so the final
/// model agrees with [`fit`](super::fit) of the chosen configuration to
/// the tolerance, not bit for bit; it is the same bits for the same
/// journeys in any order). A candidate whose fit fails on some fold is
/// reported with its error and not chosen.
///
/// The default candidates ([`SelectConfig::new`]) span what the accuracy
/// studies found to matter, in two stages: the exposure transform
/// (`ln(1 + n)`, or free levels up to 4 touches), then the better of the two
/// with the order features that pass a **screen** on every journey (label
/// `+order`): with `N` journeys and the better candidate fitted on all of
/// them,
///
/// 1. the last-touch features (closing bonuses, as sum-to-zero contrasts)
///    are kept if some channel's closing indicator has a score statistic
///    `U² / I` above `ln(N)` at that fit (`U = Σ x (y − n p̂)` and
///    `I = Σ n p̂ (1 − p̂) x²` over the patterns: the score test of adding
///    the feature, and `ln(N)` the BIC's price of one more coefficient);
/// 2. then, with the kept last-touch features fitted (so that a pair does
///    not pass for standing in for a closing bonus), each ordered pair
///    "b after a" is kept if its own statistic is above `ln(N)`.
///
/// The candidate is the base with what was kept ([`Pairs::Only`] the kept
/// pairs) and [`CreditRule::Calibrated`] credit, scored on the folds
/// like the others. When nothing passes it is listed with that reason and
/// no score (it would be the base again). The screen sees every journey,
/// the held-out folds included, so the order candidate's score is slightly
/// optimistic; only features whose evidence exceeds the BIC price pass, and
/// the threshold grows with `N`. A pair seen but not kept costs nothing:
/// with 36 channels the full pair set is 1,260 coefficients, a dense
/// `P × P` Newton solve; the screen keeps the few the data support (on the
/// simulator's `order_matters` preset at 100,000 journeys, the one true
/// pair, display before retargeting, and the closing bonuses). Recency,
/// other caps and penalties are left to explicit candidates
/// ([`SelectConfig::candidates`]).
///
/// # Cost
///
/// One counting pass with every order pair (about 2-3 times a plain
/// pass), then per candidate `K` fits on `(K − 1)/K` of the patterns;
/// the better base fitted on everything (the final model when it wins);
/// the screen (two passes over the patterns, one fit with the last-touch
/// features when they pass); the order candidate's `K` fold fits, and its
/// fit on everything when it wins. Measured against one default fit on
/// 100,000 journeys (`cargo bench --bench incremental -- select_vs_fit`,
/// one run on a loaded machine): 4.3x with 12 channels (`sample_like`),
/// 3.4x with 36 channels (`many_channels`), 8.3x with 6 channels where
/// the order candidate wins (`order_matters`: the default fit is cheap
/// there, 6 coefficients, and the winner has 30).
///
/// # Errors
///
/// The chosen candidate's fit errors on the whole set (for example
/// [`Error::InsufficientData`] without both converting and non-converting
/// journeys). When no candidate can be scored (folds too small to fit),
/// the first candidate is fitted on every journey and the
/// [`Selection::reason`] says so; [`Error::IncompatiblePartials`] / [`Error::Overflow`] as
/// [`IncrementalPartial::observe_set`].
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::incremental::{self, SelectConfig};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let mut js = Vec::new();
/// for i in 0..2000 {
///     let mut j = SimpleJourney::new(format!("j{i}"));
///     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
///     if i % 3 == 0 { j = j.touch(SimpleTouch::new("display", t)); }
///     if (i % 2 == 0 && i % 10 < 6) || i % 20 == 1 { j = j.converted(10.0); }
///     js.push(j);
/// }
/// let set = JourneySet::from_journeys(&js)?;
/// let (model, selection) = incremental::select(&set, SelectConfig::new())?;
/// assert_eq!(selection.candidates.len(), 3); // log1p, levels4, best + order
/// assert!(selection.candidates[..2].iter().all(|c| c.score.is_some()));
/// // no order in these journeys: the screen keeps no order feature
/// assert!(selection.candidates[2].error.as_deref().unwrap().contains("screen"));
/// assert_eq!(model.config(), selection.config());
/// println!("{}", selection.reason);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select(set: &JourneySet, config: SelectConfig) -> Result<(Incremental, Selection)> {
    let k = config.folds as usize;
    let fold: Vec<usize> = set
        .iter()
        .map(|j| fold_of(config.seed, j.id(), config.folds))
        .collect();
    let mut scores: Vec<CandidateScore> = Vec::with_capacity(config.candidates.len() + 1);
    let mut runs: Vec<Scored> = Vec::new();
    // one counting pass for every candidate when their features can be read
    // off one richer set of patterns (see `Source`)
    let source = Source::new(set, &config, &fold, k)?;
    let journeys = set.len() as f64;
    let push = |label: &str,
                cand: IncrementalConfig,
                ll: std::result::Result<f64, String>,
                scores: &mut Vec<CandidateScore>| {
        let (score, error) = match ll {
            Ok(ll) => (Some(ll / journeys.max(1.0)), None),
            Err(e) => (None, Some(e)),
        };
        scores.push(CandidateScore {
            label: label.to_owned(),
            config: cand,
            score,
            error,
        });
    };
    for (label, cand) in &config.candidates {
        let (ll, run) = score_candidate(set, source.as_ref(), cand, &fold, k, None)?;
        push(label, cand.clone(), ll, &mut scores);
        runs.push(run);
    }
    if config.order_stage
        && let Some(best) = best_of(&scores)
        && let Some(source) = &source
    {
        let (label, base) = (scores[best].label.clone(), scores[best].config.clone());
        let label = format!("{label}+order");
        match screen_order(source, &base, &mut runs[best])? {
            Ok((cand, warm)) => {
                // warm start: the screen's fit (closing bonuses included)
                let (ll, run) = score_candidate(set, Some(source), &cand, &fold, k, Some(&warm))?;
                push(&label, cand, ll, &mut scores);
                runs.push(run);
            }
            Err(why) => {
                let cand = base.last_touch(true).pairs(Pairs::All);
                push(&label, cand, Err(why), &mut scores);
                runs.push(Scored::default());
            }
        }
    }
    let Some(chosen) = best_of(&scores) else {
        // too few journeys to score anything on held-out folds: the first
        // candidate on every journey (its fit's warnings say why to doubt it)
        let model = runs[0]
            .total(source.as_ref())?
            .ok_or_else(|| Error::InsufficientData {
                reason: "no journeys to select a configuration on".into(),
            })?
            .finish()?;
        let reason = format!(
            "no candidate could be scored on {k} held-out folds ({}); fell back to the first, {}",
            scores
                .iter()
                .map(|s| format!("{}: {}", s.label, s.error.as_deref().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join("; "),
            scores[0].label
        );
        return Ok((
            model,
            Selection {
                candidates: scores,
                chosen: 0,
                reason,
                folds: config.folds,
            },
        ));
    };
    let best = scores[chosen].score.unwrap_or(f64::NAN);
    let runner_up = scores
        .iter()
        .enumerate()
        .filter(|&(i, s)| i != chosen && s.score.is_some())
        .max_by(|a, b| {
            a.1.score
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&b.1.score.unwrap_or(f64::NEG_INFINITY))
        });
    let reason = match runner_up {
        Some((_, r)) => format!(
            "{} has the highest held-out log-likelihood over {k} folds keyed by journey id: \
             {best:.6} per journey, {:.6} ({:.1} in total over {} journeys) above the next, {}",
            scores[chosen].label,
            best - r.score.unwrap_or(f64::NAN),
            (best - r.score.unwrap_or(f64::NAN)) * journeys,
            set.len(),
            r.label
        ),
        None => format!(
            "{} is the only candidate that could be fitted on every fold ({best:.6} per journey)",
            scores[chosen].label
        ),
    };
    let mut run = runs.swap_remove(chosen);
    let model = match run.full.take() {
        Some(m) => m,
        None => {
            run.total(source.as_ref())?;
            let total = run.total.as_ref().ok_or_else(|| Error::InsufficientData {
                reason: "the chosen candidate has no data".into(),
            })?;
            match run.folds.iter().rev().flatten().next() {
                Some(m) => total.finish_from(m)?,
                None => total.finish()?,
            }
        }
    };
    Ok((
        model,
        Selection {
            candidates: scores,
            chosen,
            reason,
            folds: config.folds,
        },
    ))
}

/// What scoring one candidate leaves for the final fit: the partial of
/// every journey, each fold's model (`None` after a failed fold), and the
/// model on every journey when scoring already fitted it (the order
/// candidate).
#[derive(Default)]
struct Scored {
    /// The candidate's configuration.
    config: IncrementalConfig,
    /// Its partial of every journey (`None` until needed when it is a
    /// projection of the shared patterns).
    total: Option<IncrementalPartial>,
    folds: Vec<Option<Incremental>>,
    full: Option<Incremental>,
}

/// The index of the best score (ties to the earlier candidate).
fn best_of(scores: &[CandidateScore]) -> Option<usize> {
    (0..scores.len())
        .filter(|&i| scores[i].score.is_some())
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if scores[b].score >= scores[i].score => Some(b),
            _ => Some(i),
        })
}

/// The patterns of every journey under a configuration whose features
/// include every candidate's (the largest count cap, last touch, every
/// order pair when the order stage is on), counted once per fold: each
/// candidate's fold partials are projections of these
/// ([`IncrementalPartial::project`]), with no further pass over the
/// journeys.
struct Source {
    folds: Vec<IncrementalPartial>,
    total: IncrementalPartial,
}

impl Scored {
    /// The candidate's partial of every journey: counted, or projected from
    /// `source` now.
    fn total(&mut self, source: Option<&Source>) -> Result<Option<&IncrementalPartial>> {
        if self.total.is_none()
            && let Some(src) = source
        {
            self.total = Some(Source::project(&src.total, &self.config)?);
        }
        Ok(self.total.as_ref())
    }
}

impl Source {
    /// `None` when the candidates differ in what the patterns cannot
    /// project (the recency window, or presence against counts): then each
    /// candidate is counted on its own.
    fn new(
        set: &JourneySet,
        config: &SelectConfig,
        fold: &[usize],
        k: usize,
    ) -> Result<Option<Source>> {
        let Some(first) = config.candidates.first().map(|c| &c.1) else {
            return Ok(None);
        };
        let all =
            |f: &dyn Fn(&IncrementalConfig) -> bool| config.candidates.iter().all(|c| f(&c.1));
        let presence = first.exposure == Exposure::Presence;
        if !all(&|c| {
            c.recency_ms == first.recency_ms && (c.exposure == Exposure::Presence) == presence
        }) {
            return Ok(None);
        }
        let cap = config
            .candidates
            .iter()
            .map(|c| c.1.count_cap)
            .max()
            .unwrap_or(first.count_cap);
        let order = config.order_stage;
        let mut wide = first
            .clone()
            .count_cap(cap)?
            .last_touch(order || !all(&|c| !c.last_touch));
        wide = if order || !all(&|c| c.pairs == Pairs::None) {
            wide.pairs(Pairs::All)
        } else {
            wide.pairs(Pairs::None)
        };
        let folds = IncrementalPartial::observe_folds(set, &wide, fold, k)?;
        let mut total = IncrementalPartial::new(&wide);
        for p in &folds {
            total.merge(p)?;
        }
        Ok(Some(Source { folds, total }))
    }

    /// `part` projected on `config` (which the source holds by
    /// construction).
    fn project(
        part: &IncrementalPartial,
        config: &IncrementalConfig,
    ) -> Result<IncrementalPartial> {
        part.project(config)?
            .ok_or_else(|| Error::InsufficientData {
                reason: "the candidate's features cannot be read off the shared patterns".into(),
            })
    }
}

/// Tolerance of the fold fits: only their held-out log-likelihoods are
/// used (and their coefficients as warm starts), which a coefficient
/// change below `1e-6` moves by far less than any difference between
/// candidates.
const FOLD_TOLERANCE: f64 = 1e-6;

/// Tolerance of the screen's fit with the last-touch features: its
/// coefficients only set the score statistics of the pairs, which a change
/// below `1e-3` moves by a small fraction of the `ln(N)` threshold.
const SCREEN_TOLERANCE: f64 = 1e-3;

/// One candidate: the summed held-out log-likelihood over the folds (or
/// why a fold's fit failed) and what the final fit needs. Its fold
/// partials are projections of `source` when given, else one counting
/// pass over `set`; `warm` starts the first fold's Newton.
fn score_candidate(
    set: &JourneySet,
    source: Option<&Source>,
    cand: &IncrementalConfig,
    fold: &[usize],
    k: usize,
    warm: Option<&Incremental>,
) -> Result<(std::result::Result<f64, String>, Scored)> {
    let loose = cand.clone().tolerance(cand.tolerance.max(FOLD_TOLERANCE))?;
    let (parts, total) = match source {
        Some(src) => (
            src.folds
                .iter()
                .map(|p| Source::project(p, &loose))
                .collect::<Result<Vec<_>>>()?,
            None,
        ),
        None => {
            let parts = IncrementalPartial::observe_folds(set, &loose, fold, k)?;
            let mut total = IncrementalPartial::new(cand);
            total.observe_set(set)?;
            (parts, Some(total))
        }
    };
    let mut run = Scored {
        config: cand.clone(),
        total,
        folds: Vec::with_capacity(k),
        full: None,
    };
    let mut ll = 0.0_f64;
    for f in 0..k {
        let train = training(&loose, &parts, f)?;
        // warm start from the previous fold's fit (same optimum to the
        // tolerance, fewer Newton steps)
        let start = run.folds.last().and_then(Option::as_ref).or(warm);
        let fitted = train.finish_lean(start);
        match fitted {
            Ok(m) => {
                ll += m.held_out_log_likelihood(&parts[f].sorted());
                run.folds.push(Some(m));
            }
            Err(e) => {
                run.folds.clear();
                return Ok((Err(format!("fold {f}: {e}")), run));
            }
        }
    }
    if !ll.is_finite() {
        run.folds.clear();
        return Ok((Err("held-out log-likelihood not finite".into()), run));
    }
    Ok((Ok(ll), run))
}

/// The training set of fold `f`: the merge of the other folds' partials.
fn training(
    cand: &IncrementalConfig,
    parts: &[IncrementalPartial],
    f: usize,
) -> Result<IncrementalPartial> {
    if let [a, b] = parts {
        // two folds: the other one as it is (a copy, no re-insertion)
        return Ok(if f == 0 { b.clone() } else { a.clone() });
    }
    let mut train = IncrementalPartial::new(cand);
    for (g, p) in parts.iter().enumerate() {
        if g != f {
            train.merge(p)?;
        }
    }
    Ok(train)
}

/// The order candidate of `base` (see [`select`]): `base` fitted on every
/// journey (kept in `run` as its final model), then the last-touch
/// features if some channel's closing indicator has a score statistic
/// above `ln(N)` at that fit, then the order pairs whose statistic at the
/// fit with the kept last-touch features is above `ln(N)` (`N` journeys).
/// The candidate keeps the base's own order features and adds the kept
/// ones. `Err` with the reason when the screen keeps nothing, when the
/// base already has every order feature, or when a fit fails.
fn screen_order(
    source: &Source,
    base: &IncrementalConfig,
    run: &mut Scored,
) -> Result<std::result::Result<(IncrementalConfig, Incremental), String>> {
    run.total(Some(source))?;
    let Some(total) = &run.total else {
        return Ok(Err("the base candidate has no data".into()));
    };
    let warm = run.folds.iter().rev().flatten().next();
    let fitted = match warm {
        Some(m) => total.finish_from(m),
        None => total.finish(),
    };
    let mut fit = match fitted {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("all journeys: {e}"))),
    };
    run.full = Some(fit.clone());
    if base.last_touch && matches!(base.pairs, Pairs::All) {
        return Ok(Err(
            "the base candidate already has every order feature".into()
        ));
    }
    #[expect(clippy::cast_precision_loss, reason = "journey counts below 2^53")]
    let threshold = (source.total.journeys() as f64).ln();
    let sorted = source.total.sorted();
    let (last, _) = solve::order_scores(&sorted, &fit);
    let last = base.last_touch || last.iter().any(|&s| s > threshold);
    if last && !base.last_touch {
        // the pairs are screened with the closing bonuses fitted, so that
        // a pair does not pass for standing in for them
        let with_last = base
            .clone()
            .last_touch(true)
            .tolerance(base.tolerance.max(SCREEN_TOLERANCE))?;
        fit = match Source::project(&source.total, &with_last)?.finish_lean(Some(&fit)) {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("all journeys, last touch: {e}"))),
        };
    }
    let (_, pairs) = solve::order_scores(&sorted, &fit);
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|&(_, stat)| stat > threshold)
        .map(|((a, b), _)| (sorted.channels[a].clone(), sorted.channels[b].clone()))
        .collect();
    if last == base.last_touch && pairs.is_empty() {
        return Ok(Err(format!(
            "no order feature passed the screen (score statistic above ln(N) = {threshold:.1}): \
             the same model as without"
        )));
    }
    // the base's own pairs stay (they score about 0 at its own fit, so
    // the screen never keeps them): the candidate adds to the base
    let pairs = match &base.pairs {
        Pairs::All => Pairs::All,
        Pairs::Only(own) => {
            let mut all = own.clone();
            all.extend(pairs.into_iter().filter(|p| !own.contains(p)));
            Pairs::Only(all)
        }
        Pairs::None if pairs.is_empty() => Pairs::None,
        Pairs::None => Pairs::Only(pairs),
    };
    let cand = base
        .clone()
        .last_touch(last)
        .pairs(pairs)
        .credit(CreditRule::Calibrated);
    Ok(Ok((cand, fit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SimpleJourney, SimpleTouch};

    /// `n` journeys touching `channels` in this order, `conv` converting.
    fn cell(tag: &str, channels: &[&str], n: usize, conv: usize) -> Vec<SimpleJourney> {
        let t0: chrono::DateTime<chrono::Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        (0..n)
            .map(|i| {
                let mut j = SimpleJourney::new(format!("{tag}-{i}"));
                for (h, c) in channels.iter().enumerate() {
                    j = j.touch(SimpleTouch::new(*c, t0 + chrono::Duration::hours(h as i64)));
                }
                if i < conv { j.converted(1.0) } else { j }
            })
            .collect()
    }

    /// The screen's score statistics by hand. Presence effects on exact
    /// logistic rates (no touch 0.1, `a` 0.5, `b` 0.25, both 0.75), but the
    /// 200 journeys with both split by order: `a b` 90 of 100 convert,
    /// `b a` 60 of 100. The fit without order features pools them at
    /// `μ = 0.75`, so for the pair "b after a" `U = 90 − 75 = 15`,
    /// `I = 100 · 0.75 · 0.25 = 18.75`, statistic `15² / 18.75 = 12`, and
    /// the same for "a after b" (`U = −15`). Closers: `a` closes the
    /// `a`-only journeys (`U = 0`, `I = 25`) and `b a` (`U = −15`,
    /// `I = 18.75`): `225 / 43.75 = 5.142857`; `b` closes `b`-only (`U = 0`,
    /// `I = 18.75`) and `a b` (`U = 15`): `225 / 37.5 = 6`.
    #[test]
    fn score_statistics_by_hand() {
        let mut js = cell("none", &[], 100, 10);
        js.extend(cell("a", &["a"], 100, 50));
        js.extend(cell("b", &["b"], 100, 25));
        js.extend(cell("ab", &["a", "b"], 100, 90));
        js.extend(cell("ba", &["b", "a"], 100, 60));
        let set = JourneySet::from_journeys(&js).unwrap();
        let presence = IncrementalConfig::new()
            .l2(1e-9)
            .unwrap()
            .exposure(Exposure::Presence);
        let wide = presence.clone().last_touch(true).pairs(Pairs::All);
        let mut source = IncrementalPartial::new(&wide);
        source.observe_set(&set).unwrap();
        let base = source
            .project(&presence)
            .unwrap()
            .unwrap()
            .finish()
            .unwrap();
        let (last, pairs) = solve::order_scores(&source.sorted(), &base);
        let eps = 1e-5;
        assert!((last[0] - 225.0 / 43.75).abs() < eps, "{last:?}");
        assert!((last[1] - 6.0).abs() < eps, "{last:?}");
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[0].0, pairs[1].0), ((0, 1), (1, 0)));
        assert!(pairs.iter().all(|p| (p.1 - 12.0).abs() < eps), "{pairs:?}");
        // ln(500) = 6.2: both pairs pass, neither closer does; the order
        // candidate has the pairs, no last-touch features, and wins
        let config = SelectConfig::new()
            .candidates(vec![("presence".into(), presence)])
            .unwrap()
            .order_stage(true);
        let (model, sel) = select(&set, config).unwrap();
        assert_eq!(sel.candidates.len(), 2);
        let order = sel.candidates[1].config.clone();
        assert!(!order.get_last_touch());
        assert_eq!(
            order.get_pairs(),
            &Pairs::Only(vec![
                ("a".to_owned(), "b".to_owned()),
                ("b".to_owned(), "a".to_owned())
            ])
        );
        assert_eq!(sel.chosen, 1, "{}", sel.reason);
        assert_eq!(model.config(), &order);
    }

    /// The order candidate adds to the base's own order features: the
    /// screen runs at the base's fit with its pair, and a base with every
    /// order feature gets no order candidate.
    #[test]
    fn the_order_candidate_keeps_the_base_features() {
        let mut js = cell("none", &[], 100, 10);
        js.extend(cell("a", &["a"], 100, 50));
        js.extend(cell("b", &["b"], 100, 25));
        js.extend(cell("ab", &["a", "b"], 100, 90));
        js.extend(cell("ba", &["b", "a"], 100, 60));
        let set = JourneySet::from_journeys(&js).unwrap();
        let presence = IncrementalConfig::new()
            .l2(1e-9)
            .unwrap()
            .exposure(Exposure::Presence);
        let own = vec![("b".to_owned(), "a".to_owned())];
        let with_pair = presence.clone().pairs(Pairs::Only(own.clone()));
        let config = SelectConfig::new()
            .candidates(vec![("pair".into(), with_pair)])
            .unwrap()
            .order_stage(true);
        let (_, sel) = select(&set, config).unwrap();
        // with "b before a" fitted, its mirror "a before b" says nothing
        // more (every journey with both has exactly one of them): without
        // the base's pair kept in the screen's fit, the mirror would pass
        // with a statistic of 12 > ln(500) (see `score_statistics_by_hand`)
        let order = &sel.candidates[1];
        assert!(order.score.is_none(), "{order:?}");
        assert!(
            order
                .error
                .as_deref()
                .unwrap()
                .contains("no order feature passed"),
            "{order:?}"
        );
        let full = presence.last_touch(true).pairs(Pairs::All);
        let config = SelectConfig::new()
            .candidates(vec![("full".into(), full)])
            .unwrap()
            .order_stage(true);
        let (_, sel) = select(&set, config).unwrap();
        let order = &sel.candidates[1];
        assert!(order.score.is_none());
        assert!(
            order
                .error
                .as_deref()
                .unwrap()
                .contains("every order feature"),
            "{order:?}"
        );
    }
}
