//! `touchpoint report --html OUT.html`: one self-contained HTML file (inline
//! CSS and SVG, no script, no network) with the narrative, the audit's
//! warnings, the tables and the charts.

use std::fmt::Write as _;

use crate::charts::{self, HBars, Line};
use crate::cli::ReportArgs;
use crate::commands::{self, CompareOut};
use crate::engine::FunnelOut;
use crate::error::{CliError, Result};
use crate::out::Grid;
use crate::{audit, input, narrative};

/// Models shown in the credit chart (all are in the table).
/// Bootstrap replicates of the incremental effects' intervals when
/// `--intervals` is not given (each replicate refits the model).
const INCREMENTAL_REPLICATES: u32 = 30;

/// Bootstrap replicates of the narrative's driver intervals (linear credit
/// re-weighted per replicate) when `--intervals` is not given.
const DRIVER_REPLICATES: u32 = 200;

const CHART_MODELS: [&str; 6] = [
    "first_touch",
    "last_touch",
    "linear",
    "position_based",
    "markov",
    "shapley",
];

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(g: &Grid) -> String {
    let mut s = String::new();
    if !g.title.is_empty() {
        let _ = write!(s, "<h3>{}</h3>", esc(&g.title));
    }
    s.push_str("<table><thead><tr>");
    for h in &g.header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in &g.rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(
                s,
                "<td{}>{}</td>",
                if i == 0 { "" } else { " class=\"n\"" },
                esc(c)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    for n in &g.notes {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
    s
}

fn chart(svg: Result<String, String>, what: &str) -> Result<String> {
    svg.map(|s| format!("<figure class=\"chart\">{s}</figure>"))
        .map_err(|e| CliError::Other(format!("drawing the {what} chart: {e}")))
}

/// The credit chart: share of conversions per channel under each model
/// (and the incremental effect shares, and the truth when given).
fn credit_chart(c: &CompareOut) -> Result<String> {
    let mut channels: Vec<String> = c
        .incremental_effects
        .iter()
        .map(|e| e.name.clone())
        .collect();
    for m in &c.models {
        for l in &m.lines {
            if !channels.contains(&l.name) {
                channels.push(l.name.clone());
            }
        }
    }
    channels.sort();
    let models: Vec<_> = c
        .models
        .iter()
        .filter(|m| CHART_MODELS.iter().any(|n| m.model.starts_with(n)))
        .collect();
    let mut series: Vec<String> = models.iter().map(|m| m.model.clone()).collect();
    series.push("incremental effect".into());
    if c.truth.is_some() {
        series.push("truth".into());
    }
    let values = channels
        .iter()
        .map(|ch| {
            let mut row: Vec<charts::Bar> = models
                .iter()
                .map(|m| {
                    (
                        m.lines
                            .iter()
                            .find(|l| &l.name == ch)
                            .map_or(0.0, |l| l.share),
                        None,
                    )
                })
                .collect();
            row.push((
                c.incremental_effects
                    .iter()
                    .find(|e| &e.name == ch)
                    .map_or(0.0, |e| e.share),
                None,
            ));
            if let Some(t) = &c.truth {
                row.push((t.iter().find(|x| &x.0 == ch).map_or(0.0, |x| x.1), None));
            }
            row
        })
        .collect();
    chart(
        HBars {
            title: "Share of conversions by channel under each model".into(),
            groups: channels,
            series,
            values,
            fmt: charts::fmt_pct,
            id: "chart-credit".into(),
        }
        .svg(),
        "credit",
    )
}

fn effects_chart(c: &CompareOut) -> Result<String> {
    let mut e = c.incremental_effects.clone();
    e.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.name.cmp(&b.name)));
    chart(
        HBars {
            title: "Incremental effect share by channel, with 95% bootstrap intervals".into(),
            groups: e.iter().map(|x| x.name.clone()).collect(),
            series: vec!["effect share".into()],
            values: e
                .iter()
                .map(|x| vec![(x.share, x.share_low.zip(x.share_high))])
                .collect(),
            fmt: charts::fmt_pct,
            id: "chart-effects".into(),
        }
        .svg(),
        "effects",
    )
}

fn funnel_charts(f: &FunnelOut) -> Result<String> {
    let mut s = chart(
        HBars {
            title: "Funnel: records reaching each stage".into(),
            groups: f.stages.iter().map(|s| s.stage.clone()).collect(),
            series: vec!["reached".into()],
            values: f
                .stages
                .iter()
                .map(|s| vec![(s.count as f64, None)])
                .collect(),
            fmt: charts::fmt_count,
            id: "chart-funnel".into(),
        }
        .svg(),
        "funnel",
    )?;
    s += &chart(
        Line {
            title: "Pipeline velocity per day, by period".into(),
            labels: f.velocity_by_period.iter().map(|v| v.key.clone()).collect(),
            values: f.velocity_by_period.iter().map(|v| v.per_day).collect(),
            fmt: charts::fmt_amount,
            id: "chart-velocity".into(),
        }
        .svg(),
        "velocity",
    )?;
    let roi: Vec<_> = f
        .roi
        .iter()
        .filter(|r| !r.name.starts_with('(') && r.roi.is_some())
        .collect();
    if !roi.is_empty() {
        s += &chart(
            HBars {
                title: format!("ROI by channel ({} credit of won revenue)", f.roi_model),
                groups: roi.iter().map(|r| r.name.clone()).collect(),
                series: vec!["ROI".into()],
                values: roi
                    .iter()
                    .map(|r| vec![(r.roi.unwrap_or(0.0), None)])
                    .collect(),
                fmt: charts::fmt_pct,
                id: "chart-roi".into(),
            }
            .svg(),
            "ROI",
        )?;
    }
    Ok(s)
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #0072b2;padding-bottom:.2em}h3{font-size:1.05em}\
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;display:block;overflow-x:auto}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;white-space:nowrap}\
th{background:#f3f6f9;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.note{font-size:.85em;color:#555;margin:.2em 0}\
.meta{color:#555}.story li{margin:.35em 0}.warn{background:#fff4e0;border-left:4px solid #e69f00;padding:.4em .8em;margin:.4em 0}\
.blocking{background:#fde8e8;border-left-color:#d55e00}.info{background:#eef5fb;border-left-color:#56b4e9}figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}";

/// Builds the report's HTML.
///
/// # Errors
///
/// Reading, computation and drawing errors.
pub fn build(a: &ReportArgs) -> Result<String> {
    let loaded = input::load(&a.input)?;
    loaded.print_summary(a.input.quiet);
    let c = commands::compare_data(
        &loaded,
        &a.model_args,
        a.truth.as_deref(),
        a.intervals.unwrap_or(INCREMENTAL_REPLICATES),
        a.input.quiet,
    )?;
    let set = loaded.set()?;
    let funnel = match &a.leads {
        Some(l) => Some(commands::funnel_data(
            &l.display().to_string(),
            &a.funnel,
            a.input.quiet,
        )?),
        None => None,
    };
    // the core's audit, with the leads and spend when given
    let audit_report = match &funnel {
        Some(f) => audit::report(&set, &f.leads_read, f.spend_read.as_ref()),
        None => audit::report(&set, &[], None),
    };
    let findings: Vec<audit::Finding> =
        audit_report.findings().iter().map(audit::finding).collect();
    let drivers = (a.intervals.unwrap_or(DRIVER_REPLICATES), 1, 0.95);
    let t0 = std::time::Instant::now();
    let story = narrative::sentences(
        &set,
        &c,
        funnel.as_ref(),
        &audit_report,
        &a.currency,
        Some(drivers),
    )?;
    input::timing("narrative (with the drivers' bootstrap)", t0);
    let first = c.models.first();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&a.title)
    );
    let _ = write!(h, "<h1>{}</h1>", esc(&a.title));
    if let Some(m) = first {
        let _ = write!(
            h,
            "<p class=\"meta\">{}: {} journeys, {} converted, {} {} in conversion value. Generated by touchpoint {}.</p>",
            esc(&loaded.file),
            m.journeys,
            m.conversions,
            esc(&a.currency),
            crate::out::money(m.value),
            env!("CARGO_PKG_VERSION")
        );
    }
    h.push_str("<h2 id=\"story\">What the data says</h2><ul class=\"story\">");
    for s in &story {
        let _ = write!(h, "<li>{}</li>", esc(s));
    }
    h.push_str("</ul>");
    h.push_str("<h2 id=\"audit\">Data audit</h2>");
    let shown: Vec<_> = findings
        .iter()
        .filter(|f| f.severity != audit::Severity::Info)
        .collect();
    if shown.is_empty() {
        h.push_str("<p>No warnings.</p>");
    }
    for f in &shown {
        let class = if f.severity == audit::Severity::Blocking {
            "warn blocking"
        } else {
            "warn"
        };
        let _ = write!(
            h,
            "<div class=\"{class}\"><b>{}</b>: {}</div>",
            esc(f.kind),
            esc(&f.message)
        );
    }
    let infos = findings.len() - shown.len();
    if infos > 0 {
        let _ = write!(
            h,
            "<details><summary>{infos} informational findings</summary>"
        );
        for f in findings
            .iter()
            .filter(|f| f.severity == audit::Severity::Info)
        {
            let _ = write!(h, "<div class=\"warn info\">{}</div>", esc(&f.message));
        }
        h.push_str("</details>");
    }
    for r in &loaded.summary {
        let _ = write!(h, "<p class=\"note\">read: {}</p>", esc(r));
    }
    h.push_str("<h2 id=\"credit\">Channel credit under each model</h2>");
    h += &credit_chart(&c)?;
    h += &table(&commands::compare_grid(&c, commands::Fmt { raw: false }));
    h.push_str("<h2 id=\"effects\">Incremental effects</h2><p>What each channel adds: expected conversions lost if the channel were removed, from the incremental model, as a share of all channels' effects. This is the number to use for budget decisions; the credit views above share out revenue that was reported.</p>");
    h += &effects_chart(&c)?;
    h.push_str("<h2 id=\"funnel\">Funnel, velocity and ROI</h2>");
    match &funnel {
        Some(f) => {
            h += &funnel_charts(f)?;
            for g in commands::funnel_grids(f, &a.currency, commands::Fmt { raw: false }) {
                h += &table(&g);
            }
        }
        None => h.push_str(
            "<p>No leads file given (<code>--leads</code>): no funnel, velocity or ROI.</p>",
        ),
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

/// `touchpoint report`.
///
/// # Errors
///
/// As [`build`], and writing the file.
pub fn report(a: &ReportArgs) -> Result<()> {
    let html = build(a)?;
    let file = a.html.display().to_string();
    std::fs::write(&a.html, html).map_err(|source| CliError::Io {
        file: file.clone(),
        source,
    })?;
    if !a.input.quiet {
        eprintln!("wrote {file}");
    }
    Ok(())
}
