//! Demo open data for the demo county, generated deterministically as CSV files (so they go
//! through the same importer as real files): vehicle stock per municipality, vehicle class and
//! fuel (shaped like the KBA statistics FZ 3), schools, polling stations with coordinates,
//! school entry examination results (aggregated; small counts marked for suppression) and the
//! county budget by product area and product (for the drill-down page).

use std::io::Write;
use std::path::{Path, PathBuf};

use kernel::audit::Actor;
use kernel::{AppError, Kernel, TenantId};

use crate::service::{self, ImportReport};
use crate::store;

/// A small deterministic random source (xorshift64*), so every run makes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const SYLLABLES: [&str; 16] = [
    "Lin", "den", "bach", "Ho", "hen", "moor", "Wie", "sen", "tal", "Ei", "chen", "ried", "Kalk", "stein", "Brück",
    "hausen",
];
const CLASSES: [&str; 6] = ["Pkw", "Krafträder", "Lkw", "Zugmaschinen", "Kraftomnibusse", "Sonstige Kfz"];
const FUELS: [&str; 5] = ["Benzin", "Diesel", "Elektro (BEV)", "Hybrid", "Gas"];

fn place_name(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut s: String = (0..n).map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]).collect();
    s = s.to_lowercase();
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The municipalities of the generated vehicle statistics: (AGS, name).
fn municipalities(count: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x5EED_0001);
    (0..count)
        .map(|i| {
            let kreis = 100 + (i / 400) % 900;
            let gemeinde = 1 + i % 400;
            (format!("05{kreis:03}{gemeinde:03}"), place_name(&mut rng))
        })
        .collect()
}

fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, AppError> {
    std::fs::File::create(path).map(std::io::BufWriter::new).map_err(AppError::internal)
}

/// Writes the vehicle stock with `rows` rows (a multiple of 30 per municipality and year):
/// `stichtag;ags;gemeinde;fahrzeugklasse;kraftstoff;anzahl`, semicolons, German style.
pub fn write_vehicles(path: &Path, rows: usize) -> Result<(), AppError> {
    let per_place = CLASSES.len() * FUELS.len();
    let places = municipalities(rows.div_ceil(per_place));
    let mut rng = Rng(0x5EED_0002);
    let mut w = create(path)?;
    let mut write = || -> std::io::Result<()> {
        writeln!(w, "stichtag;ags;gemeinde;fahrzeugklasse;kraftstoff;anzahl")?;
        let mut n = 0;
        'outer: for (ags, name) in &places {
            let size = 200 + rng.below(30_000);
            for (ci, class) in CLASSES.iter().enumerate() {
                for (fi, fuel) in FUELS.iter().enumerate() {
                    if n == rows {
                        break 'outer;
                    }
                    let share = [0.60, 0.07, 0.05, 0.04, 0.002, 0.01][ci] * [0.62, 0.30, 0.03, 0.04, 0.01][fi];
                    let count = (size as f64 * share * (0.5 + rng.below(100) as f64 / 100.0)) as u64;
                    writeln!(w, "01.01.2026;{ags};{name};{class};{fuel};{count}")?;
                    n += 1;
                }
            }
        }
        w.flush()
    };
    write().map_err(AppError::internal)
}

/// The demo county's municipalities with their centre (AGS, name, lat, lon).
const COUNTY: [(&str, &str, f64, f64); 8] = [
    ("05999004", "Auenthal", 51.55, 7.65),
    ("05999008", "Lindenbach", 51.52, 7.71),
    ("05999012", "Hohenmoor", 51.60, 7.80),
    ("05999016", "Wiesental", 51.47, 7.58),
    ("05999020", "Eichenried", 51.63, 7.62),
    ("05999024", "Brückhausen", 51.50, 7.86),
    ("05999028", "Kalkstein", 51.44, 7.74),
    ("05999032", "Auental-Nord", 51.66, 7.72),
];

fn write_lines(path: &Path, header: &str, lines: impl IntoIterator<Item = String>) -> Result<(), AppError> {
    let mut w = create(path)?;
    let write = || -> std::io::Result<()> {
        writeln!(w, "{header}")?;
        for l in lines {
            writeln!(w, "{l}")?;
        }
        w.flush()
    };
    write().map_err(AppError::internal)
}

fn jitter(rng: &mut Rng) -> f64 {
    (rng.below(2000) as f64 - 1000.0) / 40_000.0
}

/// Schools with pupils and coordinates.
pub fn write_schools(path: &Path) -> Result<(), AppError> {
    let mut rng = Rng(0x5EED_0003);
    let kinds = ["Grundschule", "Realschule", "Gymnasium", "Gesamtschule", "Förderschule", "Berufskolleg"];
    let lines = COUNTY.iter().flat_map(|(ags, name, lat, lon)| {
        let n = 3 + rng.below(4);
        (0..n)
            .map(|i| {
                let kind = kinds[rng.below(kinds.len() as u64) as usize];
                let pupils = 80 + rng.below(1100);
                format!(
                    "{kind} {name} {};{kind};{ags};{name};{pupils};{:.5};{:.5}",
                    i + 1,
                    lat + jitter(&mut rng),
                    lon + jitter(&mut rng)
                )
            })
            .collect::<Vec<_>>()
    });
    write_lines(path, "name;schulform;ags;gemeinde;schueler;lat;lon", lines)
}

/// Polling stations (Wahllokale) with coordinates.
pub fn write_polling_stations(path: &Path) -> Result<(), AppError> {
    let mut rng = Rng(0x5EED_0004);
    let places = ["Rathaus", "Grundschule", "Bürgerhaus", "Feuerwehrgerätehaus", "Pfarrheim", "Turnhalle"];
    let lines = COUNTY.iter().flat_map(|(ags, name, lat, lon)| {
        (1..=6 + rng.below(6))
            .map(|nr| {
                let place = places[rng.below(places.len() as u64) as usize];
                format!(
                    "{ags}{nr:03},{place} {name},{ags},{name},{},{:.5},{:.5},{}",
                    nr,
                    lat + jitter(&mut rng),
                    lon + jitter(&mut rng),
                    if rng.below(5) == 0 { "nein" } else { "ja" }
                )
            })
            .collect::<Vec<_>>()
    });
    write_lines(path, "wahlbezirk,name,ags,gemeinde,nummer,lat,lon,barrierefrei", lines)
}

/// School entry examination results, aggregated per municipality, year and finding.
pub fn write_school_entry(path: &Path) -> Result<(), AppError> {
    let mut rng = Rng(0x5EED_0005);
    let findings = ["Übergewicht", "Sprachförderbedarf", "Sehstörung", "Hörstörung", "Impfbuch vorgelegt"];
    let mut lines = Vec::new();
    for (ags, name, _, _) in COUNTY {
        for year in 2022..=2025 {
            let examined = 40 + rng.below(300);
            for f in findings {
                let share = if f == "Impfbuch vorgelegt" { 0.9 } else { 0.02 + rng.below(12) as f64 / 100.0 };
                let found = (examined as f64 * share) as u64;
                lines.push(format!("{ags};{name};{year};{f};{examined};{found}"));
            }
        }
    }
    write_lines(path, "ags;gemeinde;jahr;merkmal;untersucht;auffaellig", lines)
}

/// The county budget by product area and product, amounts in euros with decimal commas.
pub fn write_budget(path: &Path) -> Result<(), AppError> {
    let mut rng = Rng(0x5EED_0006);
    let areas: [(&str, &[&str]); 6] = [
        (
            "01 Innere Verwaltung",
            &["01.01 Kreistag und Verwaltungsführung", "01.02 Personal", "01.03 Finanzen", "01.04 IT"],
        ),
        ("02 Sicherheit und Ordnung", &["02.01 Straßenverkehr", "02.02 Rettungsdienst", "02.03 Katastrophenschutz"]),
        ("03 Schulträgeraufgaben", &["03.01 Förderschulen", "03.02 Berufskollegs", "03.03 Schülerbeförderung"]),
        ("05 Soziale Leistungen", &["05.01 Grundsicherung", "05.02 Eingliederungshilfe", "05.03 Hilfe zur Pflege"]),
        ("06 Kinder-, Jugend- und Familienhilfe", &["06.01 Kindertagesbetreuung", "06.02 Hilfen zur Erziehung"]),
        ("12 Verkehrsflächen und ÖPNV", &["12.01 Kreisstraßen", "12.02 ÖPNV"]),
    ];
    let mut lines = Vec::new();
    for (area, products) in areas {
        for p in products {
            for kind in ["Erträge", "Aufwendungen"] {
                let euros = 50_000 + rng.below(40_000_000);
                lines.push(format!("2026;{area};{p};{kind};{},{:02}", euros, rng.below(100)));
            }
        }
    }
    write_lines(path, "jahr;produktbereich;produkt;art;ansatz_eur", lines)
}

/// Writes a demo table's CSV file; the row count applies to the vehicle stock only.
type Writer = fn(&Path, usize) -> Result<(), AppError>;

/// One demo table: the open dataset (by name) whose distribution it is, its title and file,
/// how it is written, and the columns that hold counts (suppressed below k).
pub struct DemoTable {
    pub dataset: &'static str,
    pub title: &'static str,
    pub file: &'static str,
    write: Writer,
    pub counts: &'static [&'static str],
}

/// The demo county's tables, the small ones first so they are there at once.
pub const TABLES: [DemoTable; 5] = [
    DemoTable {
        dataset: "schulen",
        title: "Schulen",
        file: "schulen.csv",
        write: |p, _| write_schools(p),
        counts: &[],
    },
    DemoTable {
        dataset: "wahllokale",
        title: "Wahllokale",
        file: "wahllokale.csv",
        write: |p, _| write_polling_stations(p),
        counts: &[],
    },
    DemoTable {
        dataset: "schuleingangsuntersuchungen",
        title: "Schuleingangsuntersuchungen",
        file: "schuleingang.csv",
        write: |p, _| write_school_entry(p),
        counts: &["untersucht", "auffaellig"],
    },
    DemoTable {
        dataset: "haushalt",
        title: "Haushalt des Kreises nach Produktbereichen",
        file: "haushalt.csv",
        write: |p, _| write_budget(p),
        counts: &[],
    },
    DemoTable {
        dataset: "kfz-bestand",
        title: "Fahrzeugbestand nach Gemeinden, Fahrzeugklassen und Kraftstoffarten",
        file: "fahrzeugbestand.csv",
        write: write_vehicles,
        counts: &["anzahl"],
    },
];

/// Writes one demo table into `dir`, imports and publishes it for `tenant`; the vehicle table
/// gets `vehicle_rows` rows (300,000 like the Neuss portal; fewer for quick starts).
pub async fn load_table(
    k: &Kernel,
    tenant: TenantId,
    dir: &Path,
    table: &DemoTable,
    vehicle_rows: usize,
) -> Result<(String, ImportReport), AppError> {
    std::fs::create_dir_all(dir).map_err(AppError::internal)?;
    let path: PathBuf = dir.join(table.file);
    (table.write)(&path, vehicle_rows)?;
    import_published(k, tenant, table.title, &path, table.counts).await
}

/// Writes, imports and publishes every demo table (see [`load_table`]).
pub async fn load(
    k: &Kernel,
    tenant: TenantId,
    dir: &Path,
    vehicle_rows: usize,
) -> Result<Vec<(String, ImportReport)>, AppError> {
    let mut out = Vec::new();
    for table in &TABLES {
        out.push(load_table(k, tenant, dir, table, vehicle_rows).await?);
    }
    Ok(out)
}

/// Creates, imports and publishes one table as the system (the demo loader and the benchmark).
pub async fn import_published(
    k: &Kernel,
    tenant: TenantId,
    title: &str,
    path: &Path,
    counts: &[&str],
) -> Result<(String, ImportReport), AppError> {
    let actor = Actor::system();
    let r = service::create_resource_for(k, tenant, &actor, title, &path.display().to_string(), path).await?;
    let id = r.id.clone();
    let mut report = service::import_as(k, &actor, r, None).await?;
    for c in report.columns.iter_mut() {
        c.is_count = counts.contains(&c.name.as_str());
    }
    let mut tx = k.db.begin().await?;
    store::replace_columns(&mut tx, &id, &report.columns).await?;
    store::update_settings(&mut tx, tenant, &id, title, service::DEFAULT_K, true, k.clock.now()).await?;
    tx.commit().await?;
    Ok((id, report))
}
