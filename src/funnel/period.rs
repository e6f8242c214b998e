//! Calendar periods (UTC) for the period view and period slices.

use chrono::{DateTime, Datelike};
use serde::{Deserialize, Serialize};

use super::hist::DAY_MS;

/// A calendar period length, in UTC. Labels sort in time order:
/// `2024-03-05` (day), `2024-W09` (ISO week), `2024-03` (month),
/// `2024-Q1` (quarter), `2024` (year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Period {
    /// Calendar day.
    Day,
    /// ISO week (Monday to Sunday).
    Week,
    /// Calendar month (the default).
    #[default]
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl Period {
    /// The integer key of the period holding `ts_ms` (Unix milliseconds).
    pub(crate) fn key(self, ts_ms: i64) -> i64 {
        let days = ts_ms.div_euclid(DAY_MS);
        match self {
            Period::Day => return days,
            Period::Month | Period::Quarter | Period::Year => {
                let (y, m0) = civil_from_days(days);
                return match self {
                    Period::Month => y * 12 + m0,
                    Period::Quarter => y * 4 + m0 / 3,
                    _ => y,
                };
            }
            Period::Week => {}
        }
        let Some(d) = DateTime::from_timestamp_millis(ts_ms) else {
            return days;
        };
        let d = d.date_naive();
        let y = i64::from(d.year());
        match self {
            Period::Day => days,
            Period::Week => {
                let w = d.iso_week();
                i64::from(w.year()) * 100 + i64::from(w.week())
            }
            Period::Month => y * 12 + i64::from(d.month0()),
            Period::Quarter => y * 4 + i64::from(d.month0() / 3),
            Period::Year => y,
        }
    }

    /// The label of the period with key `key`.
    pub(crate) fn label(self, key: i64) -> String {
        match self {
            Period::Day => DateTime::from_timestamp_millis(key.saturating_mul(DAY_MS))
                .map_or_else(|| key.to_string(), |d| d.format("%Y-%m-%d").to_string()),
            Period::Week => format!("{}-W{:02}", key.div_euclid(100), key.rem_euclid(100)),
            Period::Month => format!("{}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            Period::Quarter => format!("{}-Q{}", key.div_euclid(4), key.rem_euclid(4) + 1),
            Period::Year => key.to_string(),
        }
    }

    /// The label of the period holding `ts_ms`.
    pub(crate) fn label_of(self, ts_ms: i64) -> String {
        self.label(self.key(ts_ms))
    }
}

/// (year, month 0..12) of a day count since 1970-01-01, proleptic
/// Gregorian (H. Hinnant's `civil_from_days`): integer arithmetic only.
fn civil_from_days(z: i64) -> (i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let t = "2024-03-05T10:00:00Z"
            .parse::<DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp_millis();
        assert_eq!(Period::Day.label_of(t), "2024-03-05");
        assert_eq!(Period::Week.label_of(t), "2024-W10");
        assert_eq!(Period::Month.label_of(t), "2024-03");
        assert_eq!(Period::Quarter.label_of(t), "2024-Q1");
        assert_eq!(Period::Year.label_of(t), "2024");
    }

    #[test]
    fn civil_matches_chrono() {
        for days in (-800_000..800_000).step_by(997) {
            let d = DateTime::from_timestamp_millis(days * DAY_MS)
                .unwrap()
                .date_naive();
            assert_eq!(
                civil_from_days(days),
                (i64::from(d.year()), i64::from(d.month0())),
                "{days}"
            );
        }
    }
}
