"""The chain's hub: central broker -> PostgreSQL, daily summaries, the chain dashboard.

`hinge-edge hub` (docs/chain.md). Boxes forward their events to a clustered broker
(`upstream:` in a box's config); hub workers subscribe to it and write every event into
PostgreSQL once, keyed by its id, with per-platform daily summaries kept in the same
transaction. The schema is versioned SQL in `migrations/`, applied by the hub at start.
"""
