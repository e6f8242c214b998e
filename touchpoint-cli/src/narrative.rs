//! Plain-language findings for the report.
//!
//! SEAM (issue 12): the core's narrative module is not in this build. This
//! interim renderer states only what the numbers at hand support (top
//! channels, where rule-based and incremental credit disagree, funnel and
//! ROI leaders); the lead replaces [`sentences`] with the core's typed
//! findings rendered to English, keeping the `Vec<String>` shape the HTML
//! report shows.

use crate::engine::{Attribution, Effect, FunnelOut};
use crate::out::{money, pct};

/// Sentences about the results, most important first.
pub fn sentences(
    models: &[Attribution],
    effects: &[Effect],
    funnel: Option<&FunnelOut>,
    currency: &str,
) -> Vec<String> {
    let mut s = Vec::new();
    if let Some(linear) = models.iter().find(|m| m.model == "linear") {
        let mut lines: Vec<_> = linear.lines.iter().collect();
        lines.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.name.cmp(&b.name)));
        let top: Vec<String> = lines
            .iter()
            .take(3)
            .map(|l| {
                format!(
                    "{} ({} {}, {})",
                    l.name,
                    currency,
                    money(l.value),
                    pct(l.share)
                )
            })
            .collect();
        if !top.is_empty() {
            s.push(format!(
                "{} converted journeys brought {} {}; under linear credit the top channels are {}.",
                linear.conversions,
                currency,
                money(linear.value),
                top.join(", ")
            ));
        }
        // disagreement between position-based credit and incremental effects
        let mut gaps: Vec<(f64, &str, f64, f64)> = Vec::new();
        for e in effects {
            if let Some(l) = linear.lines.iter().find(|l| l.name == e.name) {
                gaps.push((l.share - e.share, &e.name, l.share, e.share));
            }
        }
        gaps.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        if let Some((d, name, lin, inc)) = gaps.first().copied().filter(|g| g.0 > 0.03) {
            s.push(format!(
                "{name} is credited {} by linear credit but the incremental model estimates {} of the effect ({:+.1} points): it is present on converting paths more than it adds.",
                pct(lin), pct(inc), -d * 100.0
            ));
        }
        if let Some((d, name, lin, inc)) = gaps.last().copied().filter(|g| g.0 < -0.03) {
            s.push(format!(
                "{name} adds {} of the incremental effect but gets {} under linear credit ({:+.1} points): position-based reports undervalue it.",
                pct(inc), pct(lin), -d * 100.0
            ));
        }
        if let Some(e) = effects
            .iter()
            .find(|e| e.share_low.is_some() && e.share_high.is_some())
        {
            let _ = e;
            s.push("Intervals are 95% bootstrap intervals: a channel whose interval includes 0% has no demonstrated effect.".to_owned());
        }
    }
    if let Some(f) = funnel {
        let mut worst: Option<(&str, &str, f64)> = None;
        for w in f.stages.windows(2) {
            if let Some(r) = w[1].from_previous {
                if worst.is_none_or(|x| r < x.2) {
                    worst = Some((&w[0].stage, &w[1].stage, r));
                }
            }
        }
        if let Some((a, b, r)) = worst {
            s.push(format!(
                "The largest funnel drop is {a} -> {b}: only {} move on.",
                pct(r)
            ));
        }
        if let Some(rate) = f.acceptance_rate {
            let reason = f
                .rejection_reasons
                .iter()
                .max_by_key(|r| r.1)
                .map(|r| format!("; the leading rejection reason is \"{}\"", r.0))
                .unwrap_or_default();
            s.push(format!(
                "Sales accepts {} of the MQLs it decides on{reason}.",
                pct(rate)
            ));
        }
        let mut roi: Vec<_> = f
            .roi
            .iter()
            .filter(|r| !r.name.starts_with('(') && r.roi.is_some())
            .collect();
        roi.sort_by(|a, b| b.roi.unwrap_or(0.0).total_cmp(&a.roi.unwrap_or(0.0)));
        if let (Some(best), Some(worst)) = (roi.first(), roi.last()) {
            s.push(format!(
                "Best return: {} (ROI {}); weakest: {} (ROI {}), under {} credit of won revenue.",
                best.name,
                pct(best.roi.unwrap_or(0.0)),
                worst.name,
                pct(worst.roi.unwrap_or(0.0)),
                f.roi_model
            ));
        }
        let no_spend: Vec<&str> = f
            .roi
            .iter()
            .filter(|r| r.roi.is_none() && !r.name.starts_with('('))
            .map(|r| r.name.as_str())
            .collect();
        if !no_spend.is_empty() {
            s.push(format!(
                "ROI is undefined (no spend) for {}.",
                no_spend.join(", ")
            ));
        }
    }
    s
}
