//! Datasets, distributions and groups with their DCAT-AP.de vocabularies and rules. Pure: no I/O.

use kernel::{FieldError, StaffId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

/// An EU data theme (`http://publications.europa.eu/resource/authority/data-theme/…`).
pub struct Theme {
    pub code: &'static str,
    pub de: &'static str,
    pub en: &'static str,
}

/// The thirteen EU data themes, the categories DCAT-AP.de prescribes.
pub const THEMES: &[Theme] = &[
    Theme {
        code: "AGRI",
        de: "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel",
        en: "Agriculture, fisheries, forestry and food",
    },
    Theme { code: "ECON", de: "Wirtschaft und Finanzen", en: "Economy and finance" },
    Theme { code: "EDUC", de: "Bildung, Kultur und Sport", en: "Education, culture and sport" },
    Theme { code: "ENER", de: "Energie", en: "Energy" },
    Theme { code: "ENVI", de: "Umwelt", en: "Environment" },
    Theme { code: "GOVE", de: "Regierung und öffentlicher Sektor", en: "Government and public sector" },
    Theme { code: "HEAL", de: "Gesundheit", en: "Health" },
    Theme { code: "INTR", de: "Internationale Themen", en: "International issues" },
    Theme {
        code: "JUST",
        de: "Justiz, Rechtssystem und öffentliche Sicherheit",
        en: "Justice, legal system and public safety",
    },
    Theme { code: "REGI", de: "Regionen und Städte", en: "Regions and cities" },
    Theme { code: "SOCI", de: "Bevölkerung und Gesellschaft", en: "Population and society" },
    Theme { code: "TECH", de: "Wissenschaft und Technologie", en: "Science and technology" },
    Theme { code: "TRAN", de: "Verkehr", en: "Transport" },
];

pub const THEME_BASE: &str = "http://publications.europa.eu/resource/authority/data-theme";

/// A licence of the DCAT-AP.de licence list (`http://dcat-ap.de/def/licenses/…`).
pub struct Licence {
    /// The id in the DCAT-AP.de list and in CKAN's `license_id`: `dl-by-de/2.0`.
    pub id: &'static str,
    pub title: &'static str,
    /// The licence text.
    pub url: &'static str,
    /// Whether the licence asks to name the publisher.
    pub attribution: bool,
}

/// The open licences a county publishes under: Datenlizenz Deutschland and Creative Commons.
pub const LICENCES: &[Licence] = &[
    Licence {
        id: "dl-by-de/2.0",
        title: "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        url: "https://www.govdata.de/dl-de/by-2-0",
        attribution: true,
    },
    Licence {
        id: "dl-zero-de/2.0",
        title: "Datenlizenz Deutschland – Zero – Version 2.0",
        url: "https://www.govdata.de/dl-de/zero-2-0",
        attribution: false,
    },
    Licence {
        id: "cc-by/4.0",
        title: "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)",
        url: "https://creativecommons.org/licenses/by/4.0/",
        attribution: true,
    },
    Licence {
        id: "cc-by-sa/4.0",
        title: "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0 International (CC BY-SA 4.0)",
        url: "https://creativecommons.org/licenses/by-sa/4.0/",
        attribution: true,
    },
    Licence {
        id: "cc-zero",
        title: "Creative Commons CC Zero License (cc-zero)",
        url: "https://creativecommons.org/publicdomain/zero/1.0/",
        attribution: false,
    },
];

pub const LICENCE_BASE: &str = "http://dcat-ap.de/def/licenses";

pub fn licence(id: &str) -> Option<&'static Licence> {
    LICENCES.iter().find(|l| l.id == id)
}

/// How often a dataset is updated (EU frequency authority table).
pub const FREQUENCIES: &[(&str, &str, &str)] = &[
    ("CONT", "laufend", "continuously"),
    ("DAILY", "täglich", "daily"),
    ("WEEKLY", "wöchentlich", "weekly"),
    ("MONTHLY", "monatlich", "monthly"),
    ("QUARTERLY", "vierteljährlich", "quarterly"),
    ("ANNUAL", "jährlich", "annually"),
    ("IRREG", "unregelmäßig", "irregularly"),
    ("NEVER", "keine Aktualisierung", "never"),
    ("UNKNOWN", "unbekannt", "unknown"),
];

pub const FREQUENCY_BASE: &str = "http://publications.europa.eu/resource/authority/frequency";

/// File formats (EU file-type table) with their media type.
pub const FORMATS: &[(&str, &str)] = &[
    ("CSV", "text/csv"),
    ("JSON", "application/json"),
    ("GEOJSON", "application/geo+json"),
    ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("XML", "application/xml"),
    ("PDF", "application/pdf"),
    ("HTML", "text/html"),
    ("ZIP", "application/zip"),
    ("TXT", "text/plain"),
];

pub const FORMAT_BASE: &str = "http://publications.europa.eu/resource/authority/file-type";

pub fn media_type_of(format: &str) -> Option<&'static str> {
    FORMATS.iter().find(|(f, _)| *f == format).map(|(_, m)| *m)
}

/// The geopolitical level of a Regionalschlüssel or Gemeindeschlüssel, by its length, and the
/// DCAT-AP.de list it belongs to.
pub fn geocoding(key: &str) -> Option<(&'static str, &'static str)> {
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match key.len() {
        2 => ("state", "stateKey"),
        3 => ("state", "governmentDistrictKey"),
        5 => ("administrativeDistrict", "districtKey"),
        8 => ("municipality", "municipalityKey"),
        9 => ("municipality", "municipalAssociationKey"),
        12 => ("municipality", "regionalKey"),
        _ => return None,
    })
}

pub const GEOCODING_BASE: &str = "http://dcat-ap.de/def/politicalGeocoding";

/// The metadata of a dataset as the editor fills it in (DCAT-AP.de). Stored as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// EU data theme codes (`TRAN`).
    pub themes: Vec<String>,
    /// A licence id of [`LICENCES`].
    pub licence: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_url: String,
    /// Spatial coverage: a Regionalschlüssel (2, 3, 5, 9 or 12 digits) or Gemeindeschlüssel (8).
    pub spatial: String,
    /// Temporal coverage, ISO dates (`2024-01-01`), each optional.
    pub temporal_start: String,
    pub temporal_end: String,
    /// An EU frequency code.
    pub frequency: String,
    /// When the data was first published by its publisher (ISO date), if before this portal.
    pub issued: String,
    /// A web page about the data.
    pub landing_page: String,
}

fn iso_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 10
        && s.len() <= 2000
        && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

/// Tidy keyword list from a comma-separated field: trimmed, no empties, no duplicates.
pub fn split_keywords(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(k)) {
            out.push(k.to_owned());
        }
    }
    out
}

impl Metadata {
    /// Everything wrong with the metadata, as field errors with stable codes.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut bad = |ok: bool, field: &str, code: &'static str| {
            if !ok {
                out.push(FieldError { field: field.to_owned(), code });
            }
        };
        let title = self.title.trim();
        bad(!title.is_empty(), "title", "opendata.title_required");
        bad(title.chars().count() <= 200, "title", "opendata.title_too_long");
        bad(self.description.trim().chars().count() >= 20, "description", "opendata.description_too_short");
        bad(self.description.chars().count() <= 10_000, "description", "opendata.description_too_long");
        bad(
            self.keywords.len() <= 30 && self.keywords.iter().all(|k| valid_tag(k)),
            "keywords",
            "opendata.keyword_invalid",
        );
        bad(!self.themes.is_empty(), "themes", "opendata.theme_required");
        bad(self.themes.iter().all(|t| THEMES.iter().any(|x| x.code == t)), "themes", "opendata.theme_unknown");
        bad(licence(&self.licence).is_some(), "licence", "opendata.licence_required");
        bad(!self.contact_name.trim().is_empty(), "contact_name", "opendata.contact_name_required");
        bad(
            !self.contact_email.is_empty() || !self.contact_url.is_empty(),
            "contact_email",
            "opendata.contact_required",
        );
        bad(
            self.contact_email.is_empty() || identity::model::looks_like_email(&self.contact_email),
            "contact_email",
            "opendata.email_invalid",
        );
        bad(self.contact_url.is_empty() || http_url(&self.contact_url), "contact_url", "opendata.url_invalid");
        bad(self.landing_page.is_empty() || http_url(&self.landing_page), "landing_page", "opendata.url_invalid");
        bad(self.spatial.is_empty() || geocoding(&self.spatial).is_some(), "spatial", "opendata.spatial_invalid");
        let start = iso_date(&self.temporal_start);
        let end = iso_date(&self.temporal_end);
        bad(self.temporal_start.is_empty() || start.is_some(), "temporal_start", "opendata.date_invalid");
        bad(self.temporal_end.is_empty() || end.is_some(), "temporal_end", "opendata.date_invalid");
        bad(!matches!((start, end), (Some(s), Some(e)) if e < s), "temporal_end", "opendata.temporal_end_before_start");
        bad(self.issued.is_empty() || iso_date(&self.issued).is_some(), "issued", "opendata.date_invalid");
        bad(FREQUENCIES.iter().any(|(c, _, _)| *c == self.frequency), "frequency", "opendata.frequency_required");
        out
    }

    /// The names of the fields that differ from `before`, for the history.
    pub fn changed_fields(&self, before: &Metadata) -> Vec<&'static str> {
        let pairs: [(&'static str, bool); 14] = [
            ("title", self.title != before.title),
            ("description", self.description != before.description),
            ("keywords", self.keywords != before.keywords),
            ("themes", self.themes != before.themes),
            ("licence", self.licence != before.licence),
            ("contact_name", self.contact_name != before.contact_name),
            ("contact_email", self.contact_email != before.contact_email),
            ("contact_url", self.contact_url != before.contact_url),
            ("spatial", self.spatial != before.spatial),
            ("temporal_start", self.temporal_start != before.temporal_start),
            ("temporal_end", self.temporal_end != before.temporal_end),
            ("frequency", self.frequency != before.frequency),
            ("issued", self.issued != before.issued),
            ("landing_page", self.landing_page != before.landing_page),
        ];
        pairs.into_iter().filter(|(_, changed)| *changed).map(|(f, _)| f).collect()
    }
}

/// A keyword as CKAN accepts tags: 1 to 100 characters, letters, digits, space, `-_.`.
pub fn valid_tag(t: &str) -> bool {
    let n = t.chars().count();
    (1..=100).contains(&n) && t.chars().all(|c| c.is_alphanumeric() || " -_.".contains(c))
}

/// A dataset or group name in addresses (CKAN's rule): 2 to 100 of `a-z 0-9 - _`.
pub fn valid_name(s: &str) -> bool {
    (2..=100).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A name for an address from a title: `Kfz-Bestand 2024` → `kfz-bestand-2024`.
pub fn name_from_title(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        let piece = match c {
            'ä' => "ae".to_owned(),
            'ö' => "oe".to_owned(),
            'ü' => "ue".to_owned(),
            'ß' => "ss".to_owned(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => "-".to_owned(),
        };
        out.push_str(&piece);
    }
    let parts: Vec<&str> = out.split('-').filter(|p| !p.is_empty()).collect();
    parts.join("-").chars().take(100).collect()
}

/// A random UUID (version 4) as text: the public id of datasets, distributions and groups.
pub fn new_uuid() -> String {
    let mut hex: Vec<u8> = kernel::random_token().into_bytes();
    hex[12] = b'4';
    hex[16] = b"89ab"[usize::from(hex[16] % 4)];
    let h = String::from_utf8_lossy(&hex[..32]).into_owned();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A UUID as text in its canonical lower-case form, or `None`.
pub fn parse_uuid(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    let ok = s.len() == 36
        && s.bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() });
    ok.then_some(s)
}

/// What a distribution is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistributionKind {
    /// A file in the object store, downloaded from this portal.
    File,
    /// An API (for example the data store's query API).
    Api,
    /// A link to a file or page elsewhere.
    Link,
}

impl DistributionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DistributionKind::File => "file",
            DistributionKind::Api => "api",
            DistributionKind::Link => "link",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(DistributionKind::File),
            "api" => Some(DistributionKind::Api),
            "link" => Some(DistributionKind::Link),
            _ => None,
        }
    }
}

/// A file as stored: hash, media type, size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredFile {
    pub sha256: String,
    pub media_type: String,
    pub size: i64,
}

/// One way to get the data of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub id: i64,
    pub uuid: String,
    pub dataset_id: i64,
    pub position: i64,
    pub kind: DistributionKind,
    pub title: String,
    pub description: String,
    /// An EU file-type code of [`FORMATS`].
    pub format: String,
    /// Where an API or link points; for files, `None` (the portal serves them).
    pub url: Option<String>,
    pub file: Option<StoredFile>,
    /// The data store table (resource UUID) behind this distribution, if any.
    pub datastore_resource: Option<String>,
    pub created_at: Timestamp,
    pub modified_at: Timestamp,
}

/// What the editor sends for a new distribution (a file comes as bytes beside it).
#[derive(Clone, Debug, Default)]
pub struct DistributionInput {
    pub kind: Option<DistributionKind>,
    pub title: String,
    pub description: String,
    pub format: String,
    pub url: String,
    pub datastore_resource: String,
}

impl DistributionInput {
    /// Everything wrong with it; `has_file` tells whether a file came with a file distribution.
    pub fn problems(&self, has_file: bool) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut bad = |ok: bool, field: &str, code: &'static str| {
            if !ok {
                out.push(FieldError { field: field.to_owned(), code });
            }
        };
        bad(self.kind.is_some(), "kind", "opendata.kind_required");
        bad(
            !self.title.trim().is_empty() && self.title.chars().count() <= 200,
            "dist_title",
            "opendata.title_required",
        );
        bad(media_type_of(&self.format).is_some(), "format", "opendata.format_unknown");
        match self.kind {
            Some(DistributionKind::File) => bad(has_file, "file", "opendata.file_required"),
            Some(_) => bad(http_url(&self.url), "url", "opendata.url_invalid"),
            None => {}
        }
        bad(
            self.datastore_resource.is_empty() || parse_uuid(&self.datastore_resource).is_some(),
            "datastore_resource",
            "opendata.resource_id_invalid",
        );
        out
    }
}

/// A dataset of a publisher with its distributions and groups.
#[derive(Clone, Debug, Serialize)]
pub struct Dataset {
    pub id: i64,
    pub uuid: String,
    pub tenant: TenantId,
    pub name: String,
    pub meta: Metadata,
    pub published: bool,
    /// When and by whom it was confirmed free of personal data.
    pub privacy_confirmed: Option<(Timestamp, StaffId)>,
    pub created_at: Timestamp,
    pub modified_at: Timestamp,
    pub published_at: Option<Timestamp>,
    pub distributions: Vec<Distribution>,
    /// Names of its groups.
    pub groups: Vec<String>,
}

/// A group (Kategorie) of datasets across publishers.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: i64,
    pub uuid: String,
    pub tenant: TenantId,
    pub name: String,
    pub title: String,
    pub description: String,
    pub created_at: Timestamp,
}

/// One entry of a dataset's history.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub at: Timestamp,
    pub actor_name: String,
    /// `created`, `updated`, `published`, `withdrawn`, `privacy_confirmed`, `distribution_added`, …
    pub action: String,
    /// The metadata fields that changed.
    pub fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn complete() -> Metadata {
        Metadata {
            title: "Kfz-Bestand".into(),
            description: "Bestand an Kraftfahrzeugen je Gemeinde, Fahrzeugklasse und Kraftstoff.".into(),
            keywords: vec!["Verkehr".into(), "Kfz".into()],
            themes: vec!["TRAN".into()],
            licence: "dl-by-de/2.0".into(),
            contact_name: "Straßenverkehrsamt".into(),
            contact_email: "verkehr@kreis.example".into(),
            spatial: "05999".into(),
            temporal_start: "2024-01-01".into(),
            temporal_end: "2024-12-31".into(),
            frequency: "ANNUAL".into(),
            ..Metadata::default()
        }
    }

    #[test]
    fn complete_metadata_has_no_problems_and_each_missing_part_is_named() {
        assert!(complete().problems().is_empty());
        let mut m = complete();
        m.title.clear();
        m.themes = vec!["XXXX".into()];
        m.licence = "proprietary".into();
        m.spatial = "5999".into();
        m.temporal_end = "2023-01-01".into();
        let codes: Vec<&str> = m.problems().iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                "opendata.title_required",
                "opendata.theme_unknown",
                "opendata.licence_required",
                "opendata.spatial_invalid",
                "opendata.temporal_end_before_start"
            ]
        );
    }

    #[test]
    fn regional_keys_map_to_their_dcat_ap_de_list_by_length() {
        assert_eq!(geocoding("05"), Some(("state", "stateKey")));
        assert_eq!(geocoding("05999"), Some(("administrativeDistrict", "districtKey")));
        assert_eq!(geocoding("059990004004"), Some(("municipality", "regionalKey")));
        assert_eq!(geocoding("0599A"), None);
        assert_eq!(geocoding("0599900"), None);
    }

    #[test]
    fn names_come_from_titles_and_follow_ckans_rule() {
        assert_eq!(name_from_title("Kfz-Bestand 2024 (Größe)"), "kfz-bestand-2024-groesse");
        assert!(valid_name("kfz-bestand_2024"));
        assert!(!valid_name("Kfz"));
        assert!(!valid_name("a"));
    }

    #[test]
    fn uuids_are_version_4_and_parse_back() {
        let u = new_uuid();
        assert_eq!(parse_uuid(&u).as_deref(), Some(u.as_str()));
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }

    #[test]
    fn keywords_are_split_trimmed_and_deduplicated() {
        assert_eq!(split_keywords(" Schulen, Bildung ,, schulen"), ["Schulen", "Bildung"]);
        assert!(!valid_tag("a<b"));
    }
}
