//! Wiring: open the database and object store, compose every domain's routes inside the web
//! shell, register the job handlers. Used by `serve`, `worker`, the tests and the benchmark.

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use identity::http::IdentityCtx;
use kernel::blobs::BlobStore;
use kernel::db::ConnectOptions;
use kernel::jobs::Runner;
use kernel::{Clock, Db, Kernel};
use web::{I18n, Shell};

use crate::config::Config;
use crate::ops::{self, OpsCtx};

/// Opens the database (running migrations) and the object store.
pub async fn open(config: &Config, clock: Clock) -> Result<Kernel, String> {
    std::fs::create_dir_all(&config.server.data_dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", config.server.data_dir.display()))?;
    let url = config.database_url();
    let opts = ConnectOptions { url: url.clone(), max_connections: config.database.max_connections, schema: None };
    let db = Db::connect(&opts).await.map_err(|e| {
        format!(
            "cannot open the database {}: {}. Check database.url and that the server is running.",
            kernel::db::redact_url(&url),
            e.0
        )
    })?;
    open_with(config, db, clock).await
}

/// Migrates an opened database and opens the object store.
pub async fn open_with(config: &Config, db: Db, clock: Clock) -> Result<Kernel, String> {
    let applied =
        kernel::migrate::run(&db, clock.now()).await.map_err(|e| format!("database migration failed: {e}"))?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "database migrated");
    }
    let blobs = BlobStore::open(&config.storage, &config.server.data_dir)
        .map_err(|e| format!("cannot open the object store: {e}"))?;
    Ok(Kernel { db, clock, blobs })
}

/// The messages of every crate.
pub fn messages() -> Result<I18n, String> {
    I18n::new(&[
        web::i18n::MESSAGES,
        identity::MESSAGES,
        portal::MESSAGES,
        forms::MESSAGES,
        opendata::MESSAGES,
        invoicing::MESSAGES,
        datastore::MESSAGES,
        ops::MESSAGES,
    ])
}

/// The whole application: every route inside the shell.
pub fn router(kernel: &Kernel, config: &Config) -> Result<Router, String> {
    let shell = Shell::new(messages()?, &config.web);
    if identity::citizen::sealed::parse_key(config.identity.secret_key.expose())?.is_none() {
        tracing::warn!("identity.secret_key is not set: TOTP secrets are stored unsealed");
    }
    let identity = IdentityCtx {
        kernel: kernel.clone(),
        cfg: Arc::new(config.identity.clone()),
        cookies: shell.cookies,
        public_url: config.web.public_url.clone(),
        oidc: Arc::new(identity::citizen::oidc::Providers::new(&config.identity.oidc_providers)?),
    };
    let ops = OpsCtx { kernel: kernel.clone(), metrics: shell.metrics.clone() };
    let portal = portal::http::PortalCtx {
        kernel: kernel.clone(),
        index: Arc::new(Default::default()),
        cookies: shell.cookies,
        public_url: config.web.public_url.clone(),
    };
    let app = Router::new()
        .merge(identity::http::routes(identity.clone()))
        .merge(identity::http::citizen::routes(identity.clone()))
        .merge(portal::http::routes(portal))
        .merge(forms::http::routes(forms::http::FormsCtx {
            kernel: kernel.clone(),
            public_url: config.web.public_url.clone(),
        }))
        .merge(opendata::http::routes(opendata::http::OpendataCtx {
            datastore: Some(Arc::new(crate::datastore_search::DatastoreBridge)),
            ..opendata::http::OpendataCtx::new(kernel.clone(), &config.web.public_url)
        }))
        .merge(invoicing::http::routes(invoicing::http::InvoicingCtx {
            kernel: kernel.clone(),
            mailbox_address: config.invoicing.mailbox_address.clone(),
        }))
        .merge(datastore::http::routes(datastore::http::DatastoreCtx {
            kernel: kernel.clone(),
            staging_dir: config.server.data_dir.join("datastore"),
            map_tiles: (config.web.map_tiles.clone(), config.web.map_attribution.clone()),
        }))
        .merge(ops::routes(ops))
        .merge(web_routes(shell.clone()))
        .fallback(|| async { kernel::AppError::NotFound })
        .layer(middleware::from_fn_with_state(identity.clone(), identity::http::citizen::session))
        .layer(middleware::from_fn_with_state(identity, identity::http::session));
    Ok(shell.wrap(app))
}

fn web_routes(shell: Shell) -> Router {
    use axum::routing::get;
    Router::new()
        .route("/assets/{version}/{*path}", get(web::assets::serve))
        .route("/sprache/{code}", get(web::shell::switch_language))
        .with_state(shell)
}

/// The job kinds this binary runs.
pub fn runner(config: &Config) -> Result<Runner, String> {
    let mut runner = Runner::default();
    kernel::mail::register(&mut runner, &config.mail)?;
    invoicing::jobs::register(&mut runner, &config.invoicing);
    forms::delivery::register(&mut runner)?;
    Ok(runner)
}
