//! Start-up benchmark: time from process start to the `initialize` answer, and peak resident
//! memory after `tools/list`, over several runs of the built binary.
//!
//! Run with `cargo bench --bench startup`. Targets: initialize answered within 20 ms of process
//! start, under 15 MiB resident.

// A benchmark harness, like a test: failing loudly is what it should do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const RUNS: usize = 20;

// Each benchmark uses part of the shared process helpers.
#[allow(dead_code)]
#[path = "support/proc.rs"]
mod proc;
use proc::peak_rss_kib;

fn one_run() -> (Duration, Option<u64>) {
    let started = Instant::now();
    let mut child = proc::stdio_server(BIN, &[]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"bench","version":"1"}}}}}}"#
    )
    .expect("write");
    let mut line = String::new();
    stdout.read_line(&mut line).expect("initialize answer");
    let to_initialize = started.elapsed();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .expect("write");
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).expect("write");
    line.clear();
    stdout.read_line(&mut line).expect("tools/list answer");
    let rss = peak_rss_kib(child.id());
    drop(stdin);
    let _ = child.wait();
    (to_initialize, rss)
}

fn main() {
    let mut times = Vec::with_capacity(RUNS);
    let mut peaks = Vec::with_capacity(RUNS);
    one_run(); // warm the page cache
    for _ in 0..RUNS {
        let (t, rss) = one_run();
        times.push(t);
        peaks.extend(rss);
    }
    times.sort();
    let median = times[RUNS / 2];
    let worst = times[RUNS - 1];
    println!("start-up to initialize answer over {RUNS} runs: median {median:?}, worst {worst:?} (target < 20 ms)");
    if let Some(max) = peaks.iter().max() {
        println!(
            "peak resident memory after tools/list: {:.1} MiB (target < 15 MiB)",
            *max as f64 / 1024.0
        );
    }
}
