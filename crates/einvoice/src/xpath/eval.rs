//! Evaluation of compiled expressions over a `roxmltree` document.

use super::index::DocIndex;
use super::parse::{AtomicType, Axis, Expr, Func, NodeTest, Op};
use super::{XPathError, xml_trim};
use crate::decimal::{Decimal, NumberError, XsDecimal};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;
type Res<T> = Result<T, XPathError>;

/// A node of the XPath data model: a `roxmltree` node, or one of an element's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XNode<'a, 'i> {
    /// The node, or for an attribute its owner element.
    pub node: Node<'a, 'i>,
    /// The attribute's index on `node`, if this is an attribute.
    pub attr: Option<usize>,
}

impl<'a, 'i> XNode<'a, 'i> {
    /// The node itself (not an attribute).
    pub fn new(node: Node<'a, 'i>) -> Self {
        XNode { node, attr: None }
    }

    fn attribute(&self) -> Option<roxmltree::Attribute<'a, 'i>> {
        self.attr.and_then(|i| self.node.attributes().nth(i))
    }

    /// Document order: attributes after their element, before its children.
    pub(crate) fn order_key(&self) -> (usize, usize) {
        (self.node.id().get_usize(), self.attr.map_or(0, |i| i + 1))
    }

    /// The expanded name (namespace, local name) of an element or attribute.
    pub fn name(&self) -> Option<(&'a str, &'a str)> {
        if let Some(attr) = self.attribute() {
            return Some((attr.namespace().unwrap_or(""), attr.name()));
        }
        self.node.is_element().then(|| {
            let tag = self.node.tag_name();
            (tag.namespace().unwrap_or(""), tag.name())
        })
    }

    /// The qualified name as the document spells it (`cbc:ID`), for locations and `name()`.
    pub fn qualified_name(&self) -> String {
        let Some((ns, local)) = self.name() else { return String::new() };
        let prefix = self.node.lookup_prefix(ns).filter(|p| !p.is_empty());
        match prefix {
            Some(prefix) => format!("{prefix}:{local}"),
            None => local.to_string(),
        }
    }
}

/// The string value of a node: its text, or all descendant text of an element.
pub fn string_value<'a>(node: &XNode<'a, '_>) -> Cow<'a, str> {
    if let Some(attr) = node.attribute() {
        return Cow::Borrowed(attr.value());
    }
    let n = node.node;
    if n.is_text() {
        return Cow::Borrowed(n.text().unwrap_or(""));
    }
    let mut texts = n.descendants().filter(Node::is_text).filter_map(|t| t.text());
    match (texts.next(), texts.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) => Cow::Borrowed(only),
        (Some(first), Some(second)) => {
            let mut all = String::from(first);
            all.push_str(second);
            texts.for_each(|t| all.push_str(t));
            Cow::Owned(all)
        }
    }
}

/// One item of a sequence.
#[derive(Debug, Clone)]
pub enum Item<'a, 'i> {
    Node(XNode<'a, 'i>),
    /// `xs:untypedAtomic`: the atomized value of a node.
    Untyped(Arc<str>),
    Str(Arc<str>),
    /// `xs:decimal` or `xs:integer`, exact and unbounded up to [`crate::decimal::MAX_DIGITS`].
    Num(XsDecimal),
    /// `xs:double`: what arithmetic on an untyped value (a node's text) gives, as XPath casts
    /// it to xs:double there (`cbc:TaxableAmount - 1`, `sum(ram:LineTotalAmount)`).
    Double(f64),
    Bool(bool),
    /// `xs:date`.
    Date(XsDate),
}

impl<'a, 'i> Item<'a, 'i> {
    /// The item as Saxon types a constant it computed when compiling ([`XsDecimal::folded`]).
    fn folded(self) -> Item<'a, 'i> {
        match self {
            Item::Num(n) => Item::Num(n.folded()),
            other => other,
        }
    }
}

/// A sequence, the value of every expression.
pub type Value<'a, 'i> = Vec<Item<'a, 'i>>;

/// The focus: context item, position and size.
#[derive(Clone)]
struct Focus<'a, 'i> {
    item: Option<Item<'a, 'i>>,
    pos: usize,
    size: usize,
}

/// Evaluation state: variable bindings and compiled regular expressions.
#[derive(Default)]
pub struct Evaluator<'a, 'i> {
    vars: Vec<(Arc<str>, Value<'a, 'i>)>,
    regexes: RefCell<RegexCache>,
    /// Values of [`Expr::Memo`] expressions for this evaluator's document.
    memo: FxHashMap<u64, Value<'a, 'i>>,
    /// The index of the document evaluated on ([`super::index`]), built on first use.
    index: Option<Rc<DocIndex<'a, 'i>>>,
    /// `name()` of the document's elements by node id, filled on first use: the contexts that
    /// test a name's ending (`//*[ends-with(name(), 'Amount')]`) ask it of every element.
    qualified_names: Vec<Option<Arc<str>>>,
    /// The address of the document evaluated on (0 before the first), to notice a new one.
    doc: usize,
    /// Never index (tests compare against this).
    unindexed: bool,
    /// Answers of `contains(list, x)` on long strings (the code lists: `contains(' AED AFN … ',
    /// concat(' ', @currencyID, ' '))`), by the list's address and `x`. The entry holds the list,
    /// so its address stays its own.
    code_lists: FxHashMap<usize, CodeList>,
}

/// Compiled regular expressions by pattern, then flags: a lookup hashes the pattern it is
/// given, without building a key.
type RegexCache = FxHashMap<Box<str>, Vec<(Box<str>, Arc<regex::Regex>)>>;

fn cached_regex(cache: &RegexCache, pattern: &str, flags: &str) -> Option<Arc<regex::Regex>> {
    cache.get(pattern)?.iter().find(|(f, _)| **f == *flags).map(|(_, re)| re.clone())
}

/// The answers of `contains` on one long string, by the searched-for string.
struct CodeList {
    _list: Arc<str>,
    answers: FxHashMap<Box<str>, bool>,
}

/// Strings at least this long are searched once per distinct argument ([`Evaluator::contains`]).
const CODE_LIST_LEN: usize = 256;

impl<'a, 'i> Evaluator<'a, 'i> {
    /// A fresh evaluator with no variables bound.
    pub fn new() -> Self {
        Evaluator {
            vars: Vec::new(),
            regexes: RefCell::new(RegexCache::default()),
            memo: FxHashMap::default(),
            index: None,
            qualified_names: Vec::new(),
            doc: 0,
            unindexed: false,
            code_lists: FxHashMap::default(),
        }
    }

    /// Binds a variable for the following evaluations (schematron `<let>`).
    pub fn bind(&mut self, name: &str, value: Value<'a, 'i>) {
        self.vars.push((name.into(), value));
    }

    /// Drops the last `count` bindings.
    pub fn unbind(&mut self, count: usize) {
        self.vars.truncate(self.vars.len().saturating_sub(count));
    }

    /// Evaluates `expr` with `node` as the context item.
    pub fn eval(&mut self, expr: &Expr, node: XNode<'a, 'i>) -> Res<Value<'a, 'i>> {
        self.index_for(node.node);
        let focus = Focus { item: Some(Item::Node(node)), pos: 1, size: 1 };
        self.eval_in(expr, &focus)
    }

    /// Evaluates `expr` on `node` and takes its effective boolean value; a path is walked only
    /// up to its first node, as Saxon does (an assert `cac:Item/cac:ClassifiedTaxCategory[…]/cbc:ID`
    /// holds at the first match even if a later category's predicate fails).
    #[inline]
    pub fn test(&mut self, expr: &Expr, node: XNode<'a, 'i>) -> Res<bool> {
        self.index_for(node.node);
        let focus = Focus { item: Some(Item::Node(node)), pos: 1, size: 1 };
        self.boolean(expr, &focus)
    }

    /// An evaluator that never indexes a document: every step walks the tree and compares
    /// names as strings (the reference the index-backed answers are tested against).
    #[cfg(test)]
    pub(crate) fn unindexed() -> Self {
        Evaluator { unindexed: true, ..Evaluator::new() }
    }

    /// Indexes `node`'s document when the evaluator first meets that document.
    fn index_for(&mut self, node: Node<'a, 'i>) {
        let doc = std::ptr::from_ref(node.document()) as usize;
        if self.doc != doc {
            self.doc = doc;
            // What was kept is about another document.
            self.qualified_names.clear();
            self.memo.clear();
            // About a hundred paths are memoized per invoice: grown once, not by doubling.
            self.memo.reserve(128);
            self.index = (!self.unindexed).then(|| Rc::new(DocIndex::build(node.document())));
        }
    }

    /// `true` once the evaluations on the current document have spent more steps than a
    /// document may take ([`WORK_LIMIT_ERROR`]); what they answered since is not to be trusted.
    pub fn exhausted(&self) -> bool {
        self.index.as_deref().is_some_and(DocIndex::exhausted)
    }

    /// `true` if `node`'s document lacks one of `names` (interned ids, `true` for an
    /// attribute): see [`holds_when_absent`].
    #[inline]
    pub fn lacks_any(&mut self, node: XNode<'a, 'i>, names: &[(u32, bool)]) -> bool {
        self.index_for(node.node);
        let Some(index) = self.index.as_deref() else { return false };
        names.iter().any(|&(id, attribute)| id < index.known() && !index.occurs(id, attribute))
    }

    /// The interned name id of a node (0 for names no expression mentions), when its document
    /// is the indexed one.
    pub fn name_id(&self, node: &XNode<'a, 'i>) -> Option<u32> {
        let index = self.index.as_deref()?;
        std::ptr::eq(index.doc, node.node.document()).then(|| index.name(node.node, node.attr))
    }

    /// How many names the index of `doc` covers (ids below this): 0 when `doc` is not indexed.
    pub fn names_known(&self, doc: &roxmltree::Document<'_>) -> u32 {
        match self.index.as_deref() {
            Some(index) if std::ptr::eq(index.doc, doc) => index.known(),
            _ => 0,
        }
    }

    /// `name()` of a node, cached for the elements of the indexed document.
    fn qualified_name(&mut self, node: XNode<'a, 'i>) -> Arc<str> {
        let cacheable =
            node.attr.is_none() && self.index.as_ref().is_some_and(|i| std::ptr::eq(i.doc, node.node.document()));
        if !cacheable {
            return node.qualified_name().into();
        }
        let id = node.node.id().get_usize();
        if self.qualified_names.len() <= id {
            self.qualified_names.resize(self.index.as_ref().map_or(0, |i| i.len()).max(id + 1), None);
        }
        self.qualified_names[id].get_or_insert_with(|| node.qualified_name().into()).clone()
    }

    /// [`matches_test`], answered from the document index when it covers the name.
    pub fn name_test(&mut self, node: &XNode<'a, 'i>, test: &NodeTest, principal_attribute: bool) -> bool {
        self.index_for(node.node);
        if let (NodeTest::Name { id, .. }, Some(index)) = (test, self.index.as_deref())
            && index.covers(node.node, *id)
        {
            return principal_attribute == node.attr.is_some() && index.name(node.node, node.attr) == *id;
        }
        matches_test(node, test, principal_attribute)
    }

    /// A path `first/rest` that [`Self::selects_nothing`] has not ruled out.
    fn eval_path(&mut self, first: &Expr, rest: &Expr, focus: &Focus<'a, 'i>) -> Res<Value<'a, 'i>> {
        if let Some(id) = all_attributes_named(first, rest)
            && let Some(index) = self.index.clone()
            && let Ok(node) = context_node(focus)
            && index.covers(node.node, id)
        {
            // `//@name`: the attributes of that name in the whole document, in order.
            let root = node.node.document().root();
            return Ok(index
                .subtree_attributes(root, id)
                .iter()
                .filter_map(|&(owner, attr)| {
                    let node = index.node(owner)?;
                    Some(Item::Node(XNode { node, attr: Some(attr as usize) }))
                })
                .collect());
        }
        // `first` selects something if the whole path may: its names are the path's first ones.
        let starts = match first {
            Expr::Path(inner_first, inner_rest) => self.eval_path(inner_first, inner_rest, focus)?,
            other => self.eval_in(other, focus)?,
        };
        let size = starts.len();
        let mut out = Vec::new();
        if let Expr::Step { axis, test, preds } = rest
            && preds.is_empty()
        {
            // A step without predicates: its nodes go straight into the result.
            let index = self.index.as_deref();
            for item in starts {
                let Item::Node(start) = item else {
                    return Err(XPathError("a path step applied to an atomic value".into()));
                };
                let at = out.len();
                visit_axis(start, *axis, test, index, &mut |node| {
                    out.push(Item::Node(node));
                    Ok(false)
                })?;
                if axis.is_reverse() {
                    out[at..].reverse();
                }
            }
        } else {
            for (i, item) in starts.into_iter().enumerate() {
                if !matches!(item, Item::Node(_)) {
                    return Err(XPathError("a path step applied to an atomic value".into()));
                }
                let inner = Focus { item: Some(item), pos: i + 1, size };
                out.extend(self.eval_in(rest, &inner)?);
            }
        }
        // One axis step from one start yields its nodes in document order already.
        let ordered = size <= 1 && matches!(rest, Expr::Step { .. });
        if !ordered && out.iter().all(|i| matches!(i, Item::Node(_))) {
            sort_dedup(&mut out);
        }
        Ok(out)
    }

    fn eval_in(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<Value<'a, 'i>> {
        match expr {
            Expr::Str(s) => Ok(vec![Item::Str(s.clone())]),
            Expr::Num(n) => Ok(vec![Item::Num(n.clone())]),
            Expr::Var(name) => self
                .vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| XPathError(format!("unbound variable ${name}"))),
            Expr::ContextItem => Ok(focus.item.clone().into_iter().collect()),
            Expr::Root => {
                let node = context_node(focus)?;
                Ok(vec![Item::Node(XNode::new(node.node.document().root()))])
            }
            Expr::Step { axis, test, preds } => {
                let node = context_node(focus)?;
                let mut nodes = axis_nodes(node, *axis, test, self.index.as_deref());
                for pred in preds {
                    nodes = self.filter(nodes, pred)?;
                }
                if axis.is_reverse() {
                    nodes.reverse();
                }
                Ok(nodes)
            }
            Expr::Filter { base, preds } => {
                let mut items = self.eval_in(base, focus)?;
                for pred in preds {
                    items = self.filter(items, pred)?;
                }
                Ok(items)
            }
            Expr::Path(first, rest) => {
                if self.selects_nothing(expr, focus) {
                    return Ok(Vec::new());
                }
                self.eval_path(first, rest, focus)
            }
            Expr::Call { name, func, args } => self.call(name, *func, args, focus),
            Expr::Cast { expr, to, castable, empty } => {
                let value = self.eval_in(expr, focus)?;
                if let ([Item::Node(node)], AtomicType::Decimal | AtomicType::Double, false) =
                    (&value[..], to, castable)
                {
                    // `xs:decimal(cbc:Amount)`: parsed from the node's text where it is.
                    let text = string_value(node);
                    self.spend_on_number_text(&text)?;
                    let number = match to {
                        AtomicType::Decimal => XsDecimal::parse(&text).map(Item::Num),
                        _ => double_of_text(&text).ok_or(NumberError::Invalid),
                    };
                    return match number {
                        Ok(number) => Ok(vec![number]),
                        Err(NumberError::Invalid) => Err(XPathError(format!("cannot cast {:?} to {to:?}", &*text))),
                        Err(e) => Err(number_error(e)),
                    };
                }
                let value = atomize(value);
                if let (
                    [Item::Untyped(text) | Item::Str(text)],
                    AtomicType::Decimal | AtomicType::Integer | AtomicType::Double,
                ) = (value.as_slice(), to)
                {
                    self.spend_on_number_text(text)?;
                }
                if *castable {
                    let ok = match value.as_slice() {
                        [] => *empty,
                        [one] => match cast(one.clone(), *to) {
                            Ok(_) => true,
                            // A number too long to compute with is no answer either way.
                            Err(e) if e.0 == NumberError::TooLong.to_string() => return Err(e),
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    return Ok(vec![Item::Bool(ok)]);
                }
                match value.len() {
                    0 if *empty => Ok(Vec::new()),
                    0 => Err(XPathError(format!("a cast of the empty sequence to {to:?}"))),
                    1 => {
                        let cast = value.into_iter().map(|v| cast(v, *to)).collect::<Res<Value<'a, 'i>>>()?;
                        Ok(match (cast, &**expr) {
                            // Saxon casts a string literal when compiling and types the result
                            // by its value (`xs:decimal('3000')` is then an xs:integer).
                            (cast, Expr::Str(_)) => cast.into_iter().map(Item::folded).collect(),
                            (cast, _) => cast,
                        })
                    }
                    _ => Err(XPathError("a cast of more than one item".into())),
                }
            }
            Expr::Or(..) | Expr::And(..) => Ok(vec![Item::Bool(self.boolean(expr, focus)?)]),
            Expr::Compare { op, general, left, right } => {
                Ok(self.compare(*op, *general, left, right, focus)?.map(Item::Bool).into_iter().collect())
            }
            Expr::Arith(op, a, b) => {
                let l = optional_operand(self.operand(a, focus)?.as_slice(), numeric)?;
                let r = optional_operand(self.operand(b, focus)?.as_slice(), numeric)?;
                match (l, r) {
                    (Some(Numeric::Dec(l)), Some(Numeric::Dec(r))) => {
                        let steps = arithmetic_steps(*op, &l, &r);
                        if steps > 0 {
                            spend(self.index.as_deref(), steps)?;
                        }
                        Ok(vec![Item::Num(arith(*op, &l, &r)?)])
                    }
                    (Some(l), Some(r)) => Ok(vec![arith_double(*op, l.double(), r.double())?]),
                    _ => Ok(Vec::new()),
                }
            }
            Expr::Neg(a) => Ok(match optional_operand(self.operand(a, focus)?.as_slice(), numeric)? {
                Some(Numeric::Dec(n)) => vec![Item::Num(n.negated())],
                Some(Numeric::Dbl(x)) => vec![Item::Double(-x)],
                None => Vec::new(),
            }),
            Expr::Union(a, b) => {
                let mut items = self.eval_in(a, focus)?;
                items.extend(self.eval_in(b, focus)?);
                if !items.iter().all(|i| matches!(i, Item::Node(_))) {
                    return Err(XPathError("a union of atomic values".into()));
                }
                sort_dedup(&mut items);
                Ok(items)
            }
            Expr::Range(a, b) => {
                let (Some(from), Some(to)) = (self.number_operand(a, focus)?, self.number_operand(b, focus)?) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                let mut n = from;
                let one = XsDecimal::from_int(1);
                while n <= to && out.len() < 100_000 {
                    let next = n.add(&one).map_err(number_error)?;
                    out.push(Item::Num(n));
                    n = next;
                }
                Ok(out)
            }
            Expr::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.eval_in(item, focus)?);
                }
                Ok(out)
            }
            Expr::For { var, domain, body } => {
                let mut out = Vec::new();
                for item in self.eval_in(domain, focus)? {
                    self.vars.push((var.clone(), vec![item]));
                    let value = self.eval_in(body, focus);
                    self.vars.pop();
                    out.extend(value?);
                }
                Ok(out)
            }
            Expr::Quantified { every, var, domain, body } => {
                // The body decides at the first item that satisfies it (`some`) or not
                // (`every`); the value is that item's answer.
                let mut decides = |eval: &mut Self, item: Item<'a, 'i>| {
                    eval.vars.push((var.clone(), vec![item]));
                    let holds = eval.boolean(body, focus);
                    eval.vars.pop();
                    Ok(holds? != *every)
                };
                let decided = match self.eval_in(domain, focus) {
                    Ok(items) => {
                        let mut decided = false;
                        for item in items {
                            if decides(self, item)? {
                                decided = true;
                                break;
                            }
                        }
                        decided
                    }
                    // The domain fails as a whole (`every $rate in ../ram:RateApplicablePercent/
                    // xs:decimal(.)` with a second rate that is no number), but Saxon takes its
                    // items one by one and stops at the first that decides: an error after it
                    // is never raised.
                    Err(_) => self.any_item(domain, focus, &mut decides)?,
                };
                Ok(vec![Item::Bool(if decided { !*every } else { *every })])
            }
            Expr::Memo(id, inner) => {
                if let Some(value) = self.memo.get(id) {
                    return Ok(value.clone());
                }
                let value = self.eval_in(inner, focus)?;
                self.memo.insert(*id, value.clone());
                Ok(value)
            }
            Expr::If { cond, then, otherwise } => {
                if self.boolean(cond, focus)? {
                    self.eval_in(then, focus)
                } else {
                    self.eval_in(otherwise, focus)
                }
            }
        }
    }

    /// The effective boolean value of `expr`; connectives, comparisons and `not()` are answered
    /// without building their one-item sequences.
    fn boolean(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<bool> {
        match expr {
            // The operands' order is the implementation's (XPath 2.0 §3.6): Saxon evaluates the
            // cheaper one first, so an error in one operand is passed over when the other
            // decides (`normalize-space(ram:TypeCode) = '58' and not(ram:…/ram:IBANID)` with two
            // TypeCodes is false when the IBAN is there).
            Expr::And(a, b) | Expr::Or(a, b) => {
                // The value that settles the connective: false for `and`, true for `or`.
                let settles = matches!(expr, Expr::Or(..));
                return match self.boolean(a, focus) {
                    Ok(value) if value == settles => Ok(settles),
                    Ok(_) => self.boolean(b, focus),
                    Err(e) => match self.boolean(b, focus) {
                        Ok(value) if value == settles => Ok(settles),
                        _ => Err(e),
                    },
                };
            }
            Expr::Compare { op, general, left, right } => {
                return Ok(self.compare(*op, *general, left, right, focus)?.unwrap_or(false));
            }
            Expr::Call { func: func @ (Func::Not | Func::Boolean), args, .. } if args.len() == 1 => {
                let value = self.boolean(&args[0], focus)?;
                return Ok(if *func == Func::Not { !value } else { value });
            }
            Expr::Call { func, args, .. } => {
                if let Some(holds) = self.string_predicate(*func, args, focus)? {
                    return Ok(holds);
                }
            }
            Expr::Var(name) => {
                if let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| n == name) {
                    return ebv(value);
                }
            }
            _ => {}
        }
        if self.selects_nothing(expr, focus) {
            return Ok(false);
        }
        if let Some(found) = self.exists(expr, focus)? {
            return Ok(found);
        }
        let value = match expr {
            Expr::Path(first, rest) => self.eval_path(first, rest, focus)?,
            other => self.eval_in(other, focus)?,
        };
        ebv(&value)
    }

    /// A general or value comparison; `None` is the empty sequence (a value comparison with an
    /// empty operand).
    fn compare(
        &mut self,
        op: Op,
        general: bool,
        left: &Expr,
        right: &Expr,
        focus: &Focus<'a, 'i>,
    ) -> Res<Option<bool>> {
        let is_literal = |e: &Expr| matches!(e, Expr::Str(_) | Expr::Num(_));
        let against_literal = match (is_literal(left), is_literal(right)) {
            (false, true) => Some((left, right, false)),
            (true, false) => Some((right, left, true)),
            _ => None,
        };
        if general
            && let Some((
                other @ Expr::Call { func: Func::NormalizeSpace, args, .. },
                literal @ Expr::Str(_),
                literal_left,
            )) = against_literal
            && args.len() == 1
        {
            // `normalize-space(cbc:ID) = 'S'`: the one string, computed as `call` does, compared
            // where it is, without a sequence for it.
            let text = self.text(other, focus)?;
            return compare_text(op, &text, literal, literal_left).map(Some);
        }
        if general && let Some((other, literal, literal_left)) = against_literal {
            // Nodes against a literal (`cbc:ID = 'VAT'`, `cbc:Percent > 0`): the nodes' strings
            // are compared where they are, not copied into untyped values first.
            let value = if let Expr::Var(_) = other {
                // `$cp > 64`: the variable's one item, not a copy of its sequence.
                self.operand(other, focus)?
            } else {
                let value = match self.eval_in(other, focus) {
                    Ok(value) => value,
                    Err(error) => {
                        let literal = self.operand(literal, focus)?;
                        return self
                            .compare_lazily(op, other, literal.as_slice(), literal_left, focus, error)
                            .map(Some);
                    }
                };
                if value.iter().all(|i| matches!(i, Item::Node(_))) {
                    for item in &value {
                        let Item::Node(node) = item else { continue };
                        if compare_text(op, &string_value(node), literal, literal_left)? {
                            return Ok(Some(true));
                        }
                    }
                    return Ok(Some(false));
                }
                Operand::Many(atomize(value))
            };
            let literal = self.operand(literal, focus)?;
            let (l, r) = if literal_left {
                (literal.as_slice(), value.as_slice())
            } else {
                (value.as_slice(), literal.as_slice())
            };
            for a in l {
                spend(self.index.as_deref(), r.len())?;
                for b in r {
                    if compare(op, a, b, true)? {
                        return Ok(Some(true));
                    }
                }
            }
            return Ok(Some(false));
        }
        if general {
            // Either side failing as a whole may still hold at an item before the failure.
            let l = match self.operand(left, focus) {
                Ok(l) => l,
                Err(error) => {
                    let r = self.operand(right, focus)?;
                    return self.compare_lazily(op, left, r.as_slice(), false, focus, error).map(Some);
                }
            };
            let r = match self.operand(right, focus) {
                Ok(r) => r,
                Err(error) => return self.compare_lazily(op, right, l.as_slice(), true, focus, error).map(Some),
            };
            for a in l.as_slice() {
                spend(self.index.as_deref(), r.as_slice().len())?;
                for b in r.as_slice() {
                    if compare(op, a, b, true)? {
                        return Ok(Some(true));
                    }
                }
            }
            return Ok(Some(false));
        }
        let (l, r) = (self.operand(left, focus)?, self.operand(right, focus)?);
        match (l.as_slice(), r.as_slice()) {
            ([], _) | (_, []) => Ok(None),
            ([a], [b]) => Ok(Some(compare(op, a, b, false)?)),
            _ => Err(XPathError("a value comparison of more than one item".into())),
        }
    }

    /// A general comparison one side of which, a path, failed as a whole (e.g.
    /// `cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'` with two IDs in the second
    /// scheme) against the values of the other side (`literal`, on the left if `literal_left`):
    /// Saxon compares the items as the path yields them, start by start (see
    /// [`Self::any_item`]), and stops at the first that holds, so an error after it is never
    /// raised. An error before it stands.
    fn compare_lazily(
        &mut self,
        op: Op,
        other: &Expr,
        literal: &[Item<'a, 'i>],
        literal_left: bool,
        focus: &Focus<'a, 'i>,
        error: XPathError,
    ) -> Res<bool> {
        let other = if let Expr::Memo(_, inner) = other { &**inner } else { other };
        if !matches!(other, Expr::Path(..)) {
            return Err(error);
        }
        self.any_item(other, focus, &mut |_, item| {
            // Atomized: a node is compared by its untyped string value.
            let item = match item {
                Item::Node(node) => Item::Untyped(string_value(&node).into()),
                other => other,
            };
            for b in literal {
                let holds = if literal_left { compare(op, b, &item, true)? } else { compare(op, &item, b, true)? };
                if holds {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Calls `found` on the items of `expr`, in order, until it answers `true`. A path
    /// `first/rest` is taken start by start: its starts are walked lazily when `first` is a
    /// path of axis steps without positional predicates ([`Self::any_node`]), and `rest` is
    /// evaluated on one start at a time. That is how Saxon pipelines a path (XPath 2.0 §2.3.4
    /// lets an implementation stop once the result is known): an error at a later start, in a
    /// predicate of `first` or in `rest` (`cac:TaxCategory[cac:TaxScheme/normalize-space(
    /// upper-case(cbc:ID))='VAT']/normalize-space(cbc:ID)`, a second category with two scheme
    /// IDs), is never raised when an earlier item decides. Only called after the plain
    /// evaluation of `expr` failed.
    fn any_item(
        &mut self,
        expr: &Expr,
        focus: &Focus<'a, 'i>,
        found: &mut dyn FnMut(&mut Self, Item<'a, 'i>) -> Res<bool>,
    ) -> Res<bool> {
        let expr = if let Expr::Memo(_, inner) = expr { &**inner } else { expr };
        let Expr::Path(first, rest) = expr else {
            for item in self.eval_in(expr, focus)? {
                if found(self, item)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        };
        if let Some(Item::Node(node)) = &focus.item
            && lazy_start(first)
            && !rest.reads_position()
        {
            // The starts one by one; `rest` sees each as its only one (it reads no position).
            return self.any_node(first, *node, &mut |eval, start| {
                let inner = Focus { item: Some(Item::Node(start)), pos: 1, size: 1 };
                eval.any_item(rest, &inner, found)
            });
        }
        let starts = self.eval_in(first, focus)?;
        let size = starts.len();
        for (i, start) in starts.into_iter().enumerate() {
            if !matches!(start, Item::Node(_)) {
                return Err(XPathError("a path step applied to an atomic value".into()));
            }
            let inner = Focus { item: Some(start), pos: i + 1, size };
            if self.any_item(rest, &inner, found)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// An atomized comparison or arithmetic operand; a literal, and a variable holding one
    /// item (`$cp > 64`, `$cp - 55`), without a sequence of its own.
    fn operand(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<Operand<'a, 'i>> {
        Ok(match expr {
            Expr::Str(s) => Operand::One(Item::Str(s.clone())),
            Expr::Num(n) => Operand::One(Item::Num(n.clone())),
            Expr::Var(name) => match self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_slice()) {
                Some([Item::Node(node)]) => Operand::One(Item::Untyped(string_value(node).into())),
                Some([one]) => Operand::One(one.clone()),
                Some(value) => Operand::Many(atomize(value.to_vec())),
                None => return Err(XPathError(format!("unbound variable ${name}"))),
            },
            _ => Operand::Many(atomize(self.eval_in(expr, focus)?)),
        })
    }

    /// `true` if `expr` is a path that selects nothing in this document because one of its
    /// steps tests for a name the document does not contain, and no predicate would have been
    /// evaluated before that step (so no evaluation error is passed over). This answers the
    /// many "shall not be used" rules (`not(cac:X/cbc:Y)`) without walking the tree.
    fn selects_nothing(&self, expr: &Expr, focus: &Focus<'a, 'i>) -> bool {
        let (Some(Item::Node(node)), Some(index)) = (&focus.item, self.index.as_deref()) else { return false };
        std::ptr::eq(index.doc, node.node.document()) && names_absent(expr, index) == Spine::Absent
    }

    /// Whether a path of axis steps selects any node, walking the axes lazily and stopping at
    /// the first node found; `None` when `expr` is not such a path (evaluate it instead).
    fn exists(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<Option<bool>> {
        if !lazy_path(expr) {
            return Ok(None);
        }
        let Some(Item::Node(node)) = &focus.item else { return Ok(None) };
        self.any_node(expr, *node, &mut |_, _| Ok(true)).map(Some)
    }

    /// Calls `found` on the nodes `expr` selects from `node` until it answers `true`.
    fn any_node(
        &mut self,
        expr: &Expr,
        node: XNode<'a, 'i>,
        found: &mut dyn FnMut(&mut Self, XNode<'a, 'i>) -> Res<bool>,
    ) -> Res<bool> {
        match expr {
            Expr::Path(first, rest) => self.any_node(first, node, &mut |eval, start| eval.any_node(rest, start, found)),
            Expr::Root => found(self, XNode::new(node.node.document().root())),
            Expr::ContextItem => found(self, node),
            Expr::Memo(_, inner) => {
                let focus = Focus { item: Some(Item::Node(node)), pos: 1, size: 1 };
                match self.eval_in(expr, &focus) {
                    Ok(items) => {
                        for item in items {
                            if let Item::Node(n) = item
                                && found(self, n)?
                            {
                                return Ok(true);
                            }
                        }
                        Ok(false)
                    }
                    // The whole path fails on some node (`//X[normalize-space(cbc:ID) = 'S']` with
                    // two IDs in one X), but whether it selects anything may be answered before
                    // that node is reached, as Saxon does: walk it lazily.
                    Err(_) => self.any_node(inner, node, found),
                }
            }
            Expr::Step { axis, test, preds } => {
                // The axis is walked lazily: the first node that passes ends the walk.
                let index = self.index.clone();
                visit_axis(node, *axis, test, index.as_deref(), &mut |candidate| {
                    let focus = Focus { item: Some(Item::Node(candidate)), pos: 1, size: 1 };
                    for pred in preds {
                        if !self.boolean(pred, &focus)? {
                            return Ok(false);
                        }
                    }
                    found(self, candidate)
                })
            }
            other => {
                let focus = Focus { item: Some(Item::Node(node)), pos: 1, size: 1 };
                for item in self.eval_in(other, &focus)? {
                    if let Item::Node(n) = item
                        && found(self, n)?
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// Counts reading a number from a long text against the document's limit ([`spend`]): a
    /// step per four bytes, about what reading them costs (an invoice's amounts are shorter
    /// and cost nothing). A rule that reads the amounts of all lines for each line would else
    /// take time quadratic in their number and linear in their length, up to
    /// [`crate::decimal::MAX_DIGITS`].
    fn spend_on_number_text(&self, text: &str) -> Res<()> {
        if text.len() > LONG_NUMBER_TEXT { spend(self.index.as_deref(), text.len() / 4) } else { Ok(()) }
    }

    /// Atomizes an arithmetic operand: empty stays empty, untyped values become numbers.
    fn number_operand(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<Option<XsDecimal>> {
        optional_operand(self.operand(expr, focus)?.as_slice(), number)
    }

    fn filter(&mut self, items: Value<'a, 'i>, pred: &Expr) -> Res<Value<'a, 'i>> {
        let size = items.len();
        let mut out = Vec::with_capacity(size);
        for (i, item) in items.into_iter().enumerate() {
            let focus = Focus { item: Some(item.clone()), pos: i + 1, size };
            if direct_boolean(pred) {
                if self.boolean(pred, &focus)? {
                    out.push(item);
                }
                continue;
            }
            let value = self.eval_in(pred, &focus)?;
            let keep = match value.as_slice() {
                [Item::Num(n)] => *n == XsDecimal::from_int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                #[allow(clippy::cast_precision_loss)]
                [Item::Double(x)] => *x == (i + 1) as f64,
                _ => ebv(&value)?,
            };
            if keep {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// The compiled regular expression for a pattern and flags: from this evaluator's cache, else
    /// from the process-wide one (patterns come from the rules, so compiling each once per
    /// process, not once per document, matters: a code-list regex takes tens of microseconds).
    fn regex(&self, pattern: &str, flags: &str) -> Res<Arc<regex::Regex>> {
        /// Bounds the process-wide cache should patterns ever come from documents.
        const SHARED_LIMIT: usize = 4096;
        static SHARED: OnceLock<Mutex<RegexCache>> = OnceLock::new();
        if let Some(re) = cached_regex(&self.regexes.borrow(), pattern, flags) {
            return Ok(re);
        }
        let shared = SHARED.get_or_init(Mutex::default);
        let known = shared.lock().ok().and_then(|cache| cached_regex(&cache, pattern, flags));
        let re = match known {
            Some(re) => re,
            None => {
                let inline: String = flags.chars().filter(|c| matches!(c, 'i' | 'm' | 's' | 'x')).collect();
                let translated = translate_xsd_regex(pattern, flags.contains('s'));
                let source = if inline.is_empty() { translated } else { format!("(?{inline}){translated}") };
                let re = regex::Regex::new(&source).map_err(|e| XPathError(format!("bad regex {pattern}: {e}")))?;
                // Shared, not cloned: a clone of a `Regex` starts with empty match caches.
                let re = Arc::new(re);
                if let Ok(mut cache) = shared.lock()
                    && cache.len() < SHARED_LIMIT
                {
                    cache.entry(pattern.into()).or_default().push((flags.into(), re.clone()));
                }
                re
            }
        };
        self.regexes.borrow_mut().entry(pattern.into()).or_default().push((flags.into(), re.clone()));
        Ok(re)
    }

    fn args(&mut self, args: &[Expr], focus: &Focus<'a, 'i>) -> Res<Vec<Value<'a, 'i>>> {
        args.iter().map(|a| self.eval_in(a, focus)).collect()
    }

    /// The string predicates (`contains`, `starts-with`, `ends-with`, `matches`) on their
    /// arguments' strings, without building argument sequences; `None` for other functions.
    fn string_predicate(&mut self, func: Func, args: &[Expr], focus: &Focus<'a, 'i>) -> Res<Option<bool>> {
        Ok(Some(match (func, args) {
            (Func::Contains, [a, b]) => self.contains(a, b, focus)?,
            (Func::StartsWith, [a, b]) => self.text(a, focus)?.starts_with(&*self.text(b, focus)?),
            // `ends-with(name(), 'Amount')`, the data-type rules' context test: a suffix without
            // a colon ends the qualified name exactly when it ends the local name.
            (Func::EndsWith, [Expr::Call { func: Func::Name, args: none, .. }, Expr::Str(suffix)])
                if none.is_empty() && !suffix.contains(':') =>
            {
                match &focus.item {
                    Some(Item::Node(node)) => node.name().map_or("", |(_, local)| local).ends_with(&**suffix),
                    _ => suffix.is_empty(),
                }
            }
            (Func::EndsWith, [a, b]) => self.text(a, focus)?.ends_with(&*self.text(b, focus)?),
            (Func::Matches, [text, pattern, rest @ ..]) if rest.len() <= 1 => {
                let text = self.text(text, focus)?;
                let pattern = self.text(pattern, focus)?;
                let flags = match rest.first() {
                    Some(flags) => self.text(flags, focus)?,
                    None => Text::Borrowed(""),
                };
                self.regex(&pattern, &flags)?.is_match(&text)
            }
            _ => return Ok(None),
        }))
    }

    /// `contains(a, b)`; a long `a` held in a shared string (a literal or a variable) remembers
    /// its answers, since the same code is looked up in the same list many times.
    fn contains(&mut self, a: &Expr, b: &Expr, focus: &Focus<'a, 'i>) -> Res<bool> {
        let list = match a {
            Expr::Str(s) => Text::Shared(s.clone()),
            _ => self.text(a, focus)?,
        };
        let needle = self.text(b, focus)?;
        let Text::Shared(list) = list else { return Ok(list.contains(&*needle)) };
        if list.len() < CODE_LIST_LEN {
            return Ok(list.contains(&*needle));
        }
        let entry = self
            .code_lists
            .entry(Arc::as_ptr(&list).cast::<u8>() as usize)
            .or_insert_with(|| CodeList { _list: list.clone(), answers: FxHashMap::default() });
        if let Some(&known) = entry.answers.get(&*needle) {
            return Ok(known);
        }
        let found = list.contains(&*needle);
        entry.answers.insert(Box::from(&*needle), found);
        Ok(found)
    }

    /// `string()` of an argument (at most one item), as the function library reads it: a
    /// literal and `name()` without copying.
    fn text<'e>(&mut self, expr: &'e Expr, focus: &Focus<'a, 'i>) -> Res<Text<'e>>
    where
        'a: 'e,
    {
        match expr {
            Expr::Str(s) => Ok(Text::Borrowed(s)),
            Expr::Call { func: Func::Name, args, .. } if args.is_empty() => match &focus.item {
                Some(Item::Node(node)) => Ok(Text::Shared(self.qualified_name(*node))),
                _ => Ok(Text::Borrowed("")),
            },
            Expr::Call { func, args, .. } => match (func, &args[..]) {
                (Func::NormalizeSpace, [arg]) => Ok(normalize_space(self.text(arg, focus)?)),
                (Func::UpperCase | Func::LowerCase, [arg]) => {
                    Ok(change_case(self.text(arg, focus)?, *func == Func::UpperCase))
                }
                (Func::Concat, args) => {
                    let mut all = String::new();
                    for arg in args {
                        all.push_str(&self.text(arg, focus)?);
                    }
                    Ok(Text::Owned(all))
                }
                (Func::SubstringAfter | Func::SubstringBefore, [text, pattern]) => {
                    let (text, pattern) = (self.text(text, focus)?, self.text(pattern, focus)?);
                    let Some(at) = text.find(&*pattern) else { return Ok(Text::Borrowed("")) };
                    let range = if *func == Func::SubstringAfter { at + pattern.len()..text.len() } else { 0..at };
                    Ok(match text {
                        Text::Borrowed(whole) => Text::Borrowed(&whole[range]),
                        other => Text::Owned(other[range].to_string()),
                    })
                }
                _ => self.text_of_value(expr, focus),
            },
            _ => self.text_of_value(expr, focus),
        }
    }

    fn text_of_value<'e>(&mut self, expr: &Expr, focus: &Focus<'a, 'i>) -> Res<Text<'e>>
    where
        'a: 'e,
    {
        if let (true, Some(Item::Node(node))) = (child_names(expr), &focus.item) {
            // `cbc:ID`, `cac:X/cbc:Y`, `@unitCode`: the one node's text where it is (a second
            // node is an error, raised below as the plain evaluation raises it).
            let mut found: [Option<XNode<'a, 'i>>; 2] = [None, None];
            self.any_node(expr, *node, &mut |_, n| {
                let second = found[0].is_some();
                found[usize::from(second)] = Some(n);
                Ok(second)
            })?;
            match found {
                [None, _] => return Ok(Text::Borrowed("")),
                [Some(one), None] => return Ok(string_value(&one).into()),
                _ => {}
            }
        }
        let value = self.eval_in(expr, focus)?;
        match value.as_slice() {
            [Item::Str(s) | Item::Untyped(s)] => Ok(Text::Shared(s.clone())),
            [Item::Node(node)] => Ok(string_value(node).into()),
            _ => string_of(&value).map(Text::Owned),
        }
    }

    fn call(&mut self, name: &str, func: Func, args: &[Expr], focus: &Focus<'a, 'i>) -> Res<Value<'a, 'i>> {
        if let (Func::String, [arg]) = (func, args) {
            return Ok(vec![Item::Str(self.text(arg, focus)?.into_shared())]);
        }
        if let (Func::Not | Func::Boolean | Func::Exists | Func::Empty, [arg]) = (func, args)
            && let Some(found) = self.exists(arg, focus)?
        {
            return Ok(vec![Item::Bool(if matches!(func, Func::Not | Func::Empty) { !found } else { found })]);
        }
        if let Some(holds) = self.string_predicate(func, args, focus)? {
            return Ok(vec![Item::Bool(holds)]);
        }
        match (func, args) {
            (Func::NormalizeSpace, [arg]) => {
                return Ok(vec![Item::Str(normalize_space(self.text(arg, focus)?).into_shared())]);
            }
            // `string-length(substring-after(., '.')) <= 2`: counted where the text is.
            (Func::StringLength, [arg]) => {
                let length = self.text(arg, focus)?.chars().count();
                return Ok(vec![Item::Num(XsDecimal::from_int(i64::try_from(length).unwrap_or(i64::MAX)))]);
            }
            _ => {}
        }
        // Functions on the context item when called without argument.
        let implicit = || -> Value<'a, 'i> { focus.item.clone().into_iter().collect() };
        let values = self.args(args, focus)?;
        let arg_or_context = |i: usize| values.get(i).cloned().unwrap_or_else(implicit);
        let string_arg = |i: usize| -> Res<String> { string_of(&arg_or_context(i)) };
        let string_at = |i: usize| -> Res<Cow<'_, str>> { values.get(i).map_or(Ok(Cow::Borrowed("")), |v| str_of(v)) };
        let b = |v: bool| Ok(vec![Item::Bool(v)]);
        let s = |v: String| Ok(vec![Item::Str(v.into())]);
        let n = |v: XsDecimal| Ok(vec![Item::Num(v)]);
        match name {
            "true" => b(true),
            "false" => b(false),
            "not" => b(!ebv(&values[0])?),
            "boolean" => b(ebv(&values[0])?),
            "exists" => b(!values[0].is_empty()),
            "empty" => b(values[0].is_empty()),
            "count" => n(XsDecimal::from_int(i64::try_from(values[0].len()).unwrap_or(i64::MAX))),
            "position" => n(XsDecimal::from_int(i64::try_from(focus.pos).unwrap_or(i64::MAX))),
            "last" => n(XsDecimal::from_int(i64::try_from(focus.size).unwrap_or(i64::MAX))),
            "sum" => {
                // Decimals add up exactly; from the first double (an untyped value: a node's
                // text) on, the sum is a double, as XPath adds them left to right. The first
                // item is taken as it is (Saxon's SumFold), which keeps its kind.
                let mut total: Option<XsDecimal> = None;
                let mut double: Option<f64> = None;
                for item in &values[0] {
                    let value = match item {
                        Item::Node(node) => {
                            let text = string_value(node);
                            Numeric::Dbl(
                                parse_double(&text).ok_or_else(|| XPathError(format!("{text:?} is not a number")))?,
                            )
                        }
                        other => numeric(other)?,
                    };
                    match (value, double) {
                        (Numeric::Dec(d), None) => {
                            total = Some(match total {
                                Some(total) => total.add(&d).map_err(number_error)?,
                                None => d,
                            });
                        }
                        (value, _) => {
                            // The first item as it is: -0 stays -0 (adding it to 0 would not).
                            let so_far = double.or_else(|| total.as_ref().map(XsDecimal::to_f64));
                            double = Some(so_far.map_or(value.double(), |so_far| so_far + value.double()));
                        }
                    }
                }
                match double {
                    Some(x) => Ok(vec![Item::Double(x)]),
                    None => n(total.unwrap_or(XsDecimal::ZERO)),
                }
            }
            "number" => {
                // An xs:double: NaN for the empty sequence and for what cannot be cast.
                let atoms = atomize(arg_or_context(0));
                let x = match atoms.as_slice() {
                    [] => f64::NAN,
                    [atom] => numeric(atom).map_or(f64::NAN, |n| n.double()),
                    _ => return Err(XPathError("number() of a sequence of more than one item".into())),
                };
                Ok(vec![Item::Double(x)])
            }
            "round" | "abs" | "floor" | "ceiling" => {
                let atoms = atomize(values.first().cloned().unwrap_or_else(implicit));
                let atom = match atoms.as_slice() {
                    [] => return Ok(Vec::new()),
                    [atom] => atom,
                    _ => return Err(XPathError(format!("{name}() of a sequence of more than one item"))),
                };
                let x = match numeric(atom)? {
                    Numeric::Dbl(x) => {
                        return Ok(vec![Item::Double(match name {
                            "round" => round_double(x),
                            "abs" => x.abs(),
                            "floor" => x.floor(),
                            _ => x.ceil(),
                        })]);
                    }
                    Numeric::Dec(x) => x,
                };
                n(match name {
                    "round" => x.round(),
                    "abs" => x.abs(),
                    "floor" => x.floor(),
                    _ => x.ceiling(),
                })
            }
            "string" => s(string_arg(0)?),
            "normalize-space" => Ok(vec![Item::Str(normalize_space(Text::Owned(string_arg(0)?)).into_shared())]),
            "upper-case" => s(string_at(0)?.to_uppercase()),
            "lower-case" => s(string_at(0)?.to_lowercase()),
            "string-length" => n(XsDecimal::from_int(i64::try_from(string_arg(0)?.chars().count()).unwrap_or(0))),
            "concat" => s(values.iter().map(|v| string_of(v)).collect::<Res<Vec<_>>>()?.concat()),
            "contains" => b(string_at(0)?.contains(&*string_at(1)?)),
            "starts-with" => b(string_at(0)?.starts_with(&*string_at(1)?)),
            "ends-with" => b(string_at(0)?.ends_with(&*string_at(1)?)),
            "substring-after" => {
                let (text, pat) = (string_at(0)?, string_at(1)?);
                s(text.find(&*pat).map_or(String::new(), |at| text[at + pat.len()..].to_string()))
            }
            "substring-before" => {
                let (text, pat) = (string_at(0)?, string_at(1)?);
                s(text.find(&*pat).map_or(String::new(), |at| text[..at].to_string()))
            }
            "substring" => {
                let text = string_at(0)?;
                let start = single_number(&values[1])?.round();
                let len = values.get(2).map(|v| single_number(v).map(|l| l.round())).transpose()?;
                s(substring(&text, start, len))
            }
            "translate" => {
                let (text, from, to) = (string_at(0)?, string_at(1)?, string_at(2)?);
                let (from, to): (Vec<char>, Vec<char>) = (from.chars().collect(), to.chars().collect());
                s(text
                    .chars()
                    .filter_map(|c| match from.iter().position(|&f| f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect())
            }
            "string-join" => {
                let parts = atomize(values[0].clone()).iter().map(atom_string).collect::<Vec<_>>();
                s(parts.join(&string_at(1)?))
            }
            "string-to-codepoints" => {
                Ok(string_at(0)?.chars().map(|c| Item::Num(XsDecimal::from_int(i64::from(u32::from(c))))).collect())
            }
            "name" | "local-name" => {
                let items = arg_or_context(0);
                let node = match items.as_slice() {
                    [Item::Node(node)] => node,
                    [] => return s(String::new()),
                    _ => return Err(XPathError(format!("{name}() takes one node"))),
                };
                if name == "name" {
                    Ok(vec![Item::Str(self.qualified_name(*node))])
                } else {
                    s(node.name().map(|(_, l)| l.to_string()).unwrap_or_default())
                }
            }
            "matches" => {
                let re = self.regex(&string_at(1)?, &string_at(2)?)?;
                b(re.is_match(&string_at(0)?))
            }
            "replace" => {
                let re = self.regex(&string_at(1)?, &string_at(3)?)?;
                let replacement = string_at(2)?.replace("${", "$${");
                s(re.replace_all(&string_at(0)?, replacement.as_str()).into_owned())
            }
            "tokenize" => {
                let text = string_at(0)?;
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                let re = self.regex(&string_at(1)?, &string_at(2)?)?;
                Ok(re.split(&text).map(|part| Item::Str(part.into())).collect())
            }
            "distinct-values" => {
                let mut seen: Vec<Item<'a, 'i>> = Vec::new();
                for item in atomize(values[0].clone()) {
                    let duplicate = seen.iter().try_fold(false, |found, s| {
                        Ok::<_, XPathError>(found || compare(Op::Eq, s, &item, false).unwrap_or(false))
                    })?;
                    if !duplicate {
                        seen.push(item);
                    }
                }
                Ok(seen)
            }
            other => Err(XPathError(format!("unknown function {other}()"))),
        }
    }
}

/// An atomized operand of a comparison.
enum Operand<'a, 'i> {
    One(Item<'a, 'i>),
    Many(Value<'a, 'i>),
}

impl<'a, 'i> Operand<'a, 'i> {
    fn as_slice(&self) -> &[Item<'a, 'i>] {
        match self {
            Operand::One(item) => std::slice::from_ref(item),
            Operand::Many(items) => items,
        }
    }
}

/// A string argument: borrowed from the expression, shared with a value, or computed.
enum Text<'e> {
    Borrowed(&'e str),
    Shared(Arc<str>),
    Owned(String),
}

impl<'e> From<Cow<'e, str>> for Text<'e> {
    fn from(text: Cow<'e, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Text::Borrowed(text),
            Cow::Owned(text) => Text::Owned(text),
        }
    }
}

impl Text<'_> {
    fn into_shared(self) -> Arc<str> {
        match self {
            Text::Shared(s) => s,
            other => Arc::from(&*other),
        }
    }
}

/// `upper-case()` (`upper`) or `lower-case()`: the text itself when it has no ASCII letter to
/// change and nothing beyond ASCII (`'VAT'`, the codes the rules compare), else a new string.
fn change_case(text: Text<'_>, upper: bool) -> Text<'_> {
    let unchanged =
        text.bytes().all(|b| b.is_ascii() && !(if upper { b.is_ascii_lowercase() } else { b.is_ascii_uppercase() }));
    match (unchanged, upper) {
        (true, _) => text,
        (false, true) => Text::Owned(text.to_uppercase()),
        (false, false) => Text::Owned(text.to_lowercase()),
    }
}

/// `normalize-space()`: XML whitespace (space, tab, carriage return, line feed; not the other
/// Unicode spaces) stripped at both ends and collapsed to one space; the text itself when it is
/// normalized already, as nearly every code and identifier is.
fn normalize_space(text: Text<'_>) -> Text<'_> {
    let mut after_space = true;
    let normalized = text.bytes().all(|b| {
        let ok = match b {
            b' ' => !after_space,
            b'\t' | b'\n' | b'\r' => false,
            _ => true,
        };
        after_space = b == b' ';
        ok
    }) && !after_space;
    if normalized || text.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for part in text.split(super::is_xml_space).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    Text::Owned(out)
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

/// `true` if [`Evaluator::boolean`] computes `expr`'s effective boolean value directly (a
/// connective, a comparison, `not()`, `boolean()`): exactly `ebv(eval(expr))`, errors included,
/// and never a number.
fn direct_boolean(expr: &Expr) -> bool {
    match expr {
        Expr::And(..) | Expr::Or(..) | Expr::Compare { .. } => true,
        Expr::Call { func, args, .. } => match func {
            Func::Not | Func::Boolean => args.len() == 1,
            Func::Contains | Func::StartsWith | Func::EndsWith => args.len() == 2,
            Func::Matches => matches!(args.len(), 2 | 3),
            _ => false,
        },
        _ => false,
    }
}

/// A relative path of child and attribute name steps without predicates (`cac:X/cbc:Y`,
/// `@unitCode`): it selects nodes only and raises no error.
fn child_names(expr: &Expr) -> bool {
    match expr {
        Expr::Path(first, rest) => child_names(first) && child_names(rest),
        Expr::Step { axis: Axis::Child | Axis::Attribute, test: NodeTest::Name { .. }, preds } => preds.is_empty(),
        _ => false,
    }
}

/// A path of axis steps whose predicates never select by position, ending in a step: it
/// selects nodes only, so whether it selects any can be answered lazily.
fn lazy_path(expr: &Expr) -> bool {
    match expr {
        Expr::Memo(_, inner) => lazy_path(inner),
        Expr::Path(first, rest) => matches!(**rest, Expr::Step { .. }) && lazy_path(rest) && lazy_start(first),
        Expr::Step { preds, .. } => preds.iter().all(super::parse::never_positional),
        _ => false,
    }
}

fn lazy_start(expr: &Expr) -> bool {
    match expr {
        Expr::Memo(_, inner) => lazy_start(inner),
        // `(/ubl:Invoice | /cn:CreditNote)/cac:AllowanceCharge[…]`: the union is evaluated, the
        // steps after it lazily.
        Expr::Union(a, b) => lazy_start(a) && lazy_start(b),
        Expr::Root | Expr::ContextItem => true,
        Expr::Path(first, rest) => lazy_start(first) && lazy_step(rest),
        other => lazy_step(other),
    }
}

fn lazy_step(expr: &Expr) -> bool {
    matches!(expr, Expr::Step { preds, .. } if preds.iter().all(super::parse::never_positional))
}

/// Checks at compile time that a function exists with a fitting number of arguments.
pub(super) fn check_function(name: &str, arity: usize) -> Result<(), String> {
    let (min, max) = match name {
        "true" | "false" | "position" | "last" => (0, 0),
        "not"
        | "boolean"
        | "exists"
        | "empty"
        | "count"
        | "sum"
        | "upper-case"
        | "lower-case"
        | "string-to-codepoints"
        | "distinct-values" => (1, 1),
        "round" | "abs" | "floor" | "ceiling" => (1, 1),
        "string" | "normalize-space" | "string-length" | "name" | "local-name" | "number" => (0, 1),
        "contains" | "starts-with" | "ends-with" | "substring-after" | "substring-before" | "string-join" => (2, 2),
        "substring" => (2, 3),
        "translate" => (3, 3),
        "concat" => (2, usize::MAX),
        "matches" | "tokenize" => (2, 3),
        "replace" => (3, 4),
        _ => return Err(format!("unknown function {name}()")),
    };
    if arity < min || arity > max {
        return Err(format!("{name}() takes {min}..{max} arguments, not {arity}"));
    }
    Ok(())
}

/// The evaluation error of a number that could not be made.
fn number_error(e: NumberError) -> XPathError {
    XPathError(e.to_string())
}

fn context_node<'a, 'i>(focus: &Focus<'a, 'i>) -> Res<XNode<'a, 'i>> {
    match &focus.item {
        Some(Item::Node(node)) => Ok(*node),
        Some(_) => Err(XPathError("the context item is not a node".into())),
        None => Err(XPathError("no context item".into())),
    }
}

/// `true` if `node` passes a step's node test (`principal_attribute` on the attribute axis).
pub fn matches_test(node: &XNode<'_, '_>, test: &NodeTest, principal_attribute: bool) -> bool {
    match test {
        NodeTest::AnyNode => true,
        NodeTest::Text => node.attr.is_none() && node.node.is_text(),
        NodeTest::Name { ns, local, .. } => {
            if principal_attribute != node.attr.is_some() {
                return false;
            }
            let Some((node_ns, node_local)) = node.name() else { return false };
            // The local name first: it is short and usually decides.
            local.as_deref().is_none_or(|l| l == node_local) && ns.as_deref().is_none_or(|ns| ns == node_ns)
        }
    }
}

/// The nodes on `axis` from `from` that pass `test`, in axis order.
fn axis_nodes<'a, 'i>(
    from: XNode<'a, 'i>,
    axis: Axis,
    test: &NodeTest,
    index: Option<&DocIndex<'a, 'i>>,
) -> Value<'a, 'i> {
    let mut out = Vec::new();
    let _ = visit_axis(from, axis, test, index, &mut |node| {
        out.push(Item::Node(node));
        Ok(false)
    });
    out
}

/// What an evaluation that has spent more than [`super::index::WORK_LIMIT`] steps on its
/// document fails with.
pub(crate) const WORK_LIMIT_ERROR: &str = "the document needs too many steps to evaluate";

/// Counts `steps` against the document's limit (see [`DocIndex::spend`]); an error once it is
/// exceeded.
#[inline]
fn spend(index: Option<&DocIndex<'_, '_>>, steps: usize) -> Res<()> {
    match index {
        Some(index) if index.spend(u64::try_from(steps).unwrap_or(u64::MAX)) => {
            Err(XPathError(WORK_LIMIT_ERROR.into()))
        }
        _ => Ok(()),
    }
}

/// Calls `visit` on the nodes on `axis` from `from` that pass `test`, in axis order, until it
/// answers `true` (then returns `true`). A name test the document index covers is an integer
/// comparison; a name the document does not contain ends the step at once; a descendant step
/// with a name test reads the index instead of walking the subtree.
fn visit_axis<'a, 'i>(
    from: XNode<'a, 'i>,
    axis: Axis,
    test: &NodeTest,
    index: Option<&DocIndex<'a, 'i>>,
    visit: &mut dyn FnMut(XNode<'a, 'i>) -> Res<bool>,
) -> Res<bool> {
    // Every node looked at counts against the document's limit, counted once at the end.
    let mut visited = 0;
    let found = walk_axis(from, axis, test, index, &mut visited, visit);
    spend(index, visited)?;
    found
}

/// [`visit_axis`], counting the nodes looked at in `visited`.
fn walk_axis<'a, 'i>(
    from: XNode<'a, 'i>,
    axis: Axis,
    test: &NodeTest,
    index: Option<&DocIndex<'a, 'i>>,
    visited: &mut usize,
    visit: &mut dyn FnMut(XNode<'a, 'i>) -> Res<bool>,
) -> Res<bool> {
    let principal_attribute = axis == Axis::Attribute;
    let named = match (test, index) {
        (NodeTest::Name { id, .. }, Some(index)) if index.covers(from.node, *id) => Some((index, *id)),
        _ => None,
    };
    if let Some((index, id)) = named {
        if !index.occurs(id, principal_attribute) {
            return Ok(false);
        }
        if from.attr.is_none() && axis == Axis::Child {
            // The children of that name are among the descendants of that name: read those
            // when they are fewer than the children.
            let candidates = index.descendants(from.node, id, false);
            if candidates.len() < index.child_count(from.node) {
                for &n in candidates {
                    *visited += 1;
                    if let Some(node) = index.node(n)
                        && node.parent() == Some(from.node)
                        && visit(XNode::new(node))?
                    {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
        }
        if from.attr.is_none() && matches!(axis, Axis::Descendant | Axis::DescendantOrSelf) {
            for &n in index.descendants(from.node, id, axis == Axis::DescendantOrSelf) {
                *visited += 1;
                if let Some(node) = index.node(n)
                    && visit(XNode::new(node))?
                {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        if from.attr.is_none() && matches!(axis, Axis::Preceding | Axis::Following) {
            return visit_around(index, from.node, id, axis == Axis::Preceding, visited, visit);
        }
    }
    let keep = |n: &XNode<'a, 'i>| match named {
        Some((index, id)) => principal_attribute == n.attr.is_some() && index.name(n.node, n.attr) == id,
        None => matches_test(n, test, principal_attribute),
    };
    let mut each = |nodes: &mut dyn Iterator<Item = XNode<'a, 'i>>| -> Res<bool> {
        for node in nodes {
            *visited += 1;
            if keep(&node) && visit(node)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let node = from.node;
    if from.attr.is_some() {
        return match axis {
            Axis::Itself => each(&mut std::iter::once(from)),
            Axis::Parent => each(&mut std::iter::once(XNode::new(node))),
            Axis::Ancestor => each(&mut node.ancestors().map(XNode::new)),
            Axis::AncestorOrSelf => each(&mut std::iter::once(from).chain(node.ancestors().map(XNode::new))),
            _ => Ok(false),
        };
    }
    match axis {
        Axis::Child => each(&mut node.children().map(XNode::new)),
        Axis::Descendant => each(&mut node.descendants().skip(1).map(XNode::new)),
        Axis::DescendantOrSelf => each(&mut node.descendants().map(XNode::new)),
        Axis::Itself => each(&mut std::iter::once(from)),
        Axis::Parent => each(&mut node.parent().into_iter().map(XNode::new)),
        Axis::Ancestor => each(&mut node.ancestors().skip(1).map(XNode::new)),
        Axis::AncestorOrSelf => each(&mut node.ancestors().map(XNode::new)),
        Axis::FollowingSibling => each(&mut node.next_siblings().skip(1).map(XNode::new)),
        Axis::PrecedingSibling => each(&mut node.prev_siblings().skip(1).map(XNode::new)),
        Axis::Following => {
            let after = node.descendants().next_back().map_or(node.id(), |n| n.id()).get_usize();
            each(&mut node.document().descendants().filter(|n| n.id().get_usize() > after).map(XNode::new))
        }
        Axis::Preceding => {
            let ancestors: Vec<_> = node.ancestors().map(|a| a.id()).collect();
            let mut before: Vec<_> = node
                .document()
                .descendants()
                .filter(|n| n.id().get_usize() < node.id().get_usize() && !ancestors.contains(&n.id()))
                .collect();
            before.reverse();
            each(&mut before.into_iter().map(XNode::new))
        }
        Axis::Attribute => each(&mut (0..node.attributes().len()).map(|i| XNode { node, attr: Some(i) })),
    }
}

/// The `preceding` (nearest first, ancestors left out) or `following` elements named `id`
/// of `from`, read from the index, counted in `visited`.
fn visit_around<'a, 'i>(
    index: &DocIndex<'a, 'i>,
    from: Node<'a, 'i>,
    id: u32,
    preceding: bool,
    visited: &mut usize,
    visit: &mut dyn FnMut(XNode<'a, 'i>) -> Res<bool>,
) -> Res<bool> {
    let ids = if preceding { index.before(from, id) } else { index.following(from, id) };
    for i in 0..ids.len() {
        let n = ids[if preceding { ids.len() - 1 - i } else { i }];
        *visited += 1;
        if let Some(node) = index.node(n)
            && !(preceding && index.contains(n, from))
            && visit(XNode::new(node))?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What [`names_absent`] found along a path, left to right.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spine {
    /// A step tests for a name the document lacks, and no predicate comes before it.
    Absent,
    /// Steps without predicates so far, all of whose names occur.
    Clean,
    /// A predicate, or an expression that is not a plain path: stop looking.
    Unknown,
}

/// Walks a path's steps in evaluation order; see [`Evaluator::selects_nothing`].
fn names_absent(expr: &Expr, index: &DocIndex<'_, '_>) -> Spine {
    match expr {
        Expr::Root | Expr::ContextItem => Spine::Clean,
        Expr::Step { axis, test, preds } => {
            if let NodeTest::Name { id, .. } = test
                && *id != 0
                && *id < index.known()
                && !index.occurs(*id, *axis == Axis::Attribute)
            {
                return Spine::Absent;
            }
            if preds.is_empty() { Spine::Clean } else { Spine::Unknown }
        }
        Expr::Path(first, rest) => match names_absent(first, index) {
            Spine::Clean => names_absent(rest, index),
            other => other,
        },
        Expr::Union(a, b) => match (names_absent(a, index), names_absent(b, index)) {
            (Spine::Absent, Spine::Absent) => Spine::Absent,
            (Spine::Unknown, _) | (_, Spine::Unknown) => Spine::Unknown,
            _ => Spine::Clean,
        },
        Expr::Filter { base, preds } => match names_absent(base, index) {
            Spine::Clean if !preds.is_empty() => Spine::Unknown,
            other => other,
        },
        Expr::Memo(_, inner) => names_absent(inner, index),
        _ => Spine::Unknown,
    }
}

/// The names a test's value is decided by: when the document lacks any of them the test holds,
/// with no evaluation and no possible error. That is `not(P)` for a path `P` whose steps name
/// one of them before any predicate (`P` then selects nothing, as `names_absent` finds at
/// run time), and `A or B` when `A` is such a test (the evaluator takes `A` first). The many
/// "shall not be used" rules (`not(cac:X/cbc:Y)`, 1,200 of both syntaxes) are such tests.
pub fn holds_when_absent(test: &Expr) -> Vec<(u32, bool)> {
    let mut names = Vec::new();
    match test {
        Expr::Call { func: Func::Not, args, .. } if args.len() == 1 => {
            leading_names(&args[0], &mut names);
        }
        Expr::Or(first, _) => names = holds_when_absent(first),
        _ => {}
    }
    names
}

/// Collects the names `expr`'s steps test before any predicate; `false` once a step has one
/// (or the expression is not a path of steps), where the names stop deciding anything.
fn leading_names(expr: &Expr, out: &mut Vec<(u32, bool)>) -> bool {
    match expr {
        Expr::Root | Expr::ContextItem => true,
        Expr::Step { axis, test, preds } => {
            if let NodeTest::Name { id, .. } = test
                && *id != 0
            {
                out.push((*id, *axis == Axis::Attribute));
            }
            preds.is_empty()
        }
        Expr::Path(first, rest) => leading_names(first, out) && leading_names(rest, out),
        Expr::Filter { base, preds } => leading_names(base, out) && preds.is_empty(),
        Expr::Memo(_, inner) => leading_names(inner, out),
        _ => false,
    }
}

/// `//@name` without predicates (`/descendant-or-self::node()/attribute::name`): the id of the
/// name, when `first`/`rest` is that path.
fn all_attributes_named(first: &Expr, rest: &Expr) -> Option<u32> {
    let Expr::Step { axis: Axis::Attribute, test: NodeTest::Name { id, .. }, preds } = rest else { return None };
    let Expr::Path(root, dos) = first else { return None };
    let any_node = matches!(&**dos, Expr::Step { axis: Axis::DescendantOrSelf, test: NodeTest::AnyNode, preds } if preds.is_empty());
    (preds.is_empty() && *id != 0 && matches!(**root, Expr::Root) && any_node).then_some(*id)
}

fn sort_dedup(items: &mut Value<'_, '_>) {
    let key = |i: &Item<'_, '_>| match i {
        Item::Node(n) => n.order_key(),
        _ => (usize::MAX, 0),
    };
    items.sort_by_key(key);
    items.dedup_by_key(|i| key(i));
}

/// Atomization: nodes become untyped atomic values.
fn atomize<'a, 'i>(value: Value<'a, 'i>) -> Value<'a, 'i> {
    value
        .into_iter()
        .map(|item| match item {
            Item::Node(n) => Item::Untyped(string_value(&n).into()),
            other => other,
        })
        .collect()
}

/// Effective boolean value.
pub(crate) fn ebv(value: &[Item<'_, '_>]) -> Res<bool> {
    match value {
        [] => Ok(false),
        [Item::Node(_), ..] => Ok(true),
        [Item::Bool(b)] => Ok(*b),
        [Item::Str(s) | Item::Untyped(s)] => Ok(!s.is_empty()),
        [Item::Num(n)] => Ok(!n.is_zero()),
        [Item::Double(x)] => Ok(*x != 0.0 && !x.is_nan()),
        _ => Err(XPathError("no effective boolean value for this sequence".into())),
    }
}

fn atom_string(item: &Item<'_, '_>) -> String {
    match item {
        Item::Node(n) => string_value(n).into_owned(),
        Item::Untyped(s) | Item::Str(s) => s.to_string(),
        Item::Num(n) => n.to_string(),
        Item::Double(x) => double_string(*x),
        Item::Bool(b) => b.to_string(),
        Item::Date(date) => date.to_string(),
    }
}

/// A number as XPath types it: a decimal (xs:integer or xs:decimal) or a double.
#[derive(Clone)]
enum Numeric {
    Dec(XsDecimal),
    Dbl(f64),
}

impl Numeric {
    fn double(&self) -> f64 {
        match self {
            Numeric::Dec(d) => d.to_f64(),
            Numeric::Dbl(x) => *x,
        }
    }
}

/// An atomic value as a number for arithmetic: an untyped value (or string) is cast to
/// xs:double, as XPath does.
fn numeric(item: &Item<'_, '_>) -> Res<Numeric> {
    match item {
        Item::Num(n) => Ok(Numeric::Dec(n.clone())),
        Item::Double(x) => Ok(Numeric::Dbl(*x)),
        Item::Untyped(s) | Item::Str(s) => {
            parse_double(s).map(Numeric::Dbl).ok_or_else(|| XPathError(format!("{s:?} is not a number")))
        }
        Item::Bool(b) => Ok(Numeric::Dec(XsDecimal::from_int(i64::from(*b)))),
        other => Err(XPathError(format!("{} is not a number", atom_string(other)))),
    }
}

/// An atomized arithmetic operand converted by `convert` ([`numeric`] or [`number`]), `None`
/// when empty.
fn optional_operand<T>(value: &[Item<'_, '_>], convert: impl Fn(&Item<'_, '_>) -> Res<T>) -> Res<Option<T>> {
    match value {
        [] => Ok(None),
        [one] => convert(one).map(Some),
        _ => Err(XPathError("arithmetic on more than one item".into())),
    }
}

/// The xs:double of a lexical form: a decimal with an optional exponent, INF, -INF or NaN,
/// XML white space trimmed.
fn parse_double(text: &str) -> Option<f64> {
    let text = xml_trim(text);
    match text {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exponent) = text.split_once(['e', 'E']).map_or((text, None), |(m, e)| (m, Some(e)));
    let mantissa = mantissa.strip_prefix(['+', '-']).unwrap_or(mantissa);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !exponent_ok {
        return None;
    }
    text.parse().ok()
}

/// `xs:double()` of a text: a decimal (held as one, see [`cast`]) or, beyond 38 digits, for
/// `INF`, `NaN` and exponents beyond the decimal's range, and for a negative zero (which a
/// decimal does not have), a double.
fn double_of_text<'a, 'i>(text: &str) -> Option<Item<'a, 'i>> {
    match Decimal::parse(text, true) {
        Some(small) if small.is_zero() && text.trim_start().starts_with('-') => Some(Item::Double(-0.0)),
        Some(small) => Some(Item::Num(small.into())),
        None => parse_double(text).map(Item::Double),
    }
}

/// XPath `round` of a double: to the nearest integer, halves toward positive infinity.
fn round_double(x: f64) -> f64 {
    let floor = x.floor();
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    // A negative number from -0.5 up rounds to negative zero (F&O 3.1, fn:round).
    if rounded == 0.0 && x.is_sign_negative() { -0.0 } else { rounded }
}

/// Arithmetic on doubles (IEEE: a division by zero is an infinity or NaN); `idiv` gives an
/// integer.
fn arith_double<'a, 'i>(op: Op, l: f64, r: f64) -> Res<Item<'a, 'i>> {
    Ok(Item::Double(match op {
        Op::Add => l + r,
        Op::Sub => l - r,
        Op::Mul => l * r,
        Op::Div => l / r,
        Op::Mod => l % r,
        Op::IDiv => {
            let q = (l / r).trunc();
            // IntegerValue.fromDouble: the exact integer of the truncated quotient.
            return XsDecimal::from_f64(q)
                .map(|q| Item::Num(q.to_integer()))
                .ok_or_else(|| XPathError("integer division by zero, or of an infinite or NaN".into()));
        }
        _ => return Err(XPathError("not an arithmetic operator".into())),
    }))
}

/// The canonical string of a double: decimal notation from 1e-6 to 1e6, else scientific.
fn double_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "INF".into() } else { "-INF".into() };
    }
    if x == 0.0 || (1e-6..1e6).contains(&x.abs()) {
        return format!("{x}");
    }
    let text = format!("{x:E}");
    let (mantissa, exponent) = text.split_once('E').unwrap_or((&text, "0"));
    if mantissa.contains('.') { format!("{mantissa}E{exponent}") } else { format!("{mantissa}.0E{exponent}") }
}

/// `string()` of a sequence of at most one item.
/// [`string_of`] without copying a string the sequence holds already.
fn str_of<'v>(value: &'v [Item<'_, '_>]) -> Res<Cow<'v, str>> {
    match value {
        [Item::Untyped(s) | Item::Str(s)] => Ok(Cow::Borrowed(s)),
        _ => string_of(value).map(Cow::Owned),
    }
}

fn string_of(value: &[Item<'_, '_>]) -> Res<String> {
    match value {
        [] => Ok(String::new()),
        [one] => Ok(atom_string(one)),
        _ => Err(XPathError("a sequence of more than one item where one string is expected".into())),
    }
}

fn number(item: &Item<'_, '_>) -> Res<XsDecimal> {
    match item {
        Item::Num(n) => Ok(n.clone()),
        Item::Untyped(s) | Item::Str(s) => XsDecimal::parse(s)
            .ok()
            .or_else(|| Decimal::parse(s, true).map(XsDecimal::from))
            .ok_or_else(|| XPathError(format!("{s:?} is not a number"))),
        Item::Bool(b) => Ok(XsDecimal::from_int(i64::from(*b))),
        Item::Double(x) => {
            XsDecimal::from_f64(*x).ok_or_else(|| XPathError(format!("{} is not a decimal", double_string(*x))))
        }
        other => Err(XPathError(format!("{} is not a number", atom_string(other)))),
    }
}

fn single_number(value: &[Item<'_, '_>]) -> Res<XsDecimal> {
    match atomize(value.to_vec()).as_slice() {
        [one] => number(one),
        _ => Err(XPathError("expected one number".into())),
    }
}

fn substring(text: &str, start: XsDecimal, len: Option<XsDecimal>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let first = start;
    let end = len.and_then(|l| first.add(&l).ok());
    chars
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let p = XsDecimal::from_int(i64::try_from(*i + 1).unwrap_or(i64::MAX));
            p >= first && end.as_ref().is_none_or(|e| p < *e)
        })
        .map(|(_, c)| *c)
        .collect()
}

/// An `xs:date`: a day with an optional timezone (minutes east of UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XsDate {
    year: i64,
    month: u32,
    day: u32,
    timezone: Option<i32>,
}

impl XsDate {
    /// The lexical form `-?YYYY-MM-DD` followed by `Z` or `±hh:mm` (hours up to 14), with XML
    /// whitespace around it; a year of more than four digits has no leading zero.
    fn parse(text: &str) -> Option<XsDate> {
        let text = xml_trim(text);
        let (negative, body) = text.strip_prefix('-').map_or((false, text), |b| (true, b));
        let year_len = body.find('-')?;
        let (y, rest) = body.split_at(year_len);
        let (m, d, zone) = (rest.get(1..3)?, rest.get(4..6)?, rest.get(6..)?);
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if y.len() < 4 || (y.len() > 4 && y.starts_with('0')) || rest.as_bytes().get(3) != Some(&b'-') {
            return None;
        }
        if ![y, m, d].iter().all(|p| digits(p)) {
            return None;
        }
        let (year, month, day): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !(1..=12).contains(&month) || day == 0 || day > *days.get(month as usize - 1)? {
            return None;
        }
        let timezone = match zone.as_bytes() {
            [] => None,
            [b'Z'] => Some(0),
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) => {
                let (hours, minutes) =
                    (i32::from((h1 - b'0') * 10 + (h2 - b'0')), i32::from((m1 - b'0') * 10 + (m2 - b'0')));
                // XSD bounds a timezone by ±14:00; Saxon, and so KoSIT, takes up to ±14:59.
                if minutes > 59 || hours > 14 {
                    return None;
                }
                Some(if *sign == b'-' { -(hours * 60 + minutes) } else { hours * 60 + minutes })
            }
            _ => return None,
        };
        Some(XsDate { year: if negative { -year } else { year }, month, day, timezone })
    }

    /// The date's starting instant in minutes from 1970-01-01T00:00Z; a date without timezone
    /// is taken in the implicit timezone, UTC (XPath Functions and Operators 1.0 §10.4.9
    /// `op:date-equal`, §10.4.10 `op:date-less-than`).
    fn instant(self) -> i64 {
        // Days from the civil date (proleptic Gregorian; H. Hinnant's algorithm).
        let year = if self.month <= 2 { self.year - 1 } else { self.year };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        days * 1440 - i64::from(self.timezone.unwrap_or(0))
    }
}

impl fmt::Display for XsDate {
    /// The canonical form: `+00:00` is written `Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.year < 0 { "-" } else { "" };
        write!(f, "{sign}{:04}-{:02}-{:02}", self.year.abs(), self.month, self.day)?;
        match self.timezone {
            None => Ok(()),
            Some(0) => f.write_str("Z"),
            Some(minutes) => {
                let sign = if minutes < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
            }
        }
    }
}

fn cast<'a, 'i>(item: Item<'a, 'i>, to: AtomicType) -> Res<Item<'a, 'i>> {
    let fail = |item: &Item<'_, '_>| XPathError(format!("cannot cast {:?} to {to:?}", atom_string(item)));
    match to {
        AtomicType::String => Ok(Item::Str(atom_string(&item).into())),
        AtomicType::Double => match &item {
            // A double is held as a decimal where it is one of at most 38 digits.
            Item::Untyped(s) | Item::Str(s) => double_of_text(s).ok_or_else(|| fail(&item)),
            Item::Num(_) | Item::Double(_) => Ok(item),
            Item::Bool(b) => Ok(Item::Num(XsDecimal::from_int(i64::from(*b)))),
            _ => Err(fail(&item)),
        },
        AtomicType::Decimal | AtomicType::Integer => {
            let integer = to == AtomicType::Integer;
            let value = match &item {
                Item::Untyped(s) | Item::Str(s) => {
                    let value = if integer { XsDecimal::parse_integer(s) } else { XsDecimal::parse(s) };
                    return match value {
                        Ok(value) => Ok(Item::Num(value)),
                        Err(NumberError::Invalid) => Err(fail(&item)),
                        Err(e) => Err(number_error(e)),
                    };
                }
                Item::Num(n) => n.clone(),
                // Exactly (Java's `new BigDecimal(double)`); NaN and infinities fail.
                Item::Double(x) => XsDecimal::from_f64(*x).ok_or_else(|| fail(&item))?,
                Item::Bool(b) => XsDecimal::from_int(i64::from(*b)),
                _ => return Err(fail(&item)),
            };
            Ok(Item::Num(if integer { value.to_integer() } else { value.to_decimal() }))
        }
        AtomicType::Date => match &item {
            Item::Date(_) => Ok(item),
            Item::Untyped(s) | Item::Str(s) => XsDate::parse(s).map(Item::Date).ok_or_else(|| fail(&item)),
            _ => Err(fail(&item)),
        },
        AtomicType::Boolean => match &item {
            Item::Bool(_) => Ok(item),
            Item::Untyped(s) | Item::Str(s) => match xml_trim(s) {
                "true" | "1" => Ok(Item::Bool(true)),
                "false" | "0" => Ok(Item::Bool(false)),
                _ => Err(fail(&item)),
            },
            Item::Num(n) => Ok(Item::Bool(!n.is_zero())),
            Item::Double(x) => Ok(Item::Bool(*x != 0.0 && !x.is_nan())),
            _ => Err(fail(&item)),
        },
    }
}

fn ordering_holds(op: Op, ord: Ordering) -> Res<bool> {
    Ok(match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        _ => return Err(XPathError("not a comparison".into())),
    })
}

/// Compares two atomic values. In a general comparison an untyped value takes the type of the
/// other side (a number, a boolean, a date), or is compared as a string.
/// The general comparison of an untyped value (a node's string) with a literal, as
/// [`compare`] makes it: as strings against a string, as numbers against a number.
fn compare_text(op: Op, text: &str, literal: &Expr, literal_left: bool) -> Res<bool> {
    let ord = match literal {
        Expr::Str(s) => text.cmp(s),
        Expr::Num(n) => match untyped_number_ord(text, n)? {
            Some(ord) => ord,
            None => return Ok(op == Op::Ne),
        },
        _ => return Err(XPathError("not a literal".into())),
    };
    ordering_holds(op, if literal_left { ord.reverse() } else { ord })
}

/// The order of an untyped value against a number in a general comparison, as Saxon (and so
/// the KoSIT validator) has it: the untyped value is cast to `xs:double` (decimals, exponents,
/// `INF`, `-INF`, `NaN`) and the number promoted to one, so `'0.30000000000000001' = 0.3` and
/// `'1E-400' = 0` hold ([`untyped_double_ord`]).
fn untyped_number_ord(text: &str, n: &XsDecimal) -> Res<Option<Ordering>> {
    untyped_double_ord(text, n.to_f64(), n.kind().is_integer_class())
}

/// The order of an untyped value against a double `n` in a general comparison: Saxon orders
/// the two by Java's total order of doubles (`Double.compare`), where -0 lies below 0 and NaN
/// above everything, so `'-0.00' < 0`, `'-0.00' != 0` and `'NaN' > 0` hold there, whereas
/// XPath has -0 = 0 and NaN unordered. An untyped integer (`'-0'`) met by a number Saxon
/// holds as an integer (`n_is_integer`) is read as one, so it has no negative zero there:
/// `'-0' = 0` but `'-0' < 0.0`. `None` when `n` is NaN, which compares false with every
/// operator but `!=`. Found by experiment with SaxonC-HE 13.1 (see the tests).
fn untyped_double_ord(text: &str, n: f64, n_is_integer: bool) -> Res<Option<Ordering>> {
    let mut value = parse_double(text).ok_or_else(|| XPathError(format!("{text:?} is not a number")))?;
    if n.is_nan() {
        return Ok(None);
    }
    if value == 0.0 && n_is_integer && is_integer_lexical(text) {
        value = 0.0; // positive: an integer has no negative zero
    }
    Ok(Some(if value.is_nan() { Ordering::Greater } else { value.total_cmp(&n) }))
}

/// An optional sign and digits, XML white space around: the lexical form of an `xs:integer`.
fn is_integer_lexical(text: &str) -> bool {
    let text = xml_trim(text);
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn compare(op: Op, a: &Item<'_, '_>, b: &Item<'_, '_>, general: bool) -> Res<bool> {
    use Item::*;
    let ord = match (a, b) {
        (Untyped(x) | Str(x), Untyped(y) | Str(y)) => x.as_ref().cmp(y.as_ref()),
        (Num(x), Num(y)) => x.cmp(y),
        // A decimal meets a double as a double; NaN compares false but with `!=`.
        (Double(_) | Num(_), Double(_) | Num(_)) => {
            let (Ok(x), Ok(y)) = (numeric(a), numeric(b)) else { return Err(XPathError("not numbers".into())) };
            let Some(ord) = x.double().partial_cmp(&y.double()) else { return Ok(op == Op::Ne) };
            ord
        }
        (Untyped(x), Double(y)) | (Double(y), Untyped(x)) if general => {
            let Some(ord) = untyped_double_ord(x, *y, false)? else { return Ok(op == Op::Ne) };
            if matches!(a, Double(_)) { ord.reverse() } else { ord }
        }
        (Untyped(x), Num(y)) | (Num(y), Untyped(x)) if general => {
            let Some(ord) = untyped_number_ord(x, y)? else { return Ok(op == Op::Ne) };
            if matches!(a, Num(_)) { ord.reverse() } else { ord }
        }
        (Bool(x), Bool(y)) => x.cmp(y),
        (Untyped(_), Bool(_)) | (Bool(_), Untyped(_)) if general => {
            let (Bool(x), Bool(y)) = (cast(a.clone(), AtomicType::Boolean)?, cast(b.clone(), AtomicType::Boolean)?)
            else {
                return Err(XPathError("boolean cast".into()));
            };
            x.cmp(&y)
        }
        (Date(x), Date(y)) => x.instant().cmp(&y.instant()),
        (Untyped(_), Date(_)) | (Date(_), Untyped(_)) if general => {
            let (Date(x), Date(y)) = (cast(a.clone(), AtomicType::Date)?, cast(b.clone(), AtomicType::Date)?) else {
                return Err(XPathError("date cast".into()));
            };
            x.instant().cmp(&y.instant())
        }
        _ => {
            return Err(XPathError(format!("cannot compare {} with {}", atom_string(a), atom_string(b))));
        }
    };
    ordering_holds(op, ord)
}

/// Texts up to this length are read as numbers without counting the work
/// ([`Evaluator::spend_on_number_text`]).
const LONG_NUMBER_TEXT: usize = 64;

/// The work steps of arithmetic on decimals beyond an `i128` ([`spend`]): a step per four limb
/// additions, per eight limb products of a multiplication or division (a node step costs
/// about as much); none on the `i128` fast path.
fn arithmetic_steps(op: Op, l: &XsDecimal, r: &XsDecimal) -> usize {
    let (a, b) = (l.limbs(), r.limbs());
    if a + b == 0 {
        return 0;
    }
    match op {
        Op::Add | Op::Sub => (a + b) / 4,
        _ => a.max(1) * b.max(1) / 8,
    }
}

fn arith(op: Op, l: &XsDecimal, r: &XsDecimal) -> Res<XsDecimal> {
    match op {
        Op::Add => l.add(r),
        Op::Sub => l.sub(r),
        Op::Mul => l.mul(r),
        Op::Div => l.div(r),
        Op::IDiv => l.idiv(r),
        Op::Mod => l.rem(r),
        _ => return Err(XPathError("not an arithmetic operator".into())),
    }
    .map_err(number_error)
}

/// XSD regular expressions are close to Rust's; the differences the rule sets meet are the
/// `\s`/`\S` classes (XSD: space, tab, newline, carriage return only; Rust: all Unicode white
/// space, e.g. the no-break space), `.` (XSD: not newline or carriage return; Rust: not newline)
/// and the `\i`/`\c` name classes. There is no implicit anchoring in XPath `matches`, as in Rust.
fn translate_xsd_regex(pattern: &str, dot_all: bool) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    // Inside a character class `.` is literal; a nested `[` is XSD's class subtraction.
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') => out.push_str("[\\x20\\t\\n\\r]"),
                Some('S') => out.push_str("[^\\x20\\t\\n\\r]"),
                Some('i') => out.push_str("[_:A-Za-z]"),
                Some('c') => out.push_str("[-._:A-Za-z0-9]"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push('[');
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '.' if class_depth == 0 && !dot_all => out.push_str("[^\\n\\r]"),
            c => out.push(c),
        }
    }
    out
}
