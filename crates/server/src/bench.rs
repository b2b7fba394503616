//! The benchmarks' tools: a closed-loop load generator over keep-alive HTTP/1.1 connections
//! (`kreishaus bench http`, `kreishaus bench search`) and the synthetic catalogue. They print
//! throughput and latency; they never fail on timing.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The figures of one run.
#[derive(Debug)]
pub struct Figures {
    pub path: String,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<48} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  ({} requests, {} errors)",
            self.path,
            self.per_second(),
            self.p50_us as f64 / 1000.0,
            self.p99_us as f64 / 1000.0,
            self.max_us as f64 / 1000.0,
            self.requests,
            self.errors
        )
    }
}

/// Sends GET `path` to `addr` over `connections` connections for `duration`.
pub async fn run(addr: &str, path: &str, connections: usize, duration: Duration) -> Result<Figures, String> {
    run_many(addr, path, &[path.to_owned()], connections, duration).await
}

/// Sends GET requests for `paths` to `addr` over `connections` connections for `duration`;
/// each connection goes through the paths in turn, starting at a different one. `label` names
/// the run in the figures.
pub async fn run_many(
    addr: &str,
    label: &str,
    paths: &[String],
    connections: usize,
    duration: Duration,
) -> Result<Figures, String> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let addr = addr.to_owned();
        let mut paths = paths.to_vec();
        let start = c % paths.len().max(1);
        paths.rotate_left(start);
        tasks.push(tokio::spawn(async move { connection_loop(&addr, &paths, deadline).await }));
    }
    let started = Instant::now();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Ok(Figures {
        path: label.to_owned(),
        requests: latencies.len() as u64,
        errors,
        seconds,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        max_us: latencies.last().copied().unwrap_or(0),
    })
}

async fn connection_loop(addr: &str, paths: &[String], deadline: Instant) -> Result<(Vec<u64>, u64), String> {
    let requests: Vec<String> =
        paths.iter().map(|p| format!("GET {p} HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: de\r\n\r\n")).collect();
    let mut turn = requests.iter().cycle();
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut conn = BufReader::new(stream);
    let (mut latencies, mut errors) = (Vec::with_capacity(100_000), 0);
    let mut line = String::new();
    let mut body = Vec::new();
    while Instant::now() < deadline {
        let request = turn.next().ok_or("no paths to request")?;
        let sent = Instant::now();
        conn.get_mut().write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        line.clear();
        conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
        let ok = line.starts_with("HTTP/1.1 200");
        let mut length = None;
        loop {
            line.clear();
            if conn.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
                return Err("connection closed by the server".into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err("chunked responses are not supported by the benchmark client".into());
                }
            }
        }
        body.resize(length.ok_or("response without Content-Length")?, 0);
        conn.read_exact(&mut body).await.map_err(|e| e.to_string())?;
        latencies.push(sent.elapsed().as_micros() as u64);
        if !ok {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}

/// A synthetic catalogue of `size` services from the words of `base`: each is a base service
/// with words of others mixed into its name and summary (deterministic, so runs compare).
pub fn synthetic_catalogue(base: &[portal::catalogue::Service], size: usize) -> Vec<portal::catalogue::Service> {
    let vocabulary: Vec<&str> =
        base.iter().flat_map(|s| s.summary.split_whitespace().chain(s.name.split_whitespace())).collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    (0..size)
        .map(|i| {
            let s = &base[i % base.len()];
            let mut pick = |k: usize| (0..k).map(|_| vocabulary[next(vocabulary.len())]).collect::<Vec<_>>().join(" ");
            let name = format!("{} {}", s.name, pick(2));
            let summary = format!("{} {}", s.summary, pick(8));
            portal::catalogue::Service { id: format!("{}-{i}", s.id), name, summary, ..s.clone() }
        })
        .collect()
}

/// Latency figures of many timed runs, in microseconds.
pub fn percentiles(mut micros: Vec<u64>) -> (u64, u64, u64) {
    micros.sort_unstable();
    let at = |p: f64| {
        micros.get(((micros.len() as f64 * p) as usize).min(micros.len().saturating_sub(1))).copied().unwrap_or(0)
    };
    (at(0.50), at(0.99), micros.last().copied().unwrap_or(0))
}

/// The figures of `kreishaus bench invoices`.
#[derive(Debug)]
pub struct InvoiceFigures {
    /// Validations per second on one thread (wall clock).
    pub one_core: f64,
    /// Validations per CPU second of that thread's run (what a shared, busy machine still
    /// measures fairly), when the platform tells the process's CPU time.
    pub one_core_cpu: Option<f64>,
    /// Validations per second with one thread per core.
    pub all_cores: f64,
    pub threads: usize,
    /// The largest invoice: its name, size and median validation time.
    pub largest: (String, usize, Duration),
    /// Each file's verdict and fired rule ids (schema findings left out).
    pub verdicts: Vec<(String, einvoice::Verdict, std::collections::BTreeSet<&'static str>)>,
}

/// Validates every file `rounds` times on one thread, then on every core, and times the largest.
pub fn invoices(files: &[(String, Vec<u8>)], rounds: usize) -> InvoiceFigures {
    let verdicts = files
        .iter()
        .map(|(name, bytes)| {
            let report = einvoice::validate(bytes);
            let fired =
                report.findings.iter().map(|f| f.rule).filter(|r| *r != einvoice::schema::SCHEMA_RULE).collect();
            (name.clone(), report.verdict, fired)
        })
        .collect();
    let run = |share: &[(String, Vec<u8>)]| {
        for _ in 0..rounds {
            for (_, bytes) in share {
                std::hint::black_box(einvoice::validate(bytes));
            }
        }
    };
    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    run(files);
    let one_core = (files.len() * rounds) as f64 / started.elapsed().as_secs_f64();
    let one_core_cpu = cpu_before.zip(cpu_seconds()).map(|(a, b)| (files.len() * rounds) as f64 / (b - a).max(0.01));
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| run(files));
        }
    });
    let all_cores = (files.len() * rounds * threads) as f64 / started.elapsed().as_secs_f64();
    let (name, bytes) =
        files.iter().max_by_key(|(_, b)| b.len()).map_or((String::new(), &[][..]), |(n, b)| (n.clone(), b));
    let mut times: Vec<Duration> = (0..rounds.max(5))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(einvoice::validate(bytes));
            started.elapsed()
        })
        .collect();
    times.sort();
    InvoiceFigures {
        one_core,
        one_core_cpu,
        all_cores,
        threads,
        largest: (name, bytes.len(), times[times.len() / 2]),
        verdicts,
    }
}

/// CPU time (user and system) of this process so far, from `/proc/self/stat` (Linux).
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ
}
