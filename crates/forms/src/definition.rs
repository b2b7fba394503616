//! A form definition: the documented JSON format of `docs/FORMS.md`. A published version is
//! immutable; every submission keeps the version it was made with.

use serde::{Deserialize, Serialize};

/// A text in German and, optionally, English (German is the fallback).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormText)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormTrustLevel)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// A knowledge check: the application is accepted only with enough correct answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<Quiz>,
    /// A certificate issued with the receipt, verifiable by its QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
}

/// A knowledge check (the §43 IfSG instruction's questions): choice fields with their correct
/// values, and how many must be answered correctly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormQuiz)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub pass_mark: usize,
    pub answers: Vec<QuizAnswer>,
}

/// The correct answer of one question: the values that must be chosen, no more, no fewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormQuizAnswer)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswer {
    pub field: String,
    pub correct: Vec<String>,
}

/// A certificate (Bescheinigung) issued for every accepted application: a title, a text, and
/// the fields whose answers it names (the person's name and birth date, say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormCertificate)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub title: Text,
    pub text: Text,
    pub fields: Vec<String>,
}

/// A page of the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormStep)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: Text,
    pub fields: Vec<Field>,
    /// Shown only when the condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<Condition>,
}

/// One field of a step. (Unknown keys are refused by [`Kind`], which receives every key the
/// field itself does not know: serde cannot deny them here beside `flatten`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormField)]
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
    /// A value of the citizen account's profile that may fill this field, after the citizen's
    /// consent for this use: `given_name`, `family_name`, `name` (both), `birth_date`, `phone`,
    /// `postcode`, `address` (street, postcode, municipality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<String>,
}

/// The profile values a field may be prefilled from.
pub const PREFILL_SOURCES: [&str; 7] =
    ["given_name", "family_name", "name", "birth_date", "phone", "postcode", "address"];

/// An option of a select, radio or checkbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormChoice)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// What a field holds, with its own limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FieldKind)]
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
        #[schema(no_recursion)]
        fields: Vec<Field>,
        #[serde(default)]
        min: usize,
        max: usize,
    },
}

/// When a step or field is shown: a field's answer equals one of the values (or, for
/// `filled`, is not empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormCondition)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default)]
    pub filled: bool,
}

/// A rule across fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormCrossRule)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossRule {
    /// `end` is on or after `start` (dates or numbers).
    NotBefore { end: String, start: String, message: Text },
}

/// A fee computed from the answers: a base amount plus amounts per chosen option or per
/// repetition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormFee)]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormFeePart)]
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

/// Whether `id` can name a form: lower-case letters, digits, hyphens.
fn is_form_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `name` can name a field: lower-case letters, digits, underscores, not starting with a digit.
fn is_field_name(name: &str) -> bool {
    name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Form {
    /// What is wrong with the definition itself, in words an editor can act on; empty when it
    /// can be published.
    pub fn problems(&self) -> Vec<String> {
        let mut found = Vec::new();
        if !is_form_id(&self.id) {
            found.push(format!("form id `{}`: use lower-case letters, digits and hyphens", self.id));
        }
        if self.title.de.trim().is_empty() {
            found.push("the form needs a German title".into());
        }
        if self.steps.is_empty() {
            found.push("the form needs at least one step".into());
        }
        let fields = self.all_fields();
        let mut seen = std::collections::BTreeSet::new();
        for f in &fields {
            if !is_field_name(&f.name) {
                found.push(format!("field `{}`: use lower-case letters, digits and underscores", f.name));
            }
            if !seen.insert(f.name.as_str()) {
                found.push(format!("field `{}` appears twice", f.name));
            }
            if f.label.de.trim().is_empty() && !matches!(f.kind, Kind::Info) {
                found.push(format!("field `{}` needs a German label", f.name));
            }
            found.extend(kind_problems(f));
            if let Some(p) = f.prefill.as_deref().filter(|p| !PREFILL_SOURCES.contains(p)) {
                found.push(format!("field `{}`: `{p}` is no profile value to prefill from", f.name));
            }
        }
        let known = |name: &str| fields.iter().any(|f| f.name == name);
        let conditions = self
            .steps
            .iter()
            .filter_map(|s| s.visible_if.as_ref().map(|c| (s.id.as_str(), c)))
            .chain(fields.iter().filter_map(|f| f.visible_if.as_ref().map(|c| (f.name.as_str(), c))));
        for (owner, c) in conditions {
            if !known(&c.field) {
                found.push(format!("`{owner}` depends on the unknown field `{}`", c.field));
            }
        }
        for rule in &self.rules {
            let CrossRule::NotBefore { end, start, .. } = rule;
            for name in [end, start] {
                if !known(name) {
                    found.push(format!("a rule names the unknown field `{name}`"));
                }
            }
        }
        for part in self.fee.iter().flat_map(|f| &f.add) {
            if !known(&part.field) {
                found.push(format!("the fee names the unknown field `{}`", part.field));
            }
        }
        if let Some(quiz) = &self.quiz {
            found.extend(quiz_problems(quiz, &fields));
        }
        for name in self.certificate.iter().flat_map(|c| &c.fields) {
            if !known(name) {
                found.push(format!("the certificate names the unknown field `{name}`"));
            }
        }
        found
    }
}

fn quiz_problems(quiz: &Quiz, fields: &[&Field]) -> Vec<String> {
    let mut found = Vec::new();
    if quiz.pass_mark == 0 || quiz.pass_mark > quiz.answers.len() {
        found.push(format!("the quiz's pass mark must be between 1 and {}", quiz.answers.len()));
    }
    for a in &quiz.answers {
        let options = fields.iter().find(|f| f.name == a.field).and_then(|f| match &f.kind {
            Kind::Select { options } | Kind::Radio { options } | Kind::Checkboxes { options } => Some(options),
            _ => None,
        });
        match options {
            None => found.push(format!("the quiz names `{}`, which is no select, radio or checkbox field", a.field)),
            Some(options) => {
                if let Some(v) = a.correct.iter().find(|v| !options.iter().any(|o| &o.value == *v)) {
                    found.push(format!("the quiz's answer `{v}` is no option of `{}`", a.field));
                }
            }
        }
    }
    found
}

fn kind_problems(f: &Field) -> Vec<String> {
    let mut found = Vec::new();
    match &f.kind {
        Kind::Select { options } | Kind::Radio { options } | Kind::Checkboxes { options } => {
            if options.is_empty() {
                found.push(format!("field `{}` needs options", f.name));
            }
            let mut values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
            values.sort_unstable();
            if values.windows(2).any(|w| w[0] == w[1]) {
                found.push(format!("field `{}` has an option value twice", f.name));
            }
        }
        Kind::Text { min_length: Some(min), max_length: Some(max), .. } if min > max => {
            found.push(format!("field `{}`: the minimum length is above the maximum", f.name));
        }
        Kind::Text { pattern: Some(p), .. } if !crate::validate::pattern_compiles(p) => {
            found.push(format!("field `{}`: the pattern is not a valid regular expression", f.name));
        }
        Kind::Number { min: Some(min), max: Some(max), .. } if min > max => {
            found.push(format!("field `{}`: the minimum is above the maximum", f.name));
        }
        Kind::File { accept, max_bytes } => {
            let known = ["application/pdf", "image/png", "image/jpeg"];
            if accept.is_empty() || accept.iter().any(|a| !known.contains(&a.as_str())) {
                found.push(format!("field `{}`: accept one or more of {}", f.name, known.join(", ")));
            }
            if *max_bytes == 0 {
                found.push(format!("field `{}` needs a size limit", f.name));
            }
        }
        Kind::Repeat { min, max, fields } => {
            if *max == 0 || min > max {
                found.push(format!("field `{}`: repetitions need 1 ≤ max and min ≤ max", f.name));
            }
            if fields.is_empty() {
                found.push(format!("field `{}`: a repeating group needs fields", f.name));
            }
        }
        _ => {}
    }
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "id": "baumfaellung",
      "title": { "de": "Baumfällung beantragen", "en": "Apply to fell a tree" },
      "trust_level": "basic",
      "steps": [
        { "id": "baum", "title": { "de": "Der Baum" }, "fields": [
          { "name": "art", "type": "select", "label": { "de": "Baumart" }, "required": true,
            "options": [ { "value": "eiche", "label": { "de": "Eiche" } }, { "value": "buche", "label": { "de": "Buche" } } ] },
          { "name": "umfang", "type": "number", "label": { "de": "Stammumfang in cm" }, "min": 1, "max": 2000 },
          { "name": "foto", "type": "file", "label": { "de": "Foto" }, "accept": ["image/jpeg", "image/png"], "max_bytes": 5000000 },
          { "name": "grund", "type": "long_text", "label": { "de": "Grund" }, "visible_if": { "field": "art", "equals": ["eiche"] } }
        ] }
      ],
      "fee": { "label": { "de": "Gebühr" }, "base_cents": 3000 }
    }"#;

    #[test]
    fn the_documented_example_reads_and_has_no_problems() {
        let form: Form = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(form.problems(), Vec::<String>::new());
        assert_eq!(form.all_fields().len(), 4);
        assert_eq!(form.trust_level, TrustLevel::Basic);
        let again: Form = serde_json::from_str(&serde_json::to_string(&form).unwrap()).unwrap();
        assert_eq!(again, form);
    }

    #[test]
    fn unknown_keys_are_refused_so_that_typos_do_not_vanish() {
        let typo = EXAMPLE.replace("\"required\"", "\"requried\"");
        assert!(serde_json::from_str::<Form>(&typo).is_err());
    }

    #[test]
    fn a_broken_definition_names_every_problem() {
        let mut form: Form = serde_json::from_str(EXAMPLE).unwrap();
        form.id = "Baum Fällung".into();
        form.steps[0].fields[1].name = "art".into();
        form.steps[0].fields[3].visible_if = Some(Condition { field: "gibts".into(), equals: vec![], filled: true });
        if let Kind::File { accept, .. } = &mut form.steps[0].fields[2].kind {
            accept.push("application/x-msdownload".into());
        }
        let problems = form.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("appears twice")));
        assert!(problems.iter().any(|p| p.contains("unknown field `gibts`")));
    }
}
