-- hinge-edge hub, schema version 1 (docs/chain.md, "The hub's tables").
-- A platform is a camera within a gym: (gym, camera). Camera ids are unique within a gym;
-- the box that watches a platform is an attribute that may change.

-- Every event as it arrived, once: the event id is the key (docs/events.md: "drop
-- duplicates by it"). seq is the box's own sequence number (docs/mqtt.md, "Upstream"):
-- each box numbers its events 1, 2, 3 ... so a gap shows an event lost on the way.
CREATE TABLE events (
    id        text PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('rep', 'rep_update', 'set')),
    gym       text NOT NULL,
    box       text NOT NULL,
    camera    text NOT NULL,
    seq       bigint,
    ts        timestamptz NOT NULL,
    day       date NOT NULL,           -- ts's date in the hub's time zone (hub.timezone)
    received  timestamptz NOT NULL DEFAULT now(),
    payload   jsonb NOT NULL
);
CREATE INDEX events_box_seq ON events (gym, box, seq);
CREATE INDEX events_platform_day ON events (gym, camera, day);

-- One row per rep, its score as last revised (a rep_update replaces the score and adds
-- the lowering's faults). A rep_update that arrives before its rep waits in events and
-- is applied when the rep arrives.
CREATE TABLE reps (
    id        text PRIMARY KEY REFERENCES events (id),
    gym       text NOT NULL,
    box       text NOT NULL,
    camera    text NOT NULL,
    day       date NOT NULL,
    ts        timestamptz NOT NULL,
    set_id    text NOT NULL,
    exercise  text NOT NULL,
    score     double precision,
    faults    text[] NOT NULL DEFAULT '{}',
    updated_by text                    -- id of the rep_update applied, if any
);
CREATE INDEX reps_platform_day ON reps (gym, camera, day);

-- Per platform and day, kept in the same transaction as the event that changes it, so
-- it always equals a recount from events/reps (the chain test checks it).
CREATE TABLE platform_days (
    gym          text NOT NULL,
    camera       text NOT NULL,
    day          date NOT NULL,
    reps         integer NOT NULL DEFAULT 0,
    sets         integer NOT NULL DEFAULT 0,
    scored_reps  integer NOT NULL DEFAULT 0,          -- reps with a score (not squats)
    score_sum    double precision NOT NULL DEFAULT 0,  -- mean score = score_sum / scored_reps
    set_seconds  double precision NOT NULL DEFAULT 0,  -- minutes in use = set_seconds / 60
    PRIMARY KEY (gym, camera, day)
);

-- Reps per fault code, per platform and day (fault rate = reps here / platform_days.reps).
CREATE TABLE platform_day_faults (
    gym     text NOT NULL,
    camera  text NOT NULL,
    day     date NOT NULL,
    code    text NOT NULL,
    reps    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (gym, camera, day, code)
);

-- Live state, latest wins (by the message's own time): each box's status and heartbeat,
-- each camera's stream status and live state.
CREATE TABLE boxes (
    gym        text NOT NULL,
    box        text NOT NULL,
    status     text NOT NULL,          -- online | degraded | stopped | offline
    run_id     text,
    version    text,
    problem    text,
    since      timestamptz,
    last_seen  timestamptz NOT NULL,   -- last message of any kind from the box
    PRIMARY KEY (gym, box)
);

CREATE TABLE cameras (
    gym        text NOT NULL,
    camera     text NOT NULL,
    box        text NOT NULL,
    status     jsonb,                  -- the CameraStatus payload
    state      jsonb,                  -- the CameraState payload
    updated    timestamptz NOT NULL,
    PRIMARY KEY (gym, camera)
);
