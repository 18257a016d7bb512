//! Progress of a long run, on stderr: a live line on a terminal, JSON lines otherwise.
//!
//! Workers only bump atomics when a range finishes; one reporter thread reads them on a timer, so
//! reporting costs nothing on the hot path.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::report::human_bytes;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A live line when stderr is a terminal, JSON lines every 10 s otherwise.
    #[default]
    Auto,
    /// Always the live line.
    Bar,
    /// JSON lines (`{"event":"progress",...}`) every 10 s.
    Json,
    /// Nothing.
    None,
}

impl std::str::FromStr for ProgressMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ProgressMode::Auto),
            "bar" => Ok(ProgressMode::Bar),
            "json" => Ok(ProgressMode::Json),
            "none" => Ok(ProgressMode::None),
            other => Err(format!(
                "unknown progress mode {other:?}; use auto, bar, json or none"
            )),
        }
    }
}

/// Counters shared by the workers.
///
/// Ranges, rows and files done count the jobs resumed from a previous run too, so that the run's
/// progress reaches its end; the `*_resumed` parts are left out of the rates, which measure this
/// run's work, and so out of the ETA.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub ranges_done: AtomicU64,
    /// Part of `ranges_done` resumed from a previous run.
    pub ranges_resumed: AtomicU64,
    pub rows: AtomicU64,
    /// Part of `rows` resumed from a previous run.
    pub rows_resumed: AtomicU64,
    pub files: AtomicU64,
    /// SST bytes this run read.
    pub bytes_read: AtomicU64,
    /// SST bytes of the ranges resumed from a previous run (not read).
    pub bytes_resumed: AtomicU64,
}

/// A running reporter; stops (and prints a final line) when dropped.
pub(crate) struct Reporter {
    counters: Arc<Counters>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
    finished_ok: Arc<AtomicBool>,
}

struct Totals {
    ranges: u64,
    bytes: u64,
}

impl Reporter {
    /// Starts reporting a run of `ranges` ranges holding `bytes` bytes of SSTs.
    pub(crate) fn start(mode: ProgressMode, ranges: u64, bytes: u64) -> Self {
        let counters = Arc::new(Counters::default());
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let finished_ok = Arc::new(AtomicBool::new(false));
        let live = match mode {
            ProgressMode::None => None,
            ProgressMode::Bar => Some(true),
            ProgressMode::Json => Some(false),
            ProgressMode::Auto => Some(std::io::stderr().is_terminal()),
        };
        let thread = live.map(|live| {
            let counters = counters.clone();
            let stop = stop.clone();
            let finished_ok = finished_ok.clone();
            let totals = Totals { ranges, bytes };
            std::thread::Builder::new()
                .name("br-parquet-progress".into())
                .spawn(move || report_loop(live, &counters, &totals, &stop, &finished_ok))
                .ok()
        });
        Reporter {
            counters,
            stop,
            thread: thread.flatten(),
            finished_ok,
        }
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Marks the run as complete, so the last line says so.
    pub(crate) fn finish(&self) {
        self.finished_ok.store(true, Ordering::Relaxed);
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Ok(mut stopped) = self.stop.0.lock() {
            *stopped = true;
        }
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn report_loop(
    live: bool,
    counters: &Counters,
    totals: &Totals,
    stop: &(Mutex<bool>, Condvar),
    finished_ok: &AtomicBool,
) {
    let started = Instant::now();
    let interval = if live {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(10)
    };
    let mut stderr = std::io::stderr();
    loop {
        let stopped = match stop.0.lock() {
            Ok(guard) => match stop.1.wait_timeout(guard, interval) {
                Ok((guard, _)) => *guard,
                Err(_) => true,
            },
            Err(_) => true,
        };
        let line = render(
            live,
            counters,
            totals,
            started.elapsed(),
            stopped,
            finished_ok,
        );
        // Progress is best effort: a closed stderr must not fail the export.
        let _ = if live {
            write!(stderr, "\r\x1b[2K{line}{}", if stopped { "\n" } else { "" })
        } else {
            writeln!(stderr, "{line}")
        };
        if stopped {
            return;
        }
    }
}

fn render(
    live: bool,
    counters: &Counters,
    totals: &Totals,
    elapsed: Duration,
    stopped: bool,
    finished_ok: &AtomicBool,
) -> String {
    let ranges = counters.ranges_done.load(Ordering::Relaxed);
    let ranges_resumed = counters.ranges_resumed.load(Ordering::Relaxed);
    let rows = counters.rows.load(Ordering::Relaxed);
    let rows_exported = rows.saturating_sub(counters.rows_resumed.load(Ordering::Relaxed));
    let files = counters.files.load(Ordering::Relaxed);
    let bytes_read = counters.bytes_read.load(Ordering::Relaxed);
    let bytes_resumed = counters.bytes_resumed.load(Ordering::Relaxed);
    let bytes = bytes_read + bytes_resumed;
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let rate = bytes_read as f64 / seconds;
    let eta = (rate > 0.0 && bytes < totals.bytes).then(|| (totals.bytes - bytes) as f64 / rate);
    let state = match (stopped, finished_ok.load(Ordering::Relaxed)) {
        (false, _) => "running",
        (true, true) => "done",
        (true, false) => "stopped",
    };
    if live {
        let percent = if totals.bytes > 0 {
            100.0 * bytes as f64 / totals.bytes as f64
        } else {
            100.0
        };
        let eta = eta.map_or_else(String::new, |s| format!(", ETA {}", clock(s)));
        let resumed = if ranges_resumed > 0 {
            format!(" ({ranges_resumed} resumed)")
        } else {
            String::new()
        };
        format!(
            "{percent:5.1}% | {} of {} | ranges {ranges}/{}{resumed} | {rows} rows | {files} files | {:.1} MiB/s, {:.0} rows/s{eta} | {state}",
            human_bytes(bytes),
            human_bytes(totals.bytes),
            totals.ranges,
            rate / (1024.0 * 1024.0),
            rows_exported as f64 / seconds,
        )
    } else {
        serde_json::json!({
            "event": "progress",
            "state": state,
            "ranges_done": ranges,
            "ranges_resumed": ranges_resumed,
            "ranges_total": totals.ranges,
            "rows": rows,
            "files": files,
            "sst_bytes_read": bytes_read,
            "sst_bytes_resumed": bytes_resumed,
            "sst_bytes_total": totals.bytes,
            "elapsed_seconds": (seconds * 10.0).round() / 10.0,
            "rows_per_second": (rows_exported as f64 / seconds).round(),
            "eta_seconds": eta.map(|s| s.round()),
        })
        .to_string()
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_the_counts() {
        let counters = Counters::default();
        counters.ranges_done.store(3, Ordering::Relaxed);
        counters.rows.store(3000, Ordering::Relaxed);
        counters.bytes_read.store(50, Ordering::Relaxed);
        let totals = Totals {
            ranges: 6,
            bytes: 100,
        };
        let done = AtomicBool::new(false);
        let line = render(
            false,
            &counters,
            &totals,
            Duration::from_secs(5),
            false,
            &done,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ranges_done"], 3);
        assert_eq!(v["ranges_total"], 6);
        assert_eq!(v["rows_per_second"], 600.0);
        assert_eq!(v["eta_seconds"], 5.0);
        assert_eq!(v["state"], "running");
        let bar = render(
            true,
            &counters,
            &totals,
            Duration::from_secs(5),
            true,
            &AtomicBool::new(true),
        );
        assert!(
            bar.starts_with(" 50.0% | 50 B of 100 B | ranges 3/6 | 3000 rows"),
            "{bar}"
        );
        assert!(bar.ends_with("done"), "{bar}");
    }

    #[test]
    fn resumed_ranges_count_as_done_but_not_in_the_rates() {
        // 2 of 6 ranges (40 of 100 bytes, 2000 rows) resumed; then 1 range (20 bytes, 1000 rows)
        // exported in 5 s: 4 bytes/s, 40 bytes left, so 10 s.
        let counters = Counters::default();
        counters.ranges_done.store(3, Ordering::Relaxed);
        counters.ranges_resumed.store(2, Ordering::Relaxed);
        counters.rows.store(3000, Ordering::Relaxed);
        counters.rows_resumed.store(2000, Ordering::Relaxed);
        counters.bytes_read.store(20, Ordering::Relaxed);
        counters.bytes_resumed.store(40, Ordering::Relaxed);
        let totals = Totals {
            ranges: 6,
            bytes: 100,
        };
        let running = AtomicBool::new(false);
        let elapsed = Duration::from_secs(5);
        let line = render(false, &counters, &totals, elapsed, false, &running);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ranges_done"], 3);
        assert_eq!(v["ranges_resumed"], 2);
        assert_eq!(v["sst_bytes_read"], 20);
        assert_eq!(v["sst_bytes_resumed"], 40);
        assert_eq!(v["rows_per_second"], 200.0);
        assert_eq!(v["eta_seconds"], 10.0);
        let bar = render(true, &counters, &totals, elapsed, false, &running);
        assert!(
            bar.starts_with(" 60.0% | 60 B of 100 B | ranges 3/6 (2 resumed) | 3000 rows"),
            "{bar}"
        );
        assert!(bar.contains("200 rows/s, ETA 0:00:10"), "{bar}");
    }

    #[test]
    fn modes_parse() {
        assert_eq!("json".parse::<ProgressMode>().unwrap(), ProgressMode::Json);
        assert!("fancy".parse::<ProgressMode>().is_err());
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
