//! Whole-suite replay wall time with one stack server and with two
//! (`--stack-replicas`), run alternately in one invocation so both see the
//! same machine:
//!
//! ```text
//! cargo bench --bench replicas            # 3 rounds of each
//! ROUNDS=5 cargo bench --bench replicas
//! ```
//!
//! Each run is the integration binary as `cargo test --test integration`
//! runs it, in replay, from a cold session (the stacks start inside the
//! measured time); the libtest JSON's own `exec_time` gives the test phase
//! alone. Prints medians and the ratio two/one.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let binary = integration_binary();
    let mut results: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (slot, replicas) in [1usize, 2].into_iter().enumerate() {
            let (wall, tests) = run(&binary, replicas);
            println!(
                "round {round}: --stack-replicas {replicas}: wall {wall:.2} s, test phase {tests:.2} s"
            );
            results[slot].push((wall, tests));
        }
    }
    let median = |values: Vec<f64>| {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let summary: Vec<(f64, f64)> = results
        .iter()
        .map(|r| {
            (
                median(r.iter().map(|x| x.0).collect()),
                median(r.iter().map(|x| x.1).collect()),
            )
        })
        .collect();
    for (replicas, (wall, tests)) in [1, 2].iter().zip(&summary) {
        println!("median --stack-replicas {replicas}: wall {wall:.2} s, test phase {tests:.2} s");
    }
    println!(
        "two replicas / one: wall {:.2}x, test phase {:.2}x (below 1 is faster)",
        summary[1].0 / summary[0].0,
        summary[1].1 / summary[0].1
    );
}

/// Builds the integration target and returns its executable.
fn integration_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "test",
            "--test",
            "integration",
            "--no-run",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo builds the integration target");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["target"]["name"] == "integration")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the integration executable")
}

/// One whole-suite replay: its wall time and its test phase, in seconds.
fn run(binary: &PathBuf, replicas: usize) -> (f64, f64) {
    let started = Instant::now();
    let out = Command::new(binary)
        .args(["--format", "json", "-Z", "unstable-options"])
        .arg(format!("--stack-replicas={replicas}"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LLAMA_STACK_TEST_INFERENCE_MODE", "replay")
        .stderr(Stdio::null())
        .output()
        .expect("the integration binary runs");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "the suite failed with --stack-replicas {replicas}"
    );
    let tests = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["type"] == "suite" && e["event"] != "started")
        .find_map(|e| e["exec_time"].as_f64())
        .unwrap_or(f64::NAN);
    (wall, tests)
}
