//! The catalogue as a file: every tenant's entry of every service with all its details, in the
//! documented JSON format of `docs/CATALOGUE-FORMAT.md`. Export is lossless: importing an export
//! gives the same catalogue.

use serde::{Deserialize, Serialize};

use crate::catalogue::{Level, Service, is_leika_key};
use crate::details::{Details, Fee};

/// The name of the format, in every file.
pub const FORMAT: &str = "kreishaus.catalogue";
/// The version of the format this build writes and reads.
pub const VERSION: u32 = 1;

/// A catalogue file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Always `kreishaus.catalogue`.
    pub format: String,
    /// 1.
    pub version: u32,
    /// RFC 3339, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: kernel::Timestamp,
    pub services: Vec<Entry>,
}

/// One tenant's entry of one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The catalogue id shared by every tenant's entry of the service (`wohngeld`).
    pub id: String,
    /// The providing tenant's short name (`kreis`, `lindenbach`).
    pub tenant: String,
    pub level: Level,
    pub name: String,
    #[serde(default)]
    pub summary: String,
    /// LeiKa key, 14 digits, or empty.
    #[serde(default)]
    pub leika: String,
    #[serde(default)]
    pub life_situations: Vec<String>,
    #[serde(default)]
    pub business_situations: Vec<String>,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub processing_time: String,
    #[serde(default)]
    pub online_url: String,
    #[serde(default)]
    pub appointment_url: String,
    #[serde(default)]
    pub form_url: String,
    /// The responsible org unit's name or code within the tenant, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
}

impl Entry {
    /// The entry of a tenant's service; `office` is the responsible unit's name.
    pub fn new(tenant: &str, s: Service, d: Details, office: Option<String>) -> Entry {
        Entry {
            id: s.id,
            tenant: tenant.to_owned(),
            level: s.level,
            name: s.name,
            summary: s.summary,
            leika: s.leika,
            life_situations: s.life_situations,
            business_situations: s.business_situations,
            description: d.description,
            documents: d.documents,
            fees: d.fees,
            legal_basis: d.legal_basis,
            processing_time: d.processing_time,
            online_url: d.online_url,
            appointment_url: d.appointment_url,
            form_url: d.form_url,
            office,
        }
    }

    /// The service and its details; the office is resolved by the caller.
    pub fn parts(&self) -> (Service, Details) {
        let service = Service {
            id: self.id.clone(),
            name: self.name.clone(),
            summary: self.summary.clone(),
            life_situations: self.life_situations.clone(),
            business_situations: self.business_situations.clone(),
            leika: self.leika.clone(),
            level: self.level,
        };
        let details = Details {
            description: self.description.clone(),
            documents: self.documents.clone(),
            fees: self.fees.clone(),
            legal_basis: self.legal_basis.clone(),
            processing_time: self.processing_time.clone(),
            online_url: self.online_url.clone(),
            appointment_url: self.appointment_url.clone(),
            form_url: self.form_url.clone(),
            org_unit: None,
        };
        (service, details)
    }
}

/// Whether `id` can be a catalogue id: lower-case letters (umlauts too, as in
/// `kleinkläranlage`), digits and hyphens, at most 100 bytes.
pub fn is_catalogue_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id.chars().all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// An address on the web, or an online form of this platform (`/antrag/{tenant}/{form}`, which
/// publishing a form for the service sets).
fn is_web_address(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://") || url.starts_with("/antrag/")
}

/// What is wrong with a service and its details, as (field, message code): the rules the
/// editor and the import share.
pub fn problems(s: &Service, d: &Details) -> Vec<(&'static str, &'static str)> {
    let mut found = Vec::new();
    let mut check = |ok: bool, field, code| {
        if !ok {
            found.push((field, code));
        }
    };
    check(is_catalogue_id(&s.id), "id", "portal.id_invalid");
    check(!s.name.trim().is_empty(), "name", "portal.name_required");
    check(!s.summary.trim().is_empty(), "summary", "portal.summary_required");
    check(s.leika.is_empty() || is_leika_key(&s.leika), "leika", "portal.leika_invalid");
    for (url, field) in
        [(&d.online_url, "online_url"), (&d.appointment_url, "appointment_url"), (&d.form_url, "form_url")]
    {
        check(url.is_empty() || is_web_address(url), field, "portal.url_invalid");
    }
    check(d.fees.iter().all(|f| f.amount_cents >= 0 && !f.label.trim().is_empty()), "fees", "portal.fee_invalid");
    found
}

/// Reads a catalogue file; the message says what to fix.
pub fn parse(json: &str) -> Result<CatalogueFile, String> {
    let file: CatalogueFile = serde_json::from_str(json).map_err(|e| format!("not a catalogue file: {e}"))?;
    if file.format != FORMAT {
        return Err(format!("the format is `{}`, expected `{FORMAT}`", file.format));
    }
    if file.version != VERSION {
        return Err(format!("version {} of the format is not supported; this version reads {VERSION}", file.version));
    }
    Ok(file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        let service = Service {
            id: "wohngeld".into(),
            name: "Wohngeld beantragen".into(),
            summary: "Zuschuss zur Miete.".into(),
            life_situations: vec!["Wohnen".into()],
            business_situations: vec![],
            leika: "99102013000000".into(),
            level: Level::County,
        };
        let details = Details { fees: vec![Fee { label: "Antrag".into(), amount_cents: 0 }], ..Details::default() };
        Entry::new("kreis", service, details, Some("Wohngeldstelle".into()))
    }

    #[test]
    fn an_entry_round_trips_through_json_and_its_parts() {
        let file = CatalogueFile {
            format: FORMAT.into(),
            version: VERSION,
            exported_at: kernel::Timestamp::from_millis(1_795_000_000_000),
            services: vec![entry()],
        };
        let json = serde_json::to_string_pretty(&file).expect("serializable");
        assert!(json.contains("\"level\": \"county\"") && json.contains("\"exported_at\": \"20"));
        assert_eq!(parse(&json), Ok(file));
        let (s, d) = entry().parts();
        assert_eq!(Entry::new("kreis", s, d, Some("Wohngeldstelle".into())), entry());
    }

    #[test]
    fn a_file_of_another_format_version_or_with_unknown_fields_is_refused_with_the_reason() {
        let good =
            serde_json::json!({"format": FORMAT, "version": 1, "exported_at": "2026-11-22T08:00:00Z", "services": []});
        assert!(parse(&good.to_string()).is_ok());
        let mut v2 = good.clone();
        v2["version"] = 2.into();
        assert!(parse(&v2.to_string()).unwrap_err().contains("version 2"));
        let mut other = good.clone();
        other["format"] = "xzufi".into();
        assert!(parse(&other.to_string()).unwrap_err().contains("expected `kreishaus.catalogue`"));
        let mut extra = good;
        extra["servces"] = serde_json::json!([]);
        assert!(parse(&extra.to_string()).unwrap_err().contains("unknown field"));
        assert!(parse("<xml/>").unwrap_err().starts_with("not a catalogue file"));
    }

    #[test]
    fn the_rules_name_every_bad_field() {
        let (mut s, mut d) = entry().parts();
        assert!(problems(&s, &d).is_empty());
        s.id = "Wohn geld".into();
        s.leika = "123".into();
        d.form_url = "javascript:alert(1)".into();
        d.fees[0].amount_cents = -5;
        let fields: Vec<_> = problems(&s, &d).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["id", "leika", "form_url", "fees"]);
    }
}
