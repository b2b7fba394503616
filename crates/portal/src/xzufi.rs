//! One service as an XZuFi 2.2 `leistung` object (namespace `http://xoev.de/schemata/xzufi/2_2_0`),
//! the exchange standard of service descriptions between portals and the Portalverbund (PVOG).
//!
//! What is mapped, and what is not, is listed in [`UNMAPPED`] and written into the document as a
//! comment, so a receiving Redaktion knows what to add by hand. Text modules carry the codes of
//! the code list `urn:de:xzufi:codeliste:leistungstextmodulleika`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::catalogue::Service;
use crate::details::{Details, format_euro, markdown_html};

pub const NAMESPACE: &str = "http://xoev.de/schemata/xzufi/2_2_0";
const TEXT_MODULES: &str = "urn:de:xzufi:codeliste:leistungstextmodulleika";

/// What this export leaves out, and why.
pub const UNMAPPED: &[&str] = &[
    "responsible office: XZuFi describes it as separate organisationseinheit and zustaendigkeit objects, not generated",
    "online service link: as XZuFi text module 15 (Weiterführende Informationen), not as an onlinedienst object",
    "fee amounts: as text in modulKosten/beschreibung, not as structured amounts (betrag)",
    "business situations (Unternehmenslagen): no XZuFi field",
    "message envelope (nachrichtenkopf, transfer message): needs the receiving system's sender and receiver codes",
];

/// The LeiKa text module codes used here.
mod code {
    pub const NAME: &str = "02";
    pub const SUMMARY: &str = "05";
    pub const FULL_TEXT: &str = "06";
    pub const LEGAL_BASIS: &str = "07";
    pub const DOCUMENTS: &str = "08";
    pub const FORMS: &str = "14";
    pub const FURTHER_INFORMATION: &str = "15";
}

type XmlWriter = Writer<Vec<u8>>;
type XmlResult = Result<(), quick_xml::Error>;

fn start(w: &mut XmlWriter, name: &str, attrs: &[(&str, &str)]) -> XmlResult {
    let mut e = BytesStart::new(name);
    for a in attrs {
        e.push_attribute(*a);
    }
    w.write_event(Event::Start(e)).map_err(quick_xml::Error::from)
}

fn end(w: &mut XmlWriter, name: &str) -> XmlResult {
    w.write_event(Event::End(BytesEnd::new(name))).map_err(quick_xml::Error::from)
}

fn element(w: &mut XmlWriter, name: &str, attrs: &[(&str, &str)], text: &str) -> XmlResult {
    start(w, name, attrs)?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    end(w, name)
}

/// A text module: its LeiKa code, its position on the page and its German content (HTML).
fn text_module(w: &mut XmlWriter, code: &str, position: usize, html: &str) -> XmlResult {
    start(w, "xzufi:modulText", &[])?;
    element(w, "xzufi:inhalt", &[("languageCode", "de")], html)?;
    start(w, "xzufi:leikaTextmodul", &[("listURI", TEXT_MODULES)])?;
    element(w, "code", &[], code)?;
    end(w, "xzufi:leikaTextmodul")?;
    element(w, "xzufi:positionDarstellung", &[], &position.to_string())?;
    end(w, "xzufi:modulText")
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// An HTML list of items that are HTML already.
fn html_list(items: impl Iterator<Item = String>) -> String {
    let items: String = items.map(|i| format!("<li>{i}</li>")).collect();
    format!("<ul>{items}</ul>")
}

fn html_links(links: &[(&str, &str)]) -> String {
    html_list(links.iter().map(|(label, url)| format!("<a href=\"{}\">{}</a>", escape(url), escape(label))))
}

/// Who issued the identifier: the tenant's official municipality key (AGS) where it has one.
pub struct Issuer<'a> {
    pub scheme_agency: &'a str,
}

/// The service `s` with details `d` as an XZuFi 2.2 document whose root is the `leistung`.
pub fn leistung(issuer: &Issuer, s: &Service, d: &Details) -> Result<String, quick_xml::Error> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Comment(BytesText::new(&format!(" Not mapped: {} ", UNMAPPED.join("; ")))))?;
    start(&mut w, "xzufi:leistung", &[("xmlns:xzufi", NAMESPACE)])?;
    element(&mut w, "xzufi:id", &[("schemeAgencyID", issuer.scheme_agency), ("schemeID", "kreishaus")], &s.id)?;
    if !s.leika.is_empty() {
        start(&mut w, "xzufi:referenzLeiKa", &[])?;
        element(&mut w, "code", &[], &s.leika)?;
        end(&mut w, "xzufi:referenzLeiKa")?;
    }
    let fees: Vec<String> = d.fees.iter().map(|f| format!("{}: {}", f.label, format_euro(f.amount_cents))).collect();
    let mut further = Vec::new();
    for (label, url) in [("Online beantragen", &d.online_url), ("Termin buchen", &d.appointment_url)] {
        if !url.is_empty() {
            further.push((label, url.as_str()));
        }
    }
    let modules = [
        (code::NAME, escape(&s.name)),
        (code::SUMMARY, escape(&s.summary)),
        (code::FULL_TEXT, markdown_html(&d.description)),
        (code::LEGAL_BASIS, escape(&d.legal_basis)),
        (
            code::DOCUMENTS,
            if d.documents.is_empty() { String::new() } else { html_list(d.documents.iter().map(|t| escape(t))) },
        ),
        (code::FORMS, if d.form_url.is_empty() { String::new() } else { html_links(&[("Formular", &d.form_url)]) }),
        (code::FURTHER_INFORMATION, if further.is_empty() { String::new() } else { html_links(&further) }),
    ];
    for (position, (code, html)) in modules.iter().filter(|(_, html)| !html.trim().is_empty()).enumerate() {
        text_module(&mut w, code, position + 1, html)?;
    }
    for (module, text) in
        [("xzufi:modulKosten", fees.join("; ")), ("xzufi:modulBearbeitungsdauer", d.processing_time.clone())]
    {
        if !text.is_empty() {
            start(&mut w, module, &[])?;
            element(&mut w, "xzufi:beschreibung", &[("languageCode", "de")], &text)?;
            end(&mut w, module)?;
        }
    }
    for situation in &s.life_situations {
        start(&mut w, "xzufi:kategorie", &[])?;
        element(&mut w, "xzufi:id", &[("schemeID", "kreishaus.lebenslage")], &crate::catalogue::slugify(situation))?;
        element(&mut w, "xzufi:bezeichnung", &[("languageCode", "de")], situation)?;
        end(&mut w, "xzufi:kategorie")?;
    }
    start(&mut w, "xzufi:sprachversion", &[])?;
    element(&mut w, "xzufi:languageCode", &[], "de")?;
    element(&mut w, "xzufi:sprachbezeichnungDeutsch", &[], "Deutsch")?;
    element(&mut w, "xzufi:sprachbezeichnungNativ", &[], "Deutsch")?;
    end(&mut w, "xzufi:sprachversion")?;
    end(&mut w, "xzufi:leistung")?;
    Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalogue::Level;
    use crate::details::Fee;

    fn wohngeld() -> (Service, Details) {
        let s = Service {
            id: "wohngeld".into(),
            name: "Wohngeld & Lastenzuschuss <beantragen>".into(),
            summary: "Zuschuss zur Miete.".into(),
            life_situations: vec!["Wohnen".into(), "Soziales".into()],
            business_situations: vec![],
            leika: "99102013000000".into(),
            level: Level::County,
        };
        let d = Details {
            description: "**Wichtig:** früh stellen.".into(),
            documents: vec!["Mietvertrag".into()],
            fees: vec![Fee { label: "Antrag".into(), amount_cents: 0 }],
            legal_basis: "WoGG".into(),
            processing_time: "etwa sechs Wochen".into(),
            online_url: "https://kreis.example/antrag?a=1&b=2".into(),
            ..Details::default()
        };
        (s, d)
    }

    fn texts<'a>(doc: &'a roxmltree::Document, code: &str) -> Vec<&'a str> {
        doc.descendants()
            .filter(|n| n.has_tag_name((NAMESPACE, "modulText")))
            .filter(|m| m.descendants().any(|c| c.has_tag_name("code") && c.text() == Some(code)))
            .filter_map(|m| m.children().find(|c| c.has_tag_name((NAMESPACE, "inhalt"))).and_then(|c| c.text()))
            .collect()
    }

    #[test]
    fn a_service_becomes_a_well_formed_leistung_with_its_text_modules() {
        let (s, d) = wohngeld();
        let xml = leistung(&Issuer { scheme_agency: "05999000" }, &s, &d).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((NAMESPACE, "leistung")));
        let id = root.children().find(|c| c.has_tag_name((NAMESPACE, "id"))).unwrap();
        assert_eq!((id.text(), id.attribute("schemeAgencyID")), (Some("wohngeld"), Some("05999000")));
        let leika = root.descendants().find(|c| c.has_tag_name((NAMESPACE, "referenzLeiKa"))).unwrap();
        assert_eq!(leika.children().find(|c| c.has_tag_name("code")).and_then(|c| c.text()), Some("99102013000000"));
        assert_eq!(texts(&doc, code::NAME), ["Wohngeld &amp; Lastenzuschuss &lt;beantragen&gt;"]);
        assert!(texts(&doc, code::FULL_TEXT)[0].contains("<strong>Wichtig:</strong>"));
        assert_eq!(texts(&doc, code::DOCUMENTS), ["<ul><li>Mietvertrag</li></ul>"]);
        let further = texts(&doc, code::FURTHER_INFORMATION);
        assert!(further[0].contains("href=\"https://kreis.example/antrag?a=1&amp;b=2\""), "{further:?}");
        assert!(texts(&doc, code::FORMS).is_empty());
        let fees = root.descendants().find(|c| c.has_tag_name((NAMESPACE, "modulKosten"))).unwrap();
        assert_eq!(fees.first_element_child().and_then(|c| c.text()), Some("Antrag: 0,00 €"));
        let categories: Vec<_> = root
            .descendants()
            .filter(|c| c.has_tag_name((NAMESPACE, "bezeichnung")))
            .filter_map(|c| c.text())
            .collect();
        assert_eq!(categories, ["Wohnen", "Soziales"]);
        assert!(xml.contains("Not mapped: responsible office"));
    }

    #[test]
    fn a_service_without_details_has_only_its_name_and_summary() {
        let (mut s, _) = wohngeld();
        s.leika.clear();
        let xml = leistung(&Issuer { scheme_agency: "x" }, &s, &Details::default()).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name((NAMESPACE, "modulText"))).count(), 2);
        assert!(!xml.contains("<xzufi:referenzLeiKa") && !xml.contains("<xzufi:modulKosten"));
    }
}
