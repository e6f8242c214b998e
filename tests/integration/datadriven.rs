//! Integration tests: data-driven models (Markov chains and Shapley values).
//!
//! Known answers come from `tests/data/` (copies of the shared sample data,
//! the peers' exact figures and the fixtures).

use std::collections::BTreeMap;

use proptest::prelude::*;
use touchpoint::markov::{self, Markov, MarkovConfig, MarkovPartial, Target};
use touchpoint::shapley::{self, Sampling, ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::{CONVERSION_UNITS, Error, JourneySet, SimpleJourney, SimpleTouch, attribute};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Conversions are kept in units of 1e-9; a line is at most one unit off
/// the real share, plus float noise.
const UNIT_TOL: f64 = 2e-9;

type Row = (Vec<String>, u64, i64, u64);

fn rows(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.rsplitn(4, ',').collect();
            let path = c[3].split('>').map(|s| s.trim().to_owned()).collect();
            let value: f64 = c[1].trim().parse().unwrap();
            #[expect(clippy::cast_possible_truncation, reason = "cents")]
            let minor = (value * 100.0).round() as i64;
            (
                path,
                c[2].trim().parse().unwrap(),
                minor,
                c[0].trim().parse().unwrap(),
            )
        })
        .collect()
}

fn markov_of(rows: &[Row], config: MarkovConfig) -> Markov {
    let mut f = MarkovPartial::new(config);
    for (p, c, v, n) in rows {
        f.observe_path(p, *c, *v, *n).unwrap();
    }
    f.finish().unwrap()
}

fn json(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn textbook_three_paths_give_exactly_two_and_one() {
    let mut f = MarkovPartial::new(MarkovConfig::new(1).unwrap());
    for p in ["A>B>A>B>B>A", "A>B>B>A>A", "A>A"] {
        let path: Vec<&str> = p.split('>').collect();
        f.observe_path(&path, 1, 0, 0).unwrap();
    }
    let m = f.finish().unwrap();
    assert_eq!(m.conversion_probability(), 1.0);
    assert_eq!(m.removal_effects(), vec![("A", 1.0), ("B", 0.5)]);
    let c = m.credits().unwrap();
    let c = c.channels();
    assert_eq!(
        c.get("A").unwrap().conversion_units(),
        2 * u128::from(CONVERSION_UNITS)
    );
    assert_eq!(
        c.get("B").unwrap().conversion_units(),
        u128::from(CONVERSION_UNITS)
    );
    assert_eq!(c.get("A").unwrap().conversions(), 2.0);
}

#[test]
fn fixtures_match_exact_figures() {
    for name in ["toy3_classic", "toy4_counts_repeats", "toy5_single_closer"] {
        let fx = json(&format!("{DATA}/fixtures/{name}.json"));
        let input: Vec<Row> = fx["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let path = r["path"]
                    .as_str()
                    .unwrap()
                    .split('>')
                    .map(|s| s.trim().to_owned())
                    .collect();
                #[expect(clippy::cast_possible_truncation, reason = "cents")]
                let v = (r["total_conversion_value"].as_f64().unwrap() * 100.0).round() as i64;
                (
                    path,
                    r["total_conversions"].as_u64().unwrap(),
                    v,
                    r["total_null"].as_u64().unwrap(),
                )
            })
            .collect();
        for (key, exp) in fx["expected"].as_object().unwrap() {
            if !key.starts_with("markov") {
                continue;
            }
            let order = u8::try_from(exp["order"].as_u64().unwrap()).unwrap();
            let collapse = exp["collapse"].as_bool().unwrap();
            let m = markov_of(
                &input,
                MarkovConfig::new(order).unwrap().collapse_repeats(collapse),
            );
            let ctx = format!("{name}/{key}");
            assert_eq!(
                m.state_count() as u64,
                exp["n_states"].as_u64().unwrap(),
                "{ctx}"
            );
            let p = exp["p_conversion"].as_f64().unwrap();
            assert!((m.conversion_probability() - p).abs() < 1e-14, "{ctx}");
            for (ch, re) in exp["removal_effects"].as_object().unwrap() {
                let got = m.removal_effect(ch).unwrap();
                assert!((got - re.as_f64().unwrap()).abs() < 1e-12, "{ctx} {ch}");
            }
            let credits = m.credits().unwrap();
            for (ch, v) in exp["channels"].as_object().unwrap() {
                let line = credits.channels().get(ch).unwrap();
                let conv = v["conversions"].as_f64().unwrap();
                assert!((line.conversions() - conv).abs() < UNIT_TOL, "{ctx} {ch}");
                let value = v["value"].as_f64().unwrap();
                assert!((line.value() - value).abs() <= 0.0100001, "{ctx} {ch}");
            }
        }
    }
}

fn sample_rows() -> Vec<Row> {
    rows(&std::fs::read_to_string(format!("{DATA}/sample.paths.csv")).unwrap())
}

#[test]
fn sample_paths_match_exact_markov_1_to_3() {
    let eval = json(&format!("{DATA}/sample.eval.json"));
    let data = sample_rows();
    for order in 1..=3u8 {
        let m = markov_of(&data, MarkovConfig::new(order).unwrap());
        assert_eq!(m.conversions(), 6326);
        let exp = eval["credits"][format!("exact_markov{order}")]
            .as_object()
            .unwrap();
        let report = m.credits().unwrap();
        let credits = report.channels();
        let sum: f64 = m.removal_effects().iter().map(|(_, re)| re).sum();
        assert_eq!(exp.len(), credits.lines().len());
        for (ch, v) in exp {
            let line = credits.get(ch).unwrap();
            let want = v.as_f64().unwrap();
            // the float share, and the exact integer credit
            let share = 6326.0 * m.removal_effect(ch).unwrap() / sum;
            assert!(
                (share - want).abs() < 1e-9,
                "order {order} {ch}: {share} vs {want}"
            );
            assert!(
                (line.conversions() - want).abs() < 1e-9 + UNIT_TOL,
                "order {order} {ch}"
            );
        }
        let units: u128 = credits.lines().iter().map(|l| l.conversion_units()).sum();
        assert_eq!(units, 6326 * u128::from(CONVERSION_UNITS));
        let value: i128 = credits.lines().iter().map(|l| l.value_minor()).sum();
        assert_eq!(
            value + credits.unassigned().value_minor(),
            report.value_minor()
        );
    }
}

/// Reads JSON lines into a journey set.
fn journeys(text: &str) -> JourneySet {
    let js: Vec<SimpleJourney> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    JourneySet::from_journeys(&js).unwrap()
}

/// Aggregates a set into path rows.
fn aggregate(set: &JourneySet) -> Vec<Row> {
    let mut agg: BTreeMap<Vec<String>, (u64, i64, u64)> = BTreeMap::new();
    for j in set.iter() {
        let p: Vec<String> = (0..j.len()).map(|i| j.channel_name(i).to_owned()).collect();
        let e = agg.entry(p).or_default();
        if j.converted() {
            e.0 += 1;
            e.1 += j.value_minor();
        } else {
            e.2 += 1;
        }
    }
    agg.into_iter().map(|(p, (c, v, n))| (p, c, v, n)).collect()
}

#[test]
fn journeys_and_aggregated_paths_agree_bitwise_on_shipped_sample() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sample.jsonl"
    ))
    .unwrap();
    let set = journeys(&text);
    let agg = aggregate(&set);
    for order in 1..=3u8 {
        for collapse in [false, true] {
            let config = MarkovConfig::new(order).unwrap().collapse_repeats(collapse);
            let a = markov::fit_partial(&set, config).unwrap();
            let mut b = MarkovPartial::new(config);
            for (p, c, v, n) in agg.iter().rev() {
                b.observe_path(p, *c, *v, *n).unwrap();
            }
            assert_eq!(a, b);
            assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        }
    }
    for variant in [
        ShapleyVariant::Simplified,
        ShapleyVariant::Rate,
        ShapleyVariant::Ordered,
    ] {
        let config = ShapleyConfig::new(variant);
        let a = shapley::fit(&set, config).unwrap();
        let mut b = ShapleyPartial::new(config);
        for (p, c, v, n) in &agg {
            b.observe_path(p, *c, *v, *n).unwrap();
        }
        assert_eq!(a, b.finish().unwrap());
    }
}

/// The full 50k-journey sample committed in the repository.
#[test]
fn full_sample_journeys_match_exact_markov() {
    let text = std::fs::read_to_string(format!("{DATA}/sample.jsonl")).unwrap();
    let set = journeys(&text);
    let eval = json(&format!("{DATA}/sample.eval.json"));
    let data = sample_rows();
    for order in 1..=3u8 {
        let config = MarkovConfig::new(order).unwrap();
        let from_journeys = markov::fit(&set, config).unwrap();
        assert_eq!(from_journeys, markov_of(&data, config), "order {order}");
        let credits = from_journeys.credits().unwrap();
        for (ch, v) in eval["credits"][format!("exact_markov{order}")]
            .as_object()
            .unwrap()
        {
            let got = credits.channels().get(ch).unwrap().conversions();
            assert!((got - v.as_f64().unwrap()).abs() < 1e-9 + UNIT_TOL);
        }
    }
}

#[test]
fn markov_as_attribution_model_reconciles_by_campaign() {
    let t = "2024-01-01T00:00:00Z".parse().unwrap();
    let touch = |c: &str, camp: &str| SimpleTouch::new(c, t).campaign(camp);
    let js = vec![
        SimpleJourney::new("1")
            .touch(touch("C1", "x"))
            .touch(touch("C2", "y"))
            .touch(touch("C3", "z"))
            .converted(100.0),
        SimpleJourney::new("2").touch(touch("C1", "x")),
        SimpleJourney::new("3")
            .touch(touch("C2", "y"))
            .touch(touch("C3", "y")),
    ];
    let set = JourneySet::from_journeys(&js).unwrap();
    let m = markov::fit(&set, MarkovConfig::new(1).unwrap()).unwrap();
    let report = attribute(&m, &set).unwrap();
    // shares .5 : 1 : 1 of the one converting journey
    assert_eq!(report.channels().get("C1").unwrap().value_minor(), 2000);
    assert_eq!(report.channels().get("C2").unwrap().value_minor(), 4000);
    assert_eq!(report.campaigns().get("y").unwrap().value_minor(), 4000);
    let sum: i128 = report
        .campaigns()
        .lines()
        .iter()
        .map(|l| l.value_minor())
        .sum();
    assert_eq!(sum, report.value_minor());
}

#[test]
fn transitions_and_sequence_effects_are_exposed() {
    let mut f = MarkovPartial::new(MarkovConfig::new(2).unwrap());
    f.observe_path(&["C1", "C2", "C3"], 1, 100, 0).unwrap();
    f.observe_path(&["C1"], 0, 0, 1).unwrap();
    f.observe_path(&["C2", "C3"], 0, 0, 1).unwrap();
    let m = f.finish().unwrap();
    let t = m.transitions();
    let start: Vec<_> = t.iter().filter(|t| t.from.is_empty()).collect();
    assert_eq!(start.len(), 2);
    assert_eq!(start[0].to, Target::State(vec!["C1".into()]));
    assert!((start[0].probability - 2.0 / 3.0).abs() < 1e-15);
    let last = t
        .iter()
        .find(|t| t.from == ["C2", "C3"] && t.to == Target::Conversion)
        .unwrap();
    assert_eq!(last.count, 1);
    // removing C1 > C2 halves P(conversion): 1/6 of 1/3 was through it
    assert!((m.sequence_removal_effect(&["C1", "C2"]).unwrap() - 0.5).abs() < 1e-15);
    assert_eq!(m.sequence_removal_effect(&["C3"]).unwrap(), 1.0);
    let pairs = m.sequence_removal_effects(2).unwrap();
    assert_eq!(pairs.len(), 2);
    assert!(matches!(
        m.sequence_removal_effect(&["C1", "C2", "C3"]),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn errors_are_typed() {
    assert!(matches!(
        MarkovConfig::new(7),
        Err(Error::InvalidParameter { .. })
    ));
    let a = MarkovPartial::new(MarkovConfig::new(1).unwrap());
    let mut b = MarkovPartial::new(MarkovConfig::new(2).unwrap());
    assert!(matches!(
        b.merge(&a),
        Err(Error::IncompatiblePartials { .. })
    ));
    assert!(matches!(b.finish(), Err(Error::InsufficientData { .. })));
    assert!(matches!(
        b.observe_path(&["a"], 0, 5, 1),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        b.observe_path(&["a", ""], 1, 5, 1),
        Err(Error::InvalidJourney { .. })
    ));
    b.observe_path(&["a"], 0, 0, 3).unwrap();
    assert!(matches!(b.finish(), Err(Error::InsufficientData { .. })));
    // rate Shapley past the exact limit
    let mut s = ShapleyPartial::new(
        ShapleyConfig::new(ShapleyVariant::Rate)
            .exact_limit(3)
            .unwrap(),
    );
    s.observe_path(&["a", "b", "c", "d"], 1, 0, 1).unwrap();
    assert!(matches!(
        s.finish(),
        Err(Error::TooLarge {
            found: 4,
            limit: 3,
            ..
        })
    ));
}

#[test]
fn arrow_columns_equal_paths() {
    // journeys: a>b (converted, 5.00), b (not), [] (converted, 1.00), b>b>a (not)
    let offsets = [0, 2, 3, 3, 6];
    let codes = [0, 1, 1, 1, 1, 0];
    let names = ["a", "b"];
    let converted = [true, false, true, false];
    let values = [500, 0, 100, 0];
    let config = MarkovConfig::new(2).unwrap();
    let mut f = MarkovPartial::new(config);
    f.observe_columns(&offsets, &codes, &names, &converted, &values)
        .unwrap();
    let mut g = MarkovPartial::new(config);
    g.observe_path(&["b"], 0, 0, 1).unwrap();
    g.observe_path(&["b", "b", "a"], 0, 0, 1).unwrap();
    g.observe_path::<&str>(&[], 1, 100, 0).unwrap();
    g.observe_path(&["a", "b"], 1, 500, 0).unwrap();
    assert_eq!(f, g);
    let m = f.finish().unwrap();
    assert_eq!(m.empty_journeys(), (1, 0));
    let c = m.credits().unwrap();
    assert_eq!(c.channels().unassigned().value_minor(), 100);
    assert_eq!(
        c.channels().unassigned().conversion_units(),
        u128::from(CONVERSION_UNITS)
    );
    // the totals include the converted journey with no touch, as in every
    // rule-based report
    assert_eq!(c.value_minor(), 600);
    assert_eq!(c.conversions(), 2);
    let shared: i128 = c.channels().lines().iter().map(|l| l.value_minor()).sum();
    assert_eq!(shared, 500);
    let sc = ShapleyConfig::new(ShapleyVariant::Rate);
    let mut s = ShapleyPartial::new(sc);
    s.observe_columns(&offsets, &codes, &names, &converted, &values)
        .unwrap();
    let mut t = ShapleyPartial::new(sc);
    t.observe_path(&["a", "b"], 1, 500, 0).unwrap();
    t.observe_path(&["b", "b", "a"], 0, 0, 1).unwrap();
    t.observe_path(&["b"], 0, 0, 1).unwrap();
    t.observe_path::<&str>(&[], 1, 100, 0).unwrap();
    assert_eq!(s, t);
    assert!(matches!(
        f.observe_columns(&[0, 3], &[0, 1], &names, &[true], &[1]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        f.observe_columns(&[0, 1], &[7], &names, &[true], &[1]),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn all_converting_input_works() {
    let m = markov_of(
        &[
            (vec!["x".into(), "y".into()], 3, 300, 0),
            (vec!["y".into()], 1, 100, 0),
        ],
        MarkovConfig::new(2).unwrap(),
    );
    assert_eq!(m.conversion_probability(), 1.0);
    assert_eq!(m.removal_effect("y"), Some(1.0));
    assert_eq!(m.removal_effect("x"), Some(0.75));
}

#[test]
fn serde_round_trip_of_partials() {
    let data = sample_rows();
    let config = MarkovConfig::new(2).unwrap().collapse_repeats(true);
    let mut f = MarkovPartial::new(config);
    for (p, c, v, n) in data.iter().take(500) {
        f.observe_path(p, *c, *v, *n).unwrap();
    }
    let s = serde_json::to_string(&f).unwrap();
    let g: MarkovPartial = serde_json::from_str(&s).unwrap();
    assert_eq!(f, g);
    assert_eq!(f.finish().unwrap(), g.finish().unwrap());
    assert!(f.size_bytes() > 0);

    let mut sf = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Ordered));
    for (p, c, v, n) in data.iter().take(500) {
        sf.observe_path(p, *c, *v, *n).unwrap();
    }
    let s = serde_json::to_string(&sf).unwrap();
    let g: ShapleyPartial = serde_json::from_str(&s).unwrap();
    assert_eq!(sf, g);
}

#[test]
fn shapley_known_answers() {
    let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Ordered));
    f.observe_path(&["A", "B", "A"], 1, 3000, 0).unwrap();
    f.observe_path(&["B"], 1, 1001, 2).unwrap();
    let m = f.finish().unwrap();
    let c = m.credits().unwrap();
    let c = c.channels();
    assert_eq!(c.get("A").unwrap().conversions(), 0.5);
    assert_eq!(c.get("B").unwrap().conversions(), 1.5);
    assert_eq!(c.get("B").unwrap().value_minor(), 2501);
    let pos: Vec<(&str, usize)> = m
        .positions()
        .iter()
        .map(|p| (p.channel.as_str(), p.position))
        .collect();
    assert_eq!(pos, vec![("A", 1), ("B", 1), ("B", 2)]);

    // rate: {A} 1/2, {B} 1/4, {A,B} 1 (2 conversions, value 8.00)
    let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
    f.observe_path(&["A"], 1, 100, 1).unwrap();
    f.observe_path(&["B", "B"], 1, 100, 3).unwrap();
    f.observe_path(&["B", "A"], 2, 800, 0).unwrap();
    let m = f.finish().unwrap();
    // game of {A,B}: φ(A) = ½(½) + ½(1 - ¼) = 5/8, φ(B) = ½(¼) + ½(1 - ½) = 3/8
    assert_eq!(m.values(), &[1.0 + 1.25, 1.0 + 0.75]);
    let c = m.credits().unwrap();
    let c = c.channels();
    assert_eq!(c.get("A").unwrap().conversion_units(), 2_250_000_000);
    assert_eq!(c.get("B").unwrap().value_minor(), 100 + 300);
    // a journey {A, C}: C unknown to the model, A takes it all
    let t = "2024-01-01T00:00:00Z".parse().unwrap();
    let j = SimpleJourney::new("x")
        .touch(SimpleTouch::new("A", t))
        .touch(SimpleTouch::new("C", t))
        .converted(1.0);
    let set = JourneySet::from_journeys([&j]).unwrap();
    let r = attribute(&m, &set).unwrap();
    assert_eq!(r.channels().get("A").unwrap().value_minor(), 100);
    // a {A, B} journey shares 5/8 : 3/8
    let j = SimpleJourney::new("y")
        .touch(SimpleTouch::new("B", t))
        .touch(SimpleTouch::new("A", t))
        .converted(8.0);
    let r = attribute(&m, &JourneySet::from_journeys([&j]).unwrap()).unwrap();
    assert_eq!(r.channels().get("A").unwrap().value_minor(), 500);
}

#[test]
fn shapley_rate_over_sample_and_sampling() {
    let data = sample_rows();
    let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
    for (p, c, v, n) in &data {
        f.observe_path(p, *c, *v, *n).unwrap();
    }
    let exact = f.finish().unwrap();
    assert_eq!(exact.channels().len(), 12);
    let units: u128 = exact
        .credits()
        .unwrap()
        .channels()
        .lines()
        .iter()
        .map(|l| l.conversion_units())
        .sum();
    assert_eq!(units, 6326 * u128::from(CONVERSION_UNITS));
    let sampled_cfg = ShapleyConfig::new(ShapleyVariant::Rate)
        .exact_limit(3)
        .unwrap()
        .sampling(Some(Sampling {
            permutations: 3000,
            seed: 42,
        }));
    let mut g = ShapleyPartial::new(sampled_cfg);
    for (p, c, v, n) in &data {
        g.observe_path(p, *c, *v, *n).unwrap();
    }
    let s1 = g.finish().unwrap();
    assert_eq!(s1, g.finish().unwrap());
    let se = s1.std_errors().unwrap();
    for ((s, e), se) in s1.values().iter().zip(exact.values()).zip(se) {
        let d = (s - e).abs();
        assert!(d <= 5.0 * se + 1e-12, "{d} vs se {se}");
    }
}

#[test]
fn order_selection_is_deterministic_and_beats_baseline() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sample.jsonl"
    ))
    .unwrap();
    let set = journeys(&text);
    let a = markov::select_order(&set, 3, false).unwrap();
    assert_eq!(a, markov::select_order(&set, 3, false).unwrap());
    assert_eq!(a.scores.len(), 4);
    assert!((1..=3).contains(&a.recommended));
    // about a fifth of the 50,000 journeys (those with touches) is held out
    assert!(
        a.test_journeys > 9_000 && a.test_journeys < 11_000,
        "{}",
        a.test_journeys
    );
    let best = a.scores[usize::from(a.recommended)].1;
    assert!(best >= a.scores[0].1);
}

// ------------------------------------------------------------- proptests

fn arb_rows() -> impl Strategy<Value = Vec<Row>> {
    let path = prop::collection::vec(0..5usize, 1..6).prop_map(|v| {
        v.into_iter()
            .map(|i| ["a", "b", "c", "d", "e"][i].to_owned())
            .collect::<Vec<_>>()
    });
    prop::collection::vec((path, 0..4u64, 0..4u64), 1..25).prop_map(|rows| {
        rows.into_iter()
            .map(|(p, c, n)| {
                let v = i64::try_from(c).unwrap() * 1234;
                (p, c, v, n)
            })
            .collect()
    })
}

fn fit_rows(rows: &[Row], config: MarkovConfig) -> MarkovPartial {
    let mut f = MarkovPartial::new(config);
    for (p, c, v, n) in rows {
        f.observe_path(p, *c, *v, *n).unwrap();
    }
    f
}

fn converts(rows: &[Row]) -> bool {
    rows.iter().any(|r| r.1 > 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_equals_one_pass(rows in arb_rows(), cut in 0usize..25, order in 1u8..=3, collapse: bool) {
        let config = MarkovConfig::new(order).unwrap().collapse_repeats(collapse);
        let cut = cut.min(rows.len());
        let all = fit_rows(&rows, config);
        let mut left = fit_rows(&rows[..cut], config);
        let right = fit_rows(&rows[cut..], config);
        let mut right2 = right.clone();
        left.merge(&right).unwrap();
        right2.merge(&fit_rows(&rows[..cut], config)).unwrap();
        prop_assert_eq!(&left, &all);
        prop_assert_eq!(&right2, &all);
        if converts(&rows) {
            let m = all.finish().unwrap();
            prop_assert_eq!(&left.finish().unwrap(), &m);
            prop_assert_eq!(&right2.finish().unwrap(), &m);
        }
        for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate, ShapleyVariant::Ordered] {
            let sc = ShapleyConfig::new(variant);
            let obs = |rs: &[Row]| {
                let mut f = ShapleyPartial::new(sc);
                for (p, c, v, n) in rs { f.observe_path(p, *c, *v, *n).unwrap(); }
                f
            };
            let mut l = obs(&rows[cut..]);
            l.merge(&obs(&rows[..cut])).unwrap();
            prop_assert_eq!(&l, &obs(&rows));
            if converts(&rows) {
                prop_assert_eq!(l.finish().unwrap(), obs(&rows).finish().unwrap());
            }
        }
    }

    #[test]
    fn removal_effects_in_unit_interval_and_credits_sum(rows in arb_rows(), order in 1u8..=6) {
        prop_assume!(converts(&rows));
        let m = fit_rows(&rows, MarkovConfig::new(order).unwrap()).finish().unwrap();
        for (_, re) in m.removal_effects() {
            prop_assert!((0.0..=1.0).contains(&re));
        }
        let p = m.conversion_probability();
        prop_assert!(p > 0.0 && p <= 1.0);
        let report = m.credits().unwrap();
        let credits = report.channels();
        let units: u128 = credits.lines().iter().map(|l| l.conversion_units()).sum();
        prop_assert_eq!(units, u128::from(m.conversions()) * u128::from(CONVERSION_UNITS));
        let value: i128 = credits.lines().iter().map(|l| l.value_minor()).sum();
        prop_assert_eq!(value, m.value_minor());
        for line in credits.lines() {
            prop_assert!(line.value_minor() >= 0);
        }
    }

    #[test]
    fn renaming_channels_permutes_results(rows in arb_rows(), order in 1u8..=3) {
        prop_assume!(converts(&rows));
        let rename = |c: &str| match c { "a" => "zz", "b" => "yy", "c" => "m", "d" => "b", _ => "a0" };
        let renamed: Vec<Row> = rows.iter()
            .map(|(p, c, v, n)| (p.iter().map(|x| rename(x).to_owned()).collect(), *c, *v, *n))
            .collect();
        let config = MarkovConfig::new(order).unwrap();
        let m1 = fit_rows(&rows, config).finish().unwrap();
        let m2 = fit_rows(&renamed, config).finish().unwrap();
        // canonical order follows names, so sums may round in another order
        prop_assert!((m1.conversion_probability() - m2.conversion_probability()).abs() < 1e-14);
        prop_assert_eq!(m1.state_count(), m2.state_count());
        for (ch, re) in m1.removal_effects() {
            prop_assert!((re - m2.removal_effect(rename(ch)).unwrap()).abs() < 1e-12);
        }
        let s1 = { let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
            for (p, c, v, n) in &rows { f.observe_path(p, *c, *v, *n).unwrap(); } f.finish().unwrap() };
        let s2 = { let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
            for (p, c, v, n) in &renamed { f.observe_path(p, *c, *v, *n).unwrap(); } f.finish().unwrap() };
        for ch in s1.channels() {
            let (a, b) = (s1.value(ch).unwrap(), s2.value(rename(ch)).unwrap());
            // subset sums visit coalitions in another order: equal up to rounding
            prop_assert!((a - b).abs() < 1e-12, "{} {} {}", ch, a, b);
        }
    }

    #[test]
    fn journeys_and_paths_agree(rows in arb_rows(), order in 1u8..=3, collapse: bool) {
        // expand rows into journeys, in a scrambled order
        let t = "2024-01-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let mut js = Vec::new();
        for (k, (p, c, v, n)) in rows.iter().enumerate() {
            let mk = |id: String| p.iter().enumerate().fold(SimpleJourney::new(id), |j, (i, ch)| {
                j.touch(SimpleTouch::new(ch.as_str(), t + chrono::Duration::seconds(i64::try_from(i).unwrap())))
            });
            for i in 0..*n { js.push(mk(format!("{k}-n{i}"))); }
            for i in 0..*c {
                // the row's value split over its conversions
                let each = if i == 0 { v - (v / i64::try_from(*c).unwrap()) * (i64::try_from(*c).unwrap() - 1) } else { v / i64::try_from(*c).unwrap() };
                #[expect(clippy::cast_precision_loss, reason = "cents")]
                let major = each as f64 / 100.0;
                js.push(mk(format!("{k}-c{i}")).converted(major));
            }
        }
        js.reverse();
        let set = JourneySet::from_journeys(&js).unwrap();
        let config = MarkovConfig::new(order).unwrap().collapse_repeats(collapse);
        let a = markov::fit_partial(&set, config).unwrap();
        let b = fit_rows(&rows, config);
        prop_assert_eq!(&a, &b);
        if converts(&rows) {
            prop_assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        }
        for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate, ShapleyVariant::Ordered] {
            let sc = ShapleyConfig::new(variant);
            let mut x = ShapleyPartial::new(sc);
            x.observe_set(&set).unwrap();
            let mut y = ShapleyPartial::new(sc);
            for (p, c, v, n) in &rows { y.observe_path(p, *c, *v, *n).unwrap(); }
            prop_assert_eq!(&x, &y);
            if converts(&rows) {
                prop_assert_eq!(x.finish().unwrap(), y.finish().unwrap());
            }
        }
    }
}

/// Expands the first sample rows into single journeys (all rows: 50k).
fn expanded_sample(limit_rows: usize) -> (JourneySet, Vec<Row>) {
    let data: Vec<Row> = sample_rows().into_iter().take(limit_rows).collect();
    let t = "2024-01-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let mut set = JourneySet::new();
    let mut rows = Vec::new();
    for (k, (p, c, v, n)) in data.iter().enumerate() {
        let mk = |id: String| {
            p.iter()
                .enumerate()
                .fold(SimpleJourney::new(id), |j, (i, ch)| {
                    j.touch(SimpleTouch::new(
                        ch.as_str(),
                        t + chrono::Duration::seconds(i64::try_from(i).unwrap()),
                    ))
                })
        };
        for i in 0..*n {
            set.push(&mk(format!("{k}-n{i}"))).unwrap();
        }
        // one converting journey carries the row's whole value, the others 0
        for i in 0..*c {
            let value = if i == 0 { *v } else { 0 };
            #[expect(clippy::cast_precision_loss, reason = "cents")]
            let j = mk(format!("{k}-c{i}")).converted(value as f64 / 100.0);
            set.push(&j).unwrap();
        }
        rows.push((p.clone(), *c, *v, *n));
    }
    (set, rows)
}

/// With `--features rayon` this runs the parallel chunked fit (chunks of
/// 16,384 journeys); without, the serial one: both equal the path fit.
#[test]
fn chunked_and_parallel_fits_equal_the_serial_fit() {
    let (set, rows) = expanded_sample(usize::MAX);
    assert!(set.len() > 2 * (1 << 14), "{}", set.len());
    for order in [1u8, 3] {
        let config = MarkovConfig::new(order).unwrap();
        let a = markov::fit_partial(&set, config).unwrap();
        let b = fit_rows(&rows, config);
        assert_eq!(a, b);
        assert_eq!(a.finish().unwrap(), b.finish().unwrap());
    }
}

/// Streams 10 million generated journeys through an order-3 fit in batches
/// of 100k; run it under `/usr/bin/time -v` to read the peak memory:
/// `cargo test --release --test integration stream_10m -- --ignored`.
#[test]
#[ignore = "takes about a minute; a memory measurement"]
fn stream_10m_journeys_through_a_fit() {
    let mut s = 99u64;
    let mut next = || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let names = [
        "paid_search",
        "organic_search",
        "email",
        "direct",
        "display",
        "paid_social",
        "referral",
        "video",
        "affiliate",
        "webinar",
        "events",
        "partner",
    ];
    let t = "2024-01-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let config = MarkovConfig::new(3).unwrap();
    let mut fit = MarkovPartial::new(config);
    let mut shap = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
    for batch in 0..100 {
        let mut set = JourneySet::new();
        for i in 0..100_000u64 {
            let mut j = SimpleJourney::new(format!("{batch}-{i}"));
            let mut len = 1;
            while len < 12 && next() % 10 < 6 {
                len += 1;
            }
            for k in 0..len {
                let c = usize::try_from(next() % 12).unwrap();
                j = j.touch(SimpleTouch::new(names[c], t + chrono::Duration::seconds(k)));
            }
            if next() % 10 == 0 {
                j = j.converted(12.5);
            }
            set.push(&j).unwrap();
        }
        fit.observe_set(&set).unwrap();
        shap.observe_set(&set).unwrap();
    }
    assert_eq!(fit.journeys(), 10_000_000);
    eprintln!(
        "markov order 3: {} states, {} bytes; shapley: {} coalitions, {} bytes",
        fit.state_count(),
        fit.size_bytes(),
        shap.coalition_count(),
        shap.size_bytes()
    );
    assert!(fit.size_bytes() < 100 << 20);
    let m = fit.finish().unwrap();
    assert!(m.conversion_probability() > 0.0);
    shap.finish().unwrap();
}

/// A mangled serialized partial is a typed error on read, one boundary at a
/// time (issue: a Markov partial accepted totals that disagreed with its
/// transitions and credited 999,999 to 0 conversions).
#[test]
fn mangled_markov_partials_are_rejected_on_read() {
    let mut f = MarkovPartial::new(MarkovConfig::new(1).unwrap());
    f.observe_path(&["a", "b"], 1, 500, 0).unwrap();
    f.observe_path(&["b"], 0, 0, 1).unwrap();
    f.observe_path::<&str>(&[], 1, 300, 0).unwrap();
    let good = serde_json::to_value(&f).unwrap();
    let back: MarkovPartial = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(back, f);
    let empty = serde_json::to_value(MarkovPartial::new(MarkovConfig::new(1).unwrap())).unwrap();
    assert!(serde_json::from_value::<MarkovPartial>(empty).is_ok());
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 13] = [
        ("0 conversions credited 999,999", |w| {
            w["totals"]["conversions"] = 0.into();
            w["totals"]["value_minor"] = 999_999.into();
        }),
        ("one conversion too many", |w| {
            w["totals"]["conversions"] = 2.into();
        }),
        ("one null too many", |w| w["totals"]["nulls"] = 2.into()),
        ("a transition count changed", |w| {
            w["transitions"][0]["count"] = 5.into();
        }),
        ("a transition count of 0", |w| {
            w["transitions"][0]["count"] = 0.into();
        }),
        ("a repeated transition", |w| {
            let t = w["transitions"][0].clone();
            w["transitions"].as_array_mut().unwrap().push(t);
        }),
        ("a negative value", |w| {
            w["totals"]["value_minor"] = (-1).into();
        }),
        ("a value above the limit per conversion", |w| {
            w["totals"]["value_minor"] = (i128::from(touchpoint::MAX_MINOR) + 1)
                .to_string()
                .parse::<serde_json::Value>()
                .unwrap();
        }),
        ("a value with no touch and no conversion", |w| {
            w["totals"]["empty_conversions"] = 0.into();
        }),
        ("a channel index out of range", |w| {
            w["transitions"][0]["to"] = 9.into();
        }),
        ("a repeated channel name", |w| {
            w["channels"] = serde_json::json!(["a", "a"]);
        }),
        ("another format version", |w| w["version"] = 2.into()),
        ("a fingerprint of another configuration", |w| {
            w["fingerprint"] = "markov;v1;order=2;collapse_repeats=false;decimals=2".into();
        }),
    ];
    for (what, edit) in cases {
        let mut w = good.clone();
        edit(&mut w);
        assert!(
            serde_json::from_value::<MarkovPartial>(w).is_err(),
            "accepted: {what}"
        );
    }
}

/// As above for Shapley partials.
#[test]
fn mangled_shapley_partials_are_rejected_on_read() {
    let mut f = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Simplified));
    f.observe_path(&["a", "b"], 1, 500, 2).unwrap();
    f.observe_path(&["b"], 0, 0, 1).unwrap();
    f.observe_path::<&str>(&[], 1, 300, 0).unwrap();
    let good = serde_json::to_value(&f).unwrap();
    let back: ShapleyPartial = serde_json::from_value(good.clone()).unwrap();
    assert_eq!(back, f);
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 9] = [
        ("an unsorted coalition", |w| {
            w["coalitions"][0][0] = serde_json::json!([1, 0]);
        }),
        ("a coalition with no journey", |w| {
            w["coalitions"][1][1] =
                serde_json::json!({"conversions": 0, "nulls": 0, "value_minor": 0});
        }),
        ("a value without a conversion", |w| {
            w["coalitions"][1][1]["value_minor"] = 10.into();
        }),
        ("a negative value", |w| {
            w["coalitions"][0][1]["value_minor"] = (-1).into();
        }),
        ("a value above the limit per conversion", |w| {
            w["coalitions"][0][1]["value_minor"] = (i128::from(touchpoint::MAX_MINOR) + 1)
                .to_string()
                .parse::<serde_json::Value>()
                .unwrap();
        }),
        ("a repeated coalition", |w| {
            let c = w["coalitions"][0].clone();
            w["coalitions"].as_array_mut().unwrap().push(c);
        }),
        ("a channel index out of range", |w| {
            w["coalitions"][1][0] = serde_json::json!([7]);
        }),
        ("a value with no touch and no conversion", |w| {
            w["empty"]["conversions"] = 0.into();
        }),
        ("another format version", |w| w["version"] = 9.into()),
    ];
    for (what, edit) in cases {
        let mut w = good.clone();
        edit(&mut w);
        assert!(
            serde_json::from_value::<ShapleyPartial>(w).is_err(),
            "accepted: {what}"
        );
    }
}

/// Markov and Shapley reports state the same totals as the rule-based
/// models: converted journeys with no touch are unassigned and counted.
#[test]
fn fitted_reports_count_untouched_conversions_like_rule_models() {
    let t = "2024-01-01T00:00:00Z".parse().unwrap();
    let js = [
        SimpleJourney::new("a")
            .touch(SimpleTouch::new("email", t))
            .converted(10.0),
        SimpleJourney::new("b").touch(SimpleTouch::new("display", t)),
        SimpleJourney::new("c").converted(4.0),
    ];
    let set = JourneySet::from_journeys(js.iter()).unwrap();
    let rule = touchpoint::attribute(&touchpoint::models::Linear, &set).unwrap();
    let m = markov::fit(&set, MarkovConfig::default())
        .unwrap()
        .credits()
        .unwrap();
    let s = shapley::fit(&set, ShapleyConfig::default())
        .unwrap()
        .credits()
        .unwrap();
    for r in [&m, &s] {
        assert_eq!(
            (r.journeys(), r.conversions(), r.value_minor()),
            (rule.journeys(), rule.conversions(), rule.value_minor())
        );
        assert_eq!(
            (r.journeys(), r.conversions(), r.value_minor()),
            (3, 2, 1400)
        );
        assert_eq!(r.channels().unassigned(), rule.channels().unassigned());
        assert_eq!(r.channels().get("email").unwrap().value_minor(), 1000);
        for b in [r.channels(), r.campaigns(), r.contents()] {
            let v: i128 = b.lines().iter().map(|l| l.value_minor()).sum();
            assert_eq!(v + b.unassigned().value_minor(), 1400);
        }
    }
}

/// Streaming user journeys through the trait gives the same partial as the
/// batch path.
#[test]
fn streaming_through_the_aggregate_trait_equals_the_batch_path() {
    use touchpoint::{Aggregate, JourneyAggregate};
    let text = std::fs::read_to_string(format!("{DATA}/sample.jsonl")).unwrap();
    let js: Vec<SimpleJourney> = text
        .lines()
        .take(5000)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let set = JourneySet::from_journeys(js.iter()).unwrap();
    for order in 1..=6u8 {
        let config = MarkovConfig::new(order).unwrap();
        let mut p = <MarkovPartial as Aggregate>::new(config);
        for j in &js {
            JourneyAggregate::observe(&mut p, j).unwrap();
        }
        assert_eq!(p, markov::fit_partial(&set, config).unwrap());
        assert_eq!(Aggregate::observed(&p), 5000);
        assert_eq!(
            Aggregate::finish(&p).unwrap(),
            markov::fit(&set, config).unwrap()
        );
    }
    for variant in [
        ShapleyVariant::Simplified,
        ShapleyVariant::Rate,
        ShapleyVariant::Ordered,
    ] {
        let config = ShapleyConfig::new(variant);
        let mut p = <ShapleyPartial as Aggregate>::new(config);
        for j in &js {
            JourneyAggregate::observe(&mut p, j).unwrap();
        }
        let mut q = ShapleyPartial::new(config);
        q.observe_set(&set).unwrap();
        assert_eq!(p, q);
        assert_eq!(p.finish().unwrap(), shapley::fit(&set, config).unwrap());
    }
}
