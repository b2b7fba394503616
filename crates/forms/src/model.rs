//! Forms and submissions as stored: versions with their status, submissions with their
//! processing status (Bearbeitungsstand), files and history.

use kernel::{CitizenId, OrgUnitId, StaffId, TenantId, Timestamp};
use serde_json::{Map, Value};

use crate::definition::Form;

/// Where a form version is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormStatus {
    /// Being edited; not visible to citizens.
    Draft,
    /// Live (the highest published version is the current one); never changes again.
    Published,
    /// Taken offline: takes no more submissions.
    Closed,
}

impl FormStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FormStatus::Draft => "draft",
            FormStatus::Published => "published",
            FormStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> FormStatus {
        match s {
            "published" => FormStatus::Published,
            "closed" => FormStatus::Closed,
            _ => FormStatus::Draft,
        }
    }
}

/// One version of a form of a tenant.
#[derive(Clone, Debug)]
pub struct FormVersion {
    pub id: i64,
    pub tenant: TenantId,
    pub form_id: String,
    pub version: i64,
    pub status: FormStatus,
    pub definition: Option<Form>,
    /// The definition exactly as stored.
    pub definition_json: String,
    /// The catalogue service the form applies for.
    pub service_slug: Option<String>,
    /// The org unit whose inbox receives the submissions.
    pub org_unit: Option<OrgUnitId>,
    pub created_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

/// How far an application is (Bearbeitungsstand), as the applicant sees it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Received,
    InProgress,
    WaitingForApplicant,
    Decided,
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Received, Status::InProgress, Status::WaitingForApplicant, Status::Decided, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::InProgress => "in_progress",
            Status::WaitingForApplicant => "waiting",
            Status::Decided => "decided",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Status {
        Status::ALL.into_iter().find(|x| x.as_str() == s).unwrap_or(Status::Received)
    }

    /// The message key of its German/English label.
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Received => "forms.status.received",
            Status::InProgress => "forms.status.in_progress",
            Status::WaitingForApplicant => "forms.status.waiting",
            Status::Decided => "forms.status.decided",
            Status::Closed => "forms.status.closed",
        }
    }
}

/// A submitted application.
#[derive(Clone, Debug)]
pub struct Submission {
    pub id: i64,
    pub tenant: TenantId,
    pub form_id: String,
    pub version: i64,
    pub tracking_id: String,
    /// The canonical answers.
    pub data: Map<String, Value>,
    /// SHA-256 of the canonical JSON of `data`, as on the receipt.
    pub data_sha256: String,
    pub fee_cents: Option<i64>,
    pub applicant_email: Option<String>,
    pub status_secret_sha256: Option<String>,
    pub org_unit: Option<OrgUnitId>,
    pub assigned_to: Option<StaffId>,
    pub status: Status,
    /// The logged-in citizen who sent it ("Meine Anträge"); None for an anonymous application.
    pub citizen: Option<CitizenId>,
    /// Opens the receipt PDF (in the receipt page's and mail's link).
    pub receipt_token: String,
    /// The verification code of the certificate issued with it, if the form issues one.
    pub certificate_code: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A logged-in citizen's unfinished application: the form pages' state, saved to resume later.
#[derive(Clone, Debug)]
pub struct Draft {
    pub tenant: TenantId,
    pub form_id: String,
    /// The version it was started with; resuming uses the current version and checks again.
    pub version: i64,
    /// The pages' state as JSON (answers, uploaded files, the form token).
    pub state: String,
    /// The step to resume at.
    pub step: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A file of a submission, in the object store by its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredFile {
    pub field: String,
    pub blob_sha256: String,
    pub media_type: String,
    pub size: i64,
    pub file_name: String,
}

/// One step of a submission's history.
#[derive(Clone, Debug)]
pub struct SubmissionEvent {
    pub status: Status,
    pub note: String,
    pub at: Timestamp,
}

/// The canonical JSON of a submission's data: keys sorted at every level (whatever order the
/// map keeps), no whitespace; its SHA-256 goes on the receipt.
pub fn canonical_json(data: &Map<String, Value>) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let ordered: std::collections::BTreeMap<&String, Value> =
                    m.iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::to_value(ordered).unwrap_or_default()
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let ordered: std::collections::BTreeMap<&String, Value> = data.iter().map(|(k, v)| (k, sorted(v))).collect();
    serde_json::to_string(&ordered).unwrap_or_default()
}

/// The second answer the status page asks for, normalised before hashing (case and spaces do
/// not matter).
pub fn status_secret_hash(answer: &str) -> String {
    let normalized: String = answer.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    kernel::sha256_hex(&normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_the_status_secret_ignores_case_and_spaces() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), s);
        }
        assert_eq!(status_secret_hash(" 59910 "), status_secret_hash("59910"));
        assert_ne!(status_secret_hash("59910"), status_secret_hash("59911"));
    }

    #[test]
    fn canonical_json_does_not_depend_on_insertion_order() {
        let mut a = Map::new();
        a.insert("b".into(), 1.into());
        a.insert("a".into(), 2.into());
        let mut b = Map::new();
        b.insert("a".into(), 2.into());
        b.insert("b".into(), 1.into());
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":2,"b":1}"#);
    }
}
