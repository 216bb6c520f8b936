//! Wall-clock time as the stores and tokens keep it: whole seconds since the Unix epoch.

/// Seconds since the Unix epoch; 0 if the system clock is set before 1970.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
