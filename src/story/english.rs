//! The English renderer: one sentence per finding.

use super::{Certainty, Dimension, Finding, Money, VelocityInputs};
use crate::audit::Check;
use crate::funnel::Ratio;

/// `amount` in major units with `symbol` in front, thousands separated by
/// commas and the currency's decimals (`-$1,234.50`).
///
/// ```
/// use touchpoint::Currency;
/// use touchpoint::story::{format_money, Money};
///
/// let m = Money { minor: -123_450, currency: Currency::default() };
/// assert_eq!(format_money(m, "$"), "-$1,234.50");
/// let yen = Money { minor: 1_500_000, currency: Currency::new(0)? };
/// assert_eq!(format_money(yen, "JPY "), "JPY 1,500,000");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn format_money(amount: Money, symbol: &str) -> String {
    let d = u32::from(amount.currency.decimals());
    let scale = 10_i128.pow(d);
    let neg = amount.minor < 0;
    let abs = amount.minor.unsigned_abs();
    let whole = abs / scale.unsigned_abs();
    let frac = abs % scale.unsigned_abs();
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if neg { "-" } else { "" };
    if d == 0 {
        format!("{sign}{symbol}{grouped}")
    } else {
        format!("{sign}{symbol}{grouped}.{frac:0w$}", w = d as usize)
    }
}

/// A major-unit amount rounded to whole units, with separators.
fn whole(x: f64, symbol: &str) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "display of a finite amount"
    )]
    let minor = if x.is_finite() { x.round() as i128 } else { 0 };
    format_money(
        Money {
            minor,
            currency: crate::money::Currency::new(0).unwrap_or_default(),
        },
        symbol,
    )
}

/// As [`whole`], with a `+` in front of amounts >= 0.
fn signed_whole(x: f64, symbol: &str) -> String {
    let w = whole(x, symbol);
    if w.starts_with('-') {
        w
    } else {
        format!("+{w}")
    }
}

/// A percentage with one decimal; from 1,000% on, whole and grouped.
fn pct(x: f64) -> String {
    let v = x * 100.0;
    if v.is_finite() && v.abs() >= 1000.0 {
        format!("{}%", whole(v, ""))
    } else {
        format!("{v:.1}%")
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn ratio_pct(r: Ratio) -> String {
    r.value().map_or_else(|| "n/a".to_owned(), pct)
}

fn days(r: Ratio) -> String {
    r.value()
        .map_or_else(|| "n/a".to_owned(), |d| format!("{d:.1} days"))
}

fn check_words(c: Check) -> &'static str {
    match c {
        Check::InvalidValues => "conversion values the crate rejects",
        Check::InvalidCosts => "touch costs the crate rejects",
        Check::DuplicateJourneyIds => "journey ids used more than once",
        Check::UnknownStages => "lead stage names the funnel does not know",
        Check::NoConversions => "no conversions (or no non-converting journeys) at all",
        Check::NameVariants => "channel names spelled several ways",
        Check::EmptyChannelNames => "touches without a channel name",
        Check::DuplicateTouches => "duplicate touches",
        Check::TouchesAfterConversion => "touches dated after their conversion",
        Check::FutureTimestamps => "timestamps in the future",
        Check::AncientTimestamps => "implausibly old timestamps",
        Check::DarkConversions => "conversions with no touch that could explain them",
        Check::ConversionsWithoutValue => "conversions without a value",
        Check::MissingCampaign => "touches without a campaign",
        Check::MissingContent => "touches without a content asset",
        Check::UnknownChannel => "touches on direct or unknown channels",
        Check::TrackingDrop => "a channel whose weekly volume dropped to zero",
        Check::TrackingJump => "a channel whose weekly volume jumped tenfold",
        Check::NoEvidence => "a channel with traffic and no conversion",
        Check::SpendWithoutTouches => "spend on a channel no journey touches",
        Check::EmptyJourneys => "journeys with no touch",
        Check::UnsortedTouches => "journeys with touches out of time order",
        Check::DormantGaps => "gaps longer than the dormancy threshold",
        Check::StalledLeads => "leads stalled past the SLA",
        Check::IdentityMerges => "ids a merge would join",
        Check::TooLittleData => "a channel with too few conversions",
    }
}

fn velocity_line(v: &VelocityInputs, prev: Option<&VelocityInputs>, symbol: &str) -> String {
    let money_r = |r: Ratio| {
        r.value()
            .map_or_else(|| "n/a".to_owned(), |x| whole(x, symbol))
    };
    let change =
        |now: Option<f64>, before: Option<f64>, f: &dyn Fn(f64) -> String| match (now, before) {
            (Some(a), Some(b)) if a > b => format!(" (up from {})", f(b)),
            (Some(a), Some(b)) if a < b => format!(" (down from {})", f(b)),
            (Some(_), Some(_)) => " (unchanged)".to_owned(),
            _ => String::new(),
        };
    let m = |x: f64| whole(x, symbol);
    #[expect(clippy::cast_precision_loss, reason = "counts shown as numbers")]
    let opps = change(
        Some(v.opportunities as f64),
        prev.map(|p| p.opportunities as f64),
        &|x| format!("{x:.0}"),
    );
    format!(
        "Pipeline velocity is {} per day{} (opportunities x win rate x average deal / days to close): {} opportunities{opps}, win rate {}{} (won of closed), average deal {}{}, {} to close{}.",
        money_r(v.per_day),
        change(v.per_day.value(), prev.and_then(|p| p.per_day.value()), &m),
        v.opportunities,
        ratio_pct(v.win_rate),
        change(
            v.win_rate.value(),
            prev.and_then(|p| p.win_rate.value()),
            &pct
        ),
        money_r(v.average_deal),
        change(
            v.average_deal.value(),
            prev.and_then(|p| p.average_deal.value()),
            &m
        ),
        days(v.cycle_days),
        change(
            v.cycle_days.value(),
            prev.and_then(|p| p.cycle_days.value()),
            &|d| format!("{d:.1}")
        ),
    )
}

/// One English sentence for `finding`, amounts prefixed with `symbol`
/// (`"$"`, `"EUR "`). The wording follows the finding's
/// [`Certainty`]: "clearly ahead" only when the intervals separate the
/// quantities, "level with ... within the intervals" when they overlap,
/// "credited" rather than "drove" without intervals.
///
/// # Example
///
/// ```
/// use touchpoint::story::{english, Finding};
///
/// let f = Finding::TimeToClose { deals: 12, median_days: 41.0, p90_days: 80.0 };
/// assert_eq!(
///     english(&f, "$"),
///     "Deals close (won or lost) 41 days after the lead was created at the median; 90% within 80 days (12 closed deals).",
/// );
/// ```
#[expect(clippy::too_many_lines, reason = "one arm per finding")]
pub fn english(finding: &Finding, symbol: &str) -> String {
    match finding {
        Finding::Driver {
            dimension,
            rank: _,
            name,
            model,
            value,
            share,
            interval,
            next,
            certainty,
        } => {
            let what = match dimension {
                Dimension::Channel => "",
                Dimension::Campaign => "Campaign ",
                Dimension::Content => "Content asset ",
            };
            let base = format!(
                "{what}{name} is credited {}, {} of revenue under {model}",
                format_money(*value, symbol),
                pct(*share)
            );
            match (interval, certainty, next) {
                (Some(i), Certainty::Clear, Some((n, _))) => format!(
                    "{base} ({:.0}% interval {} to {}), clearly ahead of {n}.",
                    i.level * 100.0,
                    whole(i.low, symbol),
                    whole(i.high, symbol)
                ),
                (Some(i), Certainty::Overlapping, Some((n, nv))) => format!(
                    "{base} ({:.0}% interval {} to {}); the data cannot rank it against {n} ({}): their intervals overlap.",
                    i.level * 100.0,
                    whole(i.low, symbol),
                    whole(i.high, symbol),
                    format_money(*nv, symbol)
                ),
                (Some(i), _, _) => format!(
                    "{base} ({:.0}% interval {} to {}).",
                    i.level * 100.0,
                    whole(i.low, symbol),
                    whole(i.high, symbol)
                ),
                (None, _, _) => format!("{base} (no interval computed)."),
            }
        }
        Finding::ModelGap {
            channel,
            models,
            incremental_share,
            interval,
            overcredited,
            certainty,
        } => {
            let range = interval.map_or_else(String::new, |i| {
                format!(
                    ", {:.0}% interval {} to {}",
                    i.level * 100.0,
                    pct(i.low),
                    pct(i.high)
                )
            });
            let hedge = if *certainty == Certainty::Clear {
                ""
            } else {
                " (point estimates; no interval computed)"
            };
            let list = join_and(
                &models
                    .iter()
                    .map(|(m, s)| format!("{m} ({})", pct(*s)))
                    .collect::<Vec<_>>(),
            );
            if *overcredited {
                let firsts = models.iter().all(|(m, _)| m.contains("first"));
                let lasts = models.iter().all(|(m, _)| m.contains("last"));
                let role = if firsts {
                    "it opens journeys"
                } else if lasts {
                    "it closes journeys"
                } else {
                    "it is on many converting journeys"
                };
                format!(
                    "{list} {} {channel} a larger share of conversions than the incremental model ({}{range}): {role} but adds little{hedge}.",
                    if models.len() == 1 { "gives" } else { "give" },
                    pct(*incremental_share)
                )
            } else {
                format!(
                    "The incremental model gives {channel} {} of conversions{range}, more than {list}: position-based reports undervalue it{hedge}.",
                    pct(*incremental_share)
                )
            }
        }
        Finding::LargestDrop {
            from,
            to,
            from_count,
            to_count,
            rate,
            others_median,
        } => format!(
            "The largest drop in the funnel is {from} -> {to}: {to_count} of {from_count} ({}) move on, against a median of {} for the other stages.",
            pct(*rate),
            pct(*others_median)
        ),
        Finding::Acceptance {
            mqls,
            accepted,
            rejected,
            rate,
            leading_reason,
        } => {
            let reason = leading_reason.as_ref().map_or_else(String::new, |(r, n)| {
                format!("; the leading rejection reason is \"{r}\" ({n} of {rejected})")
            });
            format!(
                "Sales accepted {accepted} of {mqls} MQLs as SQLs ({}){reason}.",
                ratio_pct(*rate)
            )
        }
        Finding::TimeToClose {
            deals,
            median_days,
            p90_days,
        } => format!(
            "Deals close (won or lost) {median_days:.0} days after the lead was created at the median; 90% within {p90_days:.0} days ({deals} closed deals)."
        ),
        Finding::Velocity {
            current, previous, ..
        } => velocity_line(current, previous.as_ref(), symbol),
        Finding::Roi {
            channel,
            leader,
            roi,
            spend,
            revenue,
            model,
        } => format!(
            "{} ROI: {channel}, {} on {} of spend ({} attributed revenue under {model}).",
            if *leader { "Highest" } else { "Lowest" },
            pct(*roi),
            format_money(*spend, symbol),
            format_money(*revenue, symbol)
        ),
        Finding::RoiUndefined { channels } => format!(
            "ROI is undefined (n/a) for {} (revenue but no recorded spend).",
            channels.join(", ")
        ),
        Finding::BudgetMove {
            from,
            to,
            amount,
            revenue_change,
            conversions_change,
            assumption,
        } => format!(
            "Moving {} from {from} to {to} would change revenue by {} and conversions by {conversions_change:+.1}, assuming {assumption}.",
            format_money(*amount, symbol),
            signed_whole(*revenue_change, symbol)
        ),
        Finding::DataClean { journeys, notes } => format!(
            "The data audit found no warning in {journeys} journeys ({notes} {} for information).",
            if *notes == 1 { "note" } else { "notes" }
        ),
        Finding::DataCaveat {
            check: Check::NoConversions,
            severity,
            subject,
            ..
        } => {
            if subject.as_deref() == Some("non_converting") {
                format!(
                    "Data {severity}: every journey converted; data-driven models need journeys that did not."
                )
            } else {
                format!("Data {severity}: no journey converted; there is no revenue to attribute.")
            }
        }
        Finding::DataCaveat {
            check,
            severity,
            subject,
            count,
            out_of,
        } => {
            let about = subject
                .as_ref()
                .map_or_else(String::new, |s| format!(" ({s})"));
            format!(
                "Data {severity}: {}{about}, {count} of {out_of}.",
                check_words(*check)
            )
        }
    }
}
