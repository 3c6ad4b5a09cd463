//! atelier: a static-site generator for emotional-marketing masterclasses.
//!
//! The data flows one way, one module per stage:
//! [`project`] and [`content`] load → [`compose`] → [`render`] (with
//! [`markdown`] and [`theme`]) → [`output`] writes. [`builder`] runs the whole
//! flow for a command. Errors are [`error::Diagnostic`]s that name the file,
//! line and column, and say how to fix the problem.

pub mod agenda;
pub mod audit;
pub mod builder;
pub mod client;
pub mod compose;
pub mod config;
pub mod content;
pub mod duration;
pub mod embeds;
pub mod error;
pub mod hashing;
pub mod html;
pub mod load;
pub mod markdown;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod plural;
pub mod project;
pub mod render;
pub mod rules;
pub mod scaffold;
pub mod serve;
pub mod slug;
pub mod suggest;
pub mod theme;
pub mod uniqueness;
pub mod yaml;
