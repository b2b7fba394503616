//! The demo county: the fictional Kreis Auenthal with seven municipalities, its job centre and
//! two county-owned companies, each with org units, addresses, opening hours and staff.
//!
//! Loading is idempotent (tenants by slug, units by name, accounts by e-mail). Every load sets
//! one new random password for all demo accounts and prints it once: nothing works with a
//! password written in the code. The e-mail domains end in `.example`, which never resolves.

use identity::model::{Address, Role, TenantKind};
use identity::service::{self, Setup};
use identity::store::{OrgUnitFields, TenantFields};
use kernel::{AppError, Kernel, TenantId};

struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    kind: TenantKind,
    ags: Option<&'static str>,
    postcodes: &'static [&'static str],
    street: &'static str,
    domain: &'static str,
    units: &'static [(&'static str, &'static str)],
}

const MUNICIPAL_UNITS: &[(&str, &str)] = &[("10", "Bürgerbüro"), ("32", "Ordnungsamt"), ("34", "Standesamt")];

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        slug: "kreis",
        name: "Kreis Auenthal",
        kind: TenantKind::County,
        ags: Some("05999000"),
        postcodes: &[],
        street: "Kreishausplatz 1",
        domain: "kreis-auenthal.example",
        units: &[
            ("FB 1", "Zentrale Dienste"),
            ("Amt 20", "Kreiskasse"),
            ("Amt 36", "Straßenverkehrsamt"),
            ("Amt 51", "Jugendamt"),
            ("Amt 53", "Gesundheitsamt"),
            ("Amt 62", "Vermessung und Kataster"),
            ("Amt 63", "Bauordnung"),
            ("Amt 70", "Umweltamt"),
            ("BK", "Büro des Kreistags"),
        ],
    },
    DemoTenant {
        slug: "auenthal",
        name: "Stadt Auenthal",
        kind: TenantKind::Municipality,
        ags: Some("05999004"),
        postcodes: &["59901", "59902"],
        street: "Rathausplatz 1",
        domain: "auenthal.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "lindenbach",
        name: "Stadt Lindenbach",
        kind: TenantKind::Municipality,
        ags: Some("05999008"),
        postcodes: &["59910"],
        street: "Marktstraße 3",
        domain: "lindenbach.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "hohenmoor",
        name: "Gemeinde Hohenmoor",
        kind: TenantKind::Municipality,
        ags: Some("05999012"),
        postcodes: &["59915"],
        street: "Dorfstraße 12",
        domain: "hohenmoor.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "wiesental",
        name: "Stadt Wiesental",
        kind: TenantKind::Municipality,
        ags: Some("05999016"),
        postcodes: &["59920", "59921"],
        street: "Am Rathaus 2",
        domain: "wiesental.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "eichenried",
        name: "Gemeinde Eichenried",
        kind: TenantKind::Municipality,
        ags: Some("05999020"),
        postcodes: &["59925"],
        street: "Kirchweg 5",
        domain: "eichenried.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "brueckhausen",
        name: "Stadt Brückhausen",
        kind: TenantKind::Municipality,
        ags: Some("05999024"),
        postcodes: &["59930"],
        street: "Brückenstraße 1",
        domain: "brueckhausen.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "kalkstein",
        name: "Gemeinde Kalkstein",
        kind: TenantKind::Municipality,
        ags: Some("05999028"),
        postcodes: &["59935"],
        street: "Hauptstraße 40",
        domain: "kalkstein.example",
        units: MUNICIPAL_UNITS,
    },
    DemoTenant {
        slug: "jobcenter",
        name: "Jobcenter Kreis Auenthal",
        kind: TenantKind::JobCentre,
        ags: None,
        postcodes: &[],
        street: "Agenturweg 4",
        domain: "jobcenter-auenthal.example",
        units: &[("JC 1", "Leistungsabteilung"), ("JC 2", "Arbeitsvermittlung")],
    },
    DemoTenant {
        slug: "awa",
        name: "Abfallwirtschaft Kreis Auenthal GmbH",
        kind: TenantKind::Company,
        ags: None,
        postcodes: &[],
        street: "Deponieweg 9",
        domain: "awa-auenthal.example",
        units: &[("KS", "Kundenservice"), ("BH", "Buchhaltung")],
    },
    DemoTenant {
        slug: "vka",
        name: "Verkehrsgesellschaft Kreis Auenthal mbH",
        kind: TenantKind::Company,
        ags: None,
        postcodes: &[],
        street: "Busbahnhof 1",
        domain: "vka-auenthal.example",
        units: &[("KS", "Kundenservice"), ("BH", "Buchhaltung")],
    },
];

/// One demo account: e-mail local part, name, roles (with the unit name they apply to).
struct DemoAccount {
    local: &'static str,
    name: &'static str,
    platform_admin: bool,
    roles: &'static [(Role, Option<&'static str>)],
}

const COUNTY_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        local: "it",
        name: "Ilse Tanner (Kreis-IT)",
        platform_admin: true,
        roles: &[(Role::Administrator, None)],
    },
    DemoAccount { local: "redaktion", name: "Rainer Dahl", platform_admin: false, roles: &[(Role::Editor, None)] },
    DemoAccount {
        local: "sachbearbeitung",
        name: "Sabine Acker",
        platform_admin: false,
        roles: &[(Role::Clerk, Some("Straßenverkehrsamt"))],
    },
    DemoAccount {
        local: "rechnungspruefung",
        name: "Rita Prüß",
        platform_admin: false,
        roles: &[(Role::Clerk, Some("Straßenverkehrsamt"))],
    },
    DemoAccount {
        local: "amtsleitung",
        name: "Achim Lenz",
        platform_admin: false,
        roles: &[(Role::HeadOfOffice, Some("Straßenverkehrsamt"))],
    },
    DemoAccount {
        local: "kasse",
        name: "Karin Assmann",
        platform_admin: false,
        roles: &[(Role::Finance, Some("Kreiskasse"))],
    },
    DemoAccount {
        local: "kreistag",
        name: "Gerd Remy",
        platform_admin: false,
        roles: &[(Role::CouncilOffice, Some("Büro des Kreistags"))],
    },
];

const OTHER_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        local: "verwaltung",
        name: "Administration",
        platform_admin: false,
        roles: &[(Role::Administrator, None)],
    },
    DemoAccount {
        local: "sachbearbeitung",
        name: "Sachbearbeitung",
        platform_admin: false,
        roles: &[(Role::Clerk, None)],
    },
];

/// What a demo load did, for the start-up message.
pub struct DemoSummary {
    pub tenants: usize,
    pub units: usize,
    /// (e-mail, description) of every demo account.
    pub accounts: Vec<(String, String)>,
    /// The one password of all demo accounts, valid until the next load.
    pub password: String,
}

/// Loads (or refreshes) the demo county.
pub async fn load(kernel: &Kernel) -> Result<DemoSummary, AppError> {
    let setup = Setup { kernel };
    let password = service::generate_password();
    let hash = service::hash_password(password.clone()).await?;
    let mut units = 0;
    let mut accounts = Vec::new();
    let mut data_editor = None;
    for t in TENANTS {
        let tenant = setup.tenant(&tenant_fields(t)).await?;
        let mut unit_ids = Vec::new();
        for (code, name) in t.units {
            unit_ids.push((*name, setup.org_unit(tenant, &unit_fields(t, code, name)).await?));
        }
        units += unit_ids.len();
        let list = if t.kind == TenantKind::County { COUNTY_ACCOUNTS } else { OTHER_ACCOUNTS };
        for a in list {
            let email = format!("{}@{}", a.local, t.domain);
            let name = if t.kind == TenantKind::County { a.name.to_owned() } else { format!("{} {}", a.name, t.name) };
            let staff = setup.staff(tenant, &email, &name, &hash, a.platform_admin).await?;
            if t.kind == TenantKind::County && a.local == "redaktion" {
                data_editor = Some((tenant, staff, a.name));
            }
            for (role, unit_name) in a.roles {
                let unit = unit_name.and_then(|n| unit_ids.iter().find(|(u, _)| *u == n).map(|(_, id)| *id));
                setup.role(tenant, staff, *role, unit).await?;
            }
            accounts.push((email, describe(t.name, a)));
        }
    }
    load_content(kernel).await?;
    if let Some((county, editor, name)) = data_editor {
        load_datasets(kernel, county, editor, name).await?;
    }
    for (slug, leitweg_id, unit_name) in LEITWEG_IDS {
        let tenant = tenant_id(kernel, slug).await?;
        let units = service::org_units(kernel, tenant).await?;
        if let Some(unit) = units.iter().find(|u| u.name == *unit_name) {
            invoicing::service::setup_route(kernel, tenant, leitweg_id, unit.id, "Rechnungseingang").await?;
        }
    }
    Ok(DemoSummary { tenants: TENANTS.len(), units, accounts, password })
}

/// A demo event `days` after today (German time), from `from` to `to` o'clock.
fn demo_event(
    kernel: &Kernel,
    (slug, title, summary, category, place): (&str, &str, &str, &str, &str),
    days: i64,
    (from, to): (u8, u8),
    capacity: Option<i64>,
) -> portal::content::service::Seed {
    let day = kernel.clock.now().plus_secs(days * 24 * 3600).german_local().date();
    let at = |hour: u8| {
        let t = time::PrimitiveDateTime::new(day, time::Time::from_hms(hour, 0, 0).unwrap_or(time::Time::MIDNIGHT));
        portal::content::model::format_local(kernel::Timestamp::from_german_local(t))
    };
    portal::content::service::Seed::Event(portal::content::model::EventDraft {
        slug: slug.into(),
        title: title.into(),
        summary: summary.into(),
        body: if capacity.is_some() {
            "Bitte melden Sie sich an; die Plätze sind begrenzt."
        } else {
            "Der Eintritt ist frei."
        }
        .into(),
        category: category.into(),
        place: place.into(),
        starts: at(from),
        ends: at(to),
        capacity: capacity.map(|c| c.to_string()).unwrap_or_default(),
    })
}

fn demo_news(slug: &str, title: &str, summary: &str, body: &str) -> portal::content::service::Seed {
    portal::content::service::Seed::News(portal::content::model::NewsDraft {
        slug: slug.into(),
        title: title.into(),
        summary: summary.into(),
        body: body.into(),
    })
}

fn demo_page(slug: &str, title: &str, body: &str) -> portal::content::service::Seed {
    portal::content::service::Seed::Page(portal::content::model::PageDraft {
        slug: slug.into(),
        title: title.into(),
        body: body.into(),
    })
}

/// The places of the county's training programme for municipal staff (Fortbildungsprogramm);
/// the demo shows it fully booked with a waiting list.
const TRAINING_PLACES: i64 = 12;

/// News, events and pages of the county and of Lindenbach; the county's training for
/// municipal staff is fully booked.
async fn load_content(kernel: &Kernel) -> Result<(), AppError> {
    use portal::content::service::{seed, seed_registrations};
    let kreis = tenant_id(kernel, "kreis").await?;
    let county = vec![
        demo_news(
            "neue-oeffnungszeiten-strassenverkehrsamt",
            "Straßenverkehrsamt: längere Öffnungszeiten am Donnerstag",
            "Die Zulassungsstelle ist donnerstags jetzt bis 18 Uhr geöffnet.",
            "Ab sofort können Sie Ihr **Fahrzeug zulassen** oder abmelden, auch nach Feierabend: \
             donnerstags von 14 bis 18 Uhr.\n\nTermine buchen Sie online.",
        ),
        demo_news(
            "wohngeld-reform",
            "Mehr Haushalte haben Anspruch auf Wohngeld",
            "Seit der Wohngeld-Reform bekommen mehr Haushalte einen Zuschuss zur Miete.",
            "Prüfen Sie, ob Sie Anspruch haben. Den Antrag stellen Sie beim Kreis, auch online.",
        ),
        demo_news(
            "kreistag-haushalt",
            "Kreistag beschließt den Haushalt",
            "Der Kreistag hat den Haushalt für das kommende Jahr beschlossen.",
            "Schwerpunkte sind Schulen, Radwege und die Digitalisierung der Verwaltung.",
        ),
        demo_event(
            kernel,
            (
                "fortbildung-digitale-verwaltung",
                "Fortbildung: Digitale Antragsverfahren für Beschäftigte der Kommunen",
                "Ganztägige Fortbildung des Kreises für Beschäftigte der Städte und Gemeinden.",
                "fortbildung",
                "Kreishaus Auenthal, Sitzungssaal A",
            ),
            10,
            (9, 16),
            Some(TRAINING_PLACES),
        ),
        demo_event(
            kernel,
            (
                "buergerdialog-radwege",
                "Bürgerdialog: Radwege im Kreis",
                "Planerinnen und Planer stellen das Radwegekonzept vor und sammeln Ihre Hinweise.",
                "beteiligung",
                "Kreishaus Auenthal, Foyer",
            ),
            5,
            (18, 20),
            None,
        ),
        demo_event(
            kernel,
            (
                "erste-hilfe-kurs-eltern",
                "Erste Hilfe am Kind",
                "Kurs des Gesundheitsamts für Eltern und Großeltern.",
                "familie",
                "Gesundheitsamt, Schulungsraum",
            ),
            14,
            (10, 13),
            Some(20),
        ),
        demo_page(
            "impressum",
            "Impressum",
            "Kreis Auenthal, Kreishausplatz 1, 59901 Auenthal.\n\nVertreten durch den Landrat. \
             Telefon +49 2999 0, info@kreis-auenthal.example.",
        ),
        demo_page(
            "datenschutz",
            "Datenschutz",
            "Wir verarbeiten personenbezogene Daten nur, soweit es für die jeweilige Leistung nötig ist \
             (Art. 6 DSGVO). Anmeldungen zu Veranstaltungen verwenden wir nur, um die Veranstaltung zu organisieren.",
        ),
        demo_page(
            "barrierefreiheit",
            "Erklärung zur Barrierefreiheit",
            "Dieses Portal soll die BITV 2.0 erfüllen. Barrieren melden Sie bitte an \
             barrierefreiheit@kreis-auenthal.example.",
        ),
    ];
    seed(kernel, kreis, &county).await?;
    let staff: Vec<portal::content::model::Signup> = [
        ("Anna Berger", "lindenbach"),
        ("Ben Cramer", "lindenbach"),
        ("Clara Dietz", "hohenmoor"),
        ("David Eck", "hohenmoor"),
        ("Eva Fink", "wiesental"),
        ("Felix Graf", "wiesental"),
        ("Greta Hahn", "eichenried"),
        ("Hans Iser", "eichenried"),
        ("Ida Jung", "brueckhausen"),
        ("Jan Kurz", "brueckhausen"),
        ("Karla Lenz", "kalkstein"),
        ("Lars Maier", "kalkstein"),
        ("Mona Noll", "auenthal"),
        ("Nils Ott", "auenthal"),
    ]
    .iter()
    .map(|(name, town)| portal::content::model::Signup {
        name: (*name).into(),
        email: format!("{}@{town}.example", slug_of(name).replace('-', ".")),
        organisation: TENANTS.iter().find(|t| t.slug == *town).map(|t| t.name.to_owned()).unwrap_or_default(),
    })
    .collect();
    seed_registrations(kernel, kreis, "fortbildung-digitale-verwaltung", &staff).await?;
    let lindenbach = tenant_id(kernel, "lindenbach").await?;
    let town = vec![
        demo_news(
            "sperrmuell-termine",
            "Sperrmüll: neue Abholtermine in Lindenbach",
            "Die Abholtermine für Sperrmüll im nächsten Halbjahr stehen fest.",
            "Melden Sie Sperrmüll bis eine Woche vor dem Termin an.",
        ),
        demo_event(
            kernel,
            (
                "weihnachtsmarkt-lindenbach",
                "Weihnachtsmarkt auf dem Marktplatz",
                "Buden, Musik und Kinderprogramm an drei Tagen.",
                "kultur",
                "Marktplatz Lindenbach",
            ),
            7,
            (14, 21),
            None,
        ),
        demo_page(
            "impressum",
            "Impressum",
            "Stadt Lindenbach, Marktstraße 3, 59910 Lindenbach. Vertreten durch die Bürgermeisterin.",
        ),
    ];
    seed(kernel, lindenbach, &town).await?;
    Ok(())
}

/// The demo county's open data groups: (name, title).
const DATA_GROUPS: &[(&str, &str)] = &[
    ("verkehr", "Verkehr und Mobilität"),
    ("bildung", "Bildung und Schule"),
    ("gesundheit", "Gesundheit"),
    ("politik-und-wahlen", "Politik und Wahlen"),
    ("haushalt-und-finanzen", "Haushalt und Finanzen"),
];

#[allow(clippy::too_many_arguments)] // one per DCAT-AP.de field the demo sets; a struct would only rename them
fn demo_meta(
    title: &str,
    description: &str,
    keywords: &[&str],
    themes: &[&str],
    contact: (&str, &str),
    temporal: (&str, &str),
    frequency: &str,
    licence: &str,
) -> opendata::model::Metadata {
    opendata::model::Metadata {
        title: title.into(),
        description: description.into(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        themes: themes.iter().map(|t| (*t).to_owned()).collect(),
        licence: licence.into(),
        contact_name: contact.0.into(),
        contact_email: contact.1.into(),
        spatial: "05999".into(),
        temporal_start: temporal.0.into(),
        temporal_end: temporal.1.into(),
        frequency: frequency.into(),
        landing_page: "https://www.kreis-auenthal.example/opendata".into(),
        ..Default::default()
    }
}

/// The county's open datasets with complete DCAT-AP.de metadata, published as confirmed free
/// of personal data by the county's Redaktion. Loaded once (by name).
async fn load_datasets(
    kernel: &Kernel,
    county: TenantId,
    editor: kernel::StaffId,
    editor_name: &str,
) -> Result<(), AppError> {
    use opendata::service::DemoDataset;
    let sets = vec![
        DemoDataset {
            name: "kfz-bestand",
            meta: demo_meta(
                "Kraftfahrzeugbestand nach Gemeinde, Fahrzeugklasse und Kraftstoff",
                "Bestand an zugelassenen Kraftfahrzeugen im Kreis Auenthal am 1. Januar, je Gemeinde, \
                 Fahrzeugklasse und Kraftstoffart, gegliedert wie die Statistik des Kraftfahrt-Bundesamts.",
                &["Kraftfahrzeuge", "Zulassung", "Elektromobilität", "Verkehr"],
                &["TRAN"],
                ("Straßenverkehrsamt", "strassenverkehrsamt@kreis-auenthal.example"),
                ("2026-01-01", "2026-01-01"),
                "ANNUAL",
                "dl-by-de/2.0",
            ),
            groups: &["verkehr"],
            distributions: Vec::new(),
        },
        DemoDataset {
            name: "schulen",
            meta: demo_meta(
                "Schulen im Kreis Auenthal",
                "Alle allgemeinbildenden und berufsbildenden Schulen mit Schulform, Träger, Anschrift, \
                 Koordinaten und Zahl der Schülerinnen und Schüler im laufenden Schuljahr.",
                &["Schulen", "Bildung", "Schulstandorte"],
                &["EDUC"],
                ("Zentrale Dienste", "zentrale-dienste@kreis-auenthal.example"),
                ("2025-08-01", "2026-07-31"),
                "ANNUAL",
                "dl-zero-de/2.0",
            ),
            groups: &["bildung"],
            distributions: Vec::new(),
        },
        DemoDataset {
            name: "wahllokale",
            meta: demo_meta(
                "Wahllokale der Kreistagswahl",
                "Die Wahllokale aller Stimmbezirke der Kreistagswahl mit Anschrift, Barrierefreiheit und \
                 Koordinaten (WGS 84).",
                &["Wahlen", "Wahllokale", "Kreistagswahl"],
                &["GOVE"],
                ("Büro des Kreistags", "buero-des-kreistags@kreis-auenthal.example"),
                ("2025-09-14", "2025-09-14"),
                "IRREG",
                "dl-zero-de/2.0",
            ),
            groups: &["politik-und-wahlen"],
            distributions: Vec::new(),
        },
        DemoDataset {
            name: "schuleingangsuntersuchungen",
            meta: demo_meta(
                "Ergebnisse der Schuleingangsuntersuchungen",
                "Zusammengefasste Befunde der Schuleingangsuntersuchungen je Gemeinde (Impfstatus, Sehen, \
                 Hören, Sprache, Körpergewicht). Fallzahlen unter 3 sind unterdrückt; die Daten enthalten \
                 keine Angaben zu einzelnen Kindern.",
                &["Schuleingangsuntersuchung", "Kindergesundheit", "Gesundheitsberichterstattung"],
                &["HEAL", "EDUC"],
                ("Gesundheitsamt", "gesundheitsamt@kreis-auenthal.example"),
                ("2025-01-01", "2025-12-31"),
                "ANNUAL",
                "dl-by-de/2.0",
            ),
            groups: &["gesundheit", "bildung"],
            distributions: Vec::new(),
        },
        DemoDataset {
            name: "haushalt",
            meta: demo_meta(
                "Haushaltsplan des Kreises nach Produktbereichen und Produkten",
                "Erträge und Aufwendungen des Kreishaushalts je Produktbereich und Produkt, Ansatz und \
                 Ergebnis, für den interaktiven Haushalt.",
                &["Haushalt", "Finanzen", "Produkthaushalt"],
                &["ECON", "GOVE"],
                ("Kreiskasse", "kreiskasse@kreis-auenthal.example"),
                ("2026-01-01", "2026-12-31"),
                "ANNUAL",
                "cc-by/4.0",
            ),
            groups: &["haushalt-und-finanzen"],
            distributions: Vec::new(),
        },
    ];
    for set in sets {
        opendata::service::load_demo_dataset(kernel, county, Some((editor, editor_name)), set, DATA_GROUPS).await?;
    }
    Ok(())
}

/// Loads the demo county's data tables (`datastore::demo::TABLES`) and links each to its open
/// dataset as distributions: the CSV download, the query API, the preview with table, chart and
/// map, and for the budget the interactive drill-down; then the dataset is published. Tables
/// linked before are skipped, so a restart with `--demo` loads nothing twice. Returns (title,
/// rows, bad rows) of those loaded.
pub async fn load_open_data_tables(
    kernel: &Kernel,
    dir: &std::path::Path,
    vehicle_rows: usize,
    public_url: &str,
) -> Result<Vec<(String, i64, i64)>, AppError> {
    let (county, editor) = county_redaktion(kernel).await?;
    let staff = (editor.member.id, editor.member.display_name.as_str());
    let base = public_url.trim_end_matches('/');
    let mut loaded = Vec::new();
    for table in &datastore::demo::TABLES {
        if opendata::service::links_data_table(kernel, county.id, table.dataset).await? {
            continue;
        }
        let (id, report) = datastore::demo::load_table(kernel, county.id, dir, table, vehicle_rows).await?;
        let link = |kind, title: &str, format: &str, url: String| opendata::model::DistributionInput {
            kind: Some(kind),
            title: title.to_owned(),
            format: format.to_owned(),
            url,
            datastore_resource: id.clone(),
            ..Default::default()
        };
        use opendata::model::DistributionKind::{Api, Link};
        let mut dists = vec![
            link(Link, &format!("{} (CSV)", table.title), "CSV", format!("{base}/api/v1/data/{id}.csv")),
            link(Api, "Abfrage-Schnittstelle (JSON, GeoJSON)", "JSON", format!("{base}/api/v1/data/{id}")),
            link(Link, "Tabelle, Diagramm und Karte", "HTML", format!("{base}/datentabellen/{id}")),
        ];
        if table.dataset == "haushalt" {
            let drill = "aufschluesselung?ebenen=art,produktbereich,produkt&wert=ansatz_eur";
            dists.push(link(Link, "Interaktiver Haushalt", "HTML", format!("{base}/datentabellen/{id}/{drill}")));
        }
        opendata::service::link_demo_distributions(kernel, county.id, staff, table.dataset, &dists).await?;
        loaded.push((table.title.to_owned(), report.rows, report.bad_rows));
    }
    Ok(loaded)
}

fn describe(tenant: &str, a: &DemoAccount) -> String {
    let roles: Vec<&str> = a.roles.iter().map(|(r, _)| r.as_str()).collect();
    let platform = if a.platform_admin { ", platform admin" } else { "" };
    format!("{tenant}: {}{platform}", roles.join(", "))
}

fn tenant_fields(t: &DemoTenant) -> TenantFields {
    let city = t.name.rsplit(' ').next().unwrap_or(t.name);
    TenantFields {
        slug: t.slug.into(),
        name: t.name.into(),
        kind: Some(t.kind),
        ags: t.ags.map(str::to_owned),
        address: Address {
            street: t.street.into(),
            postcode: t.postcodes.first().copied().unwrap_or("59901").into(),
            city: if t.kind == TenantKind::Municipality { city.into() } else { "Auenthal".into() },
        },
        phone: "+49 2999 0".into(),
        email: format!("info@{}", t.domain),
        website: format!("https://www.{}", t.domain),
        postcodes: t.postcodes.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn unit_fields(t: &DemoTenant, code: &str, name: &str) -> OrgUnitFields {
    let address = tenant_fields(t).address;
    let opening_hours = match name {
        "Bürgerbüro" | "Straßenverkehrsamt" => "Mo-Fr 07:30-12:30; Th 14:00-18:00; Sa 09:00-12:00",
        "Standesamt" => "Mo-Th 08:00-12:00; Fr 08:00-11:00",
        _ => "Mo-Fr 08:00-12:00; Th 14:00-16:00",
    };
    OrgUnitFields {
        parent: None,
        code: code.into(),
        name: name.into(),
        address,
        phone: "+49 2999 0".into(),
        email: format!("{}@{}", slug_of(name), t.domain),
        opening_hours: opening_hours.into(),
    }
}

fn slug_of(name: &str) -> String {
    name.to_lowercase()
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// The demo's Leitweg-IDs: (tenant, Leitweg-ID, receiving unit).
pub const LEITWEG_IDS: &[(&str, &str, &str)] =
    &[("kreis", "05999000-RE1-17", "Straßenverkehrsamt"), ("auenthal", "05999004-RE1-04", "Bürgerbüro")];

/// Where the demo's invoices come from: XRechnung test-suite invoices beside the repository,
/// addressed to the county's Leitweg-ID.
pub const INVOICES: &str = "../shared/testdata/einvoice/xrechnung-testsuite/src/test/business-cases/standard";
const DEMO_INVOICES: &[&str] =
    &["01.01a-INVOICE_ubl.xml", "01.02a-INVOICE_uncefact.xml", "01.10a-INVOICE_ubl.xml", "01.15a-INVOICE_ubl.xml"];

/// Puts a few invoices into the county's invoice inbox (idempotent: the same bytes are taken
/// in once); returns a line for the start-up message.
pub async fn load_invoices(kernel: &Kernel, dir: &std::path::Path) -> Result<String, AppError> {
    let mut received = 0;
    for name in DEMO_INVOICES {
        let Ok(xml) = std::fs::read_to_string(dir.join(name)) else { continue };
        let Some(xml) = invoicing::model::with_buyer_reference(&xml, LEITWEG_IDS[0].1) else { continue };
        let submission = invoicing::service::Submission {
            bytes: xml.into_bytes().into(),
            channel: invoicing::model::Channel::Api,
            sender: "demo".into(),
            actor: kernel::audit::Actor::system(),
        };
        if invoicing::service::intake(kernel, submission).await.is_ok_and(|i| !i.repeated) {
            received += 1;
        }
    }
    Ok(format!("Rechnungseingang: {received} Demo-Rechnungen aus {}.", dir.display()))
}

/// Where the demo's service catalogue comes from: the shared test data beside the repository.
pub const CATALOGUE: &str = "../shared/testdata/search/services.tsv";

/// Imports a service catalogue file into the demo county; returns a line for the start-up
/// message (also when there is no file: the demo works without services).
pub async fn load_catalogue(kernel: &Kernel, path: &std::path::Path) -> Result<String, AppError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(format!("Kein Leistungskatalog unter {} – die Demo läuft ohne Leistungen.", path.display()));
    };
    let services = portal::catalogue::parse_services(&text).map_err(|errors| {
        AppError::internal(format!(
            "{}: {}",
            path.display(),
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ))
    })?;
    let summary = portal::service::import_catalogue(kernel, &services).await?;
    let details = portal::exchange::parse(DEMO_DETAILS).map_err(AppError::internal)?;
    let index = portal::service::SearchIndex::default();
    portal::service::import_file(kernel, &index, portal::service::Importer::Installation, &details).await?;
    let fim = path.parent().and_then(|search| search.parent()).map(|testdata| testdata.join(FIM_DEMO));
    let forms = load_forms(kernel, fim.as_deref()).await?;
    Ok(format!(
        "Leistungskatalog: {} Leistungen, {} Angebote bei Kreis und Kommunen; {forms} Online-Formulare.",
        summary.services, summary.offers
    ))
}

/// The demo's online forms: (definition, catalogue service, receiving office of the county).
const DEMO_FORMS: &[(&str, &str, &str)] = &[
    (include_str!("../data/forms/reitkennzeichen.json"), "reitkennzeichen", "Umweltamt"),
    (include_str!("../data/forms/infektionsschutzbelehrung.json"), "infektionsschutzbelehrung", "Gesundheitsamt"),
    (include_str!("../data/forms/liegenschaftskarte.json"), "liegenschaftskarte", "Vermessung und Kataster"),
    (include_str!("../data/forms/baumfaellung.json"), "baumfaellung", "Umweltamt"),
];

/// The county and its demo Redaktion with their roles.
async fn county_redaktion(kernel: &Kernel) -> Result<(identity::model::Tenant, identity::model::Staff), AppError> {
    let county = service::tenant_by_slug(kernel, "kreis").await?;
    let editor = identity::store::staff_of_tenant(&kernel.db, county.id)
        .await?
        .into_iter()
        .find(|m| m.email == "redaktion@kreis-auenthal.example")
        .ok_or(AppError::NotFound)?;
    let roles = identity::store::roles_of(&kernel.db, editor.id).await?;
    Ok((county, identity::model::Staff { member: editor, roles }))
}

/// The county and the proof that its demo Redaktion may manage forms (demo loading, benchmarks).
pub async fn county_forms_editor(
    kernel: &Kernel,
) -> Result<(identity::model::Tenant, identity::Authorized<forms::service::ManageForms>), AppError> {
    let (county, editor) = county_redaktion(kernel).await?;
    let proof = editor.authorize::<forms::service::ManageForms>(county.id)?;
    Ok((county, proof))
}

/// A FIM data schema of the shared test data (XDatenfelder 3, "Anschrift in Deutschland"),
/// relative to the test data folder: the demo's form imported from FIM.
const FIM_DEMO: &str = "forms/fim/xdatenfelder-ts-fixtures/modules/xdatenfelder-xml/tests/v3-data/simple.xml";

/// Publishes the demo forms as the county's Redaktion and places them at their services and
/// offices, and the form imported from the FIM schema at `fim` (when that file exists). A form
/// whose published version already has this definition stays as it is.
pub async fn load_forms(kernel: &Kernel, fim: Option<&std::path::Path>) -> Result<usize, AppError> {
    let (county, proof) = county_forms_editor(kernel).await?;
    let units = service::org_units(kernel, county.id).await?;
    for (json, service_slug, office) in DEMO_FORMS {
        let form = forms::service::read_definition(json).map_err(|e| AppError::internal(e.join("; ")))?;
        if forms::service::current(kernel, &county, &form.id).await.is_ok_and(|(_, published)| published == form) {
            continue;
        }
        let unit = units.iter().find(|u| u.name == *office).map(|u| u.id);
        forms::service::save_draft(kernel, &proof, json).await?;
        forms::service::place(kernel, &proof, &form.id, Some(service_slug), unit).await?;
        forms::service::publish(kernel, &proof, &form.id).await?;
    }
    let Some(xml) = fim.and_then(|f| std::fs::read(f).ok()) else { return Ok(DEMO_FORMS.len()) };
    let imported = forms::fim::decode(&xml).and_then(|x| forms::fim::import(&x)).map_err(AppError::internal)?;
    if !forms::service::current(kernel, &county, &imported.form.id).await.is_ok_and(|(_, f)| f == imported.form) {
        forms::service::save_fim_import(kernel, &proof, &imported).await?;
        forms::service::publish(kernel, &proof, &imported.form.id).await?;
    }
    Ok(DEMO_FORMS.len() + 1)
}

/// Full details (fees, documents, offices, links, business situations) of a few demo services,
/// in the catalogue exchange format.
const DEMO_DETAILS: &str = include_str!("../data/demo-catalogue.json");

/// The tenant ids of the demo county, for tests.
pub async fn tenant_id(kernel: &Kernel, slug: &str) -> Result<TenantId, AppError> {
    Ok(service::tenant_by_slug(kernel, slug).await?.id)
}
