//! The EN 16931 semantic model (business terms BT-n, business groups BG-n) and its mappers from
//! UBL and from CII. Both syntaxes of the same invoice map to equal models; the rule engine does
//! not need the model (it evaluates on the tree), the review, rendering and booking steps do.
//!
//! The model holds the terms a clerk reviews and books with; it grows term by term.

use crate::decimal::Decimal;
use crate::reader::{Syntax, ns};
use roxmltree::Node;

/// An amount, rate or quantity, exact.
pub type Amount = Decimal;

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
    /// BT-9 Payment due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// BT-10 Buyer reference (in XRechnung the Leitweg-ID).
    pub buyer_reference: Option<String>,
    /// BT-20 Payment terms (XRechnung encodes Skonto here).
    pub payment_terms: Option<String>,
    /// BT-24 Specification identifier (CustomizationID).
    pub specification: Option<String>,
    /// BG-4 Seller.
    pub seller: Party,
    /// BG-7 Buyer.
    pub buyer: Party,
    /// BG-16 Payment instructions: BT-81 payment means type codes.
    pub payment_means: Vec<PaymentMeans>,
    /// BG-23 VAT breakdown.
    pub vat_breakdown: Vec<VatBreakdown>,
    /// BG-22 Document totals.
    pub totals: Totals,
    /// BG-25 Invoice lines.
    pub lines: Vec<Line>,
}

/// BG-4 Seller or BG-7 Buyer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// BT-27 / BT-44 name.
    pub name: Option<String>,
    /// BT-31 / BT-48 VAT identifier.
    pub vat_id: Option<String>,
    /// BT-34 / BT-49 electronic address, with its scheme (BT-34-1 / BT-49-1).
    pub electronic_address: Option<(String, String)>,
    /// BG-5 / BG-8 postal address.
    pub address: Address,
}

/// BG-5 / BG-8 postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// BT-35 / BT-50 address line 1.
    pub line1: Option<String>,
    /// BT-37 / BT-52 city.
    pub city: Option<String>,
    /// BT-38 / BT-53 post code.
    pub post_code: Option<String>,
    /// BT-40 / BT-55 country code.
    pub country: Option<String>,
}

/// BG-16 Payment instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMeans {
    /// BT-81 Payment means type code (UNTDID 4461; 58 SEPA credit transfer).
    pub code: Option<String>,
    /// BT-84 Payment account identifier (IBAN).
    pub account: Option<String>,
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
    /// BT-112 Invoice total amount with VAT.
    pub with_vat: Option<Amount>,
    /// BT-113 Paid amount.
    pub paid: Option<Amount>,
    /// BT-114 Rounding amount.
    pub rounding: Option<Amount>,
    /// BT-115 Amount due for payment.
    pub due: Option<Amount>,
}

/// BG-25 Invoice line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// BT-126 Invoice line identifier.
    pub id: Option<String>,
    /// BT-129 Invoiced quantity.
    pub quantity: Option<Amount>,
    /// BT-130 Invoiced quantity unit of measure code.
    pub unit: Option<String>,
    /// BT-131 Invoice line net amount.
    pub net_amount: Option<Amount>,
    /// BT-146 Item net price.
    pub net_price: Option<Amount>,
    /// BT-151 Invoiced item VAT category code.
    pub vat_category: Option<String>,
    /// BT-152 Invoiced item VAT rate.
    pub vat_rate: Option<Amount>,
    /// BT-153 Item name.
    pub item_name: Option<String>,
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
    node?.attribute(name).map(|v| v.trim().to_string())
}

/// CII dates are format 102 (`YYYYMMDD`); the model speaks ISO (`YYYY-MM-DD`).
fn cii_date(node: Option<Node<'_, '_>>) -> Option<String> {
    let raw = text(node)?;
    match raw.len() {
        8 if raw.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{}-{}-{}", &raw[..4], &raw[4..6], &raw[6..])),
        _ => Some(raw),
    }
}

impl Invoice {
    /// Maps a parsed UBL or CII document into the model.
    pub fn from_document(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Invoice {
        let mut invoice = match syntax {
            Syntax::UblInvoice | Syntax::UblCreditNote => from_ubl(doc.root_element()),
            Syntax::Cii => from_cii(doc.root_element()),
        };
        invoice.totals.normalize();
        invoice
    }
}

impl Totals {
    /// An optional total of zero says nothing more than an absent one (CII writers tend to
    /// emit `0.00`, UBL writers to leave the element out), so the model keeps neither.
    fn normalize(&mut self) {
        for total in [&mut self.allowances, &mut self.charges, &mut self.vat, &mut self.paid, &mut self.rounding] {
            if total.is_some_and(Decimal::is_zero) {
                *total = None;
            }
        }
    }
}

const fn cbc(name: &str) -> Step<'_> {
    (ns::CBC, name)
}

const fn cac(name: &str) -> Step<'_> {
    (ns::CAC, name)
}

const fn ram(name: &str) -> Step<'_> {
    (ns::RAM, name)
}

fn ubl_party(party: Option<Node<'_, '_>>) -> Party {
    let Some(party) = party else { return Party::default() };
    let vat_id = find_all(party, &[cac("PartyTaxScheme")])
        .into_iter()
        .find(|s| text(find(*s, &[cac("TaxScheme"), cbc("ID")])).as_deref() == Some("VAT"))
        .and_then(|s| text(find(s, &[cbc("CompanyID")])));
    let endpoint = find(party, &[cbc("EndpointID")]);
    let address = find(party, &[cac("PostalAddress")]);
    Party {
        name: text(find(party, &[cac("PartyLegalEntity"), cbc("RegistrationName")])),
        vat_id,
        electronic_address: text(endpoint).map(|id| (attribute(endpoint, "schemeID").unwrap_or_default(), id)),
        address: Address {
            line1: address.and_then(|a| text(find(a, &[cbc("StreetName")]))),
            city: address.and_then(|a| text(find(a, &[cbc("CityName")]))),
            post_code: address.and_then(|a| text(find(a, &[cbc("PostalZone")]))),
            country: address.and_then(|a| text(find(a, &[cac("Country"), cbc("IdentificationCode")]))),
        },
    }
}

fn from_ubl(root: Node<'_, '_>) -> Invoice {
    let get = |path: &[Step<'_>]| text(find(root, path));
    let currency = get(&[cbc("DocumentCurrencyCode")]);
    let totals = find(root, &[cac("LegalMonetaryTotal")]);
    let total = |name: &str| totals.and_then(|t| amount(find(t, &[cbc(name)])));
    let vat_total = find_all(root, &[cac("TaxTotal"), cbc("TaxAmount")])
        .into_iter()
        .find(|a| a.attribute("currencyID").map(str::trim) == currency.as_deref());
    let lines = root
        .children()
        .filter(|c| c.has_tag_name(cac("InvoiceLine")) || c.has_tag_name(cac("CreditNoteLine")))
        .map(|line| {
            let quantity = find(line, &[cbc("InvoicedQuantity")]).or_else(|| find(line, &[cbc("CreditedQuantity")]));
            let category = find(line, &[cac("Item"), cac("ClassifiedTaxCategory")]);
            Line {
                id: text(find(line, &[cbc("ID")])),
                quantity: amount(quantity),
                unit: attribute(quantity, "unitCode"),
                net_amount: amount(find(line, &[cbc("LineExtensionAmount")])),
                net_price: amount(find(line, &[cac("Price"), cbc("PriceAmount")])),
                vat_category: category.and_then(|c| text(find(c, &[cbc("ID")]))),
                vat_rate: category.and_then(|c| amount(find(c, &[cbc("Percent")]))),
                item_name: text(find(line, &[cac("Item"), cbc("Name")])),
            }
        })
        .collect();
    Invoice {
        number: get(&[cbc("ID")]),
        issue_date: get(&[cbc("IssueDate")]),
        type_code: get(&[cbc("InvoiceTypeCode")]).or_else(|| get(&[cbc("CreditNoteTypeCode")])),
        currency,
        tax_currency: get(&[cbc("TaxCurrencyCode")]),
        due_date: get(&[cbc("DueDate")]).or_else(|| get(&[cac("PaymentMeans"), cbc("PaymentDueDate")])),
        buyer_reference: get(&[cbc("BuyerReference")]),
        payment_terms: get(&[cac("PaymentTerms"), cbc("Note")]),
        specification: get(&[cbc("CustomizationID")]),
        seller: ubl_party(find(root, &[cac("AccountingSupplierParty"), cac("Party")])),
        buyer: ubl_party(find(root, &[cac("AccountingCustomerParty"), cac("Party")])),
        payment_means: find_all(root, &[cac("PaymentMeans")])
            .into_iter()
            .map(|m| PaymentMeans {
                code: text(find(m, &[cbc("PaymentMeansCode")])),
                account: text(find(m, &[cac("PayeeFinancialAccount"), cbc("ID")])),
            })
            .collect(),
        vat_breakdown: find_all(root, &[cac("TaxTotal"), cac("TaxSubtotal")])
            .into_iter()
            .map(|s| VatBreakdown {
                taxable: amount(find(s, &[cbc("TaxableAmount")])),
                tax: amount(find(s, &[cbc("TaxAmount")])),
                category: text(find(s, &[cac("TaxCategory"), cbc("ID")])),
                rate: amount(find(s, &[cac("TaxCategory"), cbc("Percent")])),
            })
            .collect(),
        totals: Totals {
            line_net: total("LineExtensionAmount"),
            allowances: total("AllowanceTotalAmount"),
            charges: total("ChargeTotalAmount"),
            without_vat: total("TaxExclusiveAmount"),
            vat: amount(vat_total),
            with_vat: total("TaxInclusiveAmount"),
            paid: total("PrepaidAmount"),
            rounding: total("PayableRoundingAmount"),
            due: total("PayableAmount"),
        },
        lines,
    }
}

fn cii_party(party: Option<Node<'_, '_>>) -> Party {
    let Some(party) = party else { return Party::default() };
    let vat_id = find_all(party, &[ram("SpecifiedTaxRegistration"), ram("ID")])
        .into_iter()
        .find(|id| id.attribute("schemeID") == Some("VA"))
        .and_then(|id| text(Some(id)));
    let endpoint = find(party, &[ram("URIUniversalCommunication"), ram("URIID")]);
    let address = find(party, &[ram("PostalTradeAddress")]);
    Party {
        name: text(find(party, &[ram("Name")])),
        vat_id,
        electronic_address: text(endpoint).map(|id| (attribute(endpoint, "schemeID").unwrap_or_default(), id)),
        address: Address {
            line1: address.and_then(|a| text(find(a, &[ram("LineOne")]))),
            city: address.and_then(|a| text(find(a, &[ram("CityName")]))),
            post_code: address.and_then(|a| text(find(a, &[ram("PostcodeCode")]))),
            country: address.and_then(|a| text(find(a, &[ram("CountryID")]))),
        },
    }
}

fn from_cii(root: Node<'_, '_>) -> Invoice {
    let document = find(root, &[(ns::CII, "ExchangedDocument")]);
    let doc_text = |name: &str| document.and_then(|d| text(find(d, &[ram(name)])));
    let transaction = find(root, &[(ns::CII, "SupplyChainTradeTransaction")]);
    let header = |name: &str| transaction.and_then(|t| find(t, &[ram(name)]));
    let agreement = header("ApplicableHeaderTradeAgreement");
    let settlement = header("ApplicableHeaderTradeSettlement");
    let in_settlement = |path: &[Step<'_>]| settlement.and_then(|s| find(s, path));
    let currency = text(in_settlement(&[ram("InvoiceCurrencyCode")]));
    let summation = in_settlement(&[ram("SpecifiedTradeSettlementHeaderMonetarySummation")]);
    let total = |name: &str| summation.and_then(|s| amount(find(s, &[ram(name)])));
    let vat_total = summation.and_then(|s| {
        find_all(s, &[ram("TaxTotalAmount")])
            .into_iter()
            .find(|a| a.attribute("currencyID").map(str::trim) == currency.as_deref())
    });
    let terms = in_settlement(&[ram("SpecifiedTradePaymentTerms")]);
    let lines = transaction
        .map(|t| find_all(t, &[ram("IncludedSupplyChainTradeLineItem")]))
        .unwrap_or_default()
        .into_iter()
        .map(|line| {
            let quantity = find(line, &[ram("SpecifiedLineTradeDelivery"), ram("BilledQuantity")]);
            let tax = find(line, &[ram("SpecifiedLineTradeSettlement"), ram("ApplicableTradeTax")]);
            Line {
                id: text(find(line, &[ram("AssociatedDocumentLineDocument"), ram("LineID")])),
                quantity: amount(quantity),
                unit: attribute(quantity, "unitCode"),
                net_amount: amount(find(
                    line,
                    &[
                        ram("SpecifiedLineTradeSettlement"),
                        ram("SpecifiedTradeSettlementLineMonetarySummation"),
                        ram("LineTotalAmount"),
                    ],
                )),
                net_price: amount(find(
                    line,
                    &[ram("SpecifiedLineTradeAgreement"), ram("NetPriceProductTradePrice"), ram("ChargeAmount")],
                )),
                vat_category: tax.and_then(|t| text(find(t, &[ram("CategoryCode")]))),
                vat_rate: tax.and_then(|t| amount(find(t, &[ram("RateApplicablePercent")]))),
                item_name: text(find(line, &[ram("SpecifiedTradeProduct"), ram("Name")])),
            }
        })
        .collect();
    Invoice {
        number: doc_text("ID"),
        issue_date: cii_date(document.and_then(|d| find(d, &[ram("IssueDateTime"), (ns::UDT, "DateTimeString")]))),
        type_code: doc_text("TypeCode"),
        currency,
        tax_currency: text(in_settlement(&[ram("TaxCurrencyCode")])),
        due_date: cii_date(terms.and_then(|t| find(t, &[ram("DueDateDateTime"), (ns::UDT, "DateTimeString")]))),
        buyer_reference: agreement.and_then(|a| text(find(a, &[ram("BuyerReference")]))),
        payment_terms: terms.and_then(|t| text(find(t, &[ram("Description")]))),
        specification: text(find(
            root,
            &[(ns::CII, "ExchangedDocumentContext"), ram("GuidelineSpecifiedDocumentContextParameter"), ram("ID")],
        )),
        seller: cii_party(agreement.and_then(|a| find(a, &[ram("SellerTradeParty")]))),
        buyer: cii_party(agreement.and_then(|a| find(a, &[ram("BuyerTradeParty")]))),
        payment_means: settlement
            .map(|s| find_all(s, &[ram("SpecifiedTradeSettlementPaymentMeans")]))
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let account = find(m, &[ram("PayeePartyCreditorFinancialAccount")]);
                PaymentMeans {
                    code: text(find(m, &[ram("TypeCode")])),
                    account: account.and_then(|a| {
                        text(find(a, &[ram("IBANID")])).or_else(|| text(find(a, &[ram("ProprietaryID")])))
                    }),
                }
            })
            .collect(),
        vat_breakdown: settlement
            .map(|s| find_all(s, &[ram("ApplicableTradeTax")]))
            .unwrap_or_default()
            .into_iter()
            .map(|t| VatBreakdown {
                taxable: amount(find(t, &[ram("BasisAmount")])),
                tax: amount(find(t, &[ram("CalculatedAmount")])),
                category: text(find(t, &[ram("CategoryCode")])),
                rate: amount(find(t, &[ram("RateApplicablePercent")])),
            })
            .collect(),
        totals: Totals {
            line_net: total("LineTotalAmount"),
            allowances: total("AllowanceTotalAmount"),
            charges: total("ChargeTotalAmount"),
            without_vat: total("TaxBasisTotalAmount"),
            vat: amount(vat_total),
            with_vat: total("GrandTotalAmount"),
            paid: total("TotalPrepaidAmount"),
            rounding: total("RoundingAmount"),
            due: total("DuePayableAmount"),
        },
        lines,
    }
}
