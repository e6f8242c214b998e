//! Integration tests: the data audit. Every check has a known answer on a
//! hand-made set (counted by hand in the comments); a clean simulated set
//! has no warning; no input panics (proptest).

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use touchpoint::audit::{AuditConfig, Check, Severity, Unit, Verdict, audit, audit_with};
use touchpoint::funnel::{Lead, Ratio};
use touchpoint::roi::Spend;
#[cfg(feature = "sim")]
use touchpoint::sim::{Preset, Simulator};
use touchpoint::{Journey, Outcome, SimpleJourney, SimpleTouch};

/// Monday 2025-01-06 plus `days` days and `hours` hours.
fn at(days: i64, hours: i64) -> DateTime<Utc> {
    "2025-01-06T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        + Duration::days(days)
        + Duration::hours(hours)
}

fn touch(ch: &str, days: i64) -> SimpleTouch {
    SimpleTouch::new(ch, at(days, 9))
}

fn cfg() -> AuditConfig {
    AuditConfig::new()
}

// ------------------------------------------------------------ completeness

#[test]
fn completeness_counts_by_hand() {
    // 6 journeys: e (no touch, not converted), d (converted, no touch),
    // z (converted for 0), ok1, ok2 (converted), n (not converted).
    // 7 touches: 2 on "direct" -> 2/7 = 28.6% unknown (warning above 20%);
    // campaigns on 5 of 7 -> 2 missing; no content anywhere -> no finding.
    let js = vec![
        SimpleJourney::new("e"),
        SimpleJourney::new("d").converted(40.0),
        SimpleJourney::new("z")
            .touch(touch("direct", 0))
            .converted(0.0),
        SimpleJourney::new("ok1")
            .touch(touch("email", 0).campaign("c"))
            .touch(touch("email", 1).campaign("c"))
            .converted(10.0),
        SimpleJourney::new("ok2")
            .touch(touch("search", 0).campaign("c"))
            .touch(touch("direct", 1))
            .converted(10.0),
        SimpleJourney::new("n")
            .touch(touch("search", 0).campaign("c"))
            .touch(touch("search", 2).campaign("c")),
    ];
    let r = audit(&js, &cfg());
    assert_eq!((r.journeys(), r.touches(), r.conversions()), (6, 7, 4));
    let f = r.finding(Check::EmptyJourneys).unwrap();
    assert_eq!((f.count, f.out_of, f.severity), (1, 6, Severity::Info));
    assert_eq!(f.examples, ["e"]);
    let f = r.finding(Check::DarkConversions).unwrap();
    assert_eq!((f.count, f.out_of, f.severity), (1, 4, Severity::Warning));
    assert_eq!(f.figure("share"), Some(0.25));
    let f = r.finding(Check::ConversionsWithoutValue).unwrap();
    assert_eq!((f.count, f.out_of), (1, 4));
    assert_eq!(f.examples, ["z"]);
    let f = r.finding(Check::UnknownChannel).unwrap();
    assert_eq!((f.count, f.out_of, f.severity), (2, 7, Severity::Warning));
    let f = r.finding(Check::MissingCampaign).unwrap();
    assert_eq!((f.count, f.out_of), (2, 7));
    assert_eq!(f.examples, ["z", "ok2"]);
    assert!(r.finding(Check::MissingContent).is_none());
    // a share at or below share_warning is info
    let lax = cfg().unknown_share_warning(0.5).unwrap();
    let r = audit(&js, &lax);
    assert_eq!(
        r.finding(Check::UnknownChannel).unwrap().severity,
        Severity::Info
    );
}

/// A journey type that can carry values `SimpleJourney` builders would
/// never produce (the trait accepts anything).
#[derive(Debug)]
struct Raw {
    id: String,
    touches: Vec<SimpleTouch>,
    outcome: Outcome,
}

impl Journey for Raw {
    type Touch = SimpleTouch;
    fn id(&self) -> &str {
        &self.id
    }
    fn touchpoints(&self) -> &[SimpleTouch] {
        &self.touches
    }
    fn outcome(&self) -> Outcome {
        self.outcome
    }
}

#[test]
fn invalid_values_and_costs_are_blocking() {
    let js = vec![
        Raw {
            id: "nan".into(),
            touches: vec![touch("a", 0).cost(-1.0), touch("a", 1).cost(2.0)],
            outcome: Outcome::converted(f64::NAN),
        },
        Raw {
            id: "neg".into(),
            touches: vec![touch("a", 0).cost(f64::INFINITY)],
            outcome: Outcome::converted(-5.0),
        },
        Raw {
            id: "fine".into(),
            touches: vec![touch("a", 0)],
            outcome: Outcome::converted(5.0),
        },
    ];
    let r = audit(&js, &cfg());
    let v = r.finding(Check::InvalidValues).unwrap();
    assert_eq!((v.count, v.out_of, v.severity), (2, 3, Severity::Blocking));
    assert_eq!(v.examples, ["nan", "neg"]);
    let c = r.finding(Check::InvalidCosts).unwrap();
    assert_eq!((c.count, c.out_of), (2, 4));
    assert_eq!(r.worst(), Some(Severity::Blocking));
    // most severe first
    assert_eq!(r.findings()[0].severity, Severity::Blocking);
}

// ------------------------------------------------------------- consistency

#[test]
fn name_variants_suggest_the_most_used_spelling() {
    // paid_search x3, "Paid Search" x1, "paid-search" x1 -> paid_search;
    // "Email" x1 and "email" x1 tie -> "email" (equal to its normalized form)
    let js = vec![
        SimpleJourney::new("1")
            .touch(touch("paid_search", 0))
            .touch(touch("paid_search", 1))
            .touch(touch("paid_search", 2)),
        SimpleJourney::new("2")
            .touch(touch("Paid Search", 0))
            .touch(touch("paid-search", 1)),
        SimpleJourney::new("3")
            .touch(touch("Email", 0))
            .touch(touch("email", 1)),
    ];
    let r = audit(&js, &cfg());
    let groups: Vec<_> = r.findings_of(Check::NameVariants).collect();
    assert_eq!(groups.len(), 2);
    let ps = groups
        .iter()
        .find(|f| f.subject.as_deref() == Some("paid_search"))
        .unwrap();
    assert_eq!((ps.count, ps.out_of), (2, 5));
    assert_eq!(ps.related, ["Paid Search", "paid-search"]);
    assert_eq!(ps.figure("spellings"), Some(3.0));
    let em = groups
        .iter()
        .find(|f| f.subject.as_deref() == Some("email"))
        .unwrap();
    assert_eq!(em.related, ["Email"]);
    let m: Vec<(&str, &str, u64)> = r
        .name_mapping()
        .iter()
        .map(|n| (n.from.as_str(), n.to.as_str(), n.touches))
        .collect();
    assert_eq!(
        m,
        [
            ("Email", "email", 1),
            ("Paid Search", "paid_search", 1),
            ("paid-search", "paid_search", 1)
        ]
    );
    let map = r.channel_map();
    assert_eq!(map.map("paid-search"), Some("paid_search"));
    assert_eq!(map.map("paid_search"), None);
}

#[test]
fn duplicate_ids_and_touches() {
    // id "a" three times -> 2 extra; journey "t" has email at the same
    // millisecond twice (1 duplicate) and search at that same time (not one)
    let js = vec![
        SimpleJourney::new("a").touch(touch("x", 0)),
        SimpleJourney::new("a").touch(touch("x", 1)),
        SimpleJourney::new("b").touch(touch("x", 0)),
        SimpleJourney::new("a").touch(touch("x", 2)),
        SimpleJourney::new("t")
            .touch(touch("email", 3))
            .touch(touch("search", 3))
            .touch(touch("email", 3)),
    ];
    let r = audit(&js, &cfg());
    let d = r.finding(Check::DuplicateJourneyIds).unwrap();
    assert_eq!((d.count, d.out_of, d.severity), (2, 5, Severity::Blocking));
    assert_eq!(d.examples, ["a"]);
    let t = r.finding(Check::DuplicateTouches).unwrap();
    assert_eq!((t.count, t.out_of), (1, 7));
    assert_eq!(t.examples, ["t"]);
}

#[test]
fn timestamps_after_conversion_in_the_future_too_old_and_unsorted() {
    let old: DateTime<Utc> = "1999-12-31T23:59:59Z".parse().unwrap();
    let js = vec![
        // converted at day 5, one touch at day 7 (after), one at day 1
        SimpleJourney::new("late")
            .touch(touch("email", 7))
            .touch(touch("email", 1))
            .converted(10.0)
            .converted_at(at(5, 0)),
        SimpleJourney::new("old").touch(SimpleTouch::new("email", old)),
        SimpleJourney::new("future").touch(touch("email", 200)),
    ];
    let c = cfg().as_of(at(100, 0));
    let r = audit(&js, &c);
    let a = r.finding(Check::TouchesAfterConversion).unwrap();
    assert_eq!((a.count, a.out_of), (1, 4));
    assert_eq!(a.at, Some(at(7, 9)));
    let f = r.finding(Check::FutureTimestamps).unwrap();
    assert_eq!((f.count, f.at), (1, Some(at(200, 9))));
    let o = r.finding(Check::AncientTimestamps).unwrap();
    assert_eq!((o.count, o.at), (1, Some(old)));
    let u = r.finding(Check::UnsortedTouches).unwrap();
    assert_eq!((u.count, u.out_of, u.severity), (1, 3, Severity::Info));
    assert_eq!(u.examples, ["late"]);
    // without as_of the future is not checked
    assert!(
        audit(&js, &cfg())
            .finding(Check::FutureTimestamps)
            .is_none()
    );
}

// -------------------------------------------------------------- engagement

#[test]
fn dormant_gaps_counted_against_the_threshold() {
    // gaps of 200, 10 and 190 days: two above 183
    let js = vec![
        SimpleJourney::new("g")
            .touch(touch("a", 0))
            .touch(touch("a", 200))
            .touch(touch("a", 210))
            .touch(touch("a", 400)),
        SimpleJourney::new("h").touch(touch("a", 0)),
    ];
    let r = audit(&js, &cfg());
    let g = r.finding(Check::DormantGaps).unwrap();
    assert_eq!((g.count, g.out_of), (2, 2));
    assert_eq!(g.figure("journeys"), Some(1.0));
    assert_eq!(g.figure("threshold_days"), Some(183.0));
    let long = cfg().dormancy_days(365.0).unwrap();
    assert!(audit(&js, &long).finding(Check::DormantGaps).is_none());
    let short = cfg().dormancy_days(9.0).unwrap();
    assert_eq!(
        audit(&js, &short)
            .finding(Check::DormantGaps)
            .unwrap()
            .count,
        3
    );
}

#[test]
fn leads_stalled_unknown_stages_and_identities() {
    let d = |s: &str| {
        format!("2025-{s}T00:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    let leads = vec![
        // idle 59 days at MQL on 03-01: stalled
        Lead::new("A").with_account("acme").stage("mql", d("01-01")),
        // idle 9 days: not stalled
        Lead::new("B").with_account("acme").stage("mql", d("02-20")),
        // at the opportunity: owned by sales, not subject to the SLA
        Lead::new("C")
            .with_account("acme")
            .stage("opportunity", d("01-01")),
        // exited: not open
        Lead::new("D")
            .with_account("foo")
            .stage("mql", d("01-01"))
            .stage("disqualified", d("01-05")),
        // unknown stage names, twice
        Lead::new("e")
            .stage("lead", d("01-01"))
            .stage("won", d("01-02")),
        Lead::new("E").stage("lead", d("01-01")),
    ];
    let js: Vec<SimpleJourney> = vec![];
    let c = cfg().as_of(d("03-01"));
    let r = audit_with(&js, &leads, None, &c);
    let s = r.finding(Check::StalledLeads).unwrap();
    assert_eq!((s.count, s.out_of), (1, 2));
    assert_eq!(s.examples, ["A"]);
    let u: Vec<_> = r.findings_of(Check::UnknownStages).collect();
    assert_eq!(u.len(), 2);
    assert_eq!(u[0].subject.as_deref(), Some("lead"));
    assert_eq!((u[0].count, u[0].severity), (2, Severity::Blocking));
    assert_eq!(u[0].examples, ["e", "E"]);
    assert_eq!(
        u[0].related,
        [
            "inquiry",
            "mql",
            "sal",
            "sql",
            "opportunity",
            "closed_won",
            "closed_lost",
            "disqualified",
            "recycled"
        ]
    );
    let ids: Vec<_> = r.findings_of(Check::IdentityMerges).collect();
    let by = |s: &str| {
        ids.iter()
            .find(|f| f.subject.as_deref() == Some(s))
            .unwrap()
    };
    // "e" and "E" normalize to the same id
    assert_eq!(by("lead ids").count, 1);
    // acme has 3 people (2 would fold), foo 1: 4 people, 2 accounts
    assert_eq!((by("accounts").count, by("accounts").out_of), (2, 4));
    assert_eq!(by("accounts").figure("accounts"), Some(2.0));
    // without as_of: no stalled check
    let r = audit_with(&js, &leads, None, &cfg());
    assert!(r.finding(Check::StalledLeads).is_none());
}

#[test]
fn journey_ids_equal_up_to_case_and_spacing() {
    let js = vec![
        SimpleJourney::new("Lead-1").touch(touch("a", 0)),
        SimpleJourney::new("lead 1").touch(touch("a", 0)),
        SimpleJourney::new("lead 2").touch(touch("a", 0)),
    ];
    let r = audit(&js, &cfg());
    let f = r.finding(Check::IdentityMerges).unwrap();
    assert_eq!((f.subject.as_deref(), f.count), (Some("journey ids"), 1));
}

// ---------------------------------------------------------------- tracking

/// One single-touch journey per touch: `n` touches on `ch` in week `w`.
fn weekly(js: &mut Vec<SimpleJourney>, ch: &str, w: i64, n: usize) {
    for k in 0..n {
        let id = format!("{ch}-{w}-{k}");
        js.push(SimpleJourney::new(id).touch(SimpleTouch::new(ch, at(7 * w + 1, k as i64 % 20))));
    }
}

#[test]
fn a_channel_that_stops_is_a_drop_at_its_week() {
    let mut js = Vec::new();
    for w in 0..8 {
        weekly(&mut js, "email", w, 10);
        if w < 6 {
            weekly(&mut js, "display", w, 10);
        }
    }
    let r = audit(&js, &cfg());
    let d: Vec<_> = r.findings_of(Check::TrackingDrop).collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].subject.as_deref(), Some("display"));
    assert_eq!(d[0].count, 1);
    assert_eq!(d[0].out_of, 8);
    assert_eq!(d[0].at, Some(at(42, 0))); // Monday of week 6
    assert_eq!(d[0].figure("weekly_mean_before"), Some(10.0));
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(r.finding(Check::TrackingJump).is_none());
    // the whole data set ending is not a break; a small channel is not judged
    let mut js = Vec::new();
    for w in 0..6 {
        weekly(&mut js, "email", w, 10);
        weekly(&mut js, "tiny", w, if w < 5 { 4 } else { 0 });
    }
    let r = audit(&js, &cfg());
    assert!(r.finding(Check::TrackingDrop).is_none());
    let r = audit(&js, &cfg().min_weekly(4).unwrap());
    assert_eq!(
        r.finding(Check::TrackingDrop).unwrap().subject.as_deref(),
        Some("tiny")
    );
}

#[test]
fn a_tenfold_jump_is_reported_unless_everything_jumps() {
    let mut js = Vec::new();
    for w in 0..7 {
        weekly(&mut js, "email", w, 10);
        weekly(&mut js, "video", w, if w == 5 { 60 } else { 5 });
    }
    let r = audit(&js, &cfg());
    let j = r.finding(Check::TrackingJump).unwrap();
    assert_eq!(j.subject.as_deref(), Some("video"));
    assert_eq!(j.at, Some(at(35, 0)));
    assert_eq!(j.figure("times_the_mean"), Some(12.0));
    assert_eq!(j.figures[0].unit, Unit::Times);
    // every channel jumping tenfold (more data, not a tag) is not a break
    let mut js = Vec::new();
    for w in 0..7 {
        let k = if w == 5 { 10 } else { 1 };
        weekly(&mut js, "email", w, 10 * k);
        weekly(&mut js, "video", w, 5 * k);
    }
    assert!(audit(&js, &cfg()).finding(Check::TrackingJump).is_none());
}

// ------------------------------------------------------------- sufficiency

#[test]
fn sufficiency_no_evidence_versus_too_little_data() {
    // 100 journeys, 30 converting (average rate 0.3):
    // A: 60 journeys, 30 converting, 30 not;
    // B: 30 journeys, none converting: upper bound 1 - 0.1^(1/30) = 0.0739 < 0.3;
    // C: 5 journeys, none converting: upper bound 1 - 0.1^(1/5) = 0.369 > 0.3;
    // 5 journeys with no touch.
    let mut js = Vec::new();
    for i in 0..60 {
        let j = SimpleJourney::new(format!("a{i}")).touch(touch("A", 0));
        js.push(if i < 30 { j.converted(10.0) } else { j });
    }
    for i in 0..30 {
        js.push(SimpleJourney::new(format!("b{i}")).touch(touch("B", 0)));
    }
    for i in 0..5 {
        js.push(SimpleJourney::new(format!("c{i}")).touch(touch("C", 0)));
    }
    for i in 0..5 {
        js.push(SimpleJourney::new(format!("e{i}")));
    }
    let r = audit(&js, &cfg());
    let a = r.channel("A").unwrap();
    assert_eq!((a.journeys, a.converting, a.non_converting), (60, 30, 30));
    assert_eq!(a.rule_based, Verdict::Enough);
    assert_eq!(a.data_driven, Verdict::Enough);
    // every conversion has A: nothing to compare "without A" against
    assert_eq!(a.incremental, Verdict::TooLittleData);
    let z = 1.644_853_626_951_472_2; // the standard normal 95% quantile
    let w = a.relative_half_width.value().unwrap();
    assert!((w - z / 30f64.sqrt()).abs() < 1e-8, "{w}");
    assert_eq!(a.rate_upper_bound, Ratio::Undefined);
    let b = r.channel("B").unwrap();
    assert_eq!(b.rule_based, Verdict::NoEvidence);
    let ub = b.rate_upper_bound.value().unwrap();
    assert!((ub - (1.0 - 0.1f64.powf(1.0 / 30.0))).abs() < 1e-12);
    assert!((ub - 0.073_9).abs() < 1e-4);
    let c = r.channel("C").unwrap();
    assert_eq!(c.rule_based, Verdict::TooLittleData);
    assert!((c.rate_upper_bound.value().unwrap() - 0.369).abs() < 1e-3);
    let ne = r.finding(Check::NoEvidence).unwrap();
    assert_eq!((ne.subject.as_deref(), ne.count), (Some("B"), 30));
    assert_eq!(ne.severity, Severity::Warning);
    assert_eq!(ne.figure("average_rate"), Some(0.3));
    let tl: Vec<_> = r.findings_of(Check::TooLittleData).collect();
    let names: Vec<_> = tl.iter().map(|f| f.subject.as_deref().unwrap()).collect();
    assert_eq!(names, ["A", "C"]);
    assert_eq!(tl[0].related, ["incremental"]);
    assert_eq!(tl[1].related, ["rule_based", "data_driven", "incremental"]);
}

#[test]
fn no_evidence_boundary_is_exact() {
    // base rate exactly 0.3: 30 converting of 100; channel X has n journeys,
    // none converting. Bound 1 - 0.1^(1/n) < 0.3 <=> n > ln 0.1 / ln 0.7 = 6.46.
    let make = |n: usize| {
        let mut js = Vec::new();
        for i in 0..n {
            js.push(SimpleJourney::new(format!("x{i}")).touch(touch("X", 0)));
        }
        for i in 0..(100 - n) {
            let j = SimpleJourney::new(format!("y{i}")).touch(touch("Y", 0));
            js.push(if i < 30 { j.converted(1.0) } else { j });
        }
        js
    };
    let verdict = |n| audit(&make(n), &cfg()).channel("X").unwrap().rule_based;
    assert_eq!(verdict(6), Verdict::TooLittleData);
    assert_eq!(verdict(7), Verdict::NoEvidence);
}

#[test]
fn no_conversions_at_all_is_blocking() {
    let js = vec![SimpleJourney::new("a").touch(touch("x", 0))];
    let r = audit(&js, &cfg());
    let f = r.finding(Check::NoConversions).unwrap();
    assert_eq!(
        (f.severity, f.subject.as_deref()),
        (Severity::Blocking, Some("converting"))
    );
    let js = vec![SimpleJourney::new("a").touch(touch("x", 0)).converted(1.0)];
    let f = audit(&js, &cfg());
    let f = f.finding(Check::NoConversions).unwrap();
    assert_eq!(
        (f.severity, f.subject.as_deref()),
        (Severity::Warning, Some("non_converting"))
    );
    // no journey at all: nothing to say, nothing to panic about
    let none: Vec<SimpleJourney> = Vec::new();
    let r = audit(&none, &cfg());
    assert!(r.findings().is_empty());
    assert!(r.is_clean());
}

// -------------------------------------------------------------------- spend

#[test]
fn spend_without_touches_and_spend_spellings() {
    let js = vec![
        SimpleJourney::new("a")
            .touch(touch("paid_search", 0))
            .converted(10.0),
    ];
    let mut spend = Spend::new();
    spend.add("Paid Search", None, "2025-01", 100.0).unwrap();
    spend
        .add("events", Some("summit"), "2025-01", 250.5)
        .unwrap();
    let r = audit_with(&js, &[], Some(&spend), &cfg());
    let s: Vec<_> = r.findings_of(Check::SpendWithoutTouches).collect();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].subject.as_deref(), Some("Paid Search"));
    assert_eq!(s[1].figure("spend"), Some(250.5));
    // the journeys' spelling has the touches: it is the suggestion
    assert_eq!(r.name_mapping()[0].from, "Paid Search");
    assert_eq!(r.name_mapping()[0].to, "paid_search");
}

// ------------------------------------------------------------ clean data

#[cfg(feature = "sim")]
#[test]
fn clean_simulated_sets_have_no_warning() {
    for preset in [Preset::B2b, Preset::SampleLike, Preset::UselessEverywhere] {
        let sim = Simulator::new(preset.config(5));
        let js: Vec<SimpleJourney> = sim.journeys(3_000).collect();
        let leads: Vec<Lead> = if preset == Preset::B2b {
            sim.leads(3_000).collect()
        } else {
            Vec::new()
        };
        let r = audit_with(&js, &leads, None, &cfg());
        let bad: Vec<_> = r
            .findings()
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .collect();
        assert!(bad.is_empty(), "{preset:?}: {bad:#?}");
        assert!(r.is_clean());
        assert_eq!(r.journeys(), 3_000);
        let touches: u64 = r.channels().iter().map(|c| c.touches).sum();
        assert_eq!(touches, r.touches());
    }
}

#[test]
fn report_round_trips_through_json() {
    let js = vec![
        SimpleJourney::new("a")
            .touch(touch("Email", 0))
            .converted(1.0),
        SimpleJourney::new("a").touch(touch("email", 0)),
    ];
    let r = audit(&js, &cfg());
    let back: touchpoint::audit::AuditReport =
        serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let json = serde_json::to_string(&r.findings()[0]).unwrap();
    assert!(
        json.contains("\"check\":\"duplicate_journey_ids\""),
        "{json}"
    );
    assert!(json.contains("\"severity\":\"blocking\""), "{json}");
}

// --------------------------------------------------------------- proptest

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("Paid Search".to_owned()),
        Just("paid_search".to_owned()),
        Just("direct".to_owned()),
        "[ -~]{0,6}",
        "\\PC{0,4}",
    ]
}

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (-8_000_000_000_000_000_i64..8_000_000_000_000_000_i64),
        (1_700_000_000_000_i64..1_800_000_000_000_i64),
    ]
    .prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0),
        Just(0.0),
        Just(1e300),
        0.0..1e6_f64,
    ]
}

fn any_touch() -> impl Strategy<Value = SimpleTouch> {
    (
        any_name(),
        any_time(),
        proptest::option::of(any_name()),
        proptest::option::of(any_name()),
        proptest::option::of(any_f64()),
    )
        .prop_map(|(c, t, cp, ct, cost)| {
            let mut x = SimpleTouch::new(c, t);
            x.campaign = cp.map(Into::into);
            x.content = ct.map(Into::into);
            x.cost = cost;
            x
        })
}

fn any_journey() -> impl Strategy<Value = Raw> {
    (
        "[a-cA-C -]{0,3}",
        proptest::collection::vec(any_touch(), 0..6),
        any::<bool>(),
        any_f64(),
        proptest::option::of(any_time()),
    )
        .prop_map(|(id, touches, converted, value, ts)| Raw {
            id,
            touches,
            outcome: Outcome {
                converted,
                value,
                conversion_ts: ts,
            },
        })
}

fn any_lead() -> impl Strategy<Value = Lead> {
    (
        "[a-c]{0,2}",
        proptest::option::of("[a-b]{1}"),
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("mql".to_owned()),
                    Just("opportunity".to_owned()),
                    Just("closed_won".to_owned()),
                    Just("recycled".to_owned()),
                    any_name()
                ],
                any_time(),
            ),
            0..4,
        ),
        proptest::collection::vec(any_touch(), 0..3),
    )
        .prop_map(|(id, account, entries, touches)| {
            let mut l = Lead::new(id);
            if let Some(a) = account {
                l = l.with_account(a);
            }
            for (s, t) in entries {
                l = l.stage(s, t);
            }
            for t in touches {
                l = l.touch(t);
            }
            l
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_and_counts_add_up(
        js in proptest::collection::vec(any_journey(), 0..24),
        leads in proptest::collection::vec(any_lead(), 0..6),
        spend_lines in proptest::collection::vec((any_name(), 0.0..1e4_f64), 0..3),
        as_of in proptest::option::of(any_time()),
        dormancy in prop_oneof![Just(1e-7), 0.001..400.0_f64],
        min_weekly in 1_u64..4,
        min_conv in 1_u64..4,
        sla in 1_u32..40,
    ) {
        let mut c = AuditConfig::new()
            .dormancy_days(dormancy).unwrap()
            .min_weekly(min_weekly).unwrap()
            .min_conversions(min_conv).unwrap()
            .sla_days(sla).unwrap();
        if let Some(t) = as_of {
            c = c.as_of(t);
        }
        let mut spend = Spend::new();
        for (ch, x) in &spend_lines {
            let _ = spend.add(ch, None, "p", *x);
        }
        let r = audit_with(&js, &leads, Some(&spend), &c);
        prop_assert_eq!(r.journeys(), js.len() as u64);
        let touches: u64 = js.iter().map(|j| j.touches.len() as u64).sum();
        prop_assert_eq!(r.touches(), touches);
        let per_channel: u64 = r.channels().iter().map(|c| c.touches).sum();
        prop_assert_eq!(per_channel, touches);
        for f in r.findings() {
            prop_assert!(f.count > 0);
            prop_assert!(f.examples.len() <= 5 || f.check == Check::NameVariants);
        }
        for ch in r.channels() {
            prop_assert_eq!(ch.converting + ch.non_converting, ch.journeys);
        }
        let json = serde_json::to_string(&r).unwrap();
        let back: touchpoint::audit::AuditReport = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.findings().len(), r.findings().len());
        // the narrative renders every caveat without panicking
        for f in r.findings() {
            let _ = format!("{} {}", f.check, f.severity);
        }
    }
}
