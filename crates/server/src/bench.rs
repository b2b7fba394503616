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
        let mut chunked = false;
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
                    chunked = value.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            read_chunked(&mut conn, &mut line, &mut body).await?;
        } else {
            body.resize(length.ok_or("response without Content-Length")?, 0);
            conn.read_exact(&mut body).await.map_err(|e| e.to_string())?;
        }
        latencies.push(sent.elapsed().as_micros() as u64);
        if !ok {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}

/// Reads a chunked body (other servers, such as Datasette's uvicorn, send one): hex size lines,
/// each chunk followed by CRLF, a zero-size chunk and an empty trailer at the end.
async fn read_chunked(conn: &mut BufReader<TcpStream>, line: &mut String, body: &mut Vec<u8>) -> Result<(), String> {
    loop {
        line.clear();
        conn.read_line(line).await.map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        if size == 0 {
            // Trailer lines up to the empty one.
            loop {
                line.clear();
                conn.read_line(line).await.map_err(|e| e.to_string())?;
                if line == "\r\n" || line.is_empty() {
                    return Ok(());
                }
            }
        }
        body.resize(size + 2, 0);
        conn.read_exact(body).await.map_err(|e| e.to_string())?;
    }
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

/// What `kreishaus bench opendata` measures.
pub struct OpendataOptions {
    pub rows: usize,
    pub csv: Option<std::path::PathBuf>,
    pub connections: usize,
    pub seconds: u64,
    pub datasette: Option<String>,
    pub datasette_table: String,
}

/// Ingests the generated vehicle stock (rows/s), then loads the data API with a filter (on the
/// municipality key and fuel, a different municipality per request), a group-by (sum and count
/// per fuel) and a full-text query (a municipality name); then, if given, the same against
/// Datasette.
pub async fn opendata(mut cfg: crate::config::Config, o: OpendataOptions) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    cfg.server.data_dir = dir.path().to_path_buf();
    cfg.jobs.workers = 0;
    let kernel = crate::app::open(&cfg, kernel::Clock::System).await?;
    crate::demo::load(&kernel).await.map_err(|e| e.to_string())?;
    let county = crate::demo::tenant_id(&kernel, "kreis").await.map_err(|e| e.to_string())?;
    let csv = o.csv.clone().unwrap_or_else(|| dir.path().join("fahrzeugbestand.csv"));
    datastore::demo::write_vehicles(&csv, o.rows).map_err(|e| e.to_string())?;
    let bytes = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let (id, report) = datastore::demo::import_published(&kernel, county, "Fahrzeugbestand", &csv, &["anzahl"])
        .await
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "kreishaus bench opendata: ingest of {} ({:.1} MB, {} rows, {} bad) into {}: {secs:.2} s, {:.0} rows/s",
        csv.display(),
        bytes as f64 / 1e6,
        report.rows,
        report.bad_rows,
        kernel.db.engine().name(),
        report.rows as f64 / secs
    );
    // Sample municipalities (key and name) from the data itself.
    let sample = datastore::service::query(
        &kernel,
        datastore::service::Reader::Public,
        &id,
        &datastore::query::DataQuery {
            group_by: vec!["ags".into(), "gemeinde".into()],
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| format!("{e:?}"))?;
    let places: Vec<(String, String)> = sample.records.iter().map(|r| (r[0].display(), r[1].display())).collect();
    let router = crate::app::router(&kernel, &cfg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let enc = web::url_encode;
    let ours: [(&str, Vec<String>); 3] = [
        (
            "filter ags=…&kraftstoff=Diesel",
            places.iter().map(|(a, _)| format!("/api/v1/data/{id}?ags={a}&kraftstoff=Diesel")).collect(),
        ),
        (
            "group by kraftstoff: sum, count",
            vec![format!("/api/v1/data/{id}?group_by=kraftstoff&aggregate=sum:anzahl,count")],
        ),
        ("full text q=<gemeinde>", places.iter().map(|(_, n)| format!("/api/v1/data/{id}?q={}", enc(n))).collect()),
    ];
    let duration = Duration::from_secs(o.seconds);
    println!("{} connections, {} s per query, against {addr}", o.connections, o.seconds);
    for (label, paths) in &ours {
        run_many(&addr, label, paths, o.connections, Duration::from_millis(500)).await?;
        println!("kreishaus  {}", run_many(&addr, label, paths, o.connections, duration).await?);
    }
    if let Some(ds) = &o.datasette {
        let (db, table) = o.datasette_table.split_once('/').unwrap_or(("fahrzeuge", "fahrzeuge"));
        let sql = format!("select kraftstoff, sum(anzahl), count(*) from {table} group by kraftstoff");
        let theirs: [(&str, Vec<String>); 3] = [
            (
                "filter ags=…&kraftstoff=Diesel",
                places.iter().map(|(a, _)| format!("/{db}/{table}.json?ags={a}&kraftstoff=Diesel")).collect(),
            ),
            ("group by kraftstoff: sum, count", vec![format!("/{db}.json?sql={}", enc(&sql))]),
            (
                "full text _search=<gemeinde>",
                places.iter().map(|(_, n)| format!("/{db}/{table}.json?_search={}", enc(n))).collect(),
            ),
        ];
        for (label, paths) in &theirs {
            run_many(ds, label, paths, o.connections, Duration::from_millis(500)).await?;
            println!("datasette  {}", run_many(ds, label, paths, o.connections, duration).await?);
        }
    }
    Ok(())
}
