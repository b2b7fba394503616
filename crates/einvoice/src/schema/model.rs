//! The content-model matcher: an element's children against its type's particle.
//!
//! XSD's unique particle attribution means that at every point at most one particle can take
//! the next child, so a greedy left-to-right match with one element of lookahead is exact:
//! no backtracking. Every step either consumes a child or leaves a particle, so the work is
//! bounded by the number of children times the (static) size of the particle.

use super::table::{ElementName, Name, Particle, Term};

/// Why the children do not fit the content model.
#[derive(Debug)]
pub(super) enum Mismatch<'i, 'd> {
    /// A mandatory particle found nothing it can start with; `found` is the child that stood
    /// there instead (or `None` at the end of the children); `expected` are all particles that
    /// could have come there, `missing` last.
    Missing { found: Option<roxmltree::Node<'i, 'd>>, missing: &'static Particle, expected: Vec<&'static Particle> },
    /// A child is left over after the model: not allowed at this point.
    Unexpected { found: roxmltree::Node<'i, 'd>, expected: Vec<&'static Particle> },
}

/// Reusable matcher state. Only when a content model does not match is it matched again
/// recording the particles that could have taken a child at the current position (for
/// "expected …" in messages); the buffer is kept across elements.
#[derive(Default)]
pub(super) struct Matcher {
    recording: bool,
    candidates: Vec<&'static Particle>,
}

impl Matcher {
    /// Matches the element children of `parent` against `particle`.
    pub fn check<'i, 'd>(
        &mut self,
        particle: &'static Particle,
        parent: roxmltree::Node<'i, 'd>,
    ) -> Result<(), Mismatch<'i, 'd>> {
        self.recording = false;
        let mut next = Next::at(parent.first_element_child());
        if self.take(particle, &mut next).is_ok() && next.is_none() {
            return Ok(());
        }
        self.recording = true;
        self.candidates.clear();
        let mut next = Next::at(parent.first_element_child());
        if let Err(missing) = self.take(particle, &mut next) {
            let mut expected = std::mem::take(&mut self.candidates);
            expected.push(missing);
            return Err(Mismatch::Missing { found: next.map(|n| n.node), missing, expected });
        }
        match next {
            None => Ok(()),
            Some(found) => {
                Err(Mismatch::Unexpected { found: found.node, expected: std::mem::take(&mut self.candidates) })
            }
        }
    }

    /// Takes as many repetitions of `particle` as the children allow (up to maxOccurs);
    /// `Err(particle)` names the mandatory particle that found nothing.
    fn take(&mut self, particle: &'static Particle, next: &mut Option<Next<'_, '_>>) -> Result<(), &'static Particle> {
        if let Term::Element(name) = &particle.term {
            return self.take_element(particle, name, next);
        }
        let mut repetitions = 0;
        while repetitions < particle.max {
            let Some(child) = *next else { break };
            if !particle.starts_with(child.name) {
                break;
            }
            self.once(particle, next)?;
            repetitions += 1;
            if next.is_some_and(|n| n.node == child.node) {
                break; // an empty repetition: more would change nothing
            }
        }
        if repetitions < particle.min && !particle.term_nullable {
            return Err(self.innermost_missing(particle));
        }
        if self.recording && repetitions < particle.max {
            self.candidates.push(particle);
        }
        Ok(())
    }

    /// `take` for an element particle, the most common kind: consecutive children of that name.
    #[inline]
    fn take_element(
        &mut self,
        particle: &'static Particle,
        name: &Name,
        next: &mut Option<Next<'_, '_>>,
    ) -> Result<(), &'static Particle> {
        let mut repetitions = 0;
        while repetitions < particle.max {
            match *next {
                Some(child) if name.is(child.name) => *next = Next::at(child.node.next_sibling_element()),
                _ => break,
            }
            repetitions += 1;
        }
        if repetitions < particle.min {
            return Err(particle);
        }
        if self.recording {
            if repetitions > 0 {
                self.candidates.clear();
            }
            if repetitions < particle.max {
                self.candidates.push(particle);
            }
        }
        Ok(())
    }

    /// One repetition of the particle's term; the next child is known to start it.
    fn once(&mut self, particle: &'static Particle, next: &mut Option<Next<'_, '_>>) -> Result<(), &'static Particle> {
        match &particle.term {
            Term::Element(_) | Term::Any(_) => {
                *next = next.and_then(|child| Next::at(child.node.next_sibling_element()));
                if self.recording {
                    self.candidates.clear();
                }
                Ok(())
            }
            Term::Sequence(items) => items.iter().try_for_each(|item| self.take(item, next)),
            Term::Choice(alternatives) => {
                let Some(child) = *next else { return Ok(()) }; // `take` only calls with a child
                match alternatives.iter().find(|alternative| alternative.starts_with(child.name)) {
                    Some(alternative) => self.take(alternative, next),
                    None => Ok(()),
                }
            }
        }
    }

    /// For messages: a missing sequence is reported by its first mandatory item.
    fn innermost_missing(&self, particle: &'static Particle) -> &'static Particle {
        match &particle.term {
            Term::Sequence(items) => {
                items.iter().find(|item| item.min > 0).map_or(particle, |item| self.innermost_missing(item))
            }
            _ => particle,
        }
    }
}

/// The next child element to match, with its name read once.
#[derive(Clone, Copy)]
struct Next<'i, 'd> {
    node: roxmltree::Node<'i, 'd>,
    name: ElementName<'i>,
}

impl<'i, 'd> Next<'i, 'd> {
    fn at(node: Option<roxmltree::Node<'i, 'd>>) -> Option<Next<'i, 'd>> {
        node.map(|node| Next { node, name: ElementName::of(node) })
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::Schema;
    use super::*;

    /// A hand-made content model: sequence(a, choice(b, sequence(c, d?))*, e{0,2}, f).
    const TABLE: &str = "ns\tx\turn:x\n\
        complex\tx:T\telements\n\
        seq\t0\t1\t1\n\
        el\t1\t1\t1\tx:a\tx:S\n\
        choice\t1\t0\tu\n\
        el\t2\t1\t1\tx:b\tx:S\n\
        seq\t2\t1\t1\n\
        el\t3\t1\t1\tx:c\tx:S\n\
        el\t3\t0\t1\tx:d\tx:S\n\
        el\t1\t0\t2\tx:e\tx:S\n\
        el\t1\t1\t1\tx:f\tx:S\n\
        simple\tx:S\tstring\n";

    fn outcome(children: &str) -> String {
        let schema: &'static Schema = Box::leak(Box::new(Schema::parse(TABLE)));
        let super::super::table::Type::Complex(complex) = &schema.types[0] else { panic!("complex") };
        let super::super::table::Content::Elements(particle) = &complex.content else { panic!("elements") };
        let xml = format!("<r xmlns='urn:x'>{children}</r>");
        let doc = roxmltree::Document::parse(&xml).expect("parses");
        let names = |expected: &[&Particle]| {
            expected.iter().flat_map(|p| p.first.iter().map(|n| n.local)).collect::<Vec<_>>().join(",")
        };
        match Matcher::default().check(particle, doc.root_element()) {
            Ok(()) => "ok".to_string(),
            Err(Mismatch::Missing { found, expected, .. }) => {
                format!("missing {} at {:?}", names(&expected), found.map(|n| n.tag_name().name()))
            }
            Err(Mismatch::Unexpected { found, expected }) => {
                format!("unexpected {} expected {}", found.tag_name().name(), names(&expected))
            }
        }
    }

    #[test]
    fn sequences_choices_and_occurrences_are_matched_greedily() {
        assert_eq!(outcome("<a/><f/>"), "ok");
        assert_eq!(outcome("<a/><b/><c/><b/><c/><d/><e/><e/><f/>"), "ok");
        assert_eq!(outcome("<a/><c/><d/><c/><f/>"), "ok");
        assert_eq!(outcome("<f/>"), "missing a at Some(\"f\")");
        assert_eq!(outcome("<a/><b/>"), "missing b,c,e,f at None");
        assert_eq!(outcome("<a/><d/><f/>"), "missing b,c,e,f at Some(\"d\")");
        assert_eq!(outcome("<a/><e/><e/><e/><f/>"), "missing f at Some(\"e\")");
        assert_eq!(outcome("<a/><f/><f/>"), "unexpected f expected ");
        assert_eq!(outcome("<a/><b/><f/><x/>"), "unexpected x expected ");
    }

    #[test]
    fn an_unbounded_choice_of_optional_items_stops_without_looping() {
        assert_eq!(outcome("<a/><c/><c/><c/><f/>"), "ok");
    }
}
