//! Peers the tests run beside the server: stand-ins that misbehave on purpose.

pub mod hostile_op;
pub mod node_op;
pub mod push_service;
pub mod s3;
