//! Guarding calls to the national systems: a timeout on every call, a bound on calls in flight
//! and a circuit breaker.
//!
//! Why all three: on 28 Aug 2025 the national e-ID answered slowly, then not at all, for hours.
//! Without a timeout each login holds a task and a socket until the OS gives up; without a bound
//! a burst of logins piles thousands of requests onto a system that is already drowning; without
//! a breaker every citizen waits for the full timeout to learn what the previous hundred already
//! learned. With them, citizens get an honest "try again later" page within milliseconds, and
//! the upstream gets room to recover.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

/// Limits applied to one upstream system.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GuardConfig {
    /// Upper bound on one upstream call, connection and body included.
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Calls in flight beyond this fail at once with "overloaded" instead of queueing.
    pub max_in_flight: usize,
    /// Consecutive failures (5xx, maintenance page, timeouts, malformed answers) that open the
    /// circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before one probe call is let through.
    #[serde(with = "millis")]
    pub cool_down: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            timeout: Duration::from_secs(5),
            max_in_flight: 256,
            failure_threshold: 5,
            cool_down: Duration::from_secs(15),
        }
    }
}

/// Durations as integer milliseconds in configuration files.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Circuit state, for health pages and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    Closed,
    Open,
    /// Cool-down over; one probe call decides whether to close or reopen.
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Why a guarded call did not produce the inner result.
#[derive(Debug)]
pub enum Guarded<E> {
    /// The circuit is open: the upstream failed repeatedly and is given time to recover.
    CircuitOpen,
    /// Too many calls in flight already.
    Overloaded,
    TimedOut,
    Inner(E),
}

impl<E> Guarded<E> {
    pub fn map_inner<F>(self, f: impl FnOnce(E) -> F) -> Guarded<F> {
        match self {
            Guarded::CircuitOpen => Guarded::CircuitOpen,
            Guarded::Overloaded => Guarded::Overloaded,
            Guarded::TimedOut => Guarded::TimedOut,
            Guarded::Inner(e) => Guarded::Inner(f(e)),
        }
    }
}

/// Timeout + in-flight bound + circuit breaker for one upstream system. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Guard {
    cfg: GuardConfig,
    permits: Arc<Semaphore>,
    state: Arc<Mutex<State>>,
}

impl Guard {
    pub fn new(cfg: GuardConfig) -> Self {
        let permits = Arc::new(Semaphore::new(cfg.max_in_flight.max(1)));
        Guard { cfg, permits, state: Arc::new(Mutex::new(State::Closed { failures: 0 })) }
    }

    pub fn state(&self) -> CircuitState {
        let Ok(mut s) = self.state.lock() else { return CircuitState::Open };
        match &*s {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { until } if Instant::now() >= *until => {
                *s = State::HalfOpen { probing: false };
                CircuitState::HalfOpen
            }
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// Whether a call would be refused right now because the circuit is open.
    pub fn is_open(&self) -> bool {
        match self.state() {
            CircuitState::Open => true,
            CircuitState::HalfOpen => {
                self.state.lock().map(|s| matches!(*s, State::HalfOpen { probing: true })).unwrap_or(true)
            }
            CircuitState::Closed => false,
        }
    }

    /// Runs `call` under the guard. `is_fault` says which inner errors mean the upstream is
    /// unhealthy (and count towards opening the circuit) as opposed to a healthy upstream saying
    /// no (a refused code, an unknown person), which must not trip it.
    pub async fn run<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>>,
        is_fault: impl Fn(&E) -> bool,
    ) -> Result<T, Guarded<E>> {
        let Some(mut ticket) = self.admit() else {
            return Err(Guarded::CircuitOpen);
        };
        // Refuse rather than queue: a queue in front of an overloaded system only adds latency.
        let Ok(_permit) = self.permits.try_acquire() else {
            return Err(Guarded::Overloaded);
        };
        match tokio::time::timeout(self.cfg.timeout, call).await {
            Err(_) => {
                ticket.record(false);
                Err(Guarded::TimedOut)
            }
            Ok(Ok(v)) => {
                ticket.record(true);
                Ok(v)
            }
            Ok(Err(e)) => {
                ticket.record(!is_fault(&e));
                Err(Guarded::Inner(e))
            }
        }
    }

    /// `None` while the circuit is open (or half-open with its probe already out).
    fn admit(&self) -> Option<Ticket<'_>> {
        let mut s = self.state.lock().ok()?;
        match &*s {
            State::Closed { .. } => Some(Ticket { guard: self, probe: false, done: false }),
            State::Open { until } if Instant::now() < *until => None,
            State::Open { .. } | State::HalfOpen { probing: false } => {
                *s = State::HalfOpen { probing: true };
                Some(Ticket { guard: self, probe: true, done: false })
            }
            State::HalfOpen { probing: true } => None,
        }
    }
}

/// Permission to make one call; records its outcome exactly once.
struct Ticket<'a> {
    guard: &'a Guard,
    probe: bool,
    done: bool,
}

impl Ticket<'_> {
    fn record(&mut self, healthy: bool) {
        self.done = true;
        let Ok(mut s) = self.guard.state.lock() else { return };
        let threshold = self.guard.cfg.failure_threshold.max(1);
        let open = || State::Open { until: Instant::now() + self.guard.cfg.cool_down };
        *s = match (&*s, healthy) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < threshold => State::Closed { failures: failures + 1 },
            (State::Closed { .. }, false) => {
                tracing::warn!(threshold, "upstream circuit opened after consecutive failures");
                open()
            }
            // A failed probe, or a late failure while open: (re)start the cool-down.
            (_, false) => open(),
        };
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        // A cancelled probe (the caller gave up) must not leave the circuit half-open forever
        // with no probe allowed.
        if self.probe
            && !self.done
            && let Ok(mut s) = self.guard.state.lock()
            && matches!(*s, State::HalfOpen { probing: true })
        {
            *s = State::HalfOpen { probing: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(threshold: u32, cool_down_ms: u64) -> Guard {
        Guard::new(GuardConfig {
            timeout: Duration::from_millis(50),
            max_in_flight: 2,
            failure_threshold: threshold,
            cool_down: Duration::from_millis(cool_down_ms),
        })
    }

    async fn fail(g: &Guard) -> Result<(), Guarded<&'static str>> {
        g.run(async { Err::<(), _>("boom") }, |_| true).await
    }

    #[tokio::test]
    async fn opens_after_threshold_and_recovers_after_probe() {
        let g = guard(3, 30);
        for _ in 0..3 {
            assert!(matches!(fail(&g).await, Err(Guarded::Inner("boom"))));
        }
        assert!(matches!(fail(&g).await, Err(Guarded::CircuitOpen)));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(g.state(), CircuitState::HalfOpen);
        // A failed probe reopens.
        assert!(matches!(fail(&g).await, Err(Guarded::Inner(_))));
        assert_eq!(g.state(), CircuitState::Open);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(g.run(async { Ok::<_, ()>(1) }, |_| true).await.is_ok());
        assert_eq!(g.state(), CircuitState::Closed);
    }

    #[tokio::test]
    async fn refusals_that_are_not_faults_keep_it_closed() {
        let g = guard(2, 1000);
        for _ in 0..5 {
            let r = g.run(async { Err::<(), _>("invalid_grant") }, |_| false).await;
            assert!(matches!(r, Err(Guarded::Inner(_))));
        }
        assert_eq!(g.state(), CircuitState::Closed);
    }

    #[tokio::test]
    async fn timeouts_and_the_in_flight_bound() {
        let g = guard(10, 1000);
        let slow = || {
            g.run(
                async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<(), ()>(())
                },
                |_| true,
            )
        };
        let (a, b, c) = tokio::join!(slow(), slow(), slow());
        let results = [a, b, c];
        assert_eq!(results.iter().filter(|r| matches!(r, Err(Guarded::TimedOut))).count(), 2);
        assert_eq!(results.iter().filter(|r| matches!(r, Err(Guarded::Overloaded))).count(), 1);
    }
}
