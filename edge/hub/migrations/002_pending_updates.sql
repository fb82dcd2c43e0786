-- hinge-edge hub, schema version 2: finding the rep_update that waits for its rep.
-- A rep_update that arrives before its rep is kept in events only; when the rep arrives
-- the hub looks it up by rep_id (edge/hub/store.py). Without this index that lookup reads
-- every event.
CREATE INDEX events_rep_update ON events ((payload ->> 'rep_id')) WHERE kind = 'rep_update';
