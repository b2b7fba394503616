//! Typed integer ids: a `TenantId` cannot be passed where a `StaffId` is expected.

/// Declares an `i64` id newtype that binds as a SQL parameter and (de)serialises as a number.
#[macro_export]
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<$name> for $crate::db::Value {
            fn from(id: $name) -> Self {
                $crate::db::Value::Int(Some(id.0))
            }
        }

        impl From<Option<$name>> for $crate::db::Value {
            fn from(id: Option<$name>) -> Self {
                $crate::db::Value::Int(id.map(|i| i.0))
            }
        }
    };
}

id_type!(
    /// A tenant (Mandant): the county, a municipality, the job centre or a county-owned company.
    TenantId
);
id_type!(
    /// A member of staff (Beschäftigte, Sachbearbeitung).
    StaffId
);
id_type!(
    /// An organisational unit (Amt, Fachbereich, Sachgebiet) of a tenant.
    OrgUnitId
);
id_type!(
    /// A background job.
    JobId
);
id_type!(
    /// A citizen account (Bürgerkonto).
    CitizenId
);
id_type!(
    /// An organisation account (Unternehmenskonto).
    OrganisationId
);
