//! The example programs' readers (`examples/common/mod.rs`): the committed
//! corpus of bad inputs in `tests/data/bad/` (each rejected with its line,
//! field and reason, never dropped or misread), crediting path rows by
//! weight (exactly what expanding them gives, at any count), and the same
//! totals whichever model ran.

use crate::common;

use common::{PathRow, ReadError, Reason, Tally, UNITS};
use touchpoint::markov::{self, MarkovConfig};
use touchpoint::shapley::{self, ShapleyConfig, ShapleyVariant};
use touchpoint::{Currency, JourneySet, SimpleJourney, SimpleTouch, attribute, models};

const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bad");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{BAD}/{name}")).unwrap()
}

fn paths_err(name: &str) -> ReadError {
    common::parse_paths(&read(name), Currency::default()).expect_err(name)
}

fn journeys_err(name: &str) -> ReadError {
    common::parse_journeys(&read(name)).expect_err(name)
}

#[test]
fn bad_path_rows_are_rejected_with_line_field_and_reason() {
    let cases: [(&str, usize, &str, Reason); 11] = [
        (
            "paths_extra_column.csv",
            3,
            "",
            Reason::Columns { found: 5 },
        ),
        (
            "paths_missing_column.csv",
            2,
            "",
            Reason::Columns { found: 3 },
        ),
        (
            "paths_nulls_overflow.csv",
            2,
            "total_null",
            Reason::BadCount("18446744073709551615".into()),
        ),
        (
            "paths_conversions_overflow.csv",
            2,
            "total_conversions",
            Reason::BadCount("18446744073709551615".into()),
        ),
        (
            "paths_count_sum_overflow.csv",
            2,
            "total_null",
            Reason::CountOverflow,
        ),
        (
            "paths_value_without_conversions.csv",
            3,
            "total_conversion_value",
            Reason::ValueWithoutConversions,
        ),
        ("paths_empty_channel.csv", 2, "path", Reason::EmptyChannel),
        ("paths_empty_path.csv", 2, "path", Reason::EmptyChannel),
        (
            "paths_negative_value.csv",
            2,
            "total_conversion_value",
            Reason::BadAmount("-5".into()),
        ),
        (
            "paths_nan_value.csv",
            2,
            "total_conversion_value",
            Reason::BadAmount("NaN".into()),
        ),
        (
            "paths_fractional_count.csv",
            2,
            "total_conversions",
            Reason::BadCount("1.5".into()),
        ),
    ];
    for (name, line, field, reason) in cases {
        let e = paths_err(name);
        assert_eq!(
            (e.line, e.field.as_str(), &e.reason),
            (line, field, &reason),
            "{name}"
        );
        assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
    }
    // the message says what to fix
    assert_eq!(
        paths_err("paths_extra_column.csv").to_string(),
        "line 3: expected 4 comma-separated fields \
         (path,total_conversions,total_conversion_value,total_null), found 5"
    );
}

#[test]
fn bad_journey_lines_are_rejected_with_line_field_and_reason() {
    let e = journeys_err("journeys_duplicate_id.jsonl");
    assert_eq!((e.line, e.field.as_str()), (3, "id"));
    assert_eq!(
        e.reason,
        Reason::DuplicateId {
            id: "j1".into(),
            first_line: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3: field `id`: duplicate journey id \"j1\" (first on line 1)"
    );
    let cases: [(&str, usize, &str); 10] = [
        ("journeys_empty_channel.jsonl", 1, "touchpoints[0].channel"),
        ("journeys_blank_channel.jsonl", 1, "touchpoints[1].channel"),
        ("journeys_negative_value.jsonl", 1, "value"),
        ("journeys_huge_value.jsonl", 1, "value"),
        ("journeys_bad_ts.jsonl", 1, "touchpoints[0].ts"),
        (
            "journeys_bad_milestone.jsonl",
            1,
            "touchpoints[0].milestone",
        ),
        ("journeys_truncated.jsonl", 2, ""),
        ("journeys_missing_id.jsonl", 1, "id"),
        ("journeys_converted_not_bool.jsonl", 1, "converted"),
        ("journeys_negative_cost.jsonl", 1, "touchpoints[0].cost"),
    ];
    for (name, line, field) in cases {
        let e = journeys_err(name);
        assert_eq!((e.line, e.field.as_str()), (line, field), "{name}: {e}");
    }
    assert_eq!(
        journeys_err("journeys_blank_channel.jsonl").reason,
        Reason::EmptyChannel
    );
    assert!(matches!(
        journeys_err("journeys_truncated.jsonl").reason,
        Reason::NotJson(_)
    ));
}

/// Every file of the corpus is covered by a case above.
#[test]
fn every_bad_file_is_rejected() {
    let mut n = 0;
    for entry in std::fs::read_dir(BAD).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            common::parse_paths(&read(&name), Currency::default()).expect_err(&name);
        } else {
            common::parse_journeys(&read(&name)).expect_err(&name);
        }
        n += 1;
    }
    assert_eq!(n, 22);
}

fn row(line: usize, path: &[&str], conversions: u64, value_minor: i64, nulls: u64) -> PathRow {
    PathRow {
        line,
        path: path.iter().map(|s| (*s).to_owned()).collect(),
        conversions,
        value_minor,
        nulls,
    }
}

/// Crediting a row by weight gives exactly what expanding it into its
/// journeys gives, for every rule-based model.
#[test]
fn path_rows_credited_by_weight_equal_their_expansion() {
    let rows = [
        row(2, &["a", "b", "c"], 3, 1000, 2), // 1000 / 3: 334, 333, 333
        row(3, &["b"], 2, 501, 0),
        row(4, &["c", "a", "c", "direct"], 7, 12345, 5),
        row(5, &["direct"], 1, 99, 1),
        row(6, &["a", "b"], 0, 0, 4),
    ];
    let mut set = JourneySet::new();
    for r in &rows {
        for k in 0..r.conversions + r.nulls {
            let converted = k < r.conversions;
            let cents = if converted {
                let n = r.conversions as i64;
                r.value_minor / n + i64::from((k as i64) < r.value_minor % n)
            } else {
                0
            };
            let j = common::row_journey(r, &format!("{}-{k}", r.line), cents, converted);
            set.push(&j).unwrap();
        }
    }
    for m in models::all() {
        let by_weight = common::credit_paths(m.as_ref(), &rows).unwrap();
        let expanded = Tally::from_report(&attribute(m.as_ref(), &set).unwrap());
        assert_eq!(by_weight, expanded, "{}", m.name());
        assert!(by_weight.reconciles(), "{}", m.name());
    }
}

/// Counts near `i64::MAX` cost nothing and stay exact (hand-checked: linear
/// over `a > b`; 1000.00 over n = 2^62 - 1 conversions is 1 cent for 100,000
/// of them and 0 for the rest; a 1-cent, 2-touch journey gives its cent to
/// the earlier touch).
#[test]
fn huge_counts_are_credited_exactly_by_weight() {
    let n: u64 = (1 << 62) - 1;
    let text = format!(
        "path,total_conversions,total_conversion_value,total_null\na > b,{n},1000.00,{n}\n"
    );
    let rows = common::parse_paths(&text, Currency::default()).unwrap();
    let t = common::credit_paths(&models::Linear, &rows).unwrap();
    assert_eq!(t.journeys, 2 * u128::from(n));
    assert_eq!(t.conversions, u128::from(n));
    assert_eq!(t.value_minor, 100_000);
    assert_eq!(t.channels["a"], (u128::from(n) * UNITS / 2, 100_000));
    assert_eq!(t.channels["b"], (u128::from(n) * UNITS / 2, 0));
    assert!(t.reconciles());
}

/// Markov and Shapley state the same totals as the rule-based models, with
/// a converting journey that has no touch shown as unassigned.
#[test]
fn every_model_states_the_same_totals() {
    let t = touchpoint::chrono::DateTime::UNIX_EPOCH;
    let journeys = [
        SimpleJourney::new("1")
            .touch(SimpleTouch::new("a", t))
            .touch(SimpleTouch::new("b", t))
            .converted(10.0),
        SimpleJourney::new("2").touch(SimpleTouch::new("b", t)),
        SimpleJourney::new("3").converted(2.5), // no touch: unassigned
    ];
    let set = JourneySet::from_journeys(&journeys).unwrap();
    let linear = Tally::from_report(&attribute(&models::Linear, &set).unwrap());
    assert_eq!(
        (linear.journeys, linear.conversions, linear.value_minor),
        (3, 2, 1250)
    );
    assert_eq!(linear.unassigned, (UNITS, 250));
    assert!(linear.reconciles());
    let m = markov::fit(&set, MarkovConfig::new(1).unwrap()).unwrap();
    let s = shapley::fit(&set, ShapleyConfig::new(ShapleyVariant::Simplified)).unwrap();
    for credits in [m.credits().unwrap(), s.credits().unwrap()] {
        let tally = Tally::from_channel_credits(&credits, 3, 2, 1250);
        assert_eq!(tally.unassigned, (UNITS, 250), "{}", tally.model);
        assert!(tally.reconciles(), "{}: {tally:?}", tally.model);
    }
}

#[test]
fn fallback_notes_name_what_happened() {
    let chans = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let direct_only = chans(&["direct", "direct"]);
    let mixed = chans(&["email", "direct"]);
    let shapes = [(&direct_only, 2u64), (&mixed, 3)].map(|(c, count)| common::Shape {
        channels: c,
        has_milestone: false,
        converted: true,
        has_conversion_ts: false,
        count,
    });
    let direct = chans(&["direct"]);
    let notes = common::fallback_notes("last_non_direct", &direct, shapes);
    assert_eq!(
        notes,
        [
            "2 of 5 converting journeys with touches are all direct (direct): \
          last_non_direct falls back to their last touch"
        ]
    );
    let notes = common::fallback_notes("full_path", &direct, shapes);
    assert!(notes[0].starts_with("5 of 5 converting journeys with touches carry no milestone"));
    assert!(common::fallback_notes("linear", &direct, shapes).is_empty());
    assert_eq!(common::ratio(1.0, 0.0, 2), "n/a");
    assert_eq!(common::ratio(1.0, 4.0, 2), "0.25");
}
