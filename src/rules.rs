//! Journey rules: pure, composable clean-up steps that report what they changed.
//!
//! A [`Rules`] value is an ordered list of steps. [`Rules::apply`] runs them
//! over a [`JourneySet`] and returns a new set plus a [`RulesReport`] that
//! counts, step by step, the touches removed, renamed and the journeys
//! split: nothing is dropped silently.
//!
//! Sorting by time is not a step: every [`JourneySet`] already holds each
//! journey's touches sorted by time, stably (equal timestamps keep their
//! input order).
//!
//! | step | what it does |
//! |---|---|
//! | [`drop_after_conversion`](Rules::drop_after_conversion) | removes touches later than the conversion time (journeys without one are untouched) |
//! | [`lookback_days`](Rules::lookback_days) | keeps touches at most N days before the reference time (the conversion time, else the last touch) |
//! | [`dormancy_split_days`](Rules::dormancy_split_days) | a gap of more than N days between two touches starts a new journey |
//! | [`collapse_repeats`](Rules::collapse_repeats) | consecutive touches on one channel become one (the first; a touch with a milestone is always kept) |
//! | [`map_channels`](Rules::map_channels) | renames channels through a [`ChannelMap`] (e.g. UTM source/medium to a channel group) |
//!
//! # Example
//!
//! ```
//! use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
//! use touchpoint::rules::Rules;
//!
//! let j = SimpleJourney::new("j")
//!     .touch(SimpleTouch::new("display", "2024-01-01T00:00:00Z".parse()?))
//!     .touch(SimpleTouch::new("email", "2024-03-01T00:00:00Z".parse()?))
//!     .touch(SimpleTouch::new("email", "2024-03-02T00:00:00Z".parse()?))
//!     .converted(10.0)
//!     .converted_at("2024-03-03T00:00:00Z".parse()?);
//! let set = JourneySet::from_journeys([&j])?;
//! let rules = Rules::new().lookback_days(30.0)?.collapse_repeats();
//! let (clean, report) = rules.apply(&set)?;
//! assert_eq!(clean.get(0).unwrap().len(), 1); // display too old, emails collapsed
//! assert_eq!(report.touches_removed(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::dataset::{
    Catalog, ChannelId, InternedTouch, Interner, JourneySet, JourneyView, NONE_ID,
};
use crate::error::{Error, Result};

const MS_PER_DAY: f64 = 86_400_000.0;

/// A window of `days` in whole milliseconds (the resolution of timestamps).
fn days_to_ms(parameter: &'static str, days: f64) -> Result<i64> {
    let ms = days * MS_PER_DAY;
    if !(days.is_finite() && (0.5..9.0e18).contains(&ms)) {
        return Err(Error::param(
            parameter,
            days,
            "a finite number of days of at least one millisecond",
        ));
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    Ok((days * MS_PER_DAY).round() as i64)
}

/// What to do with a channel that no mapping rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Unmapped {
    /// Keep the channel name as it is (counted as unmatched in the report).
    #[default]
    Keep,
    /// Rename it to this catch-all group (e.g. `"other"`).
    Rename(String),
}

/// Channel mapping rules, tried in order: exact names first, then prefixes
/// in the order added; the first match wins.
///
/// # Example
///
/// ```
/// use touchpoint::rules::{ChannelMap, Unmapped};
///
/// let map = ChannelMap::new()
///     .exact("google / cpc", "paid_search")
///     .prefix("facebook", "paid_social")
///     .otherwise(Unmapped::Rename("other".into()));
/// assert_eq!(map.map("google / cpc"), Some("paid_search"));
/// assert_eq!(map.map("facebook / paid"), Some("paid_social"));
/// assert_eq!(map.map("bing / cpc"), Some("other"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelMap {
    exact: Vec<(String, String)>,
    prefix: Vec<(String, String)>,
    otherwise: Unmapped,
}

impl ChannelMap {
    /// An empty map (every channel unmatched and kept).
    pub fn new() -> ChannelMap {
        ChannelMap::default()
    }

    /// Maps the channel named exactly `from` to `to`.
    #[must_use]
    pub fn exact(mut self, from: impl Into<String>, to: impl Into<String>) -> ChannelMap {
        self.exact.push((from.into(), to.into()));
        self
    }

    /// Maps every channel starting with `prefix` to `to`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>, to: impl Into<String>) -> ChannelMap {
        self.prefix.push((prefix.into(), to.into()));
        self
    }

    /// Sets what happens to unmatched channels (default: kept as they are).
    #[must_use]
    pub fn otherwise(self, otherwise: Unmapped) -> ChannelMap {
        ChannelMap { otherwise, ..self }
    }

    /// The group `channel` maps to: `Some(group)` when a rule matches or the
    /// catch-all renames, `None` when it is kept unmatched.
    pub fn map(&self, channel: &str) -> Option<&str> {
        if let Some((_, to)) = self.exact.iter().find(|(f, _)| f == channel) {
            return Some(to);
        }
        if let Some((_, to)) = self
            .prefix
            .iter()
            .find(|(p, _)| channel.starts_with(p.as_str()))
        {
            return Some(to);
        }
        match &self.otherwise {
            Unmapped::Keep => None,
            Unmapped::Rename(to) => Some(to),
        }
    }
}

/// One step of a [`Rules`] pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Rule {
    /// Remove touches after the conversion time.
    DropAfterConversion,
    /// Keep touches within this many milliseconds before the reference time.
    Lookback {
        /// The window, in milliseconds.
        window_ms: i64,
    },
    /// Start a new journey after a gap longer than this many milliseconds.
    DormancySplit {
        /// The longest gap that keeps a journey whole, in milliseconds.
        gap_ms: i64,
    },
    /// Collapse consecutive repeats of one channel.
    CollapseRepeats,
    /// Rename channels.
    MapChannels(ChannelMap),
}

impl Rule {
    fn name(&self) -> &'static str {
        match self {
            Rule::DropAfterConversion => "drop_after_conversion",
            Rule::Lookback { .. } => "lookback",
            Rule::DormancySplit { .. } => "dormancy_split",
            Rule::CollapseRepeats => "collapse_repeats",
            Rule::MapChannels(_) => "map_channels",
        }
    }
}

/// What one step changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step's name (`"lookback"`, ...).
    pub rule: String,
    /// Touches removed by the step.
    pub touches_removed: u64,
    /// Touches whose channel was renamed.
    pub touches_renamed: u64,
    /// Touches no mapping rule matched (kept under their own name).
    pub touches_unmatched: u64,
    /// Journeys that were split in two or more.
    pub journeys_split: u64,
    /// Journeys added by splits.
    pub journeys_added: u64,
}

/// What a [`Rules`] pipeline changed, step by step, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesReport {
    /// One entry per step, in pipeline order.
    pub steps: Vec<StepReport>,
}

impl RulesReport {
    /// Touches removed by all steps together.
    pub fn touches_removed(&self) -> u64 {
        self.steps.iter().map(|s| s.touches_removed).sum()
    }

    /// Journeys added by splits, all steps together.
    pub fn journeys_added(&self) -> u64 {
        self.steps.iter().map(|s| s.journeys_added).sum()
    }
}

/// An ordered pipeline of journey rules. Build it with the by-value
/// methods, then [`apply`](Rules::apply) it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    steps: Vec<Rule>,
}

/// A journey held while rules run: the touches keep their ids (channels
/// as ids of the working channel names, campaigns and contents as ids of
/// the input catalog), times in milliseconds and amounts in minor units, so
/// no step converts anything.
#[derive(Debug, Clone)]
struct TmpJourney<'a> {
    id: std::borrow::Cow<'a, str>,
    converted: bool,
    value: i64,
    conversion_ts: Option<i64>,
    touches: Vec<InternedTouch>,
}

/// What the steps share over a whole set: the working channel names (the
/// input's, plus the names mappings create) and, per mapping step, the
/// mapping of each working id, computed once per distinct channel.
struct Work {
    names: Interner,
    maps: Vec<Vec<Option<Option<u32>>>>,
}

impl Work {
    /// The working id `id` maps to under `map` (step `step`): `None` when no
    /// rule matches.
    fn mapped(&mut self, step: usize, map: &ChannelMap, id: u32) -> Result<Option<u32>> {
        let cache = &mut self.maps[step];
        let i = id as usize;
        if i >= cache.len() {
            cache.resize(i + 1, None);
        }
        if let Some(known) = cache[i] {
            return Ok(known);
        }
        let to = match self.names.name(id).and_then(|n| map.map(n)) {
            Some(to) => Some(self.names.try_intern(to)?),
            None => None,
        };
        self.maps[step][i] = Some(to);
        Ok(to)
    }
}

/// Ids of the output set, assigned at first appearance in the output (so
/// its catalog holds exactly the names of the touches kept, in order).
struct Out {
    set: JourneySet,
    channel: Vec<u32>,
    campaign: Vec<u32>,
    content: Vec<u32>,
}

impl Out {
    fn id(map: &mut Vec<u32>, names: &mut Interner, from: &Interner, id: u32) -> Result<u32> {
        if id == NONE_ID {
            return Ok(NONE_ID);
        }
        let i = id as usize;
        if i >= map.len() {
            map.resize(i + 1, NONE_ID);
        }
        if map[i] == NONE_ID {
            let name = from.name(id).ok_or_else(|| {
                Error::param(
                    "journey_set",
                    "an id outside the catalog",
                    "consistent columns",
                )
            })?;
            map[i] = names.try_intern(name)?;
        }
        Ok(map[i])
    }

    /// Pushes a held journey, its ids translated to the output catalog.
    fn push(&mut self, j: &TmpJourney<'_>, work: &Work, input: &Catalog) -> Result<()> {
        let mut touches = Vec::with_capacity(j.touches.len());
        for t in &j.touches {
            let cat = self.set.catalog_mut();
            let channel = Out::id(
                &mut self.channel,
                &mut cat.channels,
                &work.names,
                t.channel.0,
            )?;
            let campaign = Out::id(
                &mut self.campaign,
                &mut cat.campaigns,
                &input.campaigns,
                t.campaign,
            )?;
            let content = Out::id(
                &mut self.content,
                &mut cat.contents,
                &input.contents,
                t.content,
            )?;
            touches.push(InternedTouch {
                channel: ChannelId(channel),
                campaign,
                content,
                ..*t
            });
        }
        self.set.push_interned(
            j.id.clone().into_owned(),
            (j.converted, j.value, j.conversion_ts),
            &touches,
        )
    }
}

impl Rules {
    /// An empty pipeline (applying it copies the set unchanged).
    pub fn new() -> Rules {
        Rules::default()
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Rule] {
        &self.steps
    }

    /// Adds a step.
    #[must_use]
    pub fn then(mut self, rule: Rule) -> Rules {
        self.steps.push(rule);
        self
    }

    /// Removes touches later than the conversion time. Journeys without a
    /// conversion time are left as they are.
    #[must_use]
    pub fn drop_after_conversion(self) -> Rules {
        self.then(Rule::DropAfterConversion)
    }

    /// Keeps only touches at most `days` before the reference time: the
    /// conversion time, or the last touch when the journey has none
    /// (non-converting journeys included). Touches after the reference time
    /// are kept (use [`drop_after_conversion`](Self::drop_after_conversion)
    /// for those).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`lookback`) unless `days` is finite and
    /// rounds to at least one millisecond.
    pub fn lookback_days(self, days: f64) -> Result<Rules> {
        let window_ms = days_to_ms("lookback", days)?;
        Ok(self.then(Rule::Lookback { window_ms }))
    }

    /// Splits a journey wherever two consecutive touches are more than
    /// `days` apart: re-engagement after a long silence becomes a new
    /// journey with a new first touch. The first part keeps the id; later
    /// parts get `#2`, `#3`, ... appended. Only the last part keeps the
    /// outcome (conversion, value and time); earlier parts become
    /// non-converting journeys.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`dormancy`) unless `days` is finite and
    /// rounds to at least one millisecond.
    pub fn dormancy_split_days(self, days: f64) -> Result<Rules> {
        let gap_ms = days_to_ms("dormancy", days)?;
        Ok(self.then(Rule::DormancySplit { gap_ms }))
    }

    /// Collapses consecutive touches on the same channel into the first of
    /// them. A touch that carries a milestone is never removed (so W-shaped
    /// and full-path anchors survive).
    #[must_use]
    pub fn collapse_repeats(self) -> Rules {
        self.then(Rule::CollapseRepeats)
    }

    /// Renames channels through `map`.
    #[must_use]
    pub fn map_channels(self, map: ChannelMap) -> Rules {
        self.then(Rule::MapChannels(map))
    }

    /// Runs the steps, in order, over every journey of `set`.
    ///
    /// The result keeps `set`'s currency and journey order (split parts
    /// follow their original, in time order).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for a hand-built [`Rule::Lookback`] or
    /// [`Rule::DormancySplit`] whose window is not positive; otherwise only
    /// for journeys that cannot be rebuilt (never for a set built by
    /// [`JourneySet::push`]); the error names the journey.
    pub fn apply(&self, set: &JourneySet) -> Result<(JourneySet, RulesReport)> {
        // steps built by hand through `then` skip the constructors' checks
        for step in &self.steps {
            match *step {
                Rule::Lookback { window_ms } if window_ms <= 0 => {
                    return Err(Error::param("lookback", window_ms, "a window > 0 ms"));
                }
                Rule::DormancySplit { gap_ms } if gap_ms <= 0 => {
                    return Err(Error::param("dormancy", gap_ms, "a gap > 0 ms"));
                }
                _ => {}
            }
        }
        let mut report = RulesReport {
            steps: self
                .steps
                .iter()
                .map(|s| StepReport {
                    rule: s.name().to_owned(),
                    ..StepReport::default()
                })
                .collect(),
        };
        let mut work = Work {
            names: set.catalog().channels.clone(),
            maps: vec![Vec::new(); self.steps.len()],
        };
        let mut out = Out {
            set: JourneySet::with_currency(set.currency()),
            channel: Vec::new(),
            campaign: Vec::new(),
            content: Vec::new(),
        };
        for view in set.iter() {
            let mut parts = vec![hold(&view)];
            for (k, (step, rep)) in self.steps.iter().zip(report.steps.iter_mut()).enumerate() {
                parts = run_step(k, step, parts, rep, &mut work)?;
            }
            for p in &parts {
                out.push(p, &work, set.catalog())?;
            }
        }
        Ok((out.set, report))
    }
}

/// A journey of the input set, held for the steps (its ids as they are).
fn hold<'a>(view: &JourneyView<'a>) -> TmpJourney<'a> {
    let (ch, ts, cp, ct) = (
        view.channels(),
        view.timestamps(),
        view.campaign_ids(),
        view.content_ids(),
    );
    let (cost, milestone) = (view.costs(), view.milestones());
    let touches = (0..view.len())
        .map(|i| InternedTouch {
            channel: ch[i],
            ts: ts[i],
            campaign: cp[i],
            content: ct[i],
            cost: cost[i],
            milestone: milestone[i],
        })
        .collect();
    TmpJourney {
        id: std::borrow::Cow::Borrowed(view.id()),
        converted: view.converted(),
        value: view.value_minor(),
        conversion_ts: view.conversion_ts(),
        touches,
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn run_step<'a>(
    step_index: usize,
    step: &Rule,
    parts: Vec<TmpJourney<'a>>,
    rep: &mut StepReport,
    work: &mut Work,
) -> Result<Vec<TmpJourney<'a>>> {
    let mut out = Vec::with_capacity(parts.len());
    for mut j in parts {
        let before = j.touches.len();
        match step {
            Rule::DropAfterConversion => {
                if let Some(c) = j.conversion_ts {
                    j.touches.retain(|t| t.ts <= c);
                }
            }
            Rule::Lookback { window_ms } => {
                let reference = j.conversion_ts.or_else(|| j.touches.last().map(|t| t.ts));
                if let Some(r) = reference {
                    let start = r.saturating_sub(*window_ms);
                    j.touches.retain(|t| t.ts >= start);
                }
            }
            Rule::CollapseRepeats => {
                let mut last: Option<ChannelId> = None;
                j.touches.retain(|t| {
                    let repeat = last == Some(t.channel);
                    last = Some(t.channel);
                    !repeat || t.milestone.is_some()
                });
            }
            Rule::MapChannels(map) => {
                for t in &mut j.touches {
                    match work.mapped(step_index, map, t.channel.0)? {
                        Some(to) => {
                            if to != t.channel.0 {
                                rep.touches_renamed += 1;
                                t.channel = ChannelId(to);
                            }
                        }
                        None => rep.touches_unmatched += 1,
                    }
                }
            }
            Rule::DormancySplit { gap_ms } => {
                let cuts: Vec<usize> = (1..j.touches.len())
                    .filter(|&i| j.touches[i].ts - j.touches[i - 1].ts > *gap_ms)
                    .collect();
                if !cuts.is_empty() {
                    rep.journeys_split += 1;
                    rep.journeys_added += count(cuts.len());
                    let mut rest = std::mem::take(&mut j.touches);
                    let mut pieces = Vec::with_capacity(cuts.len() + 1);
                    for &c in cuts.iter().rev() {
                        pieces.push(rest.split_off(c));
                    }
                    pieces.push(rest);
                    pieces.reverse();
                    let last = pieces.len() - 1;
                    for (k, touches) in pieces.into_iter().enumerate() {
                        let id = if k == 0 {
                            j.id.clone()
                        } else {
                            std::borrow::Cow::Owned(format!("{}#{}", j.id, k + 1))
                        };
                        let keep = k == last;
                        out.push(TmpJourney {
                            id,
                            converted: keep && j.converted,
                            value: if keep { j.value } else { 0 },
                            conversion_ts: if keep { j.conversion_ts } else { None },
                            touches,
                        });
                    }
                    continue;
                }
            }
        }
        rep.touches_removed += count(before - j.touches.len());
        out.push(j);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::SimpleJourney;
    use crate::touchpoint::Milestone;
    use crate::touchpoint::SimpleTouch;
    use chrono::DateTime;

    fn t(day: u32, ch: &str) -> SimpleTouch {
        let ts = DateTime::from_timestamp(i64::from(day) * 86_400, 0).unwrap();
        SimpleTouch::new(ch, ts)
    }

    fn names(set: &JourneySet, i: usize) -> Vec<&str> {
        let v = set.get(i).unwrap();
        (0..v.len()).map(|k| v.channel_name(k)).collect()
    }

    #[test]
    fn dormancy_split_moves_outcome_to_last_part() {
        let j = SimpleJourney::new("p")
            .touch(t(0, "a"))
            .touch(t(1, "b"))
            .touch(t(200, "c"))
            .touch(t(400, "d"))
            .converted(5.0);
        let set = JourneySet::from_journeys([&j]).unwrap();
        let (out, rep) = Rules::new()
            .dormancy_split_days(90.0)
            .unwrap()
            .apply(&set)
            .unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(names(&out, 0), ["a", "b"]);
        assert_eq!(out.get(1).unwrap().id(), "p#2");
        assert_eq!(names(&out, 2), ["d"]);
        assert!(!out.get(0).unwrap().converted());
        assert_eq!(out.get(2).unwrap().value_minor(), 500);
        assert_eq!(rep.journeys_added(), 2);
        assert_eq!(rep.steps[0].journeys_split, 1);
    }

    #[test]
    fn drop_after_conversion_and_lookback_count_removals() {
        let conv = DateTime::from_timestamp(10 * 86_400, 0).unwrap();
        let j = SimpleJourney::new("p")
            .touch(t(0, "a"))
            .touch(t(5, "b"))
            .touch(t(10, "c"))
            .touch(t(11, "d"))
            .converted(1.0)
            .converted_at(conv);
        let set = JourneySet::from_journeys([&j]).unwrap();
        let rules = Rules::new()
            .drop_after_conversion()
            .lookback_days(7.0)
            .unwrap();
        let (out, rep) = rules.apply(&set).unwrap();
        assert_eq!(names(&out, 0), ["b", "c"]);
        assert_eq!(rep.steps[0].touches_removed, 1);
        assert_eq!(rep.steps[1].touches_removed, 1);
        assert_eq!(rep.touches_removed(), 2);
    }

    #[test]
    fn collapse_keeps_milestones_and_mapping_counts() {
        let j = SimpleJourney::new("p")
            .touch(t(0, "google / cpc"))
            .touch(t(1, "google / cpc"))
            .touch(t(2, "google / cpc").milestone(Milestone::LeadCreated))
            .touch(t(3, "newsletter"));
        let set = JourneySet::from_journeys([&j]).unwrap();
        let map = ChannelMap::new().exact("google / cpc", "paid_search");
        let (out, rep) = Rules::new()
            .map_channels(map)
            .collapse_repeats()
            .apply(&set)
            .unwrap();
        assert_eq!(names(&out, 0), ["paid_search", "paid_search", "newsletter"]);
        assert_eq!(rep.steps[0].touches_renamed, 3);
        assert_eq!(rep.steps[0].touches_unmatched, 1);
        assert_eq!(rep.steps[1].touches_removed, 1);
    }

    #[test]
    fn hand_built_steps_are_checked_too() {
        let set = JourneySet::new();
        let r = Rules::new()
            .then(Rule::Lookback { window_ms: -5 })
            .apply(&set);
        assert!(matches!(
            r,
            Err(Error::InvalidParameter {
                parameter: "lookback",
                ..
            })
        ));
        let r = Rules::new()
            .then(Rule::DormancySplit { gap_ms: 0 })
            .apply(&set);
        assert!(matches!(
            r,
            Err(Error::InvalidParameter {
                parameter: "dormancy",
                ..
            })
        ));
    }

    #[test]
    fn bad_windows_are_typed_errors() {
        // 1e-300 days rounds to a 0 ms window: refused here, not at `apply`
        for d in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300, 5e-324, 1e300] {
            assert!(matches!(
                Rules::new().lookback_days(d),
                Err(Error::InvalidParameter {
                    parameter: "lookback",
                    ..
                })
            ));
            assert!(Rules::new().dormancy_split_days(d).is_err());
        }
    }
}
