//! Resident memory from `/proc/self/status`: the high-water mark (`VmHWM`) and the current
//! resident set (`VmRSS`). The high-water mark is reset between stages by writing `5` to
//! `/proc/self/clear_refs` (Linux ≥ 4.0), so that each stage's peak is its own.

/// Memory figures in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    pub peak: u64,
    pub rss: u64,
}

fn field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line
        .trim_start_matches(name)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The current figures, or zeros where `/proc` is not available.
pub fn now() -> Mem {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Mem {
        peak: field(&status, "VmHWM").unwrap_or(0),
        rss: field(&status, "VmRSS").unwrap_or(0),
    }
}

/// Resets the high-water mark to the current resident set; false when the kernel refuses.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
