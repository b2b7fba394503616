//! Request counts and latencies by route, in Prometheus text format for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The registry. One per process; the route label is the matched route pattern, never the raw
/// path, so the number of series stays small.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Series>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let s = m.entry((method.to_owned(), route.to_owned())).or_default();
            let secs = elapsed.as_secs_f64();
            s.count += 1;
            s.sum_secs += secs;
            if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus exposition of everything recorded so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP kreishaus_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE kreishaus_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "kreishaus_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP kreishaus_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE kreishaus_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for ((method, route), s) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "kreishaus_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ =
                    writeln!(out, "kreishaus_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
                let _ = writeln!(out, "kreishaus_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_secs);
                let _ = writeln!(out, "kreishaus_http_request_duration_seconds_count{{{labels}}} {}", s.count);
            }
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_request() {
        let m = Metrics::default();
        m.record("GET", "/", 200, Duration::from_micros(500));
        m.record("GET", "/", 200, Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains("kreishaus_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 2"));
        assert!(
            text.contains("kreishaus_http_request_duration_seconds_bucket{method=\"GET\",route=\"/\",le=\"0.001\"} 1")
        );
        assert!(
            text.contains("kreishaus_http_request_duration_seconds_bucket{method=\"GET\",route=\"/\",le=\"0.025\"} 2")
        );
        assert!(text.contains("kreishaus_http_request_duration_seconds_count{method=\"GET\",route=\"/\"} 2"));
    }
}
