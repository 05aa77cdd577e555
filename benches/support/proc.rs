//! What the benchmarks read of a live process.

/// Peak resident set size of a live process in KiB (Linux), if readable.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The server `bin` over stdio with a clean environment and placeholder credentials (a fake API
/// or nothing answers), stderr discarded; `env` adds settings.
pub fn stdio_server(bin: &str, env: &[(&str, String)]) -> std::process::Child {
    let mut cmd = std::process::Command::new(bin);
    cmd.env_clear()
        .env("ORG_ID", "bench")
        .env("MAPI_KEY", "k")
        .env("MAPI_SECRET", "s")
        .env("LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the server")
}
