//! `--ratelimit`: a token bucket over the bytes a storage moves.
//!
//! One bucket is shared by every transfer that holds it (the export gives the same bucket to its
//! input and output storage, so the limit is on the total). The bucket holds at most one second of
//! tokens. A transfer takes its tokens before it moves the bytes and may go into debt (an 8 MiB
//! part under a 1 MiB/s limit); it then sleeps until the debt is paid, so the long-run rate never
//! exceeds the limit and concurrent transfers queue behind each other.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes per MiB, the unit of `--ratelimit`.
pub const MIB: u64 = 1024 * 1024;

/// A token bucket; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct RateLimiter {
    bytes_per_second: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens (bytes) available; negative while in debt.
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimiter {
    /// A limiter of `bytes_per_second` (at least 1), starting full.
    pub fn new(bytes_per_second: u64) -> Self {
        let rate = bytes_per_second.max(1) as f64;
        RateLimiter {
            bytes_per_second: rate,
            state: Mutex::new(Bucket {
                tokens: rate,
                refilled_at: Instant::now(),
            }),
        }
    }

    /// A limiter of `mib` MiB/s.
    pub fn per_second_mib(mib: u64) -> Self {
        RateLimiter::new(mib.saturating_mul(MIB))
    }

    /// The configured rate.
    pub fn bytes_per_second(&self) -> u64 {
        self.bytes_per_second as u64
    }

    /// Takes `bytes` tokens and returns how long the caller must wait before moving them.
    pub fn reserve(&self, bytes: usize) -> Duration {
        let now = Instant::now();
        let Ok(mut bucket) = self.state.lock() else {
            return Duration::ZERO;
        };
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens =
            (bucket.tokens + elapsed * self.bytes_per_second).min(self.bytes_per_second);
        bucket.refilled_at = now;
        bucket.tokens -= bytes as f64;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / self.bytes_per_second)
        }
    }

    /// Waits (asynchronously) until `bytes` may be moved.
    pub async fn acquire(&self, bytes: usize) {
        let wait = self.reserve(bytes);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_debt() {
        let limiter = RateLimiter::new(1000);
        assert_eq!(
            limiter.reserve(1000),
            Duration::ZERO,
            "starts with one second"
        );
        let wait = limiter.reserve(500);
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // A second caller queues behind the first one's debt.
        let wait = limiter.reserve(500);
        assert!(wait > Duration::from_millis(900), "{wait:?}");
    }

    #[test]
    fn refill_is_capped_at_one_second() {
        let limiter = RateLimiter::new(1_000_000);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(limiter.reserve(1_000_000), Duration::ZERO);
        assert!(limiter.reserve(1_000_000) > Duration::from_millis(900));
        assert_eq!(RateLimiter::per_second_mib(2).bytes_per_second(), 2 * MIB);
    }

    #[test]
    fn throughput_is_bounded() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // 64 KiB/s; 1 s of burst, then 32 KiB more must take about half a second.
        let limiter = RateLimiter::new(64 * 1024);
        let started = Instant::now();
        runtime.block_on(async {
            for _ in 0..24 {
                limiter.acquire(4 * 1024).await;
            }
        });
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
            "{elapsed:?}"
        );
    }
}
