//! Integration tests: funnel and ROI. Known answers computed by hand on a
//! six-lead data set (see `leads()`), and proptest invariants.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use touchpoint::funnel;
use touchpoint::funnel::{
    Backfill, ContentPartial, CycleStart, Cycles, FunnelConfig, FunnelPartial, Lead, OutOfOrder,
    Owner, Period, Ratio, SliceBy, SourceView, SourcesReport, StageProbabilities, Stages, WinRate,
    merge_duplicates, pipeline_velocity, roll_up_accounts,
};
use touchpoint::models::{FirstTouch, Linear};
use touchpoint::roi::{BUDGET_ASSUMPTION, RoiReport, Spend};
use touchpoint::{Error, JourneySet, SimpleJourney, SimpleTouch, attribute};

/// Tolerance for derived floating-point ratios.
const EPS: f64 = 1e-9;

fn d(s: &str) -> DateTime<Utc> {
    format!("2024-{s}T00:00:00Z").parse().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= EPS * (1.0 + b.abs())
}

fn val(r: Ratio) -> f64 {
    r.value().expect("defined ratio")
}

/// Six leads:
/// - A: marketing, $50,000, webinar (ebook) 01-01 and email 01-20;
///   inquiry 01-01, mql 01-05, sal 01-08, sql 01-10, opportunity 01-15, won 03-15.
/// - B: sales, $20,000, sales_call 01-02; inquiry 01-02, sql 01-12 (mql and
///   sal back-populated), opportunity 01-20, closed_lost 02-19 ("price").
/// - C: marketing, paid_search 01-03; inquiry 01-03, mql 01-06,
///   disqualified 01-16 ("student").
/// - D: marketing, $10,000, paid_search (ebook) 01-04; inquiry 01-04,
///   mql 01-09, sal 01-10 (open).
/// - E: sales, $30,000, sales_call 01-05, webinar 01-06; inquiry 01-05,
///   opportunity 01-10, won 02-09.
/// - F: marketing, $40,000, email 01-07; inquiry 01-07, opportunity 02-01 (open).
fn leads() -> Vec<Lead> {
    vec![
        Lead::new("A")
            .with_amount(50_000.0)
            .with_segment("enterprise")
            .touch(
                SimpleTouch::new("webinar", d("01-01"))
                    .content("ebook")
                    .campaign("q1"),
            )
            .touch(SimpleTouch::new("email", d("01-20")))
            .stage("inquiry", d("01-01"))
            .stage("mql", d("01-05"))
            .stage("sal", d("01-08"))
            .stage("sql", d("01-10"))
            .stage("opportunity", d("01-15"))
            .stage("closed_won", d("03-15")),
        Lead::new("B")
            .with_owner(Owner::Sales)
            .with_amount(20_000.0)
            .touch(SimpleTouch::new("sales_call", d("01-02")))
            .stage("inquiry", d("01-02"))
            .stage("sql", d("01-12"))
            .stage("opportunity", d("01-20"))
            .stage_with_reason("closed_lost", d("02-19"), "price"),
        Lead::new("C")
            .touch(SimpleTouch::new("paid_search", d("01-03")))
            .stage("inquiry", d("01-03"))
            .stage("mql", d("01-06"))
            .stage_with_reason("disqualified", d("01-16"), "student"),
        Lead::new("D")
            .with_amount(10_000.0)
            .touch(SimpleTouch::new("paid_search", d("01-04")).content("ebook"))
            .stage("inquiry", d("01-04"))
            .stage("mql", d("01-09"))
            .stage("sal", d("01-10")),
        Lead::new("E")
            .with_owner(Owner::Sales)
            .with_amount(30_000.0)
            .touch(SimpleTouch::new("sales_call", d("01-05")))
            .touch(SimpleTouch::new("webinar", d("01-06")))
            .stage("inquiry", d("01-05"))
            .stage("opportunity", d("01-10"))
            .stage("closed_won", d("02-09")),
        Lead::new("F")
            .with_amount(40_000.0)
            .touch(SimpleTouch::new("email", d("01-07")))
            .stage("inquiry", d("01-07"))
            .stage("opportunity", d("02-01")),
    ]
}

fn cfg() -> FunnelConfig {
    FunnelConfig::default().with_sales_channels(["sales_call"])
}

#[test]
fn counts_and_cohort_conversions() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let t = m.total();
    let counts: Vec<u64> = t.stage_counts().iter().map(|c| c.count).collect();
    assert_eq!(counts, vec![6, 6, 5, 4, 4, 2]);
    let rates: Vec<f64> = t.cohort_conversions().iter().map(|c| val(c.rate)).collect();
    let want = [1.0, 5.0 / 6.0, 4.0 / 5.0, 1.0, 0.5];
    for (r, w) in rates.iter().zip(want) {
        assert!(close(*r, w), "{rates:?}");
    }
    assert!(close(
        val(t.cohort_rate("inquiry", "closed_won").unwrap()),
        2.0 / 6.0
    ));
    let exits: Vec<u64> = t.exit_counts().iter().map(|c| c.count).collect();
    assert_eq!(exits, vec![1, 1, 0]);
    // B: mql, sal; E: mql, sal, sql; F: mql, sal, sql
    assert_eq!(m.rules().backfilled, 8);
    assert_eq!(m.rules().leads, 6);
    assert_eq!(m.rules().records, 6);
    assert!(matches!(
        t.reached("nope"),
        Err(Error::UnknownName { kind: "stage", .. })
    ));
}

#[test]
fn entered_only_counts() {
    let m = funnel::fit(&leads(), cfg().with_backfill(Backfill::EnteredOnly)).unwrap();
    let counts: Vec<u64> = m.total().stage_counts().iter().map(|c| c.count).collect();
    assert_eq!(counts, vec![6, 3, 2, 2, 4, 2]);
    assert_eq!(m.rules().backfilled, 0);
}

#[test]
fn period_view() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let p = m.total().period_conversions();
    let labels: Vec<&str> = p.iter().map(|x| x.period.as_str()).collect();
    assert_eq!(labels, vec!["2024-01", "2024-02", "2024-03"]);
    let jan: Vec<u64> = p[0].entries.iter().map(|c| c.count).collect();
    // mql: A, B(bf 01-12), C, D, E(bf 01-10); F's back-populated mql is 02-01
    assert_eq!(jan, vec![6, 5, 4, 3, 3, 0]);
    assert!(close(val(p[0].conversions[0].rate), 5.0 / 6.0));
    let feb: Vec<u64> = p[1].entries.iter().map(|c| c.count).collect();
    assert_eq!(feb, vec![0, 1, 1, 1, 1, 1]);
    assert_eq!(p[0].conversions[0].rate, Ratio::Defined(5.0 / 6.0));
    assert_eq!(p[1].conversions[0].rate, Ratio::Undefined); // no inquiry in February
    let mar: Vec<u64> = p[2].entries.iter().map(|c| c.count).collect();
    assert_eq!(mar, vec![0, 0, 0, 0, 0, 1]);
}

#[test]
fn acceptance_with_reasons() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let a = m.total().acceptance();
    assert_eq!((a.mqls, a.accepted, a.rejected, a.pending), (6, 4, 1, 1));
    assert!(close(val(a.rate), 4.0 / 6.0));
    assert_eq!(a.reasons, vec![("student".to_owned(), 1)]);
}

#[test]
fn time_in_stage_and_to_close() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let t = m.total();
    // mql: A 3 days, B 0, C 10 (to disqualified), D 1, E 0, F 0
    let s = t.time_in_stage("mql").unwrap();
    assert_eq!(s.count, 6);
    assert!(close(s.mean_days.unwrap(), 14.0 / 6.0));
    assert_eq!(s.median_days, Some(0.0));
    assert_eq!(s.p90_days, Some(10.0));
    assert_eq!(s.total_ms, 14 * 86_400_000);
    // close: A 74 days (won), B 48 (lost), E 35 (won)
    let c = t.time_to_close();
    assert_eq!(c.count, 3);
    assert!(close(c.mean_days.unwrap(), 157.0 / 3.0));
    assert_eq!(c.median_days, Some(48.0));
    assert_eq!(c.p90_days, Some(74.0));
    // sales cycle from the opportunity: A 60, E 30
    let sc = t.sales_cycle();
    assert_eq!((sc.count, sc.mean_days), (2, Some(45.0)));
    let m2 = funnel::fit(&leads(), cfg().with_cycle_start(CycleStart::Created)).unwrap();
    assert_eq!(
        m2.total().sales_cycle().mean_days,
        Some((74.0 + 35.0) / 2.0)
    );
    // won stage has no time in stage; nothing left inquiry... all 6 did
    assert_eq!(t.time_in_stage("closed_won").unwrap().count, 0);
    assert_eq!(t.time_in_stage("inquiry").unwrap().count, 6);
}

#[test]
fn velocity_known_answers() {
    let v = pipeline_velocity(100.0, 0.25, 50_000.0, 60.0).unwrap();
    assert_eq!(format!("{v:.2}"), "20833.33");
    assert!(pipeline_velocity(1.0, 1.5, 1.0, 1.0).is_err());
    assert!(pipeline_velocity(1.0, 0.5, 1.0, 0.0).is_err());
    assert!(pipeline_velocity(f64::NAN, 0.5, 1.0, 1.0).is_err());

    let m = funnel::fit(&leads(), cfg()).unwrap();
    let v = m.total().velocity(WinRate::WonOverClosed);
    assert_eq!((v.opportunities, v.won, v.lost), (4, 2, 1));
    assert!(close(val(v.win_rate), 2.0 / 3.0));
    assert_eq!(v.average_deal, Ratio::Defined(40_000.0));
    assert_eq!(v.average_cycle_days, Ratio::Defined(45.0));
    assert!(close(val(v.per_day), 4.0 * (2.0 / 3.0) * 40_000.0 / 45.0));
    let v = m.total().velocity(WinRate::WonOverAll);
    assert_eq!(v.win_rate, Ratio::Defined(0.5));
    assert!(close(val(v.per_day), 4.0 * 0.5 * 40_000.0 / 45.0));
}

#[test]
fn velocity_known_answer_from_leads() {
    // 100 opportunities, 25 won at $50,000 after 60 days, 75 lost.
    let mut ls = Vec::new();
    for i in 0..100 {
        let l = Lead::new(format!("l{i}"))
            .with_amount(50_000.0)
            .stage("opportunity", d("01-01"));
        ls.push(if i < 25 {
            l.stage("closed_won", d("03-01")) // 60 days (leap year)
        } else {
            l.stage("closed_lost", d("02-01"))
        });
    }
    let v = funnel::fit(&ls, cfg())
        .unwrap()
        .total()
        .velocity(WinRate::WonOverClosed);
    assert_eq!(format!("{:.2}", v.per_day), "20833.33");
}

#[test]
fn pipeline_open_and_weighted() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let p = m.total().pipeline(&StageProbabilities::Learned).unwrap();
    let sal = &p.stages[2];
    assert_eq!((sal.count, sal.amount_minor), (1, 1_000_000));
    // closed records that reached sal: A, B, E; won: A, E
    assert!(close(val(sal.probability), 2.0 / 3.0));
    let opp = &p.stages[4];
    assert_eq!((opp.count, opp.amount_minor), (1, 4_000_000));
    assert!(close(val(opp.probability), 2.0 / 3.0));
    assert_eq!(p.open_minor, 5_000_000);
    assert!(close(p.weighted, 50_000.0 * 2.0 / 3.0));
    let given = StageProbabilities::Given(vec![("sal".into(), 0.2), ("opportunity".into(), 0.5)]);
    let p = m.total().pipeline(&given).unwrap();
    assert!(close(p.weighted, 2_000.0 + 20_000.0));
    assert_eq!(p.unweighted_minor, 0);
    let bad = StageProbabilities::Given(vec![("sal".into(), 1.5)]);
    assert!(matches!(
        m.total().pipeline(&bad),
        Err(Error::InvalidParameter { .. })
    ));
    let unknown = StageProbabilities::Given(vec![("nope".into(), 0.5)]);
    assert!(matches!(
        m.total().pipeline(&unknown),
        Err(Error::UnknownName { .. })
    ));
}

#[test]
fn revenue_sourced_and_influenced() {
    let m = funnel::fit(&leads(), cfg()).unwrap();
    let r = m.total().revenue();
    assert_eq!((r.won, r.revenue_minor), (2, 8_000_000));
    assert_eq!(
        (r.marketing_sourced_won, r.marketing_sourced_minor),
        (1, 5_000_000)
    );
    assert_eq!((r.sales_sourced_won, r.sales_sourced_minor), (1, 3_000_000));
    // E is sales-sourced, with a webinar touch before its opportunity
    assert_eq!((r.influenced_won, r.influenced_minor), (2, 8_000_000));
    assert_eq!(r.influenced_sales_sourced_minor, 3_000_000);
    assert_eq!(r.marketing_share(), Ratio::Defined(0.625));
    assert_eq!(r.marketing_touched_share(), Ratio::Defined(1.0));
    // with webinar counted as a sales channel, E is not influenced
    let m = funnel::fit(
        &leads(),
        cfg().with_sales_channels(["sales_call", "webinar"]),
    )
    .unwrap();
    let r = m.total().revenue();
    // A still has email 01-20 ... after its opportunity (01-15): not influenced
    assert_eq!((r.influenced_won, r.influenced_minor), (0, 0));
}

#[test]
fn lead_to_revenue_by_source() {
    let m = funnel::fit(&leads(), cfg().slice_by(SliceBy::Channel)).unwrap();
    let keys: Vec<&str> = m.slices().iter().map(|s| s.key()).collect();
    assert_eq!(keys, vec!["email", "paid_search", "sales_call", "webinar"]);
    let w = m.slice("webinar").unwrap().lead_to_revenue();
    assert_eq!(
        (w.leads, w.mqls, w.won, w.revenue_minor),
        (1, 1, 1, 5_000_000)
    );
    assert_eq!(w.revenue_per_mql, Ratio::Defined(50_000.0));
    let s = m.slice("sales_call").unwrap().lead_to_revenue();
    assert_eq!((s.leads, s.won, s.revenue_minor), (2, 1, 3_000_000));
    assert_eq!(s.revenue_per_lead, Ratio::Defined(15_000.0));
    let t = m.total().lead_to_revenue();
    assert_eq!((t.leads, t.mqls, t.won), (6, 6, 2));
    assert!(close(val(t.revenue_per_lead), 80_000.0 / 6.0));
    assert!(close(val(t.lead_to_win), 2.0 / 6.0));
    // other dimensions
    let seg = funnel::fit(&leads(), cfg().slice_by(SliceBy::Segment)).unwrap();
    assert_eq!(seg.slice("enterprise").unwrap().records(), 1);
    assert_eq!(seg.slice("(none)").unwrap().records(), 5);
    let own = funnel::fit(&leads(), cfg().slice_by(SliceBy::Owner)).unwrap();
    assert_eq!(own.slice("sales").unwrap().records(), 2);
    let camp = funnel::fit(&leads(), cfg().slice_by(SliceBy::Campaign)).unwrap();
    assert_eq!(camp.slice("q1").unwrap().revenue().revenue_minor, 5_000_000);
    let cont = funnel::fit(&leads(), cfg().slice_by(SliceBy::Content)).unwrap();
    assert_eq!(cont.slice("ebook").unwrap().records(), 2); // A's and D's first touches
    let per = funnel::fit(
        &leads(),
        cfg().slice_by(SliceBy::Period).with_period(Period::Quarter),
    )
    .unwrap();
    assert_eq!(per.slice("2024-Q1").unwrap().records(), 6);
}

#[test]
fn content_performance_under_models() {
    let mut p = ContentPartial::new(&Linear, cfg());
    for l in leads() {
        p.observe(&Linear, &l).unwrap();
    }
    let r = p.finish();
    let ebook = r.line("ebook").unwrap();
    // A (webinar ebook before mql 01-05) and D (paid_search ebook before mql 01-09)
    assert_eq!(ebook.mqls, 2);
    assert_eq!((r.mqls, r.mqls_without_content), (6, 4));
    // A's opportunity: webinar(ebook) + email? email is 01-20, after 01-15: ebook gets 1
    assert_eq!(ebook.opportunity_units, 1_000_000_000);
    assert_eq!(r.opportunities, 4);
    // A's win: ebook and email share $50,000 under linear
    assert_eq!(ebook.revenue_minor, 2_500_000);
    assert_eq!(r.revenue_minor, 8_000_000);
    assert_eq!(r.unassigned_revenue_minor, 5_500_000);
    let mut f = ContentPartial::new(&FirstTouch, cfg());
    for l in leads() {
        f.observe(&FirstTouch, &l).unwrap();
    }
    assert_eq!(f.finish().line("ebook").unwrap().revenue_minor, 5_000_000);
    // a model that is not the partial's is refused
    assert!(matches!(
        f.observe(&Linear, &leads()[0]),
        Err(Error::IncompatiblePartials { .. })
    ));
}

#[test]
fn sources_report_and_what_if() {
    let r = SourcesReport::new(&[("organic", 100), ("social", 200)], &[("organic", 16)]).unwrap();
    let w = r.what_if("organic", 50).unwrap();
    assert_eq!(w.rate, Ratio::Defined(0.16));
    assert_eq!(w.expected_contacts, Ratio::Defined(8.0));
    assert_eq!(
        r.what_if("social", 50).unwrap().expected_contacts,
        Ratio::Defined(0.0)
    );
    assert!(matches!(
        r.what_if("tv", 50),
        Err(Error::UnknownName { .. })
    ));
    let m = funnel::fit(&leads(), cfg().slice_by(SliceBy::Channel)).unwrap();
    let r = SourcesReport::from_funnel(&[("paid_search", 40), ("email", 10)], &m).unwrap();
    assert_eq!(
        r.what_if("paid_search", 20).unwrap().expected_contacts,
        Ratio::Defined(1.0)
    );
    // webinar has contacts but no sessions: rate undefined
    assert_eq!(
        r.what_if("webinar", 20).unwrap().expected_contacts,
        Ratio::Undefined
    );
    let total = funnel::fit(&leads(), cfg()).unwrap();
    assert!(SourcesReport::from_funnel(&[], &total).is_err());
    assert!(SourcesReport::new(&[("a", 1), ("a", 2)], &[]).is_err());
}

/// The won leads as journeys (touches up to the win, value = amount).
fn journeys(ls: &[Lead]) -> JourneySet {
    let js: Vec<SimpleJourney> = ls
        .iter()
        .map(|l| {
            let won = l.entries().iter().any(|e| e.stage == "closed_won");
            let mut j = SimpleJourney::new(l.id());
            j.touchpoints = l.touches().to_vec();
            if won {
                j = j.converted(l.amount().unwrap_or(0.0));
            }
            j
        })
        .collect();
    JourneySet::from_journeys(&js).unwrap()
}

#[test]
fn roi_known_answers() {
    let ls = leads();
    let report = attribute(&FirstTouch, &journeys(&ls)).unwrap();
    let m = funnel::fit(&ls, cfg().slice_by(SliceBy::Channel)).unwrap();
    let mut spend = Spend::new();
    spend.add("webinar", Some("q1"), "2024-01", 600.0).unwrap();
    spend.add("webinar", Some("q1"), "2024-02", 400.0).unwrap();
    spend.add("paid_search", None, "2024-01", 2000.0).unwrap();
    spend.add("email", None, "2024-01", 500.0).unwrap();
    let roi = RoiReport::by_channel(&report, &spend, Some(&m)).unwrap();
    assert_eq!(roi.model(), "first_touch");
    let w = roi.line("webinar").unwrap();
    assert_eq!((w.spend_minor, w.revenue_minor), (100_000, 5_000_000));
    assert_eq!(w.roi, Ratio::Defined(49.0));
    assert_eq!(w.roas, Ratio::Defined(50.0));
    assert_eq!(w.cost_per_lead, Ratio::Defined(1000.0));
    assert_eq!(w.cost_per_mql, Ratio::Defined(1000.0));
    assert_eq!(w.cost_per_sql, Ratio::Defined(1000.0));
    assert_eq!(w.cost_per_opportunity, Ratio::Defined(1000.0));
    assert_eq!(w.cac, Ratio::Defined(1000.0));
    let p = roi.line("paid_search").unwrap();
    assert_eq!(p.roi, Ratio::Defined(-1.0));
    assert_eq!(p.roas, Ratio::Defined(0.0));
    assert_eq!(p.cost_per_lead, Ratio::Defined(1000.0));
    assert_eq!(p.cost_per_mql, Ratio::Defined(1000.0));
    assert_eq!(p.cost_per_sql, Ratio::Undefined);
    assert_eq!(p.cac, Ratio::Undefined);
    let s = roi.line("sales_call").unwrap();
    assert_eq!(s.spend_minor, 0);
    assert_eq!((s.roi, s.roas), (Ratio::Undefined, Ratio::Undefined));
    let t = roi.total();
    assert_eq!((t.spend_minor, t.revenue_minor), (350_000, 8_000_000));
    assert!(close(val(t.roi), (80_000.0 - 3_500.0) / 3_500.0));
    assert_eq!(t.cac, Ratio::Defined(1750.0));
    // one period only
    let jan = RoiReport::by_channel(&report, &spend.for_period("2024-01"), None).unwrap();
    assert_eq!(
        jan.line("webinar").unwrap().roi,
        Ratio::Defined((50_000.0 - 600.0) / 600.0)
    );
    // by campaign
    let camp = RoiReport::by_campaign(&report, &spend, None).unwrap();
    assert_eq!(camp.line("q1").unwrap().roas, Ratio::Defined(50.0));
    // funnel sliced the wrong way is refused
    let total = funnel::fit(&ls, cfg()).unwrap();
    assert!(RoiReport::by_channel(&report, &spend, Some(&total)).is_err());
    // budget scenario: paid_search converts nothing, webinar 1 per $1,000
    let b = roi.move_spend("paid_search", "webinar", 500.0).unwrap();
    assert_eq!(b.amount_minor, 50_000);
    assert!(close(b.from_conversions, 0.0));
    assert!(close(b.to_conversions, 0.5));
    assert!(close(b.revenue_change, 25_000.0));
    assert_eq!(b.assumption, BUDGET_ASSUMPTION);
    assert!(roi.move_spend("paid_search", "webinar", 5_000.0).is_err());
    assert!(roi.move_spend("webinar", "sales_call", 1.0).is_err());
    assert!(roi.move_spend("webinar", "tv", 1.0).is_err());
    assert!(roi.move_spend("webinar", "email", f64::NAN).is_err());
}

#[test]
fn spend_is_validated() {
    let mut s = Spend::new();
    for bad in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
        assert!(matches!(
            s.add("x", None, "p", bad),
            Err(Error::InvalidParameter { .. })
        ));
    }
    assert!(s.add("", None, "p", 1.0).is_err());
    assert_eq!(s.total_minor(), 0);
}

#[test]
fn cycles_both_views() {
    let g = Lead::new("G")
        .touch(SimpleTouch::new("ppc", d("01-01")))
        .touch(SimpleTouch::new("email", d("03-01")))
        .stage("inquiry", d("01-01"))
        .stage("mql", d("01-05"))
        .stage_with_reason("recycled", d("01-20"), "no budget")
        .stage("mql", d("03-02"))
        .stage("sql", d("03-10"));
    // lifetime: one record, the repeat MQL dropped, the recycle superseded
    let m = funnel::fit([&g], cfg()).unwrap();
    assert_eq!(m.rules().records, 1);
    assert_eq!(m.rules().duplicates_dropped, 1);
    assert_eq!(m.rules().superseded_exits, 1);
    assert_eq!(m.total().reached("sql").unwrap(), 1);
    // cycle view: two records; the comeback's source is email, original ppc
    let cyc = cfg().with_cycles(Cycles::Sla { days: 30 }).unwrap();
    let m = funnel::fit([&g], cyc.clone().slice_by(SliceBy::Channel)).unwrap();
    assert_eq!((m.rules().records, m.rules().cycles_split), (2, 1));
    assert_eq!(m.slice("ppc").unwrap().records(), 2);
    let m = funnel::fit(
        [&g],
        cyc.clone()
            .slice_by(SliceBy::Channel)
            .with_source(SourceView::CycleFirstTouch),
    )
    .unwrap();
    assert_eq!(m.slice("ppc").unwrap().records(), 1);
    assert_eq!(m.slice("email").unwrap().records(), 1);
    let t = m.total();
    assert_eq!(t.reached("mql").unwrap(), 2);
    assert_eq!(t.reached("inquiry").unwrap(), 2); // back-populated in cycle 2
    let a = t.acceptance();
    assert_eq!((a.mqls, a.accepted), (2, 1));
    assert_eq!(a.reasons, vec![("no budget".to_owned(), 1)]);
    // a comeback at a lower stage never reached before (sal) is folded
    // into the lifetime record, even under the strict out-of-order rule
    let k = Lead::new("K")
        .stage("inquiry", d("01-01"))
        .stage("sql", d("01-05"))
        .stage("recycled", d("01-20"))
        .stage("sal", d("03-01"))
        .stage("opportunity", d("03-05"));
    let strict = cfg().with_out_of_order(OutOfOrder::Reject);
    let m = funnel::fit([&k], strict.clone()).unwrap();
    let r = m.rules();
    assert_eq!(
        (r.superseded_exits, r.comeback_entries_folded, r.reordered),
        (1, 1, 0)
    );
    assert_eq!(m.total().reached("opportunity").unwrap(), 1);
    assert_eq!(m.total().reached("sal").unwrap(), 1);
    let m = funnel::fit([&k], strict.with_cycles(Cycles::Sla { days: 30 }).unwrap()).unwrap();
    assert_eq!(
        (m.rules().records, m.rules().comeback_entries_folded),
        (2, 0)
    );
    // SLA gap: no progress for 60 days starts a new cycle
    let h = Lead::new("H")
        .stage("inquiry", d("01-01"))
        .stage("mql", d("03-01"));
    let m = funnel::fit([&h], cyc.clone()).unwrap();
    assert_eq!(m.rules().records, 2);
    assert_eq!(m.rules().records_without_touch, 2);
    // stalled as of a date
    let s = Lead::new("S").stage("mql", d("01-05"));
    let m = funnel::fit([&s], cyc.clone().as_of(d("06-01"))).unwrap();
    assert_eq!((m.rules().stalled, m.total().stalled()), (1, 1));
    assert_eq!(
        m.total().acceptance().reasons,
        vec![("(stalled)".to_owned(), 1)]
    );
    let m = funnel::fit([&s], cyc.clone().as_of(d("01-20"))).unwrap();
    assert_eq!(m.rules().stalled, 0);
    // an opportunity is not subject to the lead SLA: 60 quiet days, one cycle
    let o = Lead::new("O")
        .stage("opportunity", d("01-05"))
        .stage("closed_won", d("03-05"));
    let m = funnel::fit(
        [&o, &Lead::new("P").stage("opportunity", d("01-05"))],
        cyc.as_of(d("06-01")),
    )
    .unwrap();
    assert_eq!((m.rules().records, m.rules().stalled), (2, 0));
    assert_eq!(m.total().revenue().won, 1);
    assert!(cfg().with_cycles(Cycles::Sla { days: 0 }).is_err());
}

#[test]
fn rules_for_bad_entries() {
    // SQL dated before MQL: MQL re-dated to the SQL date
    let l = Lead::new("x")
        .stage("mql", d("01-10"))
        .stage("sql", d("01-05"))
        .stage("sql", d("01-07"));
    let m = funnel::fit([&l], cfg()).unwrap();
    assert_eq!(m.rules().reordered, 1);
    assert_eq!(m.rules().duplicates_dropped, 1);
    assert_eq!(m.total().time_in_stage("mql").unwrap().total_ms, 0);
    let strict = cfg().with_out_of_order(OutOfOrder::Reject);
    assert!(matches!(
        funnel::fit([&l], strict),
        Err(Error::InvalidLead { .. })
    ));
    let u = Lead::new("u").stage("mystery", d("01-01"));
    let e = funnel::fit([&u], cfg()).unwrap_err();
    assert!(matches!(&e, Error::InvalidLead { lead, .. } if lead == "u"));
    // the message names the stage and lists the valid ones
    assert_eq!(
        e.to_string(),
        "lead \"u\": unknown stage \"mystery\" (valid stages: inquiry, mql, sal, sql, opportunity, closed_won; exits: closed_lost, disqualified, recycled)"
    );
    // one spelling: MQL is not mql
    let upper = Lead::new("v").stage("MQL", d("01-01"));
    assert!(matches!(
        funnel::fit([&upper], cfg()),
        Err(Error::InvalidLead { .. })
    ));
    let a = Lead::new("a")
        .with_amount(f64::NAN)
        .stage("mql", d("01-01"));
    assert!(matches!(
        funnel::fit([&a], cfg()),
        Err(Error::InvalidLead { .. })
    ));
    // exits without a stage, after the win; leads without entries
    let e = Lead::new("e")
        .stage("disqualified", d("01-01"))
        .stage("closed_won", d("01-02"))
        .stage("closed_lost", d("01-03"));
    let n = Lead::new("n");
    let m = funnel::fit([&e, &n], cfg()).unwrap();
    let r = m.rules();
    assert_eq!((r.exits_without_stage, r.exits_after_close), (1, 1));
    assert_eq!((r.leads, r.leads_without_entries, r.records), (2, 1, 1));
    assert_eq!(r.won_without_amount, 1);
    // a failed observe leaves the partial unchanged
    let mut p = FunnelPartial::new(cfg());
    p.observe(&leads()[0]).unwrap();
    let before = p.finish();
    assert!(p.observe(&u).is_err());
    assert_eq!(p.finish(), before);
}

#[test]
fn lead_serde_sorts_touches() {
    let json = r#"{"id":"x","owner":"sales","touches":[
        {"channel":"b","ts":"2024-02-01T00:00:00Z"},
        {"channel":"a","ts":"2024-01-01T00:00:00Z"}],
        "entries":[{"stage":"mql","at":"2024-02-02T00:00:00Z"}]}"#;
    let l: Lead = serde_json::from_str(json).unwrap();
    assert_eq!(l.original_source().unwrap().channel, "a");
    assert_eq!(l.owner(), Owner::Sales);
    let back: Lead = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
    assert_eq!(back, l);
}

#[test]
fn custom_stages() {
    let st = Stages::new(&["lead", "mql", "sql", "opp", "won"], &["lost"])
        .unwrap()
        .with_roles("mql", "sql", "opp")
        .unwrap();
    let l = Lead::new("a")
        .with_amount(10.0)
        .stage("opp", d("01-01"))
        .stage("won", d("01-11"));
    let m = funnel::fit([&l], cfg().with_stages(st)).unwrap();
    assert_eq!(m.total().reached("lead").unwrap(), 1);
    assert_eq!(
        m.total()
            .velocity(WinRate::WonOverClosed)
            .average_cycle_days,
        Ratio::Defined(10.0)
    );
    assert!(Stages::new(&["a", "a"], &[]).is_err());
    assert!(
        Stages::default()
            .with_roles("sql", "mql", "opportunity")
            .is_err()
    );
}

#[test]
fn duplicates_and_accounts_count_once() {
    let t = d("01-02");
    let a = Lead::new("ann@x.com")
        .with_amount(100.0)
        .touch(SimpleTouch::new("email", t))
        .stage("mql", t)
        .stage("closed_won", d("02-01"));
    let b = Lead::new("ann@x.co")
        .with_amount(100.0)
        .touch(SimpleTouch::new("email", t))
        .touch(SimpleTouch::new("webinar", d("01-03")))
        .stage("mql", d("01-03"));
    let (merged, c) =
        merge_duplicates(vec![a.clone(), b.clone()], &[("ann@x.co", "ann@x.com")]).unwrap();
    assert_eq!(
        (c.input, c.output, c.merged, c.identical_touches_dropped),
        (2, 1, 1, 1)
    );
    assert_eq!(merged[0].touches().len(), 2);
    let m = funnel::fit(&merged, cfg()).unwrap();
    assert_eq!(m.total().reached("mql").unwrap(), 1);
    assert_eq!(m.total().revenue().revenue_minor, 10_000);
    assert_eq!(m.rules().duplicates_dropped, 1);
    assert!(merge_duplicates(vec![], &[("a", "b"), ("b", "a")]).is_err());
    let (accts, c) = roll_up_accounts(vec![
        a.with_account("acme"),
        b.with_account("acme"),
        Lead::new("solo").stage("inquiry", t),
    ]);
    assert_eq!(accts.len(), 2);
    assert_eq!((c.merged, c.without_account), (1, 1));
    let m = funnel::fit(&accts, cfg()).unwrap();
    assert_eq!(m.total().revenue().revenue_minor, 10_000);
}

#[test]
fn partial_serde_round_trip_and_config_check() {
    let ls = leads();
    let mut p = FunnelPartial::new(cfg().slice_by(SliceBy::Channel));
    for l in &ls {
        p.observe(l).unwrap();
    }
    let json = serde_json::to_string(&p).unwrap();
    let back: FunnelPartial = serde_json::from_str(&json).unwrap();
    assert_eq!(back.finish(), p.finish());
    assert!(p.size_bytes() > 0);
    // a tampered partial is refused on deserialization, not a panic later
    let bad = json.replacen("\"version\":1", "\"version\":9", 1);
    assert!(serde_json::from_str::<FunnelPartial>(&bad).is_err());
    let bad = json.replacen("\"mql\":1", "\"mql\":40", 1);
    assert!(serde_json::from_str::<FunnelPartial>(&bad).is_err());
    let other = FunnelPartial::new(cfg());
    assert!(matches!(
        p.merge(&other),
        Err(Error::IncompatiblePartials { .. })
    ));
    let mut c1 = ContentPartial::new(&Linear, cfg());
    let mut c2 = ContentPartial::new(&Linear, cfg());
    for (i, l) in ls.iter().enumerate() {
        if i % 2 == 0 {
            c1.observe(&Linear, l)
        } else {
            c2.observe(&Linear, l)
        }
        .unwrap();
    }
    let json = serde_json::to_string(&c2).unwrap();
    let c2b: ContentPartial = serde_json::from_str(&json).unwrap();
    c1.merge(&c2b).unwrap();
    let mut all = ContentPartial::new(&Linear, cfg());
    for l in &ls {
        all.observe(&Linear, l).unwrap();
    }
    assert_eq!(c1.finish(), all.finish());
}

// ------------------------------------------------------------- proptest

const STAGES: [&str; 6] = ["inquiry", "mql", "sal", "sql", "opportunity", "closed_won"];
const EXITS: [&str; 3] = ["closed_lost", "disqualified", "recycled"];
const CHANNELS: [&str; 4] = ["search", "email", "webinar", "sales_call"];

prop_compose! {
    fn arb_lead(i: usize)(
        stages in proptest::collection::vec((0usize..6, 0i64..120), 0..6),
        exit in proptest::option::of((0usize..3, 0i64..150)),
        touches in proptest::collection::vec((0usize..4, 0i64..150), 0..4),
        sales in any::<bool>(),
        amount in proptest::option::of(0u32..100_000),
    ) -> Lead {
        let base: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        let day = |n: i64| base + chrono::Duration::days(n);
        let mut l = Lead::new(format!("l{i}"))
            .with_owner(if sales { Owner::Sales } else { Owner::Marketing });
        if let Some(a) = amount {
            l = l.with_amount(f64::from(a));
        }
        for (s, t) in stages {
            l = l.stage(STAGES[s], day(t));
        }
        if let Some((x, t)) = exit {
            l = l.stage_with_reason(EXITS[x], day(t), format!("r{x}"));
        }
        for (c, t) in touches {
            l = l.touch(SimpleTouch::new(CHANNELS[c], day(t)));
        }
        l
    }
}

fn arb_leads() -> impl Strategy<Value = Vec<Lead>> {
    (0usize..25).prop_flat_map(|n| (0..n).map(arb_lead).collect::<Vec<_>>())
}

fn arb_config() -> impl Strategy<Value = FunnelConfig> {
    (0usize..3, 0usize..4, any::<bool>()).prop_map(|(cyc, slice, original)| {
        let c = cfg()
            .slice_by(
                [
                    SliceBy::Total,
                    SliceBy::Channel,
                    SliceBy::Owner,
                    SliceBy::Period,
                ][slice],
            )
            .with_source(if original {
                SourceView::Original
            } else {
                SourceView::CycleFirstTouch
            });
        match cyc {
            0 => c,
            1 => c.with_cycles(Cycles::Sla { days: 30 }).unwrap(),
            _ => c
                .with_cycles(Cycles::Sla { days: 20 })
                .unwrap()
                .as_of("2024-06-01T00:00:00Z".parse().unwrap()),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cohort_counts_never_increase(ls in arb_leads(), c in arb_config()) {
        let m = funnel::fit(&ls, c).unwrap();
        for s in m.slices().iter().chain([m.total()]) {
            let counts: Vec<u64> = s.stage_counts().iter().map(|c| c.count).collect();
            prop_assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
            prop_assert!(counts[0] <= s.records());
            let a = s.acceptance();
            prop_assert_eq!(a.accepted + a.rejected + a.pending, a.mqls);
        }
    }

    #[test]
    fn sourced_adds_up_to_won(ls in arb_leads(), c in arb_config()) {
        let m = funnel::fit(&ls, c).unwrap();
        for s in m.slices().iter().chain([m.total()]) {
            let r = s.revenue();
            prop_assert_eq!(r.marketing_sourced_won + r.sales_sourced_won, r.won);
            prop_assert_eq!(r.marketing_sourced_minor + r.sales_sourced_minor, r.revenue_minor);
            prop_assert!(r.influenced_minor <= r.revenue_minor);
            let v = s.velocity(WinRate::WonOverClosed);
            prop_assert!(v.won + v.lost <= v.opportunities);
        }
        // slices add up to the total
        let recs: u64 = m.slices().iter().map(|s| s.records()).sum();
        prop_assert_eq!(recs, m.total().records());
        prop_assert_eq!(m.rules().records, m.total().records());
    }

    #[test]
    fn merging_disjoint_sets_gives_the_sums(ls in arb_leads(), c in arb_config(), cut in 0usize..25) {
        let cut = cut.min(ls.len());
        let mut one = FunnelPartial::new(c.clone());
        let mut left = FunnelPartial::new(c.clone());
        let mut right = FunnelPartial::new(c);
        for (i, l) in ls.iter().enumerate() {
            one.observe(l).unwrap();
            if i < cut { left.observe(l).unwrap() } else { right.observe(l).unwrap() }
        }
        let right: FunnelPartial = serde_json::from_str(&serde_json::to_string(&right).unwrap()).unwrap();
        let mut rl = right.clone();
        left.merge(&right).unwrap();
        rl.merge(&left_only(&ls[..cut], one.config())).unwrap();
        let (a, b, c) = (one.finish(), left.finish(), rl.finish());
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn roi_consistent_with_revenue_and_spend(
        ls in arb_leads(),
        spends in proptest::collection::vec(0u32..10_000, 4),
    ) {
        let report = attribute(&Linear, &journeys(&ls)).unwrap();
        let mut spend = Spend::new();
        for (c, s) in CHANNELS.iter().zip(&spends) {
            spend.add(c, None, "2024-01", f64::from(*s)).unwrap();
        }
        let roi = RoiReport::by_channel(&report, &spend, None).unwrap();
        let mut rev = 0i128;
        for l in roi.lines() {
            rev += l.revenue_minor;
            let (s, r) = (l.spend_minor as f64, l.revenue_minor as f64);
            match l.roi {
                Ratio::Defined(x) => {
                    prop_assert!(s > 0.0);
                    prop_assert!((x * s + s - r).abs() <= 1e-6 * (1.0 + r));
                    prop_assert!(close(val(l.roas) - 1.0, x));
                }
                Ratio::Undefined => prop_assert_eq!(l.spend_minor, 0),
            }
        }
        prop_assert_eq!(rev + report.channels().unassigned().value_minor(), report.value_minor());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn content_partials_merge_exactly(ls in arb_leads(), cut in 0usize..25) {
        let cut = cut.min(ls.len());
        let mut one = ContentPartial::new(&Linear, cfg());
        let mut left = ContentPartial::new(&Linear, cfg());
        let mut right = ContentPartial::new(&Linear, cfg());
        for (i, l) in ls.iter().enumerate() {
            one.observe(&Linear, l).unwrap();
            if i < cut { left.observe(&Linear, l).unwrap() } else { right.observe(&Linear, l).unwrap() }
        }
        right.merge(&left).unwrap();
        let (a, b) = (one.finish(), right.finish());
        prop_assert_eq!(&a, &b);
        let credited: i128 = a.lines.iter().map(|l| l.revenue_minor).sum::<i128>() + a.unassigned_revenue_minor;
        prop_assert_eq!(credited, a.revenue_minor);
    }
}

fn left_only(ls: &[Lead], c: &FunnelConfig) -> FunnelPartial {
    let mut p = FunnelPartial::new(c.clone());
    for l in ls {
        p.observe(l).unwrap();
    }
    p
}

#[test]
fn spend_round_trips_through_json_and_refuses_bad_lines() {
    let mut s = Spend::new();
    s.add("search", None, "2024-Q1", 2000.5).unwrap();
    s.add("search", Some("brand"), "2024-Q1", 10.0).unwrap();
    let text = serde_json::to_string(&s).unwrap();
    let back: Spend = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.channel_minor("search"), 201_050);
    let negative = text.replace("200050", "-5");
    assert!(serde_json::from_str::<Spend>(&negative).is_err());
    let empty = text.replace("\"search\"", "\"\"");
    assert!(serde_json::from_str::<Spend>(&empty).is_err());
}

#[test]
fn costs_with_no_spend_are_undefined_and_money_reads_in_major_units() {
    // one lead sourced by webinar (first touch) and one by email, both MQL;
    // spend: webinar $0 recorded, email $300.50
    let leads = [
        Lead::new("w")
            .touch(SimpleTouch::new("webinar", d("01-01")))
            .touch(SimpleTouch::new("email", d("01-02")))
            .stage("mql", d("01-03")),
        Lead::new("e")
            .touch(SimpleTouch::new("email", d("01-01")))
            .stage("mql", d("01-03")),
    ];
    let by_channel =
        funnel::fit(&leads, FunnelConfig::default().slice_by(SliceBy::Channel)).unwrap();
    let j = SimpleJourney::new("w")
        .touch(SimpleTouch::new("webinar", d("01-01")))
        .converted(1000.0);
    let report = attribute(&FirstTouch, &JourneySet::from_journeys([&j]).unwrap()).unwrap();
    let mut spend = Spend::new();
    spend.add("webinar", None, "2024-01", 0.0).unwrap();
    spend.add("email", None, "2024-01", 300.5).unwrap();
    let r = RoiReport::by_channel(&report, &spend, Some(&by_channel)).unwrap();
    let w = r.line("webinar").unwrap();
    // the slice rule: webinar sourced lead "w" (its first touch)
    assert_eq!(w.funnel.unwrap().mqls, 1);
    assert_eq!(w.cost_per_mql, Ratio::Undefined);
    assert_eq!(w.cost_per_lead, Ratio::Undefined);
    assert_eq!(w.cac, Ratio::Undefined);
    assert_eq!(format!("{}", w.cost_per_mql), "n/a");
    let e = r.line("email").unwrap();
    assert_eq!(e.funnel.unwrap().mqls, 1);
    assert_eq!(e.cost_per_mql, Ratio::Defined(300.5));
    assert_eq!(e.spend(), 300.5);
    assert_eq!(e.spend_minor, 30_050);
    assert_eq!(w.revenue(), 1000.0);
    assert_eq!(spend.total(), 300.5);
    assert_eq!(spend.channel_spend("email"), 300.5);
    assert_eq!(spend.channels(), ["email", "webinar"]);
    let s = r.move_spend("email", "webinar", 100.0);
    assert!(s.is_err()); // webinar has no spend: its return per unit is undefined
}

/// Issue 15: a deserialized `FunnelConfig` is checked exactly as its setters
/// check: one test per boundary value.
#[test]
fn funnel_config_is_checked_on_read() {
    let good = serde_json::to_value(
        FunnelConfig::default()
            .with_cycles(Cycles::Sla { days: 30 })
            .unwrap()
            .with_sales_channels(["sdr", "ae"]),
    )
    .unwrap();
    let read = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::from_value::<FunnelConfig>(v)
    };
    // the round trip is the identity
    let back = read(&|_| {}).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), good);
    // SLA: 0 days rejected, 1 day accepted (as `with_cycles`)
    assert!(read(&|v| v["cycles"] = serde_json::json!({"sla": {"days": 0}})).is_err());
    assert!(read(&|v| v["cycles"] = serde_json::json!({"sla": {"days": 1}})).is_ok());
    assert!(read(&|v| v["cycles"] = serde_json::json!({"sla": {"days": u32::MAX}})).is_ok());
    // sales channels: unsorted and repeated on the wire are sorted and
    // deduplicated (as `with_sales_channels`), so lookups stay correct
    let c = read(&|v| v["sales_channels"] = serde_json::json!(["sdr", "ae", "sdr"])).unwrap();
    assert_eq!(
        c,
        FunnelConfig::default()
            .with_cycles(Cycles::Sla { days: 30 })
            .unwrap()
            .with_sales_channels(["ae", "sdr"])
    );
    // as_of: within chrono's range accepted, beyond it rejected
    assert!(read(&|v| v["as_of"] = serde_json::json!(0)).is_ok());
    assert!(read(&|v| v["as_of"] = serde_json::json!(8_210_266_876_799_999_i64)).is_ok());
    assert!(read(&|v| v["as_of"] = serde_json::json!(i64::MAX)).is_err());
    assert!(read(&|v| v["as_of"] = serde_json::json!(i64::MIN)).is_err());
    // stages and currency keep their own checks
    assert!(read(&|v| v["currency"] = serde_json::json!({"decimals": 7})).is_err());
    assert!(read(&|v| v["stages"]["progression"] = serde_json::json!(["only"])).is_err());
}
