//! Cross-checks against other tools' figures on the shipped sample
//! (`tests/data/sample.paths.csv`, `tests/data/sample.jsonl`,
//! `tests/data/sample.eval.json`): the rule-based models computed by an
//! independent reference implementation (`ref_*`) and by ChannelAttribution
//! (`ca_*`), 50,000 journeys. The paths go through the example programs'
//! reader (`examples/common`), crediting rows by weight as
//! `examples/attribute` does; time decay needs timestamps and reads the
//! journeys.

use crate::common;

use touchpoint::models::{FirstTouch, LastNonDirect, LastTouch, Linear, PositionBased, TimeDecay};
use touchpoint::{AttributionModel, Currency, attribute};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn eval() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/sample.eval.json")).unwrap())
        .unwrap()
}

/// Every expected channel's conversions within `tol` of ours, and no extra
/// channel with credit on our side.
fn check(key: &str, eval: &serde_json::Value, got: &dyn Fn(&str) -> Option<f64>, ours: usize) {
    let expected = eval["credits"][key]
        .as_object()
        .unwrap_or_else(|| panic!("{key} in sample.eval.json"));
    assert_eq!(expected.len(), ours, "{key}: channel count");
    for (channel, want) in expected {
        let got = got(channel).unwrap_or_else(|| panic!("{key}: no channel {channel}"));
        // fixed-point credit: at most 1e-9 per journey of rounding
        assert!(
            (got - want.as_f64().unwrap()).abs() < 1e-5,
            "{key} {channel}: {got} vs {want}"
        );
    }
}

#[test]
fn rule_based_models_on_paths_match_reference_implementations() {
    let eval = eval();
    let text = std::fs::read_to_string(format!("{DATA}/sample.paths.csv")).unwrap();
    let rows = common::parse_paths(&text, Currency::default()).unwrap();
    let cases: [(&dyn AttributionModel, &[&str]); 7] = [
        (&FirstTouch, &["ref_first_touch", "ca_first_touch"]),
        (&LastTouch, &["ref_last_touch", "ca_last_touch"]),
        (&Linear, &["ref_linear", "ca_linear_touch"]),
        (&PositionBased::u_shaped(), &["ref_position_based"]),
        (&PositionBased::j_shaped(), &["ref_j_shaped"]),
        (&PositionBased::inverse_j(), &["ref_inverse_j"]),
        (&LastNonDirect::default(), &["ref_last_non_direct"]),
    ];
    for (model, keys) in cases {
        let t = common::credit_paths(model, &rows).unwrap();
        assert_eq!((t.journeys, t.conversions), (50_000, 6_326));
        assert!(t.reconciles(), "{}", model.name());
        let conv = |c: &str| {
            t.channels
                .get(c)
                .map(|(u, _)| *u as f64 / common::UNITS as f64)
        };
        let with_credit = t.channels.values().filter(|(u, _)| *u > 0).count();
        for key in keys {
            check(key, &eval, &conv, with_credit);
        }
    }
}

#[test]
fn time_decay_on_journeys_matches_the_reference_implementation() {
    let eval = eval();
    let text = std::fs::read_to_string(format!("{DATA}/sample.jsonl")).unwrap();
    let journeys = common::parse_journeys_with_lines(&text).unwrap();
    let set = common::journey_set(&journeys).unwrap();
    let r = attribute(&TimeDecay::default(), &set).unwrap();
    let conv = |c: &str| r.channels().get(c).map(touchpoint::Credit::conversions);
    let with_credit = r
        .channels()
        .lines()
        .iter()
        .filter(|l| l.conversion_units() > 0)
        .count();
    check("ref_time_decay", &eval, &conv, with_credit);
}
