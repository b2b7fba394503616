//! The command line: `kreishaus serve`, `worker`, `migrate`, `demo load`, `admin create`,
//! `audit verify`, `config example`, `forms import-fim`, `invoice validate|render|mailbox`,
//! `bench http`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use kernel::{Clock, Kernel};
use tokio::sync::watch;

use crate::config::{self, Config};
use crate::{app, bench, demo};

/// Kreishaus — the digital town hall of a German county in one binary.
#[derive(Parser, Debug)]
#[command(name = "kreishaus", version, about, long_about = None)]
pub struct Cli {
    /// A TOML config file (see `kreishaus config example`).
    #[arg(long, global = true, env = "KREISHAUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory (embedded database and file store); default ./data.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to run on PostgreSQL; default an SQLite file in the data directory.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server and background workers.
    Serve {
        /// Address to listen on; default 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Load the demo county and print its one-time password.
        #[arg(long)]
        demo: bool,
        /// With --demo: rows of the generated vehicle stock among the demo's open data tables.
        #[arg(long, default_value_t = 300_000)]
        demo_rows: usize,
    },
    /// Run only background workers (for nodes that serve no web traffic).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Demo data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
    /// Import data.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Relevance of the service search on a catalogue and queries (TSV): hit@1, hit@3, MRR.
    SearchEval {
        /// Services: id, name, summary, lebenslagen, level (tab-separated, with header).
        #[arg(long)]
        services: PathBuf,
        /// Queries: query, expected ids (`;`-separated), tab-separated, with header.
        #[arg(long)]
        queries: PathBuf,
        /// Print one JSON object instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Form definitions.
    Forms {
        #[command(subcommand)]
        action: FormsAction,
    },
    /// Incoming e-invoices (XRechnung, EN 16931, ZUGFeRD/Factur-X); needs no database.
    Invoice {
        #[command(subcommand)]
        action: InvoiceAction,
    },
    /// Benchmarks (they print figures and never fail on timing).
    Bench {
        #[command(subcommand)]
        action: BenchAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum DemoAction {
    /// Load (or refresh) the demo county; prints a new password for all demo accounts.
    Load,
    /// Load the demo county's open data tables (vehicle stock, schools, polling stations,
    /// school entry examinations, budget) into the county; run `demo load` first.
    OpenData {
        /// Rows of the generated vehicle stock.
        #[arg(long, default_value_t = 300_000)]
        rows: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// A service catalogue: a `.json` file in the exchange format (docs/CATALOGUE-FORMAT.md, as
    /// `GET /api/v1/catalogue` exports it), or TSV (id, name, summary, lebenslagen, level) whose
    /// county services go to the county and municipal services to every municipality. Idempotent;
    /// a file with an error changes nothing.
    Services { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum AdminAction {
    /// Create a platform administrator (Kreis-IT) for a new installation; prints a one-time password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The county tenant's short name; created when missing.
        #[arg(long, default_value = "kreis")]
        tenant: String,
        /// The county's name, for a tenant created here.
        #[arg(long, default_value = "Kreis")]
        tenant_name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum FormsAction {
    /// Convert a FIM XDatenfelder 2.0 or 3.0 schema (XML) into a form definition: the JSON goes
    /// to standard output (paste it into the form editor, or upload the XML there), the report of
    /// what could not be mapped to standard error. Exit code 1 when the file is refused.
    ImportFim { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum InvoiceAction {
    /// Validate e-invoices as the KoSIT validator (XRechnung configuration) does: scenario,
    /// schema step, EN 16931 and XRechnung rules. Exit code 0 when every file is accepted.
    Validate {
        /// One JSON object per file and line:
        /// {"file","syntax","scenario","verdict","errors":[{"rule","severity","message","location"}],"warnings":[…]}.
        #[arg(long)]
        json: bool,
        /// Only the business rules, on a document or fragment (no scenario, no schema step).
        #[arg(long)]
        rules_only: bool,
        /// XML files (UBL, CII) or ZUGFeRD/Factur-X PDFs.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render an e-invoice in German as the staff see it (every EN 16931 term, after the KoSIT
    /// visualisation): as a standalone HTML file and/or a PDF.
    Render {
        /// Write the HTML rendering here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the PDF rendering here.
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// An XML file (UBL, CII) or a ZUGFeRD/Factur-X PDF.
        file: PathBuf,
    },
    /// Check the invoice mailbox of the configuration ([invoicing] mailbox_url): connect,
    /// log in, select the folder and count the waiting messages, as the intake job will.
    Mailbox,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Check every tenant's hash chain; reports the first changed, inserted or deleted entry.
    Verify,
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print the documented defaults as a config file.
    Example,
    /// Check the configuration and print it (secrets masked).
    Check,
}

#[derive(Subcommand, Debug)]
pub enum BenchAction {
    /// Build the search index over a synthetic catalogue and time queries in-process.
    Search {
        /// How many services to generate.
        #[arg(long, default_value_t = 100_000)]
        size: usize,
        /// The catalogue whose words the synthetic services are made of.
        #[arg(long, default_value = "../shared/testdata/search/services.tsv")]
        services: PathBuf,
        /// The queries to time.
        #[arg(long, default_value = "../shared/testdata/search/queries.tsv")]
        queries: PathBuf,
        /// How often each query is run in-process.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Connections of the HTTP part.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds per HTTP run; 0 skips the HTTP part.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Send applications (10 fields and a 100 KB PDF each) to the forms API over HTTP, then
    /// count what was stored. SQLite in a temporary folder, or the configured database (give
    /// an empty PostgreSQL database with `--database-url`).
    Submissions {
        #[arg(long, default_value_t = 32)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Ingest the generated vehicle stock and load the data API with a filter, a group-by and
    /// a full-text query; with `--datasette`, the same queries against a Datasette serving
    /// the same CSV (docs/BENCHMARKS.md says how to set it up).
    Opendata {
        /// Rows of the generated vehicle stock.
        #[arg(long, default_value_t = 300_000)]
        rows: usize,
        /// Write the generated CSV here (to import it elsewhere too); a temporary file otherwise.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds per API query; 0 measures the ingest alone.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// A running Datasette (host:port) serving the same CSV as `--datasette-table`.
        #[arg(long)]
        datasette: Option<String>,
        /// Database and table in Datasette.
        #[arg(long, default_value = "fahrzeuge/fahrzeuge")]
        datasette_table: String,
        /// Answer every request from the database: the answer cache off.
        #[arg(long)]
        uncached: bool,
    },
    /// Validate the XRechnung test suite's invoices: invoices/s on one core and on all cores,
    /// the largest invoice's time; with `--saxon`, verdicts compared with the Saxon run of
    /// crates/einvoice/bench/saxon_bench.py.
    Invoices {
        /// The test suite (its EXPECTED.csv lists the files).
        #[arg(long, default_value = "../shared/testdata/einvoice/xrechnung-testsuite")]
        suite: PathBuf,
        /// How often each invoice is validated per measurement.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// The JSON lines written by `saxon_bench.py --json` on the same files.
        #[arg(long)]
        saxon: Option<PathBuf>,
    },
    /// Load the start page and a static asset with many keep-alive connections.
    Http {
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Measure a running server (host:port) instead of starting one.
        #[arg(long)]
        addr: Option<String>,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kreishaus: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("kreishaus: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logging to stderr, filtered by `KREISHAUS_LOG` (default `info`).
fn init_tracing() {
    let filter = log_filter(std::env::var("KREISHAUS_LOG").ok().as_deref());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// The filter `KREISHAUS_LOG` spells (default `info,sqlx=warn`), except that the IMAP client,
/// which traces every command (the password of LOGIN and whole messages included), never logs
/// below info, whatever the variable says.
fn log_filter(spec: Option<&str>) -> tracing_subscriber::EnvFilter {
    let filter = spec
        .and_then(|s| tracing_subscriber::EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    filter.add_directive("async_imap=info".parse().expect("a valid directive"))
}

fn config_for(cli: &Cli) -> Result<Config, String> {
    let mut cfg = config::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(dir) = &cli.data_dir {
        cfg.server.data_dir = dir.clone();
    }
    if let Some(url) = &cli.database_url {
        cfg.database.url = kernel::Secret::new(url.clone());
    }
    Ok(cfg)
}

async fn run(cli: Cli) -> Result<std::process::ExitCode, String> {
    use std::process::ExitCode;
    if let Command::Config { action: ConfigAction::Example } = &cli.command {
        print!("{}", config::EXAMPLE);
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Invoice { action: InvoiceAction::Validate { json, rules_only, files } } = &cli.command {
        let mut out = std::io::stdout().lock();
        let all_accepted = validate_invoices(files, *json, *rules_only, &mut out).map_err(|e| e.to_string())?;
        return Ok(if all_accepted { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    if let Command::Invoice { action: InvoiceAction::Render { html, pdf, file } } = &cli.command {
        render_invoice(file, html.as_deref(), pdf.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Bench { action: BenchAction::Invoices { suite, rounds, saxon } } = &cli.command {
        bench_invoices(suite, *rounds, saxon.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::SearchEval { services, queries, json } = &cli.command {
        search_eval(services, queries, *json)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Forms { action: FormsAction::ImportFim { file } } = &cli.command {
        return import_fim(file);
    }
    let mut cfg = config_for(&cli)?;
    match cli.command {
        Command::Serve { listen, demo, demo_rows } => {
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            serve(cfg, demo.then_some(demo_rows)).await?;
        }
        Command::Worker => {
            let kernel = app::open(&cfg, Clock::System).await?;
            let (stop, workers) = start_workers(&kernel, &cfg)?;
            shutdown_signal().await;
            let _ = stop.send(true);
            for w in workers {
                let _ = w.await;
            }
        }
        Command::Migrate => {
            let kernel = app::open(&cfg, Clock::System).await?;
            println!("Datenbank ist auf dem neuesten Stand ({}). Database is up to date.", kernel.db.engine().name());
        }
        Command::Demo { action: DemoAction::Load } => {
            let kernel = app::open(&cfg, Clock::System).await?;
            load_demo(&kernel).await?;
        }
        Command::Demo { action: DemoAction::OpenData { rows } } => {
            let kernel = app::open(&cfg, Clock::System).await?;
            load_demo_tables(&kernel, &cfg, rows).await?;
        }
        Command::Import { what: ImportWhat::Services { file } } => {
            let kernel = app::open(&cfg, Clock::System).await?;
            if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                import_catalogue_file(&kernel, &file).await?;
            } else {
                let services = read_tsv(&file, portal::catalogue::parse_services)?;
                let s = portal::service::import_catalogue(&kernel, &services).await.map_err(|e| e.to_string())?;
                println!("{} Leistungen eingelesen, {} Angebote bei Kreis und Kommunen.", s.services, s.offers);
            }
        }
        Command::Admin { action: AdminAction::Create { email, name, tenant, tenant_name } } => {
            let kernel = app::open(&cfg, Clock::System).await?;
            let (email, password) =
                create_admin(&kernel, &email, &name, &tenant, &tenant_name).await.map_err(|e| e.to_string())?;
            println!("Plattform-Administration angelegt / platform administrator created: {email}");
            println!(
                "Einmal-Passwort (nur jetzt angezeigt, nach der Anmeldung ändern) / one-time password: {password}"
            );
        }
        Command::Audit { action: AuditAction::Verify } => {
            let kernel = app::open(&cfg, Clock::System).await?;
            return verify_audit(&kernel).await;
        }
        Command::Config { action: ConfigAction::Check } => {
            println!("{}", toml::to_string(&cfg).map_err(|e| e.to_string())?);
        }
        Command::Invoice { action: InvoiceAction::Mailbox } => {
            let mailbox = cfg.invoicing.mailbox().ok_or(
                "Kein Rechnungspostfach eingerichtet ([invoicing] mailbox_url). No invoice mailbox is configured.",
            )?;
            let waiting = invoicing::service::check_mailbox(&mailbox).await.map_err(|e| e.to_string())?;
            println!(
                "Rechnungspostfach erreichbar: {waiting} Nachrichten warten. Invoice mailbox reachable: {waiting} messages waiting."
            );
        }
        Command::Config { action: ConfigAction::Example }
        | Command::SearchEval { .. }
        | Command::Forms { .. }
        | Command::Invoice { .. }
        | Command::Bench { action: BenchAction::Invoices { .. } } => {}
        Command::Bench { action: BenchAction::Submissions { connections, seconds } } => {
            bench_submissions(cfg, connections, Duration::from_secs(seconds)).await?
        }
        Command::Bench {
            action: BenchAction::Opendata { rows, csv, connections, seconds, datasette, datasette_table, uncached },
        } => {
            let opts = bench::OpendataOptions { rows, csv, connections, seconds, datasette, datasette_table, uncached };
            bench::opendata(cfg, opts).await?
        }
        Command::Bench { action: BenchAction::Http { connections, seconds, addr } } => {
            bench_http(cfg, connections, seconds, addr).await?
        }
        Command::Bench { action: BenchAction::Search { size, services, queries, rounds, connections, seconds } } => {
            let base = read_tsv(&services, portal::catalogue::parse_services)?;
            let queries = read_tsv(&queries, portal::catalogue::parse_queries)?;
            let catalogue = bench::synthetic_catalogue(&base, size);
            bench_search(&catalogue, base.len(), &queries, rounds)?;
            if seconds > 0 {
                bench_search_http(cfg, &catalogue, &queries, connections, Duration::from_secs(seconds)).await?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the server; with `demo_rows`, loads the demo first with its open data tables (with that
/// many vehicle rows).
async fn serve(cfg: Config, demo_rows: Option<usize>) -> Result<(), String> {
    let started = Instant::now();
    let kernel = app::open(&cfg, Clock::System).await?;
    if let Some(rows) = demo_rows {
        load_demo(&kernel).await?;
        load_demo_tables(&kernel, &cfg, rows).await?;
    }
    let resumed = datastore::service::resume_interrupted_imports(&kernel).await.map_err(|e| e.to_string())?;
    if resumed > 0 {
        println!("{resumed} unterbrochene Einlesevorgänge neu gestartet. Restarted {resumed} interrupted imports.");
    }
    let router = app::router(&kernel, &cfg)?;
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, workers) = start_workers(&kernel, &cfg)?;
    println!(
        "Kreishaus läuft auf http://{addr} ({}; bereit nach {} ms). Kreishaus is running; stop with Ctrl+C.",
        kernel.db.engine().name(),
        started.elapsed().as_millis()
    );
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    let _ = stop.send(true);
    for w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(30), w).await;
    }
    kernel.db.close().await;
    Ok(())
}

/// Starts the configured number of job workers and the periodic clean-up of this node.
fn start_workers(
    kernel: &Kernel,
    cfg: &Config,
) -> Result<(watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>), String> {
    let runner = app::runner(cfg)?;
    let (stop, stopped) = watch::channel(false);
    let node = &kernel::random_token()[..8];
    let idle = Duration::from_millis(cfg.jobs.idle_poll_ms);
    let mut handles: Vec<_> = (0..cfg.jobs.workers)
        .map(|i| tokio::spawn(runner.clone().run(kernel.clone(), format!("{node}-{i}"), idle, stopped.clone())))
        .collect();
    let (k, identity_cfg, mut stopped) = (kernel.clone(), cfg.identity.clone(), stopped);
    handles.push(tokio::spawn(async move {
        // Expired sessions and old failed-login records go away every ten minutes; the
        // deletes are idempotent, so several nodes doing it does no harm.
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = identity::service::purge_expired(&k, &identity_cfg).await {
                        tracing::warn!(error = %e, "clean-up failed");
                    }
                }
                _ = stopped.changed() => break,
            }
        }
    }));
    let (k, invoicing_cfg, mut stopped) = (kernel.clone(), cfg.invoicing.clone(), stop.subscribe());
    handles.push(tokio::spawn(async move {
        // The drop folder and the reminders run as jobs, one per time slot across all nodes.
        let mut tick = tokio::time::interval(Duration::from_secs(invoicing_cfg.scan_every_secs.max(1)));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = invoicing::jobs::enqueue_periodic(&k, &invoicing_cfg).await {
                        tracing::warn!(error = %e, "invoice jobs not enqueued");
                    }
                }
                _ = stopped.changed() => break,
            }
        }
    }));
    Ok((stop, handles))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Loads the demo county and its service catalogue, and prints what it did.
async fn load_demo(kernel: &Kernel) -> Result<(), String> {
    print_demo(&demo::load(kernel).await.map_err(|e| e.to_string())?);
    println!(
        "{}",
        demo::load_catalogue(kernel, std::path::Path::new(demo::CATALOGUE)).await.map_err(|e| e.to_string())?
    );
    println!("{}", demo::load_invoices(kernel, std::path::Path::new(demo::INVOICES)).await.map_err(|e| e.to_string())?);
    Ok(())
}

/// Loads the demo's open data tables and links them to their datasets; prints each one.
async fn load_demo_tables(kernel: &Kernel, cfg: &Config, rows: usize) -> Result<(), String> {
    let dir = cfg.server.data_dir.join("datastore").join("demo");
    let loaded =
        demo::load_open_data_tables(kernel, &dir, rows, &cfg.web.public_url).await.map_err(|e| e.to_string())?;
    for (title, rows, bad) in loaded {
        println!("Datentabelle „{title}“: {rows} Zeilen eingelesen, {bad} fehlerhaft. Table loaded.");
    }
    Ok(())
}

fn print_demo(s: &demo::DemoSummary) {
    println!(
        "Demo-Kreis Auenthal geladen: {} Mandanten, {} Organisationseinheiten, {} Konten.",
        s.tenants,
        s.units,
        s.accounts.len()
    );
    println!("Demo county loaded. Password of every demo account (shown only now, new at every load):");
    println!();
    println!("    {}", s.password);
    println!();
    for (email, what) in &s.accounts {
        println!("    {email:<44} {what}");
    }
    println!();
}

/// Returns the normalised e-mail address and the one-time password.
async fn create_admin(
    kernel: &Kernel,
    email: &str,
    name: &str,
    slug: &str,
    tenant_name: &str,
) -> Result<(String, String), kernel::AppError> {
    use identity::model::TenantKind;
    use identity::store::TenantFields;
    let email = email.trim().to_lowercase();
    if !identity::model::looks_like_email(&email) {
        return Err(kernel::AppError::invalid("identity.email_invalid", "email"));
    }
    let setup = identity::service::Setup { kernel };
    let tenant = setup
        .tenant(&TenantFields {
            slug: slug.into(),
            name: tenant_name.into(),
            kind: Some(TenantKind::County),
            ..Default::default()
        })
        .await?;
    let password = identity::service::generate_password();
    let hash = identity::service::hash_password(password.clone()).await?;
    let staff = setup.staff(tenant, &email, name, &hash, true).await?;
    setup.role(tenant, staff, identity::Role::Administrator, None).await?;
    Ok((email, password))
}

async fn verify_audit(kernel: &Kernel) -> Result<std::process::ExitCode, String> {
    let reports = kernel::audit::verify(&kernel.db).await.map_err(|e| e.to_string())?;
    let mut broken = false;
    for r in &reports {
        match &r.first_break {
            None => println!("tenant {}: intact ({} entries)", r.tenant, r.entries),
            Some(b) => {
                broken = true;
                println!("tenant {}: BROKEN: {b}", r.tenant);
            }
        }
    }
    if reports.is_empty() {
        println!("no audit entries yet");
    }
    Ok(if broken { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
}

/// Reads a TSV file, naming the file and every bad line on error.
async fn import_catalogue_file(kernel: &kernel::Kernel, path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = portal::exchange::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let index = portal::service::SearchIndex::default();
    match portal::service::import_file(kernel, &index, portal::service::Importer::Installation, &file).await {
        Ok(done) => {
            println!("{} Einträge neu, {} aktualisiert.", done.added, done.updated);
            Ok(())
        }
        Err(kernel::AppError::Invalid { fields, .. }) => {
            let lines: Vec<String> = fields.iter().map(|f| format!("  {}: {}", f.field, f.code)).collect();
            Err(format!(
                "{} has {} problem(s), nothing was imported:\n{}",
                path.display(),
                fields.len(),
                lines.join("\n")
            ))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn read_tsv<T>(
    path: &std::path::Path,
    parse: fn(&str) -> Result<T, Vec<portal::catalogue::LineError>>,
) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {}: {e}", path.display())).collect();
        format!("{} has {} bad line(s):\n{}", path.display(), errors.len(), lines.join("\n"))
    })
}

/// `kreishaus forms import-fim FILE`: the definition on stdout, the report on stderr.
fn import_fim(file: &std::path::Path) -> Result<std::process::ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match forms::fim::decode(&bytes).and_then(|xml| forms::fim::import(&xml)) {
        Ok(imported) => {
            println!("{}", serde_json::to_string_pretty(&imported.form).map_err(|e| e.to_string())?);
            eprintln!("{} Hinweise / notes on what the form does not carry:", imported.report.len());
            for note in &imported.report {
                eprintln!("  {note}");
            }
            for problem in imported.form.problems() {
                eprintln!("  problem: {problem}");
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: abgelehnt / refused: {e}", file.display());
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

/// `kreishaus invoice render`: the German rendering of one invoice as HTML and/or PDF files.
pub fn render_invoice(
    file: &std::path::Path,
    html: Option<&std::path::Path>,
    pdf: Option<&std::path::Path>,
) -> Result<(), String> {
    if html.is_none() && pdf.is_none() {
        return Err("Name an output: --html FILE and/or --pdf FILE.".into());
    }
    let bytes = read_invoice_file(file).map_err(|reason| format!("{}: {reason}", file.display()))?;
    let document = invoicing::service::read_document(&bytes)
        .map_err(|refusal| format!("{}: {}", file.display(), refusal.reason()))?;
    let rendering = invoicing::render::Rendering::of(&document);
    let write = |path: &std::path::Path, content: &[u8]| {
        std::fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
    };
    if let Some(path) = html {
        write(path, invoicing::render::html(&rendering).map_err(|e| e.to_string())?.as_bytes())?;
    }
    if let Some(path) = pdf {
        write(path, &invoicing::render::pdf::pdf(&rendering).map_err(|e| e.to_string())?)?;
    }
    Ok(())
}

/// `kreishaus invoice validate`: validates each file, writes one report per file (a JSON line
/// with `json`), and answers whether every file was accepted.
pub fn validate_invoices(
    files: &[PathBuf],
    json: bool,
    rules_only: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<bool> {
    let mut all_accepted = true;
    for file in files {
        let name = file.display().to_string();
        let report = match read_invoice_file(file) {
            Err(reason) => einvoice::validate::Report::unreadable(reason),
            Ok(bytes) if rules_only => einvoice::validate::rules_only(&bytes, einvoice::rules::RuleSyntax::Ubl)
                .unwrap_or_else(|e| einvoice::validate::Report::unreadable(e.to_string())),
            Ok(bytes) => einvoice::validate(&bytes),
        };
        all_accepted &= report.verdict == einvoice::Verdict::Accept;
        if json {
            let findings = |list: Vec<&einvoice::rules::Finding>| -> Vec<serde_json::Value> {
                list.into_iter()
                    .map(|f| {
                        serde_json::json!({ "rule": f.rule, "severity": f.severity.as_str(), "message": f.message, "location": f.location })
                    })
                    .collect()
            };
            let line = serde_json::json!({
                "file": name,
                "syntax": report.syntax.map(einvoice::Syntax::as_str),
                "scenario": report.scenario,
                "verdict": report.verdict.as_str(),
                "errors": findings(report.errors().collect()),
                "warnings": findings(report.warnings().collect()),
            });
            writeln!(out, "{line}")?;
        } else {
            let scenario = report.scenario.unwrap_or(if rules_only { "rules only" } else { "no scenario" });
            writeln!(out, "{name}: {} ({scenario})", report.verdict)?;
            for finding in &report.findings {
                writeln!(out, "  {finding}")?;
            }
        }
    }
    Ok(all_accepted)
}

/// The bytes of an invoice file; a file over the reader's size limit is refused by its size
/// without being read (a 100 MB upload must not be loaded into memory first).
fn read_invoice_file(file: &std::path::Path) -> Result<Vec<u8>, String> {
    let limit = einvoice::reader::DEFAULT_MAX_BYTES;
    let size = std::fs::metadata(file).map_err(|e| format!("cannot read the file: {e}"))?.len();
    if size > limit as u64 {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        return Err(einvoice::ReadError::TooLarge { size, limit }.to_string());
    }
    std::fs::read(file).map_err(|e| format!("cannot read the file: {e}"))
}

fn bench_invoices(suite: &std::path::Path, rounds: usize, saxon: Option<&std::path::Path>) -> Result<(), String> {
    let list = std::fs::read_to_string(suite.join("EXPECTED.csv")).map_err(|e| format!("{}: {e}", suite.display()))?;
    let mut files = Vec::new();
    for line in list.lines().skip(1) {
        let name = line.split(',').next().unwrap_or_default().to_string();
        let bytes = std::fs::read(suite.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        files.push((name, bytes));
    }
    let f = bench::invoices(&files, rounds);
    let accepted = f.verdicts.iter().filter(|(_, v, _)| *v == einvoice::Verdict::Accept).count();
    println!("{} invoices ({} accepted), {rounds} rounds", files.len(), accepted);
    println!("one core:          {:>9.1} invoices/s", f.one_core);
    if let Some(cpu) = f.one_core_cpu {
        println!("one core, per CPU second: {cpu:>9.1} invoices/s");
    }
    if let Some(cpu) = f.rules_only_cpu {
        println!("without the XSD step, per CPU second: {cpu:>9.1} invoices/s (the Saxon run's work)");
    }
    println!("all cores ({}):     {:>9.1} invoices/s", f.threads, f.all_cores);
    println!("largest invoice:   {} ({} bytes) {:.2} ms", f.largest.0, f.largest.1, f.largest.2.as_secs_f64() * 1000.0);
    let Some(saxon) = saxon else { return Ok(()) };
    let text = std::fs::read_to_string(saxon).map_err(|e| format!("{}: {e}", saxon.display()))?;
    let (mut same, mut differ, mut same_rules) = (0, Vec::new(), 0);
    let mut saxon_rate = None;
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", saxon.display()))?;
        if let Some(rate) = value["summary"]["invoices_per_second"].as_f64() {
            saxon_rate = Some((rate, value["summary"]["invoices_per_cpu_second"].as_f64()));
            continue;
        }
        let name = value["file"].as_str().unwrap_or_default();
        let Some((_, verdict, fired)) = f.verdicts.iter().find(|(n, _, _)| name.ends_with(n.as_str())) else {
            continue;
        };
        if value["verdict"].as_str() == Some(verdict.as_str()) {
            same += 1;
        } else {
            differ.push(name.to_string());
        }
        let saxon_fired: std::collections::BTreeSet<&str> =
            value["fired"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
        if saxon_fired == *fired {
            same_rules += 1;
        } else {
            println!("  fired rules differ on {name}: saxon {saxon_fired:?}, kreishaus {fired:?}");
        }
    }
    println!(
        "verdicts identical with Saxon: {same} of {}; fired rule ids identical: {same_rules}",
        same + differ.len()
    );
    for name in &differ {
        println!("  verdict differs: {name}");
    }
    if let Some((rate, cpu_rate)) = saxon_rate {
        println!("Saxon {rate:.1} invoices/s on one core: {:.1}x faster on one core", f.one_core / rate);
        if let (Some(cpu_rate), Some(ours)) = (cpu_rate, f.one_core_cpu) {
            println!("Saxon {cpu_rate:.1} invoices per CPU second: {:.1}x faster per CPU second", ours / cpu_rate);
        }
        if let (Some(cpu_rate), Some(ours)) = (cpu_rate, f.rules_only_cpu) {
            println!(
                "Saxon {cpu_rate:.1} invoices per CPU second: {:.1}x faster per CPU second on the same work \
                 (schematron rules only, no XSD step)",
                ours / cpu_rate
            );
        }
    }
    Ok(())
}

fn search_eval(services: &std::path::Path, queries: &std::path::Path, json: bool) -> Result<(), String> {
    use portal::catalogue;
    let services = read_tsv(services, catalogue::parse_services)?;
    let queries = read_tsv(queries, catalogue::parse_queries)?;
    let docs: Vec<_> = services.iter().map(catalogue::Service::document).collect();
    let index = portal::search::Index::build(&docs, portal::search::Synonyms::default_list());
    let e = catalogue::evaluate(&index, &queries);
    if json {
        let out =
            serde_json::json!({ "queries": e.queries, "hit_at_1": e.hit_at_1, "hit_at_3": e.hit_at_3, "mrr": e.mrr });
        println!("{out}");
    } else {
        println!("{} services, {} queries", services.len(), e.queries);
        println!("hit@1 {:.3}   hit@3 {:.3}   MRR {:.3}", e.hit_at_1, e.hit_at_3, e.mrr);
        for (q, top) in &e.misses {
            println!("  not in the first three: {q:?} -> {}", top.join(", "));
        }
    }
    Ok(())
}

fn bench_search(
    catalogue: &[portal::catalogue::Service],
    base: usize,
    queries: &[portal::catalogue::Query],
    rounds: usize,
) -> Result<(), String> {
    let docs: Vec<_> = catalogue.iter().map(portal::catalogue::Service::document).collect();
    let started = Instant::now();
    let index = portal::search::Index::build(&docs, portal::search::Synonyms::default_list());
    let build = started.elapsed();
    println!(
        "kreishaus bench search: {} synthetic services from {} catalogue services; index built in {:.2} s ({:.0} services/s)",
        index.len(),
        base,
        build.as_secs_f64(),
        index.len() as f64 / build.as_secs_f64()
    );
    let mut micros = Vec::with_capacity(queries.len() * rounds);
    let started = Instant::now();
    for _ in 0..rounds {
        for q in queries {
            let t = Instant::now();
            std::hint::black_box(index.search(&q.text, 10));
            micros.push(t.elapsed().as_micros() as u64);
        }
    }
    let total = started.elapsed();
    let (p50, p99, max) = bench::percentiles(micros);
    println!(
        "queries in-process, one thread: {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} queries x {rounds} rounds)",
        (queries.len() * rounds) as f64 / total.as_secs_f64(),
        p50 as f64 / 1000.0,
        p99 as f64 / 1000.0,
        max as f64 / 1000.0,
        queries.len()
    );
    Ok(())
}

/// The search over HTTP on a database holding the synthetic catalogue: the services API, the
/// search over everything and the page, every query of the relevance set in turn, for a citizen
/// of a municipality.
async fn bench_search_http(
    mut cfg: Config,
    catalogue: &[portal::catalogue::Service],
    queries: &[portal::catalogue::Query],
    connections: usize,
    duration: Duration,
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    cfg.server.data_dir = dir.path().to_path_buf();
    cfg.jobs.workers = 0;
    let kernel = app::open(&cfg, Clock::System).await?;
    demo::load(&kernel).await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let imported = portal::service::import_catalogue(&kernel, catalogue).await.map_err(|e| e.to_string())?;
    println!(
        "HTTP: {} services ({} offers of county and municipalities) stored in {} in {:.1} s",
        imported.services,
        imported.offers,
        kernel.db.engine().name(),
        started.elapsed().as_secs_f64()
    );
    let router = app::router(&kernel, &cfg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(
        async move { axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await },
    );
    let encoded: Vec<String> = queries.iter().map(|q| web::url_encode(&q.text)).collect();
    let api: Vec<String> = encoded.iter().map(|q| format!("/api/v1/services?q={q}&municipality=lindenbach")).collect();
    let everything: Vec<String> =
        encoded.iter().map(|q| format!("/api/v1/search?q={q}&municipality=lindenbach")).collect();
    let pages: Vec<String> = encoded.iter().map(|q| format!("/leistungen?q={q}&gemeinde=lindenbach")).collect();
    let started = Instant::now();
    bench::run_many(&addr, "first request (loads the index)", &api[..1], 1, Duration::from_millis(1)).await?;
    println!("HTTP: index loaded from the database in {:.2} s", started.elapsed().as_secs_f64());
    let runs = [
        ("/api/v1/services?q=… (all queries)", &api),
        ("/api/v1/search?q=… (services and content)", &everything),
        ("/leistungen?q=… page (all queries)", &pages),
    ];
    for (label, paths) in runs {
        bench::run_many(&addr, label, paths, connections, Duration::from_millis(500)).await?;
        println!("{}", bench::run_many(&addr, label, paths, connections, duration).await?);
    }
    Ok(())
}

async fn bench_http(mut cfg: Config, connections: usize, seconds: u64, addr: Option<String>) -> Result<(), String> {
    let duration = Duration::from_secs(seconds);
    let (addr, _data) = match addr {
        Some(a) => (a, None),
        None => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            cfg.server.data_dir = dir.path().to_path_buf();
            cfg.jobs.workers = 0;
            let kernel = app::open(&cfg, Clock::System).await?;
            let router = app::router(&kernel, &cfg)?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
            tokio::spawn(async move {
                axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await
            });
            (addr, Some(dir))
        }
    };
    let asset = web::assets::url("kern/kern.min.css");
    println!("kreishaus bench http: {connections} connections, {seconds} s per path, against {addr}");
    for path in ["/", asset.as_str()] {
        // A short warm-up so that connection set-up and first-use costs do not count.
        bench::run(&addr, path, connections, Duration::from_millis(500)).await?;
        println!("{}", bench::run(&addr, path, connections, duration).await?);
    }
    Ok(())
}

/// `kreishaus bench submissions`: sustained applications per second over HTTP, then the check
/// that every acknowledged application is stored with its file.
async fn bench_submissions(mut cfg: Config, connections: usize, duration: Duration) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    cfg.server.data_dir = dir.path().to_path_buf();
    cfg.jobs.workers = 0;
    let kernel = app::open(&cfg, Clock::System).await?;
    demo::load(&kernel).await.map_err(|e| e.to_string())?;
    let (_, proof) = demo::county_forms_editor(&kernel).await.map_err(|e| e.to_string())?;
    forms::service::save_draft(&kernel, &proof, bench::FORM).await.map_err(|e| e.to_string())?;
    forms::service::publish(&kernel, &proof, "bench").await.map_err(|e| e.to_string())?;
    let router = app::router(&kernel, &cfg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(
        async move { axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await },
    );

    let tail = bench::pdf_tail_base64();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let make: bench::MakeRequest = std::sync::Arc::new(move |_, _| {
        let n = sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = bench::application(n, &tail);
        format!(
            "POST /api/v1/forms/bench/submissions?tenant=kreis HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nIdempotency-Key: bench-{n}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    println!(
        "kreishaus bench submissions: {connections} connections for {} s, {} database, 10 fields and a 100 KB PDF each",
        duration.as_secs(),
        kernel.db.engine().name()
    );
    let warm =
        bench::run_requests(&addr, "warm-up", make.clone(), "HTTP/1.1 201", 4, Duration::from_millis(500)).await?;
    let figures =
        bench::run_requests(&addr, "POST /api/v1/forms/bench/submissions", make, "HTTP/1.1 201", connections, duration)
            .await?;
    println!("{figures}");
    let acknowledged = warm.requests - warm.errors + figures.requests - figures.errors;
    let (stored, files) = forms::store::stored_with_files(&kernel.db, "bench").await.map_err(|e| e.to_string())?;
    println!(
        "acknowledged {acknowledged}, stored {stored} with {files} files: {}",
        if stored == acknowledged as i64 && files == stored { "nothing lost" } else { "MISMATCH" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use tracing::{Level, event_enabled};
    use tracing_subscriber::layer::SubscriberExt;

    /// Under `KREISHAUS_LOG=spec`: whether the IMAP client's trace, its info and another
    /// crate's trace are logged.
    fn logged(spec: &str) -> [bool; 3] {
        let subscriber = tracing_subscriber::registry().with(super::log_filter(Some(spec)));
        tracing::subscriber::with_default(subscriber, || {
            [
                event_enabled!(target: "async_imap", Level::TRACE),
                event_enabled!(target: "async_imap", Level::INFO),
                event_enabled!(target: "kernel", Level::TRACE),
            ]
        })
    }

    #[test]
    fn the_imap_client_never_traces_its_password_whatever_the_log_level() {
        assert_eq!(logged("trace"), [false, true, true]);
        assert_eq!(logged("async_imap=trace"), [false, true, false]);
        assert_eq!(logged("info,async_imap=trace"), [false, true, false]);
    }
}
