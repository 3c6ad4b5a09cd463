//! atelier: a static-site generator for emotional-marketing masterclasses.
//!
//! The data flows one way, one module per stage:
//! [`load`] (with [`project`], [`content`], [`client`], [`theme`]) → [`plan`]
//! (one [`plan::VersionPlan`] per version) → [`compose`] → [`render`] (with
//! [`markdown`]; each [`render::OutputKind`] in turn) → [`output`] (a
//! [`output::Sink`]). [`pipeline::render_version`] runs compose → render →
//! sink for one version; [`builder`] (`build`, `check`) and [`serve`] call it
//! for each version they plan. Problems are [`error::Diagnostic`]s, gathered
//! in one [`error::Diagnostics`] collector through the stages, that name the
//! file, line and column, and say how to fix the problem. No unit of `src/`
//! depends on another that depends on it (`tests/import_graph.rs`);
//! docs/architecture.md draws the map.

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
pub mod media;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod plural;
pub mod project;
pub mod publish;
pub mod render;
pub mod rules;
pub mod scaffold;
pub mod serve;
pub mod slug;
pub mod suggest;
pub mod theme;
pub mod uniqueness;
pub mod yaml;
