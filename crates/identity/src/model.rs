//! Tenants, org units, staff, roles and the proof of permission. Pure types and rules.

use std::marker::PhantomData;

use kernel::{OrgUnitId, StaffId, TenantId};
use serde::Serialize;

/// What kind of organisation a tenant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    /// The county itself (Kreisverwaltung).
    County,
    /// A municipality of the county (kreisangehörige Stadt oder Gemeinde).
    Municipality,
    /// The job centre (Jobcenter).
    JobCentre,
    /// A company the county owns (Kreisgesellschaft: waste, transport, business development).
    Company,
}

impl TenantKind {
    pub const ALL: [TenantKind; 4] =
        [TenantKind::County, TenantKind::Municipality, TenantKind::JobCentre, TenantKind::Company];

    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::County => "county",
            TenantKind::Municipality => "municipality",
            TenantKind::JobCentre => "job_centre",
            TenantKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TenantKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The message key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            TenantKind::County => "identity.tenant_kind.county",
            TenantKind::Municipality => "identity.tenant_kind.municipality",
            TenantKind::JobCentre => "identity.tenant_kind.job_centre",
            TenantKind::Company => "identity.tenant_kind.company",
        }
    }
}

/// A tenant (Mandant).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    #[schema(value_type = i64)]
    pub id: TenantId,
    /// The short name in addresses: `kreis`, `lindenbach`.
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    /// Amtlicher Gemeindeschlüssel (8 digits), where the tenant is a municipality or the county.
    pub ags: Option<String>,
    pub address: Address,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub postcodes: Vec<String>,
    pub active: bool,
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Address {
    pub street: String,
    pub postcode: String,
    pub city: String,
}

impl Address {
    /// `Markt 1, 12345 Lindenbach`, or empty.
    pub fn one_line(&self) -> String {
        match (self.street.is_empty(), self.city.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{} {}", self.postcode, self.city).trim().to_owned(),
            (false, _) => format!("{}, {} {}", self.street, self.postcode, self.city).trim().to_owned(),
        }
    }
}

/// An organisational unit (Amt, Fachbereich, Sachgebiet) of a tenant.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrgUnit {
    #[schema(value_type = i64)]
    pub id: OrgUnitId,
    #[schema(value_type = i64)]
    pub tenant: TenantId,
    #[schema(value_type = Option<i64>)]
    pub parent: Option<OrgUnitId>,
    /// The unit's short code: `FB 3`, `Amt 32`.
    pub code: String,
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub email: String,
    /// In the OpenStreetMap `opening_hours` syntax: `Mo-Fr 08:00-12:00; Th 14:00-18:00`.
    pub opening_hours: String,
}

/// OpenStreetMap `opening_hours` words and their German names (the rest are alike: Mo, Fr, Sa).
const OPENING_HOURS_WORDS: [(&str, &str); 6] =
    [("Tu", "Di"), ("We", "Mi"), ("Th", "Do"), ("Su", "So"), ("PH", "Feiertag"), ("off", "geschlossen")];

/// Replaces whole words by `map` and one dash character by another.
fn replace_words(s: &str, map: impl Fn(&str) -> Option<&'static str>, dash: (char, char)) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut word = String::new();
    for c in s.chars().chain(std::iter::once('\n')) {
        if c.is_alphabetic() {
            word.push(c);
            continue;
        }
        out.push_str(map(&word).unwrap_or(&word));
        word.clear();
        out.push(if c == dash.0 { dash.1 } else { c });
    }
    out.pop();
    out
}

/// Opening hours as typed by German staff (`Mo–Fr 08:00–12:00; Do 14:00–18:00`), in the
/// stored OpenStreetMap syntax (`Mo-Fr 08:00-12:00; Th 14:00-18:00`). OSM input stays as it is.
pub fn opening_hours_from_german(input: &str) -> String {
    let osm =
        replace_words(input, |w| OPENING_HOURS_WORDS.iter().find(|(_, de)| *de == w).map(|(osm, _)| *osm), ('–', '-'));
    osm.trim().to_owned()
}

impl OrgUnit {
    /// The opening hours for display: the stored OpenStreetMap syntax uses English day names
    /// (`Mo Tu We Th Fr Sa Su`, `PH` for public holidays); German readers get German ones.
    pub fn opening_hours_in(&self, lang: &str) -> String {
        if lang != "de" {
            return self.opening_hours.clone();
        }
        let german = |w: &str| match w {
            "closed" => Some("geschlossen"),
            _ => OPENING_HOURS_WORDS.iter().find(|(osm, _)| *osm == w).map(|(_, de)| *de),
        };
        replace_words(&self.opening_hours, german, ('-', '–'))
    }
}

/// What a member of staff may do. Roles are granted for a whole tenant or one org unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the tenant's org units, staff and roles (Administration).
    Administrator,
    /// Maintains content: services, news, datasets (Redaktion).
    Editor,
    /// Works cases (Sachbearbeitung).
    Clerk,
    /// Leads an office: deadlines, workload, sign-off (Amtsleitung).
    HeadOfOffice,
    /// Payments, invoices, booking records (Finanzen, Kasse).
    Finance,
    /// Bodies, meetings and council papers (Gremienbüro).
    CouncilOffice,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Administrator, Role::Editor, Role::Clerk, Role::HeadOfOffice, Role::Finance, Role::CouncilOffice];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Editor => "editor",
            Role::Clerk => "clerk",
            Role::HeadOfOffice => "head_of_office",
            Role::Finance => "finance",
            Role::CouncilOffice => "council_office",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Role::Administrator => "identity.role.administrator",
            Role::Editor => "identity.role.editor",
            Role::Clerk => "identity.role.clerk",
            Role::HeadOfOffice => "identity.role.head_of_office",
            Role::Finance => "identity.role.finance",
            Role::CouncilOffice => "identity.role.council_office",
        }
    }
}

/// One role of one member of staff, for a whole tenant (`org_unit` None) or one unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub id: i64,
    pub role: Role,
    #[schema(value_type = i64)]
    pub tenant: TenantId,
    #[schema(value_type = Option<i64>)]
    pub org_unit: Option<OrgUnitId>,
}

/// A member of staff as stored (without the password hash).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    #[schema(value_type = i64)]
    pub id: StaffId,
    #[schema(value_type = i64)]
    pub tenant: TenantId,
    pub email: String,
    pub display_name: String,
    /// Kreis-IT: manages tenants and the platform, and may administer every tenant.
    pub platform_admin: bool,
    pub active: bool,
}

/// A logged-in member of staff with their roles: the principal every permission check asks.
#[derive(Clone, Debug)]
pub struct Staff {
    pub member: StaffMember,
    pub roles: Vec<RoleGrant>,
}

impl Staff {
    pub fn id(&self) -> StaffId {
        self.member.id
    }

    pub fn tenant(&self) -> TenantId {
        self.member.tenant
    }

    /// The audit actor for this member of staff.
    pub fn actor(&self) -> kernel::audit::Actor {
        kernel::audit::Actor {
            id: format!("staff:{}", self.member.id),
            name: self.member.display_name.clone(),
            on_behalf_of: None,
        }
    }

    /// True when a role of `P` is held for the whole tenant, or platform administration.
    fn holds_for_tenant<P: Permission>(&self, tenant: TenantId) -> bool {
        self.member.active
            && (self.member.platform_admin && P::PLATFORM_ADMIN_MAY
                || self.roles.iter().any(|g| g.tenant == tenant && g.org_unit.is_none() && P::ROLES.contains(&g.role)))
    }

    /// The first role of `P` held in `tenant` (for `unit`, or tenant-wide): the role an
    /// audit entry names.
    fn granting_role<P: Permission>(&self, tenant: TenantId, unit: Option<OrgUnitId>) -> Option<Role> {
        self.roles
            .iter()
            .filter(|g| g.tenant == tenant && P::ROLES.contains(&g.role))
            .find(|g| g.org_unit.is_none() || g.org_unit == unit)
            .map(|g| g.role)
    }

    /// Proves that this member of staff may do `P` in `tenant` (in all its units).
    pub fn authorize<P: Permission>(&self, tenant: TenantId) -> Result<Authorized<P>, kernel::AppError> {
        if self.holds_for_tenant::<P>(tenant) {
            Ok(Authorized {
                actor: self.actor(),
                staff: self.id(),
                tenant,
                org_unit: None,
                role: self.granting_role::<P>(tenant, None),
                _permission: PhantomData,
            })
        } else {
            Err(kernel::AppError::Forbidden)
        }
    }

    /// Proves that this member of staff may do `P` in one org unit: by a role for that unit or
    /// for the whole tenant.
    pub fn authorize_in_unit<P: Permission>(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
    ) -> Result<Authorized<P>, kernel::AppError> {
        let for_unit = self.member.active
            && self.roles.iter().any(|g| g.tenant == tenant && g.org_unit == Some(unit) && P::ROLES.contains(&g.role));
        if for_unit || self.holds_for_tenant::<P>(tenant) {
            Ok(Authorized {
                actor: self.actor(),
                staff: self.id(),
                tenant,
                org_unit: Some(unit),
                role: self.granting_role::<P>(tenant, Some(unit)),
                _permission: PhantomData,
            })
        } else {
            Err(kernel::AppError::Forbidden)
        }
    }

    /// Proves platform administration (Kreis-IT): tenants, jobs, the whole installation.
    pub fn authorize_platform(&self) -> Result<Authorized<ManagePlatform>, kernel::AppError> {
        if self.member.active && self.member.platform_admin {
            Ok(Authorized {
                actor: self.actor(),
                staff: self.id(),
                tenant: self.tenant(),
                org_unit: None,
                role: None,
                _permission: PhantomData,
            })
        } else {
            Err(kernel::AppError::Forbidden)
        }
    }

    /// Has something to do in the administration area: administers a tenant, reads its log or
    /// edits its content (tenant-wide roles; a role for one org unit has its own pages).
    pub fn is_admin(&self) -> bool {
        self.member.platform_admin
            || self.roles.iter().any(|g| {
                g.org_unit.is_none() && matches!(g.role, Role::Administrator | Role::HeadOfOffice | Role::Editor)
            })
    }

    /// Maintains content somewhere (Redaktion or Administration): the start page of the
    /// administration links to the content editors.
    pub fn edits_content(&self) -> bool {
        self.member.platform_admin || self.roles.iter().any(|g| matches!(g.role, Role::Editor | Role::Administrator))
    }

    /// The tenants this member of staff administers (for the admin start page).
    pub fn administered_tenants(&self) -> Vec<TenantId> {
        let mut t: Vec<TenantId> = self
            .roles
            .iter()
            .filter(|g| g.role == Role::Administrator && g.org_unit.is_none())
            .map(|g| g.tenant)
            .collect();
        t.sort();
        t.dedup();
        t
    }
}

/// A kind of action that needs permission. Domains declare their own markers; only this
/// crate can turn a logged-in member of staff into an [`Authorized`] proof for one.
pub trait Permission {
    /// The roles that grant it.
    const ROLES: &'static [Role];
    /// Whether platform administrators (Kreis-IT) have it in every tenant.
    const PLATFORM_ADMIN_MAY: bool = true;
}

/// Proof that `actor` may do `P` in `tenant` (and, where set, only in `org_unit`). A service
/// function that needs a permission takes this value: forgetting the check does not compile.
#[derive(Debug)]
pub struct Authorized<P> {
    actor: kernel::audit::Actor,
    staff: StaffId,
    tenant: TenantId,
    org_unit: Option<OrgUnitId>,
    /// The role that grants it; None for platform administration.
    role: Option<Role>,
    _permission: PhantomData<P>,
}

impl<P> Authorized<P> {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn org_unit(&self) -> Option<OrgUnitId> {
        self.org_unit
    }

    pub fn staff(&self) -> StaffId {
        self.staff
    }

    pub fn actor(&self) -> &kernel::audit::Actor {
        &self.actor
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }
}

/// Manage a tenant's org units, staff and roles.
#[derive(Debug)]
pub struct ManageStaff;
impl Permission for ManageStaff {
    const ROLES: &'static [Role] = &[Role::Administrator];
}

/// Read a tenant's audit log.
#[derive(Debug)]
pub struct ReadAudit;
impl Permission for ReadAudit {
    const ROLES: &'static [Role] = &[Role::Administrator, Role::HeadOfOffice];
}

/// Read a citizen's account and profile (for a case). Every read is recorded in the audit log
/// and shown to the citizen in the privacy cockpit.
#[derive(Debug)]
pub struct ReadCitizenData;
impl Permission for ReadCitizenData {
    const ROLES: &'static [Role] = &[Role::Clerk, Role::HeadOfOffice];
    const PLATFORM_ADMIN_MAY: bool = false;
}

/// Manage tenants and the platform; granted only by `platform_admin`.
#[derive(Debug)]
pub struct ManagePlatform;
impl Permission for ManagePlatform {
    const ROLES: &'static [Role] = &[];
}

/// The shortest password we accept (BSI: length beats composition rules).
pub const MIN_PASSWORD_LEN: usize = 12;

/// A rough check of an e-mail address: one `@`, something on both sides, a dot in the domain.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// A slug: lowercase letters, digits and hyphens, 2–40 characters.
pub fn valid_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// An Amtlicher Gemeindeschlüssel: 8 digits, starting with a Land code 01–16.
pub fn valid_ags(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) && matches!(s[..2].parse::<u8>(), Ok(1..=16))
}

/// A German postcode: 5 digits.
pub fn valid_postcode(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_with_hours(opening_hours: impl Into<String>) -> OrgUnit {
        OrgUnit {
            id: OrgUnitId(1),
            tenant: TenantId(1),
            parent: None,
            code: String::new(),
            name: "Bürgerbüro".into(),
            address: Address::default(),
            phone: String::new(),
            email: String::new(),
            opening_hours: opening_hours.into(),
        }
    }

    fn staff(tenant: i64, grants: &[(Role, Option<i64>)]) -> Staff {
        Staff {
            member: StaffMember {
                id: StaffId(1),
                tenant: TenantId(tenant),
                email: "a@b.de".into(),
                display_name: "A".into(),
                platform_admin: false,
                active: true,
            },
            roles: grants
                .iter()
                .enumerate()
                .map(|(i, (role, unit))| RoleGrant {
                    id: i as i64,
                    role: *role,
                    tenant: TenantId(tenant),
                    org_unit: unit.map(OrgUnitId),
                })
                .collect(),
        }
    }

    #[test]
    fn an_administrator_may_manage_staff_only_in_their_own_tenant() {
        let s = staff(1, &[(Role::Administrator, None)]);
        assert!(s.authorize::<ManageStaff>(TenantId(1)).is_ok());
        assert!(s.authorize::<ManageStaff>(TenantId(2)).is_err());
    }

    #[test]
    fn a_clerk_may_not_manage_staff() {
        assert!(staff(1, &[(Role::Clerk, None)]).authorize::<ManageStaff>(TenantId(1)).is_err());
    }

    #[test]
    fn a_role_for_one_unit_does_not_reach_the_whole_tenant_or_other_units() {
        let s = staff(1, &[(Role::HeadOfOffice, Some(7))]);
        assert!(s.authorize_in_unit::<ReadAudit>(TenantId(1), OrgUnitId(7)).is_ok());
        assert!(s.authorize_in_unit::<ReadAudit>(TenantId(1), OrgUnitId(8)).is_err());
        assert!(s.authorize::<ReadAudit>(TenantId(1)).is_err());
    }

    #[test]
    fn a_deactivated_member_of_staff_holds_no_permission() {
        let mut s = staff(1, &[(Role::Administrator, None)]);
        s.member.active = false;
        assert!(s.authorize::<ManageStaff>(TenantId(1)).is_err());
    }

    #[test]
    fn platform_administration_needs_the_platform_flag() {
        let mut s = staff(1, &[(Role::Administrator, None)]);
        assert!(s.authorize_platform().is_err());
        s.member.platform_admin = true;
        assert!(s.authorize_platform().is_ok());
        assert!(s.authorize::<ManageStaff>(TenantId(9)).is_ok());
    }

    #[test]
    fn opening_hours_read_in_german_with_german_day_names() {
        let unit = unit_with_hours("Mo-We 08:00-12:00; Th 14:00-18:00; Sa,Su off; PH off");
        assert_eq!(
            unit.opening_hours_in("de"),
            "Mo–Mi 08:00–12:00; Do 14:00–18:00; Sa,So geschlossen; Feiertag geschlossen"
        );
        assert_eq!(unit.opening_hours_in("en"), unit.opening_hours);
    }

    #[test]
    fn identifiers_are_checked_by_their_rules() {
        assert!(looks_like_email("anna.schmidt@kreis-lindenau.de"));
        assert!(!looks_like_email("anna@localhost") && !looks_like_email("@x.de") && !looks_like_email("a b@x.de"));
        assert!(valid_slug("bad-ems") && !valid_slug("Bad Ems") && !valid_slug("-x"));
        assert!(valid_ags("05999004") && !valid_ags("17999004") && !valid_ags("0599900"));
        assert!(valid_postcode("59423") && !valid_postcode("5942"));
    }

    proptest::proptest! {
        #[test]
        fn any_opening_hours_render_in_german_without_losing_the_times(raw in "[ -~]{0,120}") {
            let unit = unit_with_hours(raw.clone());
            let german = unit.opening_hours_in("de");
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            proptest::prop_assert_eq!(digits(&german), digits(&raw));
        }

        #[test]
        fn german_opening_hours_are_stored_as_the_osm_text_they_display_from(
            parts in proptest::collection::vec(
                ("(Mo|Tu|We|Th|Fr|Sa|Su|PH)", "(Mo|Tu|We|Th|Fr|Sa|Su)", 0_u8..24, 0_u8..24), 1..4)
        ) {
            let osm = parts.iter().map(|(a, b, h1, h2)| format!("{a}-{b} {h1:02}:00-{h2:02}:30")).collect::<Vec<_>>().join("; ");
            let unit = unit_with_hours(osm.clone());
            proptest::prop_assert_eq!(opening_hours_from_german(&unit.opening_hours_in("de")), osm);
        }

        #[test]
        fn identifier_checks_never_panic(s in "\\PC{0,80}") {
            let _ = (looks_like_email(&s), valid_slug(&s), valid_ags(&s), valid_postcode(&s));
        }
    }
}
