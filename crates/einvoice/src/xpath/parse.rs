//! Tokenizer and recursive-descent parser for the XPath 2.0 subset.

use super::{Namespaces, XPathError};
use crate::decimal::XsDecimal;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(String),
    Name(String),
    Var(String),
    Sym(&'static str),
}

const SYMBOLS: [&str; 22] = [
    "//", "::", "..", "!=", "<=", ">=", "(", ")", "[", "]", ",", "/", "@", ".", "|", "+", "-", "*", "=", "<", ">", "?",
];

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn tokenize(text: &str) -> Result<Vec<Tok>, XPathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(XPathError(format!("unterminated string in {text}"))),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        value.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(Tok::Str(value));
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                i += 1;
                if i < chars.len() && matches!(chars[i], '+' | '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c == '$' {
            let start = i + 1;
            i = scan_qname(&chars, start);
            tokens.push(Tok::Var(chars[start..i].iter().collect()));
        } else if is_name_start(c) {
            let start = i;
            i = scan_qname(&chars, start);
            tokens.push(Tok::Name(chars[start..i].iter().collect()));
        } else if c == '(' && chars.get(i + 1) == Some(&':') {
            // An XPath comment (: … :).
            let rest: String = chars[i..].iter().collect();
            let end = rest.find(":)").ok_or_else(|| XPathError(format!("unterminated comment in {text}")))?;
            i += rest[..end + 2].chars().count();
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(*s))
                .ok_or_else(|| XPathError(format!("unexpected character {c:?} in {text}")))?;
            tokens.push(Tok::Sym(sym));
            i += sym.len();
        }
    }
    Ok(tokens)
}

/// Scans `name` or `prefix:name` or `prefix:*` from `start`, returning the end index.
fn scan_qname(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len() && is_name_char(chars[i]) {
        i += 1;
    }
    if chars.get(i) == Some(&':') && chars.get(i + 1).is_some_and(|&c| is_name_start(c) || c == '*') {
        i += 1;
        if chars[i] == '*' {
            return i + 1;
        }
        while i < chars.len() && is_name_char(chars[i]) {
            i += 1;
        }
    }
    i
}

/// An axis of a location step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Attribute,
    Itself,
    Parent,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
}

impl Axis {
    fn named(name: &str) -> Option<Axis> {
        Some(match name {
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "attribute" => Axis::Attribute,
            "self" => Axis::Itself,
            "parent" => Axis::Parent,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "following-sibling" => Axis::FollowingSibling,
            "preceding-sibling" => Axis::PrecedingSibling,
            "following" => Axis::Following,
            "preceding" => Axis::Preceding,
            _ => return None,
        })
    }

    /// Reverse axes count positions from the context node backwards.
    pub fn is_reverse(self) -> bool {
        matches!(self, Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling | Axis::Preceding)
    }
}

/// What a step's nodes must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeTest {
    /// A name; `None` parts are wildcards (`*`, `cac:*`). `id` is the interned name
    /// (interned by the document index, `index.rs`) when neither part is a wildcard, else 0.
    Name { ns: Option<Arc<str>>, local: Option<Arc<str>>, id: u32 },
    /// `node()`.
    AnyNode,
    /// `text()`.
    Text,
}

/// The atomic types of casts and constructor functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicType {
    String,
    Decimal,
    Integer,
    Double,
    Date,
    Boolean,
}

impl AtomicType {
    fn named(name: &str) -> Option<AtomicType> {
        Some(match name {
            "xs:string" => AtomicType::String,
            "xs:decimal" => AtomicType::Decimal,
            "xs:integer" => AtomicType::Integer,
            "xs:double" | "xs:float" => AtomicType::Double,
            "xs:date" => AtomicType::Date,
            "xs:boolean" => AtomicType::Boolean,
            _ => return None,
        })
    }
}

/// The functions the evaluator treats specially, resolved from the name when compiling so that
/// evaluation matches an enum, not a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Not,
    Boolean,
    Exists,
    Empty,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    NormalizeSpace,
    UpperCase,
    LowerCase,
    Concat,
    Name,
    SubstringAfter,
    SubstringBefore,
    StringLength,
    String,
    /// Any other function of the library (evaluated by name).
    Other,
}

impl Func {
    fn of(name: &str) -> Func {
        match name {
            "not" => Func::Not,
            "boolean" => Func::Boolean,
            "exists" => Func::Exists,
            "empty" => Func::Empty,
            "contains" => Func::Contains,
            "starts-with" => Func::StartsWith,
            "ends-with" => Func::EndsWith,
            "matches" => Func::Matches,
            "normalize-space" => Func::NormalizeSpace,
            "upper-case" => Func::UpperCase,
            "lower-case" => Func::LowerCase,
            "concat" => Func::Concat,
            "name" => Func::Name,
            "substring-after" => Func::SubstringAfter,
            "substring-before" => Func::SubstringBefore,
            "string-length" => Func::StringLength,
            "string" => Func::String,
            _ => Func::Other,
        }
    }
}

/// Operators of comparisons and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    IDiv,
    Mod,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Str(Arc<str>),
    Num(XsDecimal),
    Var(Arc<str>),
    ContextItem,
    Root,
    Step {
        axis: Axis,
        test: NodeTest,
        preds: Vec<Expr>,
    },
    Filter {
        base: Box<Expr>,
        preds: Vec<Expr>,
    },
    Path(Box<Expr>, Box<Expr>),
    Call {
        name: Arc<str>,
        /// The function, for those the evaluator answers directly (resolved when compiling).
        func: Func,
        args: Vec<Expr>,
    },
    Cast {
        expr: Box<Expr>,
        to: AtomicType,
        castable: bool,
        /// The empty sequence is allowed (`cast as xs:T?` and the constructor `xs:T(…)`); `cast
        /// as xs:T` of it is an error and `castable as xs:T` false.
        empty: bool,
    },
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    /// A general comparison (`=`, `<`, …) when `general`, a value comparison (`eq`, …) otherwise.
    Compare {
        op: Op,
        general: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Arith(Op, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Sequence(Vec<Expr>),
    For {
        var: Arc<str>,
        domain: Box<Expr>,
        body: Box<Expr>,
    },
    Quantified {
        every: bool,
        var: Arc<str>,
        domain: Box<Expr>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// An absolute path without variables: its value depends on the document only, so it is
    /// computed once per document (the evaluator keeps it by this process-unique id).
    Memo(u64, Box<Expr>),
}

impl Expr {
    /// Compiles an XPath expression with the given prefix bindings.
    /// Optimised for evaluation: `//name` becomes one descendant step, and absolute paths
    /// without variables are computed once per document ([`Expr::Memo`]).
    pub fn compile(text: &str, namespaces: &Namespaces) -> Result<Expr, XPathError> {
        Ok(memoize(Expr::parse(text, namespaces, true)?))
    }

    /// Compiles an XSLT match pattern as written (for matching a node right to left).
    pub fn compile_raw(text: &str, namespaces: &Namespaces) -> Result<Expr, XPathError> {
        Expr::parse(text, namespaces, false)
    }

    fn parse(text: &str, namespaces: &Namespaces, optimize: bool) -> Result<Expr, XPathError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0, namespaces, text, optimize };
        let expr = parser.expr()?;
        match parser.peek() {
            None => Ok(expr),
            Some(tok) => Err(parser.error(&format!("unexpected {tok:?}"))),
        }
    }

    /// Compiles an XSLT match pattern (a schematron rule context) into the expression that
    /// selects, from the document node, every node the pattern matches.
    pub fn compile_pattern(text: &str, namespaces: &Namespaces) -> Result<Expr, XPathError> {
        let expr = Expr::parse(text, namespaces, true)?;
        Ok(anchor_pattern(expr))
    }

    /// Calls `f` on every direct subexpression.
    fn children_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Expr::Str(_) | Expr::Num(_) | Expr::Var(_) | Expr::ContextItem | Expr::Root | Expr::Memo(..) => {}
            Expr::Step { preds, .. } => preds.iter_mut().for_each(f),
            Expr::Filter { base, preds } => {
                f(base);
                preds.iter_mut().for_each(f);
            }
            Expr::Call { args, .. } => args.iter_mut().for_each(f),
            Expr::Sequence(items) => items.iter_mut().for_each(f),
            Expr::Cast { expr, .. } | Expr::Neg(expr) => f(expr),
            Expr::Path(a, b)
            | Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Compare { left: a, right: b, .. }
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b)
            | Expr::Range(a, b)
            | Expr::For { domain: a, body: b, .. }
            | Expr::Quantified { domain: a, body: b, .. } => {
                f(a);
                f(b);
            }
            Expr::If { cond, then, otherwise } => {
                f(cond);
                f(then);
                f(otherwise);
            }
        }
    }

    fn uses_variables(&self) -> bool {
        if let Expr::Var(_) = self {
            return true;
        }
        let mut found = false;
        // `children_mut` needs `&mut`; a clone keeps this a pure question.
        self.clone().children_mut(&mut |child| found = found || child.uses_variables());
        found
    }

    /// `true` if the expression calls `position()` or `last()` anywhere (it may read the
    /// focus's position or size, so it must be evaluated with the true ones).
    pub(super) fn reads_position(&self) -> bool {
        if let Expr::Call { name, .. } = self
            && matches!(&**name, "position" | "last")
        {
            return true;
        }
        let mut found = false;
        self.clone().children_mut(&mut |child| found = found || child.reads_position());
        found
    }

    fn boxed(self) -> Box<Expr> {
        Box::new(self)
    }
}

/// Wraps every maximal absolute path without variables in [`Expr::Memo`]. Equal paths (the
/// same steps, names and predicates) share one id, so that the rules that repeat a path (the
/// VAT category families ask for the same `//cac:TaxCategory[…]` many times) compute it once.
/// The prefixes of such a path are memoized too: `//cac:TaxCategory[…]/cbc:ID[. = 'S']` and
/// `…[. = 'Z']` share the value of `//cac:TaxCategory[…]`.
fn memoize(mut expr: Expr) -> Expr {
    if matches!(expr, Expr::Path(..)) && starts_at_root(&expr) && !expr.uses_variables() {
        return memo(memoize_prefixes(expr));
    }
    expr.children_mut(&mut |child| *child = memoize(std::mem::replace(child, Expr::ContextItem)));
    expr
}

/// `expr` wrapped in [`Expr::Memo`] with the id of its shape.
fn memo(expr: Expr) -> Expr {
    static IDS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, u64>>> =
        std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let fresh = || NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = match IDS.get_or_init(Default::default).lock() {
        Ok(mut ids) => *ids.entry(format!("{expr:?}")).or_insert_with(fresh),
        Err(_) => fresh(),
    };
    Expr::Memo(id, expr.boxed())
}

/// Memoizes the left prefixes of an absolute path, except those ending in
/// `descendant-or-self::node()` (every node of the document: cheaper walked than copied).
fn memoize_prefixes(expr: Expr) -> Expr {
    match expr {
        Expr::Path(first, rest) if matches!(*first, Expr::Path(_, ref last) if !is_any_descendant_or_self(last)) => {
            Expr::Path(memo(memoize_prefixes(*first)).boxed(), rest)
        }
        other => other,
    }
}

fn is_any_descendant_or_self(step: &Expr) -> bool {
    matches!(step, Expr::Step { axis: Axis::DescendantOrSelf, test: NodeTest::AnyNode, preds } if preds.is_empty())
}

/// A predicate that cannot select by position (its value is never a number).
pub(super) fn never_positional(pred: &Expr) -> bool {
    match pred {
        Expr::Compare { .. } | Expr::And(..) | Expr::Or(..) | Expr::Path(..) | Expr::Step { .. } => true,
        Expr::Call { name, .. } => matches!(
            &**name,
            "not"
                | "boolean"
                | "exists"
                | "empty"
                | "contains"
                | "starts-with"
                | "ends-with"
                | "matches"
                | "true"
                | "false"
        ),
        _ => false,
    }
}

/// `X//name[p]` as `X/descendant::name[p]` when no predicate is positional (the same nodes).
fn descendant_step(step: Expr) -> Result<Expr, Expr> {
    match step {
        Expr::Step { axis: Axis::Child, test, preds } if preds.iter().all(never_positional) => {
            Ok(Expr::Step { axis: Axis::Descendant, test, preds })
        }
        other => Err(other),
    }
}

/// `X//(a | b)` as `X/(descendant::a | descendant::b)` when every branch is a child step
/// without positional predicates (the same nodes: the children of X's descendants-or-self).
fn descendant_union(step: Expr) -> Result<Expr, Expr> {
    fn convertible(expr: &Expr) -> bool {
        match expr {
            Expr::Union(a, b) => convertible(a) && convertible(b),
            Expr::Step { axis: Axis::Child, preds, .. } => preds.iter().all(never_positional),
            _ => false,
        }
    }
    fn convert(expr: Expr) -> Expr {
        match expr {
            Expr::Union(a, b) => Expr::Union(convert(*a).boxed(), convert(*b).boxed()),
            Expr::Step { test, preds, .. } => Expr::Step { axis: Axis::Descendant, test, preds },
            other => other,
        }
    }
    match step {
        union @ Expr::Union(..) if convertible(&union) => Ok(convert(union)),
        step => descendant_step(step),
    }
}

/// Relative patterns match anywhere: `a/b` selects what `//a/b` selects.
fn anchor_pattern(expr: Expr) -> Expr {
    match expr {
        Expr::Union(a, b) => Expr::Union(anchor_pattern(*a).boxed(), anchor_pattern(*b).boxed()),
        e if starts_at_root(&e) => e,
        e @ (Expr::Path(..) | Expr::Step { .. }) => prepend_descendant(e),
        e => Expr::Path(descendant_or_self_of_root().boxed(), e.boxed()),
    }
}

fn starts_at_root(expr: &Expr) -> bool {
    match expr {
        Expr::Root => true,
        Expr::Path(first, _) => starts_at_root(first),
        _ => false,
    }
}

fn descendant_or_self_of_root() -> Expr {
    Expr::Path(Expr::Root.boxed(), any_descendant_or_self().boxed())
}

fn any_descendant_or_self() -> Expr {
    Expr::Step { axis: Axis::DescendantOrSelf, test: NodeTest::AnyNode, preds: Vec::new() }
}

struct Parser<'t> {
    tokens: Vec<Tok>,
    at: usize,
    namespaces: &'t Namespaces,
    text: &'t str,
    /// Rewrite `//name` into a descendant step (not for patterns, which keep their shape).
    optimize: bool,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> XPathError {
        XPathError(format!("{what} at token {} in `{}`", self.at, self.text))
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.tokens.get(self.at + ahead)
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == name)
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let found = self.is_sym(sym);
        if found {
            self.at += 1;
        }
        found
    }

    fn eat_name(&mut self, name: &str) -> bool {
        let found = self.is_name(name);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), XPathError> {
        if self.eat_sym(sym) { Ok(()) } else { Err(self.error(&format!("expected `{sym}`"))) }
    }

    fn expect_name(&mut self, name: &str) -> Result<(), XPathError> {
        if self.eat_name(name) { Ok(()) } else { Err(self.error(&format!("expected `{name}`"))) }
    }

    fn expr(&mut self) -> Result<Expr, XPathError> {
        let first = self.expr_single()?;
        if !self.is_sym(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_sym(",") {
            items.push(self.expr_single()?);
        }
        Ok(Expr::Sequence(items))
    }

    fn expr_single(&mut self) -> Result<Expr, XPathError> {
        let next_is_var = matches!(self.peek_at(1), Some(Tok::Var(_)));
        if next_is_var && self.is_name("for") {
            self.at += 1;
            return self.bindings("return", &|var, domain, body| Expr::For { var, domain, body });
        }
        if next_is_var && (self.is_name("some") || self.is_name("every")) {
            let every = self.is_name("every");
            self.at += 1;
            return self.bindings("satisfies", &|var, domain, body| Expr::Quantified { every, var, domain, body });
        }
        if self.is_name("if") && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            self.at += 2;
            let cond = self.expr()?;
            self.expect_sym(")")?;
            self.expect_name("then")?;
            let then = self.expr_single()?;
            self.expect_name("else")?;
            let otherwise = self.expr_single()?;
            return Ok(Expr::If { cond: cond.boxed(), then: then.boxed(), otherwise: otherwise.boxed() });
        }
        self.or_expr()
    }

    /// `$a in X, $b in Y keyword BODY`, nested one variable per level.
    fn bindings(
        &mut self,
        keyword: &str,
        build: &dyn Fn(Arc<str>, Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Expr, XPathError> {
        let Some(Tok::Var(var)) = self.peek().cloned() else { return Err(self.error("expected a variable")) };
        self.at += 1;
        self.expect_name("in")?;
        let domain = self.expr_single()?;
        let body = if self.eat_sym(",") {
            self.bindings(keyword, build)?
        } else {
            self.expect_name(keyword)?;
            self.expr_single()?
        };
        Ok(build(var.into(), domain.boxed(), body.boxed()))
    }

    fn or_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.and_expr()?;
        while self.eat_name("or") {
            left = Expr::Or(left.boxed(), self.and_expr()?.boxed());
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.comparison()?;
        while self.eat_name("and") {
            left = Expr::And(left.boxed(), self.comparison()?.boxed());
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, XPathError> {
        let left = self.range()?;
        let (op, general) = match self.peek() {
            Some(Tok::Sym("=")) => (Op::Eq, true),
            Some(Tok::Sym("!=")) => (Op::Ne, true),
            Some(Tok::Sym("<")) => (Op::Lt, true),
            Some(Tok::Sym("<=")) => (Op::Le, true),
            Some(Tok::Sym(">")) => (Op::Gt, true),
            Some(Tok::Sym(">=")) => (Op::Ge, true),
            Some(Tok::Name(n)) => match n.as_str() {
                "eq" => (Op::Eq, false),
                "ne" => (Op::Ne, false),
                "lt" => (Op::Lt, false),
                "le" => (Op::Le, false),
                "gt" => (Op::Gt, false),
                "ge" => (Op::Ge, false),
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.range()?;
        Ok(Expr::Compare { op, general, left: left.boxed(), right: right.boxed() })
    }

    fn range(&mut self) -> Result<Expr, XPathError> {
        let left = self.additive()?;
        if self.eat_name("to") {
            return Ok(Expr::Range(left.boxed(), self.additive()?.boxed()));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                Op::Add
            } else if self.eat_sym("-") {
                Op::Sub
            } else {
                return Ok(left);
            };
            left = Expr::Arith(op, left.boxed(), self.multiplicative()?.boxed());
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.union()?;
        loop {
            let op = if self.eat_sym("*") {
                Op::Mul
            } else if self.eat_name("div") {
                Op::Div
            } else if self.eat_name("idiv") {
                Op::IDiv
            } else if self.eat_name("mod") {
                Op::Mod
            } else {
                return Ok(left);
            };
            left = Expr::Arith(op, left.boxed(), self.union()?.boxed());
        }
    }

    fn union(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.cast()?;
        while self.eat_sym("|") || self.eat_name("union") {
            left = Expr::Union(left.boxed(), self.cast()?.boxed());
        }
        Ok(left)
    }

    fn cast(&mut self) -> Result<Expr, XPathError> {
        let expr = self.unary()?;
        let castable = self.is_name("castable");
        if (castable || self.is_name("cast")) && matches!(self.peek_at(1), Some(Tok::Name(n)) if n == "as") {
            self.at += 2;
            let Some(Tok::Name(ty)) = self.peek().cloned() else { return Err(self.error("expected a type")) };
            self.at += 1;
            let to = AtomicType::named(&ty).ok_or_else(|| self.error(&format!("unknown type {ty}")))?;
            let empty = self.eat_sym("?");
            return Ok(Expr::Cast { expr: expr.boxed(), to, castable, empty });
        }
        Ok(expr)
    }

    fn unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat_sym("-") {
            return Ok(Expr::Neg(self.unary()?.boxed()));
        }
        if self.eat_sym("+") {
            return self.unary();
        }
        self.path()
    }

    fn path(&mut self) -> Result<Expr, XPathError> {
        if self.eat_sym("/") {
            if self.can_start_step() {
                let rest = self.relative_path()?;
                return Ok(prepend(Expr::Root, rest));
            }
            return Ok(Expr::Root);
        }
        if self.eat_sym("//") {
            let rest = self.relative_path()?;
            if self.optimize {
                return Ok(prepend_descendant(rest));
            }
            return Ok(prepend(descendant_or_self_of_root(), rest));
        }
        self.relative_path()
    }

    fn can_start_step(&self) -> bool {
        match self.peek() {
            Some(Tok::Name(_) | Tok::Var(_) | Tok::Str(_) | Tok::Num(_)) => true,
            Some(Tok::Sym(s)) => matches!(*s, "*" | "@" | "." | ".." | "("),
            None => false,
        }
    }

    fn relative_path(&mut self) -> Result<Expr, XPathError> {
        let mut expr = self.step()?;
        loop {
            if self.eat_sym("/") {
                expr = Expr::Path(expr.boxed(), self.step()?.boxed());
            } else if self.eat_sym("//") {
                let step = self.step()?;
                expr = match descendant_step(step) {
                    Ok(descendant) if self.optimize => Expr::Path(expr.boxed(), descendant.boxed()),
                    Ok(Expr::Step { test, preds, .. }) => {
                        let step = Expr::Step { axis: Axis::Child, test, preds };
                        Expr::Path(Expr::Path(expr.boxed(), any_descendant_or_self().boxed()).boxed(), step.boxed())
                    }
                    Ok(step) | Err(step) => {
                        Expr::Path(Expr::Path(expr.boxed(), any_descendant_or_self().boxed()).boxed(), step.boxed())
                    }
                };
            } else {
                return Ok(expr);
            }
        }
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, XPathError> {
        let mut preds = Vec::new();
        while self.eat_sym("[") {
            preds.push(self.expr()?);
            self.expect_sym("]")?;
        }
        Ok(preds)
    }

    fn step(&mut self) -> Result<Expr, XPathError> {
        if self.eat_sym("..") {
            return Ok(Expr::Step { axis: Axis::Parent, test: NodeTest::AnyNode, preds: self.predicates()? });
        }
        if self.eat_sym("@") {
            let test = self.node_test()?;
            return Ok(Expr::Step { axis: Axis::Attribute, test, preds: self.predicates()? });
        }
        if let (Some(Tok::Name(name)), Some(Tok::Sym("::"))) = (self.peek().cloned(), self.peek_at(1)) {
            let axis = Axis::named(&name).ok_or_else(|| self.error(&format!("unknown axis {name}")))?;
            self.at += 2;
            let test = self.node_test()?;
            return Ok(Expr::Step { axis, test, preds: self.predicates()? });
        }
        let is_call = matches!(self.peek_at(1), Some(Tok::Sym("(")));
        match self.peek().cloned() {
            Some(Tok::Name(name)) if !is_call || matches!(name.as_str(), "node" | "text") => {
                let test = self.node_test()?;
                Ok(Expr::Step { axis: Axis::Child, test, preds: self.predicates()? })
            }
            Some(Tok::Sym("*")) => {
                let test = self.node_test()?;
                Ok(Expr::Step { axis: Axis::Child, test, preds: self.predicates()? })
            }
            _ => {
                let base = self.primary()?;
                let preds = self.predicates()?;
                Ok(if preds.is_empty() { base } else { Expr::Filter { base: base.boxed(), preds } })
            }
        }
    }

    fn node_test(&mut self) -> Result<NodeTest, XPathError> {
        match self.peek().cloned() {
            Some(Tok::Sym("*")) => {
                self.at += 1;
                Ok(NodeTest::Name { ns: None, local: None, id: 0 })
            }
            Some(Tok::Name(name)) => {
                self.at += 1;
                if matches!(name.as_str(), "node" | "text") && self.eat_sym("(") {
                    self.expect_sym(")")?;
                    return Ok(if name == "node" { NodeTest::AnyNode } else { NodeTest::Text });
                }
                self.name_test(&name)
            }
            _ => Err(self.error("expected a node test")),
        }
    }

    fn name_test(&self, name: &str) -> Result<NodeTest, XPathError> {
        let Some((prefix, local)) = name.split_once(':') else {
            // Unprefixed names are in no namespace (XPath 2.0 default element namespace unset).
            return Ok(NodeTest::Name {
                ns: Some("".into()),
                local: Some(name.into()),
                id: super::index::intern("", name),
            });
        };
        let ns = self
            .namespaces
            .iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, uri)| *uri)
            .ok_or_else(|| self.error(&format!("unknown prefix {prefix}")))?;
        let id = if local == "*" { 0 } else { super::index::intern(ns, local) };
        let local = (local != "*").then(|| Arc::from(local));
        Ok(NodeTest::Name { ns: Some(ns.into()), local, id })
    }

    fn primary(&mut self) -> Result<Expr, XPathError> {
        let Some(tok) = self.peek().cloned() else { return Err(self.error("unexpected end")) };
        self.at += 1;
        match tok {
            Tok::Str(s) => Ok(Expr::Str(s.into())),
            Tok::Num(n) => {
                XsDecimal::parse_literal(&n).map(Expr::Num).map_err(|e| self.error(&format!("bad number {n}: {e}")))
            }
            Tok::Var(v) => Ok(Expr::Var(v.into())),
            Tok::Sym(".") => Ok(Expr::ContextItem),
            Tok::Sym("(") => {
                if self.eat_sym(")") {
                    return Ok(Expr::Sequence(Vec::new()));
                }
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Tok::Name(name) => {
                self.expect_sym("(")?;
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.expr_single()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                if let Some(to) = AtomicType::named(&name) {
                    let [arg] = <[Expr; 1]>::try_from(args).map_err(|_| self.error("a cast takes one argument"))?;
                    return Ok(Expr::Cast { expr: arg.boxed(), to, castable: false, empty: true });
                }
                super::eval::check_function(&name, args.len()).map_err(|e| self.error(&e))?;
                Ok(Expr::Call { func: Func::of(&name), name: name.into(), args })
            }
            other => Err(self.error(&format!("unexpected {other:?}"))),
        }
    }
}

/// `//rest`: the first step of `rest` becomes a descendant step from the root when it can.
fn prepend_descendant(rest: Expr) -> Expr {
    match rest {
        Expr::Path(a, b) => Expr::Path(prepend_descendant(*a).boxed(), b),
        step => match descendant_union(step) {
            Ok(descendant) => Expr::Path(Expr::Root.boxed(), descendant.boxed()),
            Err(step) => Expr::Path(descendant_or_self_of_root().boxed(), step.boxed()),
        },
    }
}

/// `first/rest` where `rest` is itself a left-nested path: attach `first` at its start.
fn prepend(first: Expr, rest: Expr) -> Expr {
    match rest {
        Expr::Path(a, b) => Expr::Path(prepend(first, *a).boxed(), b),
        step => Expr::Path(first.boxed(), step.boxed()),
    }
}
