//! Latency benchmark: the built binary over stdio against the ALTR sandbox, every sandbox answer
//! held back by a fixed delay (the sandbox's `delay` fault on every path), so a tool's wall time
//! shows how many upstream round trips it waits for one after another.
//!
//! Run with `cargo bench --bench latency`; the delay is 100 ms unless `ALTR_BENCH_DELAY_MS` or
//! `-- --delay-ms N` says otherwise, and each tool runs `ALTR_BENCH_RUNS` times (default 5) after
//! one warm-up call. For each tool it prints the median wall time, the upstream requests the call
//! made (the sandbox's request log) and the lower bound: rounds (requests that must follow one
//! another) × delay, plus the pauses a polling tool takes by design. Targets: get_policies under
//! 250 ms, update_rule under 350 ms with the rule on the first page, no tool slower than its
//! bound + 30 ms. It only measures and prints: it never fails on time.
//!
//! Setup: the demo org's TAG policy (5 rules) gets 150 more through add_rules before the delay
//! is armed, 155 rules in all (the issue's case), so its rules span 7 pages of 25.

// A benchmark harness, like a test: failing loudly is what it should do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use altr_mcp::sandbox::{faults, FaultSpec, LoggedRequest, Sandbox, Seed};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
/// The delay on every sandbox answer unless `ALTR_BENCH_DELAY_MS` / `--delay-ms` says otherwise.
const DEFAULT_DELAY_MS: u64 = 100;
const DEFAULT_RUNS: usize = 5;
/// Rules added to the demo policy's 5 before measuring: 155 in all.
const EXTRA_RULES: usize = 150;
/// Slack over the lower bound a tool may take ("no tool slower than rounds × delay + 30 ms").
const SLACK_MS: f64 = 30.0;
const POLICIES_TARGET_MS: f64 = 250.0;
const UPDATE_RULE_TARGET_MS: f64 = 350.0;

/// How many of a call's requests must be made one after another (its rounds), from the requests
/// it made. The server's own reasons, per tool, are in [`cases`].
#[derive(Clone, Copy)]
enum Rounds {
    /// Each request needs the answer before it (pages, batches, a read then a write).
    Sequential,
    /// Requests with different values of this query parameter are independent listings the
    /// server may send side by side (at most 8 at a time, more than the listings here); pages of
    /// one listing still follow one another, so the rounds are the longest listing's pages.
    SideBySide(&'static str),
    /// Requests whose path contains this run beside the others (they add no round); the rest
    /// are sequential.
    Beside(&'static str),
}

impl Rounds {
    fn of(self, requests: &[LoggedRequest]) -> usize {
        match self {
            Rounds::Sequential => requests.len(),
            Rounds::SideBySide(param) => {
                let mut pages: Vec<(String, usize)> = Vec::new();
                for r in requests {
                    let key = query_value(&r.query, param).unwrap_or_default();
                    match pages.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, n)) => *n += 1,
                        None => pages.push((key, 1)),
                    }
                }
                pages.iter().map(|(_, n)| *n).max().unwrap_or(0)
            }
            Rounds::Beside(part) => requests.iter().filter(|r| !r.path.contains(part)).count(),
        }
    }
}

fn query_value(query: &str, param: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == param)
        .map(|(_, v)| v.to_string())
}

/// The pauses a search with `wait_seconds` takes before its `polls` polls, as the server's
/// audit polling does them: a quarter second, then doubling up to one second.
fn poll_pauses_ms(polls: usize) -> u64 {
    (0..polls)
        .map(|i| (250u64 << i.min(2)).min(1000))
        .sum::<u64>()
}

/// One measured tool call.
struct Case {
    label: &'static str,
    tool: &'static str,
    args: Value,
    rounds: Rounds,
    /// The call polls (search with wait_seconds): every request after the first is a poll.
    polls: bool,
    /// A named target in ms, beside the bound check.
    target_ms: Option<f64>,
}

fn case(label: &'static str, tool: &'static str, args: Value, rounds: Rounds) -> Case {
    Case {
        label,
        tool,
        args,
        rounds,
        polls: false,
        target_ms: None,
    }
}

/// The server over stdio: one request line out, lines in until its answer.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(sandbox: &Sandbox) -> Server {
        let mut child = Command::new(BIN)
            .env_clear()
            .envs(sandbox.env())
            .env("ALTR_CONFIRM", "never")
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut server = Server {
            child,
            stdin,
            stdout,
            next_id: 1,
        };
        server.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}),
        );
        writeln!(
            server.stdin,
            r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
        )
        .unwrap();
        server
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.stdin, "{line}").unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "server hung up"
            );
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Call a tool; its `{success, data, error}` envelope (panics on a failed call).
    fn call(&mut self, tool: &str, args: &Value) -> Value {
        let answer = self.request("tools/call", json!({"name": tool, "arguments": args}));
        let envelope = answer["result"]["structuredContent"].clone();
        assert_eq!(envelope["success"], true, "{tool} {args}: {answer}");
        envelope
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every rule object (with a `rule_id`) anywhere in `v`.
fn rules_in(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(o) if o.contains_key("rule_id") => out.push(v.clone()),
        Value::Object(o) => o.values().for_each(|x| rules_in(x, out)),
        Value::Array(a) => a.iter().for_each(|x| rules_in(x, out)),
        _ => {}
    }
}

/// The delay: `--delay-ms N` / `--delay-ms=N`, else `ALTR_BENCH_DELAY_MS`, else 100 ms.
fn delay_ms() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    let flag = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--delay-ms=")
            .map(str::to_string)
            .or_else(|| (a == "--delay-ms").then(|| args.get(i + 1).cloned().unwrap_or_default()))
    });
    flag.or_else(|| std::env::var("ALTR_BENCH_DELAY_MS").ok())
        .map(|v| {
            v.trim()
                .parse()
                .expect("the delay must be whole milliseconds")
        })
        .unwrap_or(DEFAULT_DELAY_MS)
}

fn runs() -> usize {
    std::env::var("ALTR_BENCH_RUNS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_RUNS)
}

/// The representative tools. `policy` is the demo TAG policy; `first` a rule on its first page
/// of rules, `last` one on its last page; `rules` what add_rules re-puts (unchanged rules, so
/// the org stays the same run after run).
fn cases(policy: &str, first: &str, last: &str, rules: &Value) -> Vec<Case> {
    use Rounds::{Beside, Sequential, SideBySide};
    // update_rule reads the policy's rules up to the page holding the rule (pages follow one
    // another), then writes; the masking-level lookup for tag policies runs beside the read
    // (and is remembered after the first call).
    let update = |rule: &str, level: i64| json!({"policy_id": policy, "rule_id": rule, "masking_policy": level});
    vec![
        case("get_databases", "get_databases", json!({}), Sequential),
        // Pages follow one another (each needs the cursor of the one before).
        case("get_tags", "get_tags", json!({}), Sequential),
        // One listing per policy type (7), independent of each other: 1 round per page depth.
        Case {
            target_ms: Some(POLICIES_TARGET_MS),
            ..case(
                "get_policies",
                "get_policies",
                json!({}),
                SideBySide("policy_type"),
            )
        },
        // 155 rules, 25 a page: 7 pages, each after the one before.
        case(
            "get_rules (155 rules)",
            "get_rules",
            json!({"policy_id": policy}),
            Sequential,
        ),
        Case {
            target_ms: Some(UPDATE_RULE_TARGET_MS),
            ..case(
                "update_rule (rule on page 1)",
                "update_rule",
                update(first, 10002),
                Beside("supportedMaskingTypes"),
            )
        },
        case(
            "update_rule (rule on page 7)",
            "update_rule",
            update(last, 10001),
            Beside("supportedMaskingTypes"),
        ),
        // A dry run makes the reads only (the write is recorded, not sent).
        case(
            "update_rule dry_run (page 1)",
            "update_rule",
            json!({"policy_id": policy, "rule_id": first, "masking_policy": 10000, "dry_run": true}),
            Beside("supportedMaskingTypes"),
        ),
        // Batches of 99 go one after another, so a failed batch can say how many were added.
        case(
            "add_rules (150 rules)",
            "add_rules",
            json!({"policy_id": policy, "rules": rules}),
            Beside("supportedMaskingTypes"),
        ),
        case("get_jobs", "get_jobs", json!({}), Sequential),
        // Start, then polls each after a pause: the pauses are part of the bound.
        Case {
            polls: true,
            ..case(
                "search_query_audits (wait_seconds 5)",
                "search_query_audits",
                json!({"wait_seconds": 5}),
                Sequential,
            )
        },
        case(
            "list_sc_sidecars",
            "list_sc_sidecars",
            json!({}),
            Sequential,
        ),
        case(
            "vault_tokenize",
            "vault_tokenize",
            json!({"values": {"ssn": "123-45-6789", "email": "ada@example.com"}}),
            Sequential,
        ),
    ]
}

struct Row {
    label: &'static str,
    requests: String,
    rounds: usize,
    wall_ms: f64,
    bound_ms: f64,
    target_ms: Option<f64>,
}

fn measure(server: &mut Server, sandbox: &Sandbox, c: &Case, runs: usize, delay: u64) -> Row {
    server.call(c.tool, &c.args); // warm-up: connections, remembered lookups
    let mut samples: Vec<(Duration, Vec<LoggedRequest>)> = (0..runs)
        .map(|_| {
            sandbox.clear_requests();
            let started = Instant::now();
            server.call(c.tool, &c.args);
            let wall = started.elapsed();
            (wall, sandbox.requests())
        })
        .collect();
    let counts: Vec<usize> = samples.iter().map(|(_, r)| r.len()).collect();
    let (low, high) = (
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().max().copied().unwrap_or(0),
    );
    samples.sort_by_key(|(wall, _)| *wall);
    let (wall, requests) = &samples[samples.len() / 2];
    let rounds = c.rounds.of(requests);
    let pauses = if c.polls {
        poll_pauses_ms(requests.len().saturating_sub(1))
    } else {
        0
    };
    Row {
        label: c.label,
        requests: if low == high {
            low.to_string()
        } else {
            format!("{low}-{high}")
        },
        rounds,
        wall_ms: wall.as_secs_f64() * 1000.0,
        bound_ms: (rounds as u64 * delay + pauses) as f64,
        target_ms: c.target_ms,
    }
}

fn main() {
    let delay = delay_ms();
    let runs = runs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(Sandbox::start(0, Seed::Demo))
        .expect("start the sandbox");
    let mut server = Server::start(&sandbox);

    // Setup, before the delay: the demo TAG policy, grown to 155 rules.
    let listed = server.call("get_policies", &json!({"policy_type": "TAG"}));
    let policy = listed["data"]["policies"][0]["policy_id"]
        .as_str()
        .expect("the demo org has a TAG policy")
        .to_string();
    let roles = altr_mcp::sandbox::policies::ROLES;
    let extra: Vec<Value> = (0..EXTRA_RULES)
        .map(|i| {
            json!({
                "masking_policy": 10001 + (i % 4) as i64,
                "role": roles[i % roles.len()],
                "tag_value": format!("BENCH_{i:03}"),
            })
        })
        .collect();
    let extra = Value::Array(extra);
    server.call("add_rules", &json!({"policy_id": policy, "rules": extra}));
    let mut rules = Vec::new();
    rules_in(
        &server.call("get_rules", &json!({"policy_id": policy}))["data"],
        &mut rules,
    );
    // The sandbox pages rules in rule_id order (ids grow with creation): the smallest is on the
    // first page, the largest on the last.
    let mut ids: Vec<String> = rules
        .iter()
        .filter_map(|r| r["rule_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    let (first, last) = (ids.first().unwrap().clone(), ids.last().unwrap().clone());

    sandbox
        .inject(FaultSpec {
            path: "/*".into(),
            kind: "delay".into(),
            delay_ms: Some(delay),
            count: Some(faults::MAX_COUNT),
            ..FaultSpec::default()
        })
        .expect("arm the delay");

    println!(
        "Latency: every sandbox answer delayed {delay} ms; median of {runs} runs after a warm-up; policy with {} rules.\n",
        ids.len()
    );
    println!("| tool | requests | rounds | wall ms | lower bound ms | bound + {SLACK_MS:.0} ms |");
    println!("|---|---:|---:|---:|---:|---|");
    let mut rows = Vec::new();
    for c in cases(&policy, &first, &last, &extra) {
        let row = measure(&mut server, &sandbox, &c, runs, delay);
        let check = if row.wall_ms <= row.bound_ms + SLACK_MS {
            "ok"
        } else {
            "over"
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {check} |",
            row.label, row.requests, row.rounds, row.wall_ms, row.bound_ms
        );
        rows.push(row);
    }
    println!("\nTargets (set for the default {DEFAULT_DELAY_MS} ms delay):");
    for row in rows.iter().filter(|r| r.target_ms.is_some()) {
        let target = row.target_ms.unwrap_or_default();
        let check = if row.wall_ms < target { "ok" } else { "over" };
        println!(
            "- {}: {:.0} ms (target < {target:.0} ms): {check}",
            row.label, row.wall_ms
        );
    }
    let over: Vec<&str> = rows
        .iter()
        .filter(|r| r.wall_ms > r.bound_ms + SLACK_MS)
        .map(|r| r.label)
        .collect();
    if over.is_empty() {
        println!("- every tool within rounds × delay + {SLACK_MS:.0} ms: ok");
    } else {
        println!(
            "- every tool within rounds × delay + {SLACK_MS:.0} ms: over ({})",
            over.join(", ")
        );
    }
    drop(server);
    drop(sandbox);
}
