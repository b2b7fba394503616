//! From an XDatenfelder schema to a form definition: groups become steps (at the top) or
//! stay together (below), repeating elements become repeating groups, code lists in the file
//! become choices, and rules the model can express become cross rules. Everything else is a
//! [`Note`] in the report; nothing is dropped silently.

use std::collections::{BTreeMap, BTreeSet};

use super::Note;
use super::model::{Cardinality, Child, DataField, DataType, Element, FieldKind, Group, Rule, Schema};
use crate::definition::{Choice, CrossRule, Field, Form, Kind, Step, Text, TrustLevel};

/// An unbounded repetition (`*`) allows this many entries in the form.
pub const UNBOUNDED_MAX: usize = 50;
/// A text field whose maximum length is above this becomes a long text.
const LONG_TEXT_FROM: usize = 500;
/// A list with at most this many values is shown as radio buttons, a longer one as a select.
const RADIO_UP_TO: usize = 4;
/// Files without a size in the schema may have this many bytes.
const DEFAULT_FILE_BYTES: u64 = 10 * 1_048_576;
const FILE_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// What a field answer can be compared as, for cross rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparable {
    Date,
    Number,
    No,
}

struct Conv<'s> {
    schema: &'s Schema,
    notes: Vec<Note>,
    used: BTreeSet<String>,
    /// FIM field id and identifier → form field name, how it compares, whether it is top-level.
    fields: BTreeMap<String, (String, Comparable, bool)>,
    /// Rule identifier → the elements carrying it.
    rule_owners: BTreeMap<String, Vec<String>>,
}

/// Converts a schema; the report lists what the form does not carry as the schema says.
pub fn convert(schema: &Schema) -> (Form, Vec<Note>) {
    let mut c = Conv {
        schema,
        notes: Vec::new(),
        used: BTreeSet::new(),
        fields: BTreeMap::new(),
        rule_owners: BTreeMap::new(),
    };
    let schema_id = schema.common.identifier();
    c.owns(&schema_id, &schema.rules);
    let steps = c.steps();
    let rules = c.rules();
    let form = Form {
        id: format!("fim-{}", slug(&schema.common.id, '-')),
        title: Text::de(schema.common.label()),
        intro: Text::de(schema.common.description.as_deref().unwrap_or_default()),
        trust_level: TrustLevel::None,
        steps,
        rules,
        fee: None,
        quiz: None,
        certificate: None,
    };
    (form, c.notes)
}

/// Lower-case letters and digits, other characters as `sep`, starting with a letter.
fn slug(id: &str, sep: char) -> String {
    let mut out = String::new();
    for ch in id.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            out.push(ch);
        } else if !out.ends_with(sep) && !out.is_empty() {
            out.push(sep);
        }
    }
    let out = out.trim_end_matches(sep).to_owned();
    match out.bytes().next() {
        Some(b) if b.is_ascii_lowercase() => out,
        _ => format!("f{sep}{out}").trim_end_matches(sep).to_owned(),
    }
}

fn info(name: String, label: &str, help: &str) -> Field {
    Field {
        name,
        kind: Kind::Info,
        label: Text::de(label),
        help: Text::de(help),
        required: false,
        visible_if: None,
        prefill: None,
    }
}

fn yes_no() -> Kind {
    let choice = |value: &str, label: &str| Choice { value: value.into(), label: Text::de(label) };
    Kind::Radio { options: vec![choice("true", "Ja"), choice("false", "Nein")] }
}

impl Conv<'_> {
    fn note(&mut self, element: &str, message: impl Into<String>) {
        self.notes.push(Note { element: element.to_owned(), message: message.into() });
    }

    fn owns(&mut self, owner: &str, rules: &[String]) {
        for r in rules {
            self.rule_owners.entry(r.clone()).or_default().push(owner.to_owned());
        }
    }

    /// A field name from a FIM id, unique in the form (`f60000227`, `f60000227_2`).
    fn name(&mut self, id: &str) -> String {
        let base: String = slug(id, '_').chars().take(56).collect();
        let mut name = base.clone();
        let mut n = 1;
        while self.used.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.used.insert(name.clone());
        name
    }

    fn steps(&mut self) -> Vec<Step> {
        let schema = self.schema;
        let mut steps = Vec::new();
        let mut loose = Vec::new();
        for child in &schema.children {
            match &child.element {
                Element::Group(g) if !child.cardinality.repeats() => {
                    self.flush(&mut steps, &mut loose);
                    let id = g.common.identifier();
                    self.owns(&id, &g.rules);
                    let optional = self.optional_group(g, child.cardinality, false);
                    let mut fields = Vec::new();
                    if let Some(help) = g.common.input_help.as_deref() {
                        let name = self.name(&g.common.id);
                        fields.push(info(name, "", help));
                    }
                    fields.extend(self.members(g, false, optional));
                    if fields.is_empty() {
                        self.note(&id, "the group contains no data fields; its page shows its description only");
                        let name = self.name(&g.common.id);
                        fields.push(info(name, g.common.label(), g.common.description.as_deref().unwrap_or_default()));
                    }
                    steps.push(Step {
                        id: self.step_id(&g.common.id, &steps),
                        title: Text::de(g.common.label()),
                        fields,
                        visible_if: None,
                    });
                }
                _ => {
                    let fields = self.child(child, false, false);
                    loose.extend(fields);
                }
            }
        }
        self.flush(&mut steps, &mut loose);
        if steps.is_empty() {
            let id = schema.common.identifier();
            self.note(&id, "the schema contains no data fields; the form has one page with its description");
            let name = self.name("hinweis");
            let help = schema.common.description.as_deref().or(schema.common.input_help.as_deref()).unwrap_or_default();
            let fields = vec![info(name, schema.common.label(), help)];
            steps.push(Step { id: "angaben".into(), title: Text::de(schema.common.label()), fields, visible_if: None });
        }
        steps
    }

    fn step_id(&self, id: &str, steps: &[Step]) -> String {
        let base = slug(id, '-');
        let mut candidate = base.clone();
        let mut n = 1;
        while steps.iter().any(|s| s.id == candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }

    /// Fields directly under the schema go onto one page named like the schema.
    fn flush(&mut self, steps: &mut Vec<Step>, loose: &mut Vec<Field>) {
        if loose.is_empty() {
            return;
        }
        let id = self.step_id("angaben", steps);
        let title = Text::de(self.schema.common.label());
        steps.push(Step { id, title, fields: std::mem::take(loose), visible_if: None });
    }

    /// Whether the members of a group lose their "required": the group itself may be left out.
    fn optional_group(&mut self, g: &Group, card: Cardinality, optional: bool) -> bool {
        if card.min == 0 && !optional && g.children.iter().any(|c| c.cardinality.min > 0) {
            self.note(
                &g.common.identifier(),
                "the group is optional (0:…) but has required members; the form model has no optional groups, so they are optional",
            );
        }
        optional || card.min == 0
    }

    fn members(&mut self, g: &Group, in_repeat: bool, optional: bool) -> Vec<Field> {
        g.children.iter().flat_map(|c| self.child(c, in_repeat, optional)).collect()
    }

    fn repeat_max(&mut self, element: &str, card: Cardinality) -> usize {
        match card.max {
            Some(m) => m as usize,
            None => {
                self.note(element, format!("unbounded repetition (*) is limited to {UNBOUNDED_MAX} entries"));
                UNBOUNDED_MAX
            }
        }
    }

    fn child(&mut self, child: &Child, in_repeat: bool, optional: bool) -> Vec<Field> {
        let card = child.cardinality;
        match &child.element {
            Element::Field(f) => {
                let id = f.common.identifier();
                self.owns(&id, &f.rules);
                let Some(mut field) = self.field(f, in_repeat || card.repeats()) else { return Vec::new() };
                field.required = card.min > 0 && !optional && !matches!(field.kind, Kind::Info);
                if !card.repeats() {
                    return vec![field];
                }
                if in_repeat {
                    self.note(&id, "a repetition inside a repeating group is asked once (the form model does not nest repetitions)");
                    return vec![field];
                }
                let max = self.repeat_max(&id, card);
                field.required = true;
                let name = self.name(&format!("{}_liste", f.common.id));
                let label = field.label.clone();
                let min = card.min as usize;
                vec![Field {
                    name,
                    kind: Kind::Repeat { fields: vec![field], min, max },
                    label,
                    help: Text::default(),
                    required: false,
                    visible_if: None,
                    prefill: None,
                }]
            }
            Element::Group(g) => {
                let id = g.common.identifier();
                self.owns(&id, &g.rules);
                if card.repeats() && !in_repeat {
                    let max = self.repeat_max(&id, card);
                    let fields = self.members(g, true, false);
                    if fields.is_empty() {
                        self.note(&id, "the repeating group contains no data fields; not imported");
                        return Vec::new();
                    }
                    let name = self.name(&g.common.id);
                    let help = Text::de(g.common.input_help.as_deref().unwrap_or_default());
                    let kind = Kind::Repeat { fields, min: card.min as usize, max };
                    return vec![Field {
                        name,
                        kind,
                        label: Text::de(g.common.label()),
                        help,
                        required: false,
                        visible_if: None,
                        prefill: None,
                    }];
                }
                if card.repeats() {
                    self.note(&id, "a repeating group inside a repeating group is asked once (the form model does not nest repetitions)");
                }
                let optional = self.optional_group(g, card, optional);
                let members = self.members(g, in_repeat, optional);
                if members.is_empty() {
                    self.note(&id, "the group contains no data fields; not imported");
                    return Vec::new();
                }
                let name = self.name(&g.common.id);
                let mut out = vec![info(name, g.common.label(), g.common.input_help.as_deref().unwrap_or_default())];
                out.extend(members);
                out
            }
        }
    }

    fn field(&mut self, f: &DataField, in_repeat: bool) -> Option<Field> {
        let id = f.common.identifier();
        for remark in &f.remarks {
            self.note(&id, remark.clone());
        }
        let mut help = f.common.input_help.clone().unwrap_or_default();
        let (kind, comparable) = match f.kind {
            FieldKind::Hidden => {
                self.note(&id, "hidden field (feldart hidden): set by the system, not asked; not imported");
                return None;
            }
            FieldKind::Label | FieldKind::Locked => {
                if f.kind == FieldKind::Locked {
                    self.note(&id, "locked field (feldart locked) is shown as text, not as an input");
                }
                if let Some(content) = &f.content {
                    help = content.clone();
                }
                self.unused(&id, f, &[]);
                (Kind::Info, Comparable::No)
            }
            FieldKind::Select => (self.choice(&id, f), Comparable::No),
            FieldKind::Input => self.input(&id, f)?,
        };
        if !matches!(f.kind, FieldKind::Label | FieldKind::Locked)
            && let Some(content) = &f.content
        {
            self.note(
                &id,
                format!("default value `{content}` (inhalt) is not applied: the form model has no default values"),
            );
        }
        if !f.media_types.is_empty() && !matches!(kind, Kind::File { .. }) {
            self.note(&id, "media types apply to file fields only; ignored");
        }
        if f.max_size.is_some() && !matches!(kind, Kind::File { .. }) {
            self.note(&id, "maxSize applies to file fields only; ignored");
        }
        let name = self.name(&f.common.id);
        for key in [f.common.id.clone(), id.clone()] {
            self.fields.entry(key).or_insert((name.clone(), comparable, !in_repeat));
        }
        Some(Field {
            name,
            kind,
            label: Text::de(f.common.label()),
            help: Text::de(&help),
            required: false,
            visible_if: None,
            prefill: None,
        })
    }

    /// Notes every limit of the field that the chosen kind does not use.
    fn unused(&mut self, id: &str, f: &DataField, used: &[&str]) {
        let c = &f.constraints;
        let all = [
            ("minLength", &c.min_length),
            ("maxLength", &c.max_length),
            ("minValue", &c.min_value),
            ("maxValue", &c.max_value),
            ("pattern", &c.pattern),
        ];
        for (key, value) in all {
            if let Some(v) = value
                && !used.contains(&key)
            {
                self.note(id, format!("constraint {key} = `{v}` does not apply to this field type; not imported"));
            }
        }
        for other in &c.other {
            self.note(id, format!("constraint {other} is not understood; not imported"));
        }
    }

    fn length(&mut self, id: &str, key: &str, value: &Option<String>) -> Option<usize> {
        let v = value.as_deref()?;
        let parsed = v.trim().parse().ok();
        if parsed.is_none() {
            self.note(id, format!("constraint {key} = `{v}` is not a length; not imported"));
        }
        parsed
    }

    fn number(&mut self, id: &str, key: &str, value: &Option<String>) -> Option<f64> {
        let v = value.as_deref()?;
        let parsed = v.trim().parse::<f64>().ok().filter(|n| n.is_finite());
        if parsed.is_none() {
            self.note(id, format!("constraint {key} = `{v}` is not a number; not imported"));
        }
        parsed
    }

    fn text_kind(&mut self, id: &str, f: &DataField) -> Kind {
        let c = &f.constraints;
        let min_length = self.length(id, "minLength", &c.min_length);
        let max_length = self.length(id, "maxLength", &c.max_length);
        let mut pattern = c.pattern.clone();
        if let Some(p) = &pattern
            && !crate::validate::pattern_compiles(p)
        {
            self.note(id, format!("pattern `{p}` is not a regular expression the form can check; not imported"));
            pattern = None;
        }
        if let (Some(min), Some(max)) = (min_length, max_length)
            && min > max
        {
            self.note(id, format!("minLength {min} is above maxLength {max}; the lengths are not imported"));
            return Kind::Text { min_length: None, max_length: None, pattern };
        }
        if max_length.is_some_and(|m| m > LONG_TEXT_FROM) {
            if min_length.is_some() || pattern.is_some() {
                self.note(id, "a long text checks its maximum length only; minLength and pattern are not imported");
            }
            return Kind::LongText { max_length };
        }
        Kind::Text { min_length, max_length, pattern }
    }

    fn choice(&mut self, id: &str, f: &DataField) -> Kind {
        if f.data_type == DataType::Bool {
            self.unused(id, f, &[]);
            return yes_no();
        }
        if f.values.is_empty() {
            let what = match &f.code_list {
                Some(list) => format!("code list {} is not contained in the file", list.describe()),
                None => "the select field has neither a code list nor values".to_owned(),
            };
            self.note(id, format!("{what}: imported as a text field; add the options in the editor"));
            self.unused(id, f, &["minLength", "maxLength", "pattern"]);
            return self.text_kind(id, f);
        }
        self.unused(id, f, &[]);
        let mut options: Vec<Choice> = Vec::new();
        for v in &f.values {
            if options.iter().any(|o| o.value == v.code) {
                self.note(id, format!("value `{}` appears twice; kept once", v.code));
                continue;
            }
            if v.help.is_some() {
                self.note(id, format!("the help text of value `{}` is not shown", v.code));
            }
            options.push(Choice { value: v.code.clone(), label: Text::de(&v.name) });
        }
        if options.len() <= RADIO_UP_TO { Kind::Radio { options } } else { Kind::Select { options } }
    }

    fn input(&mut self, id: &str, f: &DataField) -> Option<(Kind, Comparable)> {
        let c = &f.constraints;
        Some(match f.data_type {
            DataType::Text | DataType::TextLatin => {
                if f.data_type == DataType::TextLatin {
                    self.note(id, "the character set of text_latin (DIN 91379) is not checked");
                }
                self.unused(id, f, &["minLength", "maxLength", "pattern"]);
                (self.text_kind(id, f), Comparable::No)
            }
            DataType::Date => {
                self.unused(id, f, &[]);
                (Kind::Date { not_after_today: false, not_before_today: false }, Comparable::Date)
            }
            DataType::Time | DataType::DateTime => {
                self.note(id, "time and date-time values are entered as text; their format is not checked");
                self.unused(id, f, &["minLength", "maxLength", "pattern"]);
                (self.text_kind(id, f), Comparable::No)
            }
            DataType::Bool => {
                self.unused(id, f, &[]);
                (yes_no(), Comparable::No)
            }
            DataType::Num | DataType::NumInt => {
                self.unused(id, f, &["minValue", "maxValue"]);
                let min = self.number(id, "minValue", &c.min_value);
                let max = self.number(id, "maxValue", &c.max_value);
                let decimals = if f.data_type == DataType::NumInt { 0 } else { 2 };
                (Kind::Number { min, max, decimals }, Comparable::Number)
            }
            DataType::NumCurrency => {
                self.unused(id, f, &["minValue", "maxValue"]);
                let cents = |n: f64| (n * 100.0).round() as i64;
                let min_cents = self.number(id, "minValue", &c.min_value).map(cents);
                let max_cents = self.number(id, "maxValue", &c.max_value).map(cents);
                (Kind::Money { min_cents, max_cents }, Comparable::No)
            }
            DataType::File => {
                self.unused(id, f, &[]);
                (self.file(id, f), Comparable::No)
            }
            DataType::Obj => {
                self.note(id, "binary object field (datentyp obj) cannot be entered in a form; not imported");
                return None;
            }
        })
    }

    fn file(&mut self, id: &str, f: &DataField) -> Kind {
        let mut accept: Vec<String> = Vec::new();
        for m in &f.media_types {
            if FILE_TYPES.contains(&m.as_str()) {
                accept.push(m.clone());
            } else {
                self.note(id, format!("media type `{m}` cannot be checked by content; not accepted"));
            }
        }
        if accept.is_empty() {
            self.note(id, format!("no checkable media type given; the field accepts {}", FILE_TYPES.join(", ")));
            accept = FILE_TYPES.iter().map(|t| (*t).to_owned()).collect();
        }
        let max_bytes = match f.max_size.as_deref().map(|s| s.trim().parse::<u64>()) {
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                self.note(id, "maxSize is not a positive number of bytes; the default limit of 10 MB applies");
                DEFAULT_FILE_BYTES
            }
            None => {
                self.note(id, "no maxSize given; the default limit of 10 MB applies");
                DEFAULT_FILE_BYTES
            }
        };
        Kind::File { accept, max_bytes }
    }

    /// Rules the model can express become cross rules; every other rule is in the report.
    fn rules(&mut self) -> Vec<CrossRule> {
        let mut out = Vec::new();
        for (identifier, rule) in &self.schema.all_rules {
            if let Some(mapped) = self.comparison(rule) {
                out.push(mapped);
                continue;
            }
            let owners = self.rule_owners.get(identifier).map(|o| o.join(", ")).unwrap_or_default();
            let why = match (&rule.script, &rule.free_text) {
                (Some(_), _) => {
                    "its script is not run (only `A >= B` between two dates or numbers of the form is mapped)"
                }
                (None, Some(_)) => "it is free text; check it in the back office or add a rule in the editor",
                (None, None) => "it has neither a script nor a text",
            };
            let message = format!("rule „{}“ on {owners} is not mapped: {why}", rule.common.name);
            self.note(identifier, message);
        }
        out
    }

    /// `F2 >= F1` (or `F1 <= F2`) in a rule's script or text, between two top-level dates or
    /// numbers: a `not_before` rule.
    fn comparison(&self, rule: &Rule) -> Option<CrossRule> {
        let text = rule.script.as_deref().or(rule.free_text.as_deref())?.trim().trim_end_matches(';');
        let (left, op, right) =
            ["<=", ">="].iter().find_map(|op| text.split_once(op).map(|(l, r)| (l.trim(), *op, r.trim())))?;
        let field = |id: &str| self.fields.get(id).filter(|(_, c, top)| *c != Comparable::No && *top).cloned();
        let (l, r) = (field(left)?, field(right)?);
        if l.1 != r.1 {
            return None;
        }
        let (end, start) = if op == ">=" { (l.0, r.0) } else { (r.0, l.0) };
        let words = rule.common.description.as_deref().unwrap_or(&rule.common.name);
        Some(CrossRule::NotBefore { end, start, message: Text::de(words) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_make_valid_names() {
        assert_eq!(slug("F60000227", '_'), "f60000227");
        assert_eq!(slug("T1234", '-'), "t1234");
        assert_eq!(slug("60000227", '_'), "f_60000227");
        assert_eq!(slug("S-12.3", '-'), "s-12-3");
    }
}
