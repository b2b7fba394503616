//! The schema step (`einvoice::schema`) on real invoices: every test-suite invoice is valid
//! against the XSDs, and mutations of a UBL and a CII invoice are reported with the exact
//! message at the exact location.

mod common;

use common::testdata;
use einvoice::Syntax;
use einvoice::schema::check;

fn testsuite_invoice(name: &str) -> String {
    let path = testdata().join("xrechnung-testsuite/src/test/business-cases/standard").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (location, message) of every schema finding.
fn findings(xml: &str) -> Vec<(String, String)> {
    let (doc, syntax) = einvoice::reader::parse(xml).expect("parses");
    check(&doc, syntax).into_iter().map(|f| (f.location, f.message)).collect()
}

fn mutated(original: &str, from: &str, to: &str) -> String {
    assert!(original.contains(from), "the test invoice holds {from:?}");
    original.replacen(from, to, 1)
}

/// Applies one mutation to the invoice and returns the single schema finding it causes.
fn single_finding(original: &str, from: &str, to: &str) -> (String, String) {
    let found = findings(&mutated(original, from, to));
    assert_eq!(found.len(), 1, "{to:?} gives {found:?}");
    found.into_iter().next().expect("one finding")
}

const UBL_PARTY: &str = "/ubl:Invoice/cac:AccountingSupplierParty[1]/cac:Party[1]";
const CII_DOCUMENT: &str = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument[1]";
const CII_LINE: &str =
    "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction[1]/ram:IncludedSupplyChainTradeLineItem[1]";

#[test]
fn every_invoice_of_the_kosit_test_suite_is_schema_valid() {
    let suite = testdata().join("xrechnung-testsuite");
    let expected = std::fs::read_to_string(suite.join("EXPECTED.csv")).expect("EXPECTED.csv");
    let files: Vec<&str> = expected.lines().skip(1).filter_map(|line| line.split(',').next()).collect();
    assert_eq!(files.len(), 86);
    for file in files {
        let xml = std::fs::read_to_string(suite.join(file)).expect("invoice");
        assert_eq!(findings(&xml), [] as [(String, String); 0], "{file}");
    }
}

#[test]
fn ubl_structure_mutations_are_found_where_they_are() {
    let ubl = testsuite_invoice("01.01a-INVOICE_ubl.xml");
    let address = "<cbc:StreetName>[Seller address line 1]</cbc:StreetName>\n                <cbc:CityName>[Seller city]</cbc:CityName>";
    let (location, message) = single_finding(
        &ubl,
        address,
        "<cbc:CityName>[Seller city]</cbc:CityName><cbc:StreetName>[Seller address line 1]</cbc:StreetName>",
    );
    assert_eq!(location, format!("{UBL_PARTY}/cac:PostalAddress[1]/cbc:StreetName[1]"));
    assert!(
        message.starts_with("cac:PostalAddress: cbc:StreetName is out of order; expected cbc:PostalZone, "),
        "{message}"
    );

    let endpoint = "<cbc:EndpointID schemeID=\"EM\">seller@email.de</cbc:EndpointID>";
    let (location, message) = single_finding(&ubl, endpoint, &format!("{endpoint}<cbc:Foo>1</cbc:Foo>"));
    assert_eq!(location, format!("{UBL_PARTY}/cbc:Foo[1]"));
    assert!(message.starts_with("cac:Party: cbc:Foo is not allowed here; expected cbc:IndustryClassificationCode, cac:PartyIdentification, cac:PartyName, "), "{message}");

    // PartyTaxSchemeType: cac:TaxScheme is minOccurs=1.
    let tax_scheme = "<cac:TaxScheme>\n                    <cbc:ID>VAT</cbc:ID>\n                </cac:TaxScheme>\n            </cac:PartyTaxScheme>";
    let (location, message) = single_finding(&ubl, tax_scheme, "</cac:PartyTaxScheme>");
    assert_eq!(location, format!("{UBL_PARTY}/cac:PartyTaxScheme[1]"));
    assert_eq!(
        message,
        "cac:PartyTaxScheme: the mandatory element cac:TaxScheme is missing; expected cbc:TaxLevelCode, cbc:ExemptionReasonCode, cbc:ExemptionReason, cac:RegistrationAddress, cac:TaxScheme."
    );

    let issue_date = "<cbc:IssueDate>2016-04-04</cbc:IssueDate>";
    let (location, message) = single_finding(&ubl, issue_date, "");
    assert_eq!(location, "/ubl:Invoice/cbc:InvoiceTypeCode[1]");
    assert_eq!(message, "ubl:Invoice: the mandatory element cbc:IssueDate is missing before cbc:InvoiceTypeCode.");

    let type_code = "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>";
    let swapped = mutated(&mutated(&ubl, issue_date, ""), type_code, &format!("{type_code}{issue_date}"));
    assert_eq!(
        findings(&swapped),
        [(
            "/ubl:Invoice/cbc:InvoiceTypeCode[1]".to_string(),
            "ubl:Invoice: cbc:InvoiceTypeCode is out of order: element cbc:IssueDate must come before it.".to_string()
        )]
    );

    let (location, message) = single_finding(&ubl, type_code, &type_code.repeat(2));
    assert_eq!(location, "/ubl:Invoice/cbc:InvoiceTypeCode[2]");
    assert!(
        message.starts_with("ubl:Invoice: cbc:InvoiceTypeCode occurs more often than allowed; expected cbc:Note, "),
        "{message}"
    );

    let (location, message) = single_finding(&ubl, "<cac:PartyName>", "<cac:PartyName>text");
    assert_eq!(location, format!("{UBL_PARTY}/cac:PartyName[1]"));
    assert_eq!(message, "cac:PartyName: text 'text' is not allowed; this element holds only elements.");
}

#[test]
fn ubl_value_and_attribute_mutations_are_found_where_they_are() {
    let ubl = testsuite_invoice("01.01a-INVOICE_ubl.xml");
    let (location, message) = single_finding(&ubl, "<cbc:IssueDate>2016-04-04<", "<cbc:IssueDate>2016-04-31<");
    assert_eq!(
        (location.as_str(), message.as_str()),
        ("/ubl:Invoice/cbc:IssueDate[1]", "cbc:IssueDate: value '2016-04-31' is not a valid xsd:date.")
    );

    let tax_amount = "<cbc:TaxAmount currencyID=\"EUR\">22.04</cbc:TaxAmount>";
    let (location, message) =
        single_finding(&ubl, tax_amount, "<cbc:TaxAmount currencyID=\"EUR\">22,04</cbc:TaxAmount>");
    assert_eq!(location, "/ubl:Invoice/cac:TaxTotal[1]/cbc:TaxAmount[1]");
    assert_eq!(message, "cbc:TaxAmount: value '22,04' is not a valid xsd:decimal.");

    let (location, message) = single_finding(&ubl, tax_amount, "<cbc:TaxAmount>22.04</cbc:TaxAmount>");
    assert_eq!(location, "/ubl:Invoice/cac:TaxTotal[1]/cbc:TaxAmount[1]");
    assert_eq!(message, "cbc:TaxAmount: the required attribute currencyID is missing.");

    let (location, message) = single_finding(&ubl, "<cbc:ID>123456XX<", "<cbc:ID foo=\"1\">123456XX<");
    assert_eq!(location, "/ubl:Invoice/cbc:ID[1]/@foo");
    assert!(message.starts_with("cbc:ID: attribute foo is not allowed; allowed: schemeAgencyID, "), "{message}");
}

#[test]
fn ubl_extension_content_is_assessed_laxly() {
    let ubl = testsuite_invoice("01.01a-INVOICE_ubl.xml");
    let with_content = |content: &str| {
        let extension = format!(
            "<ext:UBLExtensions xmlns:ext=\"urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2\" \
             xmlns:x=\"urn:x\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><ext:UBLExtension>\
             <ext:ExtensionContent>{content}</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions><cbc:CustomizationID>"
        );
        findings(&mutated(&ubl, "<cbc:CustomizationID>", &extension))
    };
    // An element of a namespace the schema does not know is taken with anything in it.
    assert_eq!(with_content("<x:Anything a=\"1\">t<x:Deep>t</x:Deep></x:Anything>"), [] as [(String, String); 0]);
    assert_eq!(with_content("<x:Note xsi:type=\"cbc:NoteType\">t</x:Note>"), [] as [(String, String); 0]);
    // Elements the schema declares are validated by their declaration, also deeper down.
    const CONTENT: &str = "/ubl:Invoice/ext:UBLExtensions[1]/ext:UBLExtension[1]/ext:ExtensionContent[1]";
    assert_eq!(
        with_content("<x:Anything><cbc:IssueDate>2024-02-30</cbc:IssueDate></x:Anything>"),
        [(
            format!("{CONTENT}/x:Anything[1]/cbc:IssueDate[1]"),
            "cbc:IssueDate: value '2024-02-30' is not a valid xsd:date.".to_string()
        )]
    );
    let found = with_content("<cac:Party><cbc:Foo>1</cbc:Foo></cac:Party>");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, format!("{CONTENT}/cac:Party[1]/cbc:Foo[1]"));
    assert!(
        found[0].1.starts_with("cac:Party: cbc:Foo is not allowed here; expected cbc:MarkCareIndicator, "),
        "{found:?}"
    );
    assert_eq!(
        with_content("<x:Data xsi:type=\"x:Unknown\"/>"),
        [(
            format!("{CONTENT}/x:Data[1]/@type"),
            "{urn:x}Data: attribute xsi:type value 'x:Unknown' does not name a type of the schema.".to_string()
        )]
    );
    let found = with_content("");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, CONTENT);
    assert_eq!(
        found[0].1,
        "ext:ExtensionContent: the mandatory element of another namespace is missing; expected any element of another namespace."
    );
}

#[test]
fn fixed_attribute_values_base64_padding_and_uris_are_checked() {
    // CII's qdt:DocumentCodeType fixes listID to 1001 (compared after token whitespace collapse).
    let cii = testsuite_invoice("01.01a-INVOICE_uncefact.xml");
    let type_code = "<ram:TypeCode>380</ram:TypeCode>";
    let (location, message) = single_finding(&cii, type_code, "<ram:TypeCode listID=\"UNCL1001\">380</ram:TypeCode>");
    assert_eq!(location, format!("{CII_DOCUMENT}/ram:TypeCode[1]/@listID"));
    assert_eq!(message, "ram:TypeCode: attribute listID value 'UNCL1001' is not the fixed value '1001'.");
    let collapsed = mutated(&cii, type_code, "<ram:TypeCode listID=\" 1001 \">380</ram:TypeCode>");
    assert_eq!(findings(&collapsed), [] as [(String, String); 0]);

    // The bits the padding leaves over must be zero (XSD 1.0's base64Binary grammar, Xerces).
    let ubl = testsuite_invoice("01.15a-INVOICE_ubl.xml");
    let (location, message) = single_finding(&ubl, "JSVFT0Y=</cbc:", "JSVFT0Z=</cbc:");
    assert_eq!(
        location,
        "/ubl:Invoice/cac:AdditionalDocumentReference[1]/cac:Attachment[1]/cbc:EmbeddedDocumentBinaryObject[1]"
    );
    assert_eq!(
        message,
        "cbc:EmbeddedDocumentBinaryObject: value 'JVBERi0xLjUNCiW1tbW1DQoxIDAgb2JqDQo8PC9U…' is not a valid xsd:base64Binary."
    );

    let ubl = testsuite_invoice("01.01a-INVOICE_ubl.xml");
    let (location, message) = single_finding(&ubl, "<cbc:ID>123456XX<", "<cbc:ID schemeURI=\"urn:x:50%\">123456XX<");
    assert_eq!(location, "/ubl:Invoice/cbc:ID[1]/@schemeURI");
    assert_eq!(message, "cbc:ID: attribute schemeURI value 'urn:x:50%' is not a valid xsd:anyURI.");
}

#[test]
fn cii_mutations_are_found_where_they_are() {
    let cii = testsuite_invoice("01.01a-INVOICE_uncefact.xml");
    let id_and_type = "<ram:ID>123456XX</ram:ID>\n        <ram:TypeCode>380</ram:TypeCode>";
    let (location, message) =
        single_finding(&cii, id_and_type, "<ram:TypeCode>380</ram:TypeCode><ram:ID>123456XX</ram:ID>");
    assert_eq!(location, format!("{CII_DOCUMENT}/ram:TypeCode[1]"));
    assert_eq!(message, "rsm:ExchangedDocument: ram:TypeCode is out of order: element ram:ID must come before it.");

    let seller_id = "<ram:SellerAssignedID>246</ram:SellerAssignedID>";
    let (location, message) = single_finding(&cii, seller_id, &format!("{seller_id}<ram:Foo/>"));
    assert_eq!(location, format!("{CII_LINE}/ram:SpecifiedTradeProduct[1]/ram:Foo[1]"));
    assert!(
        message.starts_with("ram:SpecifiedTradeProduct: ram:Foo is not allowed here; expected ram:BuyerAssignedID, "),
        "{message}"
    );

    // udt:DateTimeType is a mandatory choice of DateTimeString and DateTime.
    let issue_date = "<udt:DateTimeString format=\"102\">20160404</udt:DateTimeString>";
    let (location, message) = single_finding(&cii, issue_date, "");
    assert_eq!(location, format!("{CII_DOCUMENT}/ram:IssueDateTime[1]"));
    assert_eq!(
        message,
        "ram:IssueDateTime: the mandatory element udt:DateTimeString or udt:DateTime is missing; expected udt:DateTimeString, udt:DateTime."
    );

    let type_code = "<ram:TypeCode>380</ram:TypeCode>";
    let (location, message) = single_finding(&cii, type_code, &type_code.repeat(2));
    assert_eq!(location, format!("{CII_DOCUMENT}/ram:TypeCode[2]"));
    assert_eq!(
        message,
        "rsm:ExchangedDocument: ram:TypeCode occurs more often than allowed; expected ram:IssueDateTime."
    );

    let (location, message) = single_finding(&cii, issue_date, "<udt:DateTime>2016-02-30T12:00:00</udt:DateTime>");
    assert_eq!(location, format!("{CII_DOCUMENT}/ram:IssueDateTime[1]/udt:DateTime[1]"));
    assert_eq!(message, "udt:DateTime: value '2016-02-30T12:00:00' is not a valid xsd:dateTime.");

    let (location, message) = single_finding(&cii, "<ram:ChargeAmount>288.79<", "<ram:ChargeAmount>288,79<");
    assert_eq!(
        location,
        format!("{CII_LINE}/ram:SpecifiedLineTradeAgreement[1]/ram:NetPriceProductTradePrice[1]/ram:ChargeAmount[1]")
    );
    assert_eq!(message, "ram:ChargeAmount: value '288,79' is not a valid xsd:decimal.");

    // CII D16B declares no required attribute; an undeclared one is refused.
    let quantity = "<ram:BilledQuantity unitCode=\"XPP\">";
    let (location, message) = single_finding(&cii, quantity, "<ram:BilledQuantity unitCode=\"XPP\" foo=\"1\">");
    assert_eq!(location, format!("{CII_LINE}/ram:SpecifiedLineTradeDelivery[1]/ram:BilledQuantity[1]/@foo"));
    assert_eq!(
        message,
        "ram:BilledQuantity: attribute foo is not allowed; allowed: unitCode, unitCodeListAgencyID, unitCodeListAgencyName, unitCodeListID."
    );

    let (location, message) = single_finding(&cii, "<ram:SpecifiedTradeProduct>", "<ram:SpecifiedTradeProduct>text");
    assert_eq!(location, format!("{CII_LINE}/ram:SpecifiedTradeProduct[1]"));
    assert_eq!(message, "ram:SpecifiedTradeProduct: text 'text' is not allowed; this element holds only elements.");
}

#[test]
fn an_element_holding_a_value_must_not_hold_elements() {
    let cii = testsuite_invoice("01.01a-INVOICE_uncefact.xml");
    let (location, message) = single_finding(&cii, "<ram:ChargeAmount>288.79<", "<ram:ChargeAmount><ram:X/>288.79<");
    assert!(location.ends_with("/ram:ChargeAmount[1]/ram:X[1]"), "{location}");
    assert_eq!(message, "ram:ChargeAmount: element ram:X is not allowed; this element holds a value.");
}

#[test]
fn of_the_xsi_attributes_only_the_schema_hints_and_the_own_type_are_free() {
    let cii = testsuite_invoice("01.01a-INVOICE_uncefact.xml");
    let amount = "<ram:ChargeAmount>288.79<";
    let with_xsi = |attributes: &str| {
        let xsi =
            format!("<ram:ChargeAmount xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" {attributes}>288.79<");
        findings(&mutated(&cii, amount, &xsi))
    };
    let free = [
        "xsi:schemaLocation=\"urn:x x.xsd\" xsi:noNamespaceSchemaLocation=\"x.xsd\"",
        "xsi:type=\"udt:AmountType\"",
        "xsi:type=\" udt:AmountType \"",
        "xmlns:u=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\" xsi:type=\"u:AmountType\"",
    ];
    for attributes in free {
        assert_eq!(with_xsi(attributes), [] as [(String, String); 0], "{attributes}");
    }
    let location =
        format!("{}/ram:SpecifiedLineTradeAgreement[1]/ram:NetPriceProductTradePrice[1]/ram:ChargeAmount[1]", CII_LINE);
    let refused = [
        ("xsi:type=\"x\"", "@type", "attribute xsi:type value 'x' does not name the element's type udt:AmountType."),
        (
            "xsi:type=\"udt:TextType\"",
            "@type",
            "attribute xsi:type value 'udt:TextType' does not name the element's type udt:AmountType.",
        ),
        ("xsi:nil=\"false\"", "@nil", "attribute xsi:nil is not allowed; the element is not nillable."),
        ("xsi:foo=\"1\"", "@foo", "attribute xsi:foo is not allowed; allowed: currencyCodeListVersionID, currencyID."),
    ];
    for (attributes, attribute, message) in refused {
        assert_eq!(
            with_xsi(attributes),
            [(format!("{location}/{attribute}"), format!("ram:ChargeAmount: {message}"))],
            "{attributes}"
        );
    }
}

#[test]
fn a_root_the_schema_does_not_declare_is_reported() {
    let xml = "<CrossIndustryInvoice xmlns=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\"/>";
    let (doc, _) = einvoice::reader::parse(xml).expect("parses");
    let found: Vec<String> = check(&doc, Syntax::UblInvoice).into_iter().map(|f| f.message).collect();
    let name = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice";
    assert_eq!(found, [format!("{name} is not a root element the schema declares.")]);
}

#[test]
fn a_schema_invalid_invoice_is_reported_by_its_schema_findings_alone_as_kosit_does() {
    use einvoice::validate::{Options, validate_with};
    // An unknown element (a schema error) and a missing buyer reference (BR-DE-15).
    let xml = mutated(&testsuite_invoice("01.01a-INVOICE_ubl.xml"), "<cbc:IssueDate>", "<cbc:Foo/><cbc:IssueDate>");
    let start = xml.find("<cbc:BuyerReference>").expect("a buyer reference");
    let end = xml.find("</cbc:BuyerReference>").expect("its end") + "</cbc:BuyerReference>".len();
    let xml = format!("{}{}", &xml[..start], &xml[end..]);
    let rules = |schema: bool| -> Vec<&str> {
        let report = validate_with(xml.as_bytes(), Options { schema, ..Options::default() });
        assert_eq!(report.verdict, einvoice::Verdict::Reject);
        report.findings.iter().map(|f| f.rule).collect()
    };
    // KoSIT skips the schematrons when the schema validation failed.
    assert_eq!(rules(true), [einvoice::schema::SCHEMA_RULE]);
    assert!(rules(false).contains(&"BR-DE-15"));
}
