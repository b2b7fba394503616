//! The standard feeds: news as Atom 1.0 (RFC 4287) and events as iCalendar (RFC 5545), both
//! pure text builders.

use kernel::Timestamp;

use super::model::{Event, News};

/// Escapes text for XML content and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A news item in a feed: the item, its tenant's name and its rendered body.
pub struct FeedEntry<'a> {
    pub news: &'a News,
    pub tenant_name: &'a str,
    /// The body as sanitised HTML.
    pub html: String,
}

/// The news feed: `base` is the public address of the portal (`https://…`, no trailing slash).
pub fn atom(base: &str, title: &str, entries: &[FeedEntry<'_>], now: Timestamp) -> String {
    let updated = entries.iter().map(|e| e.news.updated_at).max().unwrap_or(now);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"de\">\n");
    out.push_str(&format!("  <id>{}/aktuelles</id>\n", xml(base)));
    out.push_str(&format!("  <title>{}</title>\n", xml(title)));
    out.push_str(&format!("  <updated>{}</updated>\n", updated.rfc3339()));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/aktuelles.atom\"/>\n",
        xml(base)
    ));
    out.push_str(&format!("  <link rel=\"alternate\" type=\"text/html\" href=\"{}/aktuelles\"/>\n", xml(base)));
    out.push_str(&format!("  <author><name>{}</name></author>\n", xml(title)));
    out.push_str("  <generator>Kreishaus</generator>\n");
    for e in entries {
        let n = e.news;
        let url = format!("{base}/aktuelles/{}", n.id);
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", xml(&url)));
        out.push_str(&format!("    <title>{}</title>\n", xml(&n.title)));
        out.push_str(&format!("    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", xml(&url)));
        out.push_str(&format!("    <published>{}</published>\n", n.published_at.unwrap_or(n.updated_at).rfc3339()));
        out.push_str(&format!("    <updated>{}</updated>\n", n.updated_at.rfc3339()));
        out.push_str(&format!("    <author><name>{}</name></author>\n", xml(e.tenant_name)));
        out.push_str(&format!("    <summary>{}</summary>\n", xml(&n.summary)));
        out.push_str(&format!("    <content type=\"html\">{}</content>\n", xml(&e.html)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// Europe/Berlin as the EU has defined it since 1996, for calendar programs that do not know
/// the zone by name.
const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// Escapes a TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line breaks.
pub fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line into lines of at most 75 octets (RFC 5545, 3.1), never inside a
/// UTF-8 character; each line ends with CRLF, continuations start with a space.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
    out
}

/// `20261210T180000`: local time in Europe/Berlin.
fn ics_local(t: Timestamp) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]");
    t.german_local().format(&f).unwrap_or_default()
}

/// `20261122T080000Z`: UTC.
fn ics_utc(t: Timestamp) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let utc = time::OffsetDateTime::from_unix_timestamp(t.millis().div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    utc.format(&f).unwrap_or_default()
}

/// An event in a calendar: the event, the public address of its page and its category's name.
pub struct CalendarEntry<'a> {
    pub event: &'a Event,
    pub url: String,
    pub category: &'a str,
    pub organiser: &'a str,
}

/// A calendar with the given events. `host` makes the UIDs globally unique.
pub fn icalendar(name: &str, host: &str, entries: &[CalendarEntry<'_>], now: Timestamp) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Kreishaus//Veranstaltungen//DE".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", ics_text(name)),
        "X-WR-TIMEZONE:Europe/Berlin".into(),
    ];
    lines.extend(VTIMEZONE.iter().map(|l| (*l).to_owned()));
    for entry in entries {
        let e = entry.event;
        lines.extend([
            "BEGIN:VEVENT".into(),
            format!("UID:veranstaltung-{}@{}", e.id, host),
            format!("DTSTAMP:{}", ics_utc(now)),
            format!("LAST-MODIFIED:{}", ics_utc(e.updated_at)),
            format!("DTSTART;TZID=Europe/Berlin:{}", ics_local(e.starts_at)),
            format!("DTEND;TZID=Europe/Berlin:{}", ics_local(e.ends_at)),
            format!("SUMMARY:{}", ics_text(&e.title)),
            format!("DESCRIPTION:{}", ics_text(format!("{}\n\n{}", e.summary, e.body).trim_end())),
            format!("LOCATION:{}", ics_text(&e.place)),
            format!("CATEGORIES:{}", ics_text(entry.category)),
            format!("X-KREISHAUS-ORGANISER:{}", ics_text(entry.organiser)),
            format!("URL:{}", entry.url),
            "STATUS:CONFIRMED".into(),
            "TRANSP:OPAQUE".into(),
            "END:VEVENT".into(),
        ]);
    }
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(ics_text("a;b,c\\d\r\ne\nf"), "a\\;b\\,c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("SUMMARY:{}", "Größenänderung ".repeat(12));
        let folded = fold(&line);
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn utc_stamps_have_the_z() {
        assert_eq!(ics_utc(Timestamp::from_millis(1_795_334_400_000)), "20261122T080000Z");
    }
}
