//! Integration tests: journey rules.

use chrono::DateTime;
use proptest::prelude::*;
use touchpoint::models::{Linear, TimeDecay};
use touchpoint::rules::{ChannelMap, Rules, Unmapped};
use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, attribute};

const DAY_MS: i64 = 86_400_000;

fn journey(
    id: usize,
    touches: &[(u8, i64)],
    converted: bool,
    value_cents: u32,
    conv_day: Option<i64>,
) -> SimpleJourney {
    let mut j = SimpleJourney::new(format!("j{id}"));
    for &(ch, day_ms) in touches {
        let ts = DateTime::from_timestamp_millis(day_ms).unwrap();
        j = j.touch(SimpleTouch::new(format!("c{ch}"), ts));
    }
    if converted {
        j = j.converted(f64::from(value_cents) / 100.0);
        if let Some(d) = conv_day {
            j = j.converted_at(DateTime::from_timestamp_millis(d).unwrap());
        }
    }
    j
}

fn arb_set() -> impl Strategy<Value = Vec<SimpleJourney>> {
    prop::collection::vec(
        (
            prop::collection::vec((0u8..5, 0i64..400 * DAY_MS), 0..8),
            any::<bool>(),
            0u32..1_000_000,
            prop::option::of(0i64..420 * DAY_MS),
        ),
        1..30,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (t, c, val, d))| journey(i, &t, c, val, d))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Touches outside the lookback window get nothing: after the rule, every
    /// credited touch lies within the window before its reference time.
    #[test]
    fn lookback_leaves_no_credit_outside_the_window(js in arb_set(), days in 1u32..120) {
        let set = JourneySet::from_journeys(&js).unwrap();
        let (clean, _) = Rules::new().lookback_days(f64::from(days)).unwrap().apply(&set).unwrap();
        let mut c = Crediter::new();
        for (orig, view) in set.iter().zip(clean.iter()) {
            c.credit(&TimeDecay::default(), &view).unwrap();
            let reference = orig.reference_ts().unwrap_or(0);
            let start = reference - i64::from(days) * DAY_MS;
            // what the window removed is exactly the touches before its start
            let outside = orig.timestamps().iter().filter(|&&t| t < start).count();
            prop_assert_eq!(orig.len() - outside, view.len());
            prop_assert!(view.timestamps().iter().all(|&t| t >= start));
            // and the journey's whole value lands on touches inside the window
            if view.converted() && !view.is_empty() {
                prop_assert_eq!(c.values().iter().sum::<i64>(), orig.value_minor());
            }
        }
    }

    /// Rules account for every touch and keep every conversion and its value.
    #[test]
    fn rules_account_for_every_touch(js in arb_set(), lb in 1u32..200, gap in 1u32..100) {
        let set = JourneySet::from_journeys(&js).unwrap();
        let rules = Rules::new()
            .drop_after_conversion()
            .lookback_days(f64::from(lb)).unwrap()
            .dormancy_split_days(f64::from(gap)).unwrap()
            .collapse_repeats()
            .map_channels(ChannelMap::new().exact("c1", "c2").otherwise(Unmapped::Keep));
        let (out, rep) = rules.apply(&set).unwrap();
        prop_assert_eq!(set.touch_count() as u64 - rep.touches_removed(), out.touch_count() as u64);
        prop_assert_eq!(set.len() as u64 + rep.journeys_added(), out.len() as u64);
        prop_assert_eq!(set.conversions(), out.conversions());
        let before = attribute(&Linear, &set).unwrap();
        let after = attribute(&Linear, &out).unwrap();
        prop_assert_eq!(before.value_minor(), after.value_minor());
        let map = &rep.steps[4];
        let remaining = out.touch_count() as u64;
        prop_assert_eq!(map.touches_renamed + map.touches_unmatched, remaining);
    }

    /// Collapsing repeats twice changes nothing the second time.
    #[test]
    fn collapse_is_idempotent(js in arb_set()) {
        let set = JourneySet::from_journeys(&js).unwrap();
        let (once, _) = Rules::new().collapse_repeats().apply(&set).unwrap();
        let (twice, rep) = Rules::new().collapse_repeats().apply(&once).unwrap();
        prop_assert_eq!(rep.touches_removed(), 0);
        prop_assert_eq!(once, twice);
    }
}

#[test]
fn six_months_of_silence_starts_a_new_first_touch() {
    let d = |n: i64| n * DAY_MS;
    let j = journey(
        0,
        &[(0, d(0)), (1, d(10)), (2, d(200)), (3, d(205))],
        true,
        10_000,
        None,
    );
    let set = JourneySet::from_journeys([&j]).unwrap();
    let (out, rep) = Rules::new()
        .dormancy_split_days(180.0)
        .unwrap()
        .apply(&set)
        .unwrap();
    assert_eq!(rep.journeys_added(), 1);
    let report = attribute(&touchpoint::models::FirstTouch, &out).unwrap();
    // the re-engagement's first touch (c2) earns the conversion, not c0
    assert_eq!(report.channels().get("c2").unwrap().value_minor(), 10_000);
    assert!(
        report
            .channels()
            .get("c0")
            .is_none_or(|c| c.value_minor() == 0)
    );
}
