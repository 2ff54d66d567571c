//! The SVG charts, drawn with plotters' SVG backend only:
//!
//! * `ratios.svg`: per workload, each backend's ratio to the fastest (log scale, 1 = fastest),
//!   with the 95% interval of the ratio as an error bar;
//! * `scaling.svg`: per scaling workload, the time per task against N, both on log axes, a
//!   line per backend (a backend that failed at some N stops there).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::backends::Kind;
use crate::report::{Row, State};
use crate::workloads::thousands;

/// A time in nanoseconds, as an axis label: "500 ns", "2 µs", "1.5 ms", "1 s".
fn duration_ns(ns: f64) -> String {
    let (v, unit) = match ns {
        n if n >= 1e9 => (n / 1e9, "s"),
        n if n >= 1e6 => (n / 1e6, "ms"),
        n if n >= 1e3 => (n / 1e3, "µs"),
        n => (n, "ns"),
    };
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

/// A backend's colour in every chart.
fn colour(kind: Kind) -> RGBColor {
    match kind {
        Kind::Coop1 => RGBColor(214, 39, 40),
        Kind::Coop => RGBColor(31, 119, 180),
        Kind::Preemptive => RGBColor(44, 160, 44),
        Kind::Tokio => RGBColor(148, 103, 189),
        Kind::Python => RGBColor(255, 127, 14),
    }
}

/// A plotters error, as text.
fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the chart: {e}")
}

/// Draws the ratios chart of the suite's rows into `dir`; returns its path.
pub fn ratios(rows: &[Row], kinds: &[Kind], workers: usize, dir: &Path) -> Result<PathBuf, String> {
    let mut workloads: Vec<(&str, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.n.is_none()) {
        if !workloads.iter().any(|(w, _)| *w == r.workload) {
            workloads.push((r.workload, r.title.as_str()));
        }
    }
    let points: Vec<(usize, Kind, f64, f64)> = rows
        .iter()
        .filter(|r| r.n.is_none())
        .filter_map(|r| {
            let m = r.measured()?;
            let x = workloads.iter().position(|(w, _)| *w == r.workload)?;
            Some((x, r.kind, m.relative, m.relative_ci))
        })
        .collect();
    // Headroom above the data for the legend.
    let top = points.iter().map(|p| p.2 + p.3).fold(2.0_f64, f64::max) * 8.0;
    let path = dir.join("ratios.svg");
    let width = 160 + 110 * workloads.len() as u32;
    let root = SVGBackend::new(&path, (width.max(700), 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = workloads.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "spindle compare: each backend against the fastest (log scale; 1 = fastest)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(70)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n - 0.5, (0.8..top).log_scale())
        .map_err(err)?;
    let names: Vec<String> = workloads.iter().map(|(w, _)| (*w).to_owned()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(workloads.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("× the fastest (95% CI)")
        .y_label_formatter(&|y| {
            if *y >= 10.0 {
                thousands(y.round() as u64)
            } else {
                format!("{y:.1}")
            }
        })
        .draw()
        .map_err(err)?;
    let slots = kinds.len().max(1) as f64;
    for (j, &kind) in kinds.iter().enumerate() {
        let c = colour(kind);
        let offset = (j as f64 + 0.5) / slots * 0.7 - 0.35;
        let mine: Vec<_> = points.iter().filter(|p| p.1 == kind).collect();
        chart
            .draw_series(mine.iter().map(|&&(x, _, r, ci)| {
                let x = x as f64 + offset;
                ErrorBar::new_vertical(x, (r - ci).max(0.8), r, r + ci, c.filled(), 6)
            }))
            .map_err(err)?
            .label(kind.label(workers))
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        chart
            .draw_series(
                mine.iter()
                    .map(|&&(x, _, r, _)| Circle::new((x as f64 + offset, r), 4, c.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(path.clone())
}

/// Draws the scaling chart of the sweep's rows into `dir`; returns its path.
pub fn scaling(
    rows: &[Row],
    kinds: &[Kind],
    workers: usize,
    dir: &Path,
) -> Result<PathBuf, String> {
    let mut workloads: Vec<(&str, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.n.is_some()) {
        if !workloads.iter().any(|(w, _)| *w == r.workload) {
            workloads.push((r.workload, r.title.as_str()));
        }
    }
    let path = dir.join("scaling.svg");
    let panels = workloads.len().max(1);
    let root = SVGBackend::new(&path, (430 * panels as u32, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((1, panels));
    for ((workload, title), area) in workloads.iter().zip(areas.iter()) {
        let series: Vec<(Kind, Vec<(f64, f64)>)> = kinds
            .iter()
            .map(|&k| {
                let pts = rows
                    .iter()
                    .filter(|r| r.workload == *workload && r.kind == k)
                    .filter_map(|r| match &r.state {
                        State::Measured(m) => Some((r.n? as f64, m.summary.mean)),
                        _ => None,
                    })
                    .collect();
                (k, pts)
            })
            .collect();
        let all = series.iter().flat_map(|(_, p)| p.iter());
        let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
        // Headroom above the data for the legend.
        let (lo, hi) = if lo <= hi {
            (lo / 2.0, hi * 20.0)
        } else {
            (1.0, 1e6)
        };
        let max_n = rows.iter().filter_map(|r| r.n).max().unwrap_or(100_000) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{title}: time per task"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((5.0..max_n * 2.0).log_scale(), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("N (tasks)")
            .y_desc("time per task")
            .x_label_formatter(&|x| thousands(x.round() as u64))
            .y_label_formatter(&|y| duration_ns(*y))
            .draw()
            .map_err(err)?;
        for (kind, pts) in series {
            if pts.is_empty() {
                continue;
            }
            let c = colour(kind);
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?
                .label(kind.label(workers))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(path.clone())
}
