//! The subcommands: read, compute through [`crate::engine`], render
//! through [`crate::out`].

use std::path::Path;

use serde::Serialize;

use crate::cli::{
    AttributeArgs, AuditArgs, CompareArgs, Format, FunnelArgs, FunnelOpts, ModelArgs, SimulateArgs,
};
use crate::engine::{self, Attribution, Effect, FunnelOut};
use crate::error::{CliError, Result};
use crate::input::{self, Data, Loaded};
use crate::out::{self, Grid, money, opt_days, opt_money, opt_pct, pct};
use crate::{audit, progress::Progress};

/// Number formatting: grouped and rounded for people, plain for CSV.
#[derive(Debug, Clone, Copy)]
pub struct Fmt {
    /// Plain numbers (CSV): shares as fractions, amounts with 2 decimals, no grouping.
    pub raw: bool,
}

impl Fmt {
    fn for_format(f: Format) -> Fmt {
        Fmt {
            raw: f == Format::Csv,
        }
    }
    fn money(self, x: f64) -> String {
        if self.raw {
            format!("{x:.2}")
        } else {
            money(x)
        }
    }
    fn pct(self, x: f64) -> String {
        if self.raw { format!("{x:.6}") } else { pct(x) }
    }
    fn opt_pct(self, x: Option<f64>) -> String {
        match x {
            Some(x) => self.pct(x),
            None if self.raw => String::new(),
            None => opt_pct(None),
        }
    }
    fn opt_money(self, x: Option<f64>) -> String {
        match x {
            Some(x) => self.money(x),
            None if self.raw => String::new(),
            None => opt_money(None),
        }
    }
    fn opt_days(self, x: Option<f64>) -> String {
        match x {
            None if self.raw => String::new(),
            x => opt_days(x),
        }
    }
}

fn emit(format: Format, grids: &[Grid], json: &impl Serialize) -> Result<()> {
    match format {
        Format::Json => out::print_json(json),
        Format::Csv => out::print(
            &grids
                .first()
                .map(Grid::to_csv)
                .transpose()?
                .unwrap_or_default(),
        ),
        Format::Table => {
            let text: Vec<String> = grids.iter().map(Grid::to_text).collect();
            out::print(&text.join("\n"))
        }
    }
}

fn attribution_grid(a: &Attribution, currency: &str, f: Fmt) -> Grid {
    let with_ci = a.lines.iter().any(|l| l.interval.is_some());
    let mut header = vec![
        a.by.to_owned(),
        "conversions".into(),
        format!("value ({currency})"),
        "share".into(),
    ];
    if with_ci {
        header.extend(["share low".into(), "share high".into()]);
    }
    let mut rows: Vec<Vec<String>> = a
        .lines
        .iter()
        .map(|l| {
            let mut r = vec![
                l.name.clone(),
                format!("{:.2}", l.conversions),
                f.money(l.value),
                f.pct(l.share),
            ];
            if with_ci {
                let i = l.interval.as_ref();
                r.push(f.opt_pct(i.map(|i| i.share_low)));
                r.push(f.opt_pct(i.map(|i| i.share_high)));
            }
            r
        })
        .collect();
    if a.unassigned.value_minor != 0 || a.unassigned.conversions != 0.0 {
        let mut r = vec![
            "(unassigned)".into(),
            format!("{:.2}", a.unassigned.conversions),
            f.money(a.unassigned.value),
            String::new(),
        ];
        if with_ci {
            r.extend([String::new(), String::new()]);
        }
        rows.push(r);
    }
    let mut notes = vec![format!(
        "{} journeys, {} converted, {currency} {} total; share = credited conversions / all credited conversions",
        a.journeys,
        a.conversions,
        money(a.value)
    )];
    if with_ci {
        notes.push("intervals: seeded Poisson bootstrap over journeys".into());
    }
    notes.extend(a.note.clone());
    if a.lines.is_empty() && a.by != "channel" {
        notes.push(format!(
            "no touch carries a {}: all credit is unassigned",
            a.by
        ));
    }
    Grid {
        title: format!("Credit by {} under {}", a.by, a.model),
        header,
        rows,
        notes,
    }
}

/// `touchpoint attribute`.
///
/// # Errors
///
/// Reading, model and output errors.
pub fn attribute(a: &AttributeArgs) -> Result<()> {
    if a.intervals.is_none() {
        let t0 = std::time::Instant::now();
        if let Some((res, loaded)) =
            engine::attribute_streamed(&a.input, a.model, &a.model_args, a.by)?
        {
            input::timing("attribution", t0);
            loaded.print_summary(a.input.quiet);
            return emit(
                a.output.format,
                &[attribution_grid(
                    &res,
                    &a.output.currency,
                    Fmt::for_format(a.output.format),
                )],
                &res,
            );
        }
    }
    let loaded = input::load(&a.input)?;
    loaded.print_summary(a.input.quiet);
    let mut bar = Progress::new("fitting", 1, a.input.quiet);
    bar.set(0);
    let t0 = std::time::Instant::now();
    let mut res = engine::attribute_loaded(&loaded, a.model, &a.model_args, a.by)?;
    input::timing("attribution", t0);
    if let Some(r) = a.intervals {
        if a.by != crate::cli::By::Channel {
            return Err(CliError::Usage(
                "--intervals are by channel: drop --by".into(),
            ));
        }
        let set = loaded.set()?;
        let failed =
            engine::add_intervals(&mut res, &set, a.model, &a.model_args, r, a.seed, a.level)?;
        if failed > 0 && !a.input.quiet {
            eprintln!(
                "{}: {failed} of {r} bootstrap replicates failed to fit and were skipped",
                loaded.file
            );
        }
    }
    bar.finish();
    emit(
        a.output.format,
        &[attribution_grid(
            &res,
            &a.output.currency,
            Fmt::for_format(a.output.format),
        )],
        &res,
    )
}

/// The `compare` command's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CompareOut {
    /// One attribution per model (by channel).
    pub models: Vec<Attribution>,
    /// The incremental model's effects (expected incremental conversions per channel).
    pub incremental_effects: Vec<Effect>,
    /// The incremental model's three views (the core's `Summary`: credit,
    /// incremental credit with a baseline, expected effects), its
    /// configuration and how it was chosen.
    pub incremental: touchpoint::incremental::Summary,
    /// The fitted incremental model and its effect intervals (for the
    /// narrative; not in the JSON).
    #[serde(skip)]
    pub incremental_fit: (
        touchpoint::incremental::Incremental,
        Option<touchpoint::bootstrap::Bootstrap>,
    ),
    /// With `--truth`: each model's error in percentage points (Σ |share - true share| × 100), and `incremental_effects`'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_pp: Option<Vec<(String, f64)>>,
    /// With `--truth`: the true shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truth: Option<Vec<(String, f64)>>,
}

/// Runs every model, the incremental effects and the truth comparison.
///
/// # Errors
///
/// Reading and model errors.
pub fn compare_data(
    loaded: &Loaded,
    margs: &ModelArgs,
    truth: Option<&Path>,
    replicates: u32,
    quiet: bool,
) -> Result<CompareOut> {
    let names = engine::compare_models();
    let mut bar = Progress::new("models", names.len() as u64 + 1, quiet);
    let set = loaded.set()?;
    // fitted once: its credit, effects and views come from the same model
    let inc = engine::incremental_effects(&set, replicates, 1)?;
    let effects = inc.effects;
    let mut models = Vec::new();
    for (i, m) in names.iter().enumerate() {
        bar.set(i as u64 + 1);
        if matches!(loaded.data, Data::Paths(_)) && *m == crate::cli::ModelName::TimeDecay {
            continue; // paths carry no timestamps
        }
        models.push(if *m == crate::cli::ModelName::Incremental {
            engine::attribute_fitted(&inc.model, &set, crate::cli::By::Channel)?
        } else {
            engine::attribute_loaded(loaded, *m, margs, crate::cli::By::Channel)?
        });
    }
    bar.finish();
    let (errors, truth) = match truth {
        None => (None, None),
        Some(p) => {
            let name = p.display().to_string();
            let t = input::truth::read(&name, &input::read_bytes(&name)?)?;
            let mut e: Vec<(String, f64)> = models
                .iter()
                .map(|m| {
                    (
                        m.model.clone(),
                        engine::error_pp(
                            &m.lines
                                .iter()
                                .map(|l| (l.name.clone(), l.share))
                                .collect::<Vec<_>>(),
                            &t,
                        ),
                    )
                })
                .collect();
            e.push((
                "incremental effects".into(),
                engine::error_pp(
                    &effects
                        .iter()
                        .map(|x| (x.name.clone(), x.share))
                        .collect::<Vec<_>>(),
                    &t,
                ),
            ));
            (Some(e), Some(t))
        }
    };
    Ok(CompareOut {
        models,
        incremental_effects: effects,
        incremental: inc.summary,
        incremental_fit: (inc.model, inc.intervals),
        errors_pp: errors,
        truth,
    })
}

/// The side-by-side table: one row per channel, one column per model
/// (share of conversions), the incremental effect share and the truth.
pub fn compare_grid(c: &CompareOut, f: Fmt) -> Grid {
    let mut channels: Vec<String> = Vec::new();
    for m in &c.models {
        for l in &m.lines {
            if !channels.contains(&l.name) {
                channels.push(l.name.clone());
            }
        }
    }
    channels.sort();
    let mut header = vec!["channel".to_owned()];
    header.extend(c.models.iter().map(|m| m.model.clone()));
    header.push("incr. effect".into());
    if c.truth.is_some() {
        header.push("truth".into());
    }
    let mut rows = Vec::new();
    for ch in &channels {
        let mut r = vec![ch.clone()];
        for m in &c.models {
            r.push(
                f.pct(
                    m.lines
                        .iter()
                        .find(|l| &l.name == ch)
                        .map_or(0.0, |l| l.share),
                ),
            );
        }
        r.push(
            f.opt_pct(
                c.incremental_effects
                    .iter()
                    .find(|e| &e.name == ch)
                    .map(|e| e.share),
            ),
        );
        if let Some(t) = &c.truth {
            r.push(f.pct(t.iter().find(|x| &x.0 == ch).map_or(0.0, |x| x.1)));
        }
        rows.push(r);
    }
    if let Some(e) = &c.errors_pp {
        let mut r = vec!["error (pp)".to_owned()];
        r.extend(e.iter().map(|x| format!("{:.1}", x.1)));
        r.push(String::new());
        rows.push(r);
    }
    let mut notes = vec![
        "Cells: share of credited conversions. incr. effect: the incremental model's share of expected incremental conversions (what a causal truth measures).".to_owned(),
    ];
    if c.errors_pp.is_some() {
        notes.push(
            "error (pp) = Σ |share - true share| × 100 over channels (0 perfect, 200 worst)."
                .into(),
        );
    }
    Grid {
        title: "Every model side by side".into(),
        header,
        rows,
        notes,
    }
}

/// `touchpoint compare`.
///
/// # Errors
///
/// Reading, model and output errors.
pub fn compare(a: &CompareArgs) -> Result<()> {
    let loaded = input::load(&a.input)?;
    loaded.print_summary(a.input.quiet);
    let c = compare_data(&loaded, &a.model_args, a.truth.as_deref(), 0, a.input.quiet)?;
    emit(
        a.output.format,
        &[compare_grid(&c, Fmt::for_format(a.output.format))],
        &c,
    )
}

/// The `audit` command's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct AuditOut {
    /// What the reader did (records read, rows dropped and why).
    pub read: Vec<String>,
    /// Findings, most severe first.
    pub findings: Vec<audit::Finding>,
}

/// `touchpoint audit`.
///
/// # Errors
///
/// Reading and output errors.
pub fn audit(a: &AuditArgs) -> Result<()> {
    let loaded = input::load(&a.input)?;
    let set = loaded.set()?;
    let findings = audit::audit(&set);
    let res = AuditOut {
        read: loaded.summary.clone(),
        findings,
    };
    let grid = Grid {
        title: format!("Audit of {}", loaded.file),
        header: vec![
            "severity".into(),
            "kind".into(),
            "count".into(),
            "finding".into(),
        ],
        rows: res
            .findings
            .iter()
            .map(|f| {
                vec![
                    format!("{:?}", f.severity).to_lowercase(),
                    f.kind.to_owned(),
                    f.count.to_string(),
                    f.message.clone(),
                ]
            })
            .collect(),
        notes: res.read.iter().map(|r| format!("read: {r}")).collect(),
    };
    emit(a.output.format, &[grid], &res)
}

/// Reads leads and spend and computes the funnel.
///
/// # Errors
///
/// Reading and computation errors.
pub fn funnel_data(leads_file: &str, o: &FunnelOpts, quiet: bool) -> Result<FunnelOut> {
    let bytes = input::read_bytes(leads_file)?;
    let is_csv = leads_file.to_ascii_lowercase().ends_with(".csv");
    let leads = input::leads::read(leads_file, &bytes, is_csv)?;
    let spend = match &o.spend {
        None => None,
        Some(p) => {
            let name = p.display().to_string();
            let is_csv = name.to_ascii_lowercase().ends_with(".csv");
            Some(input::spend::read(
                &name,
                &input::read_bytes(&name)?,
                is_csv,
            )?)
        }
    };
    let margs = ModelArgs {
        order: 1,
        collapse_repeats: false,
        shapley: Default::default(),
        half_life_days: None,
        direct: Vec::new(),
    };
    let f = engine::funnel_report(
        &leads,
        spend.as_ref(),
        &o.sales_channel,
        o.roi_model,
        &margs,
    )?;
    if !quiet {
        eprintln!(
            "{leads_file}: read {} leads; funnel rules: {}",
            f.leads,
            f.rules.join(", ")
        );
    }
    Ok(f)
}

/// The funnel tables.
pub fn funnel_grids(f: &FunnelOut, currency: &str, x: Fmt) -> Vec<Grid> {
    let mut g = vec![Grid {
        title: format!("Funnel ({} leads, cohort view)", f.leads),
        header: vec![
            "stage".into(),
            "reached".into(),
            "from previous".into(),
            "mean days in stage".into(),
            "median days".into(),
        ],
        rows: f
            .stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.clone(),
                    s.count.to_string(),
                    x.opt_pct(s.from_previous),
                    x.opt_days(s.mean_days),
                    x.opt_days(s.median_days),
                ]
            })
            .collect(),
        notes: vec![
            format!(
                "MQL -> SQL acceptance: {} (accepted / decided); rejection reasons: {}",
                opt_pct(f.acceptance_rate),
                if f.rejection_reasons.is_empty() {
                    "none".into()
                } else {
                    f.rejection_reasons
                        .iter()
                        .map(|r| format!("{} {}", r.0, r.1))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            format!(
                "exits: {}",
                f.exits
                    .iter()
                    .map(|e| format!("{} {}", e.0, e.1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "median time to close: {} days",
                opt_days(f.time_to_close_median_days)
            ),
            format!(
                "won revenue {currency} {}: marketing-sourced {}, sales-sourced {} (of which marketing-influenced {})",
                money(f.revenue),
                money(f.marketing_sourced),
                money(f.sales_sourced),
                money(f.marketing_influenced)
            ),
            format!(
                "open pipeline {currency} {}, weighted by learned stage win rates {}",
                money(f.pipeline_open),
                money(f.pipeline_weighted)
            ),
        ],
    }];
    let vrow = |v: &engine::VelocityOut| {
        vec![
            v.key.clone(),
            v.opportunities.to_string(),
            v.won.to_string(),
            x.opt_pct(v.win_rate),
            x.opt_money(v.average_deal),
            x.opt_days(v.average_cycle_days),
            x.opt_money(v.per_day),
        ]
    };
    let mut rows: Vec<Vec<String>> = f.velocity_by_period.iter().map(vrow).collect();
    rows.push(vrow(&f.velocity));
    g.push(Grid {
        title: "Pipeline velocity".into(),
        header: vec!["period".into(), "opps".into(), "won".into(), "win rate".into(), format!("avg deal ({currency})"), "cycle days".into(), format!("per day ({currency})")],
        rows,
        notes: vec!["velocity per day = opportunities × win rate (won / closed) × average deal / average cycle days".into()],
    });
    if !f.roi.is_empty() {
        g.push(Grid {
            title: format!("ROI by channel ({} credit of won revenue)", f.roi_model),
            header: vec!["channel".into(), format!("spend ({currency})"), format!("revenue ({currency})"), "ROI".into(), "ROAS".into(), "per lead".into(), "per MQL".into(), "CAC".into()],
            rows: f
                .roi
                .iter()
                .map(|r| vec![r.name.clone(), x.money(r.spend), x.money(r.revenue), x.opt_pct(r.roi), r.roas.map_or(if x.raw { String::new() } else { "n/a".into() }, |v| if x.raw { format!("{v:.6}") } else { format!("{v:.2}x") }), x.opt_money(r.cost_per_lead), x.opt_money(r.cost_per_mql), x.opt_money(r.cac)])
                .collect(),
            notes: vec!["ROI = (revenue - spend) / spend; n/a where spend (or the count divided by) is zero".into()],
        });
    }
    g
}

/// `touchpoint funnel`.
///
/// # Errors
///
/// Reading, computation and output errors.
pub fn funnel(a: &FunnelArgs) -> Result<()> {
    let f = funnel_data(&a.leads, &a.opts, false)?;
    emit(
        a.output.format,
        &funnel_grids(&f, &a.output.currency, Fmt::for_format(a.output.format)),
        &f,
    )
}

/// `touchpoint simulate`.
///
/// # Errors
///
/// Write errors.
pub fn simulate(a: &SimulateArgs) -> Result<()> {
    use std::io::Write;
    let sim = engine::simulator(a.preset, a.seed);
    let file = a.out.display().to_string();
    let io = |f: &str| {
        let f = f.to_owned();
        move |source| CliError::Io {
            file: f.clone(),
            source,
        }
    };
    let mut w = std::io::BufWriter::new(std::fs::File::create(&a.out).map_err(io(&file))?);
    let mut bar = Progress::new("simulating", a.journeys, false);
    for (i, j) in sim.journeys(a.journeys).enumerate() {
        let line = serde_json::to_string(&j).map_err(|e| CliError::Other(e.to_string()))?;
        writeln!(w, "{line}").map_err(io(&file))?;
        if i % 10_000 == 0 {
            bar.set(i as u64);
        }
    }
    w.flush().map_err(io(&file))?;
    bar.finish();
    let stem = file
        .strip_suffix(".jsonl")
        .or_else(|| file.strip_suffix(".json"))
        .unwrap_or(&file);
    let truth_file = format!("{stem}.truth.json");
    let truth = engine::truth_json(&sim, a.preset, a.seed, a.journeys)?;
    let text = serde_json::to_string_pretty(&truth).map_err(|e| CliError::Other(e.to_string()))?;
    std::fs::write(&truth_file, text + "\n").map_err(io(&truth_file))?;
    eprintln!(
        "{file}: {} journeys of preset {} (seed {}); truth in {truth_file}",
        a.journeys,
        engine::preset_name(a.preset),
        a.seed
    );
    if let Some(l) = &a.leads {
        let lf = l.display().to_string();
        let mut w = std::io::BufWriter::new(std::fs::File::create(l).map_err(io(&lf))?);
        for lead in sim.leads(a.journeys) {
            let line = serde_json::to_string(&lead).map_err(|e| CliError::Other(e.to_string()))?;
            writeln!(w, "{line}").map_err(io(&lf))?;
        }
        w.flush().map_err(io(&lf))?;
        eprintln!("{lf}: {} leads", a.journeys);
    }
    Ok(())
}
