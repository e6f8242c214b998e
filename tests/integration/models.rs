//! Integration tests: the rule-based models (public API only).
//!
//! A conformance harness run against every model, hand-computed known
//! answers for every model and edge case, and proptest invariants.

use chrono::DateTime;
use proptest::prelude::*;
use touchpoint::models::{
    self, FirstTouch, FnModel, FullPath, LastNonDirect, LastTouch, Linear, Participation,
    PositionBased, PositionWeights, TimeDecay, WShaped,
};
use touchpoint::{
    AttributionModel, CONVERSION_UNITS, CreditKind, CreditPartial, Crediter, Currency, Error,
    JourneySet, Milestone, Report, SimpleJourney, SimpleTouch, Weights, attribute,
};

const DAY_MS: i64 = 86_400_000;
const UNITS: i64 = CONVERSION_UNITS as i64;

/// A touch: channel, day, optional milestone.
type T<'a> = (&'a str, i64, Option<Milestone>);

fn at(day_ms: i64) -> chrono::DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(day_ms).unwrap()
}

/// A converted journey worth `cents`, touches at the given days, converting
/// at `conv_day` (if any).
fn journey(touches: &[T<'_>], cents: i64, conv_day: Option<i64>) -> SimpleJourney {
    let mut j = SimpleJourney::new("j");
    for &(ch, day, m) in touches {
        let mut t = SimpleTouch::new(ch, at(day * DAY_MS));
        if let Some(m) = m {
            t = t.milestone(m);
        }
        j = j.touch(t);
    }
    let mut j = j.converted(cents as f64 / 100.0);
    if let Some(d) = conv_day {
        j = j.converted_at(at(d * DAY_MS));
    }
    j
}

/// Touches on channels `names`, all on day 0, no milestones.
fn plain<'a>(names: &[&'a str]) -> Vec<T<'a>> {
    names.iter().map(|&n| (n, 0, None)).collect()
}

/// Per-touch credit in minor units of `model` on a converted journey.
fn credit(model: &dyn AttributionModel, touches: &[T<'_>], cents: i64) -> Vec<i64> {
    credit_at(model, touches, cents, None)
}

fn credit_at(
    model: &dyn AttributionModel,
    touches: &[T<'_>],
    cents: i64,
    conv_day: Option<i64>,
) -> Vec<i64> {
    let set = JourneySet::from_journeys([&journey(touches, cents, conv_day)]).unwrap();
    let mut c = Crediter::new();
    c.credit(model, &set.get(0).unwrap()).unwrap();
    c.values().to_vec()
}

fn every_model() -> Vec<Box<dyn AttributionModel>> {
    let mut all = models::all();
    all.push(Box::new(PositionBased::u_shaped().lead_anchored()));
    all.push(Box::new(PositionBased::j_shaped().lead_anchored()));
    all.push(Box::new(PositionBased::new(0.3, 0.5, 0.4).unwrap()));
    all.push(Box::new(TimeDecay::with_half_life_days(1.5).unwrap()));
    all.push(Box::new(LastNonDirect::new(["direct", "email"]).unwrap()));
    all.push(Box::new(WShaped::new(0.2, 0.4, 0.3).unwrap()));
    all.push(Box::new(FullPath::new(0.1, 0.2, 0.3, 0.4).unwrap()));
    all.push(Box::new(
        PositionWeights::new(vec![3.0, 1.0, 0.0, 2.0]).unwrap(),
    ));
    all.push(Box::new(PositionWeights::from_end(vec![5.0, 1.0]).unwrap()));
    all.push(Box::new(FnModel::new("second", |j, w| {
        w.all_to(usize::from(j.len() > 1));
        Ok(())
    })));
    all
}

/// A fixed set of journeys covering the edge cases: 1..8 touches, equal
/// timestamps, milestones present, missing and coinciding, non-converted
/// journeys, a converted journey with no touch, values that do not divide.
fn fixture() -> Vec<SimpleJourney> {
    use Milestone::{Closed, LeadCreated, OpportunityCreated};
    let specs: Vec<(Vec<T<'static>>, Option<i64>)> = vec![
        (vec![("email", 0, None)], Some(101)),
        (vec![("direct", 0, None)], Some(7)),
        (vec![("email", 0, None), ("direct", 1, None)], Some(333)),
        (vec![("direct", 0, None), ("direct", 0, None)], Some(1)),
        (plain(&["search", "social", "email", "direct"]), Some(5000)),
        (
            vec![
                ("search", 0, Some(LeadCreated)),
                ("email", 3, None),
                ("sales", 4, Some(OpportunityCreated)),
                ("email", 9, Some(Closed)),
            ],
            Some(99_999),
        ),
        (
            vec![
                ("display", 0, None),
                ("webinar", 2, Some(LeadCreated)),
                ("email", 5, None),
                ("sales", 7, Some(OpportunityCreated)),
                ("email", 8, None),
                ("sales", 10, Some(Closed)),
                ("direct", 11, None),
                ("email", 12, None),
            ],
            Some(123_457),
        ),
        (
            vec![("display", 0, None), ("webinar", 0, Some(LeadCreated))],
            Some(10),
        ),
        (plain(&["a", "b", "c", "a", "b"]), None),
        (vec![], Some(2500)),
        (vec![], None),
        (
            vec![("a", 5, None), ("b", 1, None), ("c", 3, None)],
            Some(1),
        ),
    ];
    specs
        .into_iter()
        .enumerate()
        .map(|(i, (touches, cents))| {
            let mut j = SimpleJourney::new(format!("f{i}"));
            for (ch, day, m) in touches {
                let mut t = SimpleTouch::new(ch, at(day * DAY_MS));
                if let Some(m) = m {
                    t = t.milestone(m);
                }
                j = j.touch(t);
            }
            match cents {
                Some(c) => j.converted(c as f64 / 100.0).converted_at(at(14 * DAY_MS)),
                None => j,
            }
        })
        .collect()
}

/// The conformance harness: every property every model must have.
fn check_model(model: &dyn AttributionModel) {
    let name = model.fingerprint();
    let set = JourneySet::from_journeys(fixture()).unwrap();
    let full = model.kind() == CreditKind::Full;
    let mut c = Crediter::new();
    for v in set.iter() {
        c.credit(model, &v).unwrap();
        let (vals, units) = (c.values(), c.conversion_units());
        assert_eq!(vals.len(), v.len(), "{name}");
        assert!(
            vals.iter().chain(units).all(|&x| x >= 0),
            "{name}: negative credit"
        );
        if !v.converted() || v.is_empty() {
            assert!(
                vals.iter().chain(units).all(|&x| x == 0),
                "{name}: credit without conversion"
            );
            continue;
        }
        if full {
            assert!(
                vals.iter().all(|&x| x == 0 || x == v.value_minor()),
                "{name}"
            );
            assert!(units.iter().all(|&x| x == 0 || x == UNITS), "{name}");
            assert!(units.contains(&UNITS), "{name}");
        } else {
            assert_eq!(
                vals.iter().sum::<i64>(),
                v.value_minor(),
                "{name}: value not conserved"
            );
            assert_eq!(
                units.iter().sum::<i64>(),
                UNITS,
                "{name}: conversion not conserved"
            );
        }
        if v.len() == 1 {
            assert_eq!(vals, &[v.value_minor()], "{name}: one touch must get 100%");
        }
    }
    // the report reconciles exactly in every breakdown
    let r = attribute(model, &set).unwrap();
    assert_eq!(r.journeys(), 12);
    assert_eq!(r.conversions(), 10);
    if !full {
        for b in [r.channels(), r.campaigns(), r.contents()] {
            let v: i128 = b.lines().iter().map(|l| l.value_minor()).sum();
            let u: u128 = b.lines().iter().map(|l| l.conversion_units()).sum();
            assert_eq!(v + b.unassigned().value_minor(), r.value_minor(), "{name}");
            assert_eq!(
                u + b.unassigned().conversion_units(),
                u128::from(r.conversions()) * u128::from(CONVERSION_UNITS),
                "{name}"
            );
        }
    }
    // the converted journey with no touch is in the unassigned bucket
    assert_eq!(r.channels().unassigned().value_minor(), 2500, "{name}");
    assert!(!model.name().is_empty());
    // streamed one journey at a time, in two shards merged after a serde
    // round trip, the partial finishes to the report's bits
    let mut left = CreditPartial::with_currency(model, Currency::default());
    let mut right = left.clone();
    for (i, j) in fixture().iter().enumerate() {
        let p = if i % 3 == 0 { &mut left } else { &mut right };
        p.observe_with(model, j).unwrap();
    }
    let right: CreditPartial =
        serde_json::from_str(&serde_json::to_string(&right).unwrap()).unwrap();
    right.clone().merge(&left).unwrap();
    left.merge(&right).unwrap();
    assert_eq!(left.finish(), r, "{name}: streamed");
    // the batch path, into an empty partial and into one whose catalog
    // already holds names in another order (ids mapped once per set)
    let mut shuffled = fixture();
    shuffled.reverse();
    let (first, second) = shuffled.split_at(5);
    let rest = JourneySet::from_journeys(second).unwrap();
    let mut a = CreditPartial::with_currency(model, Currency::default());
    let mut b = CreditPartial::with_currency(model, Currency::default());
    for j in first {
        b.observe_with(model, j).unwrap();
    }
    if model.spec().is_some() {
        a.observe_set(&set).unwrap();
        b.observe_set(&rest).unwrap();
        assert_eq!(a.finish(), r, "{name}: observe_set");
        assert_eq!(b.finish(), r, "{name}: observe_set after observe");
    } else {
        // a model without a spec is detached: it streams with the model given
        assert!(matches!(
            a.observe_set(&set),
            Err(Error::ModelNotAttached { .. })
        ));
    }
}

/// Every model the crate has, the fitted ones included: Markov orders 1 to
/// 4, every Shapley variant and the incremental model, each fitted on the
/// fixture.
fn every_fitted_model() -> Vec<Box<dyn AttributionModel>> {
    use touchpoint::incremental::{Incremental, IncrementalConfig};
    use touchpoint::markov::{self, MarkovConfig};
    use touchpoint::shapley::{self, ShapleyConfig, ShapleyVariant};
    let set = JourneySet::from_journeys(fixture()).unwrap();
    let mut out: Vec<Box<dyn AttributionModel>> = Vec::new();
    for order in 1..=4 {
        let config = MarkovConfig::new(order).unwrap();
        out.push(Box::new(markov::fit(&set, config).unwrap()));
    }
    for variant in [
        ShapleyVariant::Simplified,
        ShapleyVariant::Rate,
        ShapleyVariant::Ordered,
    ] {
        out.push(Box::new(
            shapley::fit(&set, ShapleyConfig::new(variant)).unwrap(),
        ));
    }
    out.push(Box::new(
        Incremental::fit(&set, &IncrementalConfig::new()).unwrap(),
    ));
    out
}

#[test]
fn every_model_conforms() {
    for m in every_model() {
        check_model(m.as_ref());
    }
}

#[test]
fn every_fitted_model_conforms() {
    let fitted = every_fitted_model();
    assert_eq!(fitted.len(), 8);
    for m in fitted {
        check_model(m.as_ref());
    }
}

#[test]
fn all_and_by_name_agree() {
    let all = models::all();
    let names: Vec<&str> = all.iter().map(|m| m.name()).collect();
    assert_eq!(names, models::NAMES);
    for m in &all {
        let again = models::by_name(m.name()).unwrap();
        assert_eq!(again.fingerprint(), m.fingerprint());
    }
    assert_eq!(
        models::by_name("u_shaped").unwrap().name(),
        "position_based"
    );
    let err = models::by_name("nope").err().unwrap();
    assert!(matches!(err, Error::UnknownName { kind: "model", ref name } if name == "nope"));
    // fingerprints are distinct, and carry parameters
    let mut fps: Vec<String> = every_model().iter().map(|m| m.fingerprint()).collect();
    let n = fps.len();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), n);
    assert_ne!(
        TimeDecay::default().fingerprint(),
        TimeDecay::with_half_life_days(3.0).unwrap().fingerprint()
    );
    assert_ne!(
        PositionBased::u_shaped().fingerprint(),
        PositionBased::u_shaped().lead_anchored().fingerprint()
    );
}

// ------------------------------------------------------------ known answers

#[test]
fn first_last_linear_known_answers() {
    let t = plain(&["a", "b", "c", "d"]);
    assert_eq!(credit(&FirstTouch, &t, 1000), [1000, 0, 0, 0]);
    assert_eq!(credit(&LastTouch, &t, 1000), [0, 0, 0, 1000]);
    assert_eq!(credit(&Linear, &t, 1000), [250, 250, 250, 250]);
    // leftover cents go to the earliest touches
    assert_eq!(credit(&Linear, &t, 1003), [251, 251, 251, 250]);
    assert_eq!(credit(&Linear, &plain(&["a", "b"]), 1), [1, 0]);
    // order is time order, not input order; equal times keep input order
    let shuffled = [("a", 3, None), ("b", 1, None), ("c", 1, None)];
    assert_eq!(credit(&FirstTouch, &shuffled, 10), [10, 0, 0]); // b (day 1, given first)
    let set = JourneySet::from_journeys([&journey(&shuffled, 10, None)]).unwrap();
    let v = set.get(0).unwrap();
    assert_eq!((v.channel_name(0), v.channel_name(2)), ("b", "a"));
    assert_eq!(credit(&LastTouch, &shuffled, 10), [0, 0, 10]); // a
}

#[test]
fn last_non_direct_known_answers() {
    let m = LastNonDirect::default();
    assert_eq!(
        credit(&m, &plain(&["search", "email", "direct"]), 80),
        [0, 80, 0]
    );
    assert_eq!(credit(&m, &plain(&["direct", "email"]), 80), [0, 80]);
    // all direct: falls back to the last touch
    assert_eq!(credit(&m, &plain(&["direct", "direct"]), 80), [0, 80]);
    assert_eq!(credit(&m, &plain(&["direct"]), 80), [80]);
    // no direct channel in the data at all
    assert_eq!(credit(&m, &plain(&["a", "b"]), 80), [0, 80]);
    // a configured set
    let m2 = LastNonDirect::new(["direct", "email"]).unwrap();
    assert_eq!(
        credit(&m2, &plain(&["search", "email", "direct"]), 80),
        [80, 0, 0]
    );
    assert_eq!(m2.direct_channels(), ["direct", "email"]);
    // many direct names (past the inline buffer) still work
    let many: Vec<String> = (0..20).map(|i| format!("d{i}")).collect();
    let m3 = LastNonDirect::new(many).unwrap();
    let t = plain(&[
        "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "x", "d9", "d10",
    ]);
    let mut expect = vec![0; 12];
    expect[9] = 5;
    assert_eq!(credit(&m3, &t, 5), expect);
    assert!(matches!(
        LastNonDirect::new(Vec::<&str>::new()),
        Err(Error::InvalidParameter {
            parameter: "direct",
            ..
        })
    ));
}

#[test]
fn time_decay_vendor_example() {
    // 7-day half-life, touches 9, 6, 0, 0 days before conversion
    let t = [
        ("a", 1, None),
        ("b", 4, None),
        ("c", 10, None),
        ("d", 10, None),
    ];
    let set = JourneySet::from_journeys([&journey(&t, 10_000, Some(10))]).unwrap();
    let mut w = Weights::new();
    TimeDecay::default()
        .weights(&set.get(0).unwrap(), &mut w)
        .unwrap();
    let pct: Vec<f64> = w
        .shares(4)
        .iter()
        .map(|s| (s * 1000.0).round() / 10.0)
        .collect();
    assert_eq!(pct, [13.8, 18.6, 33.8, 33.8]);
    // $100 in cents: 1384.67, 1863.62, 3375.86, 3375.86 -> largest remainder
    assert_eq!(
        credit_at(&TimeDecay::default(), &t, 10_000, Some(10)),
        [1385, 1863, 3376, 3376]
    );
}

#[test]
fn time_decay_edge_cases() {
    let m = TimeDecay::with_half_life_days(1.0).unwrap();
    // no conversion time: age from the last touch; 1 day = half
    let t = [("a", 0, None), ("b", 1, None)];
    assert_eq!(credit(&m, &t, 300), [100, 200]);
    // conversion 1 day after the last touch: same shares
    assert_eq!(credit_at(&m, &t, 300, Some(2)), [100, 200]);
    // equal timestamps: equal shares
    assert_eq!(credit(&m, &plain(&["a", "b", "c"]), 300), [100, 100, 100]);
    assert_eq!(credit(&m, &[("a", 0, None)], 300), [300]);
    // very old touches do not underflow
    let old = [("a", 0, None), ("b", 10_000, None)];
    assert_eq!(credit_at(&m, &old, 100, Some(20_000)), [0, 100]);
    // a touch after the conversion time counts as age 0: ages 1 and 0 days
    assert_eq!(
        credit_at(&m, &[("a", 0, None), ("b", 5, None)], 200, Some(1)),
        [67, 133]
    );
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e308] {
        assert!(matches!(
            TimeDecay::with_half_life_days(bad),
            Err(Error::InvalidParameter {
                parameter: "half_life",
                ..
            })
        ));
    }
    assert_eq!(TimeDecay::default().half_life_days(), 7.0);
}

#[test]
fn position_based_known_answers() {
    let u = PositionBased::u_shaped();
    let j = PositionBased::j_shaped();
    let ij = PositionBased::inverse_j();
    // the vendor J-shaped example: 4 touches, $50
    let four = plain(&["a", "b", "c", "d"]);
    assert_eq!(credit(&j, &four, 5000), [1000, 500, 500, 3000]);
    assert_eq!(credit(&u, &four, 5000), [2000, 500, 500, 2000]);
    assert_eq!(credit(&ij, &four, 5000), [3000, 500, 500, 1000]);
    // 3 touches: the middle one gets the whole middle share
    let three = plain(&["a", "b", "c"]);
    assert_eq!(credit(&u, &three, 1000), [400, 200, 400]);
    // 2 touches: the two-touch split replaces the three-part rule
    let two = plain(&["a", "b"]);
    assert_eq!(credit(&u, &two, 1000), [500, 500]);
    assert_eq!(credit(&j, &two, 1000), [250, 750]);
    assert_eq!(credit(&ij, &two, 1000), [750, 250]);
    for m in [u, j, ij] {
        assert_eq!(credit(&m, &plain(&["a"]), 1000), [1000]);
    }
    assert_eq!(
        (u.name(), j.name(), ij.name()),
        ("position_based", "j_shaped", "inverse_j")
    );
    // custom shares, and extremes
    let c = PositionBased::new(0.3, 0.5, 0.4).unwrap();
    assert_eq!(c.name(), "position_based");
    assert_eq!(credit(&c, &four, 1000), [300, 100, 100, 500]);
    assert_eq!(credit(&c, &two, 1000), [400, 600]);
    let ends = PositionBased::new(0.5, 0.5, 1.0).unwrap();
    assert_eq!(credit(&ends, &four, 1000), [500, 0, 0, 500]);
    assert_eq!(credit(&ends, &two, 1000), [1000, 0]);
    let middle = PositionBased::new(0.0, 0.0, 0.0).unwrap();
    assert_eq!(credit(&middle, &four, 1000), [0, 500, 500, 0]);
    assert_eq!(credit(&middle, &two, 1000), [0, 1000]);
    for (f, l, t) in [
        (0.6, 0.5, 0.5),
        (-0.1, 0.4, 0.5),
        (f64::NAN, 0.4, 0.5),
        (0.4, 0.4, 1.5),
        (0.4, f64::INFINITY, 0.5),
    ] {
        assert!(
            matches!(
                PositionBased::new(f, l, t),
                Err(Error::InvalidParameter { .. })
            ),
            "{f} {l} {t}"
        );
    }
}

#[test]
fn position_based_lead_anchored() {
    use Milestone::{LeadCreated, OpportunityCreated};
    let m = PositionBased::u_shaped().lead_anchored();
    assert!(m.is_lead_anchored());
    // lead at the 3rd of 5: rule over the first 3, nothing after
    let t = [
        ("a", 0, None),
        ("b", 1, None),
        ("c", 2, Some(LeadCreated)),
        ("d", 3, Some(OpportunityCreated)),
        ("e", 4, None),
    ];
    assert_eq!(credit(&m, &t, 1000), [400, 200, 400, 0, 0]);
    // lead at the 2nd: two-touch split
    let t2 = [("a", 0, None), ("b", 1, Some(LeadCreated)), ("c", 2, None)];
    assert_eq!(credit(&m, &t2, 1000), [500, 500, 0]);
    let jl = PositionBased::j_shaped().lead_anchored();
    assert_eq!(credit(&jl, &t2, 1000), [250, 750, 0]);
    // lead at the first touch: it gets 100%
    let t3 = [("a", 0, Some(LeadCreated)), ("b", 1, None), ("c", 2, None)];
    assert_eq!(credit(&m, &t3, 1000), [1000, 0, 0]);
    // no lead touch: falls back to the whole journey (plain U-shaped)
    assert_eq!(
        credit(&m, &plain(&["a", "b", "c", "d"]), 1000),
        [400, 100, 100, 400]
    );
    // the first lead touch counts
    let t4 = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, Some(LeadCreated)),
    ];
    assert_eq!(credit(&m, &t4, 1000), [500, 500, 0]);
}

#[test]
fn w_shaped_known_answers() {
    use Milestone::{Closed, LeadCreated, OpportunityCreated};
    let w = WShaped::default();
    assert_eq!(w.name(), "w_shaped");
    // all anchors, two rest touches
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, None),
        ("d", 3, Some(OpportunityCreated)),
        ("e", 4, None),
    ];
    assert_eq!(credit(&w, &t, 10_000), [3000, 3000, 500, 3000, 500]);
    // missing opportunity: its 30% goes to first and lead in proportion
    let t = [("a", 0, None), ("b", 1, Some(LeadCreated)), ("c", 2, None)];
    assert_eq!(credit(&w, &t, 10_000), [4500, 4500, 1000]);
    // no milestone: 90% first, 10% shared by the rest
    assert_eq!(
        credit(&w, &plain(&["a", "b", "c"]), 10_000),
        [9000, 500, 500]
    );
    assert_eq!(credit(&w, &plain(&["a", "b"]), 10_000), [9000, 1000]);
    // coinciding: the first touch also created the lead (gets 60%)
    let t = [
        ("a", 0, Some(LeadCreated)),
        ("b", 1, None),
        ("c", 2, Some(OpportunityCreated)),
        ("d", 3, None),
    ];
    assert_eq!(credit(&w, &t, 10_000), [6000, 500, 3000, 500]);
    // no rest touch: the 10% goes to the anchors in proportion (1/3 each)
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, Some(OpportunityCreated)),
    ];
    assert_eq!(credit(&w, &t, 900), [300, 300, 300]);
    // no rest touch and coinciding anchors: 60 : 30
    let t = [
        ("a", 0, Some(LeadCreated)),
        ("b", 1, Some(OpportunityCreated)),
    ];
    assert_eq!(credit(&w, &t, 900), [600, 300]);
    // no rest touch, opportunity missing: first and lead 50/50
    let t = [("a", 0, None), ("b", 1, Some(LeadCreated))];
    assert_eq!(credit(&w, &t, 900), [450, 450]);
    // one touch (with or without milestones)
    assert_eq!(credit(&w, &[("a", 0, Some(LeadCreated))], 900), [900]);
    assert_eq!(credit(&w, &plain(&["a"]), 900), [900]);
    // only the first touch carrying a milestone anchors; Closed is rest here
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, Some(LeadCreated)),
        ("d", 3, Some(OpportunityCreated)),
        ("e", 4, Some(Closed)),
    ];
    assert_eq!(credit(&w, &t, 10_000), [3000, 3000, 500, 3000, 500]);
    // custom shares and their validation
    let c = WShaped::new(0.2, 0.4, 0.3).unwrap();
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, None),
        ("d", 3, Some(OpportunityCreated)),
    ];
    assert_eq!(credit(&c, &t, 1000), [200, 400, 100, 300]);
    for (f, l, o) in [
        (0.0, 0.3, 0.3),
        (0.5, 0.5, 0.5),
        (0.3, -0.1, 0.3),
        (0.3, f64::NAN, 0.3),
    ] {
        assert!(matches!(
            WShaped::new(f, l, o),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

#[test]
fn full_path_known_answers() {
    use Milestone::{Closed, LeadCreated, OpportunityCreated};
    let z = FullPath::default();
    assert_eq!(z.name(), "full_path");
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, None),
        ("d", 3, Some(OpportunityCreated)),
        ("e", 4, None),
        ("f", 5, Some(Closed)),
    ];
    assert_eq!(credit(&z, &t, 20_000), [4500, 4500, 1000, 4500, 1000, 4500]);
    // missing close: the same as W-shaped
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, None),
        ("d", 3, Some(OpportunityCreated)),
        ("e", 4, None),
    ];
    assert_eq!(
        credit(&z, &t, 10_000),
        credit(&WShaped::default(), &t, 10_000)
    );
    // only a close touch: first and close share 90% equally
    let t = [("a", 0, None), ("b", 1, None), ("c", 2, Some(Closed))];
    assert_eq!(credit(&z, &t, 10_000), [4500, 1000, 4500]);
    // every touch an anchor: 1/4 each
    let t = [
        ("a", 0, None),
        ("b", 1, Some(LeadCreated)),
        ("c", 2, Some(OpportunityCreated)),
        ("d", 3, Some(Closed)),
    ];
    assert_eq!(credit(&z, &t, 1000), [250, 250, 250, 250]);
    // first touch is the lead: two shares (45%)
    let t = [
        ("a", 0, Some(LeadCreated)),
        ("b", 1, None),
        ("c", 2, Some(OpportunityCreated)),
        ("d", 3, Some(Closed)),
    ];
    assert_eq!(credit(&z, &t, 10_000), [4500, 1000, 2250, 2250]);
    assert_eq!(credit(&z, &plain(&["a"]), 10_000), [10_000]);
    assert!(FullPath::new(0.3, 0.3, 0.3, 0.3).is_err());
}

#[test]
fn participation_known_answers() {
    let p = Participation;
    assert_eq!(p.kind(), CreditKind::Full);
    assert_eq!(
        credit(&p, &plain(&["email", "display", "email"]), 3000),
        [3000, 3000, 0]
    );
    assert_eq!(credit(&p, &plain(&["email", "email"]), 3000), [3000, 0]);
    assert_eq!(credit(&p, &plain(&["email"]), 3000), [3000]);
    // long journeys (the sorting path) dedupe the same way
    let names: Vec<String> = (0..100).map(|i| format!("c{}", i % 7)).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let got = credit(&p, &plain(&refs), 10);
    assert_eq!(got.iter().filter(|&&x| x == 10).count(), 7);
    assert!(got[..7].iter().all(|&x| x == 10));
    // in a report: every channel gets the journey's full value
    let set = JourneySet::from_journeys([&journey(&plain(&["a", "b", "a"]), 500, None)]).unwrap();
    let r = attribute(&p, &set).unwrap();
    assert!(r.is_full_credit());
    assert_eq!(r.channels().get("a").unwrap().value_minor(), 500);
    assert_eq!(r.channels().get("b").unwrap().conversions(), 1.0);
}

#[test]
fn custom_models_known_answers() {
    let pw = PositionWeights::new(vec![3.0, 1.0]).unwrap();
    assert_eq!(credit(&pw, &plain(&["a", "b", "c"]), 1000), [600, 200, 200]);
    assert_eq!(credit(&pw, &plain(&["a"]), 1000), [1000]);
    let end = PositionWeights::from_end(vec![2.0, 0.0, 1.0]).unwrap();
    assert_eq!(
        credit(&end, &plain(&["a", "b", "c", "d"]), 1000),
        [250, 250, 0, 500]
    );
    assert_eq!(end.weights(), [2.0, 0.0, 1.0]);
    for bad in [vec![], vec![0.0, 1.0], vec![1.0, -1.0], vec![1.0, f64::NAN]] {
        assert!(matches!(
            PositionWeights::new(bad),
            Err(Error::InvalidParameter {
                parameter: "weights",
                ..
            })
        ));
    }
    // a closure model
    let last_two = FnModel::new("last_two", |j, w| {
        let n = j.len();
        w.weighted()
            .extend((0..n).map(|i| if i + 2 >= n { 1.0 } else { 0.0 }));
        Ok(())
    });
    assert_eq!(credit(&last_two, &plain(&["a", "b", "c"]), 10), [0, 5, 5]);
    assert_eq!(last_two.fingerprint(), "fn(last_two)");
    assert_eq!(
        last_two.with_fingerprint("last_two(k=2)").fingerprint(),
        "last_two(k=2)"
    );
    // bad weights become a typed error naming the model and the journey
    let bad = FnModel::new("bad", |_, w| {
        w.weighted().push(-1.0);
        Ok(())
    });
    let set = JourneySet::from_journeys([&journey(&plain(&["a"]), 10, None)]).unwrap();
    let err = attribute(&bad, &set).unwrap_err();
    assert!(
        matches!(err, Error::InvalidWeights { ref model, ref journey, .. } if model == "bad" && journey == "j")
    );
    // errors from the closure pass through
    let failing = FnModel::new("failing", |_, _| {
        Err(Error::InsufficientData {
            reason: "nope".into(),
        })
    });
    assert!(matches!(
        attribute(&failing, &set),
        Err(Error::InsufficientData { .. })
    ));
}

// --------------------------------------------------------------- proptest

/// A random journey: up to 8 touches (sometimes 20 to 39) on 5 channels plus "direct", random
/// days, milestones and outcome.
/// Touches (channel index, day, milestone code), converted, cents, conversion day.
type Spec = (Vec<(u8, i64, u8)>, bool, u32, Option<i64>);

fn arb_journey() -> impl Strategy<Value = Spec> {
    (
        prop_oneof![
            4 => prop::collection::vec((0u8..6, 0i64..60, 0u8..8), 0..9),
            // past the engine's small-journey paths
            1 => prop::collection::vec((0u8..6, 0i64..60, 0u8..12), 20..40),
        ],
        any::<bool>(),
        0u32..1_000_000,
        prop::option::of(0i64..90),
    )
}

const NAMES: [&str; 6] = ["c0", "c1", "c2", "c3", "c4", "direct"];

fn build(specs: &[Spec], rename: impl Fn(&str) -> String) -> Vec<SimpleJourney> {
    specs
        .iter()
        .enumerate()
        .map(|(i, (touches, converted, cents, conv))| {
            let mut j = SimpleJourney::new(format!("p{i}"));
            for &(c, day, m) in touches {
                let mut t = SimpleTouch::new(rename(NAMES[c as usize]), at(day * DAY_MS));
                t = match m {
                    0 => t.milestone(Milestone::LeadCreated),
                    1 => t.milestone(Milestone::OpportunityCreated),
                    2 => t.milestone(Milestone::Closed),
                    _ => t,
                };
                j = j.touch(t);
            }
            if *converted {
                j = j.converted(f64::from(*cents) / 100.0);
                if let Some(d) = conv {
                    j = j.converted_at(at(d * DAY_MS));
                }
            }
            j
        })
        .collect()
}

fn channel_values(r: &Report, rename: impl Fn(&str) -> String) -> Vec<(String, i128, u128)> {
    let mut v: Vec<(String, i128, u128)> = r
        .channels()
        .lines()
        .iter()
        .map(|c| (rename(c.name()), c.value_minor(), c.conversion_units()))
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shares_sum_to_one(j in arb_journey()) {
        let set = JourneySet::from_journeys(build(&[j], str::to_owned)).unwrap();
        let v = set.get(0).unwrap();
        prop_assume!(!v.is_empty());
        for m in every_model() {
            let mut w = Weights::new();
            m.weights(&v, &mut w).unwrap();
            let s = w.shares(v.len());
            prop_assert!(s.iter().all(|&x| x >= 0.0));
            if m.kind() == CreditKind::Shares {
                let sum: f64 = s.iter().sum();
                prop_assert!((sum - 1.0).abs() < 1e-12, "{}: {sum}", m.name());
            }
        }
    }

    #[test]
    fn reports_conserve_value(js in prop::collection::vec(arb_journey(), 0..25)) {
        let set = JourneySet::from_journeys(build(&js, str::to_owned)).unwrap();
        let total: i128 = set.iter().map(|j| i128::from(j.value_minor())).sum();
        for m in every_model() {
            let r = attribute(m.as_ref(), &set).unwrap();
            prop_assert_eq!(r.value_minor(), total);
            let ch = r.channels();
            let sum: i128 = ch.lines().iter().map(|l| l.value_minor()).sum::<i128>()
                + ch.unassigned().value_minor();
            let units: u128 = ch.lines().iter().map(|l| l.conversion_units()).sum::<u128>()
                + ch.unassigned().conversion_units();
            if m.kind() == CreditKind::Shares {
                prop_assert_eq!(sum, total, "{}", m.name());
                prop_assert_eq!(units, u128::from(r.conversions()) * u128::from(CONVERSION_UNITS));
            } else {
                prop_assert!(sum >= total);
            }
        }
    }

    #[test]
    fn report_matches_per_journey_credit(js in prop::collection::vec(arb_journey(), 0..25)) {
        // the report's fast paths agree with the per-touch Crediter
        let set = JourneySet::from_journeys(build(&js, str::to_owned)).unwrap();
        for m in every_model() {
            let r = attribute(m.as_ref(), &set).unwrap();
            let mut by_name = std::collections::BTreeMap::<String, (i128, u128)>::new();
            let mut c = Crediter::new();
            for v in set.iter() {
                c.credit(m.as_ref(), &v).unwrap();
                for (i, (&val, &u)) in c.values().iter().zip(c.conversion_units()).enumerate() {
                    if val != 0 || u != 0 {
                        let e = by_name.entry(v.channel_name(i).to_owned()).or_default();
                        e.0 += i128::from(val);
                        e.1 += u128::try_from(u).unwrap();
                    }
                }
            }
            let got: std::collections::BTreeMap<String, (i128, u128)> = r
                .channels()
                .lines()
                .iter()
                .filter(|l| l.value_minor() != 0 || l.conversion_units() != 0)
                .map(|l| (l.name().to_owned(), (l.value_minor(), l.conversion_units())))
                .collect();
            prop_assert_eq!(got, by_name, "{}", m.name());
        }
    }

    #[test]
    fn independent_of_journey_order(
        js in prop::collection::vec(arb_journey(), 1..20),
        rot in 0usize..20,
    ) {
        let a = JourneySet::from_journeys(build(&js, str::to_owned)).unwrap();
        let mut shuffled = js.clone();
        shuffled.reverse();
        let k = rot % shuffled.len();
        shuffled.rotate_left(k);
        let b = JourneySet::from_journeys(build(&shuffled, str::to_owned)).unwrap();
        for m in every_model() {
            prop_assert_eq!(attribute(m.as_ref(), &a).unwrap(), attribute(m.as_ref(), &b).unwrap());
        }
    }

    #[test]
    fn independent_of_channel_names(js in prop::collection::vec(arb_journey(), 1..20)) {
        // a bijection on the non-direct names that also changes their
        // interning order and sort order; "direct" keeps its meaning
        let fwd = |s: &str| match s {
            "direct" => "direct".to_owned(),
            _ => format!("z{}", 9 - s[1..].parse::<u8>().unwrap()),
        };
        let back = |s: &str| match s {
            "direct" => "direct".to_owned(),
            _ => format!("c{}", 9 - s[1..].parse::<u8>().unwrap()),
        };
        let a = JourneySet::from_journeys(build(&js, str::to_owned)).unwrap();
        let b = JourneySet::from_journeys(build(&js, fwd)).unwrap();
        for m in every_model() {
            let ra = attribute(m.as_ref(), &a).unwrap();
            let rb = attribute(m.as_ref(), &b).unwrap();
            prop_assert_eq!(channel_values(&ra, str::to_owned), channel_values(&rb, back));
        }
    }

    #[test]
    fn time_decay_never_favours_earlier(
        j in arb_journey(),
        half_life in 0.1f64..60.0,
    ) {
        let set = JourneySet::from_journeys(build(&[j], str::to_owned)).unwrap();
        let v = set.get(0).unwrap();
        prop_assume!(!v.is_empty());
        let m = TimeDecay::with_half_life_days(half_life).unwrap();
        let mut w = Weights::new();
        m.weights(&v, &mut w).unwrap();
        let s = w.shares(v.len());
        for k in 1..s.len() {
            prop_assert!(s[k] >= s[k - 1], "{s:?}");
        }
    }
}

// ------------------------------------------------ CreditPartial, ModelSpec

mod partials {
    use std::sync::Arc;

    use touchpoint::models::{self, FnModel, Linear, ModelSpec, PositionWeights, TimeDecay};
    use touchpoint::rules::Rules;
    use touchpoint::{
        Aggregate, Breakdowns, CONVERSION_UNITS, CreditConfig, CreditPartial, Error,
        JourneyAggregate, JourneySet, SimpleJourney, SimpleTouch, attribute,
    };

    fn t(day: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(day * 86_400, 0).unwrap()
    }

    fn sample() -> Vec<SimpleJourney> {
        vec![
            SimpleJourney::new("a")
                .touch(SimpleTouch::new("display", t(0)).campaign("q1"))
                .touch(SimpleTouch::new("email", t(2)).content("guide"))
                .touch(SimpleTouch::new("search", t(3)).campaign("q2"))
                .converted(1.00),
            SimpleJourney::new("b").touch(SimpleTouch::new("email", t(1))),
            SimpleJourney::new("c").converted(25.0),
        ]
    }

    #[test]
    fn aggregate_trait_is_the_streaming_path() {
        let config = CreditConfig::new(Linear);
        let mut p = <CreditPartial as Aggregate>::new(config);
        for j in sample() {
            JourneyAggregate::observe(&mut p, &j).unwrap();
        }
        assert_eq!(p.observed(), 3);
        let r = Aggregate::finish(&p).unwrap();
        // $1.00 over three touches: 34, 33, 33 (leftover cent to the first)
        let ch = r.channels();
        assert_eq!(ch.get("display").unwrap().value_minor(), 34);
        assert_eq!(ch.get("email").unwrap().value_minor(), 33);
        assert_eq!(ch.get("search").unwrap().value_minor(), 33);
        assert_eq!(ch.unassigned().value_minor(), 2500);
        assert_eq!(r.campaigns().get("q1").unwrap().value_minor(), 34);
        assert_eq!(r.campaigns().unassigned().value_minor(), 2500 + 33);
        let set = JourneySet::from_journeys(sample()).unwrap();
        assert_eq!(r, attribute(&Linear, &set).unwrap());
    }

    #[test]
    fn channels_only_skips_the_other_breakdowns() {
        let all = CreditConfig::new(Linear);
        let channels = all.clone().with_breakdowns(Breakdowns::CHANNELS);
        let mut a = CreditPartial::new(all);
        let mut c = CreditPartial::new(channels);
        for j in sample() {
            a.observe(&j).unwrap();
            c.observe(&j).unwrap();
        }
        let (ra, rc) = (a.finish(), c.finish());
        assert_eq!(ra.channels(), rc.channels());
        assert!(rc.campaigns().lines().is_empty() && rc.contents().lines().is_empty());
        assert_eq!(rc.campaigns().unassigned().value_minor(), 0);
        assert!(ra.breakdowns().campaigns() && !rc.breakdowns().contents());
        // different breakdowns do not merge
        assert!(matches!(
            a.merge(&c),
            Err(Error::IncompatiblePartials { .. })
        ));
        let back: CreditPartial =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.finish(), rc);
    }

    #[test]
    fn observe_path_credits_by_weight() {
        // linear over a > b > c, 2 conversions worth $1.00 in all, 5 nulls:
        // one journey's units are 333333334, 333333333, 333333333, times 2;
        // the value is split once: 34, 33, 33 cents
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        p.observe_path(&["a", "b", "c"], 2, 100, 5).unwrap();
        let r = p.finish();
        assert_eq!(
            (r.journeys(), r.conversions(), r.value_minor()),
            (7, 2, 100)
        );
        let line = |n: &str| {
            let c = r.channels().get(n).unwrap();
            (c.conversion_units(), c.value_minor())
        };
        assert_eq!(line("a"), (666_666_668, 34));
        assert_eq!(line("b"), (666_666_666, 33));
        assert_eq!(line("c"), (666_666_666, 33));
        // paths name no campaign: their credit is unassigned there
        assert_eq!(r.campaigns().unassigned().value_minor(), 100);
        // an empty path with conversions is unassigned
        p.observe_path::<&str>(&[], 3, 900, 0).unwrap();
        assert_eq!(p.finish().channels().unassigned().value_minor(), 900);
    }

    #[test]
    fn observe_path_huge_counts_cost_nothing_and_overflow_is_typed() {
        let mut p = CreditPartial::new(CreditConfig::by_name("w_shaped").unwrap());
        let big = 1_000_000_000_000_000_000_u64;
        p.observe_path(&["a", "b", "c", "d"], big, 1 << 53, big)
            .unwrap();
        let r = p.finish();
        assert_eq!(r.journeys(), 2 * big);
        let units: u128 = r
            .channels()
            .lines()
            .iter()
            .map(|l| l.conversion_units())
            .sum();
        assert_eq!(units, u128::from(big) * u128::from(CONVERSION_UNITS));
        assert_eq!(
            r.channels()
                .lines()
                .iter()
                .map(|l| l.value_minor())
                .sum::<i128>(),
            1 << 53
        );
        let before = p.finish();
        assert!(matches!(
            p.observe_path(&["a"], u64::MAX, 0, 1),
            Err(Error::Overflow { .. })
        ));
        assert!(matches!(
            p.observe_path(&["a"], u64::MAX - 2 * big + 1, 0, 0),
            Err(Error::Overflow { .. })
        ));
        for (path, conv, value) in [
            (vec!["a"], 1, -5),            // negative value
            (vec!["a"], 1, (1 << 53) + 1), // past 2^53
            (vec!["a"], 0, 50_000),        // value without conversions
            (vec!["a", ""], 1, 10),        // empty channel name
        ] {
            assert!(
                matches!(
                    p.observe_path(&path, conv, value, 0),
                    Err(Error::InvalidParameter { .. })
                ),
                "{path:?} {conv} {value}"
            );
        }
        // on error the partial is unchanged
        assert_eq!(p.finish(), before);
    }

    #[test]
    fn a_partial_travels_with_its_spec() {
        let model = TimeDecay::with_half_life_days(2.5).unwrap();
        let mut p = CreditPartial::new(CreditConfig::new(model));
        p.observe(&sample()[0]).unwrap();
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains(r#""spec":{"model":"time_decay""#), "{text}");
        let mut back: CreditPartial = serde_json::from_str(&text).unwrap();
        // rebuilt from the spec: it observes without the model being passed
        back.observe(&sample()[1]).unwrap();
        p.observe(&sample()[1]).unwrap();
        assert_eq!(back.finish(), p.finish());
        // a spec that does not build the partial's model is refused
        let forged = text.replace(r#""half_life_ms":216000000.0"#, r#""half_life_ms":1000.0"#);
        assert_ne!(forged, text);
        assert!(serde_json::from_str::<CreditPartial>(&forged).is_err());
    }

    #[test]
    fn a_partial_without_spec_is_detached_after_a_round_trip() {
        let second = Arc::new(
            FnModel::new("second", |j, w| {
                w.all_to(usize::from(j.len() > 1));
                Ok(())
            })
            .with_fingerprint("second(v1)"),
        );
        let mut p = CreditPartial::new(CreditConfig::from_arc(second.clone()));
        p.observe(&sample()[0]).unwrap();
        let text = serde_json::to_string(&p).unwrap();
        let back: CreditPartial = serde_json::from_str(&text).unwrap();
        assert!(back.config().model().is_none());
        // merges and finishes without the model
        let mut merged = back.clone();
        merged.merge(&p).unwrap();
        assert_eq!(merged.finish().value_minor(), 200);
        // observing needs it
        let mut detached = back.clone();
        assert!(matches!(
            detached.observe(&sample()[0]),
            Err(Error::ModelNotAttached { .. })
        ));
        // re-attached, checked by fingerprint
        let wrong = Arc::new(FnModel::new("second", |_, w| {
            w.equal();
            Ok(())
        }));
        assert!(matches!(
            back.clone().with_model(wrong),
            Err(Error::IncompatiblePartials { .. })
        ));
        let mut attached = back.with_model(second).unwrap();
        attached.observe(&sample()[0]).unwrap();
        assert_eq!(
            attached
                .finish()
                .channels()
                .get("email")
                .unwrap()
                .value_minor(),
            200
        );
    }

    /// The partial of `sample()` under linear credit, as JSON.
    fn good() -> serde_json::Value {
        let mut p = CreditPartial::new(CreditConfig::new(Linear));
        for j in sample() {
            p.observe(&j).unwrap();
        }
        serde_json::to_value(&p).unwrap()
    }

    #[test]
    fn deserialization_checks_what_construction_guarantees() {
        let ok = good();
        assert!(serde_json::from_value::<CreditPartial>(ok.clone()).is_ok());
        type Mangle = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Mangle)> = vec![
            (
                "negative total value",
                Box::new(|v| v["value"] = (-5).into()),
            ),
            ("unknown version", Box::new(|v| v["version"] = 2.into())),
            (
                "more conversions than journeys",
                Box::new(|v| v["journeys"] = 1.into()),
            ),
            (
                "lines disagree with the totals",
                Box::new(|v| v["channel"]["lines"]["email"]["value"] = 34.into()),
            ),
            (
                "a negative line",
                Box::new(|v| {
                    v["channel"]["lines"]["email"]["value"] = (-1).into();
                    v["channel"]["lines"]["search"]["value"] = 67.into();
                }),
            ),
            (
                "units disagree with conversions",
                Box::new(|v| v["conversions"] = 3.into()),
            ),
            (
                "lines in a breakdown not computed",
                Box::new(|v| {
                    v["breakdowns"] = serde_json::json!({"campaigns": false, "contents": true});
                }),
            ),
            (
                "a spec of another model",
                Box::new(|v| v["spec"] = serde_json::json!({"model": "first_touch"})),
            ),
            (
                "an invalid spec",
                Box::new(|v| {
                    v["spec"] = serde_json::json!({"model": "time_decay", "half_life_ms": -1.0});
                }),
            ),
        ];
        for (what, mangle) in cases {
            let mut v = ok.clone();
            mangle(&mut v);
            assert!(
                serde_json::from_value::<CreditPartial>(v).is_err(),
                "{what} accepted"
            );
        }
        // a sum past 2^120 (JSON values cannot hold it: edit the text)
        let text = serde_json::to_string(&ok).unwrap();
        let big = text.replace(
            r#""email":{"units":333333333"#,
            r#""email":{"units":340282366920938463463374607431768211455"#,
        );
        assert_ne!(big, text);
        assert!(serde_json::from_str::<CreditPartial>(&big).is_err());
    }

    #[test]
    fn the_identity_merges_with_everything() {
        let p: CreditPartial = serde_json::from_value(good()).unwrap();
        let mut empty = CreditPartial::new(CreditConfig::new(Linear));
        let empty_back: CreditPartial =
            serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
        empty.merge(&p).unwrap();
        assert_eq!(empty.finish(), p.finish());
        let mut q = p.clone();
        q.merge(&empty_back).unwrap();
        assert_eq!(q.finish(), p.finish());
    }

    #[test]
    fn constructors_reject_what_would_fail_later() {
        for d in [5e-324, 1e-300, 1e-9, 0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(
                    TimeDecay::with_half_life_days(d),
                    Err(Error::InvalidParameter {
                        parameter: "half_life",
                        ..
                    })
                ),
                "{d}"
            );
        }
        // one millisecond is the smallest half-life
        assert!(TimeDecay::with_half_life_days(1.0 / 86_400_000.0).is_ok());
        for w in [vec![f64::MAX], vec![1.0, f64::MAX], vec![1.0, 1e300]] {
            assert!(
                matches!(
                    PositionWeights::new(w.clone()),
                    Err(Error::InvalidParameter {
                        parameter: "weights",
                        ..
                    })
                ),
                "{w:?}"
            );
        }
        assert!(PositionWeights::new(vec![1.0, 1e290]).is_ok());
        for d in [1e-300, 5e-324, 1e-9] {
            assert!(matches!(
                Rules::new().lookback_days(d),
                Err(Error::InvalidParameter {
                    parameter: "lookback",
                    ..
                })
            ));
            assert!(matches!(
                Rules::new().dormancy_split_days(d),
                Err(Error::InvalidParameter {
                    parameter: "dormancy",
                    ..
                })
            ));
        }
        assert!(Rules::new().lookback_days(1.0 / 86_400_000.0).is_ok());
    }

    #[test]
    fn specs_name_every_rule_based_model() {
        for name in models::NAMES {
            let spec: ModelSpec = name.parse().unwrap();
            assert_eq!(spec.name(), name);
            let config = CreditConfig::from_spec(&spec).unwrap();
            assert_eq!(config.model_name(), name);
        }
        assert_eq!(
            "u_shaped".parse::<ModelSpec>().unwrap().name(),
            "position_based"
        );
        assert!(matches!(
            CreditConfig::by_name("markov"),
            Err(Error::UnknownName { .. })
        ));
    }
}
