//! Audits a JSON-lines journey file (and optionally leads and spend) and
//! prints what the data can and cannot say, before any attribution.
//!
//! ```text
//! cargo run --example audit                       # the shipped sample, then the messy file
//! cargo run --example audit -- FILE [--as-of 2025-06-30T00:00:00Z] [--leads FILE] [--spend FILE]
//! ```
//!
//! File formats: `examples/data/README.md`. Lines that are not valid
//! JSON are listed and counted (never skipped silently); everything else
//! goes to the audit, which reports problems as findings.

use std::error::Error;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use touchpoint::SimpleJourney;
use touchpoint::audit::{AuditConfig, AuditReport, Verdict, audit_with};
use touchpoint::funnel::Lead;
use touchpoint::roi::Spend;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

struct Args {
    journeys: String,
    leads: Option<String>,
    spend: Option<String>,
    as_of: Option<DateTime<Utc>>,
}

const USAGE: &str = "usage: audit [FILE.jsonl] [--as-of RFC3339] [--leads FILE.jsonl] [--spend FILE.csv]
  FILE.jsonl   journeys, one JSON object per line (default: the shipped sample, then examples/data/messy.jsonl)
  --as-of      the audit's \"now\": later touches are in the future, idle leads are stalled
  --leads      funnel leads, one JSON object per line
  --spend      spend CSV: channel,campaign,period,amount";

fn parse_args() -> Result<Option<Vec<Args>>, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(None);
    }
    if raw.is_empty() {
        return Ok(Some(vec![
            Args {
                journeys: format!("{DATA}sample.jsonl"),
                leads: None,
                spend: None,
                as_of: None,
            },
            Args {
                journeys: format!("{DATA}messy.jsonl"),
                leads: Some(format!("{DATA}leads.jsonl")),
                spend: Some(format!("{DATA}spend.csv")),
                as_of: "2025-06-30T00:00:00Z".parse().ok(),
            },
        ]));
    }
    let mut a = Args {
        journeys: String::new(),
        leads: None,
        spend: None,
        as_of: None,
    };
    let mut it = raw.into_iter();
    while let Some(x) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match x.as_str() {
            "--leads" => a.leads = Some(value("--leads")?),
            "--spend" => a.spend = Some(value("--spend")?),
            "--as-of" => {
                let v = value("--as-of")?;
                a.as_of = Some(
                    v.parse()
                        .map_err(|e| format!("--as-of {v:?}: not an RFC 3339 time: {e}"))?,
                );
            }
            f if !f.starts_with("--") && a.journeys.is_empty() => a.journeys = f.to_owned(),
            other => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
        }
    }
    if a.journeys.is_empty() {
        return Err(format!("no journey file given\n{USAGE}"));
    }
    Ok(Some(vec![a]))
}

/// Lines that could not be read: (1-based line number, error).
type Unreadable = Vec<(usize, String)>;

/// Journeys and the lines that could not be read.
fn read_journeys(path: &str) -> Result<(Vec<SimpleJourney>, Unreadable), Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<SimpleJourney>(line) {
            Ok(j) => ok.push(j),
            Err(e) => bad.push((i + 1, e.to_string())),
        }
    }
    Ok((ok, bad))
}

fn read_leads(path: &str) -> Result<Vec<Lead>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if !line.trim().is_empty() {
            out.push(
                serde_json::from_str(line).map_err(|e| format!("{path}: line {}: {e}", i + 1))?,
            );
        }
    }
    Ok(out)
}

fn read_spend(path: &str) -> Result<Spend, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut spend = Spend::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let at = || format!("{path}: line {}", i + 1);
        let f: Vec<&str> = line.split(',').collect();
        let [channel, campaign, period, amount] = f[..] else {
            return Err(format!(
                "{}: expected 4 columns (channel,campaign,period,amount), found {}",
                at(),
                f.len()
            )
            .into());
        };
        let amount: f64 = amount
            .trim()
            .parse()
            .map_err(|e| format!("{}: amount {amount:?}: {e}", at()))?;
        let campaign = (!campaign.is_empty()).then_some(campaign);
        spend
            .add(channel, campaign, period, amount)
            .map_err(|e| format!("{}: {e}", at()))?;
    }
    Ok(spend)
}

fn print_report(r: &AuditReport, unreadable: &[(usize, String)]) {
    println!(
        "{} journeys, {} touches, {} conversions, {} leads read; {} unreadable lines",
        r.journeys(),
        r.touches(),
        r.conversions(),
        r.leads(),
        unreadable.len()
    );
    for (line, e) in unreadable.iter().take(5) {
        println!("  line {line}: {e}");
    }
    println!();
    if r.findings().is_empty() {
        println!("No findings.");
    } else {
        println!(
            "{:<9} {:<26} {:<16} {:>7} {:>8} {:>7}  examples / figures",
            "severity", "check", "subject", "count", "of", "share"
        );
        for f in r.findings() {
            let mut detail = f.examples.join(", ");
            if !f.related.is_empty() {
                detail = format!("{} [{}]", detail, f.related.join(", "));
            }
            if let Some(at) = f.at {
                detail = format!("{detail} at {}", at.format("%Y-%m-%d"));
            }
            for fig in &f.figures {
                detail = format!("{detail}; {}={:.3} {:?}", fig.name, fig.value, fig.unit);
            }
            println!(
                "{:<9} {:<26} {:<16} {:>7} {:>8} {:>7}  {}",
                f.severity,
                f.check,
                f.subject.as_deref().unwrap_or("-"),
                f.count,
                f.out_of,
                f.share()
                    .value()
                    .map_or("n/a".to_owned(), |s| format!("{:.1}%", s * 100.0)),
                detail.trim_start_matches([',', ';', ' '])
            );
        }
        println!(
            "(count and \"of\" are journeys, touches, leads or weeks, as each check counts; share = count / of)"
        );
    }
    if !r.name_mapping().is_empty() {
        println!("\nSuggested channel mapping (rules::Rules::map_channels(report.channel_map())):");
        println!("{:<20} {:<20} {:>8}", "from", "to", "touches");
        for m in r.name_mapping() {
            println!("{:<20} {:<20} {:>8}", m.from, m.to, m.touches);
        }
    }
    let verdict = |v: Verdict| match v {
        Verdict::Enough => "enough",
        Verdict::TooLittleData => "too little",
        Verdict::NoEvidence => "no evidence",
    };
    println!(
        "\nSufficiency per channel (journeys touched; verdict per model family; bootstrap interval half-width on converting journeys, % of them):"
    );
    println!(
        "{:<20} {:>8} {:>9} {:>9} {:>11} {:>12} {:>12} {:>9}",
        "channel",
        "journeys",
        "convert.",
        "non-conv.",
        "rule-based",
        "data-driven",
        "incremental",
        "± width"
    );
    for c in r.channels() {
        println!(
            "{:<20} {:>8} {:>9} {:>9} {:>11} {:>12} {:>12} {:>9}",
            c.channel,
            c.journeys,
            c.converting,
            c.non_converting,
            verdict(c.rule_based),
            verdict(c.data_driven),
            verdict(c.incremental),
            c.relative_half_width
                .value()
                .map_or("n/a".to_owned(), |w| format!("±{:.0}%", w * 100.0))
        );
    }
    println!(
        "Verdict: {}",
        match r.worst() {
            None => "clean: no finding.",
            Some(touchpoint::audit::Severity::Info) => "clean: notes for information only.",
            Some(touchpoint::audit::Severity::Warning) =>
                "usable with care: read the warnings before the results.",
            Some(_) => "blocking: repair the data before attributing.",
        }
    );
}

fn run() -> Result<bool, Box<dyn Error>> {
    let Some(runs) = parse_args()? else {
        return Ok(true);
    };
    for a in runs {
        let name = a.journeys.strip_prefix(DATA).unwrap_or(&a.journeys);
        println!("\n== Audit of {name} ==");
        let (journeys, unreadable) = read_journeys(&a.journeys)?;
        let leads = match &a.leads {
            Some(p) => read_leads(p)?,
            None => Vec::new(),
        };
        let spend = a.spend.as_deref().map(read_spend).transpose()?;
        let mut config = AuditConfig::new();
        if let Some(t) = a.as_of {
            println!("as of {}", t.format("%Y-%m-%d"));
            config = config.as_of(t);
        }
        let report = audit_with(&journeys, &leads, spend.as_ref(), &config);
        print_report(&report, &unreadable);
    }
    Ok(true)
}

fn main() -> ExitCode {
    match run() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
