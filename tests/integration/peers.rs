//! Cross-checks against other tools' figures on the shipped sample
//! (`tests/data/sample.paths.csv`, `tests/data/sample.eval.json`): the
//! rule-based models computed by an independent reference implementation
//! (`ref_*`) and by ChannelAttribution (`ca_*`), 50,000 journeys.

use touchpoint::models::{FirstTouch, LastTouch, Linear};
use touchpoint::{AttributionModel, JourneySet, SimpleJourney, SimpleTouch, attribute};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The sample's aggregated paths expanded back into journeys (values are not
/// compared here, only attributed conversions).
fn sample() -> JourneySet {
    let text = std::fs::read_to_string(format!("{DATA}/sample.paths.csv")).unwrap();
    let mut set = JourneySet::new();
    let t0 = chrono::DateTime::UNIX_EPOCH;
    for (i, line) in text.lines().skip(1).enumerate() {
        let cols: Vec<&str> = line.rsplitn(4, ',').collect();
        let (nulls, conv): (u64, u64) = (cols[0].parse().unwrap(), cols[2].parse().unwrap());
        let touches: Vec<SimpleTouch> = cols[3]
            .split(" > ")
            .enumerate()
            .map(|(k, c)| SimpleTouch::new(c, t0 + chrono::Duration::days(k as i64)))
            .collect();
        for k in 0..conv + nulls {
            let mut j = SimpleJourney::new(format!("{i}-{k}"));
            j.touchpoints.clone_from(&touches);
            if k < conv {
                j = j.converted(1.0);
            }
            set.push(&j).unwrap();
        }
    }
    set
}

#[test]
fn rule_based_models_match_reference_implementations() {
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/sample.eval.json")).unwrap())
            .unwrap();
    let set = sample();
    assert_eq!(set.len(), 50_000);
    assert_eq!(set.conversions(), 6_326);
    let cases: [(&dyn AttributionModel, &str, &str); 3] = [
        (&FirstTouch, "ref_first_touch", "ca_first_touch"),
        (&LastTouch, "ref_last_touch", "ca_last_touch"),
        (&Linear, "ref_linear", "ca_linear_touch"),
    ];
    for (model, reference, ca) in cases {
        let report = attribute(model, &set).unwrap();
        for key in [reference, ca] {
            let expected = eval["credits"][key].as_object().unwrap();
            assert_eq!(expected.len(), report.channels().lines().len(), "{key}");
            for (channel, want) in expected {
                let got = report.channels().get(channel).unwrap().conversions();
                // fixed-point credit: at most 1e-9 per journey of rounding
                assert!(
                    (got - want.as_f64().unwrap()).abs() < 1e-5,
                    "{key} {channel}: {got} vs {want}"
                );
            }
        }
    }
}
