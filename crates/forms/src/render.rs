//! A form's fields as HTML on KERN UX, server-rendered so that every form works without
//! JavaScript. Every text that comes from a definition or an answer passes through [`escape`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::definition::{Choice, Field, Kind};
use crate::model::StoredFile;
use crate::validate::{Answers, holds};

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the renderer needs besides the fields: the language, the answers so far, the problems
/// by field key (translated), the uploaded files, and the words of the buttons.
pub struct Ctx<'a> {
    pub lang: &'a str,
    pub answers: &'a Answers,
    pub errors: &'a BTreeMap<String, String>,
    pub files: &'a [StoredFile],
    pub words: &'a Words,
}

/// Translated words the markup needs.
pub struct Words {
    pub optional: String,
    pub choose: String,
    pub add_row: String,
    pub remove_row: String,
    pub uploaded: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub yes: String,
}

fn value<'a>(ctx: &'a Ctx, key: &str) -> &'a str {
    ctx.answers.get(key).and_then(|v| v.first()).map(String::as_str).unwrap_or_default()
}

fn id(key: &str) -> String {
    format!("f-{}", escape(key))
}

/// The label text with "(optional)" where the field is not required.
fn label_text(ctx: &Ctx, field: &Field) -> String {
    let label = escape(field.label.get(ctx.lang));
    if field.required || matches!(field.kind, Kind::Info | Kind::Repeat { .. }) {
        label
    } else {
        format!("{label} ({})", escape(&ctx.words.optional))
    }
}

/// Hint and error lines under a label, and the `aria-describedby` / `aria-invalid` they need.
fn hint_and_error(out: &mut String, ctx: &Ctx, field: &Field, key: &str) -> String {
    let mut described = Vec::new();
    let help = field.help.get(ctx.lang);
    if !help.is_empty() {
        let _ = write!(out, r#"<div class="kern-hint" id="{}-hint">{}</div>"#, id(key), escape(help));
        described.push(format!("{}-hint", id(key)));
    }
    if let Some(message) = ctx.errors.get(key) {
        let _ = write!(
            out,
            r#"<p class="kern-error" id="{}-fehler"><span class="kern-icon kern-icon--danger kern-icon--small" aria-hidden="true"></span><span class="kern-body">{}</span></p>"#,
            id(key),
            escape(message)
        );
        described.push(format!("{}-fehler", id(key)));
    }
    let mut attrs = String::new();
    if !described.is_empty() {
        let _ = write!(attrs, r#" aria-describedby="{}""#, described.join(" "));
    }
    if ctx.errors.contains_key(key) {
        attrs.push_str(r#" aria-invalid="true""#);
    }
    attrs
}

/// Opens a KERN input block with its label, hint and error; returns the input's ARIA attributes.
fn open_input(out: &mut String, ctx: &Ctx, field: &Field, key: &str, label: &str) -> String {
    let error = if ctx.errors.contains_key(key) { " kern-form-input--error" } else { "" };
    let _ = write!(
        out,
        r#"<div class="kern-form-input{error}"><label class="kern-label" for="{}">{label}</label>"#,
        id(key)
    );
    hint_and_error(out, ctx, field, key)
}

fn input_kind(kind: &Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Email => ("email", r#" autocomplete="email""#),
        Kind::Phone => ("tel", r#" autocomplete="tel""#),
        Kind::Date { .. } => ("date", ""),
        Kind::Number { .. } | Kind::Money { .. } => ("text", r#" inputmode="decimal""#),
        Kind::Postcode => ("text", r#" inputmode="numeric" autocomplete="postal-code""#),
        Kind::Iban => ("text", r#" autocomplete="off" spellcheck="false""#),
        _ => ("text", ""),
    }
}

fn text_input(out: &mut String, ctx: &Ctx, field: &Field, key: &str, label: &str, input_type: &str, extra: &str) {
    let error = ctx.errors.contains_key(key);
    let aria = open_input(out, ctx, field, key, label);
    let _ = write!(
        out,
        r#"<input class="kern-form-input__input{}" id="{}" name="{}" type="{input_type}" value="{}"{extra}{aria}></div>"#,
        if error { " kern-form-input__input--error" } else { "" },
        id(key),
        escape(key),
        escape(value(ctx, key))
    );
}

fn choices(out: &mut String, ctx: &Ctx, field: &Field, key: &str, options: &[Choice], multiple: bool) {
    let error = ctx.errors.contains_key(key);
    let _ = write!(
        out,
        r#"<fieldset class="kern-fieldset{}" id="{}"><legend class="kern-label">{}</legend>"#,
        if error { " kern-fieldset--error" } else { "" },
        id(key),
        label_text(ctx, field)
    );
    let aria = hint_and_error(out, ctx, field, key);
    let chosen: Vec<&str> = ctx.answers.get(key).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
    let input_type = if multiple { "checkbox" } else { "radio" };
    out.push_str(r#"<div class="kern-fieldset__body">"#);
    for (i, o) in options.iter().enumerate() {
        let checked = if chosen.contains(&o.value.as_str()) { " checked" } else { "" };
        let _ = write!(
            out,
            r#"<div class="kern-form-check"><input class="kern-form-check__input" id="{}-{i}" name="{}" type="{input_type}" value="{}"{checked}{aria}><label class="kern-label" for="{}-{i}">{}</label></div>"#,
            id(key),
            escape(key),
            escape(&o.value),
            id(key),
            escape(o.label.get(ctx.lang))
        );
    }
    out.push_str("</div></fieldset>");
}

/// The markup of `fields` (names prefixed with `prefix` inside repeating groups); hidden fields
/// are left out.
pub fn fields(out: &mut String, ctx: &Ctx, fields: &[Field], prefix: &str) {
    for field in fields.iter().filter(|f| f.visible_if.as_ref().is_none_or(|c| holds(c, ctx.answers))) {
        let key = format!("{prefix}{}", field.name);
        match &field.kind {
            Kind::Info => {
                let _ = write!(out, r#"<p class="kern-body">{}</p>"#, escape(field.label.get(ctx.lang)));
            }
            Kind::LongText { .. } => {
                let aria = open_input(out, ctx, field, &key, &label_text(ctx, field));
                let _ = write!(
                    out,
                    r#"<textarea class="kern-form-input__input kh-textarea" id="{}" name="{}" rows="5"{aria}>{}</textarea></div>"#,
                    id(&key),
                    escape(&key),
                    escape(value(ctx, &key))
                );
            }
            Kind::Select { options } => {
                let aria = open_input(out, ctx, field, &key, &label_text(ctx, field));
                let _ = write!(
                    out,
                    r#"<div class="kern-form-input__select-wrapper"><select class="kern-form-input__select" id="{}" name="{}"{aria}><option value="">{}</option>"#,
                    id(&key),
                    escape(&key),
                    escape(&ctx.words.choose)
                );
                for o in options {
                    let selected = if value(ctx, &key) == o.value { " selected" } else { "" };
                    let _ = write!(
                        out,
                        r#"<option value="{}"{selected}>{}</option>"#,
                        escape(&o.value),
                        escape(o.label.get(ctx.lang))
                    );
                }
                out.push_str("</select></div></div>");
            }
            Kind::Radio { options } => choices(out, ctx, field, &key, options, false),
            Kind::Checkboxes { options } => choices(out, ctx, field, &key, options, true),
            Kind::Consent => {
                let yes = Choice { value: "ja".into(), label: field.label.clone() };
                let legend = Field { label: crate::definition::Text::de(&ctx.words.yes), ..field.clone() };
                choices(out, ctx, &legend, &key, std::slice::from_ref(&yes), true);
            }
            Kind::Address => {
                let _ = write!(
                    out,
                    r#"<fieldset class="kern-fieldset" id="{}"><legend class="kern-label">{}</legend><div class="kern-fieldset__body">"#,
                    id(&key),
                    label_text(ctx, field)
                );
                for (part, label, extra) in [
                    ("street", &ctx.words.street, r#" autocomplete="street-address""#),
                    ("postcode", &ctx.words.postcode, r#" inputmode="numeric" autocomplete="postal-code""#),
                    ("city", &ctx.words.city, r#" autocomplete="address-level2""#),
                ] {
                    let part_field = Field { help: Default::default(), ..field.clone() };
                    text_input(out, ctx, &part_field, &format!("{key}.{part}"), &escape(label), "text", extra);
                }
                out.push_str("</div></fieldset>");
            }
            Kind::File { .. } => {
                let uploaded = ctx
                    .files
                    .iter()
                    .find(|f| f.field == key && value(ctx, &key) == format!("sha256:{}", f.blob_sha256));
                let note = uploaded.map(|f| {
                    format!(
                        r#"<p class="kern-body kern-body--small">{}: {} ({} KB)</p>"#,
                        escape(&ctx.words.uploaded),
                        escape(&f.file_name),
                        (f.size + 1023) / 1024
                    )
                });
                let aria = open_input(out, ctx, field, &key, &label_text(ctx, field));
                out.push_str(&note.unwrap_or_default());
                let accept = if let Kind::File { accept, .. } = &field.kind { accept.join(",") } else { String::new() };
                let _ = write!(
                    out,
                    r#"<input class="kern-form-input__input" id="{}" name="{}" type="file" accept="{}"{aria}></div>"#,
                    id(&key),
                    escape(&key),
                    escape(&accept)
                );
            }
            Kind::Repeat { fields: inner, max, .. } => {
                let rows = repetitions(ctx.answers, &key).max(1);
                let _ = write!(
                    out,
                    r#"<fieldset class="kern-fieldset" id="{}"><legend class="kern-label">{}</legend>"#,
                    id(&key),
                    label_text(ctx, field)
                );
                let _ = hint_and_error(out, ctx, field, &key);
                for i in 0..rows {
                    let _ = write!(
                        out,
                        r#"<fieldset class="kern-fieldset kh-repeat"><legend class="kern-label">{} {}</legend><div class="kern-fieldset__body">"#,
                        escape(field.label.get(ctx.lang)),
                        i + 1
                    );
                    self::fields(out, ctx, inner, &format!("{key}.{i}."));
                    out.push_str("</div></fieldset>");
                }
                out.push_str(r#"<div class="kh-actions">"#);
                if rows < *max {
                    let _ = write!(
                        out,
                        r#"<button type="submit" name="aktion" value="hinzufuegen:{}" class="kern-btn kern-btn--secondary"><span class="kern-label">{}</span></button>"#,
                        escape(&key),
                        escape(&ctx.words.add_row)
                    );
                }
                if rows > 1 {
                    let _ = write!(
                        out,
                        r#"<button type="submit" name="aktion" value="entfernen:{}" class="kern-btn kern-btn--tertiary"><span class="kern-label">{}</span></button>"#,
                        escape(&key),
                        escape(&ctx.words.remove_row)
                    );
                }
                out.push_str("</div></fieldset>");
            }
            kind => {
                let (input_type, extra) = input_kind(kind);
                text_input(out, ctx, field, &key, &label_text(ctx, field), input_type, extra);
            }
        }
    }
}

pub use crate::validate::repetitions;

/// A step of an application as the applicant reads it: its index, title and (label, answer) pairs.
pub type ReadableStep = (usize, String, Vec<(String, String)>);

/// The canonical answers of an application as text, step by step (the summary page, the receipt
/// PDF): option labels instead of values, file names instead of hashes. Steps without an answer
/// (hidden or info only) are left out.
pub fn readable(
    form: &crate::definition::Form,
    lang: &str,
    values: &serde_json::Map<String, serde_json::Value>,
    files: &[StoredFile],
) -> Vec<ReadableStep> {
    form.steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let answers: Vec<(String, String)> = s
                .fields
                .iter()
                .filter(|f| !matches!(f.kind, Kind::Info))
                .filter_map(|f| {
                    let text = as_text(form, lang, values.get(&f.name)?, files);
                    let text =
                        if matches!(f.kind, Kind::Date { .. }) && lang == "de" { german_if_date(&text) } else { text };
                    Some((f.label.get(lang).to_owned(), text))
                })
                .collect();
            (!answers.is_empty()).then(|| (i, s.title.get(lang).to_owned(), answers))
        })
        .collect()
}

/// `2026-12-06` as `06.12.2026` (how dates are read in German); anything else unchanged.
pub fn german_if_date(text: &str) -> String {
    match text.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}.{m}.{y}"),
        _ => text.to_owned(),
    }
}

/// A canonical value as text.
fn as_text(form: &crate::definition::Form, lang: &str, v: &serde_json::Value, files: &[StoredFile]) -> String {
    use serde_json::Value;
    match v {
        Value::String(s) if s.starts_with("sha256:") => files
            .iter()
            .find(|f| s.strip_prefix("sha256:") == Some(f.blob_sha256.as_str()))
            .map_or_else(|| s.clone(), |f| f.file_name.clone()),
        Value::String(s) => {
            let label = form.all_fields().iter().find_map(|f| match &f.kind {
                Kind::Select { options } | Kind::Radio { options } | Kind::Checkboxes { options } => {
                    options.iter().find(|o| &o.value == s).map(|o| o.label.get(lang).to_owned())
                }
                _ => None,
            });
            label.unwrap_or_else(|| s.clone())
        }
        Value::Bool(true) => "✓".into(),
        Value::Bool(false) => "–".into(),
        Value::Array(items) => items.iter().map(|i| as_text(form, lang, i, files)).collect::<Vec<_>>().join("; "),
        Value::Object(m) => m.values().map(|i| as_text(form, lang, i, files)).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::definition::Text;

    fn words() -> Words {
        Words {
            optional: "freiwillig".into(),
            choose: "Bitte wählen".into(),
            add_row: "Weiteres hinzufügen".into(),
            remove_row: "Letztes entfernen".into(),
            uploaded: "Hochgeladen".into(),
            street: "Straße und Hausnummer".into(),
            postcode: "Postleitzahl".into(),
            city: "Ort".into(),
            yes: "Bestätigung".into(),
        }
    }

    fn field(name: &str, kind: Kind, label: &str) -> Field {
        Field {
            name: name.into(),
            kind,
            label: Text::de(label),
            help: Text::de("Hilfe"),
            required: false,
            visible_if: None,
            prefill: None,
        }
    }

    #[test]
    fn labels_answers_and_errors_are_escaped_and_linked() {
        let mut answers = Answers::new();
        answers.insert("name".into(), vec!["\"><script>alert(1)</script>".into()]);
        let mut errors = BTreeMap::new();
        errors.insert("name".to_owned(), "Bitte <b>prüfen</b>".to_owned());
        let words = words();
        let ctx = Ctx { lang: "de", answers: &answers, errors: &errors, files: &[], words: &words };
        let mut out = String::new();
        let text = Kind::Text { min_length: None, max_length: None, pattern: None };
        fields(&mut out, &ctx, &[field("name", text, "<i>Name</i>")], "");
        assert!(!out.contains("<script>") && !out.contains("<i>") && !out.contains("<b>"));
        assert!(out.contains("&lt;i&gt;Name&lt;/i&gt; (freiwillig)"));
        assert!(out.contains(r#"aria-describedby="f-name-hint f-name-fehler" aria-invalid="true""#));
        assert!(out.contains(r#"id="f-name-fehler""#));
    }

    #[test]
    fn a_repeating_group_shows_its_rows_and_buttons() {
        let mut answers = Answers::new();
        answers.insert("pferde.0.name".into(), vec!["Blitz".into()]);
        answers.insert("pferde.1.name".into(), vec![String::new()]);
        let errors = BTreeMap::new();
        let words = words();
        let ctx = Ctx { lang: "de", answers: &answers, errors: &errors, files: &[], words: &words };
        let inner = vec![field("name", Kind::Text { min_length: None, max_length: None, pattern: None }, "Name")];
        let mut out = String::new();
        fields(&mut out, &ctx, &[field("pferde", Kind::Repeat { fields: inner, min: 1, max: 2 }, "Pferd")], "");
        assert!(out.contains(r#"name="pferde.0.name" type="text" value="Blitz""#));
        assert!(out.contains("Pferd 2") && out.contains("entfernen:pferde") && !out.contains("hinzufuegen:pferde"));
    }

    proptest::proptest! {
        #[test]
        fn no_label_or_answer_produces_markup(label in "\\PC{0,40}", answer in "\\PC{0,40}") {
            let mut answers = Answers::new();
            answers.insert("f".into(), vec![answer]);
            let errors = BTreeMap::new();
            let words = words();
            let ctx = Ctx { lang: "de", answers: &answers, errors: &errors, files: &[], words: &words };
            let mut out = String::new();
            let select = Kind::Select { options: vec![Choice { value: label.clone(), label: Text::de(&label) }] };
            fields(&mut out, &ctx, &[field("f", select, &label), field("g", Kind::Email, &label)], "");
            let tags = out.matches('<').count();
            let mut plain = String::new();
            fields(&mut plain, &Ctx { answers: &Answers::new(), ..ctx }, &[field("f", Kind::Select { options: vec![Choice { value: "x".into(), label: Text::de("x") }] }, "x"), field("g", Kind::Email, "x")], "");
            proptest::prop_assert_eq!(tags, plain.matches('<').count());
        }
    }
}
