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

/// A server process serving HTTP, and its MCP endpoint's URL; killed when dropped.
pub struct HttpServer {
    pub child: std::process::Child,
    pub url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `cmd` (an HTTP transport on port 0, logging at info or finer) and wait for the line
/// that names its port; its stdin and stdout are closed, its stderr read here.
pub fn http_server(mut cmd: std::process::Command) -> HttpServer {
    use std::io::BufRead;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("listening");
    HttpServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    }
}
