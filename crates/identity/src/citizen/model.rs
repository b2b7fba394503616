//! Citizen and organisation accounts: pure types and rules (password rules, trust levels,
//! profile fields and their checks). No I/O.

use kernel::{CitizenId, OrganisationId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::model::Tenant;

/// The shortest password a citizen may choose (length beats composition rules).
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest: hashing is deliberately slow, so the input is bounded.
pub const MAX_PASSWORD_LEN: usize = 200;

const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");
const COMMON_PASSWORDS_DE: &str = include_str!("../../data/common-passwords-de.txt");

/// True when the password is on a deny-list of common (breached) passwords, ignoring case.
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS.lines().chain(COMMON_PASSWORDS_DE.lines()).any(|p| p == lower)
}

/// Checks a new password; the error is the code of the rule it broke.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        Err("citizen.password_too_short")
    } else if len > MAX_PASSWORD_LEN {
        Err("citizen.password_too_long")
    } else if is_common_password(password) {
        Err("citizen.password_common")
    } else {
        Ok(())
    }
}

/// The eIDAS level of assurance of a login (Vertrauensniveau). Ordered: `Basic < Substantial < High`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustLevel {
    /// A local account with e-mail and password (with or without a second factor): the person
    /// was never identified.
    Basic,
    /// eIDAS "substantial": an identity provider that identified the person (e.g. ELSTER certificate).
    Substantial,
    /// eIDAS "high": the online ID card (eID) or an equivalent.
    High,
}

impl TrustLevel {
    pub const ALL: [TrustLevel; 3] = [TrustLevel::Basic, TrustLevel::Substantial, TrustLevel::High];

    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::Basic => "basic",
            TrustLevel::Substantial => "substantial",
            TrustLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TrustLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            TrustLevel::Basic => "citizen.level.basic",
            TrustLevel::Substantial => "citizen.level.substantial",
            TrustLevel::High => "citizen.level.high",
        }
    }
}

/// A minimum trust level, as a type: `CitizenAt<Substantial>` in a handler's arguments.
pub trait MinLevel {
    const LEVEL: TrustLevel;
}

/// Any logged-in citizen.
pub struct Basic;
impl MinLevel for Basic {
    const LEVEL: TrustLevel = TrustLevel::Basic;
}

/// Logged in through an identity provider of level substantial or high.
pub struct Substantial;
impl MinLevel for Substantial {
    const LEVEL: TrustLevel = TrustLevel::Substantial;
}

/// Logged in with the online ID card (or equivalent).
pub struct High;
impl MinLevel for High {
    const LEVEL: TrustLevel = TrustLevel::High;
}

/// A citizen account as stored (without secrets).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CitizenAccount {
    #[schema(value_type = i64)]
    pub id: CitizenId,
    pub email: String,
    pub email_verified: bool,
    pub totp_enabled: bool,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

/// What a citizen's session says about the login.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SessionFacts {
    pub trust_level: TrustLevel,
    /// `password`, `password_totp`, or the identity provider that raised the level.
    pub auth_method: String,
    /// The organisation the citizen acts for, if any.
    #[schema(value_type = Option<i64>)]
    pub acting_for: Option<OrganisationId>,
}

/// A logged-in citizen: the principal of every citizen-facing service call.
#[derive(Clone, Debug)]
pub struct Citizen {
    pub account: CitizenAccount,
    pub session: SessionFacts,
}

impl Citizen {
    pub fn id(&self) -> CitizenId {
        self.account.id
    }

    /// The subject of audit entries about this citizen's data.
    pub fn subject(&self) -> String {
        subject(self.account.id)
    }

    /// The audit actor: the citizen, on behalf of the organisation they act for.
    pub fn actor(&self) -> kernel::audit::Actor {
        kernel::audit::Actor {
            id: subject(self.account.id),
            name: self.account.email.clone(),
            on_behalf_of: self.session.acting_for.map(|o| format!("organisation:{o}")),
        }
    }

    /// Meets the level that a service, form or message asks for.
    pub fn meets(&self, level: TrustLevel) -> bool {
        self.session.trust_level >= level
    }
}

/// `citizen:17`: how audit entries name a citizen.
pub fn subject(id: CitizenId) -> String {
    format!("citizen:{id}")
}

/// A field of the profile (Stammdaten).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    GivenName,
    FamilyName,
    BirthDate,
    Street,
    Postcode,
    /// The municipality of residence, as the tenant's short name: it selects the jurisdiction.
    Municipality,
    Phone,
}

impl ProfileField {
    pub const ALL: [ProfileField; 7] = [
        ProfileField::GivenName,
        ProfileField::FamilyName,
        ProfileField::BirthDate,
        ProfileField::Street,
        ProfileField::Postcode,
        ProfileField::Municipality,
        ProfileField::Phone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProfileField::GivenName => "given_name",
            ProfileField::FamilyName => "family_name",
            ProfileField::BirthDate => "birth_date",
            ProfileField::Street => "street",
            ProfileField::Postcode => "postcode",
            ProfileField::Municipality => "municipality",
            ProfileField::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ProfileField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            ProfileField::GivenName => "citizen.field.given_name",
            ProfileField::FamilyName => "citizen.field.family_name",
            ProfileField::BirthDate => "citizen.field.birth_date",
            ProfileField::Street => "citizen.field.street",
            ProfileField::Postcode => "citizen.field.postcode",
            ProfileField::Municipality => "citizen.field.municipality",
            ProfileField::Phone => "citizen.field.phone",
        }
    }

    /// The HTML `autocomplete` token, so browsers and password managers can fill it.
    pub fn autocomplete(self) -> &'static str {
        match self {
            ProfileField::GivenName => "given-name",
            ProfileField::FamilyName => "family-name",
            ProfileField::BirthDate => "bday",
            ProfileField::Street => "street-address",
            ProfileField::Postcode => "postal-code",
            ProfileField::Municipality => "address-level2",
            ProfileField::Phone => "tel",
        }
    }
}

/// One value of the profile and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProfileValue {
    pub field: ProfileField,
    pub value: String,
    /// Confirmed by an identity provider: shown as verified and not editable.
    pub verified: bool,
    /// `self` for values the citizen typed, else the identity provider.
    pub source: String,
}

/// The profile: the stored values, in field order.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub values: Vec<ProfileValue>,
}

impl Profile {
    pub fn get(&self, field: ProfileField) -> Option<&ProfileValue> {
        self.values.iter().find(|v| v.field == field)
    }

    pub fn value(&self, field: ProfileField) -> &str {
        self.get(field).map(|v| v.value.as_str()).unwrap_or_default()
    }

    pub fn is_verified(&self, field: ProfileField) -> bool {
        self.get(field).is_some_and(|v| v.verified)
    }
}

/// A birth date as typed (`24.12.1980` or `1980-12-24`), as ISO `1980-12-24`; None when it is
/// no real date or lies in the future of `today` (ISO).
pub fn normalise_birth_date(input: &str, today: &str) -> Option<String> {
    let input = input.trim();
    let (y, m, d) = if let Some((d, rest)) = input.split_once('.') {
        let (m, y) = rest.split_once('.')?;
        (y, m, d)
    } else {
        let mut it = input.splitn(3, '-');
        (it.next()?, it.next()?, it.next()?)
    };
    let (y, m, d): (i32, u8, u8) = (y.trim().parse().ok()?, m.trim().parse().ok()?, d.trim().parse().ok()?);
    let month = time::Month::try_from(m).ok()?;
    let date = time::Date::from_calendar_date(y, month, d).ok()?;
    let iso = format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
    (y >= 1900 && iso.as_str() <= today).then_some(iso)
}

/// A phone number as people write it: digits with spaces, `+`, `/`, `-`, `(` and `)`.
pub fn valid_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +/-()".contains(c))
}

/// The municipality (a tenant of kind municipality) that a postcode or a name selects: this
/// is the jurisdiction for municipal services. The county's own tenant is never returned.
pub fn municipality_for<'a>(tenants: &'a [Tenant], given: &str) -> Option<&'a Tenant> {
    let given = given.trim();
    let lower = given.to_lowercase();
    tenants
        .iter()
        .filter(|t| t.kind == crate::model::TenantKind::Municipality && t.active)
        .find(|t| t.slug == lower || t.name.to_lowercase() == lower || t.postcodes.iter().any(|p| p == given))
}

/// One recorded consent to prefill a form from the profile (one use, never reused).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrefillConsent {
    pub id: i64,
    /// The office (tenant) whose form asked.
    #[schema(value_type = i64)]
    pub office: kernel::TenantId,
    pub form: String,
    pub fields: Vec<ProfileField>,
    #[schema(value_type = String)]
    pub given_at: Timestamp,
}

/// A role in an organisation account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// Manages the members and may invite.
    Owner,
    /// Acts for the organisation.
    Member,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(OrgRole::Owner),
            "member" => Some(OrgRole::Member),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            OrgRole::Owner => "citizen.org_role.owner",
            OrgRole::Member => "citizen.org_role.member",
        }
    }
}

/// An organisation account and the viewer's role in it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Membership {
    #[schema(value_type = i64)]
    pub organisation: OrganisationId,
    pub name: String,
    pub role: OrgRole,
}

/// A member of an organisation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    #[schema(value_type = i64)]
    pub citizen: CitizenId,
    pub email: String,
    pub role: OrgRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_refused_with_the_rule_it_broke() {
        assert_eq!(check_password("kurz"), Err("citizen.password_too_short"));
        assert_eq!(check_password("password12"), Err("citizen.password_common"));
        assert_eq!(check_password("QWERTYUIOP"), Err("citizen.password_common"));
        assert_eq!(check_password("Passwort123"), Err("citizen.password_common"));
        assert_eq!(check_password(&"x".repeat(201)), Err("citizen.password_too_long"));
        assert_eq!(check_password("Lindenblüte im Juni"), Ok(()));
    }

    #[test]
    fn the_deny_list_is_the_vendored_top_ten_thousand() {
        assert_eq!(COMMON_PASSWORDS.lines().count(), 10_000);
        assert!(is_common_password("123456") && is_common_password("1234567890"));
    }

    #[test]
    fn trust_levels_are_ordered_from_basic_to_high() {
        assert!(TrustLevel::Basic < TrustLevel::Substantial && TrustLevel::Substantial < TrustLevel::High);
        assert_eq!(TrustLevel::parse("substantial"), Some(TrustLevel::Substantial));
    }

    #[test]
    fn birth_dates_are_read_in_german_and_iso_notation() {
        assert_eq!(normalise_birth_date("24.12.1980", "2026-11-22").as_deref(), Some("1980-12-24"));
        assert_eq!(normalise_birth_date("1981-02-29", "2026-11-22"), None);
        assert_eq!(normalise_birth_date("2030-01-01", "2026-11-22"), None);
        assert_eq!(normalise_birth_date("gestern", "2026-11-22"), None);
    }

    #[test]
    fn phone_numbers_allow_the_usual_separators() {
        assert!(valid_phone("+49 2303 27-0") && valid_phone("(02303) 12345"));
        assert!(!valid_phone("123") && !valid_phone("call me"));
    }

    proptest::proptest! {
        #[test]
        fn profile_checks_never_panic(s in "\\PC{0,40}") {
            let _ = (normalise_birth_date(&s, "2026-11-22"), valid_phone(&s), check_password(&s));
        }
    }
}
