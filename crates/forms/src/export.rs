//! A submission as an XML document for staff (issue 5, item 6). The schema is small and
//! documented in docs/FORMS.md ("Download for staff"); the JSON download is
//! [`crate::delivery::document`].
//!
//! ```xml
//! <submission xmlns="urn:kreishaus:forms:submission:1" tracking-id="K7M2-…" tenant="kreis"
//!             form="sondernutzung" form-version="1">
//!   <received-at>2026-11-22T08:00:00Z</received-at>
//!   <data-sha256>…</data-sha256>
//!   <fee currency="EUR" cents="6000"/>
//!   <data>
//!     <field name="name">Erika Mustermann</field>
//!     <field name="anschrift"><field name="street">Am Markt 1</field>…</field>
//!     <field name="kinder"><item><field name="vorname">…</field></item>…</field>
//!   </data>
//!   <files>
//!     <file field="plan" name="lageplan.pdf" media-type="application/pdf" size="43"
//!           sha256="…" href="/verwaltung/…"/>
//!   </files>
//! </submission>
//! ```

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::Value;

use crate::model::{StoredFile, Submission};

/// The namespace of the document.
pub const NAMESPACE: &str = "urn:kreishaus:forms:submission:1";

type W = Writer<Vec<u8>>;

/// A value: text for scalars, `field` children for an object, `item` children for a list.
fn value(w: &mut W, v: &Value) -> io::Result<()> {
    match v {
        Value::Object(m) => {
            for (name, inner) in m {
                field(w, name, inner)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                w.create_element("item").write_inner_content(|w| value(w, item))?;
            }
        }
        Value::Null => {}
        Value::String(s) => {
            w.write_event(Event::Text(BytesText::new(s)))?;
        }
        other => {
            w.write_event(Event::Text(BytesText::new(&other.to_string())))?;
        }
    }
    Ok(())
}

fn field(w: &mut W, name: &str, v: &Value) -> io::Result<()> {
    let el = w.create_element("field").with_attribute(("name", name));
    match v {
        Value::String(s) => el.write_text_content(BytesText::new(s)).map(drop),
        Value::Null => el.write_empty().map(drop),
        _ => el.write_inner_content(|w| value(w, v)).map(drop),
    }
}

/// The submission as XML; `file_href` gives each file's download address.
pub fn to_xml(
    s: &Submission,
    tenant_slug: &str,
    files: &[StoredFile],
    file_href: impl Fn(&StoredFile) -> String,
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let version = s.version.to_string();
        w.create_element("submission")
            .with_attributes([
                ("xmlns", NAMESPACE),
                ("tracking-id", s.tracking_id.as_str()),
                ("tenant", tenant_slug),
                ("form", s.form_id.as_str()),
                ("form-version", version.as_str()),
            ])
            .write_inner_content(|w| {
                w.create_element("received-at").write_text_content(BytesText::new(&s.created_at.rfc3339()))?;
                w.create_element("data-sha256").write_text_content(BytesText::new(&s.data_sha256))?;
                if let Some(cents) = s.fee_cents {
                    let cents = cents.to_string();
                    w.create_element("fee")
                        .with_attributes([("currency", "EUR"), ("cents", cents.as_str())])
                        .write_empty()?;
                }
                w.create_element("data").write_inner_content(|w| value(w, &Value::Object(s.data.clone())))?;
                w.create_element("files").write_inner_content(|w| {
                    for f in files {
                        let size = f.size.to_string();
                        let href = file_href(f);
                        w.create_element("file")
                            .with_attributes([
                                ("field", f.field.as_str()),
                                ("name", f.file_name.as_str()),
                                ("media-type", f.media_type.as_str()),
                                ("size", size.as_str()),
                                ("sha256", f.blob_sha256.trim_start_matches("sha256:")),
                                ("href", href.as_str()),
                            ])
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    // Writing into a Vec cannot fail.
    debug_assert!(written.is_ok());
    String::from_utf8(w.into_inner()).unwrap_or_default()
}
