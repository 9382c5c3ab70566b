//! Short, glanceable durations for reasons and entries: "350ms", "1.2s", "47s", "2m05s", "1h02m".

use std::time::Duration;

use jiff::SignedDuration;

/// Above this a duration is shown as "∞" (a lag of +inf, an unbounded exposure).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

pub fn duration(d: Duration) -> String {
    if d >= FOREVER {
        return "∞".into();
    }
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 10_000 {
        // One decimal below 10s, where it matters ("1.2s ≥ 1s"); trimmed when whole.
        let tenths = (ms + 50) / 100;
        return if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        };
    }
    let s = d.as_secs();
    if s < 60 {
        return format!("{s}s");
    }
    if s < 3600 {
        let (m, s) = (s / 60, s % 60);
        return if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s:02}s")
        };
    }
    let (h, m) = (s / 3600, (s % 3600) / 60);
    if m == 0 {
        format!("{h}h")
    } else {
        format!("{h}h{m:02}m")
    }
}

/// A signed duration: negative ones (an RTO budget overrun) get a leading "-".
pub fn signed(d: SignedDuration) -> String {
    let s = duration(d.unsigned_abs());
    if d.is_negative() { format!("-{s}") } else { s }
}

/// Seconds as a probe reports them (a lag, a backup age).
pub fn seconds(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    let d = Duration::try_from_secs_f64(x.abs()).unwrap_or(Duration::MAX);
    if x < 0.0 {
        format!("-{}", duration(d))
    } else {
        duration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(Duration::from_millis(350)), "350ms");
        assert_eq!(duration(Duration::from_millis(1200)), "1.2s");
        assert_eq!(duration(Duration::from_secs(1)), "1s");
        assert_eq!(duration(Duration::from_millis(9_960)), "10s");
        assert_eq!(duration(Duration::from_millis(47_900)), "47s");
        assert_eq!(duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(duration(Duration::from_secs(900)), "15m");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(duration(Duration::from_secs(26 * 3600)), "26h");
        assert_eq!(duration(Duration::MAX), "∞");
    }

    #[test]
    fn signed_and_seconds() {
        assert_eq!(signed(SignedDuration::from_secs(-300)), "-5m");
        assert_eq!(signed(SignedDuration::from_secs(61)), "1m01s");
        assert_eq!(seconds(-1.0), "-1s");
        assert_eq!(seconds(40.0), "40s");
        assert_eq!(seconds(f64::NAN), "NaN");
        assert_eq!(seconds(f64::INFINITY), "∞");
    }
}
