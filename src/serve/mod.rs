//! `atelier serve`: live preview. Builds every version into memory, serves the
//! last good build over HTTP ([`http`]), watches the sources and rebuilds on
//! change, and pushes reload events to open tabs over Server-Sent Events.

pub mod http;
pub mod state;
