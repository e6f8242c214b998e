//! The audit's checks: one pass over the journeys, then leads and spend.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::DateTime;

use super::config::normal_quantile;
use super::{
    AuditConfig, AuditReport, ChannelSufficiency, Check, Figure, Finding, NameMapping, Severity,
    Unit, Verdict,
};
use crate::funnel::{Lead, Ratio};
use crate::journey::Journey;
use crate::money::Currency;
use crate::roi::Spend;
use crate::touchpoint::Touchpoint;

const MS_PER_WEEK: i64 = 7 * 86_400_000;
/// 1970-01-05T00:00:00Z, a Monday: ISO weeks start here.
const MONDAY_MS: i64 = 4 * 86_400_000;

/// Lower-case; every run of characters other than letters and digits
/// becomes one `_`, trimmed at both ends.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// A count with example ids and the earliest moment seen.
#[derive(Default)]
struct Tally {
    count: u64,
    examples: Vec<String>,
    at: Option<i64>,
}

impl Tally {
    fn add(&mut self, id: &str, n: u64, keep: usize) {
        if n == 0 {
            return;
        }
        self.count = self.count.saturating_add(n);
        if self.examples.len() < keep && !self.examples.iter().any(|e| e == id) {
            self.examples.push(id.to_owned());
        }
    }
    fn at(&mut self, ms: i64) {
        self.at = Some(self.at.map_or(ms, |a| a.min(ms)));
    }
}

#[derive(Default)]
struct Chan {
    touches: u64,
    journeys: u64,
    converting: u64,
    non_converting: u64,
    last_journey: Option<usize>,
    /// Whether the name is one of the unknown channels (normalized once).
    unknown: bool,
    weeks: BTreeMap<i64, u64>,
}

struct Out<'c> {
    config: &'c AuditConfig,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn push(
        &mut self,
        check: Check,
        severity: Severity,
        subject: Option<&str>,
        t: Tally,
        out_of: u64,
    ) {
        self.push_with(check, severity, subject, t, out_of, Vec::new());
    }
    fn push_with(
        &mut self,
        check: Check,
        severity: Severity,
        subject: Option<&str>,
        t: Tally,
        out_of: u64,
        figures: Vec<Figure>,
    ) {
        self.push_full(check, severity, subject, t, out_of, figures, Vec::new());
    }
    #[expect(clippy::too_many_arguments, reason = "one finding's fields")]
    fn push_full(
        &mut self,
        check: Check,
        severity: Severity,
        subject: Option<&str>,
        t: Tally,
        out_of: u64,
        figures: Vec<Figure>,
        related: Vec<String>,
    ) {
        if t.count == 0 {
            return;
        }
        self.findings.push(Finding {
            check,
            severity,
            subject: subject.map(str::to_owned),
            count: t.count,
            out_of,
            at: t.at.and_then(DateTime::from_timestamp_millis),
            examples: t.examples,
            figures,
            related,
        });
    }
    /// A completeness share: a warning above the configured share.
    #[expect(clippy::cast_precision_loss, reason = "a share")]
    fn share(&mut self, check: Check, t: Tally, out_of: u64) {
        let share = if out_of == 0 {
            0.0
        } else {
            t.count as f64 / out_of as f64
        };
        let limit = if check == Check::UnknownChannel {
            self.config.get_unknown_share_warning()
        } else {
            self.config.get_share_warning()
        };
        let sev = if share > limit {
            Severity::Warning
        } else {
            Severity::Info
        };
        self.push_with(
            check,
            sev,
            None,
            t,
            out_of,
            vec![Figure::new("share", share, Unit::Share)],
        );
    }
}

#[expect(
    clippy::too_many_lines,
    clippy::cast_precision_loss,
    reason = "one pass, each check a few lines; counts shown as shares"
)]
pub(super) fn run<J: Journey>(
    journeys: &[J],
    leads: &[Lead],
    spend: Option<&Spend>,
    config: &AuditConfig,
) -> AuditReport {
    let keep = config.get_examples();
    let currency = Currency::default();
    let unknown: BTreeSet<String> = config
        .get_unknown_channels()
        .iter()
        .map(|n| normalize(n))
        .collect();
    let dormancy = config.dormancy_ms();
    let as_of = config.get_as_of().map(|t| t.timestamp_millis());
    let oldest = config.get_oldest().timestamp_millis();

    let mut chan_index: HashMap<&str, usize> = HashMap::new();
    let mut chans: Vec<(&str, Chan)> = Vec::new();
    let mut week_totals: BTreeMap<i64, u64> = BTreeMap::new();
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let mut norm_ids: HashMap<String, BTreeSet<&str>> = HashMap::new();

    let (mut t_empty, mut t_dark, mut t_novalue, mut t_badvalue, mut t_badcost) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let (mut t_nocamp, mut t_nocont, mut t_unknown, mut t_emptyname) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let (mut t_duptouch, mut t_after, mut t_future, mut t_old, mut t_unsorted, mut t_gaps) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut with_campaign = 0_u64;
    let mut with_content = 0_u64;
    let mut touches_total = 0_u64;
    let mut converted_total = 0_u64;
    let mut gap_journeys = 0_u64;
    let mut scratch: Vec<(usize, i64)> = Vec::new();
    let mut times: Vec<i64> = Vec::new();

    for (ji, j) in journeys.iter().enumerate() {
        let id = j.id();
        *ids.entry(id).or_insert(0) += 1;
        norm_ids.entry(normalize(id)).or_default().insert(id);
        let outcome = j.outcome();
        let touches = j.touchpoints();
        touches_total += touches.len() as u64;
        if outcome.converted {
            converted_total += 1;
            match currency.to_minor(outcome.value) {
                Ok(Some(0)) => t_novalue.add(id, 1, keep),
                Ok(Some(_)) => {}
                _ => t_badvalue.add(id, 1, keep),
            }
            if touches.is_empty() {
                t_dark.add(id, 1, keep);
            }
        } else if touches.is_empty() {
            t_empty.add(id, 1, keep);
        }
        let conv_ms = if outcome.converted {
            outcome.conversion_ts.map(|t| t.timestamp_millis())
        } else {
            None
        };
        scratch.clear();
        times.clear();
        let mut prev: Option<i64> = None;
        let mut unsorted = false;
        for t in touches {
            let name = t.channel();
            let ms = t.timestamp().timestamp_millis();
            times.push(ms);
            if prev.is_some_and(|p| ms < p) {
                unsorted = true;
            }
            prev = Some(ms);
            let ci = *chan_index.entry(name).or_insert_with(|| {
                chans.push((
                    name,
                    Chan {
                        unknown: unknown.contains(&normalize(name)),
                        ..Chan::default()
                    },
                ));
                chans.len() - 1
            });
            let c = &mut chans[ci].1;
            c.touches += 1;
            if c.last_journey != Some(ji) {
                c.last_journey = Some(ji);
                c.journeys += 1;
                if outcome.converted {
                    c.converting += 1;
                } else {
                    c.non_converting += 1;
                }
            }
            let week = (ms - MONDAY_MS).div_euclid(MS_PER_WEEK);
            *c.weeks.entry(week).or_insert(0) += 1;
            *week_totals.entry(week).or_insert(0) += 1;
            scratch.push((ci, ms));
            if name.is_empty() {
                t_emptyname.add(id, 1, keep);
            } else if chans[ci].1.unknown {
                t_unknown.add(id, 1, keep);
            }
            match t.campaign() {
                Some(_) => with_campaign += 1,
                None => t_nocamp.add(id, 1, keep),
            }
            match t.content() {
                Some(_) => with_content += 1,
                None => t_nocont.add(id, 1, keep),
            }
            if let Some(cost) = t.cost()
                && !matches!(currency.to_minor(cost), Ok(Some(_)))
            {
                t_badcost.add(id, 1, keep);
            }
            if conv_ms.is_some_and(|c| ms > c) {
                t_after.add(id, 1, keep);
                t_after.at(ms);
            }
            if as_of.is_some_and(|now| ms > now) {
                t_future.add(id, 1, keep);
                t_future.at(ms);
            }
            if ms < oldest {
                t_old.add(id, 1, keep);
                t_old.at(ms);
            }
        }
        if unsorted {
            t_unsorted.add(id, 1, keep);
        }
        scratch.sort_unstable();
        let dups = scratch.windows(2).filter(|w| w[0] == w[1]).count() as u64;
        t_duptouch.add(id, dups, keep);
        times.sort_unstable();
        let gaps = times
            .windows(2)
            .filter(|w| w[1].saturating_sub(w[0]) > dormancy)
            .count() as u64;
        if gaps > 0 {
            gap_journeys += 1;
            t_gaps.add(id, gaps, keep);
        }
    }
    let n_journeys = journeys.len() as u64;
    let mut out = Out {
        config,
        findings: Vec::new(),
    };

    // ---- completeness
    out.push(
        Check::InvalidValues,
        Severity::Blocking,
        None,
        t_badvalue,
        converted_total,
    );
    out.push(
        Check::InvalidCosts,
        Severity::Blocking,
        None,
        t_badcost,
        touches_total,
    );
    out.push(
        Check::EmptyJourneys,
        Severity::Info,
        None,
        t_empty,
        n_journeys,
    );
    out.share(Check::DarkConversions, t_dark, converted_total);
    out.share(Check::ConversionsWithoutValue, t_novalue, converted_total);
    if with_campaign > 0 {
        out.share(Check::MissingCampaign, t_nocamp, touches_total);
    }
    if with_content > 0 {
        out.share(Check::MissingContent, t_nocont, touches_total);
    }
    out.share(Check::UnknownChannel, t_unknown, touches_total);

    // ---- consistency
    out.push(
        Check::EmptyChannelNames,
        Severity::Warning,
        None,
        t_emptyname,
        touches_total,
    );
    let mut dup_ids = Tally::default();
    for j in journeys {
        let n = ids.get(j.id()).copied().unwrap_or(0);
        if n > 1 && !dup_ids.examples.iter().any(|e| e == j.id()) {
            dup_ids.add(j.id(), n - 1, keep);
            if dup_ids.examples.len() >= keep {
                break;
            }
        }
    }
    dup_ids.count = ids.values().map(|n| n.saturating_sub(1)).sum();
    out.push(
        Check::DuplicateJourneyIds,
        Severity::Blocking,
        None,
        dup_ids,
        n_journeys,
    );
    out.push(
        Check::DuplicateTouches,
        Severity::Warning,
        None,
        t_duptouch,
        touches_total,
    );
    out.push(
        Check::TouchesAfterConversion,
        Severity::Warning,
        None,
        t_after,
        touches_total,
    );
    out.push(
        Check::FutureTimestamps,
        Severity::Warning,
        None,
        t_future,
        touches_total,
    );
    out.push(
        Check::AncientTimestamps,
        Severity::Warning,
        None,
        t_old,
        touches_total,
    );
    out.push(
        Check::UnsortedTouches,
        Severity::Info,
        None,
        t_unsorted,
        n_journeys,
    );

    // name variants: journeys, lead touches and spend
    let mut spellings: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (name, c) in &chans {
        if !name.is_empty() {
            *spellings
                .entry(normalize(name))
                .or_default()
                .entry((*name).to_owned())
                .or_insert(0) += c.touches;
        }
    }
    for l in leads {
        for t in l.touches() {
            if !t.channel.is_empty() {
                *spellings
                    .entry(normalize(&t.channel))
                    .or_default()
                    .entry(t.channel.to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    let spend_channels = spend.map(Spend::channels).unwrap_or_default();
    for name in &spend_channels {
        spellings
            .entry(normalize(name))
            .or_default()
            .entry((*name).to_owned())
            .or_insert(0);
    }
    let mut mapping = Vec::new();
    for (norm, names) in &spellings {
        if names.len() < 2 {
            continue;
        }
        let best = names
            .iter()
            .max_by(|a, b| {
                a.1.cmp(b.1)
                    .then_with(|| (a.0 == norm).cmp(&(b.0 == norm)))
                    .then_with(|| b.0.cmp(a.0))
            })
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        let mut t = Tally::default();
        let total: u64 = names.values().sum();
        let mut related = Vec::new();
        for (n, k) in names {
            if *n != best {
                t.count += k;
                related.push(n.clone());
                mapping.push(NameMapping {
                    from: n.clone(),
                    to: best.clone(),
                    touches: *k,
                });
            }
        }
        t.count = t.count.max(1);
        out.push_full(
            Check::NameVariants,
            Severity::Warning,
            Some(&best),
            t,
            total,
            vec![Figure::new("spellings", names.len() as f64, Unit::Count)],
            related,
        );
    }
    mapping.sort_by(|a, b| a.from.cmp(&b.from));

    // ---- engagement
    if t_gaps.count > 0 {
        let days = config.get_dormancy_days();
        let journeys_affected = gap_journeys;
        out.push_with(
            Check::DormantGaps,
            Severity::Info,
            None,
            t_gaps,
            n_journeys,
            vec![
                Figure::new("journeys", journeys_affected as f64, Unit::Count),
                Figure::new("threshold_days", days, Unit::Days),
            ],
        );
    }
    let mut ident = Tally::default();
    for (_, group) in norm_ids.iter().filter(|(_, g)| g.len() > 1) {
        // BTreeSet: the examples are deterministic
        if let Some(first) = group.iter().next() {
            ident.add(first, (group.len() - 1) as u64, keep);
        }
    }
    if ident.count > 0 {
        ident.examples.sort();
        out.push(
            Check::IdentityMerges,
            Severity::Info,
            Some("journey ids"),
            ident,
            n_journeys,
        );
    }
    lead_checks(leads, config, &mut out);

    // ---- tracking breaks
    let active: Vec<(i64, u64)> = week_totals.into_iter().collect();
    for (name, c) in &chans {
        tracking(name, c, &active, config, &mut out);
    }

    // ---- sufficiency
    let c_all = converted_total;
    let n_all = n_journeys - converted_total;
    if n_journeys > 0 && c_all == 0 {
        let mut t = Tally::default();
        t.add("converting", 1, 0);
        out.push(
            Check::NoConversions,
            Severity::Blocking,
            Some("converting"),
            t,
            n_journeys,
        );
    } else if n_journeys > 0 && n_all == 0 {
        let mut t = Tally::default();
        t.add("non_converting", 1, 0);
        out.push(
            Check::NoConversions,
            Severity::Warning,
            Some("non_converting"),
            t,
            n_journeys,
        );
    }
    let level = config.get_level();
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let base = Ratio::of(c_all as f64, n_journeys as f64)
        .value()
        .unwrap_or(0.0);
    let m = config.get_min_conversions();
    let mut channels: Vec<ChannelSufficiency> = Vec::new();
    for (name, c) in &chans {
        let upper = if c.converting == 0 && c.journeys > 0 {
            Ratio::Defined(1.0 - (1.0 - level).powf(1.0 / c.journeys as f64))
        } else {
            Ratio::Undefined
        };
        let no_evidence = upper.value().is_some_and(|u| u < base);
        let verdict = |enough: bool| {
            if enough {
                Verdict::Enough
            } else if no_evidence {
                Verdict::NoEvidence
            } else {
                Verdict::TooLittleData
            }
        };
        let s = ChannelSufficiency {
            channel: (*name).to_owned(),
            touches: c.touches,
            journeys: c.journeys,
            converting: c.converting,
            non_converting: c.non_converting,
            rule_based: verdict(c.converting >= m),
            data_driven: verdict(c.converting >= m && c.non_converting >= m),
            incremental: verdict(
                c.converting >= m
                    && c.non_converting >= m
                    && c_all - c.converting >= m
                    && n_all - c.non_converting >= m,
            ),
            relative_half_width: Ratio::of(z, (c.converting as f64).sqrt()),
            rate_upper_bound: upper,
        };
        let t = Tally {
            count: c.journeys,
            ..Tally::default()
        };
        if no_evidence {
            out.push_with(
                Check::NoEvidence,
                Severity::Warning,
                Some(name),
                t,
                n_journeys,
                vec![
                    Figure::new("conversions", 0.0, Unit::Count),
                    Figure::new(
                        "rate_upper_bound",
                        upper.value().unwrap_or(1.0),
                        Unit::Share,
                    ),
                    Figure::new("average_rate", base, Unit::Share),
                ],
            );
        } else if c_all > 0
            && [s.rule_based, s.data_driven, s.incremental].contains(&Verdict::TooLittleData)
        {
            let lacking = [
                ("rule_based", s.rule_based),
                ("data_driven", s.data_driven),
                ("incremental", s.incremental),
            ]
            .into_iter()
            .filter(|(_, v)| *v == Verdict::TooLittleData)
            .map(|(f, _)| f.to_owned())
            .collect();
            out.push_full(
                Check::TooLittleData,
                Severity::Info,
                Some(name),
                t,
                n_journeys,
                vec![
                    Figure::new("converting", c.converting as f64, Unit::Count),
                    Figure::new("non_converting", c.non_converting as f64, Unit::Count),
                    Figure::new("needed", m as f64, Unit::Count),
                ]
                .into_iter()
                .chain(
                    s.relative_half_width
                        .value()
                        .map(|w| Figure::new("relative_half_width", w, Unit::Share)),
                )
                .collect(),
                lacking,
            );
        }
        channels.push(s);
    }
    channels.sort_by(|a, b| a.channel.cmp(&b.channel));

    // ---- spend
    if let Some(sp) = spend {
        for name in &spend_channels {
            if !chan_index.contains_key(name) {
                let mut t = Tally::default();
                t.add(name, 1, keep);
                out.push_with(
                    Check::SpendWithoutTouches,
                    Severity::Warning,
                    Some(name),
                    t,
                    spend_channels.len() as u64,
                    vec![Figure::new(
                        "spend",
                        sp.currency().to_major_wide(sp.channel_minor(name)),
                        Unit::Money,
                    )],
                );
            }
        }
    }

    let mut findings = out.findings;
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check.cmp(&b.check))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    AuditReport {
        journeys: n_journeys,
        touches: touches_total,
        conversions: converted_total,
        leads: leads.len() as u64,
        findings,
        channels,
        name_mapping: mapping,
    }
}

/// Unknown stage names, stalled leads, lead identities and accounts.
#[expect(clippy::cast_precision_loss, reason = "figures")]
fn lead_checks(leads: &[Lead], config: &AuditConfig, out: &mut Out<'_>) {
    if leads.is_empty() {
        return;
    }
    let keep = config.get_examples();
    let stages = config.get_stages();
    let opp = stages.index(stages.opportunity()).unwrap_or(0);
    let won = stages.progression().len().saturating_sub(1);
    let mut unknown: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut stalled = Tally::default();
    let sla_ms = i64::from(config.get_sla_days()) * 86_400_000;
    let as_of = config.get_as_of().map(|t| t.timestamp_millis());
    let mut norm: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut accounts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut open = 0_u64;
    for l in leads {
        norm.entry(normalize(l.id())).or_default().insert(l.id());
        if let Some(a) = l.account() {
            *accounts.entry(a).or_insert(0) += 1;
        }
        // (time, progression index or None for an exit)
        let mut entries: Vec<(i64, Option<usize>)> = Vec::new();
        for e in l.entries() {
            if let Ok(i) = stages.index(&e.stage) {
                entries.push((e.at.timestamp_millis(), Some(i)));
            } else if stages.exits().contains(&e.stage) {
                entries.push((e.at.timestamp_millis(), None));
            } else {
                unknown
                    .entry(e.stage.as_str())
                    .or_default()
                    .add(l.id(), 1, keep);
            }
        }
        entries.sort_unstable();
        let Some(now) = as_of else { continue };
        let Some(&(last, stage)) = entries.last() else {
            continue;
        };
        let highest = entries.iter().filter_map(|e| e.1).max();
        if let (Some(_), Some(h)) = (stage, highest)
            && h < opp
            && h < won
        {
            open += 1;
            if now.saturating_sub(last) > sla_ms {
                stalled.add(l.id(), 1, keep);
            }
        }
    }
    let valid: Vec<String> = stages
        .progression()
        .iter()
        .chain(stages.exits())
        .cloned()
        .collect();
    for (name, t) in unknown {
        let n = leads.len() as u64;
        out.push_full(
            Check::UnknownStages,
            Severity::Blocking,
            Some(name),
            t,
            n,
            Vec::new(),
            valid.clone(),
        );
    }
    out.push_with(
        Check::StalledLeads,
        Severity::Info,
        None,
        stalled,
        open,
        vec![Figure::new(
            "sla_days",
            f64::from(config.get_sla_days()),
            Unit::Days,
        )],
    );
    let mut ident = Tally::default();
    for g in norm.values().filter(|g| g.len() > 1) {
        if let Some(first) = g.iter().next() {
            ident.add(first, (g.len() - 1) as u64, keep);
        }
    }
    let dup_ids = leads.len() as u64 - norm.values().map(|g| g.len() as u64).sum::<u64>();
    ident.count += dup_ids;
    if dup_ids > 0 && ident.examples.is_empty() {
        ident.examples.push("(repeated lead ids)".to_owned());
    }
    out.push(
        Check::IdentityMerges,
        Severity::Info,
        Some("lead ids"),
        ident,
        leads.len() as u64,
    );
    let mut shared = Tally::default();
    for (a, n) in &accounts {
        if *n > 1 {
            shared.add(a, n - 1, keep);
        }
    }
    let people: u64 = accounts.values().sum();
    out.push_with(
        Check::IdentityMerges,
        Severity::Info,
        Some("accounts"),
        shared,
        people,
        vec![Figure::new("accounts", accounts.len() as f64, Unit::Count)],
    );
}

/// Drops to zero and tenfold jumps of one channel's weekly volume.
#[expect(clippy::cast_precision_loss, reason = "weekly means")]
fn tracking(name: &str, c: &Chan, active: &[(i64, u64)], config: &AuditConfig, out: &mut Out<'_>) {
    let min = config.get_min_weekly() as f64;
    let gidx = |w: i64| active.binary_search_by_key(&w, |a| a.0).ok();
    let count_at = |g: usize| c.weeks.get(&active[g].0).copied().unwrap_or(0);
    let mut candidates = BTreeSet::new();
    for &w in c.weeks.keys() {
        if let Some(g) = gidx(w) {
            candidates.insert(g);
            if g + 1 < active.len() {
                candidates.insert(g + 1);
            }
        }
    }
    let (mut drop, mut jump) = (Tally::default(), Tally::default());
    let (mut drop_base, mut jump_ratio) = (0.0, 0.0);
    for g in candidates.into_iter().filter(|&g| g >= 4) {
        let base = (g - 4..g).map(count_at).sum::<u64>() as f64 / 4.0;
        if base < min {
            continue;
        }
        let cur = count_at(g);
        let total_base = (g - 4..g).map(|k| active[k].1).sum::<u64>() as f64 / 4.0;
        let total_now = active[g].1 as f64;
        let week_ms = active[g]
            .0
            .saturating_mul(MS_PER_WEEK)
            .saturating_add(MONDAY_MS);
        if cur == 0 && total_now * 2.0 >= total_base {
            if drop.count == 0 {
                drop.at(week_ms);
                drop_base = base;
            }
            drop.count += 1;
        }
        let others_base = total_base - base;
        let others_now = total_now - cur as f64;
        if cur as f64 >= 10.0 * base && others_now < 10.0 * others_base {
            if jump.count == 0 {
                jump.at(week_ms);
                jump_ratio = cur as f64 / base;
            }
            jump.count += 1;
        }
    }
    let weeks = active.len() as u64;
    out.push_with(
        Check::TrackingDrop,
        Severity::Warning,
        Some(name),
        drop,
        weeks,
        vec![Figure::new("weekly_mean_before", drop_base, Unit::Count)],
    );
    out.push_with(
        Check::TrackingJump,
        Severity::Warning,
        Some(name),
        jump,
        weeks,
        vec![Figure::new("times_the_mean", jump_ratio, Unit::Times)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_spacing_and_punctuation() {
        assert_eq!(normalize("Paid Search"), "paid_search");
        assert_eq!(normalize("paid-search"), "paid_search");
        assert_eq!(normalize("  paid__search!! "), "paid_search");
        assert_eq!(normalize("(direct)"), "direct");
        assert_eq!(normalize("--"), "");
        assert_eq!(normalize("É-mail"), "é_mail");
    }

    #[test]
    fn tally_keeps_distinct_examples_up_to_the_limit() {
        let mut t = Tally::default();
        for id in ["a", "a", "b", "c"] {
            t.add(id, 1, 2);
        }
        t.add("d", 0, 2);
        assert_eq!(t.count, 4);
        assert_eq!(t.examples, ["a", "b"]);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2025-01-06 is a Monday, 2025-01-05 a Sunday
        let mon = DateTime::parse_from_rfc3339("2025-01-06T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        let sun = mon - 1;
        let w = |ms: i64| (ms - MONDAY_MS).div_euclid(MS_PER_WEEK);
        assert_eq!(w(mon), w(sun) + 1);
        assert_eq!(w(mon + 6 * 86_400_000), w(mon));
        assert_eq!(w(mon) * MS_PER_WEEK + MONDAY_MS, mon);
    }
}
