-- Business situations (Unternehmenslagen) beside the life situations, and the two other ways a
-- service can be used: booking an appointment and a form to download (OZG maturity level 2).
ALTER TABLE services ADD COLUMN business_situations TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN appointment_url TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN form_url TEXT NOT NULL DEFAULT '';

-- The synonym list of the search, as the Redaktion maintains it: every saved version is kept;
-- the newest one applies. Without a row the list built into the binary applies.
CREATE TABLE search_synonyms (
    id INTEGER PRIMARY KEY,
    rules TEXT NOT NULL,
    saved_by BIGINT REFERENCES staff (id),
    saved_at BIGINT NOT NULL
);
