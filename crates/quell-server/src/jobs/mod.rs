//! Background work of a server process: the ingest writer (group commit of uploads) and the
//! advisory delivery worker. Each keeps its state in the database or in a channel owned by the
//! process, so several processes can share one database.

pub mod delivery;
pub mod ingest;
pub mod webhook_target;
