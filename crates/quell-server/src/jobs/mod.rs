//! Background work of a server process: the ingest writer (group commit of uploads), the
//! advisory delivery worker and the aggregator's poller of subscribed CSAF providers. Each keeps
//! its state in the database or in a channel owned by the process, so several processes can
//! share one database.

pub mod aggregator;
pub mod delivery;
pub mod ingest;
pub mod webhook_target;
