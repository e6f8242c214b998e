//! Integration tests: the findings narrative. Known answers on hand-made
//! reports, wording that follows the intervals, and a golden text on the
//! simulator's B2B quarter.

use chrono::{DateTime, Utc};
use touchpoint::audit::{AuditConfig, Check, audit};
use touchpoint::bootstrap::{BootstrapConfig, bootstrap_model};
use touchpoint::funnel;
#[cfg(feature = "sim")]
use touchpoint::funnel::SliceBy;
use touchpoint::funnel::{FunnelConfig, Lead, Ratio};
#[cfg(feature = "sim")]
use touchpoint::incremental::{Incremental, IncrementalConfig, bootstrap_effects};
use touchpoint::models::{FirstTouch, LastTouch, Linear};
use touchpoint::roi::{BUDGET_ASSUMPTION, RoiReport, Spend};
#[cfg(feature = "sim")]
use touchpoint::sim::{Preset, Simulator};
use touchpoint::story::{Basis, Certainty, Dimension, Finding, StoryInput, english, format_money};
use touchpoint::{Currency, JourneySet, SimpleJourney, SimpleTouch, attribute};

fn t(day: u32) -> DateTime<Utc> {
    format!("2025-01-{day:02}T09:00:00Z").parse().unwrap()
}

fn one(id: String, ch: &str, value: f64) -> SimpleJourney {
    SimpleJourney::new(id)
        .touch(SimpleTouch::new(ch, t(6)).campaign(format!("{ch}_q1")))
        .converted(value)
}

#[test]
fn drivers_by_hand() {
    // linear credit: webinar 3000 + 1000/2, email 1000/2 + 500 -> 3500, 1000 of 4500
    let js = [
        SimpleJourney::new("a")
            .touch(SimpleTouch::new("webinar", t(6)).content("ebook"))
            .converted(3000.0),
        SimpleJourney::new("b")
            .touch(SimpleTouch::new("webinar", t(6)))
            .touch(SimpleTouch::new("email", t(7)).campaign("nurture"))
            .converted(1000.0),
        SimpleJourney::new("c")
            .touch(SimpleTouch::new("email", t(6)).campaign("nurture"))
            .converted(500.0),
    ];
    let r = attribute(&Linear, &JourneySet::from_journeys(&js).unwrap()).unwrap();
    let f = StoryInput::new(&r).findings().unwrap();
    // two channels, one campaign, one content asset
    assert_eq!(f.len(), 4);
    match &f[0] {
        Finding::Driver {
            dimension,
            rank,
            name,
            value,
            share,
            next,
            certainty,
            ..
        } => {
            assert_eq!(
                (*dimension, *rank, name.as_str()),
                (Dimension::Channel, 1, "webinar")
            );
            assert_eq!(value.minor, 350_000);
            assert!((share - 3500.0 / 4500.0).abs() < 1e-12);
            assert_eq!(next.as_ref().unwrap().0, "email");
            assert_eq!(*certainty, Certainty::PointEstimate);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f[0].basis(), Basis::ShareOfRevenue);
    assert_eq!(
        english(&f[0], "$"),
        "webinar is credited $3,500.00, 77.8% of revenue under linear (no interval computed)."
    );
    // nurture: 500 + 1000/2 = 1000 of 4500
    assert_eq!(
        english(&f[2], "EUR "),
        "Campaign nurture is credited EUR 1,000.00, 22.2% of revenue under linear (no interval computed)."
    );
    assert_eq!(
        english(&f[3], "$"),
        "Content asset ebook is credited $3,000.00, 66.7% of revenue under linear (no interval computed)."
    );
}

#[test]
fn wording_follows_the_intervals() {
    // single-touch journeys under first touch: a channel's credited value is
    // its converting journeys x $100; 100 vs 10 journeys separate clearly,
    // 50 vs 48 do not.
    let boot = BootstrapConfig::new().replicates(200).unwrap().seed(3);
    let story = |na: usize, nb: usize| {
        let mut js = Vec::new();
        for i in 0..na {
            js.push(one(format!("a{i}"), "alpha", 100.0));
        }
        for i in 0..nb {
            js.push(one(format!("b{i}"), "beta", 100.0));
        }
        let set = JourneySet::from_journeys(&js).unwrap();
        let r = attribute(&FirstTouch, &set).unwrap();
        let b = bootstrap_model(&FirstTouch, &set, &boot).unwrap();
        let f = StoryInput::new(&r).intervals(&b).findings().unwrap();
        (f[0].clone(), english(&f[0], "$"))
    };
    let (f, s) = story(100, 10);
    assert_eq!(f.certainty(), Certainty::Clear);
    assert!(s.contains("clearly ahead of beta"), "{s}");
    assert!(s.contains("95% interval $"), "{s}"); // the bootstrap's default level
    let (f, s) = story(50, 48);
    assert_eq!(f.certainty(), Certainty::Overlapping);
    assert!(!s.contains("clearly"), "{s}");
    assert!(
        s.contains("the data cannot rank it against beta ($4,800.00): their intervals overlap"),
        "{s}"
    );
    if let Finding::Driver {
        interval: Some(i), ..
    } = f
    {
        // c ± z sqrt(c) journeys of $100 with c = 50: about $3,800 to $6,200
        assert!(i.low > 3_500.0 && i.low < 4_100.0, "{i:?}");
        assert!(i.high > 5_900.0 && i.high < 6_500.0, "{i:?}");
    } else {
        panic!("no interval");
    }
}

#[cfg(feature = "sim")]
#[test]
fn a_channel_everywhere_that_does_nothing_is_overcredited() {
    // useless_everywhere: display is on ~80% of paths with no effect (truth)
    let sim = Simulator::new(Preset::UselessEverywhere.config(2));
    let set = sim.journey_set(4_000).unwrap();
    let first = attribute(&FirstTouch, &set).unwrap();
    let inc = Incremental::fit(&set, &IncrementalConfig::default()).unwrap();
    let f = StoryInput::new(&first)
        .incremental(&inc, None)
        .findings()
        .unwrap();
    let gap = f
        .iter()
        .find(|x| matches!(x, Finding::ModelGap { channel, .. } if channel == "display"))
        .expect("display flagged");
    match gap {
        Finding::ModelGap {
            overcredited,
            models,
            incremental_share,
            certainty,
            ..
        } => {
            assert!(*overcredited);
            assert_eq!(models.len(), 1);
            assert_eq!(models[0].0, "first_touch");
            assert!(models[0].1 > *incremental_share + 0.05);
            assert_eq!(*certainty, Certainty::PointEstimate);
        }
        _ => unreachable!(),
    }
    let s = english(gap, "$");
    assert!(
        s.starts_with("first_touch (")
            && s.contains("gives display a larger share")
            && s.contains("it opens journeys but adds little"),
        "{s}"
    );
    assert!(s.contains("point estimates"), "{s}");
}

fn d(s: &str) -> DateTime<Utc> {
    format!("2025-{s}T00:00:00Z").parse().unwrap()
}

/// 10 leads: 8 reach MQL, 2 SAL and SQL (sales accepted), 1 opportunity,
/// won after 30 days for $9,000. Of the 6 MQLs not accepted: 4 disqualified
/// "no budget", 1 "bad fit", 1 pending.
fn ten_leads() -> Vec<Lead> {
    let mut v = Vec::new();
    for i in 0..10 {
        let mut l = Lead::new(format!("l{i}"))
            .touch(SimpleTouch::new("webinar", d("01-02")))
            .stage("inquiry", d("01-02"));
        if i < 8 {
            l = l.stage("mql", d("01-05"));
        }
        if i < 2 {
            l = l.stage("sal", d("01-08")).stage("sql", d("01-10"));
        }
        if i == 0 {
            l = l
                .with_amount(9_000.0)
                .stage("opportunity", d("01-15"))
                .stage("closed_won", d("02-14"));
        }
        if (2..6).contains(&i) {
            l = l.stage_with_reason("disqualified", d("01-20"), "no budget");
        }
        if i == 6 {
            l = l.stage_with_reason("disqualified", d("01-20"), "bad fit");
        }
        v.push(l);
    }
    v
}

#[test]
fn funnel_findings_by_hand() {
    let m = funnel::fit(&ten_leads(), FunnelConfig::default()).unwrap();
    let r = attribute(
        &Linear,
        &JourneySet::from_journeys([one("x".into(), "webinar", 1.0)]).unwrap(),
    )
    .unwrap();
    let f = StoryInput::new(&r).funnel(&m, None).findings().unwrap();
    let drop = f
        .iter()
        .find(|x| matches!(x, Finding::LargestDrop { .. }))
        .unwrap();
    // rates: inquiry->mql 8/10, mql->sal 2/8, sal->sql 2/2, sql->opp 1/2,
    // opp->won 1/1; the lowest is 0.25, the others' median (0.8 + 1) / 2
    assert_eq!(
        drop,
        &Finding::LargestDrop {
            from: "mql".into(),
            to: "sal".into(),
            from_count: 8,
            to_count: 2,
            rate: 0.25,
            others_median: 0.9,
        }
    );
    assert_eq!(
        english(drop, "$"),
        "The largest drop in the funnel is mql -> sal: 2 of 8 (25.0%) move on, against a median of 90.0% for the other stages."
    );
    let acc = f
        .iter()
        .find(|x| matches!(x, Finding::Acceptance { .. }))
        .unwrap();
    assert_eq!(
        acc,
        &Finding::Acceptance {
            mqls: 8,
            accepted: 2,
            rejected: 5,
            rate: Ratio::Defined(0.25),
            leading_reason: Some(("no budget".into(), 4)),
        }
    );
    assert_eq!(
        english(acc, "$"),
        "Sales accepted 2 of 8 MQLs as SQLs (25.0%); the leading rejection reason is \"no budget\" (4 of 5)."
    );
    let v = f
        .iter()
        .find(|x| matches!(x, Finding::Velocity { .. }))
        .unwrap();
    // 1 opportunity x 100% x $9,000 / 30 days = $300 per day
    assert_eq!(
        english(v, "$"),
        "Pipeline velocity is $300 per day (opportunities x win rate x average deal / days to close): 1 opportunities, win rate 100.0% (won of closed), average deal $9,000, 30.0 days to close."
    );
    // against a previous period with velocity $150/day (won 60 days after
    // the opportunity instead of 30)
    let mut prev = ten_leads();
    prev[0] = Lead::new("l0")
        .with_amount(9_000.0)
        .touch(SimpleTouch::new("webinar", d("01-02")))
        .stage("inquiry", d("01-02"))
        .stage("mql", d("01-05"))
        .stage("sal", d("01-08"))
        .stage("sql", d("01-10"))
        .stage("opportunity", d("01-15"))
        .stage("closed_won", d("03-16"));
    let p = funnel::fit(&prev, FunnelConfig::default()).unwrap();
    let f = StoryInput::new(&r).funnel(&m, Some(&p)).findings().unwrap();
    let v = f
        .iter()
        .find(|x| matches!(x, Finding::Velocity { .. }))
        .unwrap();
    assert_eq!(
        english(v, "$"),
        "Pipeline velocity is $300 per day (up from $150) (opportunities x win rate x average deal / days to close): 1 opportunities (unchanged), win rate 100.0% (unchanged) (won of closed), average deal $9,000 (unchanged), 30.0 days to close (down from 60.0)."
    );
    let c = f
        .iter()
        .find(|x| matches!(x, Finding::TimeToClose { .. }))
        .unwrap();
    assert_eq!(
        c,
        // created 01-02, won 02-14: 43 days (time to close runs from creation)
        &Finding::TimeToClose {
            deals: 1,
            median_days: 43.0,
            p90_days: 43.0
        }
    );
}

#[test]
fn money_findings_by_hand() {
    // first touch: search $3,000, display $500, organic $200 (no spend)
    let js = [
        one("a".into(), "search", 3000.0),
        one("b".into(), "display", 500.0),
        one("c".into(), "organic", 200.0),
    ];
    let r = attribute(&FirstTouch, &JourneySet::from_journeys(&js).unwrap()).unwrap();
    let mut spend = Spend::new();
    spend.add("search", None, "2025-01", 1000.0).unwrap();
    spend.add("display", None, "2025-01", 1000.0).unwrap();
    let roi = RoiReport::by_channel(&r, &spend, None).unwrap();
    let f = StoryInput::new(&r).roi(&roi).findings().unwrap();
    let money: Vec<String> = f
        .iter()
        .filter(|x| {
            matches!(
                x.basis(),
                Basis::RoiAcrossChannels | Basis::NoSpend | Basis::LinearResponse
            )
        })
        .map(|x| english(x, "$"))
        .collect();
    assert_eq!(
        money,
        [
            "Highest ROI: search, 200.0% on $1,000.00 of spend ($3,000.00 attributed revenue under first_touch).".to_owned(),
            "Lowest ROI: display, -50.0% on $1,000.00 of spend ($500.00 attributed revenue under first_touch).".to_owned(),
            "ROI is undefined (n/a) for organic (revenue but no recorded spend).".to_owned(),
            // 20% of display's $1,000 moved: -200 x 0.5 + 200 x 3 = +$500;
            // conversions -200/1000 x 1 + 200/1000 x 1 = 0
            format!("Moving $200.00 from display to search would change revenue by +$500 and conversions by +0.0, assuming {BUDGET_ASSUMPTION}."),
        ]
    );
}

#[test]
fn audit_caveats_and_currency_checks() {
    let js = [
        one("a".into(), "Email", 10.0),
        one("a".into(), "email", 10.0),
    ];
    let r = attribute(&Linear, &JourneySet::from_journeys(&js).unwrap()).unwrap();
    let a = audit(&js, &AuditConfig::new());
    let f = StoryInput::new(&r).audit(&a).findings().unwrap();
    assert!(!f.iter().any(|x| matches!(x, Finding::DataClean { .. })));
    let caveats: Vec<String> = f
        .iter()
        .filter(|x| x.basis() == Basis::AuditCheck)
        .map(|x| english(x, "$"))
        .collect();
    assert_eq!(
        caveats,
        [
            "Data blocking: journey ids used more than once, 1 of 2.",
            "Data warning: every journey converted; data-driven models need journeys that did not.",
            "Data warning: channel names spelled several ways (email), 1 of 2.",
        ]
    );
    assert!(matches!(
        f.last(),
        Some(Finding::DataCaveat {
            check: Check::NameVariants,
            ..
        })
    ));
    // a compared report in another currency is an error
    let mut other = JourneySet::with_currency(Currency::new(0).unwrap());
    other.push(&js[0]).unwrap();
    let r0 = attribute(&LastTouch, &other).unwrap();
    assert!(StoryInput::new(&r).compare(&[&r0]).findings().is_err());
}

#[test]
fn money_formatting() {
    let m = |minor, d| touchpoint::story::Money {
        minor,
        currency: Currency::new(d).unwrap(),
    };
    assert_eq!(format_money(m(0, 2), "$"), "$0.00");
    assert_eq!(format_money(m(5, 2), "$"), "$0.05");
    assert_eq!(format_money(m(100_000_000, 2), "$"), "$1,000,000.00");
    assert_eq!(format_money(m(-999, 3), "€"), "-€0.999");
    assert_eq!(
        format_money(m(i128::MAX, 0), ""),
        "170,141,183,460,469,231,731,687,303,715,884,105,727"
    );
}

// ----------------------------------------------------------------- golden

/// The simulator's B2B quarter: journeys 0..6,000 of `Preset::B2b` seed 7
/// whose first touch falls in Q2 2025 (and Q1 as the previous period for
/// the funnel), attributed linear (with bootstrap intervals), first and last
/// touch, the incremental model (with bootstrap intervals), funnel, ROI from
/// the simulated touch costs, and the audit.
#[cfg(feature = "sim")]
pub fn b2b_quarter_story() -> Vec<String> {
    let sim = Simulator::new(Preset::B2b.config(7));
    let q1 = (d("01-01"), d("04-01"));
    let q2 = (d("04-01"), d("07-01"));
    let within = |j: &SimpleJourney, q: (DateTime<Utc>, DateTime<Utc>)| {
        j.touchpoints
            .iter()
            .map(|t| t.ts)
            .min()
            .is_some_and(|s| q.0 <= s && s < q.1)
    };
    let mut journeys = Vec::new();
    let (mut leads, mut prev_leads) = (Vec::new(), Vec::new());
    for (i, j) in sim.journeys(6_000).enumerate() {
        if within(&j, q2) {
            leads.push(sim.lead_of(i as u64, j.clone()));
            journeys.push(j);
        } else if within(&j, q1) {
            prev_leads.push(sim.lead_of(i as u64, j));
        }
    }
    let set = JourneySet::from_journeys(&journeys).unwrap();
    let linear = attribute(&Linear, &set).unwrap();
    let first = attribute(&FirstTouch, &set).unwrap();
    let last = attribute(&LastTouch, &set).unwrap();
    let boot = BootstrapConfig::new().replicates(100).unwrap().seed(11);
    let intervals = bootstrap_model(&Linear, &set, &boot).unwrap();
    let inc_cfg = IncrementalConfig::default();
    let inc = Incremental::fit(&set, &inc_cfg).unwrap();
    let boot_inc = BootstrapConfig::new().replicates(30).unwrap().seed(11);
    let inc_intervals = bootstrap_effects(&set, &inc_cfg, &boot_inc).unwrap();
    let fcfg = sim.funnel_config();
    let now = funnel::fit(&leads, fcfg.clone()).unwrap();
    let before = funnel::fit(&prev_leads, fcfg.clone()).unwrap();
    let by_channel = funnel::fit(&leads, fcfg.slice_by(SliceBy::Channel)).unwrap();
    let mut spend = Spend::new();
    for j in &journeys {
        for t in &j.touchpoints {
            if let Some(c) = t.cost {
                spend.add(&t.channel, None, "2025-Q2", c).unwrap();
            }
        }
    }
    let roi = RoiReport::by_channel(&linear, &spend, Some(&by_channel)).unwrap();
    let a = audit(&journeys, &AuditConfig::new());
    StoryInput::new(&linear)
        .intervals(&intervals)
        .compare(&[&first, &last])
        .incremental(&inc, Some(&inc_intervals))
        .funnel(&now, Some(&before))
        .roi(&roi)
        .audit(&a)
        .findings()
        .unwrap()
        .iter()
        .map(|f| english(f, "$"))
        .collect()
}

/// Golden text: made from this branch's first working commit and read by
/// hand (every sentence checked against the tables of `examples/b2b_report`
/// style output for the same data). Regenerate with
/// `TOUCHPOINT_BLESS=1 cargo test --test integration story::golden` only
/// after a deliberate change, and review the diff.
#[cfg(feature = "sim")]
#[test]
fn golden_b2b_quarter() {
    const PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/golden/story_b2b_quarter.txt"
    );
    let text = b2b_quarter_story().join("\n") + "\n";
    if std::env::var_os("TOUCHPOINT_BLESS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, &text).unwrap();
    }
    let want = std::fs::read_to_string(PATH).expect("golden file committed");
    assert_eq!(text, want);
}

#[test]
fn findings_round_trip_through_json() {
    let js = [one("a".into(), "search", 3000.0)];
    let r = attribute(&FirstTouch, &JourneySet::from_journeys(&js).unwrap()).unwrap();
    let f = StoryInput::new(&r).findings().unwrap();
    let json = serde_json::to_string(&f).unwrap();
    assert!(json.starts_with("[{\"driver\":{"), "{json}");
    let back: Vec<Finding> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
}
