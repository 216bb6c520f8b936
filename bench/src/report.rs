//! The report of a run: a table for people, JSON for tools, an SVG chart of throughput and
//! latency over time.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::stats::{Snapshot, new_hist};

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq)]
pub struct Latency {
    pub name: String,
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(name: &str, h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            name: name.to_string(),
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct ErrorCount {
    pub kind: String,
    pub count: u64,
    pub example: String,
}

/// JSON has no NaN: serde_json writes it as null; read null back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct ProcCpu {
    pub pid: u32,
    pub name: String,
    /// CPU used during the run; 0 when the process exited before the end (then not counted).
    pub cpu_seconds: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub us_per_op: f64,
    #[serde(default)]
    pub exited: bool,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct CpuReport {
    pub processes: Vec<ProcCpu>,
    pub total_cpu_seconds: f64,
    /// Server CPU (all PIDs summed) per successful operation, in microseconds.
    #[serde(deserialize_with = "nan_if_null")]
    pub us_per_op: f64,
}

impl CpuReport {
    pub fn new(mut processes: Vec<ProcCpu>, ops: u64) -> Self {
        let per = |s: f64| if ops == 0 { f64::NAN } else { s * 1e6 / ops as f64 };
        for p in &mut processes {
            p.us_per_op = per(p.cpu_seconds);
        }
        let total: f64 = processes.iter().map(|p| p.cpu_seconds).sum();
        Self { processes, total_cpu_seconds: total, us_per_op: per(total) }
    }
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct WaitingRoom {
    /// Logins that met at least one waiting-room page.
    pub logins_queued: u64,
    pub pages_seen: u64,
    pub total_seconds: f64,
    pub latency: Option<Latency>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct TimePoint {
    pub second: usize,
    pub ok: u64,
    pub failed: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Report {
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub scenario: String,
    pub load: String,
    pub wall_seconds: f64,
    pub ops_ok: u64,
    pub ops_failed: u64,
    pub throughput_per_s: f64,
    /// Every operation kind, and `all` when there are several.
    pub operations: Vec<Latency>,
    pub steps: Vec<Latency>,
    pub errors: Vec<ErrorCount>,
    pub waiting_room: WaitingRoom,
    pub server_cpu: Option<CpuReport>,
    /// The load generator's own CPU per operation (µs): if it nears a core, it limits the run.
    #[serde(deserialize_with = "nan_if_null")]
    pub client_cpu_us_per_op: f64,
    /// The load generator's open-files limit (each operation in flight holds a connection).
    #[serde(default)]
    pub client_open_files_limit: u64,
    pub identities_used: usize,
    pub identities_reused: u64,
    /// Set-up logins before the measured run (refresh, userinfo, SSO and day scenarios).
    pub setup: Option<SetupSummary>,
    pub timeline: Vec<TimePoint>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct SetupSummary {
    pub logins_ok: u64,
    pub logins_failed: u64,
    pub login: Option<Latency>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        label: &str,
        sc: &Scenario,
        wall: Duration,
        s: &Snapshot,
        setup: Option<&Snapshot>,
        server_cpu: Option<CpuReport>,
        own_cpu: f64,
        identities_used: usize,
        identities_reused: u64,
    ) -> Self {
        let ops_ok: u64 = s.ops.iter().map(|(_, h)| h.len()).sum();
        let ops_failed: u64 = s.errors.iter().map(|(_, n, _)| n).sum();
        let mut operations: Vec<Latency> = s.ops.iter().map(|(n, h)| Latency::of(n, h)).collect();
        if s.ops.len() > 1 {
            let mut all = new_hist();
            for (_, h) in &s.ops {
                all.add(h).ok();
            }
            operations.push(Latency::of("all", &all));
        }
        let mut steps: Vec<Latency> = s.steps.iter().map(|(n, h)| Latency::of(n, h)).collect();
        steps.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
        let mut errors: Vec<ErrorCount> =
            s.errors.iter().map(|(k, n, e)| ErrorCount { kind: k.clone(), count: *n, example: e.clone() }).collect();
        errors.sort_by_key(|e| std::cmp::Reverse(e.count));
        let secs = wall.as_secs_f64().max(1e-9);
        let timeline = s
            .timeline
            .iter()
            .enumerate()
            .map(|(i, p)| TimePoint {
                second: i,
                ok: p.ok,
                failed: p.failed,
                p50_ms: p.latency.as_ref().map(|h| h.value_at_quantile(0.5) as f64 / 1000.0),
                p99_ms: p.latency.as_ref().map(|h| h.value_at_quantile(0.99) as f64 / 1000.0),
            })
            .collect();
        let setup = setup.map(|u| SetupSummary {
            logins_ok: u.ops.iter().map(|(_, h)| h.len()).sum(),
            logins_failed: u.errors.iter().map(|(_, n, _)| n).sum(),
            login: u.ops.iter().find(|(n, _)| n == "login").map(|(n, h)| Latency::of(n, h)),
        });
        Report {
            label: label.to_string(),
            issuer: sc.provider.issuer.clone(),
            client_id: sc.provider.client_id.clone(),
            scenario: sc.kind.clone(),
            load: sc.load.describe(sc.users),
            wall_seconds: secs,
            ops_ok,
            ops_failed,
            throughput_per_s: ops_ok as f64 / secs,
            operations,
            steps,
            errors,
            waiting_room: WaitingRoom {
                logins_queued: s.queue.as_ref().map_or(0, |h| h.len()),
                pages_seen: s.queue_pages,
                total_seconds: s.queue.as_ref().map_or(0.0, |h| h.mean() * h.len() as f64 / 1e6),
                latency: s.queue.as_ref().map(|h| Latency::of("waiting room, per queued login", h)),
            },
            server_cpu,
            client_cpu_us_per_op: if ops_ok == 0 { f64::NAN } else { own_cpu * 1e6 / ops_ok as f64 },
            client_open_files_limit: crate::cpu::nofile_limit() as u64,
            identities_used,
            identities_reused,
            setup,
            timeline,
        }
    }

    /// The report as a table for people.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "== {} ==", if self.label.is_empty() { &self.issuer } else { &self.label });
        let _ = writeln!(o, "provider {}  client {}  scenario {}", self.issuer, self.client_id, self.scenario);
        let _ = writeln!(o, "load     {}", self.load);
        let _ = writeln!(
            o,
            "result   {} ok, {} failed in {:.1} s: {:.1} ops/s",
            self.ops_ok, self.ops_failed, self.wall_seconds, self.throughput_per_s
        );
        if let Some(s) = &self.setup {
            let _ = writeln!(
                o,
                "set-up   {} logins ok, {} failed before the measured run{}",
                s.logins_ok,
                s.logins_failed,
                s.login.as_ref().map(|l| format!(" (p50 {:.1} ms)", l.p50_ms)).unwrap_or_default()
            );
        }
        let _ = writeln!(o, "\n{}", latency_table("operation", &self.operations));
        let _ = writeln!(o, "{}", latency_table("step (one HTTP request each, unless marked)", &self.steps));
        let w = &self.waiting_room;
        let _ = writeln!(
            o,
            "waiting room: {} logins queued, {} queue pages, {:.1} s in total{}",
            w.logins_queued,
            w.pages_seen,
            w.total_seconds,
            w.latency
                .as_ref()
                .map(|l| format!(", p50 {:.0} ms, p99 {:.0} ms per queued login", l.p50_ms, l.p99_ms))
                .unwrap_or_default()
        );
        if self.errors.is_empty() {
            let _ = writeln!(o, "errors: none");
        } else {
            let _ = writeln!(o, "errors:");
            for e in &self.errors {
                let _ = writeln!(o, "  {:>7}  {}\n           e.g. {}", e.count, e.kind, e.example);
            }
        }
        match &self.server_cpu {
            Some(c) => {
                let _ = writeln!(o, "server CPU (user+system from /proc, per successful operation):");
                for p in &c.processes {
                    let _ = writeln!(
                        o,
                        "  pid {:<8} {:<16} {:>9.3} s  {:>10.0} µs/op{}",
                        p.pid,
                        p.name,
                        p.cpu_seconds,
                        p.us_per_op,
                        if p.exited { "  (exited during the run: not counted)" } else { "" }
                    );
                }
                if c.processes.len() > 1 {
                    let _ =
                        writeln!(o, "  {:<29} {:>9.3} s  {:>10.0} µs/op", "total", c.total_cpu_seconds, c.us_per_op);
                }
            }
            None => {
                let _ = writeln!(o, "server CPU: not measured (give --pid)");
            }
        }
        let _ = writeln!(
            o,
            "load generator CPU: {:.0} µs/op (open-files limit {})",
            self.client_cpu_us_per_op, self.client_open_files_limit
        );
        if self.identities_used > 0 {
            let _ = writeln!(
                o,
                "identities: {} taken{}",
                self.identities_used,
                if self.identities_reused > 0 {
                    format!(", {} of them reused (the list is shorter than the logins)", self.identities_reused)
                } else {
                    String::new()
                }
            );
        }
        o
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read_json(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a report of xacthuc-bench", path.display()))
    }

    /// Throughput (top) and latency p50/p99 (bottom) per second of the run.
    pub fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        let draw = || -> Result<(), Box<dyn std::error::Error>> {
            let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
            root.fill(&WHITE)?;
            let (top, bottom) = root.split_vertically(300);
            let n = self.timeline.len().max(1) as f64;
            let max_ops = self.timeline.iter().map(|p| p.ok + p.failed).max().unwrap_or(1).max(1) as f64;
            let title = if self.label.is_empty() { self.issuer.clone() } else { self.label.clone() };
            let mut c = ChartBuilder::on(&top)
                .caption(format!("{title}: operations per second"), ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(0f64..n, 0f64..max_ops * 1.1)?;
            c.configure_mesh().x_desc("seconds").y_desc("ops/s").draw()?;
            c.draw_series(LineSeries::new(self.timeline.iter().map(|p| (p.second as f64, p.ok as f64)), &BLUE))?
                .label("ok")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
            c.draw_series(LineSeries::new(self.timeline.iter().map(|p| (p.second as f64, p.failed as f64)), &RED))?
                .label("failed")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
            c.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
            let max_ms = self.timeline.iter().filter_map(|p| p.p99_ms).fold(1.0f64, f64::max);
            let mut c = ChartBuilder::on(&bottom)
                .caption("latency of an operation (ms)", ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(0f64..n, 0f64..max_ms * 1.1)?;
            c.configure_mesh().x_desc("seconds").y_desc("ms").draw()?;
            let series = |f: fn(&TimePoint) -> Option<f64>| {
                self.timeline.iter().filter_map(move |p| f(p).map(|v| (p.second as f64, v))).collect::<Vec<_>>()
            };
            c.draw_series(LineSeries::new(series(|p| p.p50_ms), &GREEN))?
                .label("p50")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREEN));
            c.draw_series(LineSeries::new(series(|p| p.p99_ms), &MAGENTA))?
                .label("p99")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], MAGENTA));
            c.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
            root.present()?;
            Ok(())
        };
        draw().map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))
    }
}

fn latency_table(title: &str, rows: &[Latency]) -> String {
    let mut o = String::new();
    let w = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max(title.chars().count());
    let _ = writeln!(
        o,
        "{title:<w$}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}",
        "count", "mean ms", "p50", "p90", "p99", "p99.9", "max"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "{:<w$}  {:>8}  {:>9.2}  {:>9.2}  {:>9.2}  {:>9.2}  {:>9.2}  {:>9.2}",
            r.name, r.count, r.mean_ms, r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms, r.max_ms
        );
    }
    o
}

/// Side by side: server CPU per operation of each report (the first PID given, and all PIDs
/// summed), and the ratio of the first PID's to the first report's.
pub fn compare(reports: &[Report]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<34} {:>7} {:>7} {:>9} {:>13} {:>9} {:>14} {:>9}",
        "run", "ok", "failed", "ops/s", "server µs/op", "ratio", "all PIDs µs/op", "p99 ms"
    );
    let first_pid = |r: &Report| r.server_cpu.as_ref().and_then(|c| c.processes.first()).map(|p| p.us_per_op);
    let base = reports.first().and_then(first_pid);
    for r in reports {
        let cpu = first_pid(r);
        let all = r.server_cpu.as_ref().map(|c| c.us_per_op);
        let p99 = r.operations.last().map(|l| l.p99_ms).unwrap_or(f64::NAN);
        let fmt = |v: Option<f64>| v.map(|c| format!("{c:.0}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            o,
            "{:<34} {:>7} {:>7} {:>9.1} {:>13} {:>9} {:>14} {:>9.1}",
            if r.label.is_empty() { &r.issuer } else { &r.label },
            r.ops_ok,
            r.ops_failed,
            r.throughput_per_s,
            fmt(cpu),
            match (cpu, base) {
                (Some(c), Some(b)) if b > 0.0 => format!("{:.2}×", c / b),
                _ => "-".into(),
            },
            fmt(all),
            p99
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = new_hist();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap(); // 1..1000 ms
        }
        let l = Latency::of("login", &h);
        assert_eq!(l.count, 1000);
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.002 + 0.01;
        assert!(near(l.p50_ms, 500.0), "{}", l.p50_ms);
        assert!(near(l.p90_ms, 900.0), "{}", l.p90_ms);
        assert!(near(l.p99_ms, 990.0), "{}", l.p99_ms);
        assert!(near(l.p999_ms, 999.0), "{}", l.p999_ms);
        assert!(near(l.max_ms, 1000.0), "{}", l.max_ms);
        assert!(near(l.mean_ms, 500.5), "{}", l.mean_ms);
        let t = latency_table("operation", &[l]);
        assert!(t.contains("p99.9") && t.contains("login"), "{t}");
    }

    #[test]
    fn cpu_per_operation() {
        let p = |pid, s| ProcCpu { pid, name: "x".into(), cpu_seconds: s, us_per_op: 0.0, exited: false };
        let c = CpuReport::new(vec![p(1, 2.0), p(2, 0.5)], 1000);
        assert_eq!(c.processes[0].us_per_op, 2000.0);
        assert_eq!(c.us_per_op, 2500.0);
        let none = CpuReport::new(vec![p(1, 1.0)], 0);
        assert!(none.us_per_op.is_nan());
        let json = serde_json::to_string(&none).unwrap();
        let back: CpuReport = serde_json::from_str(&json).unwrap();
        assert!(back.us_per_op.is_nan() && back.processes[0].us_per_op.is_nan(), "{json}");
    }
}
