//! Load models. Closed: N virtual users, each starting its next operation when the last ends.
//! Open: operations arrive on a schedule whatever the server's speed (constant rate, ramp,
//! steps, or a spike such as "10,000 logins within 10 seconds").

use std::time::Duration;

use anyhow::{Context, bail};

use crate::scenario::LoadFile;

#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    Constant {
        rate: f64,
        duration: Duration,
    },
    /// Rate rising (or falling) linearly from `from` to `to` per second over `duration`.
    Ramp {
        from: f64,
        to: f64,
        duration: Duration,
    },
    Steps(Vec<(f64, Duration)>),
    /// `count` arrivals spread evenly within `within`.
    Spike {
        count: u64,
        within: Duration,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    Closed { duration: Option<Duration>, iterations: Option<u64> },
    Open { arrivals: Arrivals, max_in_flight: usize },
}

/// The most arrivals one schedule may hold (a bound on memory and on run time).
pub const MAX_ARRIVALS: u64 = 5_000_000;

/// "250ms", "30s", "2m", "1h", or a bare number of seconds ("1.5").
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 =
        num.trim().parse().map_err(|_| anyhow::anyhow!("invalid duration {s:?}: write e.g. 500ms, 30s, 2m"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => bail!("invalid duration {s:?}: unknown unit {u:?} (ms, s, m, h)"),
    };
    if !secs.is_finite() || !(0.0..=7.0 * 86400.0).contains(&secs) {
        bail!("invalid duration {s:?}: must be between 0 and 7 days");
    }
    Ok(Duration::from_secs_f64(secs))
}

fn positive_rate(r: f64, what: &str) -> anyhow::Result<f64> {
    if !r.is_finite() || r < 0.0 {
        bail!("{what} must be a rate >= 0 per second, got {r}");
    }
    Ok(r)
}

impl LoadModel {
    /// The model and the number of virtual users (closed) or pooled users (open).
    pub fn from_file(f: &LoadFile) -> anyhow::Result<(Self, usize)> {
        let dur = |v: &Option<String>, what: &str| -> anyhow::Result<Option<Duration>> {
            v.as_deref().map(|s| parse_duration(s).with_context(|| format!("load.{what}"))).transpose()
        };
        let model = f.model.as_deref().unwrap_or("closed");
        match model {
            "closed" => {
                let users = f.users.unwrap_or(8);
                if users == 0 || users > 100_000 {
                    bail!("load.users must be between 1 and 100000");
                }
                let duration = dur(&f.duration, "duration")?;
                if duration.is_none() && f.iterations.is_none() {
                    bail!("closed load: give load.duration or load.iterations (or both)");
                }
                Ok((LoadModel::Closed { duration, iterations: f.iterations }, users))
            }
            "open" => {
                let need_dur = || -> anyhow::Result<Duration> {
                    dur(&f.duration, "duration")?.context("load.duration is required for this arrival shape")
                };
                let arrivals = match f.arrival.as_deref() {
                    Some("constant") | None => Arrivals::Constant {
                        rate: positive_rate(
                            f.rate.context("load.rate is required for constant arrivals")?,
                            "load.rate",
                        )?,
                        duration: need_dur()?,
                    },
                    Some("ramp") => Arrivals::Ramp {
                        from: positive_rate(f.from.unwrap_or(0.0), "load.from")?,
                        to: positive_rate(f.to.context("load.to is required for a ramp")?, "load.to")?,
                        duration: need_dur()?,
                    },
                    Some("steps") => {
                        if f.steps.is_empty() {
                            bail!("load.steps = [[rate, \"duration\"], …] is required for steps");
                        }
                        let steps = f
                            .steps
                            .iter()
                            .map(|(r, d)| Ok((positive_rate(*r, "load.steps rate")?, parse_duration(d)?)))
                            .collect::<anyhow::Result<_>>()?;
                        Arrivals::Steps(steps)
                    }
                    Some("spike") => Arrivals::Spike {
                        count: f.count.context("load.count is required for a spike")?,
                        within: dur(&f.within, "within")?.context("load.within is required for a spike")?,
                    },
                    Some(other) => bail!("load.arrival {other:?}: use constant, ramp, steps or spike"),
                };
                let n = arrivals.expected_count();
                if n > MAX_ARRIVALS as f64 {
                    bail!("that schedule has {n:.0} arrivals; at most {MAX_ARRIVALS} per run");
                }
                let max_in_flight = f.max_in_flight.unwrap_or(10_000).max(1);
                Ok((LoadModel::Open { arrivals, max_in_flight }, f.users.unwrap_or(50).max(1)))
            }
            other => bail!("load.model {other:?}: use closed or open"),
        }
    }

    pub fn describe(&self, users: usize) -> String {
        match self {
            LoadModel::Closed { duration, iterations } => format!(
                "closed, {users} virtual users{}{}",
                duration.map(|d| format!(", {:.1} s", d.as_secs_f64())).unwrap_or_default(),
                iterations.map(|i| format!(", at most {i} operations")).unwrap_or_default()
            ),
            LoadModel::Open { arrivals, max_in_flight } => {
                format!("open, {}, at most {max_in_flight} in flight", arrivals.describe())
            }
        }
    }
}

impl Arrivals {
    pub fn describe(&self) -> String {
        match self {
            Arrivals::Constant { rate, duration } => format!("{rate}/s for {:.1} s", duration.as_secs_f64()),
            Arrivals::Ramp { from, to, duration } => {
                format!("ramp {from}/s → {to}/s over {:.1} s", duration.as_secs_f64())
            }
            Arrivals::Steps(s) => {
                let parts: Vec<String> = s.iter().map(|(r, d)| format!("{r}/s for {:.1} s", d.as_secs_f64())).collect();
                format!("steps {}", parts.join(", then "))
            }
            Arrivals::Spike { count, within } => format!("spike: {count} within {:.1} s", within.as_secs_f64()),
        }
    }

    pub fn expected_count(&self) -> f64 {
        match self {
            Arrivals::Constant { rate, duration } => rate * duration.as_secs_f64(),
            Arrivals::Ramp { from, to, duration } => (from + to) / 2.0 * duration.as_secs_f64(),
            Arrivals::Steps(s) => s.iter().map(|(r, d)| r * d.as_secs_f64()).sum(),
            Arrivals::Spike { count, .. } => *count as f64,
        }
    }

    /// When each arrival happens, from the start of the run, in order.
    pub fn schedule(&self) -> Vec<Duration> {
        let mut out = Vec::new();
        match self {
            Arrivals::Constant { rate, duration } => constant(&mut out, 0.0, *rate, duration.as_secs_f64()),
            Arrivals::Spike { count, within } => {
                let w = within.as_secs_f64();
                for k in 0..*count {
                    out.push(Duration::from_secs_f64(w * k as f64 / *count as f64));
                }
            }
            Arrivals::Steps(steps) => {
                let mut t0 = 0.0;
                for (rate, d) in steps {
                    constant(&mut out, t0, *rate, d.as_secs_f64());
                    t0 += d.as_secs_f64();
                }
            }
            Arrivals::Ramp { from, to, duration } => {
                // Arrivals so far: N(t) = from·t + (to − from)·t² / (2T); the k-th is at N(t) = k.
                let t_end = duration.as_secs_f64();
                let a = (to - from) / (2.0 * t_end.max(f64::MIN_POSITIVE));
                let b = *from;
                let total = ((from + to) / 2.0 * t_end).floor() as u64;
                for k in 0..total {
                    let k = k as f64;
                    let t =
                        if a.abs() < 1e-12 { k / b } else { (-b + (b * b + 4.0 * a * k).max(0.0).sqrt()) / (2.0 * a) };
                    out.push(Duration::from_secs_f64(t.clamp(0.0, t_end)));
                }
            }
        }
        out
    }
}

fn constant(out: &mut Vec<Duration>, t0: f64, rate: f64, secs: f64) {
    if rate <= 0.0 {
        return;
    }
    let n = (rate * secs).floor() as u64;
    for k in 0..n {
        out.push(Duration::from_secs_f64(t0 + k as f64 / rate));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(v: &[Duration]) -> Vec<f64> {
        v.iter().map(Duration::as_secs_f64).collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn spike_of_ten_thousand_within_ten_seconds() {
        let s = Arrivals::Spike { count: 10_000, within: Duration::from_secs(10) }.schedule();
        assert_eq!(s.len(), 10_000);
        assert_eq!(s[0], Duration::ZERO);
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        assert!(*s.last().unwrap() < Duration::from_secs(10));
        // Evenly spread: 1,000 arrivals in each second.
        let in_first = s.iter().filter(|d| **d < Duration::from_secs(1)).count();
        assert_eq!(in_first, 1000);
    }

    #[test]
    fn constant_and_steps() {
        let s = Arrivals::Constant { rate: 4.0, duration: Duration::from_secs(1) }.schedule();
        assert_eq!(secs(&s), vec![0.0, 0.25, 0.5, 0.75]);
        let s = Arrivals::Steps(vec![
            (2.0, Duration::from_secs(1)),
            (0.0, Duration::from_secs(1)),
            (4.0, Duration::from_millis(500)),
        ])
        .schedule();
        assert_eq!(secs(&s), vec![0.0, 0.5, 2.0, 2.25]);
    }

    #[test]
    fn ramp_follows_the_integral_of_the_rate() {
        let r = Arrivals::Ramp { from: 0.0, to: 100.0, duration: Duration::from_secs(10) };
        let s = r.schedule();
        assert_eq!(s.len(), 500, "(0 + 100) / 2 × 10");
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        // N(t) = 5 t²: a quarter of the arrivals in the first half of the time.
        let first_half = s.iter().filter(|d| d.as_secs_f64() < 5.0).count();
        assert!((124..=126).contains(&first_half), "{first_half}");
        let flat = Arrivals::Ramp { from: 10.0, to: 10.0, duration: Duration::from_secs(2) }.schedule();
        assert_eq!(flat.len(), 20);
        assert!((flat[19].as_secs_f64() - 1.9).abs() < 1e-9);
        let down = Arrivals::Ramp { from: 100.0, to: 0.0, duration: Duration::from_secs(10) }.schedule();
        assert_eq!(down.len(), 500);
        assert!(down.iter().filter(|d| d.as_secs_f64() < 5.0).count() > 370);
    }

    #[test]
    fn models_from_the_file() {
        let f = LoadFile { users: Some(3), iterations: Some(10), ..Default::default() };
        assert_eq!(LoadModel::from_file(&f).unwrap(), (LoadModel::Closed { duration: None, iterations: Some(10) }, 3));
        assert!(LoadModel::from_file(&LoadFile::default()).is_err(), "closed needs an end");
        let f = LoadFile {
            model: Some("open".into()),
            arrival: Some("spike".into()),
            count: Some(5),
            ..Default::default()
        };
        assert!(format!("{:#}", LoadModel::from_file(&f).unwrap_err()).contains("within"));
        let f =
            LoadFile { model: Some("open".into()), rate: Some(1e9), duration: Some("1h".into()), ..Default::default() };
        assert!(LoadModel::from_file(&f).is_err(), "too many arrivals");
        let f = LoadFile { model: Some("sideways".into()), ..Default::default() };
        assert!(LoadModel::from_file(&f).is_err());
    }
}
