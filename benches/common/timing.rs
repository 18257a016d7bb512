//! A minimal timing harness for the `harness = false` benches: run a closure a few times and
//! report the best and the median, with throughput.

use std::time::{Duration, Instant};

/// Runs `f` `runs` times (after one warm-up run) and prints `name`: best and median time, and
/// `items` per second and `bytes` MB per second at the median. `f` returns a value that is
/// passed to `std::hint::black_box` so its work is not optimised away.
pub fn bench<T>(name: &str, runs: usize, items: u64, bytes: u64, mut f: impl FnMut() -> T) {
    std::hint::black_box(f());
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    let secs = median.as_secs_f64();
    println!(
        "{name:<40} best {:>9.3} ms  median {:>9.3} ms  {:>12.0} items/s  {:>8.1} MB/s  {:>7.1} ns/item",
        best.as_secs_f64() * 1e3,
        secs * 1e3,
        items as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e9 / items.max(1) as f64,
    );
}

/// `BENCH_ROWS` from the environment, else `default`.
pub fn rows(default: usize) -> usize {
    std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
