//! Last non-direct touch.

use crate::dataset::{ChannelId, JourneyView};
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;

/// How many direct channel ids are resolved on the stack per journey; past
/// this the model compares names (still correct, slower).
const INLINE_IDS: usize = 8;

/// All credit to the last touch whose channel is not "direct"; when every
/// touch is direct, all credit to the last touch.
///
/// Formula: `share(k) = 1` for `k` = the last index whose channel is not in
/// the direct set (or `n` if there is none), every other touch 0.
///
/// The direct set defaults to `{"direct"}`; [`LastNonDirect::new`] takes any
/// set of channel names (matched exactly, case-sensitive). Names are
/// resolved to [`ChannelId`]s once per journey, so the scan compares
/// integers. A name that does not occur in the data simply matches nothing.
///
/// Edge cases: one touch gets 100% (direct or not). Two touches
/// `email, direct` credit e-mail; `direct, direct` credits the last direct
/// touch (fallback). With equal timestamps, "last" is the one given last.
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example
///
/// Paid search, e-mail, direct, $80: e-mail gets $80.00.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::LastNonDirect};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("paid_search", t))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("direct", t))
///     .converted(80.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&LastNonDirect::default(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[0, 8000, 0]);
/// // "email" counted as direct too: paid search gets it
/// c.credit(&LastNonDirect::new(["direct", "email"])?, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[8000, 0, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastNonDirect {
    /// Sorted, deduplicated.
    direct: Vec<String>,
}

impl Default for LastNonDirect {
    /// The direct set `{"direct"}`.
    fn default() -> LastNonDirect {
        LastNonDirect {
            direct: vec!["direct".to_owned()],
        }
    }
}

impl LastNonDirect {
    /// Last non-direct touch with the given direct channel names.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`direct`) if `direct` is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::LastNonDirect;
    ///
    /// let m = LastNonDirect::new(["direct", "(none)", "direct"])?;
    /// assert_eq!(m.direct_channels(), &["(none)", "direct"]);
    /// assert!(LastNonDirect::new(Vec::<String>::new()).is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn new<I, S>(direct: I) -> Result<LastNonDirect>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut direct: Vec<String> = direct.into_iter().map(Into::into).collect();
        if direct.is_empty() {
            return Err(Error::param(
                "direct",
                "an empty set",
                "at least one direct channel name",
            ));
        }
        direct.sort_unstable();
        direct.dedup();
        Ok(LastNonDirect { direct })
    }

    /// The direct channel names, sorted.
    pub fn direct_channels(&self) -> &[String] {
        &self.direct
    }
}

impl AttributionModel for LastNonDirect {
    fn name(&self) -> &str {
        "last_non_direct"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::LastNonDirect {
            direct: self.direct.clone(),
        })
    }

    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let chans = j.channels();
        let last = chans.len().saturating_sub(1);
        let catalog = j.catalog();
        let mut ids = [ChannelId(u32::MAX); INLINE_IDS];
        let mut k = 0;
        for name in &self.direct {
            if let Some(id) = catalog.channel_id(name) {
                if k == INLINE_IDS {
                    // many direct names: compare names (sorted, binary search)
                    let pick = chans
                        .iter()
                        .rposition(|&c| {
                            self.direct
                                .binary_search_by(|d| d.as_str().cmp(catalog.channel_name(c)))
                                .is_err()
                        })
                        .unwrap_or(last);
                    out.all_to(pick);
                    return Ok(());
                }
                ids[k] = id;
                k += 1;
            }
        }
        let ids = &ids[..k];
        let pick = match ids {
            [] => last,
            [d] => chans.iter().rposition(|c| c != d).unwrap_or(last),
            _ => chans.iter().rposition(|c| !ids.contains(c)).unwrap_or(last),
        };
        out.all_to(pick);
        Ok(())
    }

    fn fingerprint(&self) -> String {
        format!("last_non_direct(direct={:?})", self.direct)
    }
}
