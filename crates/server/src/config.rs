//! The configuration: one TOML file, environment overrides (`KREISHAUS__DATABASE__URL`), then
//! command-line flags. Each domain owns its section and defaults; an unknown key anywhere
//! stops the start with a message naming it. Secrets never print.

use std::path::{Path, PathBuf};

use identity::service::IdentityConfig;
use invoicing::jobs::InvoicingConfig;
use kernel::Secret;
use kernel::blobs::StorageConfig;
use kernel::mail::MailConfig;
use serde::{Deserialize, Serialize};
use web::WebConfig;

/// The documented defaults, printed by `kreishaus config example`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub web: WebConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
    pub identity: IdentityConfig,
    pub invoicing: InvoicingConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub data_dir: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: "127.0.0.1:8080".into(), data_dir: PathBuf::from("./data") }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Empty: SQLite in the data dir.
    pub url: Secret,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: Secret::default(), max_connections: 10 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    pub workers: u32,
    pub idle_poll_ms: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig { workers: 2, idle_poll_ms: 500 }
    }
}

impl Config {
    /// The database URL to use: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite:{}", self.server.data_dir.join("kreishaus.db").display())
        } else {
            self.database.url.expose().to_owned()
        }
    }
}

const ENV_PREFIX: &str = "KREISHAUS__";

/// Reads the file (if any), then applies `KREISHAUS__…` variables from `env`.
pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, String> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
            // Parsed once as Config for messages with line and column, then as a table.
            toml::from_str::<Config>(&text).map_err(|e| format!("config file {}: {e}", path.display()))?;
            toml::from_str::<toml::Table>(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
        }
        None => toml::Table::new(),
    };
    let mut overridden = Vec::new();
    for (name, value) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else { continue };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        set_path(&mut table, &keys, &value).map_err(|e| format!("environment variable {name}: {e}"))?;
        overridden.push(name);
    }
    Config::deserialize(toml::Value::Table(table)).map_err(|e| {
        let source = file.map(|p| format!("config file {}", p.display())).unwrap_or_else(|| "configuration".into());
        if overridden.is_empty() {
            format!("{source}: {e}")
        } else {
            format!("{source} with {}: {e}", overridden.join(", "))
        }
    })
}

fn set_path(table: &mut toml::Table, keys: &[String], raw: &str) -> Result<(), String> {
    match keys {
        [] => Err("no key after the prefix".into()),
        [last] => {
            // A value that reads as a TOML number or boolean is one; anything else is a string.
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !v.is_str() && !v.is_table() && !v.is_array())
                .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, raw),
                _ => Err(format!("{first} is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), text).expect("write");
        f
    }

    #[test]
    fn the_printed_example_is_exactly_the_defaults() {
        let from_example: Config = toml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(toml::to_string(&from_example).ok(), toml::to_string(&Config::default()).ok());
    }

    #[test]
    fn an_unknown_key_names_the_key_and_the_file() {
        let f = write("[server]\nlisten = \"0.0.0.0:80\"\nlisen = 1\n");
        let err = load(Some(f.path()), []).expect_err("unknown key");
        assert!(err.contains("lisen"), "{err}");
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }

    #[test]
    fn a_malformed_file_is_reported_with_its_name() {
        let f = write("[server\nlisten = ");
        let err = load(Some(f.path()), []).expect_err("malformed");
        assert!(err.starts_with("config file "), "{err}");
    }

    #[test]
    fn environment_variables_override_the_file_and_keep_their_types() {
        let f = write("[jobs]\nworkers = 4\n");
        let env = [
            ("KREISHAUS__JOBS__WORKERS".to_owned(), "1".to_owned()),
            ("KREISHAUS__DATABASE__URL".to_owned(), "postgres://kh@db/kh".to_owned()),
        ];
        let c = load(Some(f.path()), env).expect("loads");
        assert_eq!(c.jobs.workers, 1);
        assert_eq!(c.database.url.expose(), "postgres://kh@db/kh");
    }

    #[test]
    fn an_unknown_environment_key_is_an_error_naming_the_variable() {
        let err = load(None, [("KREISHAUS__JOBS__WORKER".to_owned(), "1".to_owned())]).expect_err("unknown");
        assert!(err.contains("KREISHAUS__JOBS__WORKER") && err.contains("worker"), "{err}");
    }

    #[test]
    fn without_a_database_url_sqlite_lives_in_the_data_dir() {
        let mut c = Config::default();
        c.server.data_dir = PathBuf::from("/srv/kh");
        assert_eq!(c.database_url(), "sqlite:/srv/kh/kreishaus.db");
    }
}
