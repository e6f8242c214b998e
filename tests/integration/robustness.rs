//! Robustness: no public entry point panics on user data. Arbitrary
//! journeys (extreme timestamps, equal timestamps, empty journeys, empty
//! channel names, huge, zero and NaN values and costs), arbitrary leads and
//! mangled serialized partials go through every public entry point; each
//! call must return `Ok` or `Err`, never panic.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use touchpoint::funnel;
use touchpoint::funnel::{
    Backfill, ContentPartial, CycleStart, Cycles, FunnelConfig, FunnelPartial, Lead, OutOfOrder,
    Owner, Period, SliceBy, SourceView, Stages, WinRate, merge_duplicates, pipeline_velocity,
    roll_up_accounts,
};
use touchpoint::markov::{self, MarkovConfig, MarkovPartial};
use touchpoint::models::{self, PositionWeights, TimeDecay};
use touchpoint::roi::{RoiReport, Spend};
use touchpoint::rules::{ChannelMap, Rule, Rules, Unmapped};
use touchpoint::shapley::{self, Sampling, ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::{
    AttributionModel, CreditConfig, CreditPartial, Currency, JourneySet, Milestone, SimpleJourney,
    SimpleTouch, attribute, compare,
};

fn cfg(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Timestamps: ordinary dates, the representable extremes, and a few
/// repeated values (equal timestamps).
fn ts() -> impl Strategy<Value = DateTime<Utc>> {
    let base = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
    prop_oneof![
        4 => (0_i64..2_000_000).prop_map(move |s| base + TimeDelta::seconds(s)),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => Just(base),
        1 => Just(DateTime::<Utc>::UNIX_EPOCH),
        1 => Just("9999-12-31T23:59:59Z".parse::<DateTime<Utc>>().unwrap()),
        1 => Just("0000-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()),
    ]
}

/// Amounts: ordinary, zero, huge, negative and non-finite.
fn amount() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0..10_000.0_f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-1.0),
        1 => Just(9.0e13),
        1 => Just(1.0e300),
        1 => Just(f64::MIN_POSITIVE),
    ]
}

fn channel() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["email", "direct", "paid_search", "webinar", "sales_call"])
            .prop_map(str::to_owned),
        1 => Just(String::new()),
        1 => Just("(direct)".to_owned()),
    ]
}

fn milestone() -> impl Strategy<Value = Option<Milestone>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(Milestone::LeadCreated)),
        1 => Just(Some(Milestone::OpportunityCreated)),
        1 => Just(Some(Milestone::Closed)),
    ]
}

fn touch() -> impl Strategy<Value = SimpleTouch> {
    (
        channel(),
        ts(),
        prop::option::of(prop::sample::select(vec!["q1", "", "q2"])),
        prop::option::of(prop::sample::select(vec!["ebook", "", "demo"])),
        prop::option::weighted(0.3, amount()),
        milestone(),
    )
        .prop_map(|(c, t, cp, ct, cost, m)| {
            let mut s = SimpleTouch::new(c, t);
            if let Some(cp) = cp {
                s = s.campaign(cp);
            }
            if let Some(ct) = ct {
                s = s.content(ct);
            }
            if let Some(cost) = cost {
                s = s.cost(cost);
            }
            if let Some(m) = m {
                s = s.milestone(m);
            }
            s
        })
}

fn journey() -> impl Strategy<Value = SimpleJourney> {
    (
        prop::collection::vec(touch(), 0..7),
        prop::option::of(amount()),
        prop::option::of(ts()),
        "[a-c]{0,2}",
    )
        .prop_map(|(touches, value, at, id)| {
            let mut j = SimpleJourney::new(id);
            for t in touches {
                j = j.touch(t);
            }
            match (value, at) {
                (Some(v), Some(at)) => j.converted(v).converted_at(at),
                (Some(v), None) => j.converted(v),
                _ => j,
            }
        })
}

/// Pushes every journey, keeping those the set accepts.
fn set_of(journeys: &[SimpleJourney]) -> JourneySet {
    let mut set = JourneySet::new();
    for j in journeys {
        let _ = set.push(j);
    }
    set
}

fn all_rules() -> Vec<Rules> {
    let map = ChannelMap::new()
        .exact("email", "owned")
        .prefix("paid", "paid")
        .prefix("", "everything")
        .otherwise(Unmapped::Rename("other".into()));
    let mut v = vec![
        Rules::new().drop_after_conversion(),
        Rules::new().collapse_repeats(),
        Rules::new().map_channels(map.clone()),
        Rules::new().then(Rule::Lookback { window_ms: -5 }),
        Rules::new().then(Rule::Lookback {
            window_ms: i64::MAX,
        }),
        Rules::new().then(Rule::Lookback {
            window_ms: i64::MIN,
        }),
        Rules::new().then(Rule::DormancySplit { gap_ms: -1 }),
        Rules::new().then(Rule::DormancySplit { gap_ms: 0 }),
        Rules::new().then(Rule::DormancySplit { gap_ms: i64::MIN }),
        Rules::new().then(Rule::MapChannels(ChannelMap::new().exact("email", ""))),
    ];
    for d in [1e-12, 0.5, 30.0, 1e8, 1e14] {
        if let Ok(r) = Rules::new().lookback_days(d) {
            v.push(r);
        }
        if let Ok(r) = Rules::new().dormancy_split_days(d) {
            v.push(r.collapse_repeats().map_channels(map.clone()));
        }
    }
    for d in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
        assert!(Rules::new().lookback_days(d).is_err());
        assert!(Rules::new().dormancy_split_days(d).is_err());
    }
    v
}

fn extra_models() -> Vec<Box<dyn AttributionModel>> {
    let mut v: Vec<Box<dyn AttributionModel>> = Vec::new();
    for d in [1e-9, 1e-300, 1e300, 5e-324] {
        if let Ok(m) = TimeDecay::with_half_life_days(d) {
            v.push(Box::new(m));
        }
    }
    for w in [
        vec![1.0],
        vec![0.0, 1.0],
        vec![0.5, 0.0, 0.5],
        vec![1e-300, 1.0],
    ] {
        if let Ok(m) = PositionWeights::new(w.clone()) {
            v.push(Box::new(m));
        }
        if let Ok(m) = PositionWeights::from_end(w) {
            v.push(Box::new(m));
        }
    }
    for w in [vec![], vec![f64::NAN], vec![-1.0, 2.0], vec![f64::INFINITY]] {
        let _ = PositionWeights::new(w.clone());
        let _ = PositionWeights::from_end(w);
    }
    for (a, b, c) in [
        (0.4, 0.4, 0.5),
        (1.0, 0.0, 0.0),
        (f64::NAN, 0.0, 0.0),
        (0.0, 0.0, 1.0),
    ] {
        if let Ok(m) = models::PositionBased::new(a, b, c) {
            v.push(Box::new(m));
        }
        if let Ok(m) = models::WShaped::new(a, b, c) {
            v.push(Box::new(m));
        }
        if let Ok(m) = models::FullPath::new(a, b, c, 1.0 - a - b - c) {
            v.push(Box::new(m));
        }
    }
    // custom models: odd, tiny, huge, wrong-length and out-of-range weights
    for (k, pattern) in [
        vec![5e-324, 0.0],
        vec![1e308, 1e308],
        vec![1e-300, 1.0, 5e-324],
        vec![0.0],
        vec![f64::NAN],
        vec![-0.0, 1.0],
        vec![1.0; 40],
    ]
    .into_iter()
    .enumerate()
    {
        v.push(Box::new(
            models::FnModel::new("weird", move |j, w| {
                let n = j.len();
                let out = w.weighted();
                out.extend((0..n).map(|i| pattern[i % pattern.len()]));
                Ok(())
            })
            .with_fingerprint(format!("weird{k}")),
        ));
    }
    v.push(Box::new(models::FnModel::new("short", |j, w| {
        w.weighted().extend(std::iter::repeat_n(1.0, j.len() / 2));
        Ok(())
    })));
    v.push(Box::new(models::FnModel::new("past_end", |j, w| {
        w.all_to(j.len());
        Ok(())
    })));
    v.push(Box::new(models::FnModel::new("unset", |_, _| Ok(()))));
    let _ = models::LastNonDirect::new(Vec::<String>::new());
    if let Ok(m) = models::LastNonDirect::new(["", "email"]) {
        v.push(Box::new(m));
    }
    v
}

proptest! {
    #![proptest_config(cfg(48))]

    #[test]
    fn journeys_through_models_and_partials(journeys in prop::collection::vec(journey(), 0..10)) {
        let set = set_of(&journeys);
        let mut ms = models::all();
        ms.extend(extra_models());
        for m in &ms {
            let _ = attribute(m.as_ref(), &set);
            let mut left = CreditPartial::with_currency(m.as_ref(), Currency::default());
            let mut right = CreditPartial::with_currency(m.as_ref(), Currency::default());
            for (i, j) in journeys.iter().enumerate() {
                let p = if i % 2 == 0 { &mut left } else { &mut right };
                let _ = p.observe_with(m.as_ref(), j);
            }
            if left.merge(&right).is_ok() {
                let report = left.finish();
                let _ = report.value();
                for l in report.channels().lines() {
                    let _ = (l.value(), l.conversions());
                }
                let text = serde_json::to_string(&left).unwrap();
                let back: CreditPartial = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(back.finish(), report);
            }
        }
        let refs: Vec<&dyn AttributionModel> = ms.iter().map(|m| m.as_ref()).collect();
        let _ = compare(&refs, &set);
        for rules in all_rules() {
            if let Ok((out, _)) = rules.apply(&set) {
                let _ = attribute(&models::Linear, &out);
            }
        }
        let text = serde_json::to_string(&set).unwrap();
        let back: JourneySet = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, set);
    }

    #[test]
    fn journeys_through_data_driven_fits(journeys in prop::collection::vec(journey(), 0..10)) {
        let set = set_of(&journeys);
        for order in 1..=6 {
            for collapse in [false, true] {
                let config = MarkovConfig::new(order).unwrap().collapse_repeats(collapse);
                if let Ok(m) = markov::fit(&set, config) {
                    let _ = m.credits();
                    let _ = m.removal_effects();
                    let _ = m.transitions();
                    let _ = m.sequence_removal_effects(2);
                    let _ = m.sequence_removal_effect(&["email", "direct"]);
                    let _ = m.sequence_removal_effect::<&str>(&[]);
                    let _ = attribute(&m, &set);
                }
                let mut a = MarkovPartial::new(config);
                let mut b = MarkovPartial::new(config);
                for (i, j) in journeys.iter().enumerate() {
                    let f = if i % 2 == 0 { &mut a } else { &mut b };
                    let _ = f.observe(j);
                }
                let _ = a.observe_path(&["", "email"], 1, 5, 0);
                let _ = a.observe_path::<&str>(&[], 0, 0, u64::MAX);
                let _ = a.observe_path(&["email"], u64::MAX, i64::MAX, u64::MAX);
                let _ = a.observe_path(&["email"], 1, -1, 0);
                if a.merge(&b).is_ok() {
                    let text = serde_json::to_string(&a).unwrap();
                    let back: MarkovPartial = serde_json::from_str(&text).unwrap();
                    let _ = back.finish();
                    let _ = a.finish();
                }
            }
        }
        let _ = markov::select_order(&set, 4, false);
        let _ = markov::select_order(&set, 0, true);
        let _ = markov::select_order(&set, 200, true);
        for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate, ShapleyVariant::Ordered] {
            for sampling in [None, Some(Sampling { permutations: 0, seed: 0 }), Some(Sampling { permutations: 3, seed: u64::MAX })] {
                for limit in [0_u8, 1, 2, 22, 23, 255] {
                    let Ok(config) = ShapleyConfig::new(variant).exact_limit(limit) else {
                        continue;
                    };
                    let config = config.sampling(sampling);
                    if let Ok(s) = shapley::fit(&set, config) {
                        let _ = s.credits();
                        let _ = attribute(&s, &set);
                    }
                    let mut a = ShapleyPartial::new(config);
                    let mut b = ShapleyPartial::new(config);
                    for (i, j) in journeys.iter().enumerate() {
                        let f = if i % 2 == 0 { &mut a } else { &mut b };
                        let _ = f.observe(j);
                    }
                    let _ = a.observe_path(&["", "email", "email"], 1, 5, 0);
                    let _ = a.observe_path(&["email", "direct"], u64::MAX, 1 << 53, u64::MAX);
                    if a.merge(&b).is_ok() {
                        let text = serde_json::to_string(&a).unwrap();
                        let back: ShapleyPartial = serde_json::from_str(&text).unwrap();
                        let _ = back.finish();
                    }
                }
            }
        }
    }
}

fn stage_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "inquiry",
        "mql",
        "sal",
        "sql",
        "opportunity",
        "closed_won",
        "closed_lost",
        "disqualified",
        "nonsense",
        "",
        "MQL",
    ])
    .prop_map(str::to_owned)
}

fn lead() -> impl Strategy<Value = Lead> {
    (
        "[a-c]{0,2}",
        prop::option::of("[x-y]{0,1}"),
        prop::option::of(amount()),
        prop::bool::ANY,
        prop::collection::vec((stage_name(), ts(), prop::option::of("[r-s]{0,1}")), 0..8),
        prop::collection::vec(touch(), 0..4),
    )
        .prop_map(|(id, account, amt, sales, entries, touches)| {
            let mut l = Lead::new(id);
            if let Some(a) = account {
                l = l.with_account(a).with_segment("seg");
            }
            if let Some(a) = amt {
                l = l.with_amount(a);
            }
            if sales {
                l = l.with_owner(Owner::Sales);
            }
            for (s, at, reason) in entries {
                l = match reason {
                    Some(r) => l.stage_with_reason(s, at, r),
                    None => l.stage(s, at),
                };
            }
            for t in touches {
                l = l.touch(t);
            }
            l
        })
}

fn funnel_configs() -> Vec<FunnelConfig> {
    let mut v = Vec::new();
    let slices = [
        SliceBy::Total,
        SliceBy::Channel,
        SliceBy::Campaign,
        SliceBy::Content,
        SliceBy::Segment,
        SliceBy::Owner,
        SliceBy::Period,
    ];
    let periods = [
        Period::Day,
        Period::Week,
        Period::Month,
        Period::Quarter,
        Period::Year,
    ];
    for (i, slice) in slices.into_iter().enumerate() {
        let base = FunnelConfig::default()
            .with_sales_channels(["sales_call", ""])
            .slice_by(slice)
            .with_period(periods[i % periods.len()])
            .with_backfill(if i % 2 == 0 {
                Backfill::Skipped
            } else {
                Backfill::EnteredOnly
            })
            .with_out_of_order(if i % 3 == 0 {
                OutOfOrder::Reject
            } else {
                OutOfOrder::Repair
            })
            .with_source(if i % 2 == 0 {
                SourceView::Original
            } else {
                SourceView::CycleFirstTouch
            })
            .with_cycle_start(if i % 2 == 0 {
                CycleStart::Opportunity
            } else {
                CycleStart::Created
            });
        v.push(base.clone());
        for days in [1_u32, 30, u32::MAX] {
            v.push(base.clone().with_cycles(Cycles::Sla { days }).unwrap());
        }
        v.push(base.clone().as_of(DateTime::<Utc>::MIN_UTC));
        v.push(base.as_of(DateTime::<Utc>::MAX_UTC));
    }
    assert!(
        FunnelConfig::default()
            .with_cycles(Cycles::Sla { days: 0 })
            .is_err()
    );
    v
}

proptest! {
    #![proptest_config(cfg(32))]

    #[test]
    fn leads_through_funnel_and_roi(leads in prop::collection::vec(lead(), 0..8)) {
        for config in funnel_configs() {
            if let Ok(m) = funnel::fit(&leads, config.clone()) {
                for s in std::iter::once(m.total()).chain(m.slices()) {
                    let _ = s.stage_counts();
                    let _ = s.cohort_conversions();
                    let _ = s.period_conversions();
                    let _ = s.acceptance();
                    let _ = s.time_to_close();
                    let _ = s.sales_cycle();
                    let _ = s.time_in_stage("mql");
                    let _ = s.time_in_stage("nope");
                    let _ = s.cohort_rate("inquiry", "closed_won");
                    let _ = s.cohort_rate("closed_won", "inquiry");
                    let _ = s.velocity(WinRate::WonOverClosed);
                    let _ = s.velocity(WinRate::WonOverAll);
                }
            }
            let mut a = FunnelPartial::new(config.clone());
            let mut b = FunnelPartial::new(config.clone());
            for (i, l) in leads.iter().enumerate() {
                let p = if i % 2 == 0 { &mut a } else { &mut b };
                let _ = p.observe(l);
            }
            if a.merge(&b).is_ok() {
                let text = serde_json::to_string(&a).unwrap();
                let back: FunnelPartial = serde_json::from_str(&text).unwrap();
                let _ = back.finish();
                let m = a.finish();
                let mut report = CreditPartial::new(CreditConfig::new(models::Linear));
                for l in &leads {
                    let j = SimpleJourney::new(l.id());
                    let _ = report.observe(&j);
                }
                let report = report.finish();
                let mut spend = Spend::new();
                for (c, amt) in [("email", 0.0), ("webinar", f64::NAN), ("", 1.0), ("direct", 1e300), ("paid_search", 5.0)] {
                    let _ = spend.add(c, Some("q1"), "2024-01", amt);
                    let _ = spend.add(c, None, "", amt);
                }
                for f in [None, Some(&m)] {
                    let reports = [RoiReport::by_channel(&report, &spend, f), RoiReport::by_campaign(&report, &spend, f)];
                    for r in reports.into_iter().flatten() {
                        for amt in [0.0, -1.0, f64::NAN, 1e300, 3.0] {
                            let _ = r.move_spend("email", "paid_search", amt);
                            let _ = r.move_spend("nope", "email", amt);
                            let _ = r.move_spend("email", "email", amt);
                        }
                    }
                }
            }
            let mut c = ContentPartial::new(&models::Linear, config);
            for l in &leads {
                let _ = c.observe(&models::Linear, l);
            }
            let c2 = c.clone();
            if c.merge(&c2).is_ok() {
                let _ = c.finish();
            }
        }
        let pairs: Vec<(String, String)> = leads
            .iter()
            .zip(leads.iter().rev())
            .map(|(a, b)| (a.id().to_owned(), b.id().to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let _ = merge_duplicates(leads.clone(), &pairs);
        let _ = merge_duplicates(leads.clone(), &[("a", "b"), ("b", "a")]);
        let (rolled, _) = roll_up_accounts(leads);
        let _ = funnel::fit(&rolled, FunnelConfig::default());
    }
}

#[test]
fn scalar_entry_points_reject_bad_numbers() {
    for x in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300, f64::MAX] {
        let _ = pipeline_velocity(x, 0.5, 1.0, 1.0);
        let _ = pipeline_velocity(1.0, x, 1.0, 1.0);
        let _ = pipeline_velocity(1.0, 0.5, x, 1.0);
        let _ = pipeline_velocity(1.0, 0.5, 1.0, x);
    }
    assert!(Currency::new(7).is_err());
    let c = Currency::new(6).unwrap();
    assert_eq!(c.to_minor(f64::MAX).unwrap(), None);
    for order in [0_u8, 7, 255] {
        assert!(MarkovConfig::new(order).is_err());
    }
    let _ = Stages::default();
}

#[cfg(feature = "sim")]
#[test]
fn simulator_with_extreme_parameters() {
    use touchpoint::sim::{
        Channel, Config, Delay, FunnelSpec, Milestones, PathLength, Response, Simulator, ValueDist,
    };
    let xs = [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e-300, 1.0, 1e300];
    let channels = |w: f64, b: f64| {
        vec![
            Channel::new("a", w, b)
                .late_weight(w)
                .closing_bonus(b)
                .cost(w),
            Channel::new("b", 1.0, 0.5).requires("a"),
        ]
    };
    let mut built = Vec::new();
    for &x in &xs {
        let attempts = [
            Config::builder().channels(channels(x, 0.5)).build(),
            Config::builder().channels(channels(1.0, x)).build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .baseline(x)
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .response(Response::Geometric { decay: x })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .value(ValueDist::Fixed(x))
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .value(ValueDist::LogNormal { mu: x, sigma: x })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .value(ValueDist::Uniform { min: x, max: 1.0 })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .window(DateTime::<Utc>::MAX_UTC, x)
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .window(DateTime::<Utc>::MIN_UTC, x)
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .gap(Delay::Exponential {
                    mean_secs: x,
                    max_secs: i64::MAX,
                })
                .conversion_lag(Delay::Exponential {
                    mean_secs: x,
                    max_secs: i64::MAX,
                })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .path_length(PathLength::Geometric {
                    min: 0,
                    continue_prob: x,
                    max: u32::MAX,
                })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .milestones(Milestones {
                    lead_at: x,
                    opportunity_at: x,
                    lead_rate: x,
                    opportunity_rate: x,
                })
                .build(),
            Config::builder()
                .channels(channels(1.0, 0.5))
                .funnel(
                    FunnelSpec::new()
                        .sales_share(x)
                        .progression(x, x, x, x)
                        .exits(x, x)
                        .segments([("s", x)])
                        .exit_delay(Delay::Exponential {
                            mean_secs: x,
                            max_secs: i64::MAX,
                        }),
                )
                .build(),
        ];
        built.extend(attempts.into_iter().flatten());
    }
    for (lo, hi) in [
        (i64::MIN, i64::MAX),
        (0, i64::MAX),
        (i64::MAX, i64::MAX),
        (5, 1),
        (-5, 0),
    ] {
        built.extend(
            Config::builder()
                .channels(channels(1.0, 0.5))
                .gap(Delay::Uniform {
                    min_secs: lo,
                    max_secs: hi,
                })
                .conversion_lag(Delay::Uniform {
                    min_secs: lo,
                    max_secs: hi,
                })
                .window(DateTime::<Utc>::MAX_UTC, 1.0)
                .build(),
        );
    }
    for (lo, hi) in [(0, 0), (5, 1), (0, u32::MAX), (u32::MAX, u32::MAX)] {
        built.extend(
            Config::builder()
                .channels(channels(1.0, 0.5))
                .path_length(PathLength::Uniform { min: lo, max: hi })
                .build(),
        );
    }
    assert!(Config::builder().build().is_err() || Config::builder().build().is_ok());
    assert!(!built.is_empty());
    for config in built {
        let sim = Simulator::new(config.with_seed(u64::MAX));
        for j in sim.journeys(4) {
            let _ = JourneySet::from_journeys([&j]);
        }
        let _ = sim.journey_set(4);
        let _ = sim.config().conversion_probability(&["a", "b", "nope", ""]);
        let _ = sim.conversion_probability(u64::MAX);
        if sim.config().funnel().is_some() {
            for l in sim.leads(4) {
                let _ = funnel::fit(&[l], sim.funnel_config());
            }
        }
    }
}

#[test]
fn shapley_rate_with_saturated_path_counts() {
    // conversions + nulls above u64::MAX used to overflow in the rate game
    let config = ShapleyConfig::new(ShapleyVariant::Rate);
    let mut fit = ShapleyPartial::new(config);
    fit.observe_path(&["email", "direct"], 4, 400, u64::MAX)
        .unwrap();
    let s = fit.finish().unwrap();
    assert_eq!(s.channels().len(), 2);
    assert_eq!(s.credits().unwrap().conversions(), 4);
    let mut fit = ShapleyPartial::new(config);
    fit.observe_path(&["email", "direct"], u64::MAX, 1 << 53, u64::MAX)
        .unwrap();
    assert!(matches!(
        fit.finish(),
        Err(touchpoint::Error::Overflow { .. })
    ));
}

/// Every single-point mutation of a JSON document: each number replaced by
/// extremes, each string emptied or renamed, each array shortened,
/// duplicated or emptied, each object field removed.
fn mutations(v: &serde_json::Value) -> Vec<serde_json::Value> {
    use serde_json::Value;
    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(x, at, out);
                    at.pop();
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    at.push(k.clone());
                    paths(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
        path.iter().fold(v, |v, k| match v {
            Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            Value::Object(o) => o.get_mut(k).unwrap(),
            _ => unreachable!(),
        })
    }
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let mut out = Vec::new();
    for path in all {
        let node = {
            let mut c = v.clone();
            get_mut(&mut c, &path).clone()
        };
        let mut replacements: Vec<Value> = Vec::new();
        match &node {
            Value::Number(_) => {
                replacements.extend([
                    serde_json::json!(0),
                    serde_json::json!(1),
                    serde_json::json!(-1),
                    serde_json::json!(255),
                    serde_json::json!(u32::MAX),
                    serde_json::json!(u64::MAX),
                    serde_json::json!(i64::MIN),
                    serde_json::json!(1e300),
                    serde_json::json!(-1e300),
                    serde_json::json!(0.5),
                ]);
                // u128 / i128 extremes as raw numbers
                for raw in [
                    "340282366920938463463374607431768211455",
                    "170141183460469231731687303715884105727",
                    "-170141183460469231731687303715884105728",
                ] {
                    replacements.push(serde_json::from_str(raw).unwrap());
                }
            }
            Value::String(s) => {
                replacements.extend([
                    serde_json::json!(""),
                    serde_json::json!("email"),
                    serde_json::json!(format!("{s}x")),
                ]);
            }
            Value::Array(a) if !a.is_empty() => {
                let mut shorter = a.clone();
                shorter.pop();
                let mut longer = a.clone();
                longer.push(a[0].clone());
                let mut swapped = a.clone();
                swapped.reverse();
                replacements.extend([
                    Value::Array(Vec::new()),
                    Value::Array(shorter),
                    Value::Array(longer),
                    Value::Array(swapped),
                ]);
            }
            Value::Bool(b) => replacements.push(Value::Bool(!b)),
            _ => {}
        }
        for r in replacements {
            let mut c = v.clone();
            *get_mut(&mut c, &path) = r;
            out.push(c);
        }
        if let Some((last, parent)) = path.split_last() {
            let mut c = v.clone();
            if let Value::Object(o) = get_mut(&mut c, parent) {
                o.remove(last);
                out.push(c);
            }
        }
    }
    out
}

/// Deserializes each mutation of `good`; those accepted are merged with
/// themselves and with `good`, observed into and finished: none may panic.
fn mangle<T, F>(good: &T, mut exercise: F) -> usize
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    F: FnMut(T, &T),
{
    let v = serde_json::to_value(good).unwrap();
    let mut accepted = 0;
    for m in mutations(&v) {
        if let Ok(t) = serde_json::from_value::<T>(m) {
            accepted += 1;
            exercise(t, good);
        }
    }
    accepted
}

fn mangle_journeys() -> Vec<SimpleJourney> {
    let t = |s: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + s * 3600, 0).unwrap();
    vec![
        SimpleJourney::new("a")
            .touch(
                SimpleTouch::new("email", t(0))
                    .campaign("q1")
                    .content("ebook"),
            )
            .touch(SimpleTouch::new("paid_search", t(1)).cost(2.5))
            .touch(SimpleTouch::new("email", t(2)).milestone(Milestone::LeadCreated))
            .converted(100.0)
            .converted_at(t(3)),
        SimpleJourney::new("b")
            .touch(SimpleTouch::new("direct", t(0)))
            .touch(SimpleTouch::new("email", t(5))),
        SimpleJourney::new("c")
            .touch(SimpleTouch::new("webinar", t(1)))
            .touch(SimpleTouch::new("direct", t(2)))
            .converted(7.5),
        SimpleJourney::new("d").converted(1.0),
    ]
}

#[test]
fn mangled_credit_partials_never_panic() {
    let journeys = mangle_journeys();
    for m in [
        Box::new(models::Linear) as Box<dyn AttributionModel>,
        Box::new(models::WShaped::default()),
    ] {
        let mut good = CreditPartial::with_currency(m.as_ref(), Currency::default());
        for j in &journeys {
            good.observe_with(m.as_ref(), j).unwrap();
        }
        let accepted = mangle(&good, |mut p: CreditPartial, good| {
            let r = p.finish();
            let _ = (
                r.value(),
                r.channels().lines().iter().map(|l| l.value()).sum::<f64>(),
            );
            let _ = p.clone().merge(&p);
            let _ = p.merge(good);
            for j in &journeys {
                let _ = p.observe_with(m.as_ref(), j);
            }
            let _ = p.finish().value();
        });
        assert!(accepted > 0);
    }
}

#[test]
fn mangled_journey_sets_never_panic() {
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    let accepted = mangle(&set, |s: JourneySet, _| {
        for v in s.iter() {
            let _ = format!("{v:?}");
        }
        for i in 0..s.len() + 1 {
            if let Some(v) = s.get(i) {
                let _ = (v.channels(), v.timestamps(), v.costs(), v.milestones());
                for k in 0..v.len() {
                    let _ = (
                        v.channel_name(k),
                        v.campaign(k),
                        v.content(k),
                        v.timestamp(k),
                    );
                }
            }
        }
        for m in models::all() {
            let _ = attribute(m.as_ref(), &s);
        }
        let _ = markov::fit(&s, MarkovConfig::default());
        let _ = shapley::fit(&s, ShapleyConfig::default());
        if let Ok((out, _)) = Rules::new().collapse_repeats().apply(&s) {
            let _ = attribute(&models::Linear, &out);
        }
    });
    assert!(accepted > 0);
}

#[test]
fn mangled_markov_fits_never_panic() {
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    for order in [1, 2] {
        let good = markov::fit_partial(&set, MarkovConfig::new(order).unwrap()).unwrap();
        let accepted = mangle(&good, |mut f: MarkovPartial, good| {
            if let Ok(m) = f.finish() {
                let _ = m.credits();
                let _ = m.transitions();
                let _ = m.sequence_removal_effects(2);
                let _ = attribute(&m, &set);
            }
            let _ = f.clone().merge(&f);
            let _ = f.merge(good);
            let _ = f.observe_set(&set);
            let _ = f.finish();
        });
        assert!(accepted > 0);
    }
}

#[test]
fn mangled_shapley_fits_never_panic() {
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    for variant in [
        ShapleyVariant::Simplified,
        ShapleyVariant::Rate,
        ShapleyVariant::Ordered,
    ] {
        let good = {
            let mut f = ShapleyPartial::new(ShapleyConfig::new(variant));
            f.observe_set(&set).unwrap();
            f
        };
        let accepted = mangle(&good, |mut f: ShapleyPartial, good| {
            if let Ok(s) = f.finish() {
                let _ = s.credits();
                let _ = attribute(&s, &set);
            }
            let _ = f.clone().merge(&f);
            let _ = f.merge(good);
            let _ = f.observe_set(&set);
            let _ = f.finish();
        });
        assert!(accepted > 0);
    }
}

#[test]
fn mangled_funnel_partials_never_panic() {
    let t = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
    let leads = vec![
        Lead::new("A")
            .with_amount(50.0)
            .with_segment("ent")
            .touch(
                SimpleTouch::new("webinar", t(0))
                    .content("ebook")
                    .campaign("q1"),
            )
            .stage("inquiry", t(0))
            .stage("mql", t(2))
            .stage("sql", t(5))
            .stage("opportunity", t(9))
            .stage("closed_won", t(40)),
        Lead::new("B")
            .with_owner(Owner::Sales)
            .touch(SimpleTouch::new("sales_call", t(1)))
            .stage("inquiry", t(1))
            .stage_with_reason("disqualified", t(3), "student"),
        Lead::new("C")
            .touch(SimpleTouch::new("email", t(2)))
            .stage("mql", t(2))
            .stage("opportunity", t(4))
            .stage_with_reason("closed_lost", t(30), "price"),
    ];
    for slice in [SliceBy::Total, SliceBy::Channel, SliceBy::Period] {
        let config = FunnelConfig::default()
            .slice_by(slice)
            .with_cycles(Cycles::Sla { days: 30 })
            .unwrap();
        let mut good = FunnelPartial::new(config);
        for l in &leads {
            good.observe(l).unwrap();
        }
        let accepted = mangle(&good, |mut p: FunnelPartial, good| {
            let m = p.finish();
            for s in std::iter::once(m.total()).chain(m.slices()) {
                let _ = s.stage_counts();
                let _ = s.cohort_conversions();
                let _ = s.period_conversions();
                let _ = s.acceptance();
                let _ = s.time_to_close();
                let _ = s.sales_cycle();
                let _ = s.time_in_stage("mql");
                let _ = s.velocity(WinRate::WonOverClosed);
            }
            let _ = p.size_bytes();
            let _ = p.clone().merge(&p);
            let _ = p.merge(good);
            for l in &leads {
                let _ = p.observe(l);
            }
            let _ = p.finish();
        });
        assert!(accepted > 0);
    }
}

#[test]
fn markov_fit_read_rejects_repeated_channels_and_negative_values() {
    let mut fit = MarkovPartial::new(MarkovConfig::default());
    fit.observe_path(&["email", "direct"], 2, 500, 1).unwrap();
    let good = serde_json::to_value(&fit).unwrap();
    let back: MarkovPartial = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(back, fit);
    // a repeated name left a transition index past the interned channels
    let mut dup = good.clone();
    let first = dup["channels"][0].clone();
    dup["channels"][1] = first;
    assert!(serde_json::from_value::<MarkovPartial>(dup).is_err());
    // a negative total value panicked in the apportionment of `finish`
    let mut neg = good;
    neg["totals"]["value_minor"] = serde_json::json!(-1);
    assert!(serde_json::from_value::<MarkovPartial>(neg).is_err());
}

#[test]
fn shapley_fit_read_rejects_repeated_channels_and_negative_values() {
    for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate] {
        let mut fit = ShapleyPartial::new(ShapleyConfig::new(variant));
        fit.observe_path(&["email", "direct"], 2, 500, 1).unwrap();
        fit.observe_path(&["direct"], 1, 100, 1).unwrap();
        let good = serde_json::to_value(&fit).unwrap();
        let back: ShapleyPartial = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(back, fit);
        let mut dup = good.clone();
        let first = dup["channels"][0].clone();
        dup["channels"][1] = first;
        assert!(serde_json::from_value::<ShapleyPartial>(dup).is_err());
        let mut neg = good;
        neg["coalitions"][0][1]["value_minor"] = serde_json::json!(-1);
        assert!(serde_json::from_value::<ShapleyPartial>(neg).is_err());
    }
}

#[test]
fn funnel_partial_read_bounds_counts_by_records() {
    let t = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
    let lead = Lead::new("a")
        .stage("mql", t(0))
        .stage("sql", t(2))
        .stage("closed_won", t(9));
    let mut p = FunnelPartial::new(FunnelConfig::default());
    p.observe(&lead).unwrap();
    let good = serde_json::to_value(&p).unwrap();
    let back: FunnelPartial = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(back, p);
    // a count above the records: observing used to overflow it (`accepted += 1`)
    let mut bad = good.clone();
    bad["slices"]["(all)"]["accepted"] = serde_json::json!(u64::MAX);
    assert!(serde_json::from_value::<FunnelPartial>(bad).is_err());
    // records and counts at the limit: observing is an error, not a panic
    let mut full = good.clone();
    let slice = &mut full["slices"]["(all)"];
    slice["records"] = serde_json::json!(u64::MAX);
    slice["accepted"] = serde_json::json!(u64::MAX);
    let mut full: FunnelPartial = serde_json::from_value(full).unwrap();
    let before = full.clone();
    assert!(matches!(
        full.observe(&lead),
        Err(touchpoint::Error::Overflow { .. })
    ));
    assert_eq!(full, before);
    // a histogram of 2^63 durations: the p90 rank (`n * 9`) overflowed
    let mut many = good;
    let slice = &mut many["slices"]["(all)"];
    slice["records"] = serde_json::json!(u64::MAX);
    slice["time_to_close"] =
        serde_json::json!({"count": u64::MAX, "sum_ms": 0, "buckets": {"0": [u64::MAX, 0]}});
    let many: FunnelPartial = serde_json::from_value(many).unwrap();
    let m = many.finish();
    assert_eq!(m.total().time_to_close().p90_days, Some(0.0));
}

#[test]
fn mangled_configs_never_panic() {
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    for variant in [
        ShapleyVariant::Simplified,
        ShapleyVariant::Rate,
        ShapleyVariant::Ordered,
    ] {
        let good = ShapleyConfig::new(variant).sampling(Some(Sampling {
            permutations: 8,
            seed: 1,
        }));
        mangle(&good, |c: ShapleyConfig, _| {
            let _ = shapley::fit(&set, c);
            let mut f = ShapleyPartial::new(c);
            let _ = f.observe_set(&set);
            let _ = f.observe_path(&["a", "b", "c"], 1, 1, 1);
            let _ = f.finish();
        });
    }
    for order in [1, 3] {
        let good = MarkovConfig::new(order).unwrap();
        mangle(&good, |c: MarkovConfig, _| {
            let _ = markov::fit(&set, c);
            let mut f = MarkovPartial::new(c);
            let _ = f.observe_set(&set);
            let _ = f.observe_path(&["a", "b", "c", "d", "e"], 1, 1, 1);
            let _ = f.finish();
        });
    }
    let t = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
    let leads = [
        Lead::new("a")
            .with_amount(3.0)
            .touch(SimpleTouch::new("email", t(0)).content("ebook"))
            .stage("mql", t(0))
            .stage("sql", t(2))
            .stage("opportunity", t(3))
            .stage("closed_won", t(9)),
        Lead::new("b")
            .stage("inquiry", t(1))
            .stage_with_reason("disqualified", t(2), "x"),
    ];
    let good = FunnelConfig::default()
        .with_cycles(Cycles::Sla { days: 30 })
        .unwrap()
        .with_sales_channels(["sales_call"])
        .as_of(t(5));
    mangle(&good, |c: FunnelConfig, _| {
        if let Ok(m) = funnel::fit(&leads, c.clone()) {
            let s = m.total();
            let _ = (
                s.stage_counts(),
                s.cohort_conversions(),
                s.period_conversions(),
            );
            let _ = (
                s.acceptance(),
                s.time_to_close(),
                s.velocity(WinRate::WonOverAll),
            );
        }
        let mut cp = ContentPartial::new(&models::Linear, c);
        for l in &leads {
            let _ = cp.observe(&models::Linear, l);
        }
        let _ = cp.finish();
    });
    let mut cp = ContentPartial::new(&models::Linear, FunnelConfig::default());
    for l in &leads {
        cp.observe(&models::Linear, l).unwrap();
    }
    mangle(&cp, |mut p: ContentPartial, good| {
        let _ = p.finish();
        let _ = p.clone().merge(&p);
        let _ = p.merge(good);
        for l in &leads {
            let _ = p.observe(&models::Linear, l);
        }
        let _ = p.finish();
    });
    let report = attribute(&models::Linear, &set).unwrap();
    let mut spend = Spend::new();
    spend.add("email", Some("q1"), "2024-01", 10.0).unwrap();
    spend.add("direct", None, "2024-02", 0.0).unwrap();
    let m = funnel::fit(&leads, FunnelConfig::default().slice_by(SliceBy::Channel)).unwrap();
    mangle(&spend, |s: Spend, _| {
        let _ = s.total_minor();
        let _ = s.channel_minor("email");
        let _ = RoiReport::by_channel(&report, &s, Some(&m));
    });
    let roi = RoiReport::by_channel(&report, &spend, Some(&m)).unwrap();
    mangle(&roi, |r: RoiReport, _| {
        for l in r.lines() {
            let _ = r.move_spend(&l.name, "email", 1.0);
        }
        let _ = r.move_spend("email", "direct", 5.0);
        let _ = r.total();
    });
    mangle(&report, |r: touchpoint::Report, _| {
        let _ = (r.value(), r.channels().get("email").map(|c| c.value()));
        let _ = RoiReport::by_channel(&r, &spend, Some(&m));
        let _ = RoiReport::by_campaign(&r, &spend, None);
    });
}

#[test]
fn content_partial_observe_into_saturated_counts_is_an_error() {
    let t = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
    let lead = Lead::new("a")
        .touch(SimpleTouch::new("email", t(0)).content("ebook"))
        .stage("mql", t(1));
    let mut p = ContentPartial::new(&models::Linear, FunnelConfig::default());
    p.observe(&models::Linear, &lead).unwrap();
    let mut v = serde_json::to_value(&p).unwrap();
    v["mqls"] = serde_json::json!(u64::MAX);
    let mut p: ContentPartial = serde_json::from_value(v).unwrap();
    assert!(matches!(
        p.observe(&models::Linear, &lead),
        Err(touchpoint::Error::Overflow { .. })
    ));
}

#[test]
fn mangled_results_never_panic() {
    let t = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
    let leads = [
        Lead::new("a")
            .with_amount(3.0)
            .touch(SimpleTouch::new("email", t(0)).content("ebook"))
            .stage("mql", t(0))
            .stage("sql", t(2))
            .stage("opportunity", t(3))
            .stage("closed_won", t(9)),
        Lead::new("b")
            .touch(SimpleTouch::new("direct", t(0)))
            .stage("inquiry", t(1))
            .stage_with_reason("disqualified", t(2), "x"),
    ];
    for slice in [SliceBy::Total, SliceBy::Channel] {
        let m = funnel::fit(&leads, FunnelConfig::default().slice_by(slice)).unwrap();
        let accepted = mangle(&m, |m: touchpoint::funnel::FunnelMetrics, _| {
            let _ = (
                m.config(),
                m.rules(),
                m.total_overflowed(),
                m.slice("email"),
            );
            for s in std::iter::once(m.total()).chain(m.slices()) {
                let _ = (s.stage_counts(), s.exit_counts(), s.cohort_conversions());
                let _ = (s.period_conversions(), s.acceptance(), s.time_to_close());
                let _ = (s.sales_cycle(), s.velocity(WinRate::WonOverClosed));
                for st in [
                    "inquiry",
                    "mql",
                    "sql",
                    "opportunity",
                    "closed_won",
                    "disqualified",
                    "x",
                ] {
                    let _ = s.reached(st);
                    let _ = s.time_in_stage(st);
                    let _ = s.cohort_rate(st, "closed_won");
                    let _ = s.cohort_rate("inquiry", st);
                }
            }
        });
        assert!(accepted > 0);
    }
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    let credits = markov::fit(&set, MarkovConfig::default())
        .unwrap()
        .credits()
        .unwrap();
    mangle(&credits, |c: touchpoint::Report, _| {
        for l in c.channels().lines() {
            let _ = (l.value(), l.conversions(), c.channels().get(l.name()));
        }
        let _ = (c.conversions(), c.value_minor(), c.channels().get("email"));
    });
    let mut cp = ContentPartial::new(&models::Linear, FunnelConfig::default());
    for l in &leads {
        cp.observe(&models::Linear, l).unwrap();
    }
    mangle(&cp.finish(), |r: touchpoint::funnel::ContentReport, _| {
        let _ = r.line("ebook");
        let _ = format!("{r:?}");
    });
}

#[test]
fn shapley_config_read_checks_the_exact_limit() {
    let c = ShapleyConfig::new(ShapleyVariant::Rate)
        .exact_limit(22)
        .unwrap();
    let text = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<ShapleyConfig>(&text).unwrap(), c);
    // 255 let the rate game enumerate 2^|J| subsets of a 64-channel journey
    let bad = text.replace("\"exact_limit\":22", "\"exact_limit\":255");
    assert!(serde_json::from_str::<ShapleyConfig>(&bad).is_err());
}

// ---- incrementality and bootstrap: exercised only (their source is being
// changed on another branch); a panic found here is reported, not fixed.

proptest! {
    #![proptest_config(cfg(24))]

    #[test]
    fn journeys_through_incremental_and_bootstrap(journeys in prop::collection::vec(journey(), 0..10)) {
        use touchpoint::bootstrap::{BootstrapConfig, bootstrap_model, replicate_weights};
        use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
        let set = set_of(&journeys);
        let config = IncrementalConfig::new();
        let mut a = IncrementalPartial::new(&config);
        let mut b = IncrementalPartial::new(&config);
        for (i, j) in journeys.iter().enumerate() {
            let p = if i % 2 == 0 { &mut a } else { &mut b };
            let _ = p.observe(j);
        }
        let w = replicate_weights(&set, u64::MAX, u32::MAX);
        let _ = a.observe_weighted(&set, &w);
        let _ = a.observe_weighted(&set, &[u32::MAX; 3]);
        if a.merge(&b).is_ok() {
            let text = serde_json::to_string(&a).unwrap();
            let back: IncrementalPartial = serde_json::from_str(&text).unwrap();
            if let Ok(m) = back.finish() {
                let _ = attribute(&m, &set);
            }
        }
        for reps in [1_u32, 3] {
            if let Ok(c) = BootstrapConfig::new().replicates(reps) {
                let _ = bootstrap_model(&models::Linear, &set, &c.seed(u64::MAX));
            }
        }
    }
}

/// A serialized partial whose `channels` repeat a name is refused on read
/// (the keys index into `channels`; interning would drop the repeat).
#[test]
fn incremental_partial_read_rejects_repeated_channels() {
    use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    let mut p = IncrementalPartial::new(&IncrementalConfig::new());
    p.observe_set(&set).unwrap();
    let mut v = serde_json::to_value(&p).unwrap();
    let first = v["channels"][0].clone();
    v["channels"][1] = first;
    assert!(serde_json::from_value::<IncrementalPartial>(v).is_err());
}

#[test]
fn mangled_incremental_partials_never_panic() {
    use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
    let set = JourneySet::from_journeys(mangle_journeys()).unwrap();
    let mut good = IncrementalPartial::new(&IncrementalConfig::new());
    good.observe_set(&set).unwrap();
    let accepted = mangle(&good, |mut p: IncrementalPartial, good| {
        let _ = p.finish();
        let _ = p.clone().merge(&p);
        let _ = p.merge(good);
        let _ = p.observe_set(&set);
        let _ = p.finish();
    });
    assert!(accepted > 0);
}
