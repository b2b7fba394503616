//! The font of every PDF Kreishaus writes: Liberation Sans (regular and bold, SIL Open Font
//! License, `fonts/LICENSE`), metric-compatible with Helvetica and Arial, with the Latin, Greek
//! and Cyrillic scripts of the EU's languages. It is embedded as a subset of the glyphs a
//! document shows, as a CID font (`Identity-H`) with a `ToUnicode` map, so every character of a
//! name like "Ayşe Yılmaz" or "Łódź" is printed, found by search and read aloud, and a document
//! looks the same in every viewer (PDF 1.7, 9.7 and 9.10; PDF/UA-1 requires embedded fonts and
//! a Unicode mapping of every glyph).
//!
//! [`width`] measures text for the layout; [`Fonts`] encodes what a document shows and
//! embeds the subsets when the document is written.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use lopdf::{Dictionary, Object, Stream, StringFormat, dictionary};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::GlyphId;

const REGULAR: &[u8] = include_bytes!("../../fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/LiberationSans-Bold.ttf");

/// The character shown for one the font does not have.
const REPLACEMENT: char = '?';

/// A face of the font.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

impl Face {
    const ALL: [Face; 2] = [Face::Regular, Face::Bold];

    /// The font's name in a page's resources (`/F1 12 Tf`).
    pub fn resource(self) -> &'static str {
        match self {
            Face::Regular => "F1",
            Face::Bold => "F2",
        }
    }

    fn postscript_name(self) -> &'static str {
        match self {
            Face::Regular => "LiberationSans",
            Face::Bold => "LiberationSans-Bold",
        }
    }

    fn data(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn parsed(self) -> &'static ttf_parser::Face<'static> {
        static FACES: OnceLock<[ttf_parser::Face<'static>; 2]> = OnceLock::new();
        // The font files are compiled in; a unit test parses them.
        let faces = FACES.get_or_init(|| Face::ALL.map(|f| ttf_parser::Face::parse(f.data(), 0).expect("font parses")));
        &faces[self.index()]
    }

    /// The glyph that shows `c`, and the character it shows (the replacement when the font
    /// lacks `c`).
    fn glyph(self, c: char) -> (GlyphId, char) {
        let face = self.parsed();
        match face.glyph_index(c).filter(|g| g.0 != 0) {
            Some(glyph) => (glyph, c),
            None => (face.glyph_index(REPLACEMENT).unwrap_or_default(), REPLACEMENT),
        }
    }

    /// A glyph's advance in thousandths of the font size (PDF's glyph space).
    fn advance(self, glyph: GlyphId) -> f32 {
        let face = self.parsed();
        f32::from(face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0 / f32::from(face.units_per_em())
    }

    /// A font design value in thousandths of the font size.
    fn scaled(self, units: i16) -> i64 {
        (f32::from(units) * 1000.0 / f32::from(self.parsed().units_per_em())).round() as i64
    }
}

/// The width of `text` in points at `size`.
pub fn width(face: Face, text: &str, size: f32) -> f32 {
    text.chars().map(|c| face.advance(face.glyph(c).0)).sum::<f32>() * size / 1000.0
}

/// The glyphs one face has shown in a document: their new numbers in the subset (the order of
/// first use; `.notdef` is 0) and the character each shows.
#[derive(Default)]
struct Shown {
    glyphs: GlyphRemapper,
    characters: BTreeMap<u16, char>,
}

/// The fonts of one document: what each face has shown, so that only those glyphs are embedded.
#[derive(Default)]
pub struct Fonts {
    shown: [Shown; 2],
}

impl Fonts {
    pub fn new() -> Fonts {
        Fonts::default()
    }

    /// `text` as the operand of `Tj` in `face`: two bytes per glyph (its number in the subset).
    pub fn show(&mut self, face: Face, text: &str) -> Object {
        let shown = &mut self.shown[face.index()];
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (glyph, shows) = face.glyph(c);
            let cid = shown.glyphs.remap(glyph.0);
            shown.characters.entry(cid).or_insert(shows);
            bytes.extend(cid.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }

    /// Embeds the subset of every face that showed text into `doc`; returns the `/Font`
    /// dictionary of the pages' resources.
    pub fn embed(&self, doc: &mut lopdf::Document) -> Result<Dictionary, String> {
        let mut resources = Dictionary::new();
        for face in Face::ALL {
            let shown = &self.shown[face.index()];
            if shown.characters.is_empty() {
                continue;
            }
            let font = embed_face(doc, face, shown)?;
            resources.set(face.resource(), font);
        }
        Ok(resources)
    }
}

/// The Type 0 font of one face's subset: the CID font with its widths and descriptor, the font
/// program, and the map from glyphs back to characters.
fn embed_face(doc: &mut lopdf::Document, face: Face, shown: &Shown) -> Result<Object, String> {
    let program = subsetter::subset(face.data(), 0, &shown.glyphs).map_err(|e| format!("font subset: {e}"))?;
    let length = program.len() as i64;
    let mut file = Stream::new(dictionary! { "Length1" => length }, program);
    file.compress().map_err(|e| e.to_string())?;
    let file = doc.add_object(file);
    // A subset's name starts with a tag of six capitals (PDF 1.7, 9.6.4), here from its glyphs.
    let name = format!("{}+{}", subset_tag(&shown.glyphs), face.postscript_name());
    let parsed = face.parsed();
    let bbox = parsed.global_bounding_box();
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(name.clone().into_bytes()),
        // Nonsymbolic: the Latin character set.
        "Flags" => 32,
        "FontBBox" => [bbox.x_min, bbox.y_min, bbox.x_max, bbox.y_max].map(|v| Object::from(face.scaled(v))).to_vec(),
        "ItalicAngle" => 0,
        "Ascent" => face.scaled(parsed.ascender()),
        "Descent" => face.scaled(parsed.descender()),
        "CapHeight" => face.scaled(parsed.capital_height().unwrap_or(parsed.ascender())),
        "StemV" => match face { Face::Regular => 80, Face::Bold => 140 },
        "FontFile2" => file,
    });
    let widths: Vec<Object> =
        shown.glyphs.remapped_gids().map(|old| Object::from(face.advance(GlyphId(old)).round() as i64)).collect();
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => Object::Name(name.clone().into_bytes()),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "W" => vec![Object::from(0), Object::Array(widths)],
        "CIDToGIDMap" => "Identity",
    });
    let mut to_unicode = Stream::new(Dictionary::new(), to_unicode_cmap(&shown.characters).into_bytes());
    to_unicode.compress().map_err(|e| e.to_string())?;
    let to_unicode = doc.add_object(to_unicode);
    Ok(doc
        .add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => Object::Name(name.into_bytes()),
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![Object::from(cid_font)],
            "ToUnicode" => to_unicode,
        })
        .into())
}

/// Six capitals from the subset's glyphs, the same for the same glyphs.
fn subset_tag(glyphs: &GlyphRemapper) -> String {
    let numbers: Vec<u8> = glyphs.remapped_gids().flat_map(u16::to_be_bytes).collect();
    Sha256::digest(&numbers).iter().take(6).map(|byte| char::from(b'A' + byte % 26)).collect()
}

/// The `ToUnicode` CMap (PDF 1.7, 9.10.3): each glyph number to the character it shows, in
/// UTF-16BE, at most 100 entries per `bfchar` block.
fn to_unicode_cmap(characters: &BTreeMap<u16, char>) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = characters.iter().collect();
    for block in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", block.len()));
        for (cid, c) in block {
            let utf16: String = c.encode_utf16(&mut [0; 2]).iter().map(|unit| format!("{unit:04X}")).collect();
            cmap.push_str(&format!("<{cid:04X}> <{utf16}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_parse_and_have_the_characters_of_europes_names() {
        for face in Face::ALL {
            for c in "AäÖüßÇğışŁłŃńŠšŽžŐőĂăȚțΑλφαБжЯ€„“–".chars() {
                assert_eq!(face.glyph(c).1, c, "{face:?} lacks {c}");
            }
            assert_eq!(face.glyph('漢'), face.glyph('?'), "a character the font lacks is shown as ?");
        }
    }

    #[test]
    fn widths_are_helveticas() {
        // Liberation Sans has Helvetica's metrics: "Helvetica" is 4,112 units of 1,000 wide.
        assert!((width(Face::Regular, "Helvetica", 1000.0) - 4112.0).abs() < 2.0);
        assert!(width(Face::Bold, "Helvetica", 10.0) > width(Face::Regular, "Helvetica", 10.0));
    }

    #[test]
    fn glyphs_are_numbered_in_the_order_first_shown_and_mapped_back_to_their_characters() {
        let mut fonts = Fonts::new();
        let Object::String(bytes, _) = fonts.show(Face::Regular, "Łódź Ł") else { panic!("a string") };
        assert_eq!(bytes, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 1]);
        let cmap = to_unicode_cmap(&fonts.shown[0].characters);
        assert!(cmap.contains("5 beginbfchar\n<0001> <0141>\n<0002> <00F3>"), "{cmap}");
        assert_eq!(to_unicode_cmap(&BTreeMap::from([(7, '𝄞')])).lines().nth(10), Some("<0007> <D834DD1E>"));
    }
}
