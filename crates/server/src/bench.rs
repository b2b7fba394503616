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

/// Builds the bytes of request number `seq` of connection `conn`.
pub type MakeRequest = std::sync::Arc<dyn Fn(usize, u64) -> Vec<u8> + Send + Sync>;

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
    let requests: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| format!("GET {p} HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: de\r\n\r\n").into_bytes())
        .collect();
    let n = requests.len().max(1);
    let make: MakeRequest = std::sync::Arc::new(move |conn, seq| requests[(conn + seq as usize) % n].clone());
    run_requests(addr, label, make, "HTTP/1.1 200", connections, duration).await
}

/// Sends the requests `make` builds to `addr` over `connections` keep-alive connections for
/// `duration`; a response whose status line starts with `ok` counts as success.
pub async fn run_requests(
    addr: &str,
    label: &str,
    make: MakeRequest,
    ok: &'static str,
    connections: usize,
    duration: Duration,
) -> Result<Figures, String> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let addr = addr.to_owned();
        let make = make.clone();
        tasks.push(tokio::spawn(async move { connection_loop(&addr, c, &make, ok, deadline).await }));
    }
    let started = Instant::now();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (p50_us, p99_us, max_us) = percentiles(latencies.clone());
    Ok(Figures { path: label.to_owned(), requests: latencies.len() as u64, errors, seconds, p50_us, p99_us, max_us })
}

async fn connection_loop(
    addr: &str,
    conn_no: usize,
    make: &MakeRequest,
    ok_status: &str,
    deadline: Instant,
) -> Result<(Vec<u64>, u64), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut conn = BufReader::new(stream);
    let (mut latencies, mut errors) = (Vec::with_capacity(100_000), 0);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let request = make(conn_no, seq);
        seq += 1;
        let sent = Instant::now();
        conn.get_mut().write_all(&request).await.map_err(|e| e.to_string())?;
        line.clear();
        conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
        let ok = line.starts_with(ok_status);
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

/// The benchmark's form: ten fields, one of them a PDF upload.
pub const FORM: &str = r#"{
  "id": "bench", "title": { "de": "Lasttest" },
  "steps": [ { "id": "s", "title": { "de": "Angaben" }, "fields": [
    { "name": "name", "type": "text", "label": { "de": "Name" }, "required": true, "max_length": 80 },
    { "name": "email", "type": "email", "label": { "de": "E-Mail" }, "required": true },
    { "name": "geboren", "type": "date", "label": { "de": "Geburtsdatum" }, "required": true, "not_after_today": true },
    { "name": "anschrift", "type": "address", "label": { "de": "Anschrift" }, "required": true },
    { "name": "telefon", "type": "phone", "label": { "de": "Telefon" } },
    { "name": "iban", "type": "iban", "label": { "de": "IBAN" }, "required": true },
    { "name": "anzahl", "type": "number", "label": { "de": "Anzahl" }, "min": 1, "max": 10 },
    { "name": "art", "type": "radio", "label": { "de": "Art" }, "required": true,
      "options": [ { "value": "a", "label": { "de": "A" } }, { "value": "b", "label": { "de": "B" } } ] },
    { "name": "text", "type": "long_text", "label": { "de": "Beschreibung" }, "max_length": 2000 },
    { "name": "plan", "type": "file", "label": { "de": "Plan" }, "required": true, "accept": ["application/pdf"], "max_bytes": 200000 }
  ] } ]
}"#;

/// The base64 of the part every benchmark PDF shares (100 KB); see [`application`].
pub fn pdf_tail_base64() -> String {
    use base64::Engine as _;
    let tail: Vec<u8> = (0..102_379u32).map(|i| b"0123456789 abcdefghij\n"[(i % 22) as usize]).collect();
    base64::engine::general_purpose::STANDARD.encode(&tail)
}

/// Application number `n` to [`FORM`] as the forms API takes it: ten answers and its own PDF
/// (a 21-byte header with `n`, a multiple of 3 so the two base64 parts join cleanly, then the
/// shared `tail`), so that the object store really writes every file.
pub fn application(n: u64, tail: &str) -> String {
    use base64::Engine as _;
    let head = base64::engine::general_purpose::STANDARD.encode(format!("%PDF-1.4\n%{n:011}"));
    format!(
        r#"{{"answers":{{"name":"Erika Mustermann {n}","email":"erika@example.org","geboren":"12.03.1980","anschrift.street":"Am Markt 1","anschrift.postcode":"59910","anschrift.city":"Lindenbach","telefon":"02999 12345","iban":"DE89370400440532013000","anzahl":"3","art":"a","text":"Lasttest {n}"}},"files":[{{"field":"plan","file_name":"plan-{n}.pdf","content_base64":"{head}{tail}"}}]}}"#
    )
}

/// What `kreishaus bench opendata` measures.
pub struct OpendataOptions {
    pub rows: usize,
    pub csv: Option<std::path::PathBuf>,
    pub connections: usize,
    pub seconds: u64,
    pub datasette: Option<String>,
    pub datasette_table: String,
    /// Answer every query from the database, without the answer cache.
    pub uncached: bool,
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
    if o.seconds == 0 {
        return Ok(());
    }
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
    datastore::service::cache_answers(!o.uncached);
    let cache = if o.uncached { "answer cache off" } else { "answer cache on" };
    println!("{} connections, {} s per query, {cache}, against {addr}", o.connections, o.seconds);
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

/// The figures of `kreishaus bench invoices`.
#[derive(Debug)]
pub struct InvoiceFigures {
    /// Validations per second on one thread (wall clock).
    pub one_core: f64,
    /// Validations per CPU second of that thread's run (what a shared, busy machine still
    /// measures fairly), when the platform tells the process's CPU time.
    pub one_core_cpu: Option<f64>,
    /// Per CPU second on one thread without the schema (XSD) step: the work the Saxon reference
    /// run does (reading, scenario, schematron rules), for a like-for-like factor.
    pub rules_only_cpu: Option<f64>,
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
    let run_with = |share: &[(String, Vec<u8>)], options: einvoice::validate::Options| {
        for _ in 0..rounds {
            for (_, bytes) in share {
                std::hint::black_box(einvoice::validate::validate_with(bytes, options));
            }
        }
    };
    let run = |share: &[(String, Vec<u8>)]| run_with(share, einvoice::validate::Options::default());
    let per_cpu_second = |cpu_before: Option<f64>| {
        cpu_before.zip(cpu_seconds()).map(|(a, b)| (files.len() * rounds) as f64 / (b - a).max(0.01))
    };
    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    run(files);
    let one_core = (files.len() * rounds) as f64 / started.elapsed().as_secs_f64();
    let one_core_cpu = per_cpu_second(cpu_before);
    let cpu_before = cpu_seconds();
    run_with(files, einvoice::validate::Options { schema: false, ..einvoice::validate::Options::default() });
    let rules_only_cpu = per_cpu_second(cpu_before);
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
        rules_only_cpu,
        all_cores,
        threads,
        largest: (name, bytes.len(), times[times.len() / 2]),
        verdicts,
    }
}

/// CPU time of the calling thread so far, in nanoseconds from `/proc/thread-self/schedstat`
/// (Linux); else the process's user and system time from `/proc/self/stat`, in 10 ms ticks.
pub fn cpu_seconds() -> Option<f64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok();
    let on_cpu_ns = schedstat.as_deref().and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok());
    if let Some(ns) = on_cpu_ns {
        return Some(ns / 1e9);
    }
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ
}
