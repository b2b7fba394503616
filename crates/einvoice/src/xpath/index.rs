//! Interned names and the per-document index that lets the evaluator answer name tests with an
//! integer comparison and descendant steps without walking the tree.
//!
//! Every name a compiled expression tests for (`cbc:ID`, `@schemeID`) gets a small process-wide
//! id when it is compiled ([`intern`]). When an evaluator first sees a document it indexes it
//! once ([`DocIndex::build`]): the name id of every element and attribute (0 for names no
//! expression mentions: they never pass a name test), the end of every node's subtree, and per
//! name the elements and attributes that bear it, in document order. `roxmltree` numbers nodes
//! in document order, so a node's descendants are exactly the ids after it up to its subtree's
//! end, and the descendants with a given name are a slice of that name's list (two binary
//! searches). A name that occurs nowhere in the document makes every step that tests for it
//! empty at once, which is what the many "shall not be used" rules ask.

use rustc_hash::FxHashMap;
use std::cell::Cell;
use std::ops::Range;
use std::sync::{OnceLock, RwLock};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

/// The namespaces a local name is interned with, and the ids.
type Namespaced = Vec<(Box<str>, u32)>;

/// Local name → (namespace, id) of every interned name.
#[derive(Default)]
struct Interner {
    /// FxHash: names are hashed once per node of every document, SipHash's cost would show.
    by_local: FxHashMap<Box<str>, Namespaced>,
    /// Ids handed out so far (0 is "not interned").
    count: u32,
}

impl Interner {
    fn get(&self, ns: &str, local: &str) -> u32 {
        self.by_local.get(local).and_then(|v| v.iter().find(|(n, _)| **n == *ns)).map_or(0, |(_, id)| *id)
    }
}

fn interner() -> &'static RwLock<Interner> {
    static NAMES: OnceLock<RwLock<Interner>> = OnceLock::new();
    NAMES.get_or_init(|| RwLock::new(Interner { by_local: FxHashMap::default(), count: 1 }))
}

/// The process-wide id of an expanded name (never 0).
pub(crate) fn intern(ns: &str, local: &str) -> u32 {
    let Ok(mut names) = interner().write() else { return 0 };
    let known = names.get(ns, local);
    if known != 0 {
        return known;
    }
    let id = names.count;
    names.count += 1;
    names.by_local.entry(local.into()).or_default().push((ns.into(), id));
    id
}

/// Every interned name by id, as (namespace, local name); index 0 (no name) is empty.
pub fn interned_names() -> Vec<(Box<str>, Box<str>)> {
    let Ok(names) = interner().read() else { return Vec::new() };
    let mut out = vec![(Box::from(""), Box::from("")); names.count as usize];
    for (local, namespaced) in &names.by_local {
        for (ns, id) in namespaced {
            out[*id as usize] = (ns.clone(), local.clone());
        }
    }
    out
}

/// The index of one document; see the module documentation.
pub(crate) struct DocIndex<'a, 'i> {
    pub(crate) doc: &'a roxmltree::Document<'i>,
    /// Names interned when the index was built: a test for a later name cannot use it.
    known: u32,
    /// Name id per node (0 for other nodes and unknown names).
    names: Vec<u32>,
    /// Last node id of each node's subtree.
    subtree_end: Vec<u32>,
    /// Number of children of each node.
    child_counts: Vec<u32>,
    /// Per node, the slot of its first attribute in `attr_names`.
    attr_base: Vec<u32>,
    attr_names: Vec<u32>,
    /// `elements[element_starts[id]..element_starts[id + 1]]`: the elements named `id`.
    element_starts: Vec<u32>,
    elements: Vec<u32>,
    /// The same for attributes: (owner element, attribute index).
    attribute_starts: Vec<u32>,
    attributes: Vec<(u32, u32)>,
    /// Steps spent on this document so far: nodes visited on axes, items compared
    /// ([`Self::spend`]).
    work: Cell<u64>,
}

/// The most steps spent on one document before its evaluation stops, about two seconds: some
/// 7,000 times what the largest invoice of the test suite needs (03.07a, 435 KB: 7,160) and 25
/// times what an invoice of 16,000 lines at the 20 MB size limit would (about 130 per line).
/// Rules that compare every item with every earlier one (UBL-SR-47's
/// `preceding::cbc:PaymentMeansCode`, BR-DE-22) would otherwise take hours on a crafted
/// document with many distinct values.
#[cfg(not(test))]
pub const WORK_LIMIT: u64 = 50_000_000;
/// Unit tests reach the limit with small documents (no test document comes near it).
#[cfg(test)]
pub const WORK_LIMIT: u64 = 200_000;

impl<'a, 'i> DocIndex<'a, 'i> {
    /// Indexes `doc` in one pass (plus one per list to sort by name).
    pub(crate) fn build(doc: &'a roxmltree::Document<'i>) -> Self {
        let Ok(interner) = interner().read() else { return Self::empty(doc) };
        let known = interner.count;
        let total = doc.descendants().count();
        let (mut names, mut attr_base, mut attr_names) = (vec![0; total], Vec::with_capacity(total), Vec::new());
        for node in doc.descendants() {
            attr_base.push(u32::try_from(attr_names.len()).unwrap_or(u32::MAX));
            if node.is_element() {
                let tag = node.tag_name();
                names[node.id().get_usize()] = interner.get(tag.namespace().unwrap_or(""), tag.name());
                for attr in node.attributes() {
                    attr_names.push(interner.get(attr.namespace().unwrap_or(""), attr.name()));
                }
            }
        }
        drop(interner);
        // A subtree ends where its last child's subtree ends; children have higher ids.
        let mut subtree_end: Vec<u32> = (0..u32::try_from(total).unwrap_or(u32::MAX)).collect();
        let mut child_counts = vec![0u32; total];
        for node in doc.descendants().collect::<Vec<_>>().into_iter().rev() {
            if let Some(last) = node.last_child() {
                subtree_end[node.id().get_usize()] = subtree_end[last.id().get_usize()];
            }
            if let Some(parent) = node.parent() {
                child_counts[parent.id().get_usize()] += 1;
            }
        }
        let (element_starts, elements) = group(known, names.iter().enumerate().map(|(id, &name)| (name, id as u32)));
        let owners = (0..total).flat_map(|id| {
            let range = attr_range(&attr_base, attr_names.len(), id);
            range.clone().map(move |slot| (id as u32, (slot - range.start) as u32, slot))
        });
        let (attribute_starts, attributes) =
            group(known, owners.map(|(owner, index, slot)| (attr_names[slot], (owner, index))));
        DocIndex {
            doc,
            known,
            names,
            subtree_end,
            child_counts,
            attr_base,
            attr_names,
            element_starts,
            elements,
            attribute_starts,
            attributes,
            work: Cell::new(0),
        }
    }

    fn empty(doc: &'a roxmltree::Document<'i>) -> Self {
        DocIndex {
            doc,
            known: 0,
            names: Vec::new(),
            subtree_end: Vec::new(),
            child_counts: Vec::new(),
            attr_base: Vec::new(),
            attr_names: Vec::new(),
            element_starts: Vec::new(),
            elements: Vec::new(),
            attribute_starts: Vec::new(),
            attributes: Vec::new(),
            work: Cell::new(0),
        }
    }

    /// Counts `steps` more work on this document; `true` once more than [`WORK_LIMIT`] steps
    /// have been spent.
    #[inline]
    pub(crate) fn spend(&self, steps: u64) -> bool {
        self.work.set(self.work.get().saturating_add(steps));
        self.exhausted()
    }

    /// `true` once more than [`WORK_LIMIT`] steps have been spent.
    #[inline]
    pub(crate) fn exhausted(&self) -> bool {
        self.work.get() > WORK_LIMIT
    }

    /// The elements named `name` before `from` in document order (the `preceding` axis holds
    /// those of them that are not its ancestors: [`Self::contains`]).
    pub(crate) fn before(&self, from: Node<'a, 'i>, name: u32) -> &[u32] {
        let all = slice(&self.element_starts, &self.elements, name);
        &all[..all.partition_point(|&n| n < from.id().get())]
    }

    /// `true` if `node` lies in the subtree of the node with id `ancestor` (itself included).
    pub(crate) fn contains(&self, ancestor: u32, node: Node<'a, 'i>) -> bool {
        let id = node.id().get();
        ancestor <= id && id <= self.subtree_end[ancestor as usize]
    }

    /// The elements named `name` after `from`'s subtree (the `following` axis), in document
    /// order.
    pub(crate) fn following(&self, from: Node<'a, 'i>, name: u32) -> &[u32] {
        let all = slice(&self.element_starts, &self.elements, name);
        let last = self.subtree_end[from.id().get_usize()];
        &all[all.partition_point(|&n| n <= last)..]
    }

    /// `true` if this index can answer a test for name `id` on nodes of `node`'s document.
    #[inline]
    pub(crate) fn covers(&self, node: Node<'a, 'i>, id: u32) -> bool {
        id != 0 && id < self.known && std::ptr::eq(node.document(), self.doc)
    }

    /// The name id of an element (or of its attribute number `attr`).
    #[inline]
    pub(crate) fn name(&self, node: Node<'a, 'i>, attr: Option<usize>) -> u32 {
        let id = node.id().get_usize();
        match attr {
            None => self.names[id],
            Some(i) => self.attr_names[attr_range(&self.attr_base, self.attr_names.len(), id).start + i],
        }
    }

    /// The ids of the elements named `name` within `from`'s subtree (`from` itself included
    /// when `or_self`), in document order.
    pub(crate) fn descendants(&self, from: Node<'a, 'i>, name: u32, or_self: bool) -> &[u32] {
        let all = slice(&self.element_starts, &self.elements, name);
        let id = from.id().get();
        let first = if or_self { id } else { id + 1 };
        let last = self.subtree_end[id as usize];
        let start = all.partition_point(|&n| n < first);
        let end = all.partition_point(|&n| n <= last);
        &all[start..end.max(start)]
    }

    /// The attributes named `name` on the elements of `from`'s subtree, in document order.
    pub(crate) fn subtree_attributes(&self, from: Node<'a, 'i>, name: u32) -> &[(u32, u32)] {
        let all = slice(&self.attribute_starts, &self.attributes, name);
        let id = from.id().get();
        let last = self.subtree_end[id as usize];
        let start = all.partition_point(|&(n, _)| n < id);
        let end = all.partition_point(|&(n, _)| n <= last);
        &all[start..end.max(start)]
    }

    /// The number of children of a node.
    pub(crate) fn child_count(&self, node: Node<'a, 'i>) -> usize {
        self.child_counts[node.id().get_usize()] as usize
    }

    /// `true` if some element (or attribute, when `attribute`) of the document is named `name`.
    #[inline]
    pub(crate) fn occurs(&self, name: u32, attribute: bool) -> bool {
        if attribute {
            !slice(&self.attribute_starts, &self.attributes, name).is_empty()
        } else {
            !slice(&self.element_starts, &self.elements, name).is_empty()
        }
    }

    /// How many names were interned when the index was built (ids below are covered).
    #[inline]
    pub(crate) fn known(&self) -> u32 {
        self.known
    }

    /// The number of nodes of the document.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The node with this id.
    pub(crate) fn node(&self, id: u32) -> Option<Node<'a, 'i>> {
        self.doc.get_node(roxmltree::NodeId::new(id))
    }
}

fn attr_range(base: &[u32], total: usize, id: usize) -> Range<usize> {
    let start = base[id] as usize;
    let end = base.get(id + 1).map_or(total, |&b| b as usize);
    start..end
}

fn slice<'s, T>(starts: &[u32], items: &'s [T], name: u32) -> &'s [T] {
    match (starts.get(name as usize), starts.get(name as usize + 1)) {
        (Some(&start), Some(&end)) => &items[start as usize..end as usize],
        _ => &[],
    }
}

/// Groups items by name id (a counting sort that keeps the input order within a name); names
/// outside `1..known` are left out.
fn group<T: Copy + Default>(known: u32, items: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<u32>, Vec<T>) {
    let mut starts = vec![0u32; known as usize + 1];
    for (name, _) in items.clone() {
        if name != 0 && name < known {
            starts[name as usize + 1] += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut fill = starts.clone();
    let mut out = vec![T::default(); starts.last().copied().unwrap_or(0) as usize];
    for (name, item) in items {
        if name != 0 && name < known {
            out[fill[name as usize] as usize] = item;
            fill[name as usize] += 1;
        }
    }
    (starts, out)
}
