//! A form definition: the documented JSON format of `docs/FORMS.md`. A published version is
//! immutable; every submission keeps the version it was made with.

use serde::{Deserialize, Serialize};

/// A text in German and, optionally, English (German is the fallback).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub de: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub en: String,
}

impl Text {
    pub fn de(text: &str) -> Text {
        Text { de: text.to_owned(), en: String::new() }
    }

    /// The text in `lang` (`de`, `en`), German where there is no translation.
    pub fn get(&self, lang: &str) -> &str {
        if lang == "en" && !self.en.is_empty() { &self.en } else { &self.de }
    }

    pub fn is_empty(&self) -> bool {
        self.de.is_empty() && self.en.is_empty()
    }
}

/// The eIDAS trust level a form needs (Vertrauensniveau).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    /// No account needed.
    #[default]
    None,
    /// A local account (registration with e-mail).
    Basic,
    Substantial,
    High,
}

/// A form definition, one version of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// Stable id across versions: lower-case letters, digits, hyphens (`reitkennzeichen`).
    pub id: String,
    pub title: Text,
    /// What the form is for, shown on its first page.
    #[serde(default)]
    pub intro: Text,
    /// The minimum trust level; `none` allows anonymous applications.
    #[serde(default)]
    pub trust_level: TrustLevel,
    pub steps: Vec<Step>,
    /// Rules across fields (end ≥ start, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<CrossRule>,
    /// The fee, computed from the answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
}

/// A page of the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: Text,
    pub fields: Vec<Field>,
    /// Shown only when the condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<Condition>,
}

/// One field of a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Unique within the form: lower-case letters, digits, underscores.
    pub name: String,
    #[serde(flatten)]
    pub kind: Kind,
    pub label: Text,
    /// Help text under the label.
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub help: Text,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<Condition>,
}

/// An option of a select, radio or checkbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// What a field holds, with its own limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    Text {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<usize>,
        /// A whole-value pattern in a small, safe syntax (see [`crate::validate::Pattern`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    LongText {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<usize>,
    },
    /// A whole or decimal number, as Germans write it (`1.234,5`).
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Digits after the decimal comma; 0 for whole numbers.
        #[serde(default)]
        decimals: u8,
    },
    /// An amount in euros, kept in cents.
    Money {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_cents: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_cents: Option<i64>,
    },
    /// A date (`TT.MM.JJJJ` or ISO); `not_after_today` for birth dates and the like.
    Date {
        #[serde(default)]
        not_after_today: bool,
        #[serde(default)]
        not_before_today: bool,
    },
    Select {
        options: Vec<Choice>,
    },
    Radio {
        options: Vec<Choice>,
    },
    /// Several of the options may be chosen.
    Checkboxes {
        options: Vec<Choice>,
    },
    Email,
    Phone,
    /// An IBAN, checked by its check digits (ISO 13616, mod 97).
    Iban,
    /// A German postcode; the municipality it belongs to is looked up.
    Postcode,
    /// Street with number, postcode and place: four answers under one name.
    Address,
    File {
        /// Allowed media types (`application/pdf`, `image/jpeg`, `image/png`).
        accept: Vec<String>,
        max_bytes: u64,
    },
    /// A consent that must be given when required (privacy notice, truthfulness).
    Consent,
    /// Text to read, no answer.
    Info,
    /// A group of fields that can be answered several times (children, vehicles).
    Repeat {
        fields: Vec<Field>,
        #[serde(default)]
        min: usize,
        max: usize,
    },
}

/// When a step or field is shown: a field's answer equals one of the values (or, for
/// `filled`, is not empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default)]
    pub filled: bool,
}

/// A rule across fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossRule {
    /// `end` is on or after `start` (dates or numbers).
    NotBefore { end: String, start: String, message: Text },
}

/// A fee computed from the answers: a base amount plus amounts per chosen option or per
/// repetition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub label: Text,
    #[serde(default)]
    pub base_cents: i64,
    /// Extra amounts: when field `field` has value `value`, add `cents` (per repetition for a
    /// field inside a repeating group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<FeePart>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeePart {
    pub field: String,
    pub value: String,
    pub cents: i64,
}

impl Form {
    /// Every field, repeating groups' fields included, in order.
    pub fn all_fields(&self) -> Vec<&Field> {
        fn walk<'a>(fields: &'a [Field], out: &mut Vec<&'a Field>) {
            for f in fields {
                out.push(f);
                if let Kind::Repeat { fields, .. } = &f.kind {
                    walk(fields, out);
                }
            }
        }
        let mut out = Vec::new();
        for step in &self.steps {
            walk(&step.fields, &mut out);
        }
        out
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.all_fields().into_iter().find(|f| f.name == name)
    }
}
