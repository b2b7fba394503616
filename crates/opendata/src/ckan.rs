//! CKAN's view of the catalogue (Action API v3): the package, resource, organization, group,
//! tag and licence dictionaries, `package_search` with its small Solr-like query language, and
//! CKAN's error types. Pure: the HTTP layer reads the datasets and the parameters and hands
//! them here.

use std::collections::BTreeMap;

use identity::model::Tenant;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{self, Dataset, Distribution, DistributionKind, Group};

/// A CKAN error: its HTTP status and its `error` object (`__type`, `message` or field lists).
#[derive(Debug, Clone, PartialEq)]
pub struct CkanError {
    pub status: u16,
    pub kind: &'static str,
    pub message: Option<String>,
    /// Validation errors by field: `{"rows": ["Invalid integer"]}`.
    pub fields: BTreeMap<String, Vec<String>>,
}

impl CkanError {
    pub fn not_found(message: &str) -> Self {
        CkanError { status: 404, kind: "Not Found Error", message: Some(message.to_owned()), fields: BTreeMap::new() }
    }

    pub fn validation(field: &str, message: &str) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), vec![message.to_owned()]);
        CkanError { status: 409, kind: "Validation Error", message: None, fields }
    }

    pub fn bad_request(message: String) -> Self {
        CkanError { status: 400, kind: "Bad Request", message: Some(message), fields: BTreeMap::new() }
    }

    pub fn search_query(message: String) -> Self {
        CkanError { status: 409, kind: "Search Query Error", message: Some(message), fields: BTreeMap::new() }
    }
}

/// The `error` object of a failed call.
#[derive(Debug, Serialize)]
pub struct ErrorObject {
    #[serde(rename = "__type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Every answer: `{"help", "success", "result"}` or `{"help", "success": false, "error"}`.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub help: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// The parameters of a call: the query string of a GET or the JSON object of a POST.
pub type Params = Map<String, Value>;

/// A string parameter (numbers and booleans are taken as text).
pub fn text<'a>(p: &'a Params, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    match p.get(name)? {
        Value::String(s) => Some(s.as_str().into()),
        Value::Null => None,
        other => Some(other.to_string().into()),
    }
}

/// An integer parameter within `0..=max`, or CKAN's validation error.
pub fn int(p: &Params, name: &str, default: i64, max: i64) -> Result<i64, CkanError> {
    let v = match p.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(default),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match v {
        Some(n) if n < 0 => Err(CkanError::validation(name, "Must be a natural number")),
        Some(n) => Ok(n.min(max)),
        None => Err(CkanError::validation(name, "Invalid integer")),
    }
}

/// A boolean parameter (`true`, `True`, `1`, JSON `true`).
pub fn boolean(p: &Params, name: &str) -> bool {
    match p.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// The required `id` parameter.
pub fn required_id(p: &Params) -> Result<String, CkanError> {
    text(p, "id")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CkanError::validation("id", "Missing value"))
}

/// CKAN's time format: `2026-11-22T08:00:00.000000` (UTC, no zone).
fn ckan_time(t: kernel::Timestamp) -> String {
    let s = t.rfc3339();
    format!("{}000", s.trim_end_matches('Z'))
}

/// A stable UUID for a tenant (tenants have integer ids; CKAN clients expect UUIDs).
pub fn tenant_uuid(t: &Tenant) -> String {
    let h = kernel::sha256_hex(&format!("kreishaus-tenant:{}", t.id.0));
    format!("{}-{}-5{}-8{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

#[derive(Clone, Debug, Serialize)]
pub struct Tag {
    pub name: String,
    pub display_name: String,
    pub state: &'static str,
    pub vocabulary_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Extra {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    pub id: String,
    pub package_id: String,
    pub name: String,
    pub description: String,
    pub format: String,
    pub mimetype: Option<String>,
    pub url: String,
    pub url_type: Option<&'static str>,
    pub size: Option<i64>,
    pub hash: String,
    pub created: String,
    pub last_modified: String,
    pub metadata_modified: String,
    pub position: i64,
    pub state: &'static str,
    pub datastore_active: bool,
    /// The data store table behind it (Kreishaus extension; `datastore_search` takes this id).
    pub datastore_resource_id: Option<String>,
    pub resource_type: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub title: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: String,
    pub image_url: String,
    pub image_display_url: String,
    pub created: String,
    pub is_organization: bool,
    pub approval_status: &'static str,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<Package>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extras: Option<Vec<Extra>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub title: String,
    pub notes: String,
    pub url: String,
    pub version: Option<String>,
    pub author: String,
    pub author_email: String,
    pub maintainer: String,
    pub maintainer_email: String,
    pub license_id: String,
    pub license_title: String,
    pub license_url: String,
    pub isopen: bool,
    pub metadata_created: String,
    pub metadata_modified: String,
    pub state: &'static str,
    pub private: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub owner_org: String,
    pub creator_user_id: Option<String>,
    pub organization: Organization,
    pub num_resources: usize,
    pub num_tags: usize,
    pub tags: Vec<Tag>,
    pub groups: Vec<Organization>,
    pub resources: Vec<Resource>,
    pub extras: Vec<Extra>,
    pub relationships_as_object: Vec<Value>,
    pub relationships_as_subject: Vec<Value>,
}

/// The catalogue as CKAN sees it: published datasets with their publishers and groups.
pub struct Site<'a> {
    /// The public address of the portal, without a trailing slash.
    pub base: &'a str,
    pub tenants: &'a [Tenant],
    pub groups: &'a [Group],
    /// Each tenant's UUID, derived once (a hash per package would dominate a search).
    tenant_uuids: Vec<String>,
}

impl<'a> Site<'a> {
    pub fn new(base: &'a str, tenants: &'a [Tenant], groups: &'a [Group]) -> Self {
        Site { base, tenants, groups, tenant_uuids: tenants.iter().map(tenant_uuid).collect() }
    }

    fn uuid_of(&self, t: &Tenant) -> String {
        match self.tenants.iter().position(|x| x.id == t.id) {
            Some(i) => self.tenant_uuids[i].clone(),
            None => tenant_uuid(t),
        }
    }

    pub fn tenant(&self, id: kernel::TenantId) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn organization(&self, t: &Tenant) -> Organization {
        Organization {
            id: self.uuid_of(t),
            name: t.slug.clone(),
            title: t.name.clone(),
            display_name: t.name.clone(),
            kind: "organization",
            description: t.address.one_line(),
            image_url: String::new(),
            image_display_url: String::new(),
            created: ckan_time(kernel::Timestamp::from_millis(0)),
            is_organization: true,
            approval_status: "approved",
            state: "active",
            package_count: None,
            packages: None,
            extras: None,
            users: None,
            groups: None,
            tags: None,
        }
    }

    pub fn group(&self, g: &Group) -> Organization {
        Organization {
            id: g.uuid.clone(),
            name: g.name.clone(),
            title: g.title.clone(),
            display_name: g.title.clone(),
            kind: "group",
            description: g.description.clone(),
            image_url: String::new(),
            image_display_url: String::new(),
            created: ckan_time(g.created_at),
            is_organization: false,
            approval_status: "approved",
            state: "active",
            package_count: None,
            packages: None,
            extras: None,
            users: None,
            groups: None,
            tags: None,
        }
    }

    /// Where a distribution's data is: the portal's download address for files.
    pub fn resource_url(&self, tenant: &Tenant, set: &Dataset, d: &Distribution) -> String {
        match (&d.url, d.kind) {
            (Some(url), DistributionKind::Api | DistributionKind::Link) => url.clone(),
            _ => format!("{}/daten/{}/{}/dateien/{}", self.base, tenant.slug, set.name, d.uuid),
        }
    }

    pub fn resource(&self, tenant: &Tenant, set: &Dataset, d: &Distribution) -> Resource {
        let file = d.file.as_ref();
        Resource {
            id: d.uuid.clone(),
            package_id: set.uuid.clone(),
            name: d.title.clone(),
            description: d.description.clone(),
            format: d.format.clone(),
            mimetype: model::media_type_of(&d.format).map(str::to_owned),
            url: self.resource_url(tenant, set, d),
            url_type: (d.kind == DistributionKind::File).then_some("upload"),
            size: file.map(|f| f.size),
            hash: file.map(|f| format!("sha256:{}", f.sha256)).unwrap_or_default(),
            created: ckan_time(d.created_at),
            last_modified: ckan_time(d.modified_at),
            metadata_modified: ckan_time(d.modified_at),
            position: d.position,
            state: "active",
            datastore_active: d.datastore_resource.is_some(),
            datastore_resource_id: d.datastore_resource.clone(),
            resource_type: (d.kind == DistributionKind::Api).then_some("api"),
        }
    }

    /// A dataset as CKAN's package dictionary; `None` when its publisher is unknown.
    pub fn package(&self, set: &Dataset) -> Option<Package> {
        let tenant = self.tenant(set.tenant)?;
        let m = &set.meta;
        let licence = model::licence(&m.licence);
        let tags: Vec<Tag> = m
            .keywords
            .iter()
            .map(|k| Tag { name: k.clone(), display_name: k.clone(), state: "active", vocabulary_id: None })
            .collect();
        let groups =
            self.groups.iter().filter(|g| set.groups.contains(&g.name)).map(|g| self.group(g)).collect::<Vec<_>>();
        let resources: Vec<Resource> = set.distributions.iter().map(|d| self.resource(tenant, set, d)).collect();
        Some(Package {
            id: set.uuid.clone(),
            name: set.name.clone(),
            title: m.title.clone(),
            notes: m.description.clone(),
            url: m.landing_page.clone(),
            version: None,
            author: tenant.name.clone(),
            author_email: tenant.email.clone(),
            maintainer: m.contact_name.clone(),
            maintainer_email: m.contact_email.clone(),
            license_id: m.licence.clone(),
            license_title: licence.map(|l| l.title.to_owned()).unwrap_or_default(),
            license_url: licence.map(|l| l.url.to_owned()).unwrap_or_default(),
            isopen: licence.is_some(),
            metadata_created: ckan_time(set.created_at),
            metadata_modified: ckan_time(set.modified_at),
            state: "active",
            private: false,
            kind: "dataset",
            owner_org: self.uuid_of(tenant),
            creator_user_id: None,
            organization: self.organization(tenant),
            num_resources: resources.len(),
            num_tags: tags.len(),
            tags,
            groups,
            resources,
            extras: extras(m),
            relationships_as_object: Vec::new(),
            relationships_as_subject: Vec::new(),
        })
    }
}

/// DCAT-AP.de fields CKAN has no column for, as extras under ckanext-dcat's keys.
fn extras(m: &model::Metadata) -> Vec<Extra> {
    let themes: Vec<String> = m.themes.iter().map(|t| format!("{}/{t}", model::THEME_BASE)).collect();
    let geo = model::geocoding(&m.spatial);
    let mut pairs: Vec<(&str, String)> = vec![
        ("contact_email", m.contact_email.clone()),
        ("contact_name", m.contact_name.clone()),
        ("contact_uri", m.contact_url.clone()),
        (
            "frequency",
            if m.frequency.is_empty() { String::new() } else { format!("{}/{}", model::FREQUENCY_BASE, m.frequency) },
        ),
        ("issued", m.issued.clone()),
        ("temporal_end", m.temporal_end.clone()),
        ("temporal_start", m.temporal_start.clone()),
        ("theme", if themes.is_empty() { String::new() } else { serde_json::to_string(&themes).unwrap_or_default() }),
    ];
    if let Some((level, list)) = geo {
        let uri = format!("{}/{list}/{}", model::GEOCODING_BASE, m.spatial);
        pairs.push(("politicalGeocodingLevelURI", format!("{}/Level/{level}", model::GEOCODING_BASE)));
        pairs.push(("politicalGeocodingURI", uri.clone()));
        pairs.push(("spatial_uri", uri));
    }
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| Extra { key: k.to_owned(), value: v }).collect()
}

/// One licence of `license_list`.
#[derive(Debug, Serialize)]
pub struct LicenceDict {
    pub id: &'static str,
    pub title: &'static str,
    pub url: &'static str,
    pub status: &'static str,
    pub od_conformance: &'static str,
    pub osd_conformance: &'static str,
    pub domain_content: bool,
    pub domain_data: bool,
    pub domain_software: bool,
    pub is_generic: bool,
    pub is_okd_compliant: bool,
    pub is_osi_compliant: bool,
    pub family: &'static str,
    pub maintainer: &'static str,
}

pub fn licence_list() -> Vec<LicenceDict> {
    model::LICENCES
        .iter()
        .map(|l| LicenceDict {
            id: l.id,
            title: l.title,
            url: l.url,
            status: "active",
            od_conformance: "approved",
            osd_conformance: "not reviewed",
            domain_content: true,
            domain_data: true,
            domain_software: false,
            is_generic: false,
            is_okd_compliant: true,
            is_osi_compliant: false,
            family: "",
            maintainer: "",
        })
        .collect()
}

// ---- package_search ----

/// The fields a query may name, as in CKAN's Solr schema.
const SEARCH_FIELDS: &[&str] =
    &["id", "name", "title", "notes", "tags", "organization", "groups", "res_format", "license_id", "text"];

/// The parameters package_search understands; any other is refused, as CKAN does.
const SEARCH_PARAMS: &[&str] = &[
    "q",
    "fq",
    "fq_list",
    "rows",
    "start",
    "sort",
    "facet",
    "facet.field",
    "facet.limit",
    "facet.mincount",
    "include_private",
    "include_drafts",
    "include_deleted",
    "use_default_schema",
    "qf",
    "wt",
    "df",
    "defType",
    "mm",
    "q.op",
    "callback",
];

/// One condition of a query: a word anywhere, or a value in a field; maybe negated.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    field: Option<String>,
    value: String,
    negated: bool,
}

/// Splits a Solr-like query into terms: words, `"phrases"`, `field:value`, `field:"a b"`,
/// `-field:value`; `AND` and `+` are implied; `*:*` matches everything.
fn parse_query(q: &str, param: &str) -> Result<Vec<Term>, CkanError> {
    let mut terms = Vec::new();
    let mut chars = q.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let negated = first == '-';
        if first == '-' || first == '+' {
            chars.next();
        }
        let mut raw = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
                chars.next();
                continue;
            }
            if c.is_whitespace() && !quoted {
                break;
            }
            raw.push(c);
            chars.next();
        }
        if quoted {
            return Err(CkanError::search_query(format!("Search Query is invalid: unbalanced quotes in {param}")));
        }
        if raw.is_empty() || raw == "AND" || raw == "*:*" || raw == "*" {
            continue;
        }
        if raw == "OR" || raw == "NOT" {
            return Err(CkanError::search_query(format!("Search Query is invalid: {raw} is not supported in {param}")));
        }
        let term = match raw.split_once(':') {
            Some((f, v)) if !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                if !SEARCH_FIELDS.contains(&f) {
                    return Err(CkanError::search_query(format!(
                        "Search Query is invalid: unknown field \"{f}\" in {param}; known fields: {}",
                        SEARCH_FIELDS.join(", ")
                    )));
                }
                let field = if f == "text" { None } else { Some(f.to_owned()) };
                Term { field, value: v.to_owned(), negated }
            }
            _ => Term { field: None, value: raw, negated },
        };
        if !term.value.is_empty() && term.value != "*" {
            terms.push(term);
        }
    }
    Ok(terms)
}

/// What search reads of a dataset: the dataset, its publisher and its groups (no copies).
struct Doc<'a> {
    set: &'a Dataset,
    tenant: &'a Tenant,
    groups: Vec<&'a Group>,
}

impl Doc<'_> {
    /// The values in a facet or filter field.
    fn values(&self, field: &str) -> Vec<&str> {
        let m = &self.set.meta;
        match field {
            "id" => vec![self.set.uuid.as_str()],
            "name" => vec![self.set.name.as_str()],
            "title" => vec![m.title.as_str()],
            "notes" => vec![m.description.as_str()],
            "tags" => m.keywords.iter().map(String::as_str).collect(),
            "organization" => vec![self.tenant.slug.as_str()],
            "groups" => self.groups.iter().map(|g| g.name.as_str()).collect(),
            "res_format" => {
                let mut f: Vec<&str> = self.set.distributions.iter().map(|d| d.format.as_str()).collect();
                f.sort_unstable();
                f.dedup();
                f
            }
            "license_id" => vec![m.licence.as_str()],
            _ => Vec::new(),
        }
    }

    /// How well it matches the free-text words: 0 when one of them is missing.
    fn score(&self, words: &[&Term]) -> u32 {
        let m = &self.set.meta;
        let title = m.title.to_lowercase();
        let notes = m.description.to_lowercase();
        let name = self.set.name.to_lowercase();
        let tags: Vec<String> = m.keywords.iter().map(|t| t.to_lowercase()).collect();
        let other = format!(
            "{} {} {}",
            self.tenant.name.to_lowercase(),
            self.groups.iter().map(|g| g.title.to_lowercase()).collect::<Vec<_>>().join(" "),
            self.set.distributions.iter().map(|d| d.title.to_lowercase()).collect::<Vec<_>>().join(" ")
        );
        let mut total = 0;
        for w in words {
            let w = w.value.to_lowercase();
            let s = 4 * u32::from(title.contains(&w))
                + 3 * u32::from(tags.iter().any(|t| t.contains(&w)))
                + 2 * u32::from(name.contains(&w))
                + u32::from(notes.contains(&w))
                + u32::from(other.contains(&w));
            if s == 0 {
                return 0;
            }
            total += s;
        }
        total.max(1)
    }

    fn matches_fields(&self, terms: &[Term]) -> bool {
        terms.iter().filter(|t| t.field.is_some()).all(|t| {
            let field = t.field.as_deref().unwrap_or_default();
            let hit = self.values(field).iter().any(|v| match field {
                "title" | "notes" => v.to_lowercase().contains(&t.value.to_lowercase()),
                _ => *v == t.value,
            });
            hit != t.negated
        })
    }
}

#[derive(Debug, Serialize)]
pub struct FacetItem {
    pub name: String,
    pub display_name: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct SearchFacet {
    pub title: String,
    pub items: Vec<FacetItem>,
}

#[derive(Debug, Serialize)]
pub struct SearchResult {
    pub count: usize,
    pub results: Vec<Package>,
    pub sort: String,
    pub facets: BTreeMap<String, BTreeMap<String, usize>>,
    pub search_facets: BTreeMap<String, SearchFacet>,
}

const FACET_FIELDS: &[&str] = &["tags", "organization", "groups", "res_format", "license_id"];

fn facet_fields(p: &Params) -> Result<Vec<String>, CkanError> {
    let fields: Vec<String> = match p.get("facet.field") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s)
            .map_err(|_| CkanError::validation("facet.field", "Must be a JSON list of field names"))?,
        Some(_) => return Err(CkanError::validation("facet.field", "Must be a JSON list of field names")),
    };
    match fields.iter().find(|f| !FACET_FIELDS.contains(&f.as_str())) {
        Some(f) => Err(CkanError::search_query(format!(
            "Search Query is invalid: cannot facet on \"{f}\"; facet fields: {}",
            FACET_FIELDS.join(", ")
        ))),
        None => Ok(fields),
    }
}

#[derive(Clone, Copy)]
enum SortKey {
    Score,
    Modified,
    Created,
    Name,
    Title,
}

fn parse_sort(s: &str) -> Result<Vec<(SortKey, bool)>, CkanError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let desc = match words.next().unwrap_or("asc") {
            "asc" => false,
            "desc" => true,
            other => return Err(CkanError::search_query(format!("Search Query is invalid: sort order \"{other}\""))),
        };
        let key = match field {
            "score" => SortKey::Score,
            "metadata_modified" => SortKey::Modified,
            "metadata_created" => SortKey::Created,
            "name" => SortKey::Name,
            "title" | "title_string" => SortKey::Title,
            other => {
                return Err(CkanError::search_query(format!(
                    "Search Query is invalid: cannot sort by \"{other}\"; sort fields: score, metadata_modified, \
                     metadata_created, name, title_string"
                )));
            }
        };
        out.push((key, desc));
    }
    Ok(out)
}

/// CKAN's default sort.
pub const DEFAULT_SORT: &str = "score desc, metadata_modified desc";

/// `package_search` over the given datasets; the package dictionaries are built for the
/// returned page only.
pub fn search(site: &Site<'_>, sets: &[&Dataset], p: &Params) -> Result<SearchResult, CkanError> {
    if let Some(unknown) = p.keys().find(|k| !SEARCH_PARAMS.contains(&k.as_str())) {
        return Err(CkanError::search_query(format!(
            "Search Query is invalid: \"Invalid search parameters: ['{unknown}']\""
        )));
    }
    let q = text(p, "q").unwrap_or_default();
    let mut terms = parse_query(&q, "q")?;
    terms.extend(parse_query(&text(p, "fq").unwrap_or_default(), "fq")?);
    if let Some(Value::Array(list)) = p.get("fq_list") {
        for fq in list {
            terms.extend(parse_query(fq.as_str().unwrap_or_default(), "fq_list")?);
        }
    }
    let rows = usize::try_from(int(p, "rows", 10, 1000)?).unwrap_or(10);
    let start = usize::try_from(int(p, "start", 0, i64::MAX)?).unwrap_or(0);
    let sort_text = text(p, "sort").map(|s| s.into_owned()).filter(|s| !s.trim().is_empty());
    let sort = parse_sort(sort_text.as_deref().unwrap_or(DEFAULT_SORT))?;
    let facets_wanted = facet_fields(p)?;
    let facet_limit = int(p, "facet.limit", 50, i64::MAX).unwrap_or(50);
    let facet_mincount = usize::try_from(int(p, "facet.mincount", 1, i64::MAX)?).unwrap_or(1);

    let words: Vec<&Term> = terms.iter().filter(|t| t.field.is_none() && !t.negated).collect();
    let excluded: Vec<&Term> = terms.iter().filter(|t| t.field.is_none() && t.negated).collect();
    let docs = sets.iter().filter_map(|set| {
        let tenant = site.tenant(set.tenant)?;
        let groups = site.groups.iter().filter(|g| set.groups.contains(&g.name)).collect();
        Some(Doc { set, tenant, groups })
    });
    let mut hits: Vec<(u32, Doc<'_>)> = docs
        .filter(|d| d.matches_fields(&terms))
        .filter_map(|d| {
            let s = if words.is_empty() { 1 } else { d.score(&words) };
            let out = excluded.iter().any(|t| d.score(&[*t]) > 0);
            (s > 0 && !out).then_some((s, d))
        })
        .collect();
    hits.sort_by(|(sa, a), (sb, b)| {
        let (a, b) = (a.set, b.set);
        for (key, desc) in &sort {
            let ord = match key {
                SortKey::Score => sa.cmp(sb),
                SortKey::Modified => a.modified_at.cmp(&b.modified_at),
                SortKey::Created => a.created_at.cmp(&b.created_at),
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Title => a.meta.title.to_lowercase().cmp(&b.meta.title.to_lowercase()),
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.name.cmp(&b.name)
    });

    let mut facets = BTreeMap::new();
    let mut search_facets = BTreeMap::new();
    for f in &facets_wanted {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, d) in &hits {
            for v in d.values(f) {
                *counts.entry(v.to_owned()).or_default() += 1;
            }
        }
        counts.retain(|_, n| *n >= facet_mincount);
        let mut items: Vec<FacetItem> = counts
            .iter()
            .map(|(name, count)| FacetItem {
                display_name: display_name(&hits, f, name),
                name: name.clone(),
                count: *count,
            })
            .collect();
        items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        if facet_limit >= 0 {
            items.truncate(usize::try_from(facet_limit).unwrap_or(usize::MAX));
            let keep: Vec<&String> = items.iter().map(|i| &i.name).collect();
            counts.retain(|k, _| keep.contains(&k));
        }
        facets.insert(f.clone(), counts);
        search_facets.insert(f.clone(), SearchFacet { title: f.clone(), items });
    }
    let count = hits.len();
    let results = hits.iter().skip(start).take(rows).filter_map(|(_, d)| site.package(d.set)).collect();
    Ok(SearchResult {
        count,
        results,
        sort: sort_text.unwrap_or_else(|| DEFAULT_SORT.to_owned()),
        facets,
        search_facets,
    })
}

/// The title of an organization or group facet value, else the value.
fn display_name(hits: &[(u32, Doc<'_>)], field: &str, name: &str) -> String {
    let found = hits.iter().find_map(|(_, d)| match field {
        "organization" if d.tenant.slug == name => Some(d.tenant.name.clone()),
        "groups" => d.groups.iter().find(|g| g.name == name).map(|g| g.title.clone()),
        _ => None,
    });
    found.unwrap_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn queries_split_into_words_phrases_and_field_terms() {
        let t = parse_query(r#"schulen tags:Bildung -res_format:PDF title:"Kfz Bestand" AND *:*"#, "q").unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t[0], Term { field: None, value: "schulen".into(), negated: false });
        assert_eq!(t[1], Term { field: Some("tags".into()), value: "Bildung".into(), negated: false });
        assert_eq!(t[2], Term { field: Some("res_format".into()), value: "PDF".into(), negated: true });
        assert_eq!(t[3].value, "Kfz Bestand");
        let e = parse_query("colour:red", "fq").unwrap_err();
        assert_eq!(e.kind, "Search Query Error");
        assert!(e.message.unwrap().contains("known fields: id, name"));
        assert!(parse_query("\"open", "q").is_err());
    }

    #[test]
    fn integer_parameters_take_numbers_and_digits_and_refuse_the_rest() {
        let p: Params =
            serde_json::from_str(r#"{"rows": "25", "start": 5, "bad": "zehn", "neg": -1, "big": 5000}"#).unwrap();
        assert_eq!(int(&p, "rows", 10, 1000), Ok(25));
        assert_eq!(int(&p, "start", 0, 1000), Ok(5));
        assert_eq!(int(&p, "missing", 10, 1000), Ok(10));
        assert_eq!(int(&p, "big", 10, 1000), Ok(1000));
        assert_eq!(int(&p, "bad", 10, 1000).unwrap_err().fields["bad"], ["Invalid integer"]);
        assert!(int(&p, "neg", 10, 1000).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_query_text_is_parsed_or_refused_without_panicking(q in "\\PC{0,200}") {
            if let Ok(terms) = parse_query(&q, "q") {
                proptest::prop_assert!(terms.iter().all(|t| !t.value.is_empty()));
            }
            let p: Params = [("q".to_owned(), Value::String(q.clone())), ("fq".to_owned(), Value::String(q))].into_iter().collect();
            let _ = search(&Site::new("", &[], &[]), &[], &p);
        }
    }

    #[test]
    fn sort_accepts_ckans_fields_only() {
        assert!(parse_sort(DEFAULT_SORT).is_ok());
        assert!(parse_sort("title_string asc, name desc").is_ok());
        assert!(parse_sort("colour asc").is_err());
        assert!(parse_sort("name sideways").is_err());
    }
}
