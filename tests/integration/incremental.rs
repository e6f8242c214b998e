//! Integration tests: incremental.

use touchpoint::incremental::{Incremental, IncrementalConfig};
use touchpoint::{JourneySet, SimpleJourney, attribute};

fn load(path: &str) -> JourneySet {
    let text = std::fs::read_to_string(path).expect("read sample");
    let js: Vec<SimpleJourney> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("parse"))
        .collect();
    JourneySet::from_journeys(&js).expect("set")
}

/// Share error (pp) of the sample data; run with
/// `cargo test --release --test integration sample_accuracy -- --ignored --nocapture`.
#[test]
#[ignore = "needs /work/shared/data; prints figures"]
fn sample_accuracy() {
    let set = load("/work/shared/data/sample.jsonl");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("/work/shared/data/sample.truth.json").unwrap(),
    )
    .unwrap();
    let t = std::time::Instant::now();
    let mut cfg = IncrementalConfig::new();
    if let Ok(l2) = std::env::var("L2") {
        cfg = cfg.l2(l2.parse().unwrap()).unwrap();
    }
    if let Ok(e) = std::env::var("EXPO") {
        cfg = cfg.exposure(match e.as_str() {
            "presence" => touchpoint::incremental::Exposure::Presence,
            "linear" => touchpoint::incremental::Exposure::Linear,
            "levels" => touchpoint::incremental::Exposure::Levels,
            _ => touchpoint::incremental::Exposure::Log1p,
        });
    }
    if let Ok(c) = std::env::var("CAP") {
        cfg = cfg.count_cap(c.parse().unwrap()).unwrap();
    }
    if std::env::var("REMOVAL").is_ok() {
        cfg = cfg.credit(touchpoint::incremental::CreditRule::Removal);
    }
    if std::env::var("LAST").is_ok() {
        cfg = cfg.last_touch(true);
    }
    if std::env::var("PAIRS").is_ok() {
        cfg = cfg.pairs(touchpoint::incremental::Pairs::All);
    }
    let model = Incremental::fit(&set, &cfg).unwrap();
    eprintln!("fit {:?} {:?}", t.elapsed(), model.diagnostics());
    let report = attribute(&model, &set).unwrap();
    eprintln!("attribute {:?}", t.elapsed());
    let mut err_eff = 0.0;
    let mut err_cred = 0.0;
    let conv = report.conversions() as f64;
    for (name, share) in model.effect_shares() {
        let ts = truth["channels"][&name]["share"].as_f64().unwrap();
        let cs = report
            .channels()
            .get(&name)
            .map_or(0.0, |c| c.conversions())
            / conv;
        eprintln!("{name:16} truth {ts:.4} effect {share:.4} credit {cs:.4}");
        err_eff += (share - ts).abs();
        err_cred += (cs - ts).abs();
    }
    eprintln!(
        "error effects {:.2} pp, credited {:.2} pp",
        err_eff * 100.0,
        err_cred * 100.0
    );
    eprintln!("{:?}", model.credit_diagnostics(&set));
}

/// Coverage of the truth by the 95% intervals of the effect shares; run with
/// `cargo test --release --test integration sample_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "needs /work/shared/data; prints figures"]
fn sample_coverage() {
    use touchpoint::bootstrap::BootstrapConfig;
    let set = load("/work/shared/data/sample.jsonl");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("/work/shared/data/sample.truth.json").unwrap(),
    )
    .unwrap();
    let t = std::time::Instant::now();
    let reps: u32 = std::env::var("REPS").map_or(200, |s| s.parse().unwrap());
    let boot = BootstrapConfig::new().replicates(reps).unwrap().seed(2026);
    let ci =
        touchpoint::incremental::bootstrap_effects(&set, &IncrementalConfig::new(), &boot).unwrap();
    eprintln!(
        "bootstrap {:?} failed {}",
        t.elapsed(),
        ci.failed_replicates()
    );
    let mut inside = 0;
    for c in ci.channels() {
        let ts = truth["channels"][c.name()]["share"].as_f64().unwrap();
        let s = c.share();
        let ok = s.contains(ts);
        inside += usize::from(ok);
        eprintln!(
            "{:16} truth {ts:.4} est {:.4} [{:.4}, {:.4}] {}",
            c.name(),
            s.estimate(),
            s.low(),
            s.high(),
            if ok { "in" } else { "OUT" }
        );
    }
    eprintln!("coverage {inside}/{}", ci.channels().len());
}
