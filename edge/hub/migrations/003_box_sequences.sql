-- hinge-edge hub, schema version 3: each box's event numbers, tallied as events arrive.
-- A box numbers its events 1, 2, 3 ... (`seq`, docs/mqtt.md). Kept in the transaction
-- that stores the events (only for rows really inserted), so the dashboard can show, per
-- box, how many numbers between its first and last are missing without reading events:
-- missing = last_seq - first_seq + 1 - events. edge.hub.recount checks it against events.
CREATE TABLE box_sequences (
    gym        text NOT NULL,
    box        text NOT NULL,
    first_seq  bigint NOT NULL,
    last_seq   bigint NOT NULL,
    events     bigint NOT NULL,       -- numbered events stored
    PRIMARY KEY (gym, box)
);

INSERT INTO box_sequences (gym, box, first_seq, last_seq, events)
SELECT gym, box, min(seq), max(seq), count(*) FROM events
WHERE seq IS NOT NULL GROUP BY gym, box;
