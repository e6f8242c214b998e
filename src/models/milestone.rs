//! Milestone-anchored models: W-shaped and full path (Z-shaped).

use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;
use crate::touchpoint::Milestone;

/// The shared rule of [`WShaped`] and [`FullPath`]: fixed shares for anchor
/// touches (the first touch, then the first touch carrying each milestone),
/// the rest shared equally by the other touches.
///
/// `shares[0]` is the first touch's; `shares[k]` for `k >= 1` belongs to the
/// first touch carrying `milestones[k - 1]`.
fn anchored_weights<const A: usize>(
    j: &JourneyView<'_>,
    milestones: &[Milestone],
    shares: &[f64; A],
    rest: f64,
    out: &mut Weights,
) {
    /// No touch is this anchor.
    const ABSENT: usize = usize::MAX;
    let n = j.len();
    if n == 1 {
        out.all_to(0);
        return;
    }
    // anchor slot of each milestone (lead, opportunity, close), if any
    let mut slot = [usize::MAX; 3];
    for (k, m) in milestones.iter().enumerate() {
        slot[milestone_index(*m)] = k + 1;
    }
    // positions of the anchors; the first touch always is one
    let mut pos = [ABSENT; A];
    pos[0] = 0;
    let mut missing = A - 1;
    // most touches carry no milestone: look at them eight at a time
    // (branch-free), and one by one only in a block that has one
    let ms = j.milestones();
    'scan: for (b, block) in ms.chunks(8).enumerate() {
        if !block.iter().fold(false, |any, m| any | m.is_some()) {
            continue;
        }
        for (k, m) in block.iter().enumerate() {
            let Some(m) = *m else { continue };
            let a = slot[milestone_index(m)];
            if a < A && pos[a] == ABSENT {
                pos[a] = b * 8 + k;
                missing -= 1;
                if missing == 0 {
                    break 'scan;
                }
            }
        }
    }
    let total: f64 = shares.iter().sum();
    let mut present = 0.0;
    // anchor touches (distinct positions)
    let mut distinct = 0usize;
    for (k, (&p, s)) in pos.iter().zip(shares).enumerate() {
        if p != ABSENT {
            present += s;
            if !pos[..k].contains(&p) {
                distinct += 1;
            }
        }
    }
    let rest_touches = n - distinct;
    let w = out.weighted();
    if rest_touches == 0 {
        // no rest touch: the anchors share everything in proportion
        w.resize(n, 0.0);
        for (&p, s) in pos.iter().zip(shares) {
            if let Some(x) = w.get_mut(p) {
                *x += s;
            }
        }
        return;
    }
    #[expect(clippy::cast_precision_loss, reason = "journey lengths are small")]
    let each = rest / rest_touches as f64;
    w.resize(n, each);
    for &p in &pos {
        if let Some(x) = w.get_mut(p) {
            *x = 0.0;
        }
    }
    // missing anchors' shares go to the present ones in proportion
    let scale = total / present;
    for (&p, s) in pos.iter().zip(shares) {
        if let Some(x) = w.get_mut(p) {
            *x += s * scale;
        }
    }
}

/// A dense index for a milestone.
#[inline]
fn milestone_index(m: Milestone) -> usize {
    match m {
        Milestone::LeadCreated => 0,
        Milestone::OpportunityCreated => 1,
        Milestone::Closed => 2,
    }
}

/// Validates anchor shares: all finite, the first > 0, the others >= 0,
/// sum <= 1. Returns the rest share.
fn check_shares(names: &[&'static str], shares: &[f64]) -> Result<f64> {
    for (i, (&name, &s)) in names.iter().zip(shares).enumerate() {
        let ok = s.is_finite() && s <= 1.0 && if i == 0 { s > 0.0 } else { s >= 0.0 };
        if !ok {
            return Err(Error::param(
                name,
                s,
                "a finite share in [0, 1] (the first touch's > 0)",
            ));
        }
    }
    let sum: f64 = shares.iter().sum();
    if sum > 1.0 + 1e-12 {
        return Err(Error::param(
            "anchor shares",
            sum,
            "anchor shares summing to at most 1",
        ));
    }
    Ok((1.0 - sum).max(0.0))
}

/// W-shaped: 30% to the first touch, 30% to the lead-creation touch, 30% to
/// the opportunity-creation touch, 10% shared equally by the other touches.
///
/// The anchors are the first touch, the **first** touch whose milestone is
/// [`Milestone::LeadCreated`], and the first touch whose milestone is
/// [`Milestone::OpportunityCreated`] (milestone order in time is not
/// checked). The "rest" are all touches that are not an anchor, wherever
/// they lie (also after the opportunity).
///
/// Exact rules:
///
/// - **Missing milestone**: its share is re-distributed to the present
///   anchors in proportion to their shares (no opportunity: 45% first, 45%
///   lead, 10% rest; no milestone at all: 90% first, 10% rest).
/// - **Coinciding anchors**: a touch that is two anchors (the first touch
///   also created the lead) gets both shares (60%). Lead and opportunity
///   never coincide: a touch has one milestone.
/// - **No rest touch** (every touch is an anchor): the rest share goes to
///   the anchors in proportion to their shares (3 anchor touches: 1/3 each).
/// - **One touch**: 100%. **Two touches**, no milestone: 90% / 10%
///   (first / rest) — a missing milestone's share goes to the first touch.
/// - **Equal timestamps** keep input order (stable sort), which decides
///   "first touch" and "first touch carrying a milestone".
/// - **No touch**: a converted journey with no touch never reaches the
///   model; the engine credits it to the report's unassigned bucket.
///
/// Formula: with anchor shares `a_k`, present anchors `P`, `r` rest touches,
/// an anchor touch gets `Σ_{k at it} a_k · (Σ_all a / Σ_P a)` and each rest
/// touch `(1 − Σ_all a) / r`; with `r = 0` the anchor weights are
/// normalized to 1.
///
/// # Worked example
///
/// Five touches, lead created at the 2nd, opportunity at the 4th, $100:
/// $30, $30, $5, $30, $5.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, Milestone, SimpleJourney, SimpleTouch};
/// use touchpoint::models::WShaped;
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("webinar", t).milestone(Milestone::LeadCreated))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("sales", t).milestone(Milestone::OpportunityCreated))
///     .touch(SimpleTouch::new("direct", t))
///     .converted(100.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&WShaped::default(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[3000, 3000, 500, 3000, 500]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WShaped {
    shares: [f64; 3],
    rest: f64,
}

impl Default for WShaped {
    /// 30% first, 30% lead creation, 30% opportunity creation, 10% rest.
    fn default() -> WShaped {
        WShaped::new(0.3, 0.3, 0.3).expect("valid default shares")
    }
}

impl WShaped {
    const MILESTONES: [Milestone; 2] = [Milestone::LeadCreated, Milestone::OpportunityCreated];

    /// Custom anchor shares; the rest `1 − first − lead − opportunity` is
    /// shared by the other touches.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if a share is not finite or outside
    /// `[0, 1]`, if `first` is 0, or if the shares sum to more than 1.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::WShaped;
    ///
    /// assert_eq!(WShaped::new(0.3, 0.3, 0.3)?, WShaped::default());
    /// assert!(WShaped::new(0.5, 0.5, 0.5).is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn new(first: f64, lead: f64, opportunity: f64) -> Result<WShaped> {
        let shares = [first, lead, opportunity];
        let rest = check_shares(&["first", "lead", "opportunity"], &shares)?;
        Ok(WShaped { shares, rest })
    }
}

impl AttributionModel for WShaped {
    fn name(&self) -> &str {
        "w_shaped"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::WShaped {
            first: self.shares[0],
            lead: self.shares[1],
            opportunity: self.shares[2],
        })
    }
    #[inline]
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        anchored_weights(j, &Self::MILESTONES, &self.shares, self.rest, out);
        Ok(())
    }
    fn fingerprint(&self) -> String {
        format!(
            "w_shaped(first={},lead={},opportunity={})",
            self.shares[0], self.shares[1], self.shares[2]
        )
    }
}

/// Full path (Z-shaped): 22.5% each to the first touch, the lead-creation
/// touch, the opportunity-creation touch and the close touch; 10% shared
/// equally by the other touches.
///
/// Anchors are the first touch and the **first** touch carrying each of
/// [`Milestone::LeadCreated`], [`Milestone::OpportunityCreated`] and
/// [`Milestone::Closed`]. Missing milestones, coinciding anchors, journeys
/// with no rest touch and one-touch journeys follow exactly the rules of
/// [`WShaped`]: a missing anchor's share goes to the present anchors in
/// proportion; a touch that is two anchors gets both shares; with no rest
/// touch the anchors share everything in proportion; one touch gets 100%.
/// For example with no close touch: 30% first, 30% lead, 30% opportunity,
/// 10% rest — the same as W-shaped.
///
/// # Worked example
///
/// Six touches, lead at the 2nd, opportunity at the 4th, close at the 6th,
/// $200: $45, $45, $10, $45, $10, $45.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, Milestone, SimpleJourney, SimpleTouch};
/// use touchpoint::models::FullPath;
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("webinar", t).milestone(Milestone::LeadCreated))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("sales", t).milestone(Milestone::OpportunityCreated))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("sales", t).milestone(Milestone::Closed))
///     .converted(200.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&FullPath::default(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[4500, 4500, 1000, 4500, 1000, 4500]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullPath {
    shares: [f64; 4],
    rest: f64,
}

impl Default for FullPath {
    /// 22.5% each to first, lead creation, opportunity creation and close;
    /// 10% rest.
    fn default() -> FullPath {
        FullPath::new(0.225, 0.225, 0.225, 0.225).expect("valid default shares")
    }
}

impl FullPath {
    const MILESTONES: [Milestone; 3] = [
        Milestone::LeadCreated,
        Milestone::OpportunityCreated,
        Milestone::Closed,
    ];

    /// Custom anchor shares; the rest `1 − Σ shares` is shared by the other
    /// touches.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if a share is not finite or outside
    /// `[0, 1]`, if `first` is 0, or if the shares sum to more than 1.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::FullPath;
    ///
    /// assert_eq!(FullPath::new(0.225, 0.225, 0.225, 0.225)?, FullPath::default());
    /// assert!(FullPath::new(0.0, 0.3, 0.3, 0.3).is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn new(first: f64, lead: f64, opportunity: f64, close: f64) -> Result<FullPath> {
        let shares = [first, lead, opportunity, close];
        let rest = check_shares(&["first", "lead", "opportunity", "close"], &shares)?;
        Ok(FullPath { shares, rest })
    }
}

impl AttributionModel for FullPath {
    fn name(&self) -> &str {
        "full_path"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::FullPath {
            first: self.shares[0],
            lead: self.shares[1],
            opportunity: self.shares[2],
            close: self.shares[3],
        })
    }
    #[inline]
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        anchored_weights(j, &Self::MILESTONES, &self.shares, self.rest, out);
        Ok(())
    }
    fn fingerprint(&self) -> String {
        format!(
            "full_path(first={},lead={},opportunity={},close={})",
            self.shares[0], self.shares[1], self.shares[2], self.shares[3]
        )
    }
}
