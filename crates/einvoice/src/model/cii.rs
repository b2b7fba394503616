//! The UN/CEFACT CII D16B binding of EN 16931 (EN 16931-3-3) to the model.
//!
//! Paths follow the binding as the KoSIT visualisation reads it (`cii-xr.xsl`, which maps CII to
//! XRechnung's BT-numbered intermediate format); where CII encodes a term differently from the
//! model (format 102 dates, UNTDID 2475 for BT-8), the term is converted here.

use super::*;

const fn rsm(name: &str) -> Step<'_> {
    (ns::CII, name)
}

const fn ram(name: &str) -> Step<'_> {
    (ns::RAM, name)
}

const fn udt(name: &str) -> Step<'_> {
    (ns::UDT, name)
}

const fn qdt(name: &str) -> Step<'_> {
    (ns::QDT, name)
}

/// All elements reached from an optional `node` along `path`.
fn all<'a, 'i>(node: Option<Node<'a, 'i>>, path: &[Step<'_>]) -> Vec<Node<'a, 'i>> {
    node.map(|n| find_all(n, path)).unwrap_or_default()
}

/// The first non-empty text among the elements reached along `path` (for terms CII may spread
/// over repeated parents, e.g. several ram:SpecifiedTradePaymentTerms).
fn first_text(node: Option<Node<'_, '_>>, path: &[Step<'_>]) -> Option<String> {
    all(node, path).into_iter().find_map(|n| text(Some(n)))
}

/// CII dates are format 102 (`YYYYMMDD`); the model speaks ISO (`YYYY-MM-DD`).
fn cii_date(node: Option<Node<'_, '_>>) -> Option<String> {
    let raw = text(node)?;
    match raw.len() {
        8 if raw.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{}-{}-{}", &raw[..4], &raw[4..6], &raw[6..])),
        _ => Some(raw),
    }
}

/// BT-8: CII writes UNTDID 2475 (5 date of invoice, 29 date of delivery, 72 paid to date), the
/// model UNTDID 2005 (3, 35, 432). Other codes are kept as written.
fn tax_point_date_code(code: String) -> String {
    match code.as_str() {
        "5" => "3".to_string(),
        "29" => "35".to_string(),
        "72" => "432".to_string(),
        _ => code,
    }
}

/// BG-5 / BG-8 / BG-12 / BG-15 from a ram:PostalTradeAddress.
fn address(address: Option<Node<'_, '_>>) -> Address {
    let line = |name: &str| text(at(address, &[ram(name)]));
    Address {
        line1: line("LineOne"),
        line2: line("LineTwo"),
        line3: line("LineThree"),
        city: line("CityName"),
        post_code: line("PostcodeCode"),
        subdivision: line("CountrySubDivisionName"),
        country: line("CountryID"),
    }
}

/// BG-6 / BG-9 from a ram:DefinedTradeContact; the contact point is the person or, without one,
/// the department.
fn contact(contact: Option<Node<'_, '_>>) -> Contact {
    let field = |path: &[Step<'_>]| text(at(contact, path));
    Contact {
        name: field(&[ram("PersonName")]).or_else(|| field(&[ram("DepartmentName")])),
        telephone: field(&[ram("TelephoneUniversalCommunication"), ram("CompleteNumber")]),
        email: field(&[ram("EmailURIUniversalCommunication"), ram("URIID")]),
    }
}

/// BT-29 / BT-46 / BT-60 / BT-71 of a trade party. EN 16931-3-3 writes an identifier with a
/// scheme as ram:GlobalID (with @schemeID), one without as ram:ID; when global identifiers are
/// present, the ram:ID elements beside them are not mapped (as the KoSIT visualisation
/// `cii-xr.xsl` and the CEN-aligned CII-to-UBL converter phax/en16931-cii2ubl read the binding,
/// and as the XRechnung test suite's UBL twins carry it). Document order is kept.
fn party_identifiers(party: Option<Node<'_, '_>>) -> Vec<Identifier> {
    let (global, plain): (Vec<_>, Vec<_>) = party
        .into_iter()
        .flat_map(|p| p.children())
        .filter(|c| c.has_tag_name(ram("ID")) || c.has_tag_name(ram("GlobalID")))
        .filter_map(|c| Some((c.has_tag_name(ram("GlobalID")), identifier(Some(c))?)))
        .partition(|(is_global, id)| *is_global && id.scheme.is_some());
    let chosen = if global.is_empty() { plain } else { global };
    chosen.into_iter().map(|(_, id)| id).collect()
}

/// A ram:SpecifiedTaxRegistration/ram:ID by its scheme: `VA` is the VAT identifier (BT-31 /
/// BT-48 / BT-63), `FC` the tax registration (BT-32). The KoSIT visualisation also reads `VAT`
/// as a VAT identifier (older CEN rules asked for it), and so does this mapper.
fn tax_registration(party: Option<Node<'_, '_>>, schemes: &[&str]) -> Option<String> {
    all(party, &[ram("SpecifiedTaxRegistration"), ram("ID")])
        .into_iter()
        .find(|id| attribute(Some(*id), "schemeID").is_some_and(|s| schemes.contains(&s.as_str())))
        .and_then(|id| text(Some(id)))
}

/// A trade party with every party term the binding knows (the seller's set, BG-4).
fn party(party: Option<Node<'_, '_>>) -> Party {
    let field = |path: &[Step<'_>]| at(party, path);
    let endpoint = field(&[ram("URIUniversalCommunication"), ram("URIID")]);
    Party {
        name: text(field(&[ram("Name")])),
        trading_name: text(field(&[ram("SpecifiedLegalOrganization"), ram("TradingBusinessName")])),
        identifiers: party_identifiers(party),
        legal_registration: identifier(field(&[ram("SpecifiedLegalOrganization"), ram("ID")])),
        vat_id: tax_registration(party, &["VA", "VAT"]),
        tax_registration: tax_registration(party, &["FC"]),
        legal_information: text(field(&[ram("Description")])),
        electronic_address: text(endpoint).map(|id| (attribute(endpoint, "schemeID").unwrap_or_default(), id)),
        address: address(field(&[ram("PostalTradeAddress")])),
        contact: contact(field(&[ram("DefinedTradeContact")])),
    }
}

/// BG-7: the buyer has no tax registration (BT-32) nor additional legal information (BT-33);
/// those are seller terms.
fn buyer(buyer: Option<Node<'_, '_>>) -> Party {
    Party { tax_registration: None, legal_information: None, ..party(buyer) }
}

/// BG-10 from ram:PayeeTradeParty.
fn payee(payee: Node<'_, '_>) -> Party {
    let full = party(Some(payee));
    // EN 16931 gives the payee only a name (BT-59), identifiers (BT-60) and a legal registration
    // (BT-61); no address, contact, VAT identifier or electronic address apply.
    Party {
        name: full.name,
        identifiers: full.identifiers,
        legal_registration: full.legal_registration,
        ..Default::default()
    }
}

/// BG-11 from ram:SellerTaxRepresentativeTradeParty.
fn tax_representative(representative: Node<'_, '_>) -> Party {
    let full = party(Some(representative));
    // EN 16931 gives the tax representative only a name (BT-62), a VAT identifier (BT-63) and a
    // postal address (BG-12); identifiers, legal registration, contact etc. do not apply.
    Party { name: full.name, vat_id: full.vat_id, address: full.address, ..Default::default() }
}

/// BG-13 from ram:ApplicableHeaderTradeDelivery.
fn delivery(delivery: Option<Node<'_, '_>>) -> Delivery {
    let ship_to = at(delivery, &[ram("ShipToTradeParty")]);
    Delivery {
        party_name: text(at(ship_to, &[ram("Name")])),
        location: party_identifiers(ship_to).into_iter().next(),
        date: cii_date(at(
            delivery,
            &[ram("ActualDeliverySupplyChainEvent"), ram("OccurrenceDateTime"), udt("DateTimeString")],
        )),
        address: address(at(ship_to, &[ram("PostalTradeAddress")])),
    }
}

/// BG-14 / BG-26 from a ram:BillingSpecifiedPeriod.
fn period(period: Option<Node<'_, '_>>) -> Period {
    Period {
        start: cii_date(at(period, &[ram("StartDateTime"), udt("DateTimeString")])),
        end: cii_date(at(period, &[ram("EndDateTime"), udt("DateTimeString")])),
    }
}

/// BG-1 from a ram:IncludedNote (skipped when it has neither subject nor content).
fn note(note: Node<'_, '_>) -> Option<Note> {
    let subject = text(find(note, &[ram("SubjectCode")]));
    let content = text(find(note, &[ram("Content")]));
    (subject.is_some() || content.is_some()).then(|| Note { subject, text: content.unwrap_or_default() })
}

/// BG-3 from a ram:InvoiceReferencedDocument.
fn preceding_invoice(reference: Node<'_, '_>) -> Option<PrecedingInvoice> {
    let number = text(find(reference, &[ram("IssuerAssignedID")]));
    let issue_date = cii_date(find(reference, &[ram("FormattedIssueDateTime"), qdt("DateTimeString")]));
    (number.is_some() || issue_date.is_some())
        .then(|| PrecedingInvoice { number: number.unwrap_or_default(), issue_date })
}

/// The ram:AdditionalReferencedDocument elements of one ram:TypeCode (50 tender or lot, 130
/// invoiced object, 916 supporting document).
fn of_type<'a, 'i>(documents: &[Node<'a, 'i>], type_code: &str) -> Vec<Node<'a, 'i>> {
    documents.iter().copied().filter(|d| text(find(*d, &[ram("TypeCode")])).as_deref() == Some(type_code)).collect()
}

/// BT-18 / BT-128: the referenced object, its scheme in ram:ReferenceTypeCode.
fn object_identifier(document: Node<'_, '_>) -> Option<Identifier> {
    Some(Identifier {
        id: text(find(document, &[ram("IssuerAssignedID")]))?,
        scheme: text(find(document, &[ram("ReferenceTypeCode")])),
    })
}

/// The BG-24 references: the header's ram:AdditionalReferencedDocument of type 916.
pub(super) fn supporting_documents<'a, 'i>(root: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    let agreement = find(root, &[rsm("SupplyChainTradeTransaction"), ram("ApplicableHeaderTradeAgreement")]);
    of_type(&all(agreement, &[ram("AdditionalReferencedDocument")]), "916")
}

/// BT-125 of a BG-24 reference: its ram:AttachmentBinaryObject.
pub(super) fn attached_object<'a, 'i>(document: Node<'a, 'i>) -> Option<Node<'a, 'i>> {
    find(document, &[ram("AttachmentBinaryObject")])
}

/// BG-24 from a ram:AdditionalReferencedDocument of type 916.
fn supporting_document(document: Node<'_, '_>) -> SupportingDocument {
    let field = |name: &str| find(document, &[ram(name)]);
    SupportingDocument {
        reference: text(field("IssuerAssignedID")).unwrap_or_default(),
        description: text(field("Name")),
        location: text(field("URIID")),
        attachment: attached_object(document).map(attached_document),
    }
}

/// BG-16, one per ram:SpecifiedTradeSettlementPaymentMeans. CII keeps the remittance information
/// (BT-83), the mandate (BT-89) and the creditor identifier (BT-90) once for the invoice; each
/// payment means carries them, as on the UBL side.
fn payment_means(settlement: Option<Node<'_, '_>>) -> Vec<PaymentMeans> {
    let remittance = first_text(settlement, &[ram("PaymentReference")]);
    let mandate = first_text(settlement, &[ram("SpecifiedTradePaymentTerms"), ram("DirectDebitMandateID")]);
    let creditor_id = first_text(settlement, &[ram("CreditorReferenceID")]);
    all(settlement, &[ram("SpecifiedTradeSettlementPaymentMeans")])
        .into_iter()
        .map(|means| {
            let field = |path: &[Step<'_>]| text(find(means, path));
            let account = |name: &str| field(&[ram("PayeePartyCreditorFinancialAccount"), ram(name)]);
            let card = |name: &str| field(&[ram("ApplicableTradeSettlementFinancialCard"), ram(name)]);
            PaymentMeans {
                code: field(&[ram("TypeCode")]),
                text: field(&[ram("Information")]),
                remittance: remittance.clone(),
                account: account("IBANID").or_else(|| account("ProprietaryID")),
                account_name: account("AccountName"),
                provider: field(&[ram("PayeeSpecifiedCreditorFinancialInstitution"), ram("BICID")]),
                card_number: card("ID"),
                card_holder: card("CardholderName"),
                mandate: mandate.clone(),
                creditor_id: creditor_id.clone(),
                debited_account: field(&[ram("PayerPartyDebtorFinancialAccount"), ram("IBANID")]),
            }
        })
        .collect()
}

/// BG-20 / BG-21 / BG-27 / BG-28 from a ram:SpecifiedTradeAllowanceCharge.
fn allowance_charge(node: Node<'_, '_>, level: Level) -> AllowanceCharge {
    let field = |path: &[Step<'_>]| find(node, path);
    let tax = field(&[ram("CategoryTradeTax")]).filter(|_| level == Level::Document);
    AllowanceCharge {
        amount: amount(field(&[ram("ActualAmount")])),
        base: amount(field(&[ram("BasisAmount")])),
        percent: amount(field(&[ram("CalculationPercent")])),
        vat_category: text(at(tax, &[ram("CategoryCode")])),
        vat_rate: amount(at(tax, &[ram("RateApplicablePercent")])),
        reason: text(field(&[ram("Reason")])),
        reason_code: text(field(&[ram("ReasonCode")])),
    }
}

/// The ram:SpecifiedTradeAllowanceCharge elements split by ram:ChargeIndicator into
/// (allowances, charges); `true` (or `1`) is a charge, anything else an allowance.
fn allowances_and_charges(nodes: Vec<Node<'_, '_>>, level: Level) -> (Vec<AllowanceCharge>, Vec<AllowanceCharge>) {
    let is_charge = |n: &Node<'_, '_>| {
        matches!(text(find(*n, &[ram("ChargeIndicator"), udt("Indicator")])).as_deref(), Some("true" | "1"))
    };
    let (charges, allowances): (Vec<_>, Vec<_>) = nodes.into_iter().partition(is_charge);
    let map = |nodes: Vec<Node<'_, '_>>| nodes.into_iter().map(|n| allowance_charge(n, level)).collect();
    (map(allowances), map(charges))
}

/// BG-22 from ram:SpecifiedTradeSettlementHeaderMonetarySummation. The VAT totals are told apart
/// by currency: BT-110 in the invoice currency (BT-5), BT-111 in the VAT accounting currency
/// (BT-6) when that one is given and differs.
fn totals(settlement: Option<Node<'_, '_>>, currency: Option<&str>, tax_currency: Option<&str>) -> Totals {
    let summation = at(settlement, &[ram("SpecifiedTradeSettlementHeaderMonetarySummation")]);
    let total = |name: &str| amount(at(summation, &[ram(name)]));
    let vat_in = |currency: Option<&str>| {
        amount(
            all(summation, &[ram("TaxTotalAmount")])
                .into_iter()
                .find(|a| a.attribute("currencyID").map(str::trim) == currency),
        )
    };
    let accounting_currency = tax_currency.filter(|t| Some(*t) != currency);
    Totals {
        line_net: total("LineTotalAmount"),
        allowances: total("AllowanceTotalAmount"),
        charges: total("ChargeTotalAmount"),
        without_vat: total("TaxBasisTotalAmount"),
        vat: vat_in(currency),
        vat_in_tax_currency: accounting_currency.and_then(|c| vat_in(Some(c))),
        with_vat: total("GrandTotalAmount"),
        paid: total("TotalPrepaidAmount"),
        rounding: total("RoundingAmount"),
        due: total("DuePayableAmount"),
    }
}

/// BG-23 from a header ram:ApplicableTradeTax.
fn vat_breakdown(tax: Node<'_, '_>) -> VatBreakdown {
    let field = |name: &str| find(tax, &[ram(name)]);
    VatBreakdown {
        taxable: amount(field("BasisAmount")),
        tax: amount(field("CalculatedAmount")),
        category: text(field("CategoryCode")),
        rate: amount(field("RateApplicablePercent")),
        exemption_reason: text(field("ExemptionReason")),
        exemption_code: text(field("ExemptionReasonCode")),
    }
}

/// BG-32 from a ram:ApplicableProductCharacteristic: (ram:Description, ram:Value).
fn item_attribute(characteristic: Node<'_, '_>) -> Option<(String, String)> {
    let name = text(find(characteristic, &[ram("Description")]));
    let value = text(find(characteristic, &[ram("Value")]));
    (name.is_some() || value.is_some()).then(|| (name.unwrap_or_default(), value.unwrap_or_default()))
}

/// BG-25 from a ram:IncludedSupplyChainTradeLineItem.
fn line(line: Node<'_, '_>) -> Line {
    let part = |name: &str| find(line, &[ram(name)]);
    let document = part("AssociatedDocumentLineDocument");
    let agreement = part("SpecifiedLineTradeAgreement");
    let settlement = part("SpecifiedLineTradeSettlement");
    let product = part("SpecifiedTradeProduct");
    let quantity = find(line, &[ram("SpecifiedLineTradeDelivery"), ram("BilledQuantity")]);
    let tax = at(settlement, &[ram("ApplicableTradeTax")]);
    let net_price = at(agreement, &[ram("NetPriceProductTradePrice")]);
    let gross_price = at(agreement, &[ram("GrossPriceProductTradePrice")]);
    let base_quantity = at(net_price, &[ram("BasisQuantity")]).or_else(|| at(gross_price, &[ram("BasisQuantity")]));
    let references = all(settlement, &[ram("AdditionalReferencedDocument")]);
    let (allowances, charges) =
        allowances_and_charges(all(settlement, &[ram("SpecifiedTradeAllowanceCharge")]), Level::Line);
    let item = |path: &[Step<'_>]| at(product, path);
    Line {
        id: text(at(document, &[ram("LineID")])),
        note: text(at(document, &[ram("IncludedNote"), ram("Content")])),
        object: of_type(&references, "130").into_iter().find_map(object_identifier),
        quantity: amount(quantity),
        unit: attribute(quantity, "unitCode"),
        net_amount: amount(at(
            settlement,
            &[ram("SpecifiedTradeSettlementLineMonetarySummation"), ram("LineTotalAmount")],
        )),
        order_line: text(at(agreement, &[ram("BuyerOrderReferencedDocument"), ram("LineID")])),
        buyer_accounting_reference: text(at(
            settlement,
            &[ram("ReceivableSpecifiedTradeAccountingAccount"), ram("ID")],
        )),
        period: period(at(settlement, &[ram("BillingSpecifiedPeriod")])),
        allowances,
        charges,
        net_price: amount(at(net_price, &[ram("ChargeAmount")])),
        price_discount: amount(at(gross_price, &[ram("AppliedTradeAllowanceCharge"), ram("ActualAmount")])),
        gross_price: amount(at(gross_price, &[ram("ChargeAmount")])),
        base_quantity: amount(base_quantity),
        base_quantity_unit: attribute(base_quantity, "unitCode"),
        vat_category: text(at(tax, &[ram("CategoryCode")])),
        vat_rate: amount(at(tax, &[ram("RateApplicablePercent")])),
        item_name: text(item(&[ram("Name")])),
        item_description: text(item(&[ram("Description")])),
        seller_item_id: text(item(&[ram("SellerAssignedID")])),
        buyer_item_id: text(item(&[ram("BuyerAssignedID")])),
        standard_item_id: identifier(item(&[ram("GlobalID")])),
        classifications: all(product, &[ram("DesignatedProductClassification"), ram("ClassCode")])
            .into_iter()
            .filter_map(classification)
            .collect(),
        origin_country: text(item(&[ram("OriginTradeCountry"), ram("ID")])),
        attributes: all(product, &[ram("ApplicableProductCharacteristic")])
            .into_iter()
            .filter_map(item_attribute)
            .collect(),
        sub_lines: Vec::new(),
    }
}

/// BG-25 with XRechnung's sub-invoice lines nested: a line item naming a ram:ParentLineID goes
/// into the line with that BT-126 (the first, should two share it), in document order. A line
/// whose parent is unknown, itself or part of a cycle stays at the top, so no line is lost. No
/// recursion: a chain of parents may be as long as the invoice; its nesting is cut at
/// [`MAX_SUB_LINE_DEPTH`] levels.
fn nested_lines(items: Vec<Node<'_, '_>>) -> Vec<Line> {
    let parent_ids: Vec<Option<String>> =
        items.iter().map(|i| text(find(*i, &[ram("AssociatedDocumentLineDocument"), ram("ParentLineID")]))).collect();
    let mut lines: Vec<Option<Line>> = items.into_iter().map(|i| Some(line(i))).collect();
    let mut by_id = std::collections::HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(id) = l.as_ref().and_then(|l| l.id.clone()) {
            by_id.entry(id).or_insert(i);
        }
    }
    let mut parent: Vec<Option<usize>> = parent_ids
        .iter()
        .enumerate()
        .map(|(i, p)| p.as_ref().and_then(|p| by_id.get(p).copied()).filter(|&p| p != i))
        .collect();
    let depth = break_cycles_and_measure(&mut parent);
    // Deepest first, so that a line holds its own sub-lines when it moves into its parent.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(depth[i]));
    for i in order {
        // A parent is shallower than its sub-lines, so it is still in place.
        let Some(p) = parent[i].filter(|&p| lines[p].is_some()) else { continue };
        if let Some(child) = lines[i].take()
            && let Some(parent_line) = lines[p].as_mut()
        {
            parent_line.sub_lines.push(child);
        }
    }
    lines.into_iter().flatten().collect()
}

/// The deepest sub-line level kept (the test suite nests three).
const MAX_SUB_LINE_DEPTH: usize = 64;

/// Cuts the parent links that close a cycle or reach below [`MAX_SUB_LINE_DEPTH`] and returns
/// each line's depth (0 at the top), in time linear in the number of lines.
fn break_cycles_and_measure(parent: &mut [Option<usize>]) -> Vec<usize> {
    const UNKNOWN: usize = usize::MAX;
    let mut depth = vec![UNKNOWN; parent.len()];
    let mut on_path = vec![false; parent.len()];
    for start in 0..parent.len() {
        let mut path = Vec::new();
        let mut at = start;
        while depth[at] == UNKNOWN {
            on_path[at] = true;
            path.push(at);
            match parent[at] {
                Some(p) if on_path[p] => {
                    parent[at] = None; // the link back into the path closes a cycle
                    break;
                }
                Some(p) => at = p,
                None => break,
            }
        }
        // Unwind: a line's depth is its parent's plus one; below the deepest level a line
        // starts again at the top (nested values are dropped and compared recursively).
        while let Some(i) = path.pop() {
            on_path[i] = false;
            depth[i] = match parent[i] {
                Some(p) if depth[p] < MAX_SUB_LINE_DEPTH => depth[p] + 1,
                _ => {
                    parent[i] = None;
                    0
                }
            };
        }
    }
    depth
}

pub(super) fn invoice(root: Node<'_, '_>) -> Invoice {
    let context = find(root, &[rsm("ExchangedDocumentContext")]);
    let document = find(root, &[rsm("ExchangedDocument")]);
    let transaction = find(root, &[rsm("SupplyChainTradeTransaction")]);
    let agreement = at(transaction, &[ram("ApplicableHeaderTradeAgreement")]);
    let delivery_node = at(transaction, &[ram("ApplicableHeaderTradeDelivery")]);
    let settlement = at(transaction, &[ram("ApplicableHeaderTradeSettlement")]);
    let in_agreement = |path: &[Step<'_>]| text(at(agreement, path));
    let in_settlement = |path: &[Step<'_>]| text(at(settlement, path));
    let currency = in_settlement(&[ram("InvoiceCurrencyCode")]);
    let tax_currency = in_settlement(&[ram("TaxCurrencyCode")]);
    let taxes = all(settlement, &[ram("ApplicableTradeTax")]);
    let references = all(agreement, &[ram("AdditionalReferencedDocument")]);
    let (allowances, charges) =
        allowances_and_charges(all(settlement, &[ram("SpecifiedTradeAllowanceCharge")]), Level::Document);
    Invoice {
        number: text(at(document, &[ram("ID")])),
        issue_date: cii_date(at(document, &[ram("IssueDateTime"), udt("DateTimeString")])),
        type_code: text(at(document, &[ram("TypeCode")])),
        totals: totals(settlement, currency.as_deref(), tax_currency.as_deref()),
        currency,
        tax_currency,
        tax_point_date: taxes.iter().find_map(|t| cii_date(find(*t, &[ram("TaxPointDate"), udt("DateString")]))),
        tax_point_date_code: taxes
            .iter()
            .find_map(|t| text(find(*t, &[ram("DueDateTypeCode")])))
            .map(tax_point_date_code),
        due_date: all(settlement, &[ram("SpecifiedTradePaymentTerms"), ram("DueDateDateTime"), udt("DateTimeString")])
            .into_iter()
            .find_map(|d| cii_date(Some(d))),
        buyer_reference: in_agreement(&[ram("BuyerReference")]),
        project_reference: in_agreement(&[ram("SpecifiedProcuringProject"), ram("ID")]),
        contract_reference: in_agreement(&[ram("ContractReferencedDocument"), ram("IssuerAssignedID")]),
        order_reference: in_agreement(&[ram("BuyerOrderReferencedDocument"), ram("IssuerAssignedID")]),
        sales_order_reference: in_agreement(&[ram("SellerOrderReferencedDocument"), ram("IssuerAssignedID")]),
        receiving_advice_reference: text(at(
            delivery_node,
            &[ram("ReceivingAdviceReferencedDocument"), ram("IssuerAssignedID")],
        )),
        despatch_advice_reference: text(at(
            delivery_node,
            &[ram("DespatchAdviceReferencedDocument"), ram("IssuerAssignedID")],
        )),
        tender_reference: of_type(&references, "50")
            .into_iter()
            .find_map(|d| text(find(d, &[ram("IssuerAssignedID")]))),
        invoiced_object: of_type(&references, "130").into_iter().find_map(object_identifier),
        buyer_accounting_reference: in_settlement(&[ram("ReceivableSpecifiedTradeAccountingAccount"), ram("ID")]),
        payment_terms: first_text(settlement, &[ram("SpecifiedTradePaymentTerms"), ram("Description")]),
        notes: all(document, &[ram("IncludedNote")]).into_iter().filter_map(note).collect(),
        business_process: text(at(context, &[ram("BusinessProcessSpecifiedDocumentContextParameter"), ram("ID")])),
        specification: text(at(context, &[ram("GuidelineSpecifiedDocumentContextParameter"), ram("ID")])),
        preceding_invoices: all(settlement, &[ram("InvoiceReferencedDocument")])
            .into_iter()
            .filter_map(preceding_invoice)
            .collect(),
        seller: party(at(agreement, &[ram("SellerTradeParty")])),
        buyer: buyer(at(agreement, &[ram("BuyerTradeParty")])),
        payee: at(settlement, &[ram("PayeeTradeParty")]).map(payee),
        tax_representative: at(agreement, &[ram("SellerTaxRepresentativeTradeParty")]).map(tax_representative),
        delivery: delivery(delivery_node),
        period: period(at(settlement, &[ram("BillingSpecifiedPeriod")])),
        payment_means: payment_means(settlement),
        allowances,
        charges,
        vat_breakdown: taxes.into_iter().map(vat_breakdown).collect(),
        documents: supporting_documents(root).into_iter().map(supporting_document).collect(),
        lines: nested_lines(all(transaction, &[ram("IncludedSupplyChainTradeLineItem")])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMESPACES: &str = concat!(
        r#"xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" "#,
        r#"xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" "#,
        r#"xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100" "#,
        r#"xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100""#,
    );

    /// Maps a CII invoice whose rsm:SupplyChainTradeTransaction holds `transaction`.
    fn map(transaction: &str) -> Invoice {
        let xml = format!(
            "<rsm:CrossIndustryInvoice {NAMESPACES}><rsm:ExchangedDocument><ram:ID>1</ram:ID></rsm:ExchangedDocument>\
             <rsm:SupplyChainTradeTransaction>{transaction}</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"
        );
        let (doc, syntax) = crate::reader::parse(&xml).expect("parses");
        assert!(matches!(syntax, Syntax::Cii));
        Invoice::from_document(&doc, syntax)
    }

    fn agreement(inner: &str) -> String {
        format!("<ram:ApplicableHeaderTradeAgreement>{inner}</ram:ApplicableHeaderTradeAgreement>")
    }

    fn settlement(inner: &str) -> String {
        format!("<ram:ApplicableHeaderTradeSettlement>{inner}</ram:ApplicableHeaderTradeSettlement>")
    }

    fn line_item(id: &str, inner: &str) -> String {
        format!(
            "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>{id}</ram:LineID>\
             </ram:AssociatedDocumentLineDocument>{inner}</ram:IncludedSupplyChainTradeLineItem>"
        )
    }

    fn allowance_or_charge(charge: bool, amount: &str) -> String {
        format!(
            "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>{charge}</udt:Indicator></ram:ChargeIndicator>\
             <ram:ActualAmount>{amount}</ram:ActualAmount><ram:Reason>r{amount}</ram:Reason>\
             <ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>\
             <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>"
        )
    }

    fn dec(text: &str) -> Option<Amount> {
        Some(Decimal::parse(text, false).expect("decimal"))
    }

    fn id(id: &str, scheme: Option<&str>) -> Identifier {
        Identifier { id: id.to_string(), scheme: scheme.map(str::to_string) }
    }

    #[test]
    fn vat_point_date_code_is_converted_from_untdid_2475_to_2005() {
        for (written, expected) in [("5", "3"), ("29", "35"), ("72", "432"), ("99", "99")] {
            let invoice = map(&settlement(&format!(
                "<ram:ApplicableTradeTax><ram:TaxPointDate><udt:DateString format=\"102\">20240131</udt:DateString>\
                 </ram:TaxPointDate><ram:DueDateTypeCode>{written}</ram:DueDateTypeCode></ram:ApplicableTradeTax>"
            )));
            assert_eq!(invoice.tax_point_date_code.as_deref(), Some(expected));
            assert_eq!(invoice.tax_point_date.as_deref(), Some("2024-01-31"));
        }
    }

    #[test]
    fn vat_identifier_and_tax_registration_are_told_apart_by_scheme() {
        let registrations = "<ram:SpecifiedTaxRegistration><ram:ID schemeID=\"FC\">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration>\
             <ram:SpecifiedTaxRegistration><ram:ID schemeID=\"VA\">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>";
        let invoice = map(&agreement(&format!(
            "<ram:SellerTradeParty><ram:Name>S</ram:Name>{registrations}</ram:SellerTradeParty>\
             <ram:BuyerTradeParty><ram:Name>B</ram:Name>{registrations}</ram:BuyerTradeParty>"
        )));
        assert_eq!(invoice.seller.vat_id.as_deref(), Some("DE123456789"));
        assert_eq!(invoice.seller.tax_registration.as_deref(), Some("201/113/40209"));
        assert_eq!(invoice.buyer.vat_id.as_deref(), Some("DE123456789"));
        assert_eq!(invoice.buyer.tax_registration, None, "BT-32 is a seller term");
    }

    #[test]
    fn additional_documents_are_told_apart_by_type_code() {
        let invoice = map(&agreement(
            "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>LOT-7</ram:IssuerAssignedID>\
             <ram:TypeCode>50</ram:TypeCode></ram:AdditionalReferencedDocument>\
             <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>METER-1</ram:IssuerAssignedID>\
             <ram:TypeCode>130</ram:TypeCode><ram:ReferenceTypeCode>AUN</ram:ReferenceTypeCode></ram:AdditionalReferencedDocument>\
             <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>T-1</ram:IssuerAssignedID>\
             <ram:URIID>https://example.org/t1</ram:URIID><ram:TypeCode>916</ram:TypeCode><ram:Name>Timesheet</ram:Name>\
             <ram:AttachmentBinaryObject mimeCode=\"text/plain\" filename=\"t1.txt\">aGVs\n bG8=</ram:AttachmentBinaryObject>\
             </ram:AdditionalReferencedDocument>",
        ));
        assert_eq!(invoice.tender_reference.as_deref(), Some("LOT-7"));
        assert_eq!(invoice.invoiced_object, Some(id("METER-1", Some("AUN"))));
        assert_eq!(
            invoice.documents,
            vec![SupportingDocument {
                reference: "T-1".to_string(),
                description: Some("Timesheet".to_string()),
                location: Some("https://example.org/t1".to_string()),
                attachment: Some(Attachment {
                    filename: Some("t1.txt".to_string()),
                    mime_code: Some("text/plain".to_string()),
                    bytes: 5,
                }),
            }]
        );
    }

    #[test]
    fn price_details_take_discount_and_gross_price_from_the_gross_price() {
        let gross = "<ram:GrossPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount>\
             <ram:BasisQuantity unitCode=\"H87\">2</ram:BasisQuantity><ram:AppliedTradeAllowanceCharge>\
             <ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>\
             <ram:ActualAmount>1.50</ram:ActualAmount></ram:AppliedTradeAllowanceCharge></ram:GrossPriceProductTradePrice>";
        let invoice = map(&[
            line_item(
                "1",
                &format!(
                    "<ram:SpecifiedLineTradeAgreement>{gross}<ram:NetPriceProductTradePrice>\
                     <ram:ChargeAmount>8.50</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
                ),
            ),
            line_item(
                "2",
                &format!(
                    "<ram:SpecifiedLineTradeAgreement>{gross}<ram:NetPriceProductTradePrice>\
                     <ram:ChargeAmount>8.50</ram:ChargeAmount><ram:BasisQuantity unitCode=\"KGM\">5</ram:BasisQuantity>\
                     </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
                ),
            ),
        ]
        .concat());
        let first = &invoice.lines[0];
        assert_eq!((first.net_price, first.price_discount, first.gross_price), (dec("8.5"), dec("1.5"), dec("10")));
        assert_eq!((first.base_quantity, first.base_quantity_unit.as_deref()), (dec("2"), Some("H87")));
        let second = &invoice.lines[1];
        assert_eq!((second.base_quantity, second.base_quantity_unit.as_deref()), (dec("5"), Some("KGM")));
    }

    #[test]
    fn item_classification_scheme_carries_its_version() {
        let invoice = map(&line_item(
            "1",
            "<ram:SpecifiedTradeProduct><ram:Name>Item</ram:Name>\
             <ram:DesignatedProductClassification><ram:ClassCode listID=\"STI\" listVersionID=\"2.1\">65434568</ram:ClassCode>\
             </ram:DesignatedProductClassification>\
             <ram:DesignatedProductClassification><ram:ClassCode listID=\"TST\">X1</ram:ClassCode>\
             </ram:DesignatedProductClassification></ram:SpecifiedTradeProduct>",
        ));
        assert_eq!(invoice.lines[0].classifications, vec![id("65434568", Some("STI 2.1")), id("X1", Some("TST"))]);
    }

    #[test]
    fn vat_total_in_accounting_currency_only_when_that_currency_differs() {
        let summation = "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>\
             <ram:TaxTotalAmount currencyID=\"EUR\">19.00</ram:TaxTotalAmount>\
             <ram:TaxTotalAmount currencyID=\"GBP\">16.50</ram:TaxTotalAmount>\
             </ram:SpecifiedTradeSettlementHeaderMonetarySummation>";
        let with = |tax_currency: &str| {
            map(&settlement(&format!(
                "<ram:TaxCurrencyCode>{tax_currency}</ram:TaxCurrencyCode>\
                 <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>{summation}"
            )))
            .totals
        };
        let gbp = with("GBP");
        assert_eq!((gbp.vat, gbp.vat_in_tax_currency), (dec("19"), dec("16.5")));
        let eur = with("EUR");
        assert_eq!((eur.vat, eur.vat_in_tax_currency), (dec("19"), None));
    }

    #[test]
    fn every_payment_means_carries_remittance_mandate_and_creditor_id() {
        let invoice = map(&settlement(
            "<ram:CreditorReferenceID>DE98ZZZ09999999999</ram:CreditorReferenceID>\
             <ram:PaymentReference>RE-4711</ram:PaymentReference>\
             <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>\
             <ram:PayeePartyCreditorFinancialAccount><ram:ProprietaryID>12345</ram:ProprietaryID>\
             </ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>\
             <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>59</ram:TypeCode>\
             <ram:PayerPartyDebtorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>\
             </ram:PayerPartyDebtorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>\
             <ram:SpecifiedTradePaymentTerms><ram:DirectDebitMandateID>M-1</ram:DirectDebitMandateID>\
             </ram:SpecifiedTradePaymentTerms>",
        ));
        assert_eq!(invoice.payment_means.len(), 2);
        for means in &invoice.payment_means {
            assert_eq!(means.remittance.as_deref(), Some("RE-4711"));
            assert_eq!(means.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
            assert_eq!(means.mandate.as_deref(), Some("M-1"));
        }
        assert_eq!(invoice.payment_means[0].account.as_deref(), Some("12345"));
        assert_eq!(invoice.payment_means[0].debited_account, None);
        assert_eq!(invoice.payment_means[1].debited_account.as_deref(), Some("DE02120300000000202051"));
    }

    #[test]
    fn allowances_and_charges_are_split_by_indicator_and_only_the_document_level_has_vat() {
        let both = [allowance_or_charge(false, "1"), allowance_or_charge(true, "2")].concat();
        let invoice = map(&[
            line_item("1", &format!("<ram:SpecifiedLineTradeSettlement>{both}</ram:SpecifiedLineTradeSettlement>")),
            settlement(&both),
        ]
        .concat());
        let document_level = |amount: &str| AllowanceCharge {
            amount: dec(amount),
            base: None,
            percent: None,
            vat_category: Some("S".to_string()),
            vat_rate: dec("19"),
            reason: Some(format!("r{amount}")),
            reason_code: None,
        };
        assert_eq!(invoice.allowances, vec![document_level("1")]);
        assert_eq!(invoice.charges, vec![document_level("2")]);
        let line_level =
            |amount: &str| AllowanceCharge { vat_category: None, vat_rate: None, ..document_level(amount) };
        assert_eq!(invoice.lines[0].allowances, vec![line_level("1")]);
        assert_eq!(invoice.lines[0].charges, vec![line_level("2")]);
    }

    #[test]
    fn contact_point_is_the_person_or_else_the_department() {
        let invoice = map(&agreement(
            "<ram:SellerTradeParty><ram:DefinedTradeContact><ram:DepartmentName>Billing</ram:DepartmentName>\
             </ram:DefinedTradeContact></ram:SellerTradeParty>\
             <ram:BuyerTradeParty><ram:DefinedTradeContact><ram:PersonName>Erika</ram:PersonName>\
             <ram:DepartmentName>Purchasing</ram:DepartmentName></ram:DefinedTradeContact></ram:BuyerTradeParty>",
        ));
        assert_eq!(invoice.seller.contact.name.as_deref(), Some("Billing"));
        assert_eq!(invoice.buyer.contact.name.as_deref(), Some("Erika"));
    }

    fn sub_line(id: &str, parent: &str) -> String {
        format!(
            "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>\
             <ram:LineID>{id}</ram:LineID><ram:ParentLineID>{parent}</ram:ParentLineID>\
             </ram:AssociatedDocumentLineDocument></ram:IncludedSupplyChainTradeLineItem>"
        )
    }

    fn tree(lines: &[Line]) -> String {
        let node = |l: &Line| match l.sub_lines.as_slice() {
            [] => l.id.clone().unwrap_or_default(),
            subs => format!("{}({})", l.id.as_deref().unwrap_or_default(), tree(subs)),
        };
        lines.iter().map(node).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn sub_lines_of_the_extension_nest_under_their_parent_in_document_order() {
        let items = [
            sub_line("1.2.1", "1.2"),
            line_item("1", ""),
            sub_line("1.1", "1"),
            sub_line("1.2", "1"),
            line_item("2", ""),
            sub_line("3.1", "3"), // no line 3: stays at the top
        ];
        assert_eq!(tree(&map(&items.concat()).lines), "1(1.1 1.2(1.2.1)) 2 3.1");
    }

    #[test]
    fn lines_that_name_each_other_as_parents_stay_at_the_top_and_long_chains_are_cut_in_linear_time() {
        let cycle = [sub_line("a", "b"), sub_line("b", "c"), sub_line("c", "a"), sub_line("d", "d")];
        assert_eq!(tree(&map(&cycle.concat()).lines), "c(b(a)) d");
        let chain: Vec<String> = (1..5_000).map(|i| sub_line(&i.to_string(), &(i - 1).to_string())).collect();
        let lines = map(&[line_item("0", ""), chain.concat()].concat()).lines;
        let (mut depth, mut at) = (0, &lines[0]);
        while let Some(next) = at.sub_lines.first() {
            (depth, at) = (depth + 1, next);
        }
        // Every 65th line of the chain starts again at the top: 77 top lines, 64 levels below.
        assert_eq!((lines.len(), depth), (77, MAX_SUB_LINE_DEPTH));
    }

    #[test]
    fn party_identifiers_prefer_global_identifiers() {
        let invoice = map(&agreement(
            "<ram:SellerTradeParty><ram:ID>K-1</ram:ID><ram:ID>K-2</ram:ID></ram:SellerTradeParty>\
             <ram:BuyerTradeParty><ram:ID>D-1</ram:ID><ram:GlobalID schemeID=\"0088\">4000001000005</ram:GlobalID>\
             </ram:BuyerTradeParty>",
        ));
        assert_eq!(invoice.seller.identifiers, vec![id("K-1", None), id("K-2", None)]);
        assert_eq!(invoice.buyer.identifiers, vec![id("4000001000005", Some("0088"))]);
    }

    #[test]
    fn payee_and_tax_representative_keep_only_their_terms() {
        assert_eq!((map("").payee, map("").tax_representative), (None, None));
        let address = "<ram:PostalTradeAddress><ram:CityName>Bonn</ram:CityName><ram:CountryID>DE</ram:CountryID>\
             </ram:PostalTradeAddress>";
        let invoice = map(&[
            agreement(&format!(
                "<ram:SellerTaxRepresentativeTradeParty><ram:ID>X</ram:ID><ram:Name>Rep</ram:Name>{address}\
                 <ram:SpecifiedTaxRegistration><ram:ID schemeID=\"VA\">DE111</ram:ID></ram:SpecifiedTaxRegistration>\
                 </ram:SellerTaxRepresentativeTradeParty>"
            )),
            settlement(&format!(
                "<ram:PayeeTradeParty><ram:ID>P-1</ram:ID><ram:Name>Factor</ram:Name>\
                 <ram:SpecifiedLegalOrganization><ram:ID schemeID=\"0204\">HRB 1</ram:ID></ram:SpecifiedLegalOrganization>\
                 {address}</ram:PayeeTradeParty>"
            )),
        ]
        .concat());
        let payee = invoice.payee.expect("payee");
        assert_eq!(payee.name.as_deref(), Some("Factor"));
        assert_eq!(payee.identifiers, vec![id("P-1", None)]);
        assert_eq!(payee.legal_registration, Some(id("HRB 1", Some("0204"))));
        assert_eq!(payee.address, Address::default());
        let representative = invoice.tax_representative.expect("tax representative");
        assert_eq!(representative.vat_id.as_deref(), Some("DE111"));
        assert_eq!(representative.address.city.as_deref(), Some("Bonn"));
        assert!(representative.identifiers.is_empty());
    }
}
