//! What a run records: latency histograms per operation and per step (HdrHistogram, µs), errors
//! by kind, waiting-room time, and a per-second timeline for the chart.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

const MAX_US: u64 = 3_600_000_000;

pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("static histogram bounds")
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_US)
}

#[derive(Default)]
pub struct Second {
    pub ok: u64,
    pub failed: u64,
    pub latency: Option<Histogram<u64>>,
}

pub struct ErrorEntry {
    pub count: u64,
    pub example: String,
}

#[derive(Default)]
struct Inner {
    ops: BTreeMap<String, Histogram<u64>>,
    steps: BTreeMap<String, Histogram<u64>>,
    errors: BTreeMap<String, ErrorEntry>,
    queue: Option<Histogram<u64>>,
    queue_pages: u64,
    timeline: Vec<Second>,
}

/// Shared by every task of a run. One mutex: a record is a few hundred nanoseconds, far below
/// the cost of the HTTP requests it describes.
pub struct Recorder {
    start: Instant,
    inner: Mutex<Inner>,
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub in_flight: AtomicU64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            inner: Mutex::new(Inner::default()),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn step(&self, name: &str, d: Duration) {
        let mut g = self.lock();
        if let Some(h) = g.steps.get_mut(name) {
            h.saturating_record(us(d));
        } else {
            let mut h = new_hist();
            h.saturating_record(us(d));
            g.steps.insert(name.to_string(), h);
        }
    }

    pub fn op_ok(&self, op: &str, d: Duration) {
        self.ok.fetch_add(1, Ordering::Relaxed);
        let sec = self.start.elapsed().as_secs() as usize;
        let mut g = self.lock();
        g.ops.entry(op.to_string()).or_insert_with(new_hist).saturating_record(us(d));
        let s = second(&mut g.timeline, sec);
        s.ok += 1;
        s.latency.get_or_insert_with(new_hist).saturating_record(us(d));
    }

    pub fn op_failed(&self, kind: &str, example: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let sec = self.start.elapsed().as_secs() as usize;
        let mut g = self.lock();
        second(&mut g.timeline, sec).failed += 1;
        let e = g.errors.entry(kind.to_string()).or_insert(ErrorEntry { count: 0, example: example.to_string() });
        e.count += 1;
    }

    /// Time one login spent on waiting-room pages (recorded for logins that met one).
    pub fn queued(&self, d: Duration, pages: u64) {
        let mut g = self.lock();
        g.queue.get_or_insert_with(new_hist).saturating_record(us(d));
        g.queue_pages += pages;
    }

    pub fn snapshot(&self) -> Snapshot {
        let g = self.lock();
        Snapshot {
            elapsed: self.start.elapsed(),
            ops: g.ops.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            steps: g.steps.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            errors: g.errors.iter().map(|(k, v)| (k.clone(), v.count, v.example.clone())).collect(),
            queue: g.queue.clone(),
            queue_pages: g.queue_pages,
            timeline: g
                .timeline
                .iter()
                .map(|s| Second { ok: s.ok, failed: s.failed, latency: s.latency.clone() })
                .collect(),
        }
    }
}

fn second(t: &mut Vec<Second>, sec: usize) -> &mut Second {
    if t.len() <= sec {
        t.resize_with(sec + 1, Second::default);
    }
    &mut t[sec]
}

pub struct Snapshot {
    pub elapsed: Duration,
    pub ops: Vec<(String, Histogram<u64>)>,
    pub steps: Vec<(String, Histogram<u64>)>,
    pub errors: Vec<(String, u64, String)>,
    pub queue: Option<Histogram<u64>>,
    pub queue_pages: u64,
    pub timeline: Vec<Second>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_land_in_the_right_places() {
        let r = Recorder::new();
        r.step("GET /authorize", Duration::from_millis(2));
        r.step("GET /authorize", Duration::from_millis(4));
        r.op_ok("login", Duration::from_millis(10));
        r.op_failed("http_503 at token", "503 Service Unavailable");
        r.op_failed("http_503 at token", "another");
        r.queued(Duration::from_secs(3), 2);
        let s = r.snapshot();
        assert_eq!(s.steps[0].1.len(), 2);
        assert_eq!(s.ops[0].0, "login");
        assert_eq!(s.errors, vec![("http_503 at token".to_string(), 2, "503 Service Unavailable".to_string())]);
        assert_eq!(s.queue_pages, 2);
        assert_eq!(s.timeline[0].ok, 1);
        assert_eq!(s.timeline[0].failed, 2);
        assert_eq!(r.ok.load(Ordering::Relaxed), 1);
    }
}
