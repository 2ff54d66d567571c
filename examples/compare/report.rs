//! The results: one [`Row`] per cell (workload × backend, and N for the scaling sweep), the
//! relative figures computed across a workload's cells, and the three ways out: a table on
//! stdout (comfy-table), a JSON array (`--json`), and a Markdown table (`--markdown FILE`)
//! that `docs/benchmarks.md` can embed.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use serde_json::{json, Value};

use crate::backends::Kind;
use crate::runner::CellRun;
use crate::stats::{ratio_ci, Summary};
use crate::workloads::{thousands, CellError, Lesson, Unit};

/// p50, p99 and p99.9 of a cell's latencies, over all its samples.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    /// "µs" or "ms".
    pub unit: &'static str,
    /// The percentiles, in `unit`.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}

/// A cell with samples.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The samples, in the workload's unit.
    pub samples: Vec<f64>,
    /// Their statistics.
    pub summary: Summary,
    /// Runs of the workload per sample.
    pub runs_per_sample: u32,
    /// Latency percentiles, where measured.
    pub latency: Option<Latency>,
    /// How this backend's run differs (a smaller N ...).
    pub note: Option<String>,
    /// Relative to the workload's fastest cell (1 = fastest), and its 95% half-width.
    pub relative: f64,
    /// The half-width of `relative`'s interval.
    pub relative_ci: f64,
    /// CPU workloads: the speedup over the one-worker column, and per worker.
    pub speedup: Option<(f64, f64)>,
}

/// What a cell holds.
#[derive(Clone, Debug)]
pub enum State {
    /// Samples and their statistics.
    Measured(Box<Measured>),
    /// The workload means nothing here.
    NotApplicable(String),
    /// It failed, or was skipped, and why.
    Failed(String),
}

/// One cell of the results.
#[derive(Clone, Debug)]
pub struct Row {
    /// The workload's name and title.
    pub workload: &'static str,
    /// Its title in the table.
    pub title: String,
    /// The lesson it measures.
    pub lesson: Lesson,
    /// The unit of its samples.
    pub unit: Unit,
    /// The backend.
    pub kind: Kind,
    /// The task count of a scaling cell.
    pub n: Option<usize>,
    /// The outcome.
    pub state: State,
}

impl Row {
    /// A row from a cell's run.
    pub fn new(
        workload: &'static str,
        title: &str,
        lesson: Lesson,
        unit: Unit,
        kind: Kind,
        n: Option<usize>,
        run: CellRun,
    ) -> Row {
        let state = match run.result {
            Err(CellError::NotApplicable(why)) => State::NotApplicable(why),
            Err(CellError::Failed(why)) => State::Failed(why),
            Ok(ms) => {
                let samples: Vec<f64> = ms.iter().map(|m| unit.value(m)).collect();
                let mut hist = None;
                for m in &ms {
                    if let Some(h) = &m.latencies {
                        let all = hist.get_or_insert_with(crate::workloads::latency_histogram);
                        let _ = all.add(h);
                    }
                }
                match Summary::of(&samples) {
                    None => State::Failed("no usable samples".into()),
                    Some(summary) => State::Measured(Box::new(Measured {
                        summary,
                        samples,
                        runs_per_sample: ms.first().map_or(1, |m| m.runs),
                        latency: hist.map(|h| latency(&h)),
                        note: ms.first().and_then(|m| m.note.clone()),
                        relative: 1.0,
                        relative_ci: 0.0,
                        speedup: None,
                    })),
                }
            }
        };
        Row {
            workload,
            title: title.to_owned(),
            lesson,
            unit,
            kind,
            n,
            state,
        }
    }

    /// The measured part, if any.
    pub fn measured(&self) -> Option<&Measured> {
        match &self.state {
            State::Measured(m) => Some(m),
            _ => None,
        }
    }
}

/// The percentiles of a latency histogram (nanoseconds), in µs or ms.
fn latency(h: &hdrhistogram::Histogram<u64>) -> Latency {
    let p50 = h.value_at_quantile(0.5) as f64;
    let (unit, div) = if p50 >= 1e6 {
        ("ms", 1e6)
    } else {
        ("µs", 1e3)
    };
    Latency {
        unit,
        p50: p50 / div,
        p99: h.value_at_quantile(0.99) as f64 / div,
        p999: h.value_at_quantile(0.999) as f64 / div,
    }
}

/// Fills in the relative figures of every workload (and N): the fastest cell is 1.00, the
/// others how many times slower; CPU workloads also get their speedup over `coop1`.
pub fn finish(rows: &mut [Row], workers: usize, cores: usize) {
    let keys: Vec<(&str, Option<usize>)> = rows.iter().map(|r| (r.workload, r.n)).collect();
    for (w, n) in keys {
        let group: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].workload == w && rows[i].n == n)
            .collect();
        let lower = rows[group[0]].unit.lower_is_better();
        let best = group
            .iter()
            .filter_map(|&i| rows[i].measured().map(|m| (m.summary.mean, m.summary.ci95)))
            .reduce(|a, b| if (b.0 < a.0) == lower { b } else { a });
        let base = group
            .iter()
            .find(|&&i| rows[i].kind == Kind::Coop1)
            .and_then(|&i| rows[i].measured().map(|m| m.summary.mean));
        for &i in &group {
            let (kind, lesson) = (rows[i].kind, rows[i].lesson);
            let State::Measured(m) = &mut rows[i].state else {
                continue;
            };
            let Some((bm, bci)) = best else { continue };
            let (mean, ci) = (m.summary.mean, m.summary.ci95);
            let (num, nci, den, dci) = if lower {
                (mean, ci, bm, bci)
            } else {
                (bm, bci, mean, ci)
            };
            m.relative = num / den;
            m.relative_ci = if num == den {
                ci / mean
            } else {
                ratio_ci(num, nci, den, dci)
            };
            if lesson == Lesson::Cpu {
                if let (Some(b), Some(p)) = (base, kind.parallelism(workers, cores)) {
                    let s = if lower { b / mean } else { mean / b };
                    m.speedup = Some((s, s / p as f64));
                }
            }
        }
    }
}

/// How many decimals to show a value with (3–4 significant digits).
fn decimals(x: f64) -> usize {
    match x.abs() {
        x if x >= 100.0 => 0,
        x if x >= 10.0 => 1,
        x if x >= 1.0 => 2,
        x if x >= 0.1 => 3,
        _ => 4,
    }
}

/// A number with `d` decimals, and thousands separators when it has none.
fn fixed(x: f64, d: usize) -> String {
    if d == 0 && x.is_finite() && x.abs() < 1e18 {
        let s = thousands(x.abs().round() as u64);
        if x < 0.0 {
            format!("-{s}")
        } else {
            s
        }
    } else {
        format!("{x:.d$}")
    }
}

/// A value as the table shows it.
pub fn num(x: f64) -> String {
    fixed(x, decimals(x))
}

/// "mean ± ci", both with the mean's decimals.
pub fn mean_ci(s: &Summary) -> String {
    let d = decimals(s.mean);
    format!("{} ± {}", fixed(s.mean, d), fixed(s.ci95, d))
}

/// Wraps `text` at about `width` characters, on spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.chars().count() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.chars().count();
    }
    out
}

/// The lines of a cell: what the table prints (joined with newlines) and the Markdown
/// (joined with `<br>`).
pub fn cell_lines(row: &Row, compact: bool) -> Vec<String> {
    match &row.state {
        State::NotApplicable(why) => {
            let mut v = vec!["n/a".to_owned()];
            v.extend(wrap(&format!("({why})"), 18).lines().map(str::to_owned));
            v
        }
        State::Failed(why) => {
            let mut v = vec!["FAILED".to_owned()];
            v.extend(wrap(why, 22).lines().map(str::to_owned));
            v
        }
        State::Measured(m) => {
            let s = &m.summary;
            let mut v = vec![mean_ci(s)];
            if !compact {
                v.push(format!("{} … {}", num(s.min), num(s.max)));
            }
            v.push(if m.relative == 1.0 {
                "×1.00 (fastest)".to_owned()
            } else {
                format!("×{:.2}", m.relative)
            });
            if let Some(l) = m.latency {
                v.push(format!("p50 {} {}", num(l.p50), l.unit));
                v.push(format!("p99 {} p999 {}", num(l.p99), num(l.p999)));
            }
            if let Some((sp, per)) = m.speedup {
                v.push(format!("speedup {sp:.2}×"));
                v.push(format!("{per:.2} per worker"));
            }
            if let Some(note) = &m.note {
                v.push(note.clone());
            }
            v.extend(s.warnings().into_iter().map(|w| format!("⚠ {w}")));
            v
        }
    }
}

/// The suite's table: a row per workload, a column per backend.
pub fn table(rows: &[Row], kinds: &[Kind], workers: usize) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec![Cell::new("workload\n(lesson)"), Cell::new("unit")];
    header.extend(kinds.iter().map(|k| Cell::new(k.header(workers))));
    t.set_header(header);
    let mut seen = Vec::new();
    for r in rows {
        if seen.contains(&r.workload) {
            continue;
        }
        seen.push(r.workload);
        let unit = format!(
            "{}\n({} is better)",
            r.unit.label(),
            if r.unit.lower_is_better() {
                "lower"
            } else {
                "higher"
            }
        );
        let mut cells = vec![
            Cell::new(format!("{}\n({})", r.title, r.lesson.label())),
            Cell::new(unit),
        ];
        for k in kinds {
            let text = rows
                .iter()
                .find(|c| c.workload == r.workload && c.kind == *k)
                .map_or_else(|| "—".to_owned(), |c| cell_lines(c, false).join("\n"));
            cells.push(Cell::new(text).set_alignment(CellAlignment::Right));
        }
        t.add_row(cells);
    }
    t.to_string()
}

/// The legend printed under the tables.
pub fn legend(samples: usize, warmup: usize, min_sample: std::time::Duration) -> String {
    let ms = min_sample.as_millis();
    format!(
        "Each cell: mean ± 95% confidence interval (Student's t, {samples} samples after up to \
         {warmup} warm-up runs; a short workload batches runs into one sample of ≥ {ms} ms), then \
         min … max, then the ratio to the workload's fastest backend (×1.00 = fastest; for rates, \
         the highest). Echo and web cells add latency percentiles over all samples (HdrHistogram). \
         CPU cells add the speedup over the 1-worker column and that speedup per worker \
         (1.00 = perfect scaling; OS threads count one worker per core). ⚠ marks samples that \
         should not be trusted as they stand: noisy (coefficient of variation > 10%), outliers \
         (outside Q1 − 1.5·IQR … Q3 + 1.5·IQR), bimodal (bimodality coefficient > 5/9 and a gap \
         that splits the samples into two clusters)."
    )
}

/// The scaling sweep's tables: per workload, a row per N, a column per backend.
pub fn scale_table(rows: &[Row], kinds: &[Kind], workers: usize) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for r in rows {
        if seen.contains(&r.workload) {
            continue;
        }
        seen.push(r.workload);
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL)
            .set_content_arrangement(ContentArrangement::Disabled);
        let mut header = vec![Cell::new(format!("{}\nN", r.title))];
        header.extend(kinds.iter().map(|k| Cell::new(k.header(workers))));
        t.set_header(header);
        let mut ns: Vec<usize> = rows
            .iter()
            .filter(|c| c.workload == r.workload)
            .filter_map(|c| c.n)
            .collect();
        ns.dedup();
        for n in ns {
            let mut cells = vec![Cell::new(thousands(n as u64))];
            for k in kinds {
                let text = rows
                    .iter()
                    .find(|c| c.workload == r.workload && c.kind == *k && c.n == Some(n))
                    .map_or_else(|| "—".to_owned(), |c| cell_lines(c, true).join("\n"));
                cells.push(Cell::new(text).set_alignment(CellAlignment::Right));
            }
            t.add_row(cells);
        }
        out.push_str(&format!("{} — {}\n{t}\n\n", r.title, r.unit.label()));
    }
    out
}

/// Every cell as a JSON object.
pub fn json(rows: &[Row], workers: usize) -> Value {
    let cells: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut o = json!({
                "workload": r.workload,
                "title": r.title,
                "lesson": r.lesson.label(),
                "backend": r.kind.key(),
                "backend_label": r.kind.label(workers),
                "unit": r.unit.label(),
                "lower_is_better": r.unit.lower_is_better(),
            });
            if let Some(n) = r.n {
                o["n"] = json!(n);
            }
            match &r.state {
                State::Measured(m) => {
                    let s = &m.summary;
                    o["samples"] = json!(m.samples);
                    o["mean"] = json!(s.mean);
                    o["ci95"] = json!(s.ci95);
                    o["sd"] = json!(s.sd);
                    o["min"] = json!(s.min);
                    o["max"] = json!(s.max);
                    o["median"] = json!(s.median);
                    o["runs_per_sample"] = json!(m.runs_per_sample);
                    o["relative"] = json!(m.relative);
                    o["relative_ci95"] = json!(m.relative_ci);
                    o["warnings"] = json!(s.warnings());
                    if let Some(l) = m.latency {
                        o["p50"] = json!(l.p50);
                        o["p99"] = json!(l.p99);
                        o["p999"] = json!(l.p999);
                        o["latency_unit"] = json!(l.unit);
                    }
                    if let Some((sp, per)) = m.speedup {
                        o["speedup"] = json!(sp);
                        o["speedup_per_worker"] = json!(per);
                    }
                    if let Some(note) = &m.note {
                        o["note"] = json!(note);
                    }
                }
                State::NotApplicable(why) => o["error"] = json!(format!("n/a: {why}")),
                State::Failed(why) => o["error"] = json!(why),
            }
            o
        })
        .collect();
    Value::Array(cells)
}

/// The suite (and sweep) as Markdown tables, with the legend.
pub fn markdown(rows: &[Row], kinds: &[Kind], workers: usize, intro: &str) -> String {
    let mut md = format!("{intro}\n\n");
    let suite: Vec<&Row> = rows.iter().filter(|r| r.n.is_none()).collect();
    let sweep: Vec<&Row> = rows.iter().filter(|r| r.n.is_some()).collect();
    let head = |first: &str| {
        let mut h = format!("| {first} |");
        let mut rule = String::from("|---|");
        for k in kinds {
            h.push_str(&format!(" {} |", k.label(workers)));
            rule.push_str("---|");
        }
        format!("{h}\n{rule}\n")
    };
    let cell = |r: Option<&&Row>| {
        r.map_or_else(
            || "—".to_owned(),
            |r| {
                cell_lines(r, r.n.is_some())
                    .join("<br>")
                    .replace('|', "\\|")
            },
        )
    };
    if !suite.is_empty() {
        md.push_str(&head("workload (lesson), unit"));
        let mut seen = Vec::new();
        for r in &suite {
            if seen.contains(&r.workload) {
                continue;
            }
            seen.push(r.workload);
            md.push_str(&format!(
                "| {} — {}, {} |",
                r.title,
                r.lesson.label(),
                r.unit.label()
            ));
            for k in kinds {
                let c = suite
                    .iter()
                    .find(|c| c.workload == r.workload && c.kind == *k);
                md.push_str(&format!(" {} |", cell(c)));
            }
            md.push('\n');
        }
    }
    let mut seen = Vec::new();
    for r in &sweep {
        if seen.contains(&r.workload) {
            continue;
        }
        seen.push(r.workload);
        md.push_str(&format!("\n{}, {}:\n\n", r.title, r.unit.label()));
        md.push_str(&head("N"));
        let mut ns: Vec<usize> = sweep
            .iter()
            .filter(|c| c.workload == r.workload)
            .filter_map(|c| c.n)
            .collect();
        ns.dedup();
        for n in ns {
            md.push_str(&format!("| {} |", thousands(n as u64)));
            for k in kinds {
                let c = sweep
                    .iter()
                    .find(|c| c.workload == r.workload && c.kind == *k && c.n == Some(n));
                md.push_str(&format!(" {} |", cell(c)));
            }
            md.push('\n');
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_or_four_significant_digits() {
        assert_eq!(num(123_456.7), "123,457");
        assert_eq!(num(42.345), "42.3");
        assert_eq!(num(4.2345), "4.23");
        assert_eq!(num(0.42345), "0.423");
        assert_eq!(num(0.012345), "0.0123");
    }

    #[test]
    fn wrap_breaks_on_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
    }
}
