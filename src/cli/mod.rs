//! The `outage` command line.
