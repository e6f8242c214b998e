//! Automatic configuration of the incremental model ([`select`]).

use serde::{Deserialize, Serialize};

use super::config::{Exposure, IncrementalConfig, Pairs};
use super::model::Incremental;
use super::partial::IncrementalPartial;
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
    /// stage (the better of the two with last-touch and [`Pairs::All`]
    /// features, labelled `+order`), 2 folds, seed 0.
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
    /// the order features (last touch and [`Pairs::All`]) as one more
    /// candidate (default on). Order features multiply the fit's cost (up
    /// to `K²` pair coefficients for `K` channels), so they are tried once,
    /// on the best exposure, rather than beside every candidate.
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
/// whatever the order, sharding or thread count. For every candidate
/// configuration, one pass over the journeys counts the feature patterns of
/// each fold into its own [`IncrementalPartial`]; the training set of fold
/// `f` is the merge of the other folds' partials (patterns merge by adding
/// counts: no second pass over the journeys), the model is fitted on it and
/// scored on fold `f`'s patterns by the mean held-out log-likelihood per
/// journey,
///
/// ```text
/// score = (1 / N) Σ_f Σ_{j ∈ fold f} [ y_j ln p̂_{−f}(j) + (1 − y_j) ln(1 − p̂_{−f}(j)) ]
/// ```
///
/// (`p̂_{−f}` fitted without fold `f`; the sum runs over patterns in sorted
/// order, so it is deterministic). The candidate with the highest score is
/// chosen (ties go to the earlier, simpler candidate); it is then fitted on
/// every journey (the merge of all its folds). Each fold's fit after the
/// first, and the final fit, start Newton from the previous fit's
/// coefficients: the same optimum to the solver's tolerance in fewer
/// steps (so the final model agrees with [`fit`](super::fit) of the chosen
/// configuration to the tolerance, not bit for bit; it is the same bits
/// for the same journeys in any order). A candidate whose fit fails
/// on some fold is reported with its error and not chosen.
///
/// The default candidates ([`SelectConfig::new`]) span what the accuracy
/// studies found to matter, in two stages: the exposure transform
/// (`ln(1 + n)`, or free levels up to 4 touches), then the better of the two
/// with the order features (last touch and every "b after a" pair), all
/// with the default penalty. Recency, other caps and penalties are left to
/// explicit candidates ([`SelectConfig::candidates`]).
///
/// # Cost
///
/// Per candidate, one counting pass and `K` fits on `(K − 1)/K` of the
/// patterns; then one fit of the chosen candidate on everything. With the
/// defaults (3 candidates, 2 folds): 6 fold fits and 1 full fit. A fit with
/// order features costs more than a default fit (up to `K²` pair
/// coefficients, a dense `P × P` solve), so the ratio to one *default* fit
/// depends on the channel count. Measured on 100,000 journeys
/// (`cargo bench --bench incremental -- select_vs_fit`, loaded machine):
/// 8.8x with 12 channels (`sample_like`), 15x with 6 channels where the
/// order candidate wins (`order_matters`), 38x with 36 channels
/// (`many_channels`). Turn the order stage off
/// ([`SelectConfig::order_stage`]) for many channels on a budget.
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
/// assert!(selection.candidates.iter().all(|c| c.score.is_some()));
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
    let mut scores = Vec::with_capacity(config.candidates.len());
    let mut partials: Vec<(Option<IncrementalPartial>, Option<Incremental>)> = Vec::new();
    let journeys = set.len() as f64;
    let mut score_one =
        |label: &str, cand: &IncrementalConfig, scores: &mut Vec<CandidateScore>| -> Result<()> {
            let (score, total, last) = score_candidate(set, cand, &fold, k)?;
            let (score, error) = match score {
                Ok(ll) => (Some(ll / journeys.max(1.0)), None),
                Err(e) => (None, Some(e)),
            };
            scores.push(CandidateScore {
                label: label.to_owned(),
                config: cand.clone(),
                score,
                error,
            });
            partials.push((total, last));
            Ok(())
        };
    for (label, cand) in &config.candidates {
        score_one(label, cand, &mut scores)?;
    }
    if config.order_stage
        && let Some(best) = best_of(&scores)
    {
        let (label, cand) = (scores[best].label.clone(), scores[best].config.clone());
        if !cand.last_touch || cand.pairs != Pairs::All {
            let (label, cand) = (
                format!("{label}+order"),
                cand.last_touch(true).pairs(Pairs::All),
            );
            score_one(&label, &cand, &mut scores)?;
        }
    }
    let Some(chosen) = best_of(&scores) else {
        // too few journeys to score anything on held-out folds: the first
        // candidate on every journey (its fit's warnings say why to doubt it)
        let model = partials[0]
            .0
            .as_ref()
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
    let (total, last) = &partials[chosen];
    let total = total.as_ref().ok_or_else(|| Error::InsufficientData {
        reason: "the chosen candidate has no data".into(),
    })?;
    let model = match last {
        Some(m) => total.finish_from(m)?,
        None => total.finish()?,
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

/// The index of the best score (ties to the earlier candidate).
fn best_of(scores: &[CandidateScore]) -> Option<usize> {
    (0..scores.len())
        .filter(|&i| scores[i].score.is_some())
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if scores[b].score >= scores[i].score => Some(b),
            _ => Some(i),
        })
}

/// One candidate: the summed held-out log-likelihood over the folds (or
/// why a fold's fit failed), the partial of every journey, and the last
/// fold's model (the warm start of the final fit).
#[expect(clippy::type_complexity, reason = "a private helper's tuple")]
fn score_candidate(
    set: &JourneySet,
    cand: &IncrementalConfig,
    fold: &[usize],
    k: usize,
) -> Result<(
    std::result::Result<f64, String>,
    Option<IncrementalPartial>,
    Option<Incremental>,
)> {
    let parts = IncrementalPartial::observe_folds(set, cand, fold, k)?;
    let mut total = IncrementalPartial::new(cand);
    for p in &parts {
        total.merge(p)?;
    }
    let mut ll = 0.0_f64;
    let mut prev: Option<Incremental> = None;
    for f in 0..k {
        let mut train = IncrementalPartial::new(cand);
        for (g, p) in parts.iter().enumerate() {
            if g != f {
                train.merge(p)?;
            }
        }
        // warm start from the previous fold's fit (same optimum to the
        // tolerance, fewer Newton steps)
        let fitted = match &prev {
            Some(m) => train.finish_from(m),
            None => train.finish(),
        };
        match fitted {
            Ok(m) => {
                ll += m.held_out_log_likelihood(&parts[f].sorted());
                prev = Some(m);
            }
            Err(e) => return Ok((Err(format!("fold {f}: {e}")), Some(total), None)),
        }
    }
    if !ll.is_finite() {
        return Ok((
            Err("held-out log-likelihood not finite".into()),
            Some(total),
            None,
        ));
    }
    Ok((Ok(ll), Some(total), prev))
}
