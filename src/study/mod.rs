//! The study layer: everything above the mathematics that turns trained models into the
//! report.
//!
//! | module | what |
//! |---|---|
//! | [`sweep`] | sweep folders read through serde into typed records ([`sweep::Trained`]: the model, the trainer's one diagnostics pass, the facts) |
//! | [`facts`] | what a claim or figure needs to know about one model, read from [`crate::toy::Diagnostics`] |
//! | [`compare`] | theory beside one trained model ([`compare::CompareRow`]), used by `compare`, the claims, the figures and the report |
//! | [`figures`] | the figure data, and `plot NAME --dir DIR` |
//! | [`claims`] | the note's ten claims, one function each, with criteria, bases and verdicts |
//! | [`report`] | the markdown report, with a hook for extra sections ([`report::Section`]) |
//! | [`plan`] | the reproduction plan and `reproduce` |
//!
//! Dependencies point one way: `sweep → facts`, `compare → sweep`, `claims → compare, facts`,
//! `report → claims`, `figures → compare, sweep`, `plan → everything`; none of them imports
//! `plan`.

pub mod claims;
pub mod committed;
pub mod compare;
pub mod facts;
pub mod figures;
pub mod plan;
pub mod report;
pub mod sweep;
