//! The schema step, as far as it goes without an XSD engine: the structure the UBL 2.1 and
//! CII D16B schemas require of a document.
//!
//! Checked: the root's children — only elements the schema declares there, in the schema's
//! order, each within its cardinality, the mandatory ones present; below the root, every
//! element is in a namespace of its syntax (UBL `cac`/`cbc`, CII `ram`; anything inside UBL
//! extensions is free, as the schema's `xsd:any` says), and basic components (`cbc`) have no
//! element children. Not checked: content models below the root level, data types and
//! attributes — the CEN data-type and syntax rules (UBL-DT, UBL-SR, CII-DT, CII-SR) cover much of
//! that.

use crate::reader::{Syntax, ns};
use crate::rules::{Finding, Flag, location};
use crate::xpath::XNode;

/// The rule id schema findings carry.
pub const SCHEMA_RULE: &str = "SCHEMA";

/// Cardinality of a root child: optional, exactly one, any number, at least one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurs {
    Optional,
    One,
    Many,
    OneOrMore,
}

use Occurs::{Many as N, One as R, OneOrMore as P, Optional as O};

/// `UBL-Invoice-2.1.xsd`, `InvoiceType`: the root's children in order.
const UBL_INVOICE: &[(&str, &str, Occurs)] = &[
    (ns::EXT, "UBLExtensions", O),
    (ns::CBC, "UBLVersionID", O),
    (ns::CBC, "CustomizationID", O),
    (ns::CBC, "ProfileID", O),
    (ns::CBC, "ProfileExecutionID", O),
    (ns::CBC, "ID", R),
    (ns::CBC, "CopyIndicator", O),
    (ns::CBC, "UUID", O),
    (ns::CBC, "IssueDate", R),
    (ns::CBC, "IssueTime", O),
    (ns::CBC, "DueDate", O),
    (ns::CBC, "InvoiceTypeCode", O),
    (ns::CBC, "Note", N),
    (ns::CBC, "TaxPointDate", O),
    (ns::CBC, "DocumentCurrencyCode", O),
    (ns::CBC, "TaxCurrencyCode", O),
    (ns::CBC, "PricingCurrencyCode", O),
    (ns::CBC, "PaymentCurrencyCode", O),
    (ns::CBC, "PaymentAlternativeCurrencyCode", O),
    (ns::CBC, "AccountingCostCode", O),
    (ns::CBC, "AccountingCost", O),
    (ns::CBC, "LineCountNumeric", O),
    (ns::CBC, "BuyerReference", O),
    (ns::CAC, "InvoicePeriod", N),
    (ns::CAC, "OrderReference", O),
    (ns::CAC, "BillingReference", N),
    (ns::CAC, "DespatchDocumentReference", N),
    (ns::CAC, "ReceiptDocumentReference", N),
    (ns::CAC, "StatementDocumentReference", N),
    (ns::CAC, "OriginatorDocumentReference", N),
    (ns::CAC, "ContractDocumentReference", N),
    (ns::CAC, "AdditionalDocumentReference", N),
    (ns::CAC, "ProjectReference", N),
    (ns::CAC, "Signature", N),
    (ns::CAC, "AccountingSupplierParty", R),
    (ns::CAC, "AccountingCustomerParty", R),
    (ns::CAC, "PayeeParty", O),
    (ns::CAC, "BuyerCustomerParty", O),
    (ns::CAC, "SellerSupplierParty", O),
    (ns::CAC, "TaxRepresentativeParty", O),
    (ns::CAC, "Delivery", N),
    (ns::CAC, "DeliveryTerms", O),
    (ns::CAC, "PaymentMeans", N),
    (ns::CAC, "PaymentTerms", N),
    (ns::CAC, "PrepaidPayment", N),
    (ns::CAC, "AllowanceCharge", N),
    (ns::CAC, "TaxExchangeRate", O),
    (ns::CAC, "PricingExchangeRate", O),
    (ns::CAC, "PaymentExchangeRate", O),
    (ns::CAC, "PaymentAlternativeExchangeRate", O),
    (ns::CAC, "TaxTotal", N),
    (ns::CAC, "WithholdingTaxTotal", N),
    (ns::CAC, "LegalMonetaryTotal", R),
    (ns::CAC, "InvoiceLine", P),
];

/// `UBL-CreditNote-2.1.xsd`, `CreditNoteType`: the root's children in order.
const UBL_CREDIT_NOTE: &[(&str, &str, Occurs)] = &[
    (ns::EXT, "UBLExtensions", O),
    (ns::CBC, "UBLVersionID", O),
    (ns::CBC, "CustomizationID", O),
    (ns::CBC, "ProfileID", O),
    (ns::CBC, "ProfileExecutionID", O),
    (ns::CBC, "ID", R),
    (ns::CBC, "CopyIndicator", O),
    (ns::CBC, "UUID", O),
    (ns::CBC, "IssueDate", R),
    (ns::CBC, "IssueTime", O),
    (ns::CBC, "TaxPointDate", O),
    (ns::CBC, "CreditNoteTypeCode", O),
    (ns::CBC, "Note", N),
    (ns::CBC, "DocumentCurrencyCode", O),
    (ns::CBC, "TaxCurrencyCode", O),
    (ns::CBC, "PricingCurrencyCode", O),
    (ns::CBC, "PaymentCurrencyCode", O),
    (ns::CBC, "PaymentAlternativeCurrencyCode", O),
    (ns::CBC, "AccountingCostCode", O),
    (ns::CBC, "AccountingCost", O),
    (ns::CBC, "LineCountNumeric", O),
    (ns::CBC, "BuyerReference", O),
    (ns::CAC, "InvoicePeriod", N),
    (ns::CAC, "DiscrepancyResponse", N),
    (ns::CAC, "OrderReference", O),
    (ns::CAC, "BillingReference", N),
    (ns::CAC, "DespatchDocumentReference", N),
    (ns::CAC, "ReceiptDocumentReference", N),
    (ns::CAC, "ContractDocumentReference", N),
    (ns::CAC, "AdditionalDocumentReference", N),
    (ns::CAC, "StatementDocumentReference", N),
    (ns::CAC, "OriginatorDocumentReference", N),
    (ns::CAC, "Signature", N),
    (ns::CAC, "AccountingSupplierParty", R),
    (ns::CAC, "AccountingCustomerParty", R),
    (ns::CAC, "PayeeParty", O),
    (ns::CAC, "BuyerCustomerParty", O),
    (ns::CAC, "SellerSupplierParty", O),
    (ns::CAC, "TaxRepresentativeParty", O),
    (ns::CAC, "Delivery", N),
    (ns::CAC, "DeliveryTerms", N),
    (ns::CAC, "PaymentMeans", N),
    (ns::CAC, "PaymentTerms", N),
    (ns::CAC, "TaxExchangeRate", O),
    (ns::CAC, "PricingExchangeRate", O),
    (ns::CAC, "PaymentExchangeRate", O),
    (ns::CAC, "PaymentAlternativeExchangeRate", O),
    (ns::CAC, "AllowanceCharge", N),
    (ns::CAC, "TaxTotal", N),
    (ns::CAC, "LegalMonetaryTotal", R),
    (ns::CAC, "CreditNoteLine", P),
];

/// `CrossIndustryInvoice_100pD16B.xsd`, `CrossIndustryInvoiceType`.
const CII: &[(&str, &str, Occurs)] = &[
    (ns::CII, "ExchangedDocumentContext", R),
    (ns::CII, "ExchangedDocument", R),
    (ns::CII, "SupplyChainTradeTransaction", R),
    (ns::CII, "ValuationBreakdownStatement", O),
];

fn content_model(syntax: Syntax) -> &'static [(&'static str, &'static str, Occurs)] {
    match syntax {
        Syntax::UblInvoice => UBL_INVOICE,
        Syntax::UblCreditNote => UBL_CREDIT_NOTE,
        Syntax::Cii => CII,
    }
}

fn error(node: roxmltree::Node<'_, '_>, message: String) -> Finding {
    Finding { rule: SCHEMA_RULE, severity: Flag::Fatal, message, location: location(XNode::new(node)) }
}

fn prefixed(namespace: &str, local: &str) -> String {
    let prefix = match namespace {
        ns::CBC => "cbc:",
        ns::CAC => "cac:",
        ns::EXT => "ext:",
        ns::CII => "rsm:",
        ns::RAM => "ram:",
        _ => "",
    };
    format!("{prefix}{local}")
}

/// Checks the document's structure against its syntax's schema (see the module comment).
pub fn check(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Vec<Finding> {
    let root = doc.root_element();
    let mut findings = check_root_children(root, content_model(syntax));
    check_below_root(root, syntax, &mut findings);
    findings
}

fn check_root_children(root: roxmltree::Node<'_, '_>, model: &[(&str, &str, Occurs)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut counts = vec![0usize; model.len()];
    let mut at = 0;
    for child in root.children().filter(roxmltree::Node::is_element) {
        let name = child.tag_name();
        let (namespace, local) = (name.namespace().unwrap_or(""), name.name());
        let Some(index) = model.iter().position(|(n, l, _)| *n == namespace && *l == local) else {
            findings.push(error(child, format!("Element {} is not allowed here.", prefixed(namespace, local))));
            continue;
        };
        if index < at {
            findings.push(error(
                child,
                format!(
                    "Element {} is out of order: it must come before {}.",
                    prefixed(namespace, local),
                    prefixed(model[at].0, model[at].1)
                ),
            ));
        }
        at = at.max(index);
        counts[index] += 1;
        if counts[index] == 2 && matches!(model[index].2, O | R) {
            findings.push(error(child, format!("Element {} may occur only once.", prefixed(namespace, local))));
        }
    }
    for ((namespace, local, occurs), count) in model.iter().zip(counts) {
        if count == 0 && matches!(occurs, R | P) {
            findings.push(error(root, format!("The mandatory element {} is missing.", prefixed(namespace, local))));
        }
    }
    findings
}

fn check_below_root(root: roxmltree::Node<'_, '_>, syntax: Syntax, findings: &mut Vec<Finding>) {
    let mut stack: Vec<roxmltree::Node<'_, '_>> = root.children().filter(roxmltree::Node::is_element).collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let namespace = node.tag_name().namespace().unwrap_or("");
        if syntax.is_ubl() && namespace == ns::EXT {
            continue; // ext:UBLExtensions: the schema allows any content.
        }
        let is_root_child = node.parent() == Some(root);
        let allowed = match syntax {
            Syntax::Cii if is_root_child => namespace == ns::CII,
            Syntax::Cii => namespace == ns::RAM,
            _ => namespace == ns::CAC || namespace == ns::CBC,
        };
        if !allowed && !is_root_child {
            findings.push(error(
                node,
                format!(
                    "Element {} is in a namespace the schema does not allow here ({namespace}).",
                    node.tag_name().name()
                ),
            ));
            continue;
        }
        let children: Vec<_> = node.children().filter(roxmltree::Node::is_element).collect();
        if namespace == ns::CBC && !children.is_empty() {
            findings
                .push(error(node, format!("Element cbc:{} must hold a value, not elements.", node.tag_name().name())));
            continue;
        }
        let leaf_types = [ns::UDT, ns::QDT];
        stack.extend(
            children.into_iter().rev().filter(|c| !leaf_types.contains(&c.tag_name().namespace().unwrap_or(""))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(xml: &str) -> Vec<String> {
        let (doc, syntax) = crate::reader::parse(xml).expect("parses");
        check(&doc, syntax).into_iter().map(|f| f.message).collect()
    }

    const HEAD: &str = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
        xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
        xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">"#;

    #[test]
    fn order_cardinality_and_mandatory_elements_are_checked() {
        let xml = format!(
            "{HEAD}<cbc:IssueDate>2024-01-01</cbc:IssueDate><cbc:ID>1</cbc:ID><cbc:ID>2</cbc:ID>\
             <cac:Foo/><cac:AccountingSupplierParty/><cac:AccountingCustomerParty/>\
             <cac:LegalMonetaryTotal/></Invoice>"
        );
        let messages = findings(&xml);
        assert_eq!(
            messages,
            [
                "Element cbc:ID is out of order: it must come before cbc:IssueDate.",
                "Element cbc:ID is out of order: it must come before cbc:IssueDate.",
                "Element cbc:ID may occur only once.",
                "Element cac:Foo is not allowed here.",
                "The mandatory element cac:InvoiceLine is missing.",
            ]
        );
    }

    #[test]
    fn namespaces_and_simple_content_below_the_root_are_checked() {
        let xml = format!(
            "{HEAD}<cbc:ID>1</cbc:ID><cbc:IssueDate>2024-01-01</cbc:IssueDate>\
             <cac:AccountingSupplierParty><x:Party xmlns:x=\"urn:x\"/></cac:AccountingSupplierParty>\
             <cac:AccountingCustomerParty/><cac:LegalMonetaryTotal/>\
             <cac:InvoiceLine><cbc:ID><cbc:Nested/></cbc:ID></cac:InvoiceLine></Invoice>"
        );
        let messages = findings(&xml);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("Party is in a namespace"));
        assert!(messages[1].contains("cbc:ID must hold a value"));
    }
}
