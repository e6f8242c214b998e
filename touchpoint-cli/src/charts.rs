//! Inline SVG charts drawn with `plotters` (SVG backend, no fonts needed:
//! text is emitted as SVG `<text>`), one function per chart of the report.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Series colours (colour-blind-safe Okabe-Ito, then greys).
const COLORS: [RGBColor; 9] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(150, 150, 150),
];

/// One bar: value and an optional (low, high) whisker.
pub type Bar = (f64, Option<(f64, f64)>);

/// A horizontal grouped bar chart: one group per label (a channel, a
/// stage), one bar per series in each group, optional whiskers.
#[derive(Debug, Clone)]
pub struct HBars {
    /// Title drawn above.
    pub title: String,
    /// Group labels, top to bottom.
    pub groups: Vec<String>,
    /// Series names (legend); one bar per series per group.
    pub series: Vec<String>,
    /// `values[g][s]`.
    pub values: Vec<Vec<Bar>>,
    /// Formats an axis value.
    pub fmt: fn(f64) -> String,
    /// Chart id (the `<svg>`'s `id` attribute, for tests).
    pub id: String,
}

fn svg_with_id(mut svg: String, id: &str) -> String {
    if let Some(i) = svg.find("<svg") {
        svg.insert_str(i + 4, &format!(" id=\"{id}\" role=\"img\""));
    }
    svg
}

fn label_area(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    text: &str,
    at: (i32, i32),
    size: u32,
) -> Result<(), String> {
    let style =
        TextStyle::from(("sans-serif", size).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    root.draw(&Text::new(text.to_owned(), at, style))
        .map_err(|e| e.to_string())
}

impl HBars {
    /// Renders to an SVG string.
    ///
    /// # Errors
    ///
    /// Drawing errors (as text).
    pub fn svg(&self) -> Result<String, String> {
        let ns = self.series.len().max(1);
        let slot = if ns == 1 { 22 } else { 9 };
        let group_h = (ns * slot + 8) as u32;
        let legend_h = if ns > 1 {
            20 * ns.div_ceil(4) as u32
        } else {
            0
        };
        let height = 70 + legend_h + group_h * self.groups.len().max(1) as u32;
        let width = 820u32;
        let label_w = 170u32;
        let mut xmin = 0.0f64;
        let mut xmax = 0.0f64;
        for g in &self.values {
            for (v, w) in g {
                xmin = xmin.min(*v);
                xmax = xmax.max(*v);
                if let Some((lo, hi)) = w {
                    xmin = xmin.min(*lo);
                    xmax = xmax.max(*hi);
                }
            }
        }
        if xmax <= xmin {
            xmax = xmin + 1.0;
        }
        let pad = (xmax - xmin) * 0.05;
        let (xlo, xhi) = (if xmin < 0.0 { xmin - pad } else { 0.0 }, xmax + pad);
        let n = self.groups.len().max(1) as f64;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let (top, _) = root.split_vertically(height - legend_h);
            let mut chart = ChartBuilder::on(&top)
                .caption(&self.title, ("sans-serif", 17))
                .margin(10)
                .x_label_area_size(26)
                .y_label_area_size(label_w)
                .build_cartesian_2d(xlo..xhi, 0.0..n)
                .map_err(|e| e.to_string())?;
            let fmt = self.fmt;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(8)
                .x_label_formatter(&|x| fmt(*x))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(|e| e.to_string())?;
            let inner = 1.0 - 8.0 / f64::from(group_h);
            for (s, name) in self.series.iter().enumerate() {
                let color = COLORS[s % COLORS.len()];
                let bars = self.values.iter().enumerate().filter_map(|(g, row)| {
                    let (v, _) = *row.get(s)?;
                    let y0 = n - g as f64 - 1.0
                        + (1.0 - inner) / 2.0
                        + inner * (ns - 1 - s) as f64 / ns as f64;
                    let y1 = y0 + inner / ns as f64;
                    Some(Rectangle::new(
                        [(0.0f64.max(xlo).min(v), y0), (v.max(0.0), y1)],
                        color.filled(),
                    ))
                });
                let series = chart.draw_series(bars).map_err(|e| e.to_string())?;
                if ns > 1 {
                    series.label(name.clone()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                    });
                }
                // whiskers
                let whiskers: Vec<PathElement<(f64, f64)>> = self
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(g, row)| {
                        let (_, w) = row.get(s)?;
                        let (lo, hi) = (*w)?;
                        let y0 = n - g as f64 - 1.0
                            + (1.0 - inner) / 2.0
                            + inner * (ns - 1 - s) as f64 / ns as f64;
                        let ym = y0 + inner / ns as f64 / 2.0;
                        let cap = inner / ns as f64 / 3.0;
                        Some(vec![
                            PathElement::new(vec![(lo, ym), (hi, ym)], BLACK.stroke_width(2)),
                            PathElement::new(
                                vec![(lo, ym - cap), (lo, ym + cap)],
                                BLACK.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(hi, ym - cap), (hi, ym + cap)],
                                BLACK.stroke_width(2),
                            ),
                        ])
                    })
                    .flatten()
                    .collect();
                chart.draw_series(whiskers).map_err(|e| e.to_string())?;
            }
            for (g, label) in self.groups.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(xlo, n - g as f64 - 0.5));
                label_area(&root, label, (px - 8, py), 13)?;
            }
            if ns > 1 {
                // legend in the reserved strip below, four entries a row
                let (_, bottom) = root.split_vertically(height - legend_h);
                for (s, name) in self.series.iter().enumerate() {
                    let x = 20 + (s % 4) as i32 * 195;
                    let y = 10 + (s / 4) as i32 * 20;
                    let color = COLORS[s % COLORS.len()];
                    bottom
                        .draw(&Rectangle::new(
                            [(x, y - 5), (x + 12, y + 5)],
                            color.filled(),
                        ))
                        .map_err(|e| e.to_string())?;
                    bottom
                        .draw(&Text::new(
                            name.clone(),
                            (x + 18, y),
                            TextStyle::from(("sans-serif", 13).into_font())
                                .pos(Pos::new(HPos::Left, VPos::Center)),
                        ))
                        .map_err(|e| e.to_string())?;
                }
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg_with_id(buf, &self.id))
    }
}

/// A line chart over labelled points (periods).
#[derive(Debug, Clone)]
pub struct Line {
    /// Title.
    pub title: String,
    /// X labels (periods).
    pub labels: Vec<String>,
    /// Values (None: undefined, not drawn).
    pub values: Vec<Option<f64>>,
    /// Axis formatter.
    pub fmt: fn(f64) -> String,
    /// Chart id.
    pub id: String,
}

impl Line {
    /// Renders to an SVG string.
    ///
    /// # Errors
    ///
    /// Drawing errors (as text).
    pub fn svg(&self) -> Result<String, String> {
        let (width, height) = (820u32, 320u32);
        let n = self.labels.len().max(1);
        let ymax = self
            .values
            .iter()
            .flatten()
            .fold(0.0f64, |a, b| a.max(*b))
            .max(1e-9)
            * 1.1;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 17))
                .margin(14)
                .x_label_area_size(30)
                .y_label_area_size(90)
                .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..ymax)
                .map_err(|e| e.to_string())?;
            let fmt = self.fmt;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(6)
                .y_label_formatter(&|y| fmt(*y))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(|e| e.to_string())?;
            let pts: Vec<(f64, f64)> = self
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), COLORS[0].stroke_width(3)))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 5, COLORS[0].filled())))
                .map_err(|e| e.to_string())?;
            for (i, l) in self.labels.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(i as f64, 0.0));
                root.draw(&Text::new(
                    l.clone(),
                    (px, py + 14),
                    TextStyle::from(("sans-serif", 13).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg_with_id(buf, &self.id))
    }
}

/// `0.123` -> `12%`.
pub fn fmt_pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// `12345.6` -> `12.3k`.
pub fn fmt_amount(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// A plain count.
pub fn fmt_count(x: f64) -> String {
    format!("{x:.0}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_bars_draw_every_group_label_and_a_legend() {
        let c = HBars {
            title: "t".into(),
            groups: vec!["email".into(), "paid_search".into()],
            series: vec!["linear".into(), "markov".into()],
            values: vec![
                vec![(0.4, None), (0.5, Some((0.45, 0.55)))],
                vec![(0.6, None), (0.5, None)],
            ],
            fmt: fmt_pct,
            id: "credit".into(),
        };
        let svg = c.svg().unwrap();
        assert!(svg.starts_with("<svg id=\"credit\""), "{}", &svg[..60]);
        for t in ["email", "paid_search", "linear", "markov"] {
            assert!(
                svg.contains(&format!(">{t}<")) || svg.contains(&format!(">\n{t}\n<")),
                "{t} missing"
            );
        }
    }
}
