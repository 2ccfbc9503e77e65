//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod dynamodb;
pub mod moto;
pub mod service;
