//! Server CPU from /proc: a process's user + system time, read before and after a run.

use anyhow::{Context, bail};

/// (utime, stime) in clock ticks from the text of /proc/PID/stat.
pub fn parse_stat(text: &str) -> anyhow::Result<(u64, u64)> {
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    let close = text.rfind(')').context("no ')' in /proc/PID/stat")?;
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    if rest.len() < 13 {
        bail!("/proc/PID/stat has too few fields");
    }
    let utime = rest[11].parse().context("utime")?;
    let stime = rest[12].parse().context("stime")?;
    Ok((utime, stime))
}

pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// User + system CPU seconds a process has used so far.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat: is process {pid} running?"))?;
    let (u, s) = parse_stat(&text)?;
    Ok((u + s) as f64 / ticks_per_second())
}

pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// CPU seconds of this process (the load generator itself).
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id()).unwrap_or(0.0)
}

/// Raises the open-files limit: an open-model spike holds a connection per operation in flight,
/// plus connections the pool opens while others are still busy. To the system's ceiling
/// (`fs.nr_open`, up to 1,048,576) where the process may raise its hard limit (root), else to the
/// hard limit.
pub fn raise_nofile_limit() {
    let ceiling: libc::rlim_t = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
        .min(1_048_576);
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return;
        }
        if ceiling > l.rlim_max {
            let higher = libc::rlimit { rlim_cur: ceiling, rlim_max: ceiling };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &higher) == 0 {
                return;
            }
        }
        if l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

/// The open-files limit now in force (for the report).
pub fn nofile_limit() -> libc::rlim_t {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit with a valid pointer to a local struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } == 0 { l.rlim_cur } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let line = "4242 (node (main) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 95 0 0 20 0 11 0 123 456 789";
        assert_eq!(parse_stat(line).unwrap(), (731, 95));
        assert!(parse_stat("1 (x) S 1").is_err());
        assert!(parse_stat("garbage").is_err());
    }

    #[test]
    fn the_open_files_limit_is_raised_not_lowered() {
        let before = nofile_limit();
        raise_nofile_limit();
        assert!(nofile_limit() >= before);
    }

    #[test]
    fn own_process_is_readable() {
        let a = cpu_seconds(std::process::id()).unwrap();
        let mut x = 0u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(std::process::id()).unwrap() >= a);
        assert!(cpu_seconds(u32::MAX - 1).is_err());
    }
}
