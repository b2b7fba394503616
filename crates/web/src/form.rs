//! Form errors for templates: the message per field and the error summary at the top.

use kernel::{AppError, FieldError};

use crate::chrome::Chrome;

/// A submitted form as its name/value pairs, in order (`axum::Form<FormFields>`).
pub type FormFields = Vec<(String, String)>;

/// The file sent in field `name` of a multipart form, or None when none was chosen (the field
/// missing or empty). A body that is not multipart or was cut off is `error.upload_unreadable`;
/// one over the body limit is `PayloadTooLarge`.
pub async fn uploaded_file(
    mut form: axum::extract::Multipart,
    name: &str,
) -> Result<Option<axum::body::Bytes>, AppError> {
    let unreadable = || AppError::invalid("error.upload_unreadable", name);
    while let Some(field) = form.next_field().await.map_err(|_| unreadable())? {
        if field.name() == Some(name) {
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            return Ok(Some(bytes).filter(|b| !b.is_empty()));
        }
    }
    Ok(None)
}

/// A multipart form read whole: its text fields, trimmed and cut to `max_chars`, and its
/// files as (field name, bytes), those sent empty (none chosen) left out. A body that is not
/// multipart or was cut off is `error.upload_unreadable`; one over the body limit is
/// `PayloadTooLarge`.
pub async fn multipart(
    mut form: axum::extract::Multipart,
    max_chars: usize,
) -> Result<(FormFields, Vec<(String, axum::body::Bytes)>), AppError> {
    let unreadable = || AppError::invalid("error.upload_unreadable", "");
    let (mut fields, mut files) = (FormFields::new(), Vec::new());
    while let Some(part) = form.next_field().await.map_err(|_| unreadable())? {
        let name = part.name().unwrap_or_default().to_owned();
        if part.file_name().is_some() {
            let bytes = part.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            if !bytes.is_empty() {
                files.push((name, bytes));
            }
        } else {
            let text = part.text().await.map_err(|_| unreadable())?;
            fields.push((name, text.trim().chars().take(max_chars).collect()));
        }
    }
    Ok((fields, files))
}

/// The trimmed value of a form field, empty when it was not sent.
pub fn field<'a>(form: &'a FormFields, name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or_default()
}

/// Translated problems with the fields of a form, in field order.
#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    items: Vec<(String, String)>,
}

impl FormErrors {
    pub fn none() -> Self {
        FormErrors::default()
    }

    /// Translates field errors into the chrome's language.
    pub fn new(chrome: &Chrome, fields: &[FieldError]) -> Self {
        FormErrors { items: fields.iter().map(|f| (f.field.clone(), chrome.error_message(f.code))).collect() }
    }

    /// Problems with messages already written out (they name a line, say), as (field, message);
    /// an empty field is a problem of the whole form.
    pub fn messages(items: Vec<(String, String)>) -> Self {
        FormErrors { items }
    }

    /// A problem with the whole form, shown in the summary only.
    pub fn general(chrome: &Chrome, code: &str) -> Self {
        FormErrors { items: vec![(String::new(), chrome.error_message(code))] }
    }

    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|(f, _)| f == field)
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// (field, message) pairs for the summary; the field links to its input.
    pub fn items(&self) -> &[(String, String)] {
        &self.items
    }
}
