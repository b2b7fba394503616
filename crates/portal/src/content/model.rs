//! News, events, content pages and registrations as pure values, and the rules on them:
//! what an editor must fill in, how places and the waiting list are counted, and the staff's
//! participant list as CSV. No I/O.

use kernel::{FieldError, TenantId, Timestamp};

/// A news item (Nachricht) of a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct News {
    pub id: i64,
    pub tenant: TenantId,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// Public since; None while a draft or after it was withdrawn.
    pub published_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// An event (Veranstaltung) of a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub tenant: TenantId,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    pub place: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Places for registration; None: the event takes no registrations.
    pub capacity: Option<i64>,
    pub published_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// A content page (Seite: Impressum, Datenschutz, Barrierefreiheit, …) of a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub id: i64,
    pub tenant: TenantId,
    pub slug: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub published_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// The categories of events: stable keys with their German names (for feeds and the search);
/// the pages show them as messages (`content.category.<key>`).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("kultur", "Kultur"),
    ("sport", "Sport"),
    ("bildung", "Bildung"),
    ("fortbildung", "Fortbildung für Beschäftigte"),
    ("familie", "Familie"),
    ("umwelt", "Umwelt"),
    ("wirtschaft", "Wirtschaft"),
    ("beteiligung", "Bürgerbeteiligung"),
];

/// Whether `key` is one of the [`CATEGORIES`].
pub fn is_category(key: &str) -> bool {
    CATEGORIES.iter().any(|(k, _)| *k == key)
}

/// The message key of a category's name.
pub fn category_message(key: &str) -> &'static str {
    match key {
        "kultur" => "content.category.kultur",
        "sport" => "content.category.sport",
        "bildung" => "content.category.bildung",
        "fortbildung" => "content.category.fortbildung",
        "familie" => "content.category.familie",
        "umwelt" => "content.category.umwelt",
        "wirtschaft" => "content.category.wirtschaft",
        "beteiligung" => "content.category.beteiligung",
        _ => "content.category.other",
    }
}

/// The German name of a category key (the key itself when unknown).
pub fn category_name(key: &str) -> &str {
    CATEGORIES.iter().find(|(k, _)| *k == key).map_or(key, |(_, name)| name)
}

/// The pages every tenant's site links to in its footer.
pub const LEGAL_PAGES: &[&str] = &["impressum", "datenschutz", "barrierefreiheit"];

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Confirmed,
    Waiting,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Waiting => "waiting",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "confirmed" => Status::Confirmed,
            "waiting" => Status::Waiting,
            _ => Status::Cancelled,
        }
    }
}

/// Someone's registration for an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub id: i64,
    pub event: i64,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub status: Status,
    pub created_at: Timestamp,
}

/// How full an event is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    pub confirmed: i64,
    pub waiting: i64,
}

impl Occupancy {
    /// Places still free (never negative: a smaller capacity set later leaves people in).
    pub fn free(self, capacity: i64) -> i64 {
        (capacity - self.confirmed).max(0)
    }

    /// What a new registration becomes.
    pub fn next(self, capacity: i64) -> Status {
        if self.free(capacity) > 0 { Status::Confirmed } else { Status::Waiting }
    }
}

/// What the public event list asks for.
#[derive(Clone, Debug)]
pub struct EventFilter {
    pub tenant: Option<TenantId>,
    pub category: Option<String>,
    /// Events that have not ended before this moment.
    pub from: Timestamp,
    /// Events that start before this moment.
    pub until: Option<Timestamp>,
    /// Only events after this one in the list's order (start, id): the next page of the API.
    pub after: Option<Cursor>,
}

impl EventFilter {
    /// Events that have not ended by `now` nor before the day `from_day` begins, and that start
    /// before the day `until_day` is over (days as [`day_start`] reads them).
    pub fn days(
        tenant: Option<TenantId>,
        category: Option<String>,
        from_day: Option<Timestamp>,
        until_day: Option<Timestamp>,
        now: Timestamp,
    ) -> EventFilter {
        let from = from_day.map_or(now, |d| d.max(now));
        let until = until_day.map(|d| d.plus_secs(24 * 3600));
        EventFilter { tenant, category, from, until, after: None }
    }
}

/// Reads `2026-12-01` as the start of that day in German time.
pub fn day_start(s: &str) -> Option<Timestamp> {
    parse_local(&format!("{}T00:00", s.trim().get(..10)?))
}

/// Where a page of a list ended: the sort time and id of its last item. The JSON API hands it
/// out as the opaque `next_cursor` (docs/API-DESIGN.md); keyed on the row, not on an offset, so
/// items published meanwhile neither repeat nor go missing on the next page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: Timestamp,
    pub id: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        format!("{:x}.{:x}", self.at.millis(), self.id)
    }

    /// The cursor of [`Cursor::encode`]; None for anything else.
    pub fn decode(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('.')?;
        let hex = |p: &str| if p.is_empty() || p.len() > 16 { None } else { i64::from_str_radix(p, 16).ok() };
        Some(Cursor { at: Timestamp::from_millis(hex(at)?), id: hex(id)? })
    }
}

/// The first `limit` of `items` (fetched one more than a page), and the cursor after the last
/// of them when there are more.
pub fn page_of<T>(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<Cursor>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(cursor);
    (items, next)
}

/// Whether someone can still register for an event that takes registrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Admission {
    /// Places are free.
    Open,
    /// Fully booked: a registration goes onto the waiting list.
    WaitingList,
    /// The event has started; no more registrations.
    Closed,
}

impl Admission {
    /// The admission of an event at `now`; None when it takes no registrations.
    pub fn of(e: &Event, o: Occupancy, now: Timestamp) -> Option<Admission> {
        let capacity = e.capacity?;
        Some(if e.starts_at <= now {
            Admission::Closed
        } else if o.free(capacity) > 0 {
            Admission::Open
        } else {
            Admission::WaitingList
        })
    }
}

/// What can be published and withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publishable {
    News,
    Event,
    Page,
}

/// What the editor typed for a news item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewsDraft {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// What the editor typed for an event; times in German local time as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventDraft {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub category: String,
    pub place: String,
    /// `2026-12-10T18:00` (the format of `<input type="datetime-local">`).
    pub starts: String,
    pub ends: String,
    /// Empty: no registration.
    pub capacity: String,
}

/// What the editor typed for a page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageDraft {
    pub slug: String,
    pub title: String,
    pub body: String,
}

/// Longest title and summary, and the longest Markdown text an editor can save.
const MAX_TITLE: usize = 200;
const MAX_SUMMARY: usize = 500;
const MAX_BODY: usize = 100_000;
/// A registration form's fields are short.
const MAX_FIELD: usize = 200;

fn problem(field: &str, code: &'static str) -> FieldError {
    FieldError { field: field.into(), code }
}

/// A slug is lower-case letters, digits and single hyphens (`tag-der-offenen-tuer`).
pub fn valid_slug(slug: &str) -> bool {
    (1..=80).contains(&slug.len())
        && slug.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

fn check_text(problems: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        problems.push(problem(field, "content.required"));
    } else if value.chars().count() > max {
        problems.push(problem(field, "content.too_long"));
    }
}

fn check_slug(problems: &mut Vec<FieldError>, slug: &str) {
    if !valid_slug(slug) {
        problems.push(problem("slug", "content.slug_invalid"));
    }
}

impl NewsDraft {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_slug(&mut p, &self.slug);
        check_text(&mut p, "title", &self.title, MAX_TITLE, true);
        check_text(&mut p, "summary", &self.summary, MAX_SUMMARY, true);
        check_text(&mut p, "body", &self.body, MAX_BODY, false);
        p
    }
}

impl PageDraft {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_slug(&mut p, &self.slug);
        check_text(&mut p, "title", &self.title, MAX_TITLE, true);
        check_text(&mut p, "body", &self.body, MAX_BODY, true);
        p
    }
}

/// An event's checked values: start, end and capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTimes {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub capacity: Option<i64>,
}

impl EventDraft {
    /// The checked times and capacity, or every problem of the draft.
    pub fn check(&self) -> Result<EventTimes, Vec<FieldError>> {
        let mut p = Vec::new();
        check_slug(&mut p, &self.slug);
        check_text(&mut p, "title", &self.title, MAX_TITLE, true);
        check_text(&mut p, "summary", &self.summary, MAX_SUMMARY, true);
        check_text(&mut p, "body", &self.body, MAX_BODY, false);
        check_text(&mut p, "place", &self.place, MAX_TITLE, true);
        if !is_category(&self.category) {
            p.push(problem("category", "content.category_unknown"));
        }
        let starts = parse_local(&self.starts);
        let ends = parse_local(&self.ends);
        if starts.is_none() {
            p.push(problem("starts", "content.time_invalid"));
        }
        if ends.is_none() {
            p.push(problem("ends", "content.time_invalid"));
        }
        if let (Some(s), Some(e)) = (starts, ends)
            && e < s
        {
            p.push(problem("ends", "content.ends_before_start"));
        }
        let capacity = match self.capacity.trim() {
            "" => None,
            c => match c.parse::<i64>() {
                Ok(n) if (1..=100_000).contains(&n) => Some(n),
                _ => {
                    p.push(problem("capacity", "content.capacity_invalid"));
                    None
                }
            },
        };
        match (starts, ends) {
            (Some(starts_at), Some(ends_at)) if p.is_empty() => Ok(EventTimes { starts_at, ends_at, capacity }),
            _ => Err(p),
        }
    }

    /// The form's values for a stored event.
    pub fn of(e: &Event) -> EventDraft {
        EventDraft {
            slug: e.slug.clone(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            body: e.body.clone(),
            category: e.category.clone(),
            place: e.place.clone(),
            starts: format_local(e.starts_at),
            ends: format_local(e.ends_at),
            capacity: e.capacity.map(|c| c.to_string()).unwrap_or_default(),
        }
    }
}

/// Reads `2026-12-10T18:00` (or with a space) as German local time.
pub fn parse_local(s: &str) -> Option<Timestamp> {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let s = s.trim().replacen(' ', "T", 1);
    let s = s.get(..16).unwrap_or(&s);
    time::PrimitiveDateTime::parse(s, &f).ok().map(Timestamp::from_german_local)
}

/// `2026-12-10T18:00` in German local time.
pub fn format_local(t: Timestamp) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    t.german_local().format(&f).unwrap_or_default()
}

/// `10.12.2026` in German local time.
pub fn german_day(t: Timestamp) -> String {
    let f = time::macros::format_description!("[day].[month].[year]");
    t.german_local().format(&f).unwrap_or_default()
}

/// `10.12.2026, 18:00 – 20:00 Uhr`, or with both days when it spans more than one.
pub fn event_when(starts: Timestamp, ends: Timestamp) -> String {
    let hm = time::macros::format_description!("[hour]:[minute]");
    let (s, e) = (starts.german_local(), ends.german_local());
    let (sh, eh) = (s.format(&hm).unwrap_or_default(), e.format(&hm).unwrap_or_default());
    if s.date() == e.date() {
        format!("{}, {sh} – {eh} Uhr", german_day(starts))
    } else {
        format!("{}, {sh} Uhr – {}, {eh} Uhr", german_day(starts), german_day(ends))
    }
}

/// What someone typed to register.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signup {
    pub name: String,
    pub email: String,
    pub organisation: String,
}

impl Signup {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut p = Vec::new();
        check_text(&mut p, "name", &self.name, MAX_FIELD, true);
        check_text(&mut p, "organisation", &self.organisation, MAX_FIELD, false);
        if !plausible_email(&self.email) {
            p.push(problem("email", "content.email_invalid"));
        }
        p
    }
}

/// An address of the form `local@domain.tld`, without spaces or line breaks (it goes into a
/// mail header).
pub fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    s.len() <= MAX_FIELD
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && !domain.contains('@')
}

/// The participant list as CSV (RFC 4180, `;`-separated as German spreadsheets expect, with a
/// byte-order mark). Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn participants_csv(registrations: &[Registration]) -> String {
    let mut out = String::from("\u{feff}Nr;Name;E-Mail;Organisation;Status;Angemeldet am\r\n");
    for (i, r) in registrations.iter().enumerate() {
        let status = match r.status {
            Status::Confirmed => "angemeldet",
            Status::Waiting => "Warteliste",
            Status::Cancelled => "abgemeldet",
        };
        let cells = [
            (i + 1).to_string(),
            r.name.clone(),
            r.email.clone(),
            r.organisation.clone(),
            status.into(),
            r.created_at.display_german(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(";"));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into() };
    if guarded.contains([';', '"', '\n', '\r', ',']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> EventDraft {
        EventDraft {
            slug: "fortbildung-vergaberecht".into(),
            title: "Vergaberecht kompakt".into(),
            summary: "Fortbildung für Beschäftigte der Kommunen.".into(),
            body: String::new(),
            category: "fortbildung".into(),
            place: "Kreishaus, Saal A".into(),
            starts: "2026-12-10T09:00".into(),
            ends: "2026-12-10T16:00".into(),
            capacity: "20".into(),
        }
    }

    #[test]
    fn an_event_draft_is_read_in_german_local_time() {
        let t = draft().check().expect("valid");
        assert_eq!(t.starts_at.rfc3339(), "2026-12-10T08:00:00.000Z");
        assert_eq!(t.capacity, Some(20));
        assert_eq!(event_when(t.starts_at, t.ends_at), "10.12.2026, 09:00 – 16:00 Uhr");
    }

    #[test]
    fn an_event_draft_names_every_problem() {
        let bad = EventDraft {
            slug: "Nicht gut".into(),
            category: "zirkus".into(),
            starts: "morgen".into(),
            capacity: "-3".into(),
            ..draft()
        };
        let fields: Vec<String> = bad.check().expect_err("invalid").into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["slug", "category", "starts", "capacity"]);
        let backwards = EventDraft { ends: "2026-12-09T09:00".into(), ..draft() };
        assert_eq!(backwards.check().expect_err("invalid")[0].code, "content.ends_before_start");
    }

    #[test]
    fn the_waiting_list_starts_when_the_places_are_taken() {
        let o = Occupancy { confirmed: 19, waiting: 0 };
        assert_eq!(o.next(20), Status::Confirmed);
        assert_eq!(Occupancy { confirmed: 20, waiting: 0 }.next(20), Status::Waiting);
        assert_eq!(Occupancy { confirmed: 25, waiting: 3 }.free(20), 0);
    }

    #[test]
    fn the_participant_list_keeps_spreadsheets_from_running_formulas() {
        let r = Registration {
            id: 1,
            event: 1,
            name: "=HYPERLINK(\"x\")".into(),
            email: "a@b.example".into(),
            organisation: "Stadt Lindenbach; Hauptamt".into(),
            status: Status::Waiting,
            created_at: Timestamp::from_millis(0),
        };
        let csv = participants_csv(&[r]);
        let line = csv.lines().nth(1).expect("a row");
        assert!(
            line.starts_with("1;\"'=HYPERLINK(\"\"x\"\")\";a@b.example;\"Stadt Lindenbach; Hauptamt\";Warteliste;")
        );
    }

    #[test]
    fn mail_addresses_that_could_break_a_header_are_refused() {
        assert!(plausible_email("anna@lindenbach.example"));
        for bad in ["", "anna", "anna@", "@x.de", "a b@x.de", "a@x.de\r\nBcc: c@d.de", "a@x", "a@b@c.de"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn slugs_are_plain() {
        assert!(valid_slug("tag-der-offenen-tuer-2026"));
        for bad in ["", "-a", "a--b", "Ä", "a_b", "a/b"] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }
}
