//! A quarter of B2B funnel reporting on built-in synthetic data: first
//! what the quarter says in plain words (the data audit and the findings
//! narrative), then the funnel with conversion rates, lead-to-revenue,
//! pipeline velocity, content performance and ROI per channel. Amounts are
//! in USD.
//!
//! Run with `cargo run --example b2b_report`. The data (about 3,000
//! people at 600 accounts, Q1 2025) is generated deterministically inside
//! this program from a fixed seed; no files are read.

use std::error::Error;

use chrono::{DateTime, Duration, Utc};
use touchpoint::audit::{AuditConfig, Severity, audit_with};
use touchpoint::bootstrap::{BootstrapConfig, bootstrap_model};
use touchpoint::funnel;
use touchpoint::funnel::{
    ContentPartial, Cycles, FunnelConfig, FunnelMetrics, Lead, Owner, Ratio, SliceBy,
    SourcesReport, StageProbabilities, WinRate, merge_duplicates, roll_up_accounts,
};
use touchpoint::incremental::{Incremental, IncrementalConfig, bootstrap_effects};
use touchpoint::models::{FirstTouch, LastTouch, Linear};
use touchpoint::roi::{RoiReport, Spend};
use touchpoint::story::{StoryInput, english};
use touchpoint::{JourneySet, SimpleJourney, SimpleTouch, attribute};

/// xorshift64*: a tiny fixed-seed generator, so every run prints the same report.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Channel, its campaigns, MQL propensity, and monthly spend (USD).
const CHANNELS: [(&str, [&str; 2], f64, f64); 7] = [
    ("paid_search", ["brand", "generic"], 0.45, 42_000.0),
    (
        "paid_social",
        ["abm_linkedin", "retargeting"],
        0.30,
        30_000.0,
    ),
    (
        "webinar",
        ["q1_webinar_series", "partner_webinar"],
        0.65,
        12_000.0,
    ),
    (
        "content_syndication",
        ["ebook_syndication", "analyst_report"],
        0.35,
        18_000.0,
    ),
    ("email", ["nurture", "newsletter"], 0.40, 3_000.0),
    ("organic", ["seo", "blog"], 0.50, 0.0),
    ("events", ["summit_2025", "field_dinners"], 0.70, 25_000.0),
];
const SDR: &str = "sdr_outbound";
const ASSETS: [&str; 6] = [
    "ebook_ai_ops",
    "roi_calculator",
    "case_study_acme",
    "whitepaper_security",
    "webinar_recording",
    "pricing_page",
];
const SEGMENTS: [(&str, f64, f64); 3] = [
    ("enterprise", 120_000.0, 0.20),
    ("mid_market", 45_000.0, 0.30),
    ("smb", 12_000.0, 0.40),
];
const MQL_REJECT: [&str; 4] = [
    "no budget",
    "student or job seeker",
    "competitor",
    "bad fit",
];
const LOST: [&str; 3] = ["price", "no decision", "lost to competitor"];

fn day(start: DateTime<Utc>, d: i64) -> DateTime<Utc> {
    start + Duration::days(d)
}

/// One synthetic person: touches, stage entries and outcome.
fn person(rng: &mut Rng, i: usize, q: DateTime<Utc>) -> Lead {
    let account = rng.below(600);
    let (segment, deal, win) = SEGMENTS[(account % 3) as usize];
    let sales_sourced = rng.chance(0.18);
    let (ch, camps, mql_p, _) = CHANNELS[rng.below(CHANNELS.len() as u64) as usize];
    let created = rng.below(75) as i64;
    let mut lead = Lead::new(format!("p{i:05}"))
        .with_account(format!("acct{account:03}"))
        .with_segment(segment)
        .with_owner(if sales_sourced {
            Owner::Sales
        } else {
            Owner::Marketing
        });
    let amount = (deal * (0.5 + rng.unit())).round();
    // the first touch: the SDR for sales-sourced leads, else a marketing channel
    let first = if sales_sourced {
        SimpleTouch::new(SDR, day(q, created))
    } else {
        let mut t = SimpleTouch::new(ch, day(q, created)).campaign(rng.pick(&camps));
        if rng.chance(0.6) {
            t = t.content(rng.pick(&ASSETS));
        }
        t
    };
    lead = lead.touch(first);
    // later touches
    for k in 0..rng.below(4) {
        let (c2, camps2, _, _) = CHANNELS[rng.below(CHANNELS.len() as u64) as usize];
        let mut t = SimpleTouch::new(c2, day(q, created + 1 + 3 * k as i64 + rng.below(3) as i64))
            .campaign(rng.pick(&camps2));
        if rng.chance(0.5) {
            t = t.content(rng.pick(&ASSETS));
        }
        lead = lead.touch(t);
    }
    // the funnel
    let mut t = created;
    lead = lead.stage("inquiry", day(q, t));
    if !(sales_sourced || rng.chance(mql_p)) {
        return lead;
    }
    t += 2 + rng.below(10) as i64;
    if !sales_sourced {
        lead = lead.stage("mql", day(q, t));
    }
    if !rng.chance(0.7) {
        if rng.chance(0.25) && t < 40 {
            // recycled to nurture; comes back later through another channel
            lead = lead.stage_with_reason("recycled", day(q, t + 5), "not ready");
            let (c2, camps2, _, _) = CHANNELS[rng.below(CHANNELS.len() as u64) as usize];
            let back = t + 35 + rng.below(10) as i64;
            lead = lead
                .touch(SimpleTouch::new(c2, day(q, back)).campaign(rng.pick(&camps2)))
                .stage("mql", day(q, back + 1));
            if rng.chance(0.5) {
                lead = lead
                    .stage("sal", day(q, back + 3))
                    .stage("sql", day(q, back + 6));
            }
            return lead;
        }
        return if rng.chance(0.7) {
            lead.stage_with_reason("disqualified", day(q, t + 5), rng.pick(&MQL_REJECT))
        } else {
            lead
        };
    }
    t += 1 + rng.below(4) as i64;
    lead = lead.stage("sal", day(q, t));
    t += 1 + rng.below(6) as i64;
    lead = lead.stage("sql", day(q, t));
    if !rng.chance(0.6) {
        return lead.stage_with_reason("disqualified", day(q, t + 7), rng.pick(&MQL_REJECT));
    }
    t += 3 + rng.below(10) as i64;
    lead = lead.stage("opportunity", day(q, t)).with_amount(amount); // deals carry amounts
    let close = t + 20 + rng.below(60) as i64;
    if close > 89 || rng.chance(0.2) {
        return lead; // still open at the end of the quarter
    }
    if rng.chance(win * 1.8) {
        lead.stage("closed_won", day(q, close))
    } else {
        lead.stage_with_reason("closed_lost", day(q, close), rng.pick(&LOST))
    }
}

/// The won records as journeys for attribution: touches up to the win,
/// converted for the deal amount.
fn won_journeys(leads: &[Lead]) -> Result<JourneySet, touchpoint::Error> {
    let js: Vec<SimpleJourney> = leads
        .iter()
        .filter_map(|l| {
            let won = l.entries().iter().find(|e| e.stage == "closed_won")?;
            let mut j = SimpleJourney::new(l.id()).converted(l.amount().unwrap_or(0.0));
            j.touchpoints = l
                .touches()
                .iter()
                .filter(|t| t.ts <= won.at)
                .cloned()
                .collect();
            Some(j)
        })
        .collect();
    JourneySet::from_journeys(&js)
}

/// Every person as a journey: all touches, converted for the deal amount
/// when won (the population the audit and the incremental model need).
fn people_journeys(leads: &[Lead]) -> Vec<SimpleJourney> {
    leads
        .iter()
        .map(|l| {
            let won = l.entries().iter().any(|e| e.stage == "closed_won");
            let mut j = SimpleJourney::new(l.id());
            if won {
                j = j.converted(l.amount().unwrap_or(0.0));
            }
            j.touchpoints = l.touches().to_vec();
            j
        })
        .collect()
}

fn money(x: f64) -> String {
    let neg = x < 0.0;
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if neg { "-" } else { "" })
}

fn minor(x: i128) -> String {
    money(x as f64 / 100.0)
}

fn pct(r: Ratio) -> String {
    match r {
        Ratio::Defined(v) => format!("{:.1}%", v * 100.0),
        Ratio::Undefined => "n/a".into(),
    }
}

fn amt(r: Ratio) -> String {
    r.value().map_or_else(|| "n/a".into(), money)
}

fn days(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |d| format!("{d:.1}"))
}

fn heading(s: &str) {
    println!("\n{s}\n{}", "=".repeat(s.len()));
}

fn funnel_table(m: &FunnelMetrics) -> Result<(), Box<dyn Error>> {
    let t = m.total();
    heading("Funnel (cohort view: people created in Q1 2025)");
    println!(
        "{:<13} {:>7} {:>11} {:>11}",
        "stage", "people", "from prev", "from top"
    );
    let counts = t.stage_counts();
    let top = counts[0].count as f64;
    for (i, c) in counts.iter().enumerate() {
        let prev = if i == 0 {
            Ratio::Undefined
        } else {
            t.cohort_conversions()[i - 1].rate
        };
        println!(
            "{:<13} {:>7} {:>11} {:>11}",
            c.stage,
            c.count,
            pct(prev),
            pct(Ratio::of(c.count as f64, top))
        );
    }
    for e in t.exit_counts() {
        println!("{:<13} {:>7} {:>11}", e.stage, e.count, "(exit)");
    }
    let a = t.acceptance();
    println!(
        "\nMQL -> SQL acceptance: {} of {} MQLs ({}), {} rejected, {} pending",
        a.accepted,
        a.mqls,
        pct(a.rate),
        a.rejected,
        a.pending
    );
    println!("  {:<34} {:>6}", "rejection reason", "people");
    for (reason, n) in &a.reasons {
        println!("  {reason:<34} {n:>6}");
    }
    println!(
        "\n{:<13} {:>7} {:>9} {:>9} {:>9}",
        "time in stage", "people", "mean days", "median", "p90"
    );
    for s in &m.config().stages().progression()[..5] {
        let d = t.time_in_stage(s)?;
        println!(
            "{:<13} {:>7} {:>9} {:>9} {:>9}",
            s,
            d.count,
            days(d.mean_days),
            days(d.median_days),
            days(d.p90_days)
        );
    }
    let c = t.time_to_close();
    println!(
        "{:<13} {:>7} {:>9} {:>9} {:>9}",
        "to close",
        c.count,
        days(c.mean_days),
        days(c.median_days),
        days(c.p90_days)
    );
    let p = t.period_conversions();
    println!(
        "\nPeriod view (stage entries per month, people; mql->sql = SQL entries / MQL entries)"
    );
    print!("{:<8}", "month");
    for s in m.config().stages().progression() {
        print!(" {s:>11}");
    }
    println!(" {:>10}", "mql->sql");
    for row in &p {
        print!("{:<8}", row.period);
        for e in &row.entries {
            print!(" {:>11}", e.count);
        }
        let mql = row.entries[1].count as f64;
        println!(" {:>10}", pct(Ratio::of(row.entries[3].count as f64, mql)));
    }
    Ok(())
}

fn lead_to_revenue(by_channel: &FunnelMetrics, total: &FunnelMetrics) {
    heading("Lead-to-revenue by original source (the lead's first touch; USD)");
    println!(
        "{:<20} {:>6} {:>6} {:>5} {:>12} {:>10} {:>10} {:>8}",
        "source", "leads", "MQLs", "won", "revenue", "rev/lead", "rev/MQL", "win %"
    );
    for s in by_channel.slices().iter().chain([by_channel.total()]) {
        let r = s.lead_to_revenue();
        println!(
            "{:<20} {:>6} {:>6} {:>5} {:>12} {:>10} {:>10} {:>8}",
            s.key(),
            r.leads,
            r.mqls,
            r.won,
            minor(r.revenue_minor),
            amt(r.revenue_per_lead),
            amt(r.revenue_per_mql),
            pct(r.lead_to_win)
        );
    }
    let r = total.total().revenue();
    println!(
        "\nRevenue won {} in {} deals:",
        minor(r.revenue_minor),
        r.won
    );
    println!("  {:<31} {:>12}  deals, share", "", "USD");
    println!(
        "  marketing-sourced    {:>12}  ({} deals, {} of revenue)",
        minor(r.marketing_sourced_minor),
        r.marketing_sourced_won,
        pct(r.marketing_share())
    );
    println!(
        "  sales-sourced        {:>12}  ({} deals)",
        minor(r.sales_sourced_minor),
        r.sales_sourced_won
    );
    println!(
        "  of which marketing-influenced {:>12}  ({} deals)",
        minor(r.influenced_sales_sourced_minor),
        r.influenced_sales_sourced_won
    );
    println!(
        "  marketing sourced or influenced: {}",
        pct(r.marketing_touched_share())
    );
}

fn velocity(by_segment: &FunnelMetrics) -> Result<(), Box<dyn Error>> {
    heading("Pipeline velocity (won / closed win rate; cycle from opportunity)");
    println!(
        "per day = opportunities x win rate x average deal / cycle days: revenue moving through the\n\
         pipeline per day (USD/day), not revenue won per day of the quarter."
    );
    println!(
        "{:<12} {:>6} {:>6} {:>9} {:>11} {:>9} {:>12}",
        "segment", "opps", "won", "win rate", "avg deal $", "cycle d", "$ per day"
    );
    for s in by_segment.slices().iter().chain([by_segment.total()]) {
        let v = s.velocity(WinRate::WonOverClosed);
        println!(
            "{:<12} {:>6} {:>6} {:>9} {:>11} {:>9} {:>12}",
            s.key(),
            v.opportunities,
            v.won,
            pct(v.win_rate),
            amt(v.average_deal),
            v.average_cycle_days
                .value()
                .map_or("n/a".into(), |d| format!("{d:.1}")),
            amt(v.per_day)
        );
    }
    let all = by_segment.total().velocity(WinRate::WonOverAll);
    println!(
        "(win rate as won / all opportunities: {}, velocity {} per day)",
        pct(all.win_rate),
        amt(all.per_day)
    );
    let p = by_segment.total().pipeline(&StageProbabilities::Learned)?;
    println!("\nOpen pipeline (probabilities learned from closed records; USD)");
    println!(
        "{:<12} {:>6} {:>12} {:>8} {:>12}",
        "stage", "open", "amount", "p(win)", "weighted"
    );
    for s in &p.stages {
        println!(
            "{:<12} {:>6} {:>12} {:>8} {:>12}",
            s.stage,
            s.count,
            minor(s.amount_minor),
            pct(s.probability),
            amt(s.weighted)
        );
    }
    println!(
        "{:<12} {:>6} {:>12} {:>8} {:>12}",
        "total",
        "",
        minor(p.open_minor),
        "",
        money(p.weighted)
    );
    Ok(())
}

fn content(leads: &[Lead], cfg: &FunnelConfig) -> Result<(), Box<dyn Error>> {
    let mut p = ContentPartial::new(&Linear, cfg.clone());
    for l in leads {
        p.observe(&Linear, l)?;
    }
    let r = p.finish();
    heading("Content performance (opportunities and revenue under linear attribution)");
    println!(
        "{:<22} {:>6} {:>8} {:>12}",
        "asset", "MQLs", "opps", "revenue $"
    );
    for l in &r.lines {
        println!(
            "{:<22} {:>6} {:>8.1} {:>12}",
            l.asset,
            l.mqls,
            l.opportunities,
            minor(l.revenue_minor)
        );
    }
    println!(
        "{:<22} {:>6} {:>8.1} {:>12}",
        "(no asset)",
        r.mqls_without_content,
        r.unassigned_opportunities,
        minor(r.unassigned_revenue_minor)
    );
    println!("MQL counts are participation (an MQL that read two assets counts for both).");
    Ok(())
}

/// The quarter's spend book (USD per channel, campaign and month).
fn spend_book() -> Result<Spend, touchpoint::Error> {
    let mut spend = Spend::new();
    for (ch, camps, _, monthly) in CHANNELS {
        for (m, month) in ["2025-01", "2025-02", "2025-03"].iter().enumerate() {
            for (k, c) in camps.iter().enumerate() {
                let share = if k == 0 { 0.6 } else { 0.4 };
                spend.add(ch, Some(c), month, monthly * share * (0.9 + 0.1 * m as f64))?;
            }
        }
    }
    spend.add(SDR, None, "2025-Q1", 0.0)?;
    Ok(spend)
}

/// The audit and the findings narrative, printed first.
fn what_this_quarter_says(
    people: &[Lead],
    total: &FunnelMetrics,
    by_channel: &FunnelMetrics,
) -> Result<(), Box<dyn Error>> {
    let won = won_journeys(people)?;
    let linear = attribute(&Linear, &won)?;
    let first = attribute(&FirstTouch, &won)?;
    let last = attribute(&LastTouch, &won)?;
    let boot = BootstrapConfig::new().replicates(200)?.seed(2025);
    let intervals = bootstrap_model(&Linear, &won, &boot)?;
    let everyone = people_journeys(people);
    let all = JourneySet::from_journeys(&everyone)?;
    let inc_cfg = IncrementalConfig::default();
    let inc = Incremental::fit(&all, &inc_cfg)?;
    let inc_boot = BootstrapConfig::new().replicates(40)?.seed(2025);
    let inc_intervals = bootstrap_effects(&all, &inc_cfg, &inc_boot)?;
    let spend = spend_book()?;
    let roi = RoiReport::by_channel(&linear, &spend, Some(by_channel))?;
    let audit = audit_with(&everyone, people, Some(&spend), &AuditConfig::new());
    heading("Data audit");
    println!(
        "{} journeys, {} touches, {} won, {} leads audited; {} findings:",
        audit.journeys(),
        audit.touches(),
        audit.conversions(),
        audit.leads(),
        audit.findings().len()
    );
    println!(
        "{:<9} {:<26} {:<20} {:>7} {:>7}",
        "severity", "check", "subject", "count", "of"
    );
    for f in audit.findings() {
        println!(
            "{:<9} {:<26} {:<20} {:>7} {:>7}",
            f.severity,
            f.check,
            f.subject.as_deref().unwrap_or("-"),
            f.count,
            f.out_of
        );
    }
    if audit.worst() < Some(Severity::Warning) {
        println!("Nothing above info: the figures below can be read as they are.");
    }
    heading("What this quarter says");
    let findings = StoryInput::new(&linear)
        .intervals(&intervals)
        .compare(&[&first, &last])
        .incremental(&inc, Some(&inc_intervals))
        .funnel(total, None)
        .roi(&roi)
        .audit(&audit)
        .findings()?;
    for f in &findings {
        println!("- {}", english(f, "$"));
    }
    Ok(())
}

fn roi(leads: &[Lead], by_channel: &FunnelMetrics) -> Result<(), Box<dyn Error>> {
    let report = attribute(&Linear, &won_journeys(leads)?)?;
    let spend = spend_book()?;
    let r = RoiReport::by_channel(&report, &spend, Some(by_channel))?;
    heading(
        "ROI per channel (linear attribution of won revenue; costs per funnel stage by source)",
    );
    println!(
        "Amounts in USD. Revenue, ROI, ROAS and CAC: linear credit. Cost per lead/MQL/SQL/opp: spend /\n\
         records the channel sourced (a record counts for its lead's first touch, the funnel's slice\n\
         rule). n/a: no spend recorded, or nothing to divide by."
    );
    println!(
        "{:<20} {:>10} {:>11} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "channel", "spend", "revenue", "ROI", "ROAS", "CPL", "per MQL", "per SQL", "per opp", "CAC"
    );
    for l in r.lines().iter().chain([r.total()]) {
        println!(
            "{:<20} {:>10} {:>11} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9}",
            l.name,
            minor(l.spend_minor),
            minor(l.revenue_minor),
            pct(l.roi),
            l.roas.value().map_or("n/a".into(), |x| format!("{x:.1}x")),
            amt(l.cost_per_lead),
            amt(l.cost_per_mql),
            amt(l.cost_per_sql),
            amt(l.cost_per_opportunity),
            amt(l.cac)
        );
    }
    let s = r.move_spend("paid_social", "webinar", 20_000.0)?;
    println!(
        "\nScenario: move {} from {} to {}: {:+.1} deals, {} revenue",
        minor(s.amount_minor),
        s.from,
        s.to,
        s.conversions_change,
        money(s.revenue_change)
    );
    println!("Assumption: {}.", s.assumption);
    let sessions = [
        ("paid_search", 21_000),
        ("paid_social", 30_000),
        ("webinar", 2_400),
        ("content_syndication", 4_000),
        ("email", 9_000),
        ("organic", 26_000),
        ("events", 1_500),
    ];
    let src = SourcesReport::from_funnel(&sessions, by_channel)?;
    println!("\nSources: sessions -> contacts");
    println!(
        "{:<20} {:>8} {:>8} {:>8}",
        "source", "sessions", "contacts", "rate"
    );
    for l in src.lines() {
        println!(
            "{:<20} {:>8} {:>8} {:>8}",
            l.source,
            l.sessions,
            l.contacts,
            pct(l.rate)
        );
    }
    let w = src.what_if("organic", 5_000)?;
    println!(
        "What if organic got 5,000 more sessions: {:.0} new contacts at {}",
        w.expected_contacts.value().unwrap_or(0.0),
        pct(w.rate)
    );
    Ok(())
}

fn run() -> Result<(), Box<dyn Error>> {
    let q: DateTime<Utc> = "2025-01-01T00:00:00Z".parse()?;
    let mut rng = Rng(0x5EED_B2B0_2025_0001);
    let mut people: Vec<Lead> = (0..3_000).map(|i| person(&mut rng, i, q)).collect();
    // a few CRM duplicates of the same people, merged before counting
    let dups: Vec<(String, String)> = (0..40)
        .map(|i| (format!("dup{i}"), format!("p{:05}", i * 7)))
        .collect();
    for (alias, of) in &dups {
        let orig = people.iter().find(|p| p.id() == of).cloned();
        if let Some(p) = orig {
            let mut c = Lead::new(alias.clone()).with_owner(p.owner());
            for t in p.touches() {
                c = c.touch(t.clone());
            }
            for e in p.entries().iter().take(1) {
                c = c.entry(e.clone());
            }
            people.push(c);
        }
    }
    let pairs: Vec<(&str, &str)> = dups.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (people, merged) = merge_duplicates(people, &pairs)?;
    let (accounts, rolled) = roll_up_accounts(people.clone());
    println!(
        "Synthetic Q1 2025: {} people ({} CRM duplicates merged, {} identical touches dropped), {} accounts",
        people.len(),
        merged.merged,
        merged.identical_touches_dropped,
        accounts.len()
    );

    let cfg = FunnelConfig::default().with_sales_channels([SDR]);
    let total = funnel::fit(&people, cfg.clone())?;
    let by_channel = funnel::fit(&people, cfg.clone().slice_by(SliceBy::Channel))?;
    what_this_quarter_says(&people, &total, &by_channel)?;
    let by_segment = funnel::fit(&people, cfg.clone().slice_by(SliceBy::Segment))?;
    let acct = funnel::fit(&accounts, cfg.clone())?;
    let rules = total.rules();
    println!(
        "Rules applied: {} skipped stages back-populated, {} duplicate entries dropped, {} out-of-order entries re-dated, {} exits superseded by a comeback",
        rules.backfilled, rules.duplicates_dropped, rules.reordered, rules.superseded_exits
    );

    funnel_table(&total)?;
    println!(
        "\nAccount view ({} people rolled into accounts): {} accounts reached MQL, {} won",
        rolled.merged,
        acct.total().reached("mql")?,
        acct.total().revenue().won
    );
    let cycles = funnel::fit(
        &people,
        cfg.clone()
            .with_cycles(Cycles::Sla { days: 30 })?
            .as_of(q + Duration::days(90)),
    )?;
    println!(
        "Cycle view (30-day SLA, as of 2025-04-01): {} cycles from {} people, {} comebacks, {} stalled",
        cycles.rules().records,
        people.len(),
        cycles.rules().cycles_split,
        cycles.rules().stalled
    );
    lead_to_revenue(&by_channel, &total);
    velocity(&by_segment)?;
    content(&people, &cfg)?;
    roi(&people, &by_channel)?;
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
