//! The UBL 2.1 binding of EN 16931 (EN 16931-3-2) to the model, for both roots: `ubl:Invoice`
//! and `cn:CreditNote` (which has `cac:CreditNoteLine`, `cbc:CreditedQuantity`,
//! `cbc:CreditNoteTypeCode`, no `cbc:DueDate` and no `cac:ProjectReference`).

use super::*;

const fn cbc(name: &str) -> Step<'_> {
    (ns::CBC, name)
}

const fn cac(name: &str) -> Step<'_> {
    (ns::CAC, name)
}

/// The first `cac:{name}` child of `parent` whose `cbc:DocumentTypeCode` is `code` (BT-11 in a
/// credit note, BT-18, BT-128).
fn typed_reference<'a, 'i>(parent: Node<'a, 'i>, name: &str, code: &str) -> Option<Node<'a, 'i>> {
    find_all(parent, &[cac(name)]).into_iter().find(|r| document_type(*r).as_deref() == Some(code))
}

/// `cbc:DocumentTypeCode` of a document reference.
fn document_type(reference: Node<'_, '_>) -> Option<String> {
    text(find(reference, &[cbc("DocumentTypeCode")]))
}

pub(super) fn invoice(root: Node<'_, '_>) -> Invoice {
    let get = |path: &[Step<'_>]| text(find(root, path));
    let credit_note = root.has_tag_name((ns::UBL_CREDIT_NOTE, "CreditNote"));
    let currency = get(&[cbc("DocumentCurrencyCode")]);
    let tax_currency = get(&[cbc("TaxCurrencyCode")]);
    let (allowances, charges) = allowances_and_charges(root, Level::Document);
    let totals = totals(root, currency.as_deref(), tax_currency.as_deref());
    let vat_breakdown = vat_breakdown(root, currency.as_deref());
    Invoice {
        number: get(&[cbc("ID")]),
        issue_date: get(&[cbc("IssueDate")]),
        type_code: get(&[cbc("InvoiceTypeCode")]).or_else(|| get(&[cbc("CreditNoteTypeCode")])),
        currency,
        tax_currency,
        tax_point_date: get(&[cbc("TaxPointDate")]),
        // UBL already writes UNTDID 2005 codes.
        tax_point_date_code: get(&[cac("InvoicePeriod"), cbc("DescriptionCode")]),
        // A credit note has no cbc:DueDate; its due date sits in the payment means.
        due_date: get(&[cbc("DueDate")]).or_else(|| get(&[cac("PaymentMeans"), cbc("PaymentDueDate")])),
        buyer_reference: get(&[cbc("BuyerReference")]),
        project_reference: if credit_note {
            typed_reference(root, "AdditionalDocumentReference", "50").and_then(|r| text(find(r, &[cbc("ID")])))
        } else {
            get(&[cac("ProjectReference"), cbc("ID")])
        },
        contract_reference: get(&[cac("ContractDocumentReference"), cbc("ID")]),
        order_reference: get(&[cac("OrderReference"), cbc("ID")]),
        sales_order_reference: get(&[cac("OrderReference"), cbc("SalesOrderID")]),
        receiving_advice_reference: get(&[cac("ReceiptDocumentReference"), cbc("ID")]),
        despatch_advice_reference: get(&[cac("DespatchDocumentReference"), cbc("ID")]),
        tender_reference: get(&[cac("OriginatorDocumentReference"), cbc("ID")]),
        invoiced_object: typed_reference(root, "AdditionalDocumentReference", "130")
            .and_then(|r| identifier(find(r, &[cbc("ID")]))),
        buyer_accounting_reference: get(&[cbc("AccountingCost")]),
        payment_terms: get(&[cac("PaymentTerms"), cbc("Note")]),
        notes: find_all(root, &[cbc("Note")]).into_iter().filter_map(note).collect(),
        business_process: get(&[cbc("ProfileID")]),
        specification: get(&[cbc("CustomizationID")]),
        preceding_invoices: find_all(root, &[cac("BillingReference"), cac("InvoiceDocumentReference")])
            .into_iter()
            .map(preceding_invoice)
            .collect(),
        seller: seller(find(root, &[cac("AccountingSupplierParty"), cac("Party")])),
        buyer: buyer(find(root, &[cac("AccountingCustomerParty"), cac("Party")])),
        payee: find(root, &[cac("PayeeParty")]).map(payee),
        tax_representative: find(root, &[cac("TaxRepresentativeParty")]).map(tax_representative),
        delivery: delivery(find(root, &[cac("Delivery")])),
        period: period(find(root, &[cac("InvoicePeriod")])),
        payment_means: payment_means(root),
        allowances,
        charges,
        totals,
        vat_breakdown,
        documents: supporting_documents(root).into_iter().map(supporting_document).collect(),
        // Only direct children: a cac:SubInvoiceLine (XRechnung's extension) is in its line.
        lines: root
            .children()
            .filter(|c| c.has_tag_name(cac("InvoiceLine")) || c.has_tag_name(cac("CreditNoteLine")))
            .map(line)
            .collect(),
    }
}

/// BG-1 from a `cbc:Note`. EN 16931 UBL writes the subject code (BT-21) as a `#CODE#` prefix of
/// the text; like BR-CL-08, a code is the three characters between the first two `#`.
fn note(node: Node<'_, '_>) -> Option<Note> {
    let value = text(Some(node))?;
    let prefixed = value
        .strip_prefix('#')
        .and_then(|rest| rest.split_once('#'))
        .filter(|(code, _)| code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphanumeric()));
    Some(match prefixed {
        Some((code, rest)) => Note { subject: Some(code.to_string()), text: rest.trim().to_string() },
        None => Note { subject: None, text: value },
    })
}

/// BG-3 from a `cac:BillingReference/cac:InvoiceDocumentReference`.
fn preceding_invoice(reference: Node<'_, '_>) -> PrecedingInvoice {
    PrecedingInvoice {
        number: text(find(reference, &[cbc("ID")])).unwrap_or_default(),
        issue_date: text(find(reference, &[cbc("IssueDate")])),
    }
}

/// BG-4 Seller from its `cac:Party`.
fn seller(party: Option<Node<'_, '_>>) -> Party {
    let Some(party) = party else { return Party::default() };
    let endpoint = find(party, &[cbc("EndpointID")]);
    let legal_entity = find(party, &[cac("PartyLegalEntity")]);
    Party {
        name: text(at(legal_entity, &[cbc("RegistrationName")])),
        trading_name: text(find(party, &[cac("PartyName"), cbc("Name")])),
        identifiers: identifiers(party),
        legal_registration: identifier(at(legal_entity, &[cbc("CompanyID")])),
        vat_id: tax_scheme_company_id(party, true),
        tax_registration: tax_scheme_company_id(party, false),
        legal_information: text(at(legal_entity, &[cbc("CompanyLegalForm")])),
        electronic_address: text(endpoint).map(|id| (attribute(endpoint, "schemeID").unwrap_or_default(), id)),
        address: address(find(party, &[cac("PostalAddress")])),
        contact: contact(find(party, &[cac("Contact")])),
    }
}

/// BG-7 Buyer: the seller's terms but the tax registration (BT-32) and the additional legal
/// information (BT-33), which EN 16931 gives the seller only.
fn buyer(party: Option<Node<'_, '_>>) -> Party {
    Party { tax_registration: None, legal_information: None, ..seller(party) }
}

/// BG-10 Payee.
fn payee(party: Node<'_, '_>) -> Party {
    Party {
        name: text(find(party, &[cac("PartyName"), cbc("Name")])),
        identifiers: identifiers(party),
        legal_registration: identifier(find(party, &[cac("PartyLegalEntity"), cbc("CompanyID")])),
        // EN 16931 gives the payee nothing else: no trading name, tax identifiers, electronic
        // address, postal address or contact.
        ..Default::default()
    }
}

/// BG-11 Seller tax representative party.
fn tax_representative(party: Node<'_, '_>) -> Party {
    Party {
        name: text(find(party, &[cac("PartyName"), cbc("Name")])),
        vat_id: tax_scheme_company_id(party, true),
        address: address(find(party, &[cac("PostalAddress")])),
        // EN 16931 gives the tax representative nothing else: no identifiers, registrations,
        // electronic address or contact.
        ..Default::default()
    }
}

/// `cbc:ID` of a party identification with scheme `SEPA`: the bank assigned creditor identifier
/// (the CEN rules compare the scheme case-insensitively, UBL-SR-29).
fn is_creditor_id(id: &Node<'_, '_>) -> bool {
    id.attribute("schemeID").is_some_and(|scheme| scheme.trim().eq_ignore_ascii_case("SEPA"))
}

/// BT-29 / BT-46 / BT-60: every `cac:PartyIdentification/cbc:ID` with its scheme, except the
/// creditor identifier (scheme `SEPA`), which is BT-90 (as in BR-CO-26 of the CEN rules).
fn identifiers(party: Node<'_, '_>) -> Vec<Identifier> {
    find_all(party, &[cac("PartyIdentification"), cbc("ID")])
        .into_iter()
        .filter(|id| !is_creditor_id(id))
        .filter_map(|id| identifier(Some(id)))
        .collect()
}

/// The `cbc:CompanyID` of the party's `cac:PartyTaxScheme` for VAT (`vat`: BT-31 / BT-48 /
/// BT-63) or for another tax (not `vat`: BT-32). Like the CEN rules, `VAT` in any case.
fn tax_scheme_company_id(party: Node<'_, '_>, vat: bool) -> Option<String> {
    let is_vat = |scheme: String| scheme.eq_ignore_ascii_case("VAT");
    find_all(party, &[cac("PartyTaxScheme")])
        .into_iter()
        .filter(|s| text(find(*s, &[cac("TaxScheme"), cbc("ID")])).is_some_and(|scheme| is_vat(scheme) == vat))
        .find_map(|s| text(find(s, &[cbc("CompanyID")])))
}

/// BG-5 / BG-8 / BG-12 / BG-15 from a `cac:PostalAddress` or `cac:Address`.
fn address(node: Option<Node<'_, '_>>) -> Address {
    Address {
        line1: text(at(node, &[cbc("StreetName")])),
        line2: text(at(node, &[cbc("AdditionalStreetName")])),
        line3: text(at(node, &[cac("AddressLine"), cbc("Line")])),
        city: text(at(node, &[cbc("CityName")])),
        post_code: text(at(node, &[cbc("PostalZone")])),
        subdivision: text(at(node, &[cbc("CountrySubentity")])),
        country: text(at(node, &[cac("Country"), cbc("IdentificationCode")])),
    }
}

/// BG-6 / BG-9 from a `cac:Contact`.
fn contact(node: Option<Node<'_, '_>>) -> Contact {
    Contact {
        name: text(at(node, &[cbc("Name")])),
        telephone: text(at(node, &[cbc("Telephone")])),
        email: text(at(node, &[cbc("ElectronicMail")])),
    }
}

/// BG-13 from `cac:Delivery`.
fn delivery(node: Option<Node<'_, '_>>) -> Delivery {
    Delivery {
        party_name: text(at(node, &[cac("DeliveryParty"), cac("PartyName"), cbc("Name")])),
        location: identifier(at(node, &[cac("DeliveryLocation"), cbc("ID")])),
        date: text(at(node, &[cbc("ActualDeliveryDate")])),
        address: address(at(node, &[cac("DeliveryLocation"), cac("Address")])),
    }
}

/// BG-14 / BG-26 from a `cac:InvoicePeriod`.
fn period(node: Option<Node<'_, '_>>) -> Period {
    Period { start: text(at(node, &[cbc("StartDate")])), end: text(at(node, &[cbc("EndDate")])) }
}

/// BG-16, one per `cac:PaymentMeans`.
fn payment_means(root: Node<'_, '_>) -> Vec<PaymentMeans> {
    let creditor_id = creditor_id(root);
    find_all(root, &[cac("PaymentMeans")])
        .into_iter()
        .map(|means| {
            let get = |path: &[Step<'_>]| text(find(means, path));
            let code = find(means, &[cbc("PaymentMeansCode")]);
            PaymentMeans {
                code: text(code),
                text: attribute(code, "name"),
                remittance: get(&[cbc("PaymentID")]),
                account: get(&[cac("PayeeFinancialAccount"), cbc("ID")]),
                account_name: get(&[cac("PayeeFinancialAccount"), cbc("Name")]),
                provider: get(&[cac("PayeeFinancialAccount"), cac("FinancialInstitutionBranch"), cbc("ID")]),
                card_number: get(&[cac("CardAccount"), cbc("PrimaryAccountNumberID")]),
                card_holder: get(&[cac("CardAccount"), cbc("HolderName")]),
                mandate: get(&[cac("PaymentMandate"), cbc("ID")]),
                creditor_id: creditor_id.clone(),
                debited_account: get(&[cac("PaymentMandate"), cac("PayerFinancialAccount"), cbc("ID")]),
            }
        })
        .collect()
}

/// BT-90: UBL keeps the creditor identifier at document level, as the seller's (or else the
/// payee's) `cac:PartyIdentification/cbc:ID` with scheme `SEPA`.
fn creditor_id(root: Node<'_, '_>) -> Option<String> {
    let parties = [find(root, &[cac("AccountingSupplierParty"), cac("Party")]), find(root, &[cac("PayeeParty")])];
    parties.into_iter().flatten().find_map(|party| {
        find_all(party, &[cac("PartyIdentification"), cbc("ID")])
            .into_iter()
            .filter(is_creditor_id)
            .find_map(|id| text(Some(id)))
    })
}

/// `cbc:ChargeIndicator`: `true` a charge, `false` an allowance (`xs:boolean`).
fn is_charge(node: Node<'_, '_>) -> Option<bool> {
    match text(find(node, &[cbc("ChargeIndicator")])).as_deref() {
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        _ => None,
    }
}

/// BG-20 / BG-21 (document) or BG-27 / BG-28 (line) from the `cac:AllowanceCharge` children of
/// `parent`, as (allowances, charges).
fn allowances_and_charges(parent: Node<'_, '_>, level: Level) -> (Vec<AllowanceCharge>, Vec<AllowanceCharge>) {
    let (mut allowances, mut charges) = (Vec::new(), Vec::new());
    for node in find_all(parent, &[cac("AllowanceCharge")]) {
        match is_charge(node) {
            Some(true) => charges.push(allowance_charge(node, level)),
            Some(false) => allowances.push(allowance_charge(node, level)),
            None => {}
        }
    }
    (allowances, charges)
}

/// One `cac:AllowanceCharge`.
fn allowance_charge(node: Node<'_, '_>, level: Level) -> AllowanceCharge {
    let category = find(node, &[cac("TaxCategory")]).filter(|_| level == Level::Document);
    AllowanceCharge {
        amount: amount(find(node, &[cbc("Amount")])),
        base: amount(find(node, &[cbc("BaseAmount")])),
        percent: amount(find(node, &[cbc("MultiplierFactorNumeric")])),
        vat_category: text(at(category, &[cbc("ID")])),
        vat_rate: amount(at(category, &[cbc("Percent")])),
        reason: text(find(node, &[cbc("AllowanceChargeReason")])),
        reason_code: text(find(node, &[cbc("AllowanceChargeReasonCode")])),
    }
}

/// The `cac:TaxTotal` whose `cbc:TaxAmount` is in `currency`.
fn tax_total<'a, 'i>(root: Node<'a, 'i>, currency: Option<&str>) -> Option<Node<'a, 'i>> {
    let currency = currency?;
    find_all(root, &[cac("TaxTotal")])
        .into_iter()
        .find(|total| attribute(find(*total, &[cbc("TaxAmount")]), "currencyID").as_deref() == Some(currency))
}

/// BG-22. BT-110 is the tax total in the invoice currency (BT-5), BT-111 the one in the VAT
/// accounting currency (BT-6) when that currency is another one.
fn totals(root: Node<'_, '_>, currency: Option<&str>, tax_currency: Option<&str>) -> Totals {
    let monetary = find(root, &[cac("LegalMonetaryTotal")]);
    let total = |name: &str| amount(at(monetary, &[cbc(name)]));
    let accounting_currency = tax_currency.filter(|c| Some(*c) != currency);
    Totals {
        line_net: total("LineExtensionAmount"),
        allowances: total("AllowanceTotalAmount"),
        charges: total("ChargeTotalAmount"),
        without_vat: total("TaxExclusiveAmount"),
        vat: amount(at(tax_total(root, currency), &[cbc("TaxAmount")])),
        vat_in_tax_currency: amount(at(tax_total(root, accounting_currency), &[cbc("TaxAmount")])),
        with_vat: total("TaxInclusiveAmount"),
        paid: total("PrepaidAmount"),
        rounding: total("PayableRoundingAmount"),
        due: total("PayableAmount"),
    }
}

/// BG-23, from the subtotals of the tax total in the invoice currency (the one in the VAT
/// accounting currency has none).
fn vat_breakdown(root: Node<'_, '_>, currency: Option<&str>) -> Vec<VatBreakdown> {
    let subtotals = tax_total(root, currency).map(|total| find_all(total, &[cac("TaxSubtotal")]));
    subtotals.unwrap_or_default().into_iter().map(vat_subtotal).collect()
}

/// One `cac:TaxSubtotal`.
fn vat_subtotal(subtotal: Node<'_, '_>) -> VatBreakdown {
    let category = find(subtotal, &[cac("TaxCategory")]);
    VatBreakdown {
        taxable: amount(find(subtotal, &[cbc("TaxableAmount")])),
        tax: amount(find(subtotal, &[cbc("TaxAmount")])),
        category: text(at(category, &[cbc("ID")])),
        rate: amount(at(category, &[cbc("Percent")])),
        exemption_reason: text(at(category, &[cbc("TaxExemptionReason")])),
        exemption_code: text(at(category, &[cbc("TaxExemptionReasonCode")])),
    }
}

/// An additional document reference is a supporting document (BG-24) unless it is the invoiced
/// object (type code 130, BT-18) or, in a credit note, the project reference (type 50, BT-11).
fn is_supporting_document(reference: Node<'_, '_>, credit_note: bool) -> bool {
    match document_type(reference).as_deref() {
        Some("130") => false,
        Some("50") => !credit_note,
        _ => true,
    }
}

/// The BG-24 references: every `cac:AdditionalDocumentReference` but BT-18's (and in a credit
/// note BT-11's).
pub(super) fn supporting_documents<'a, 'i>(root: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    let credit_note = root.has_tag_name((ns::UBL_CREDIT_NOTE, "CreditNote"));
    find_all(root, &[cac("AdditionalDocumentReference")])
        .into_iter()
        .filter(|r| is_supporting_document(*r, credit_note))
        .collect()
}

/// BT-125 of a BG-24 reference: its `cbc:EmbeddedDocumentBinaryObject`.
pub(super) fn attached_object<'a, 'i>(reference: Node<'a, 'i>) -> Option<Node<'a, 'i>> {
    find(reference, &[cac("Attachment"), cbc("EmbeddedDocumentBinaryObject")])
}

/// BG-24 from a `cac:AdditionalDocumentReference`.
fn supporting_document(reference: Node<'_, '_>) -> SupportingDocument {
    let attachment = find(reference, &[cac("Attachment")]);
    SupportingDocument {
        reference: text(find(reference, &[cbc("ID")])).unwrap_or_default(),
        description: text(find(reference, &[cbc("DocumentDescription")])),
        location: text(at(attachment, &[cac("ExternalReference"), cbc("URI")])),
        attachment: attached_object(reference).map(attached_document),
    }
}

/// BG-25 from a `cac:InvoiceLine` or `cac:CreditNoteLine`.
fn line(node: Node<'_, '_>) -> Line {
    let quantity = find(node, &[cbc("InvoicedQuantity")]).or_else(|| find(node, &[cbc("CreditedQuantity")]));
    let price = find(node, &[cac("Price")]);
    // BT-147/148: the price discount and the gross price it is taken from.
    let discount =
        price.and_then(|p| find_all(p, &[cac("AllowanceCharge")]).into_iter().find(|a| is_charge(*a) == Some(false)));
    let base_quantity = at(price, &[cbc("BaseQuantity")]);
    let item = find(node, &[cac("Item")]);
    let tax_category = at(item, &[cac("ClassifiedTaxCategory")]);
    let (allowances, charges) = allowances_and_charges(node, Level::Line);
    Line {
        id: text(find(node, &[cbc("ID")])),
        note: text(find(node, &[cbc("Note")])),
        object: line_object(node),
        quantity: amount(quantity),
        unit: attribute(quantity, "unitCode"),
        net_amount: amount(find(node, &[cbc("LineExtensionAmount")])),
        order_line: text(find(node, &[cac("OrderLineReference"), cbc("LineID")])),
        buyer_accounting_reference: text(find(node, &[cbc("AccountingCost")])),
        period: period(find(node, &[cac("InvoicePeriod")])),
        allowances,
        charges,
        net_price: amount(at(price, &[cbc("PriceAmount")])),
        price_discount: amount(at(discount, &[cbc("Amount")])),
        gross_price: amount(at(discount, &[cbc("BaseAmount")])),
        base_quantity: amount(base_quantity),
        base_quantity_unit: attribute(base_quantity, "unitCode"),
        vat_category: text(at(tax_category, &[cbc("ID")])),
        vat_rate: amount(at(tax_category, &[cbc("Percent")])),
        item_name: text(at(item, &[cbc("Name")])),
        item_description: text(at(item, &[cbc("Description")])),
        seller_item_id: text(at(item, &[cac("SellersItemIdentification"), cbc("ID")])),
        buyer_item_id: text(at(item, &[cac("BuyersItemIdentification"), cbc("ID")])),
        standard_item_id: identifier(at(item, &[cac("StandardItemIdentification"), cbc("ID")])),
        classifications: item.map(classifications).unwrap_or_default(),
        origin_country: text(at(item, &[cac("OriginCountry"), cbc("IdentificationCode")])),
        attributes: item.map(item_attributes).unwrap_or_default(),
        // XRechnung's extension nests sub-invoice lines; the XML depth limit bounds the recursion.
        sub_lines: find_all(node, &[cac("SubInvoiceLine")]).into_iter().map(line).collect(),
    }
}

/// BT-128 from a `cac:DocumentReference` with type code 130. The CEN rules do not insist on the
/// code at line level, and the CEN example 5 leaves it out (its CII twin says 130), so a
/// reference without a type code is taken too; the line has no other document reference.
fn line_object(line: Node<'_, '_>) -> Option<Identifier> {
    let reference = typed_reference(line, "DocumentReference", "130").or_else(|| {
        find_all(line, &[cac("DocumentReference")]).into_iter().find(|r| find(*r, &[cbc("DocumentTypeCode")]).is_none())
    });
    identifier(at(reference, &[cbc("ID")]))
}

/// BT-158 from `cac:CommodityClassification/cbc:ItemClassificationCode`: the scheme is `@listID`,
/// followed by `@listVersionID` (BT-158-2) after a space when present.
fn classifications(item: Node<'_, '_>) -> Vec<Identifier> {
    find_all(item, &[cac("CommodityClassification"), cbc("ItemClassificationCode")])
        .into_iter()
        .filter_map(classification)
        .collect()
}

/// BG-32 from `cac:AdditionalItemProperty` as (BT-160 name, BT-161 value).
fn item_attributes(item: Node<'_, '_>) -> Vec<(String, String)> {
    find_all(item, &[cac("AdditionalItemProperty")])
        .into_iter()
        .filter_map(|property| match (text(find(property, &[cbc("Name")])), text(find(property, &[cbc("Value")]))) {
            (None, None) => None,
            (name, value) => Some((name.unwrap_or_default(), value.unwrap_or_default())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMESPACES: &str = r#"xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2""#;

    fn model(xml: &str) -> Invoice {
        let (doc, syntax) = crate::reader::parse(xml).expect("parses");
        assert!(syntax.is_ubl());
        invoice(doc.root_element())
    }

    fn ubl_invoice(body: &str) -> Invoice {
        model(&format!(
            r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {NAMESPACES}>{body}</Invoice>"#
        ))
    }

    fn ubl_credit_note(body: &str) -> Invoice {
        model(&format!(
            r#"<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" {NAMESPACES}>{body}</CreditNote>"#
        ))
    }

    fn d(text: &str) -> Option<Amount> {
        Some(Decimal::parse(text, false).expect("a decimal"))
    }

    fn id(id: &str, scheme: Option<&str>) -> Identifier {
        Identifier { id: id.into(), scheme: scheme.map(Into::into) }
    }

    #[test]
    fn sub_invoice_lines_of_the_extension_nest_in_their_line() {
        let invoice = ubl_invoice(
            "<cac:InvoiceLine><cbc:ID>1</cbc:ID>\
               <cac:SubInvoiceLine><cbc:ID>1.1</cbc:ID>\
                 <cac:SubInvoiceLine><cbc:ID>1.1.1</cbc:ID><cac:Item><cbc:Name>Schraube</cbc:Name></cac:Item></cac:SubInvoiceLine>\
               </cac:SubInvoiceLine>\
               <cac:SubInvoiceLine><cbc:ID>1.2</cbc:ID></cac:SubInvoiceLine>\
             </cac:InvoiceLine><cac:InvoiceLine><cbc:ID>2</cbc:ID></cac:InvoiceLine>",
        );
        let ids = |lines: &[Line]| lines.iter().map(|l| l.id.clone().unwrap_or_default()).collect::<Vec<_>>();
        assert_eq!(ids(&invoice.lines), ["1", "2"]);
        assert_eq!(ids(&invoice.lines[0].sub_lines), ["1.1", "1.2"]);
        let deepest = &invoice.lines[0].sub_lines[0].sub_lines[0];
        assert_eq!((deepest.id.as_deref(), deepest.item_name.as_deref()), (Some("1.1.1"), Some("Schraube")));
    }

    #[test]
    fn the_note_subject_code_is_the_hash_prefix_of_the_note() {
        let invoice = ubl_invoice(
            "<cbc:Note>#AAI#text</cbc:Note>
             <cbc:Note>  #ADU#  spaced  </cbc:Note>
             <cbc:Note>no subject</cbc:Note>
             <cbc:Note>#SKONTO#TAGE=7#</cbc:Note>
             <cbc:Note>Ordered online#Ordering information</cbc:Note>
             <cbc:Note> </cbc:Note>",
        );
        let notes: Vec<_> = invoice.notes.iter().map(|n| (n.subject.as_deref(), n.text.as_str())).collect();
        assert_eq!(
            notes,
            [
                (Some("AAI"), "text"),
                (Some("ADU"), "spaced"),
                (None, "no subject"),
                (None, "#SKONTO#TAGE=7#"),
                (None, "Ordered online#Ordering information"),
            ]
        );
    }

    #[test]
    fn the_sepa_identifier_is_the_creditor_id_of_every_payment_means_not_a_seller_identifier() {
        let invoice = ubl_invoice(
            r#"<cac:AccountingSupplierParty><cac:Party>
                 <cac:PartyIdentification><cbc:ID schemeID="0088">4000001000005</cbc:ID></cac:PartyIdentification>
                 <cac:PartyIdentification><cbc:ID schemeID="SEPA">DE98ZZZ09999999999</cbc:ID></cac:PartyIdentification>
                 <cac:PartyIdentification><cbc:ID>plain</cbc:ID></cac:PartyIdentification>
               </cac:Party></cac:AccountingSupplierParty>
               <cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode>
                 <cac:PaymentMandate><cbc:ID>MANDATE-1</cbc:ID>
                   <cac:PayerFinancialAccount><cbc:ID>DE02120300000000202051</cbc:ID></cac:PayerFinancialAccount>
                 </cac:PaymentMandate></cac:PaymentMeans>
               <cac:PaymentMeans><cbc:PaymentMeansCode name="Card">54</cbc:PaymentMeansCode>
                 <cac:CardAccount><cbc:PrimaryAccountNumberID>1234</cbc:PrimaryAccountNumberID>
                   <cbc:NetworkID>VISA</cbc:NetworkID><cbc:HolderName>Holder</cbc:HolderName></cac:CardAccount>
               </cac:PaymentMeans>"#,
        );
        assert_eq!(invoice.seller.identifiers, [id("4000001000005", Some("0088")), id("plain", None)]);
        let [debit, card] = invoice.payment_means.as_slice() else { panic!("two payment means") };
        assert_eq!(debit.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(card.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(debit.mandate.as_deref(), Some("MANDATE-1"));
        assert_eq!(debit.debited_account.as_deref(), Some("DE02120300000000202051"));
        assert_eq!((card.code.as_deref(), card.text.as_deref()), (Some("54"), Some("Card")));
        assert_eq!((card.card_number.as_deref(), card.card_holder.as_deref()), (Some("1234"), Some("Holder")));
        assert_eq!(invoice.payee, None);
    }

    #[test]
    fn the_creditor_id_may_come_from_the_payee() {
        let invoice = ubl_invoice(
            r#"<cac:PayeeParty>
                 <cac:PartyIdentification><cbc:ID schemeID="sepa">DE98ZZZ09999999999</cbc:ID></cac:PartyIdentification>
                 <cac:PartyIdentification><cbc:ID schemeID="0088">4000001000005</cbc:ID></cac:PartyIdentification>
                 <cac:PartyName><cbc:Name>Factor</cbc:Name></cac:PartyName>
                 <cac:PartyLegalEntity><cbc:CompanyID schemeID="0002">HRB 1</cbc:CompanyID></cac:PartyLegalEntity>
               </cac:PayeeParty>
               <cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode></cac:PaymentMeans>"#,
        );
        assert_eq!(invoice.payment_means[0].creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        let payee = invoice.payee.expect("a payee");
        assert_eq!(payee.name.as_deref(), Some("Factor"));
        assert_eq!(payee.identifiers, [id("4000001000005", Some("0088"))]);
        assert_eq!(payee.legal_registration, Some(id("HRB 1", Some("0002"))));
    }

    #[test]
    fn the_vat_scheme_is_the_vat_identifier_and_another_scheme_the_tax_registration() {
        let tax_schemes = r#"
            <cac:PartyTaxScheme><cbc:CompanyID>201/113/40209</cbc:CompanyID>
              <cac:TaxScheme><cbc:ID>FC</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
            <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID>
              <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"#;
        let invoice = ubl_invoice(&format!(
            r#"<cac:AccountingSupplierParty><cac:Party>{tax_schemes}
                 <cac:PartyLegalEntity><cbc:RegistrationName>Seller GmbH</cbc:RegistrationName>
                   <cbc:CompanyID schemeID="0002">HRB 123</cbc:CompanyID>
                   <cbc:CompanyLegalForm>Sitz Berlin</cbc:CompanyLegalForm></cac:PartyLegalEntity>
               </cac:Party></cac:AccountingSupplierParty>
               <cac:AccountingCustomerParty><cac:Party>{tax_schemes}
                 <cac:PartyLegalEntity><cbc:CompanyLegalForm>not a buyer term</cbc:CompanyLegalForm></cac:PartyLegalEntity>
               </cac:Party></cac:AccountingCustomerParty>
               <cac:TaxRepresentativeParty>
                 <cac:PartyName><cbc:Name>Representative</cbc:Name></cac:PartyName>
                 <cac:PostalAddress><cbc:CityName>Wien</cbc:CityName>
                   <cac:Country><cbc:IdentificationCode>AT</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
                 <cac:PartyTaxScheme><cbc:CompanyID>ATU12345678</cbc:CompanyID>
                   <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
               </cac:TaxRepresentativeParty>"#
        ));
        let seller = &invoice.seller;
        assert_eq!(seller.vat_id.as_deref(), Some("DE123456789"));
        assert_eq!(seller.tax_registration.as_deref(), Some("201/113/40209"));
        assert_eq!(seller.legal_registration, Some(id("HRB 123", Some("0002"))));
        assert_eq!(seller.legal_information.as_deref(), Some("Sitz Berlin"));
        let buyer = &invoice.buyer;
        assert_eq!(buyer.vat_id.as_deref(), Some("DE123456789"));
        assert_eq!((buyer.tax_registration.as_deref(), buyer.legal_information.as_deref()), (None, None));
        let representative = invoice.tax_representative.expect("a tax representative");
        assert_eq!(representative.name.as_deref(), Some("Representative"));
        assert_eq!(representative.vat_id.as_deref(), Some("ATU12345678"));
        assert_eq!(representative.address.city.as_deref(), Some("Wien"));
        assert_eq!(representative.address.country.as_deref(), Some("AT"));
    }

    #[test]
    fn an_invoice_separates_the_invoiced_object_from_the_supporting_documents() {
        let invoice = ubl_invoice(
            r#"<cac:AdditionalDocumentReference><cbc:ID schemeID="AAG">OBJ-1</cbc:ID>
                 <cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
               <cac:AdditionalDocumentReference><cbc:ID>timesheet</cbc:ID>
                 <cbc:DocumentDescription>Hours</cbc:DocumentDescription>
                 <cac:Attachment>
                   <cbc:EmbeddedDocumentBinaryObject mimeCode="text/csv" filename="hours.csv">aGVs
                     bG8=</cbc:EmbeddedDocumentBinaryObject>
                   <cac:ExternalReference><cbc:URI>https://example.org/hours</cbc:URI></cac:ExternalReference>
                 </cac:Attachment></cac:AdditionalDocumentReference>
               <cac:AdditionalDocumentReference><cbc:ID>typed 50</cbc:ID>
                 <cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
               <cac:ProjectReference><cbc:ID>PROJECT</cbc:ID></cac:ProjectReference>"#,
        );
        assert_eq!(invoice.invoiced_object, Some(id("OBJ-1", Some("AAG"))));
        assert_eq!(invoice.project_reference.as_deref(), Some("PROJECT"));
        let references: Vec<_> = invoice.documents.iter().map(|d| d.reference.as_str()).collect();
        assert_eq!(references, ["timesheet", "typed 50"]);
        let timesheet = &invoice.documents[0];
        assert_eq!(timesheet.description.as_deref(), Some("Hours"));
        assert_eq!(timesheet.location.as_deref(), Some("https://example.org/hours"));
        let attachment =
            Attachment { filename: Some("hours.csv".into()), mime_code: Some("text/csv".into()), bytes: 5 };
        assert_eq!(timesheet.attachment, Some(attachment));
    }

    #[test]
    fn a_credit_note_has_its_project_reference_in_a_document_reference_of_type_50() {
        let invoice = ubl_credit_note(
            r#"<cbc:ID>CN-1</cbc:ID>
               <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
               <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
               <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID>
                 <cbc:IssueDate>2024-01-31</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>
               <cac:AdditionalDocumentReference><cbc:ID>PROJECT</cbc:ID>
                 <cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
               <cac:AdditionalDocumentReference><cbc:ID>OBJ-1</cbc:ID>
                 <cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>
               <cac:AdditionalDocumentReference><cbc:ID>appendix</cbc:ID></cac:AdditionalDocumentReference>
               <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
                 <cbc:PaymentDueDate>2024-03-01</cbc:PaymentDueDate></cac:PaymentMeans>
               <cac:CreditNoteLine><cbc:ID>1</cbc:ID>
                 <cbc:CreditedQuantity unitCode="C62">2</cbc:CreditedQuantity>
                 <cbc:LineExtensionAmount currencyID="EUR">20.00</cbc:LineExtensionAmount>
                 <cac:Item><cbc:Name>Returned item</cbc:Name></cac:Item>
               </cac:CreditNoteLine>"#,
        );
        assert_eq!(invoice.type_code.as_deref(), Some("381"));
        assert_eq!(invoice.project_reference.as_deref(), Some("PROJECT"));
        assert_eq!(invoice.invoiced_object, Some(id("OBJ-1", None)));
        let references: Vec<_> = invoice.documents.iter().map(|d| d.reference.as_str()).collect();
        assert_eq!(references, ["appendix"]);
        assert_eq!(invoice.due_date.as_deref(), Some("2024-03-01"));
        let preceding = PrecedingInvoice { number: "INV-1".into(), issue_date: Some("2024-01-31".into()) };
        assert_eq!(invoice.preceding_invoices, [preceding]);
        let [line] = invoice.lines.as_slice() else { panic!("one line") };
        assert_eq!((line.quantity, line.unit.as_deref()), (d("2"), Some("C62")));
        assert_eq!(line.net_amount, d("20"));
        assert_eq!(line.item_name.as_deref(), Some("Returned item"));
    }

    #[test]
    fn document_allowances_and_charges_carry_their_vat_category_line_ones_do_not() {
        let allowance_charge = |indicator: &str, amount: &str| {
            format!(
                r#"<cac:AllowanceCharge><cbc:ChargeIndicator>{indicator}</cbc:ChargeIndicator>
                     <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>
                     <cbc:AllowanceChargeReason>Reason {amount}</cbc:AllowanceChargeReason>
                     <cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric>
                     <cbc:Amount currencyID="EUR">{amount}</cbc:Amount>
                     <cbc:BaseAmount currencyID="EUR">100</cbc:BaseAmount>
                     <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
                       <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
                   </cac:AllowanceCharge>"#
            )
        };
        let invoice = ubl_invoice(&format!(
            "{}{}<cac:InvoiceLine><cbc:ID>1</cbc:ID>{}{}</cac:InvoiceLine>",
            allowance_charge("false", "10"),
            allowance_charge("true", "5"),
            allowance_charge("true", "3"),
            allowance_charge("false", "2"),
        ));
        let expected = |amount: &str, vat: bool| AllowanceCharge {
            amount: d(amount),
            base: d("100"),
            percent: d("10"),
            vat_category: vat.then(|| "S".into()),
            vat_rate: if vat { d("19") } else { None },
            reason: Some(format!("Reason {amount}")),
            reason_code: Some("95".into()),
        };
        assert_eq!(invoice.allowances, [expected("10", true)]);
        assert_eq!(invoice.charges, [expected("5", true)]);
        assert_eq!(invoice.lines[0].allowances, [expected("2", false)]);
        assert_eq!(invoice.lines[0].charges, [expected("3", false)]);
    }

    #[test]
    fn the_price_discount_and_gross_price_come_from_the_price_allowance() {
        let invoice = ubl_invoice(
            r#"<cac:InvoiceLine><cbc:ID>1</cbc:ID>
                 <cac:Price><cbc:PriceAmount currencyID="EUR">90</cbc:PriceAmount>
                   <cbc:BaseQuantity unitCode="H87">2</cbc:BaseQuantity>
                   <cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>
                     <cbc:Amount currencyID="EUR">10</cbc:Amount>
                     <cbc:BaseAmount currencyID="EUR">100</cbc:BaseAmount></cac:AllowanceCharge>
                 </cac:Price>
               </cac:InvoiceLine>"#,
        );
        let line = &invoice.lines[0];
        assert_eq!((line.net_price, line.price_discount, line.gross_price), (d("90"), d("10"), d("100")));
        assert_eq!((line.base_quantity, line.base_quantity_unit.as_deref()), (d("2"), Some("H87")));
    }

    #[test]
    fn line_item_terms_and_the_classification_scheme_with_its_version() {
        let invoice = ubl_invoice(
            r#"<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:Note>line note</cbc:Note>
                 <cbc:AccountingCost>4711</cbc:AccountingCost>
                 <cac:InvoicePeriod><cbc:StartDate>2024-01-01</cbc:StartDate>
                   <cbc:EndDate>2024-01-31</cbc:EndDate></cac:InvoicePeriod>
                 <cac:OrderLineReference><cbc:LineID>7</cbc:LineID></cac:OrderLineReference>
                 <cac:DocumentReference><cbc:ID schemeID="ABZ">OBJ-7</cbc:ID>
                   <cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>
                 <cac:Item><cbc:Description>A thing</cbc:Description><cbc:Name>Thing</cbc:Name>
                   <cac:BuyersItemIdentification><cbc:ID>B-1</cbc:ID></cac:BuyersItemIdentification>
                   <cac:SellersItemIdentification><cbc:ID>S-1</cbc:ID></cac:SellersItemIdentification>
                   <cac:StandardItemIdentification><cbc:ID schemeID="0160">4012345000009</cbc:ID></cac:StandardItemIdentification>
                   <cac:OriginCountry><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:OriginCountry>
                   <cac:CommodityClassification>
                     <cbc:ItemClassificationCode listID="STI" listVersionID="19.05">65434568</cbc:ItemClassificationCode>
                   </cac:CommodityClassification>
                   <cac:CommodityClassification>
                     <cbc:ItemClassificationCode listID="IB">0721-880X</cbc:ItemClassificationCode>
                   </cac:CommodityClassification>
                   <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent>
                     <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
                   <cac:AdditionalItemProperty><cbc:Name>Colour</cbc:Name><cbc:Value>Red</cbc:Value></cac:AdditionalItemProperty>
                 </cac:Item>
               </cac:InvoiceLine>"#,
        );
        let line = &invoice.lines[0];
        assert_eq!(line.note.as_deref(), Some("line note"));
        assert_eq!(line.buyer_accounting_reference.as_deref(), Some("4711"));
        assert_eq!(line.period, Period { start: Some("2024-01-01".into()), end: Some("2024-01-31".into()) });
        assert_eq!(line.order_line.as_deref(), Some("7"));
        assert_eq!(line.object, Some(id("OBJ-7", Some("ABZ"))));
        assert_eq!((line.item_name.as_deref(), line.item_description.as_deref()), (Some("Thing"), Some("A thing")));
        assert_eq!((line.seller_item_id.as_deref(), line.buyer_item_id.as_deref()), (Some("S-1"), Some("B-1")));
        assert_eq!(line.standard_item_id, Some(id("4012345000009", Some("0160"))));
        assert_eq!(line.classifications, [id("65434568", Some("STI 19.05")), id("0721-880X", Some("IB"))]);
        assert_eq!(line.origin_country.as_deref(), Some("FR"));
        assert_eq!((line.vat_category.as_deref(), line.vat_rate), (Some("S"), d("7")));
        assert_eq!(line.attributes, [("Colour".to_string(), "Red".to_string())]);
    }

    #[test]
    fn a_line_document_reference_without_type_code_is_the_line_object() {
        let invoice = ubl_invoice(
            "<cac:InvoiceLine><cbc:ID>1</cbc:ID>
               <cac:DocumentReference><cbc:ID>OBJ-2</cbc:ID></cac:DocumentReference>
             </cac:InvoiceLine>
             <cac:InvoiceLine><cbc:ID>2</cbc:ID>
               <cac:DocumentReference><cbc:ID>other</cbc:ID><cbc:DocumentTypeCode>916</cbc:DocumentTypeCode></cac:DocumentReference>
             </cac:InvoiceLine>",
        );
        assert_eq!(invoice.lines[0].object, Some(id("OBJ-2", None)));
        assert_eq!(invoice.lines[1].object, None);
    }

    #[test]
    fn the_vat_total_in_the_accounting_currency_is_bt_111() {
        let tax_totals = r#"
            <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
              <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">100.00</cbc:TaxableAmount>
                <cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
                <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
                  <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
            </cac:TaxTotal>
            <cac:TaxTotal><cbc:TaxAmount currencyID="SEK">210.00</cbc:TaxAmount></cac:TaxTotal>"#;
        let invoice = ubl_invoice(&format!(
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
             <cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>{tax_totals}"
        ));
        assert_eq!((invoice.totals.vat, invoice.totals.vat_in_tax_currency), (d("19"), d("210")));
        let [breakdown] = invoice.vat_breakdown.as_slice() else { panic!("one VAT breakdown") };
        assert_eq!((breakdown.taxable, breakdown.tax, breakdown.rate), (d("100"), d("19"), d("19")));

        let same_currency = ubl_invoice(
            r#"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
               <cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>
               <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount></cac:TaxTotal>"#,
        );
        assert_eq!((same_currency.totals.vat, same_currency.totals.vat_in_tax_currency), (d("19"), None));
    }

    #[test]
    fn vat_exemption_reasons_are_read_from_the_subtotal() {
        let invoice = ubl_invoice(
            r#"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
               <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0</cbc:TaxAmount>
                 <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">50</cbc:TaxableAmount>
                   <cbc:TaxAmount currencyID="EUR">0</cbc:TaxAmount>
                   <cac:TaxCategory><cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
                     <cbc:TaxExemptionReasonCode>VATEX-EU-132-1A</cbc:TaxExemptionReasonCode>
                     <cbc:TaxExemptionReason>Exempt</cbc:TaxExemptionReason>
                     <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
               </cac:TaxTotal>"#,
        );
        let breakdown = &invoice.vat_breakdown[0];
        assert_eq!(breakdown.category.as_deref(), Some("E"));
        assert_eq!(breakdown.exemption_reason.as_deref(), Some("Exempt"));
        assert_eq!(breakdown.exemption_code.as_deref(), Some("VATEX-EU-132-1A"));
    }

    #[test]
    fn header_references_dates_and_delivery() {
        let invoice = ubl_invoice(
            r#"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
               <cbc:TaxPointDate>2024-01-15</cbc:TaxPointDate>
               <cbc:AccountingCost>COST-1</cbc:AccountingCost>
               <cac:InvoicePeriod><cbc:StartDate>2024-01-01</cbc:StartDate>
                 <cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>
               <cac:OrderReference><cbc:ID>PO-1</cbc:ID><cbc:SalesOrderID>SO-1</cbc:SalesOrderID></cac:OrderReference>
               <cac:DespatchDocumentReference><cbc:ID>DESADV-1</cbc:ID></cac:DespatchDocumentReference>
               <cac:ReceiptDocumentReference><cbc:ID>RECADV-1</cbc:ID></cac:ReceiptDocumentReference>
               <cac:OriginatorDocumentReference><cbc:ID>LOT-1</cbc:ID></cac:OriginatorDocumentReference>
               <cac:ContractDocumentReference><cbc:ID>CONTRACT-1</cbc:ID></cac:ContractDocumentReference>
               <cac:Delivery><cbc:ActualDeliveryDate>2024-01-10</cbc:ActualDeliveryDate>
                 <cac:DeliveryLocation><cbc:ID schemeID="0088">4000001000005</cbc:ID>
                   <cac:Address><cbc:StreetName>Street 1</cbc:StreetName>
                     <cbc:AdditionalStreetName>Floor 2</cbc:AdditionalStreetName>
                     <cbc:CityName>Berlin</cbc:CityName><cbc:PostalZone>10115</cbc:PostalZone>
                     <cbc:CountrySubentity>Berlin</cbc:CountrySubentity>
                     <cac:AddressLine><cbc:Line>Gate 3</cbc:Line></cac:AddressLine>
                     <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:Address>
                 </cac:DeliveryLocation>
                 <cac:DeliveryParty><cac:PartyName><cbc:Name>Warehouse</cbc:Name></cac:PartyName></cac:DeliveryParty>
               </cac:Delivery>"#,
        );
        assert_eq!(invoice.business_process.as_deref(), Some("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"));
        assert_eq!(invoice.tax_point_date.as_deref(), Some("2024-01-15"));
        assert_eq!(invoice.tax_point_date_code.as_deref(), Some("35"));
        assert_eq!(invoice.buyer_accounting_reference.as_deref(), Some("COST-1"));
        assert_eq!(invoice.period, Period { start: Some("2024-01-01".into()), end: None });
        let references = [
            &invoice.order_reference,
            &invoice.sales_order_reference,
            &invoice.despatch_advice_reference,
            &invoice.receiving_advice_reference,
            &invoice.tender_reference,
            &invoice.contract_reference,
        ];
        let references: Vec<_> = references.iter().map(|r| r.as_deref()).collect();
        assert_eq!(
            references,
            [Some("PO-1"), Some("SO-1"), Some("DESADV-1"), Some("RECADV-1"), Some("LOT-1"), Some("CONTRACT-1")]
        );
        let delivery = &invoice.delivery;
        assert_eq!(delivery.party_name.as_deref(), Some("Warehouse"));
        assert_eq!(delivery.location, Some(id("4000001000005", Some("0088"))));
        assert_eq!(delivery.date.as_deref(), Some("2024-01-10"));
        let address = Address {
            line1: Some("Street 1".into()),
            line2: Some("Floor 2".into()),
            line3: Some("Gate 3".into()),
            city: Some("Berlin".into()),
            post_code: Some("10115".into()),
            subdivision: Some("Berlin".into()),
            country: Some("DE".into()),
        };
        assert_eq!(delivery.address, address);
    }

    #[test]
    fn sub_invoice_lines_are_not_lines() {
        let invoice = ubl_invoice(
            "<cac:InvoiceLine><cbc:ID>1</cbc:ID>
               <cac:SubInvoiceLine><cbc:ID>1.1</cbc:ID></cac:SubInvoiceLine>
             </cac:InvoiceLine>",
        );
        let ids: Vec<_> = invoice.lines.iter().map(|l| l.id.as_deref()).collect();
        assert_eq!(ids, [Some("1")]);
    }
}
