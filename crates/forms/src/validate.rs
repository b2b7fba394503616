//! Checking what an applicant entered against a form definition: every field gets its own
//! problem, hidden fields are ignored, and a valid application becomes canonical typed values
//! (the data of the submission) with its fee.
//!
//! Answers arrive as a form posts them: a key per field (`vorname`), `name.street`,
//! `name.postcode`, `name.city` for an address, `group.0.field` for the first repetition of a
//! repeating group, and several values for checkboxes.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::Date;

use crate::definition::{Condition, CrossRule, Field, Form, Kind, Quiz};

/// The answers of one application: field key → values.
pub type Answers = BTreeMap<String, Vec<String>>;

/// One problem with one answer: the field's key, a message code (`forms.required`) and the
/// limit the message names, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub code: &'static str,
    pub limit: String,
}

impl Problem {
    fn new(field: &str, code: &'static str) -> Problem {
        Problem { field: field.to_owned(), code, limit: String::new() }
    }

    fn with(field: &str, code: &'static str, limit: impl ToString) -> Problem {
        Problem { field: field.to_owned(), code, limit: limit.to_string() }
    }
}

/// The outcome of checking a whole application.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// Canonical values of the visible fields (`"2026-11-22"`, cents, `true`, lists).
    pub values: Map<String, Value>,
    /// The fee computed from the answers, in cents.
    pub fee_cents: Option<i64>,
    pub problems: Vec<Problem>,
}

fn first<'a>(answers: &'a Answers, key: &str) -> &'a str {
    answers.get(key).and_then(|v| v.first()).map(|s| s.trim()).unwrap_or_default()
}

/// Whether a condition holds for the answers.
pub fn holds(condition: &Condition, answers: &Answers) -> bool {
    let given: Vec<&str> =
        answers.get(&condition.field).map(|v| v.iter().map(|s| s.trim()).collect()).unwrap_or_default();
    if condition.filled {
        return given.iter().any(|v| !v.is_empty());
    }
    given.iter().any(|v| condition.equals.iter().any(|e| e == v))
}

fn visible(field: &Field, answers: &Answers) -> bool {
    field.visible_if.as_ref().is_none_or(|c| holds(c, answers))
}

/// The steps shown for these answers, by index.
pub fn visible_steps(form: &Form, answers: &Answers) -> Vec<usize> {
    (0..form.steps.len()).filter(|&i| form.steps[i].visible_if.as_ref().is_none_or(|c| holds(c, answers))).collect()
}

/// Checks one step (for the page-by-page journey): the problems of its fields, including the
/// rules across fields that end on one of them; today decides date limits.
pub fn check_step(form: &Form, step: usize, answers: &Answers, today: Date) -> Vec<Problem> {
    let Some(s) = form.steps.get(step) else { return Vec::new() };
    let owns = |key: &str| s.fields.iter().any(|f| key == f.name || key.starts_with(&format!("{}.", f.name)));
    let mut problems = Vec::new();
    check_fields(&s.fields, "", answers, today, &mut Map::new(), &mut problems);
    let across: Vec<Problem> =
        check(form, answers, today).problems.into_iter().filter(|p| owns(&p.field) && !problems.contains(p)).collect();
    problems.extend(across);
    problems
}

/// How many quiz questions are answered correctly, of how many.
pub fn quiz_score(quiz: &Quiz, answers: &Answers) -> (usize, usize) {
    let right = quiz
        .answers
        .iter()
        .filter(|a| {
            let mut given: Vec<&str> = answers
                .get(&a.field)
                .map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            let mut correct: Vec<&str> = a.correct.iter().map(String::as_str).collect();
            given.sort_unstable();
            correct.sort_unstable();
            given == correct
        })
        .count();
    (right, quiz.answers.len())
}

/// Too few correct answers: a problem on the first question, saying how many were right (never
/// which).
fn quiz_problem(quiz: &Quiz, answers: &Answers) -> Option<Problem> {
    let (right, total) = quiz_score(quiz, answers);
    let first = quiz.answers.first()?;
    let all_answered =
        quiz.answers.iter().all(|a| answers.get(&a.field).is_some_and(|v| v.iter().any(|s| !s.trim().is_empty())));
    (all_answered && right < quiz.pass_mark)
        .then(|| Problem::with(&first.field, "forms.quiz_failed", format!("{right}/{total}")))
}

/// Checks a whole application: every visible step, the rules across fields, and the fee.
pub fn check(form: &Form, answers: &Answers, today: Date) -> Checked {
    let mut problems = Vec::new();
    let mut values = Map::new();
    for i in visible_steps(form, answers) {
        check_fields(&form.steps[i].fields, "", answers, today, &mut values, &mut problems);
    }
    if let Some(p) = form.quiz.as_ref().and_then(|q| quiz_problem(q, answers)) {
        problems.push(p);
    }
    for rule in &form.rules {
        match rule {
            CrossRule::NotBefore { end, start, .. } => {
                if let (Some(e), Some(s)) = (values.get(end), values.get(start))
                    && compare(e, s).is_some_and(|o| o.is_lt())
                {
                    problems.push(Problem::new(end, "forms.not_before"));
                }
            }
        }
    }
    let fee_cents = form.fee.as_ref().map(|fee| {
        fee.base_cents
            + fee
                .add
                .iter()
                .map(|part| {
                    let hits = answers
                        .iter()
                        .filter(|(k, _)| *k == &part.field || k.ends_with(&format!(".{}", part.field)))
                        .filter(|(_, v)| v.iter().any(|x| x.trim() == part.value))
                        .count() as i64;
                    hits * part.cents
                })
                .sum::<i64>()
    });
    Checked { values, fee_cents, problems }
}

/// Orders two canonical values of the same kind (dates as ISO text, numbers).
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        _ => None,
    }
}

fn check_fields(
    fields: &[Field],
    prefix: &str,
    answers: &Answers,
    today: Date,
    values: &mut Map<String, Value>,
    problems: &mut Vec<Problem>,
) {
    for field in fields.iter().filter(|f| visible(f, answers)) {
        let key = format!("{prefix}{}", field.name);
        match &field.kind {
            Kind::Info => {}
            Kind::Repeat { fields, min, max } => {
                let count = repetitions(answers, &key);
                if count < *min {
                    problems.push(Problem::with(&key, "forms.too_few", min));
                } else if count > *max {
                    problems.push(Problem::with(&key, "forms.too_many", max));
                }
                let mut rows = Vec::new();
                for i in 0..count.min(*max) {
                    let mut row = Map::new();
                    check_fields(fields, &format!("{key}.{i}."), answers, today, &mut row, problems);
                    let strip = format!("{key}.{i}.");
                    rows.push(Value::Object(
                        row.into_iter().map(|(k, v)| (k.strip_prefix(&strip).unwrap_or(&k).to_owned(), v)).collect(),
                    ));
                }
                values.insert(key, Value::Array(rows));
            }
            Kind::Address => check_address(field, &key, answers, values, problems),
            Kind::Checkboxes { options } => {
                let chosen: Vec<&str> = answers
                    .get(&key)
                    .map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default();
                if chosen.is_empty() {
                    if field.required {
                        problems.push(Problem::new(&key, "forms.choose_one"));
                    }
                } else if chosen.iter().all(|c| options.iter().any(|o| o.value == *c)) {
                    values.insert(key, json!(chosen));
                } else {
                    problems.push(Problem::new(&key, "forms.unknown_choice"));
                }
            }
            kind => {
                let given = first(answers, &key);
                if given.is_empty() {
                    if field.required {
                        let code = match kind {
                            Kind::Consent => "forms.consent_required",
                            Kind::Select { .. } | Kind::Radio { .. } => "forms.choose_one",
                            Kind::File { .. } => "forms.file_required",
                            _ => "forms.required",
                        };
                        problems.push(Problem::new(&key, code));
                    }
                    continue;
                }
                match value_of(kind, given, today) {
                    Ok(v) => {
                        values.insert(key, v);
                    }
                    Err((code, limit)) => problems.push(Problem::with(&key, code, limit)),
                }
            }
        }
    }
}

/// The answers of a draft made with an older version of a form that still fit the current one:
/// answers to fields it still has, with values it still accepts (an option still offered, a
/// number still in range). Everything else is dropped, and the citizen is told to check.
pub fn carry_over(form: &Form, answers: &Answers, today: Date) -> Answers {
    let mut kept = Answers::new();
    for step in &form.steps {
        carry_fields(&step.fields, "", answers, today, &mut kept);
    }
    kept
}

fn carry_fields(fields: &[Field], prefix: &str, answers: &Answers, today: Date, kept: &mut Answers) {
    for field in fields {
        let key = format!("{prefix}{}", field.name);
        match &field.kind {
            Kind::Info => {}
            Kind::Repeat { fields, max, .. } => {
                for i in 0..repetitions(answers, &key).min(*max) {
                    carry_fields(fields, &format!("{key}.{i}."), answers, today, kept);
                }
            }
            Kind::Address => {
                let parts = format!("{key}.");
                kept.extend(
                    answers
                        .range(parts.clone()..)
                        .take_while(|(k, _)| k.starts_with(&parts))
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
            }
            Kind::Checkboxes { options } => {
                let still: Vec<String> = answers
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|c| options.iter().any(|o| o.value == c.trim()))
                    .cloned()
                    .collect();
                if !still.is_empty() {
                    kept.insert(key, still);
                }
            }
            kind => {
                let given = first(answers, &key);
                if !given.is_empty() && value_of(kind, given, today).is_ok() {
                    kept.insert(key, vec![given.to_owned()]);
                }
            }
        }
    }
}

/// How many repetitions of a group were sent: one more than the highest index among its keys.
pub fn repetitions(answers: &Answers, key: &str) -> usize {
    let prefix = format!("{key}.");
    answers
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix)?.split('.').next()?.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

fn check_address(
    field: &Field,
    key: &str,
    answers: &Answers,
    values: &mut Map<String, Value>,
    problems: &mut Vec<Problem>,
) {
    let part = |p: &str| first(answers, &format!("{key}.{p}")).to_owned();
    let (street, postcode, city) = (part("street"), part("postcode"), part("city"));
    if street.is_empty() && postcode.is_empty() && city.is_empty() && !field.required {
        return;
    }
    let before = problems.len();
    for (value, p) in [(&street, "street"), (&city, "city")] {
        if value.is_empty() {
            problems.push(Problem::new(&format!("{key}.{p}"), "forms.required"));
        }
    }
    if !is_postcode(&postcode) {
        problems.push(Problem::new(&format!("{key}.postcode"), "forms.postcode_invalid"));
    }
    if problems.len() == before {
        values.insert(key.to_owned(), json!({ "street": street, "postcode": postcode, "city": city }));
    }
}

type FieldResult = Result<Value, (&'static str, String)>;

fn fail(code: &'static str) -> FieldResult {
    Err((code, String::new()))
}

/// The canonical value of one answer, or why it is not acceptable.
fn value_of(kind: &Kind, given: &str, today: Date) -> FieldResult {
    match kind {
        Kind::Text { min_length, max_length, pattern } => {
            let n = given.chars().count();
            if let Some(min) = min_length.filter(|m| n < *m) {
                return Err(("forms.too_short", min.to_string()));
            }
            if let Some(max) = max_length.filter(|m| n > *m) {
                return Err(("forms.too_long", max.to_string()));
            }
            if let Some(p) = pattern
                && !matches_pattern(p, given)
            {
                return fail("forms.pattern");
            }
            Ok(json!(given))
        }
        Kind::LongText { max_length } => match max_length.filter(|m| given.chars().count() > *m) {
            Some(max) => Err(("forms.too_long", max.to_string())),
            None => Ok(json!(given)),
        },
        Kind::Number { min, max, decimals } => {
            let n = parse_number(given, *decimals).ok_or(("forms.number_invalid", String::new()))?;
            if let Some(m) = min.filter(|m| n < *m) {
                return Err(("forms.too_small", german_number(m)));
            }
            if let Some(m) = max.filter(|m| n > *m) {
                return Err(("forms.too_large", german_number(m)));
            }
            Ok(json!(n))
        }
        Kind::Money { min_cents, max_cents } => {
            let c = parse_cents(given).ok_or(("forms.money_invalid", String::new()))?;
            if let Some(m) = min_cents.filter(|m| c < *m) {
                return Err(("forms.too_small", euro(m)));
            }
            if let Some(m) = max_cents.filter(|m| c > *m) {
                return Err(("forms.too_large", euro(m)));
            }
            Ok(json!(c))
        }
        Kind::Date { not_after_today, not_before_today } => {
            let d = parse_date(given).ok_or(("forms.date_invalid", String::new()))?;
            if *not_after_today && d > today {
                return fail("forms.date_in_future");
            }
            if *not_before_today && d < today {
                return fail("forms.date_in_past");
            }
            Ok(json!(iso(d)))
        }
        Kind::Select { options } | Kind::Radio { options } => {
            if options.iter().any(|o| o.value == given) {
                Ok(json!(given))
            } else {
                fail("forms.unknown_choice")
            }
        }
        Kind::Email => {
            if is_email(given) {
                Ok(json!(given))
            } else {
                fail("forms.email_invalid")
            }
        }
        Kind::Phone => {
            if is_phone(given) {
                Ok(json!(given))
            } else {
                fail("forms.phone_invalid")
            }
        }
        Kind::Iban => {
            let iban = kernel::formats::compact(given);
            if kernel::formats::is_iban(&iban) { Ok(json!(iban)) } else { fail("forms.iban_invalid") }
        }
        Kind::Postcode => {
            if is_postcode(given) {
                Ok(json!(given))
            } else {
                fail("forms.postcode_invalid")
            }
        }
        Kind::Consent => {
            if given == "ja" {
                Ok(json!(true))
            } else {
                fail("forms.consent_required")
            }
        }
        // An upload's answer is the reference the upload step stored (`sha256:<hex>`).
        Kind::File { .. } => {
            let ok = given
                .strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            if ok { Ok(json!(given)) } else { fail("forms.file_required") }
        }
        Kind::Checkboxes { .. } | Kind::Address | Kind::Info | Kind::Repeat { .. } => fail("forms.required"),
    }
}

/// A pattern is a regular expression over the whole answer (linear-time engine, size-limited,
/// so no pattern can hang the server). A pattern that does not compile never matches.
fn matches_pattern(pattern: &str, value: &str) -> bool {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$")).size_limit(1 << 16).build().is_ok_and(|re| re.is_match(value))
}

/// Whether a definition's pattern compiles (the definition check uses it).
pub fn pattern_compiles(pattern: &str) -> bool {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$")).size_limit(1 << 16).build().is_ok()
}

/// A number as Germans write it: `1.234,5`, `-3`, `0,25`; also `1234.5`.
pub fn parse_number(text: &str, decimals: u8) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 30 {
        return None;
    }
    let normalized = if t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else if t.contains('.') && t.split('.').skip(1).all(|g| g.len() == 3) {
        // Without a comma, dots between groups of three digits are thousands separators.
        t.replace('.', "")
    } else {
        t.to_owned()
    };
    let body = normalized.strip_prefix('-').unwrap_or(&normalized);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if fraction.len() > usize::from(decimals) {
        return None;
    }
    normalized.parse().ok()
}

/// Euros as Germans write them, in cents: `37`, `37,50 €`, `1.500,00 EUR`.
pub fn parse_cents(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches("EUR").trim_end_matches('€').trim();
    let n = parse_number(t, 2)?;
    let cents = (n * 100.0).round();
    (cents.abs() < 1e15).then_some(cents as i64)
}

fn german_number(n: f64) -> String {
    n.to_string().replace('.', ",")
}

fn euro(cents: i64) -> String {
    format!("{},{:02} €", cents / 100, (cents % 100).abs())
}

/// `22.11.2026` or `2026-11-22` (what a date input sends).
pub fn parse_date(text: &str) -> Option<Date> {
    let t = text.trim();
    let (y, m, d) = if let Some((d, rest)) = t.split_once('.') {
        let (m, y) = rest.split_once('.')?;
        (y, m, d)
    } else {
        let mut parts = t.splitn(3, '-');
        (parts.next()?, parts.next()?, parts.next()?)
    };
    let year: i32 = y.parse().ok().filter(|y| (1000..=9999).contains(y))?;
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, d.parse().ok()?).ok()
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    s.len() <= 254
        && !local.is_empty()
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-/()".contains(c))
}

fn is_postcode(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks an upload for a file field: its content must be one of the accepted types (whatever
/// its name says) and within the size limit.
pub fn check_upload(kind: &Kind, bytes: &[u8]) -> Result<&'static str, (&'static str, String)> {
    let Kind::File { accept, max_bytes } = kind else { return Err(("forms.not_a_file_field", String::new())) };
    if bytes.len() as u64 > *max_bytes {
        return Err(("forms.file_too_large", format!("{} MB", max_bytes.div_ceil(1024 * 1024))));
    }
    match kernel::formats::sniff(bytes) {
        Some(t) if accept.iter().any(|a| a == t) => Ok(t),
        _ => Err(("forms.file_type", accept.join(", "))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::definition::{Choice, Fee, FeePart, Step, Text};

    fn field(name: &str, kind: Kind, required: bool) -> Field {
        Field {
            name: name.into(),
            kind,
            label: Text::de(name),
            help: Text::default(),
            required,
            visible_if: None,
            prefill: None,
        }
    }

    fn today() -> Date {
        parse_date("2026-11-22").unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        let mut a = Answers::new();
        for (k, v) in pairs {
            a.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        a
    }

    fn choices(values: &[&str]) -> Vec<Choice> {
        values.iter().map(|v| Choice { value: (*v).into(), label: Text::de(v) }).collect()
    }

    fn form(fields: Vec<Field>) -> Form {
        Form {
            id: "test".into(),
            title: Text::de("Test"),
            intro: Text::default(),
            trust_level: Default::default(),
            steps: vec![Step { id: "s".into(), title: Text::de("S"), fields, visible_if: None }],
            rules: vec![],
            fee: None,
            quiz: None,
            certificate: None,
        }
    }

    #[test]
    fn a_quiz_passes_with_the_pass_mark_and_a_question_counts_only_with_exactly_the_right_choices() {
        let radio = |name: &str| field(name, Kind::Radio { options: choices(&["a", "b"]) }, true);
        let many = field("q3", Kind::Checkboxes { options: choices(&["x", "y", "z"]) }, true);
        let mut f = form(vec![radio("q1"), radio("q2"), many]);
        let answer = |field: &str, correct: &[&str]| crate::definition::QuizAnswer {
            field: field.into(),
            correct: correct.iter().map(|s| (*s).to_owned()).collect(),
        };
        f.quiz = Some(Quiz {
            pass_mark: 2,
            answers: vec![answer("q1", &["a"]), answer("q2", &["b"]), answer("q3", &["x", "y"])],
        });
        assert!(f.problems().is_empty(), "{:?}", f.problems());
        let day = today();
        let passed = check(&f, &answers(&[("q1", "a"), ("q2", "b"), ("q3", "x"), ("q3", "y")]), day);
        assert!(passed.problems.is_empty());
        let one_right = answers(&[("q1", "a"), ("q2", "a"), ("q3", "x"), ("q3", "y"), ("q3", "z")]);
        assert_eq!(quiz_score(f.quiz.as_ref().unwrap(), &one_right), (1, 3));
        let failed = check(&f, &one_right, day);
        assert_eq!(codes(&failed), vec![("q1", "forms.quiz_failed")]);
        assert_eq!(failed.problems[0].limit, "1/3");
        // An unfinished quiz gets "required" problems, not a score.
        assert_eq!(
            codes(&check(&f, &answers(&[("q1", "b")]), day)),
            vec![("q2", "forms.choose_one"), ("q3", "forms.choose_one")]
        );
        // The definition check catches impossible quizzes.
        f.quiz = Some(Quiz { pass_mark: 4, answers: vec![answer("q1", &["c"]), answer("nope", &["a"])] });
        let problems = f.problems().join("\n");
        assert!(
            problems.contains("pass mark") && problems.contains("`c` is no option") && problems.contains("`nope`"),
            "{problems}"
        );
    }

    fn codes(c: &Checked) -> Vec<(&str, &str)> {
        c.problems.iter().map(|p| (p.field.as_str(), p.code)).collect()
    }

    #[test]
    fn each_invalid_field_gets_its_own_problem_and_valid_ones_their_canonical_value() {
        let f = form(vec![
            field("name", Kind::Text { min_length: Some(2), max_length: Some(5), pattern: None }, true),
            field("geboren", Kind::Date { not_after_today: true, not_before_today: false }, true),
            field("betrag", Kind::Money { min_cents: Some(0), max_cents: Some(10_000) }, false),
            field("mail", Kind::Email, false),
            field("iban", Kind::Iban, false),
            field("plz", Kind::Postcode, false),
            field("ok", Kind::Consent, true),
        ]);
        let c = check(
            &f,
            &answers(&[
                ("name", "Anna"),
                ("geboren", "01.02.1990"),
                ("betrag", "1.234,50 €"),
                ("mail", "a@b"),
                ("iban", "DE89 3704 0044 0532 0130 00"),
                ("plz", "5991"),
            ]),
            today(),
        );
        assert_eq!(
            codes(&c),
            [
                ("betrag", "forms.too_large"),
                ("mail", "forms.email_invalid"),
                ("plz", "forms.postcode_invalid"),
                ("ok", "forms.consent_required")
            ]
        );
        assert_eq!(c.problems[0].limit, "100,00 €");
        assert_eq!(c.values["name"], "Anna");
        assert_eq!(c.values["geboren"], "1990-02-01");
        assert_eq!(c.values["iban"], "DE89370400440532013000");
    }

    #[test]
    fn limits_are_named_in_the_problem() {
        let f = form(vec![field(
            "n",
            Kind::Text { min_length: Some(3), max_length: None, pattern: Some("[A-Z]+".into()) },
            true,
        )]);
        assert_eq!(check(&f, &answers(&[("n", "AB")]), today()).problems[0], Problem::with("n", "forms.too_short", 3));
        assert_eq!(check(&f, &answers(&[("n", "abcd")]), today()).problems[0].code, "forms.pattern");
        assert!(check(&f, &answers(&[("n", "ABCD")]), today()).problems.is_empty());
        let future = form(vec![field("d", Kind::Date { not_after_today: true, not_before_today: false }, true)]);
        assert_eq!(check(&future, &answers(&[("d", "2027-01-01")]), today()).problems[0].code, "forms.date_in_future");
        assert_eq!(check(&future, &answers(&[("d", "31.02.2020")]), today()).problems[0].code, "forms.date_invalid");
    }

    #[test]
    fn hidden_fields_are_neither_required_nor_kept() {
        let mut wann = field("wann", Kind::Date { not_after_today: false, not_before_today: false }, true);
        wann.visible_if = Some(Condition { field: "art".into(), equals: vec!["termin".into()], filled: false });
        let f = form(vec![field("art", Kind::Radio { options: choices(&["termin", "post"]) }, true), wann]);
        let post = check(&f, &answers(&[("art", "post"), ("wann", "2026-12-01")]), today());
        assert!(post.problems.is_empty() && !post.values.contains_key("wann"));
        let termin = check(&f, &answers(&[("art", "termin")]), today());
        assert_eq!(codes(&termin), [("wann", "forms.required")]);
        assert_eq!(codes(&check(&f, &answers(&[("art", "fax")]), today())), [("art", "forms.unknown_choice")]);
    }

    #[test]
    fn repeating_groups_count_and_check_each_repetition() {
        let pferd = field(
            "pferde",
            Kind::Repeat {
                fields: vec![field("name", Kind::Text { min_length: None, max_length: None, pattern: None }, true)],
                min: 1,
                max: 2,
            },
            true,
        );
        let mut f = form(vec![pferd]);
        f.fee = Some(Fee {
            label: Text::de("Gebühr"),
            base_cents: 500,
            add: vec![FeePart { field: "name".into(), value: "Blitz".into(), cents: 100 }],
        });
        let c = check(&f, &answers(&[("pferde.0.name", "Blitz"), ("pferde.1.name", "")]), today());
        assert_eq!(codes(&c), [("pferde.1.name", "forms.required")]);
        assert_eq!(c.fee_cents, Some(600));
        assert_eq!(codes(&check(&f, &answers(&[]), today())), [("pferde", "forms.too_few")]);
        let three = answers(&[("pferde.0.name", "a"), ("pferde.1.name", "b"), ("pferde.2.name", "c")]);
        assert_eq!(codes(&check(&f, &three, today())), [("pferde", "forms.too_many")]);
        let ok = check(&f, &answers(&[("pferde.0.name", "Blitz")]), today());
        assert_eq!(ok.values["pferde"], json!([{ "name": "Blitz" }]));
    }

    #[test]
    fn an_end_before_the_start_is_refused_on_the_end_field() {
        let date = || Kind::Date { not_after_today: false, not_before_today: false };
        let mut f = form(vec![field("von", date(), true), field("bis", date(), true)]);
        f.rules = vec![CrossRule::NotBefore { end: "bis".into(), start: "von".into(), message: Text::de("x") }];
        assert_eq!(
            codes(&check(&f, &answers(&[("von", "2026-12-10"), ("bis", "09.12.2026")]), today())),
            [("bis", "forms.not_before")]
        );
        assert!(check(&f, &answers(&[("von", "2026-12-10"), ("bis", "10.12.2026")]), today()).problems.is_empty());
    }

    #[test]
    fn addresses_and_checkboxes_are_checked_part_by_part() {
        let f = form(vec![
            field("anschrift", Kind::Address, true),
            field("tage", Kind::Checkboxes { options: choices(&["mo", "di"]) }, true),
        ]);
        let c = check(
            &f,
            &answers(&[
                ("anschrift.street", "Am Markt 1"),
                ("anschrift.postcode", "599"),
                ("tage", "mo"),
                ("tage", "di"),
            ]),
            today(),
        );
        assert_eq!(codes(&c), [("anschrift.city", "forms.required"), ("anschrift.postcode", "forms.postcode_invalid")]);
        assert_eq!(c.values["tage"], json!(["mo", "di"]));
        assert_eq!(
            codes(&check(
                &f,
                &answers(&[
                    ("anschrift.street", "a"),
                    ("anschrift.postcode", "59910"),
                    ("anschrift.city", "L"),
                    ("tage", "so")
                ]),
                today()
            )),
            [("tage", "forms.unknown_choice")]
        );
    }

    #[test]
    fn iban_numbers_and_uploads_follow_their_standards() {
        assert_eq!(parse_number("1.234,5", 1), Some(1234.5));
        assert_eq!(parse_number("1.234", 0), Some(1234.0));
        assert_eq!(parse_number("1.234", 2), Some(1234.0));
        assert_eq!(parse_number("12.5", 1), Some(12.5));
        assert_eq!(parse_number("2,555", 2), None);
        assert_eq!(parse_cents("37,5 €"), Some(3750));
        let pdf = Kind::File { accept: vec!["application/pdf".into()], max_bytes: 1024 };
        assert_eq!(check_upload(&pdf, b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(check_upload(&pdf, b"MZ\x90\x00 not a pdf").map_err(|e| e.0), Err("forms.file_type"));
        assert_eq!(check_upload(&pdf, &[b'%'; 2048]).map_err(|e| e.0), Err("forms.file_too_large"));
    }

    proptest::proptest! {
        #[test]
        fn no_answer_makes_the_check_panic(text in "\\PC{0,40}", pattern in "\\PC{0,12}") {
            let f = form(vec![
                field("t", Kind::Text { min_length: Some(1), max_length: Some(10), pattern: Some(pattern) }, true),
                field("n", Kind::Number { min: Some(0.0), max: Some(10.0), decimals: 2 }, false),
                field("m", Kind::Money { min_cents: None, max_cents: None }, false),
                field("d", Kind::Date { not_after_today: true, not_before_today: false }, false),
                field("i", Kind::Iban, false),
            ]);
            let a = answers(&[("t", &text), ("n", &text), ("m", &text), ("d", &text), ("i", &text)]);
            let _ = check(&f, &a, today());
        }
    }

    #[test]
    fn a_draft_carries_over_only_the_answers_the_new_version_still_accepts() {
        let text = || Kind::Text { min_length: None, max_length: None, pattern: None };
        let new = form(vec![
            field("name", text(), true),
            field("anzahl", Kind::Number { min: Some(1.0), max: Some(5.0), decimals: 0 }, false),
            field("art", Kind::Radio { options: choices(&["markt", "baustelle"]) }, true),
            field("extras", Kind::Checkboxes { options: choices(&["strom", "wasser"]) }, false),
            field("anschrift", Kind::Address, false),
            field("pferde", Kind::Repeat { fields: vec![field("name", text(), true)], min: 0, max: 1 }, false),
        ]);
        let old = answers(&[
            ("name", "Erika"),
            ("anzahl", "9"),
            ("art", "zirkus"),
            ("extras", "strom"),
            ("extras", "gas"),
            ("anschrift.street", "Am Markt 1"),
            ("pferde.0.name", "Blitz"),
            ("pferde.1.name", "Donner"),
            ("entfallen", "weg"),
        ]);
        let kept = carry_over(&new, &old, today());
        let expected = answers(&[
            ("name", "Erika"),
            ("extras", "strom"),
            ("anschrift.street", "Am Markt 1"),
            ("pferde.0.name", "Blitz"),
        ]);
        assert_eq!(kept, expected);
    }
}
