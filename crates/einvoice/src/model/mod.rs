//! The EN 16931 semantic model (business terms BT-n, business groups BG-n) and its mappers from
//! UBL (`ubl.rs`) and from CII (`cii.rs`). Both syntaxes of the same invoice map to equal models
//! (a test checks every pair of the XRechnung test suite); the rule engine does not need the
//! model (it evaluates on the tree), the review, rendering and booking steps do.
//!
//! The model holds every term of EN 16931-1 (the core invoice model), in the groups of the
//! standard. Values are kept as written (trimmed), except where the two syntaxes encode one term
//! differently: dates are ISO `YYYY-MM-DD` (CII writes `YYYYMMDD`), the VAT point date code
//! (BT-8) is UNTDID 2005 (CII writes UNTDID 2475), amounts are exact decimals. An attached
//! document (BT-125) is kept by its name, MIME code and size, not its bytes. Of XRechnung's
//! extension the model keeps the sub-invoice lines (nested in their line); third-party payments
//! are not part of it.

mod cii;
mod ubl;

use crate::decimal::Decimal;
use crate::reader::{Syntax, ns};
use roxmltree::Node;

/// An amount, rate or quantity, exact.
pub type Amount = Decimal;

/// An identifier with its optional scheme (e.g. BT-29 with BT-29-1, a GLN with `0088`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifier {
    pub id: String,
    pub scheme: Option<String>,
}

/// An invoice (or credit note) in EN 16931 terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invoice {
    /// BT-1 Invoice number.
    pub number: Option<String>,
    /// BT-2 Invoice issue date (`YYYY-MM-DD`).
    pub issue_date: Option<String>,
    /// BT-3 Invoice type code (UNTDID 1001, e.g. 380 invoice, 381 credit note).
    pub type_code: Option<String>,
    /// BT-5 Invoice currency code.
    pub currency: Option<String>,
    /// BT-6 VAT accounting currency code.
    pub tax_currency: Option<String>,
    /// BT-7 Value added tax point date (`YYYY-MM-DD`).
    pub tax_point_date: Option<String>,
    /// BT-8 Value added tax point date code (UNTDID 2005: 3 invoice date, 35 delivery date,
    /// 432 payment date).
    pub tax_point_date_code: Option<String>,
    /// BT-9 Payment due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// BT-10 Buyer reference (in XRechnung the Leitweg-ID).
    pub buyer_reference: Option<String>,
    /// BT-11 Project reference.
    pub project_reference: Option<String>,
    /// BT-12 Contract reference.
    pub contract_reference: Option<String>,
    /// BT-13 Purchase order reference.
    pub order_reference: Option<String>,
    /// BT-14 Sales order reference.
    pub sales_order_reference: Option<String>,
    /// BT-15 Receiving advice reference.
    pub receiving_advice_reference: Option<String>,
    /// BT-16 Despatch advice reference.
    pub despatch_advice_reference: Option<String>,
    /// BT-17 Tender or lot reference.
    pub tender_reference: Option<String>,
    /// BT-18 Invoiced object identifier, with its scheme (BT-18-1).
    pub invoiced_object: Option<Identifier>,
    /// BT-19 Buyer accounting reference.
    pub buyer_accounting_reference: Option<String>,
    /// BT-20 Payment terms (XRechnung encodes Skonto here).
    pub payment_terms: Option<String>,
    /// BG-1 Invoice notes.
    pub notes: Vec<Note>,
    /// BT-23 Business process type (BG-2).
    pub business_process: Option<String>,
    /// BT-24 Specification identifier (BG-2; the CustomizationID).
    pub specification: Option<String>,
    /// BG-3 Preceding invoice references.
    pub preceding_invoices: Vec<PrecedingInvoice>,
    /// BG-4 Seller.
    pub seller: Party,
    /// BG-7 Buyer.
    pub buyer: Party,
    /// BG-10 Payee (name BT-59, identifier BT-60, legal registration BT-61), when not the seller.
    pub payee: Option<Party>,
    /// BG-11 Seller tax representative party (name BT-62, VAT identifier BT-63, address BG-12).
    pub tax_representative: Option<Party>,
    /// BG-13 Delivery information.
    pub delivery: Delivery,
    /// BG-14 Invoicing period.
    pub period: Period,
    /// BG-16 Payment instructions, one per payment means (BT-81).
    pub payment_means: Vec<PaymentMeans>,
    /// BG-20 Document level allowances.
    pub allowances: Vec<AllowanceCharge>,
    /// BG-21 Document level charges.
    pub charges: Vec<AllowanceCharge>,
    /// BG-22 Document totals.
    pub totals: Totals,
    /// BG-23 VAT breakdown.
    pub vat_breakdown: Vec<VatBreakdown>,
    /// BG-24 Additional supporting documents.
    pub documents: Vec<SupportingDocument>,
    /// BG-25 Invoice lines.
    pub lines: Vec<Line>,
}

/// BG-1 Invoice note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    /// BT-21 Invoice note subject code (UNTDID 4451, e.g. `AAB`, `REG`).
    pub subject: Option<String>,
    /// BT-22 Invoice note.
    pub text: String,
}

/// BG-3 Preceding invoice reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrecedingInvoice {
    /// BT-25 Preceding invoice reference.
    pub number: String,
    /// BT-26 Preceding invoice issue date (`YYYY-MM-DD`).
    pub issue_date: Option<String>,
}

/// A party: BG-4 Seller, BG-7 Buyer, BG-10 Payee or BG-11 Seller tax representative. Each role
/// uses the terms the standard gives it; the others stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// BT-27 / BT-44 / BT-59 / BT-62 name.
    pub name: Option<String>,
    /// BT-28 / BT-45 trading name.
    pub trading_name: Option<String>,
    /// BT-29 Seller identifiers / BT-46 Buyer identifier / BT-60 Payee identifier, with schemes.
    pub identifiers: Vec<Identifier>,
    /// BT-30 / BT-47 / BT-61 legal registration identifier, with its scheme.
    pub legal_registration: Option<Identifier>,
    /// BT-31 / BT-48 / BT-63 VAT identifier.
    pub vat_id: Option<String>,
    /// BT-32 Seller tax registration identifier (the German Steuernummer).
    pub tax_registration: Option<String>,
    /// BT-33 Seller additional legal information.
    pub legal_information: Option<String>,
    /// BT-34 / BT-49 electronic address, as (scheme BT-34-1 / BT-49-1, address).
    pub electronic_address: Option<(String, String)>,
    /// BG-5 / BG-8 / BG-12 postal address.
    pub address: Address,
    /// BG-6 / BG-9 contact.
    pub contact: Contact,
}

/// BG-5 / BG-8 / BG-12 / BG-15 postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// BT-35 / BT-50 / BT-64 / BT-75 address line 1.
    pub line1: Option<String>,
    /// BT-36 / BT-51 / BT-65 / BT-76 address line 2.
    pub line2: Option<String>,
    /// BT-162 / BT-163 / BT-164 / BT-165 address line 3.
    pub line3: Option<String>,
    /// BT-37 / BT-52 / BT-66 / BT-77 city.
    pub city: Option<String>,
    /// BT-38 / BT-53 / BT-67 / BT-78 post code.
    pub post_code: Option<String>,
    /// BT-39 / BT-54 / BT-68 / BT-79 country subdivision.
    pub subdivision: Option<String>,
    /// BT-40 / BT-55 / BT-69 / BT-80 country code.
    pub country: Option<String>,
}

/// BG-6 Seller contact / BG-9 Buyer contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// BT-41 / BT-56 contact point.
    pub name: Option<String>,
    /// BT-42 / BT-57 telephone number.
    pub telephone: Option<String>,
    /// BT-43 / BT-58 email address.
    pub email: Option<String>,
}

/// BG-13 Delivery information.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// BT-70 Deliver to party name.
    pub party_name: Option<String>,
    /// BT-71 Deliver to location identifier, with its scheme.
    pub location: Option<Identifier>,
    /// BT-72 Actual delivery date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// BG-15 Deliver to address.
    pub address: Address,
}

/// BG-14 Invoicing period / BG-26 Invoice line period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    /// BT-73 / BT-134 start date (`YYYY-MM-DD`).
    pub start: Option<String>,
    /// BT-74 / BT-135 end date (`YYYY-MM-DD`).
    pub end: Option<String>,
}

/// BG-16 Payment instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMeans {
    /// BT-81 Payment means type code (UNTDID 4461; 58 SEPA credit transfer, 59 SEPA direct debit).
    pub code: Option<String>,
    /// BT-82 Payment means text.
    pub text: Option<String>,
    /// BT-83 Remittance information.
    pub remittance: Option<String>,
    /// BT-84 Payment account identifier (IBAN), BG-17 credit transfer.
    pub account: Option<String>,
    /// BT-85 Payment account name.
    pub account_name: Option<String>,
    /// BT-86 Payment service provider identifier (BIC).
    pub provider: Option<String>,
    /// BT-87 Payment card primary account number (BG-18; as written, usually masked).
    pub card_number: Option<String>,
    /// BT-88 Payment card holder name.
    pub card_holder: Option<String>,
    /// BT-89 Mandate reference identifier (BG-19 direct debit).
    pub mandate: Option<String>,
    /// BT-90 Bank assigned creditor identifier.
    pub creditor_id: Option<String>,
    /// BT-91 Debited account identifier.
    pub debited_account: Option<String>,
}

/// BG-20 / BG-21 document level allowance or charge, BG-27 / BG-28 line level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowanceCharge {
    /// BT-92 / BT-99 / BT-136 / BT-141 amount.
    pub amount: Option<Amount>,
    /// BT-93 / BT-100 / BT-137 / BT-142 base amount.
    pub base: Option<Amount>,
    /// BT-94 / BT-101 / BT-138 / BT-143 percentage.
    pub percent: Option<Amount>,
    /// BT-95 / BT-102 VAT category code (document level only).
    pub vat_category: Option<String>,
    /// BT-96 / BT-103 VAT rate (document level only).
    pub vat_rate: Option<Amount>,
    /// BT-97 / BT-104 / BT-139 / BT-144 reason.
    pub reason: Option<String>,
    /// BT-98 / BT-105 / BT-140 / BT-145 reason code (UNTDID 5189 / 7161).
    pub reason_code: Option<String>,
}

/// BG-22 Document totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// BT-106 Sum of invoice line net amounts.
    pub line_net: Option<Amount>,
    /// BT-107 Sum of allowances on document level.
    pub allowances: Option<Amount>,
    /// BT-108 Sum of charges on document level.
    pub charges: Option<Amount>,
    /// BT-109 Invoice total amount without VAT.
    pub without_vat: Option<Amount>,
    /// BT-110 Invoice total VAT amount (in the invoice currency).
    pub vat: Option<Amount>,
    /// BT-111 Invoice total VAT amount in accounting currency (BT-6).
    pub vat_in_tax_currency: Option<Amount>,
    /// BT-112 Invoice total amount with VAT.
    pub with_vat: Option<Amount>,
    /// BT-113 Paid amount.
    pub paid: Option<Amount>,
    /// BT-114 Rounding amount.
    pub rounding: Option<Amount>,
    /// BT-115 Amount due for payment.
    pub due: Option<Amount>,
}

/// BG-23 VAT breakdown, one per VAT category and rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VatBreakdown {
    /// BT-116 VAT category taxable amount.
    pub taxable: Option<Amount>,
    /// BT-117 VAT category tax amount.
    pub tax: Option<Amount>,
    /// BT-118 VAT category code (S, Z, E, AE, K, G, O, L, M).
    pub category: Option<String>,
    /// BT-119 VAT category rate.
    pub rate: Option<Amount>,
    /// BT-120 VAT exemption reason text.
    pub exemption_reason: Option<String>,
    /// BT-121 VAT exemption reason code (VATEX).
    pub exemption_code: Option<String>,
}

/// BG-24 Additional supporting document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportingDocument {
    /// BT-122 Supporting document reference.
    pub reference: String,
    /// BT-123 Supporting document description.
    pub description: Option<String>,
    /// BT-124 External document location (a URL).
    pub location: Option<String>,
    /// BT-125 Attached document: its file name, MIME code and decoded size.
    pub attachment: Option<Attachment>,
}

/// BT-125 Attached document, without its content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    /// BT-125-2 Attached document filename.
    pub filename: Option<String>,
    /// BT-125-1 Attached document MIME code.
    pub mime_code: Option<String>,
    /// Size of the decoded content in bytes (from the base64 text).
    pub bytes: usize,
}

/// BG-25 Invoice line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// BT-126 Invoice line identifier.
    pub id: Option<String>,
    /// BT-127 Invoice line note.
    pub note: Option<String>,
    /// BT-128 Invoice line object identifier, with its scheme.
    pub object: Option<Identifier>,
    /// BT-129 Invoiced quantity.
    pub quantity: Option<Amount>,
    /// BT-130 Invoiced quantity unit of measure code.
    pub unit: Option<String>,
    /// BT-131 Invoice line net amount.
    pub net_amount: Option<Amount>,
    /// BT-132 Referenced purchase order line reference.
    pub order_line: Option<String>,
    /// BT-133 Invoice line buyer accounting reference.
    pub buyer_accounting_reference: Option<String>,
    /// BG-26 Invoice line period.
    pub period: Period,
    /// BG-27 Invoice line allowances.
    pub allowances: Vec<AllowanceCharge>,
    /// BG-28 Invoice line charges.
    pub charges: Vec<AllowanceCharge>,
    /// BT-146 Item net price (BG-29).
    pub net_price: Option<Amount>,
    /// BT-147 Item price discount.
    pub price_discount: Option<Amount>,
    /// BT-148 Item gross price.
    pub gross_price: Option<Amount>,
    /// BT-149 Item price base quantity.
    pub base_quantity: Option<Amount>,
    /// BT-150 Item price base quantity unit of measure code.
    pub base_quantity_unit: Option<String>,
    /// BT-151 Invoiced item VAT category code (BG-30).
    pub vat_category: Option<String>,
    /// BT-152 Invoiced item VAT rate.
    pub vat_rate: Option<Amount>,
    /// BT-153 Item name (BG-31).
    pub item_name: Option<String>,
    /// BT-154 Item description.
    pub item_description: Option<String>,
    /// BT-155 Item Seller's identifier.
    pub seller_item_id: Option<String>,
    /// BT-156 Item Buyer's identifier.
    pub buyer_item_id: Option<String>,
    /// BT-157 Item standard identifier, with its scheme.
    pub standard_item_id: Option<Identifier>,
    /// BT-158 Item classification identifiers, with scheme (BT-158-1) and version (BT-158-2)
    /// joined as `scheme` or `scheme version`.
    pub classifications: Vec<Identifier>,
    /// BT-159 Item country of origin.
    pub origin_country: Option<String>,
    /// BG-32 Item attributes: (BT-160 name, BT-161 value).
    pub attributes: Vec<(String, String)>,
    /// XRechnung's extension (BG-DEX-01): the line's sub-invoice lines, each a line again. UBL
    /// nests them as `cac:SubInvoiceLine`; CII writes them as further line items that name
    /// their parent's BT-126 as `ram:ParentLineID`.
    pub sub_lines: Vec<Line>,
}

/// One step of a path: namespace and local name.
type Step<'s> = (&'s str, &'s str);

/// The first element reached from `node` along `path` (children by namespace and name).
fn find<'a, 'i>(node: Node<'a, 'i>, path: &[Step<'_>]) -> Option<Node<'a, 'i>> {
    path.iter().try_fold(node, |n, step| n.children().find(|c| c.has_tag_name(*step)))
}

/// All elements reached from `node` along `path`.
fn find_all<'a, 'i>(node: Node<'a, 'i>, path: &[Step<'_>]) -> Vec<Node<'a, 'i>> {
    path.iter().fold(vec![node], |nodes, step| {
        nodes.iter().flat_map(|n| n.children().filter(|c| c.has_tag_name(*step))).collect()
    })
}

/// The trimmed text of an element, `None` when absent or empty.
fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    let value: String = node?.descendants().filter(Node::is_text).filter_map(|t| t.text()).collect();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn amount(node: Option<Node<'_, '_>>) -> Option<Amount> {
    Decimal::parse(&text(node)?, false)
}

fn attribute(node: Option<Node<'_, '_>>, name: &str) -> Option<String> {
    node?.attribute(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

impl Invoice {
    /// Maps a parsed UBL or CII document into the model.
    pub fn from_document(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Invoice {
        let mut invoice = match syntax {
            Syntax::UblInvoice | Syntax::UblCreditNote => ubl::invoice(doc.root_element()),
            Syntax::Cii => cii::invoice(doc.root_element()),
        };
        invoice.totals.normalize();
        invoice
    }
}

/// BT-125 from an attached binary object (UBL `cbc:EmbeddedDocumentBinaryObject`, CII
/// `ram:AttachmentBinaryObject`): its name, MIME code and decoded size.
fn attached_document(object: Node<'_, '_>) -> Attachment {
    Attachment {
        filename: attribute(Some(object), "filename"),
        mime_code: attribute(Some(object), "mimeCode"),
        bytes: text(Some(object)).map_or(0, |content| base64_size(&content)),
    }
}

/// The attachment (BT-125) of the `n`-th supporting document (BG-24, counted as in
/// [`Invoice::documents`]): what the model says of it and its content decoded from base64;
/// `None` when that document has no embedded attachment or its content is not base64.
pub fn attachment(doc: &roxmltree::Document<'_>, syntax: Syntax, n: usize) -> Option<(Attachment, Vec<u8>)> {
    use base64::Engine;
    let root = doc.root_element();
    let object = match syntax {
        Syntax::UblInvoice | Syntax::UblCreditNote => {
            ubl::supporting_documents(root).get(n).and_then(|d| ubl::attached_object(*d))
        }
        Syntax::Cii => cii::supporting_documents(root).get(n).and_then(|d| cii::attached_object(*d)),
    }?;
    let content: String = object
        .descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|t| t.text())
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(content).ok()?;
    Some((attached_document(object), bytes))
}

impl Totals {
    /// An optional total of zero says nothing more than an absent one (CII writers tend to
    /// emit `0.00`, UBL writers to leave the element out), so the model keeps neither.
    fn normalize(&mut self) {
        let optional = [
            &mut self.allowances,
            &mut self.charges,
            &mut self.vat,
            &mut self.vat_in_tax_currency,
            &mut self.paid,
            &mut self.rounding,
        ];
        for total in optional {
            if total.is_some_and(Decimal::is_zero) {
                *total = None;
            }
        }
    }
}

/// [`find`] from an optional node (a group that may be absent).
fn at<'a, 'i>(node: Option<Node<'a, 'i>>, path: &[Step<'_>]) -> Option<Node<'a, 'i>> {
    find(node?, path)
}

/// Where an allowance or charge stands: on document level it names its VAT category and rate
/// (BT-95/96, BT-102/103), on line level it has none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Document,
    Line,
}

/// BT-158 from a classification code element: the scheme is `@listID`, followed by
/// `@listVersionID` (BT-158-2) after a space when present.
fn classification(code: Node<'_, '_>) -> Option<Identifier> {
    let parts = [attribute(Some(code), "listID"), attribute(Some(code), "listVersionID")];
    let scheme = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
    Some(Identifier { id: text(Some(code))?, scheme: (!scheme.is_empty()).then_some(scheme) })
}

/// An identifier element with its `schemeID` attribute.
fn identifier(node: Option<Node<'_, '_>>) -> Option<Identifier> {
    Some(Identifier { id: text(node)?, scheme: attribute(node, "schemeID") })
}

/// The decoded size of base64 text (white space left out, padding counted off).
fn base64_size(text: &str) -> usize {
    let significant = text.bytes().filter(|b| !b.is_ascii_whitespace());
    let (count, padding) = significant.fold((0usize, 0usize), |(n, p), b| (n + 1, p + usize::from(b == b'=')));
    (count / 4 * 3).saturating_sub(padding)
}
