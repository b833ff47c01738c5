//! Background jobs of a server process.

pub mod delivery;
