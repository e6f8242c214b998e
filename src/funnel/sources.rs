//! Sources report: sessions -> contacts per source, and the what-if.

use serde::{Deserialize, Serialize};

use super::config::SliceBy;
use super::metrics::FunnelMetrics;
use super::ratio::Ratio;
use crate::error::{Error, Result};

/// One source's sessions, contacts and conversion rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceLine {
    /// The source (channel).
    pub source: String,
    /// Sessions (visits) from the source.
    pub sessions: u64,
    /// Contacts (leads) from the source.
    pub contacts: u64,
    /// `contacts / sessions`.
    pub rate: Ratio,
}

/// The answer to "add N sessions to source S".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The source.
    pub source: String,
    /// Sessions added.
    pub extra_sessions: u64,
    /// The source's current sessions -> contacts rate.
    pub rate: Ratio,
    /// Expected new contacts: `extra_sessions × rate`. Assumes the source
    /// keeps converting at its current average rate (undefined for a
    /// source with no sessions yet).
    pub expected_contacts: Ratio,
}

/// Sessions -> contacts conversion per source.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::SourcesReport;
///
/// let r = SourcesReport::new(&[("organic", 100), ("social", 100)], &[("organic", 16)])?;
/// assert_eq!(r.what_if("organic", 50)?.expected_contacts.value(), Some(8.0));
/// assert_eq!(r.what_if("social", 50)?.expected_contacts.value(), Some(0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcesReport {
    lines: Vec<SourceLine>,
}

impl SourcesReport {
    /// Builds the report from sessions and contacts per source (a source in
    /// only one list has 0 in the other). Lines sorted by source.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when a source is listed twice in one list.
    pub fn new(sessions: &[(&str, u64)], contacts: &[(&str, u64)]) -> Result<SourcesReport> {
        let mut lines: Vec<SourceLine> = Vec::new();
        for (list, is_sessions) in [(sessions, true), (contacts, false)] {
            let mut names: Vec<&str> = list.iter().map(|(s, _)| *s).collect();
            names.sort_unstable();
            if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::param("source", w[0], "each source listed once"));
            }
            for (s, n) in list {
                let i = match lines.iter().position(|l| l.source == *s) {
                    Some(i) => i,
                    None => {
                        lines.push(SourceLine {
                            source: (*s).to_owned(),
                            sessions: 0,
                            contacts: 0,
                            rate: Ratio::Undefined,
                        });
                        lines.len() - 1
                    }
                };
                if is_sessions {
                    lines[i].sessions = *n;
                } else {
                    lines[i].contacts = *n;
                }
            }
        }
        for l in &mut lines {
            #[expect(clippy::cast_precision_loss, reason = "ratio")]
            let r = Ratio::of(l.contacts as f64, l.sessions as f64);
            l.rate = r;
        }
        lines.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(SourcesReport { lines })
    }

    /// Builds the report with contacts = records per source channel, from
    /// funnel metrics sliced by [`SliceBy::Channel`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when the metrics are not sliced by
    /// channel, or as [`new`](Self::new).
    pub fn from_funnel(sessions: &[(&str, u64)], metrics: &FunnelMetrics) -> Result<SourcesReport> {
        if metrics.config().slice() != SliceBy::Channel {
            return Err(Error::param(
                "metrics",
                format!("{:?}", metrics.config().slice()),
                "funnel metrics sliced by channel",
            ));
        }
        let contacts: Vec<(&str, u64)> = metrics
            .slices()
            .iter()
            .map(|s| (s.key(), s.records()))
            .collect();
        SourcesReport::new(sessions, &contacts)
    }

    /// The lines, sorted by source.
    pub fn lines(&self) -> &[SourceLine] {
        &self.lines
    }

    /// Expected new contacts if `extra_sessions` more sessions came from
    /// `source`, at its current rate.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for a source not in the report.
    pub fn what_if(&self, source: &str, extra_sessions: u64) -> Result<WhatIf> {
        let l = self
            .lines
            .binary_search_by(|l| l.source.as_str().cmp(source))
            .map(|i| &self.lines[i])
            .map_err(|_| Error::UnknownName {
                kind: "source",
                name: source.to_owned(),
            })?;
        #[expect(clippy::cast_precision_loss, reason = "expected value")]
        let n = extra_sessions as f64;
        Ok(WhatIf {
            source: l.source.clone(),
            extra_sessions,
            rate: l.rate,
            expected_contacts: l.rate.map(|r| r * n),
        })
    }
}
