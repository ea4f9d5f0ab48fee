"""pipeline: TF1's threaded input pipeline (queues, coordinator, readers,
producers, batching) built on flowcore.  Imports flowcore, never the reverse."""
