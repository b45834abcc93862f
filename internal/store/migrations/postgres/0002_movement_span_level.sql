-- Serial history is a stabbing query (which movements cover serial s?). An
-- index on start alone scans every earlier movement of the issuance; bucketing
-- movements by the bit length of (end - start) bounds each bucket's start to
-- (s - 2^level, s], so every bucket is one short index range. 63 marks rows
-- written before this migration (searched without a start bound).
ALTER TABLE movements ADD COLUMN span_level INTEGER NOT NULL DEFAULT 63;
CREATE INDEX movements_span ON movements(issuance_id, span_level, start_serial);
DROP INDEX movements_serial;
