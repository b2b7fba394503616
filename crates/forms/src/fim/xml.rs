//! A strict reading of XDatenfelder XML over roxmltree: every child must be a known element of
//! the XDatenfelder namespace, a single-valued element must not repeat, required content must be
//! there. Errors name the node and where it ends (line, column of its last character).

use roxmltree::{Document, Node};

use super::FimError;

/// The document and the XDatenfelder namespace it uses.
pub(super) struct Reader<'a, 'input> {
    pub doc: &'a Document<'input>,
    pub ns: &'a str,
}

/// The element children of a node, checked against what may appear there.
pub(super) struct Kids<'a, 'input> {
    items: Vec<Node<'a, 'input>>,
}

impl<'a, 'input> Kids<'a, 'input> {
    /// The only child called `name`, if present.
    pub fn one(&self, name: &str) -> Option<Node<'a, 'input>> {
        self.items.iter().find(|n| n.tag_name().name() == name).copied()
    }

    /// Every child called `name`, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Node<'a, 'input>> + 's {
        self.items.iter().filter(move |n| n.tag_name().name() == name).copied()
    }
}

impl<'a, 'input> Reader<'a, 'input> {
    /// Line and column of the node's last character.
    pub fn position(&self, node: Node) -> (u32, u32) {
        let p = self.doc.text_pos_at(node.range().end);
        (p.row, p.col.saturating_sub(1))
    }

    /// The node's name as written (`xdf:name`).
    pub fn qname(&self, node: Node) -> String {
        let local = node.tag_name().name();
        match node.tag_name().namespace().and_then(|ns| node.lookup_prefix(ns)) {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}:{local}"),
            _ => local.to_owned(),
        }
    }

    /// `what (node <xdf:x>, line L, column C)`.
    pub fn error(&self, what: &str, node: Node) -> FimError {
        let (line, column) = self.position(node);
        FimError(format!("{what} (node <{}>, line {line}, column {column})", self.qname(node)))
    }

    fn unexpected(&self, node: Node) -> FimError {
        let (line, column) = self.position(node);
        FimError(format!("Unexpected node <{}> line {line}, column {column}", self.qname(node)))
    }

    /// The element children of `node`: each must be in `single` (at most once) or in `many`.
    /// Where `lenient` names an element, a repetition is not an error but a remark.
    pub fn kids(
        &self,
        node: Node<'a, 'input>,
        single: &[&str],
        many: &[&str],
        remarks: &mut Vec<String>,
        lenient: &[&str],
    ) -> Result<Kids<'a, 'input>, FimError> {
        let mut items: Vec<Node<'a, 'input>> = Vec::new();
        for child in node.children().filter(Node::is_element) {
            let name = child.tag_name().name();
            if child.tag_name().namespace() != Some(self.ns) {
                return Err(self.unexpected(child));
            }
            if !single.iter().chain(many).any(|k| *k == name) {
                return Err(self.unexpected(child));
            }
            if single.contains(&name) && items.iter().any(|n| n.tag_name().name() == name) {
                if lenient.contains(&name) {
                    remarks.push(format!(
                        "<{}> appears more than once; the last non-empty one is used",
                        self.qname(child)
                    ));
                    let keep = !self.text_of(child).is_empty();
                    if keep {
                        items.retain(|n| n.tag_name().name() != name);
                        items.push(child);
                    }
                    continue;
                }
                return Err(self.error("Duplicate value", child));
            }
            items.push(child);
        }
        Ok(Kids { items })
    }

    /// The trimmed text of an element without element children (comments are ignored).
    fn text_of(&self, node: Node) -> String {
        node.children().filter(Node::is_text).filter_map(|t| t.text()).collect::<String>().trim().to_owned()
    }

    /// The text of a leaf element; an element child is unexpected there.
    pub fn text(&self, node: Node) -> Result<String, FimError> {
        if let Some(child) = node.children().find(Node::is_element) {
            return Err(self.unexpected(child));
        }
        Ok(self.text_of(node))
    }

    /// The text of an optional leaf element; empty counts as absent.
    pub fn opt_text(&self, node: Option<Node>) -> Result<Option<String>, FimError> {
        Ok(match node {
            Some(n) => Some(self.text(n)?).filter(|t| !t.is_empty()),
            None => None,
        })
    }

    /// The text of a required leaf element under `parent`: missing or empty is an error.
    pub fn required(&self, parent: Node, kids: &Kids, name: &str) -> Result<String, FimError> {
        let node = kids.one(name).ok_or_else(|| self.error(&format!("Missing <{name}>"), parent))?;
        let text = self.text(node)?;
        if text.is_empty() {
            return Err(self.error("Missing content", node));
        }
        Ok(text)
    }

    /// The `<code>` of a code element (`<xdf:feldart><code>input</code></xdf:feldart>`).
    pub fn code(&self, node: Node) -> Result<String, FimError> {
        let mut code = None;
        for child in node.children().filter(Node::is_element) {
            if child.tag_name().name() != "code" || code.is_some() {
                return Err(if code.is_some() { self.error("Duplicate value", child) } else { self.unexpected(child) });
            }
            code = Some(self.text(child)?);
        }
        match code {
            Some(c) if !c.is_empty() => Ok(c),
            Some(_) => Err(self.error("Missing content", node)),
            None => Err(self.error("Missing <code>", node)),
        }
    }
}
