//! The integration tests, one binary (linking the crate once, not once per file): a module
//! per area, the shared harness in `support/`.

mod support;

mod aws;
mod check;
mod comms;
mod comms_console;
mod e2e;
mod journal;
mod journal_live;
mod journal_verify;
mod kubernetes;
mod links;
mod memory;
mod postgres;
mod probe_basic;
mod report;
mod runbook_aws;
mod runbook_console;
mod runbook_drill;
mod runbook_http;
mod runbook_kubernetes;
mod schema;
mod status;
mod step_output;
mod team;
