//! The print page: the whole masterclass on one page.
//!
//! It holds every body, so it is streamed: its frame (titles, worksheets) is
//! rendered first with a placeholder per body, and bodies are written into it
//! in reading order as the pages are rendered, so a 10,000-page masterclass
//! never holds a second copy of its HTML.
//!
//! Each exercise's worksheet is printed once: where a module lists or embeds
//! it, else in the appendix. The appendix lists every exercise (where each is
//! printed, or its worksheet), so it is rendered last, once the bodies have
//! said what they embed (`partials/print-appendix.html`).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::compose::PageId;
use crate::content::Front;
use crate::error::Diagnostic;
use crate::markdown::ROOT_MARKER;

use super::pages::{base_context, special_page};
use super::values::{PrintAppendixEntry, PrintExercise, PrintSection, PrintStep};
use super::{Shared, Sink};

/// Output path of the print page.
pub const PRINT_PATH: &str = "print/index.html";
/// From the print page to the output root.
pub(super) const PRINT_ROOT: &str = "../";
const MARKER: &str = "<!--atelier:print:";

/// What goes between two segments of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// The body of a module or step page.
    Body(PageId),
    /// The blank worksheet of an exercise a module lists (`exercises:`),
    /// left out when a body of the book printed it already.
    Listed { exercise: String, html: String },
    /// The exercise appendix, rendered once every body is written.
    Appendix,
}

/// Where a worksheet is printed in the body of the book: the title of the
/// module or step it belongs to.
type Place = String;

/// A print page being written.
pub(super) struct PrintStream<'s> {
    out: Box<dyn Write + 's>,
    /// Frame text between slots: `segments[k]` follows slot `k - 1`.
    segments: Vec<String>,
    /// What goes between the segments, in order.
    order: Vec<Slot>,
    /// For each slot, the module or step whose body it holds.
    places: Vec<Place>,
    /// Exercises already printed, by id: the first place that prints it.
    printed: HashMap<String, Place>,
    written: usize,
}

fn failed(e: std::io::Error) -> Diagnostic {
    Diagnostic::general(format!("cannot write {PRINT_PATH}: {e}"))
}

impl<'s> PrintStream<'s> {
    /// Renders the frame and writes it up to the first body.
    pub(super) fn open(shared: &Shared, sink: &'s dyn Sink) -> Result<PrintStream<'s>, Diagnostic> {
        let site = shared.site;
        let mut order: Vec<Slot> = Vec::new();
        let mut places: Vec<Place> = Vec::new();
        let mut placeholder = |slot: Slot, place: &str| {
            order.push(slot);
            places.push(place.to_string());
            format!("{MARKER}{}-->", order.len() - 1)
        };
        let title = |id: PageId| shared.texts[id].title.clone();
        let mut sections = Vec::new();
        for (index, module) in site.modules.iter().enumerate() {
            let module_title = title(module.page);
            let module_slug = &site.pages[module.page].slug;
            let content = placeholder(Slot::Body(module.page), &module_title);
            let steps = module
                .steps
                .iter()
                .map(|&s| PrintStep {
                    title: title(s),
                    anchor: format!("step-{module_slug}-{}", site.pages[s].slug),
                    content: placeholder(Slot::Body(s), &shared.texts[s].title),
                })
                .collect();
            // After the module's bodies: those print their embeds first.
            let exercises = match &site.pages[module.page].front {
                Front::Module(f) => f
                    .exercises
                    .iter()
                    .filter_map(|ex| {
                        let html = blank(shared, ex)?;
                        let exercise = ex.clone();
                        Some(placeholder(Slot::Listed { exercise, html }, &module_title))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            sections.push(PrintSection {
                kind: "module",
                content,
                title: module_title,
                anchor: format!("module-{module_slug}"),
                duration: module.duration.map(|d| d.label()),
                start: site.agenda.module_start(index).map(|s| s.to_string()),
                steps,
                exercises,
            });
        }
        let exercises: Vec<PrintExercise> = site
            .exercises
            .iter()
            .map(|&id| PrintExercise {
                title: title(id),
                anchor: exercise_anchor(&site.pages[id].slug),
            })
            .collect();
        let appendix = placeholder(Slot::Appendix, "");
        let mut context = base_context(shared, PRINT_ROOT);
        let page = special_page(shared, "print", "print_view", "Print version", "print/");
        context.insert("page", &page);
        context.insert("sections", &sections);
        context.insert("exercises", &exercises);
        context.insert("appendix", &appendix);
        drop(sections);
        let frame = shared
            .theme
            .tera
            .render("print.html", &context)
            .map_err(|e| shared.theme.render_error(&e, Path::new(PRINT_PATH)))?;
        let segments = cut_at_placeholders(&frame, MARKER);
        let mut out = sink.create(PRINT_PATH).map_err(failed)?;
        out.write_all(segments[0].as_bytes()).map_err(failed)?;
        Ok(PrintStream {
            out,
            segments,
            order,
            places,
            printed: HashMap::new(),
            written: 0,
        })
    }

    /// Whether `id`'s body is the next one the page expects.
    pub(super) fn expects(&self, id: PageId) -> bool {
        self.order.get(self.written) == Some(&Slot::Body(id))
    }

    /// Writes the next body (already finished for the print page's root),
    /// which prints the worksheets of `exercises`.
    pub(super) fn push<'e>(
        &mut self,
        body: &str,
        exercises: impl IntoIterator<Item = &'e str>,
    ) -> Result<(), Diagnostic> {
        if let Some(place) = self.places.get(self.written) {
            for exercise in exercises {
                if !self.printed.contains_key(exercise) {
                    self.printed.insert(exercise.to_string(), place.clone());
                }
            }
        }
        self.write_slot(body)
    }

    /// Writes `html` into the next slot, then the listed worksheets that
    /// follow it (they wait for no body).
    fn write_slot(&mut self, html: &str) -> Result<(), Diagnostic> {
        self.write_one(html)?;
        while let Some(Slot::Listed { exercise, html }) = self.order.get(self.written).cloned() {
            if self.printed.contains_key(&exercise) {
                self.write_one("")?;
            } else {
                let place = self.places[self.written].clone();
                self.printed.insert(exercise, place);
                self.write_one(&html)?;
            }
        }
        Ok(())
    }

    fn write_one(&mut self, html: &str) -> Result<(), Diagnostic> {
        self.out.write_all(html.as_bytes()).map_err(failed)?;
        self.written += 1;
        if let Some(segment) = self.segments.get(self.written) {
            self.out.write_all(segment.as_bytes()).map_err(failed)?;
        }
        Ok(())
    }

    /// Writes the appendix and what is left, and closes the file.
    pub(super) fn finish(mut self, shared: &Shared) -> Result<(), Diagnostic> {
        while let Some(slot) = self.order.get(self.written) {
            match slot {
                Slot::Appendix => {
                    let appendix = self.appendix(shared)?;
                    self.write_slot(&appendix)?;
                }
                _ => self.write_slot("")?,
            }
        }
        self.out.flush().map_err(failed)
    }

    /// Every exercise of the version: where its worksheet is printed, or
    /// the worksheet itself when no module prints it.
    fn appendix(&self, shared: &Shared) -> Result<String, Diagnostic> {
        let site = shared.site;
        let entries: Vec<PrintAppendixEntry> = site
            .exercises
            .iter()
            .map(|&id| {
                let slug = &site.pages[id].slug;
                let printed_in = self.printed.get(slug).cloned();
                PrintAppendixEntry {
                    title: shared.texts[id].title.clone(),
                    anchor: exercise_anchor(slug),
                    content: match printed_in {
                        Some(_) => None,
                        None => blank(shared, slug),
                    },
                    printed_in,
                }
            })
            .collect();
        let mut context = base_context(shared, PRINT_ROOT);
        context.insert("appendix", &entries);
        shared
            .theme
            .tera
            .render("partials/print-appendix.html", &context)
            .map_err(|e| shared.theme.render_error(&e, Path::new(PRINT_PATH)))
    }
}

/// The blank worksheet of exercise `id` for the print page.
fn blank(shared: &Shared, id: &str) -> Option<String> {
    shared
        .widgets
        .get(id)
        .map(|(_, blank)| blank.replace(ROOT_MARKER, PRINT_ROOT))
}

/// Where an exercise's worksheet starts: the id of its form.
fn exercise_anchor(slug: &str) -> String {
    format!("exercise-{slug}")
}

/// A streamed page's frame (the print page, the deck) cut at its
/// placeholders, `<!--MARKER…-->` comments where the bodies go in reading
/// order: the text before the first, between each two, after the last.
pub(super) fn cut_at_placeholders(frame: &str, marker: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = frame;
    while let Some(at) = rest.find(marker) {
        segments.push(rest[..at].to_string());
        let after = &rest[at + marker.len()..];
        rest = after
            .find("-->")
            .and_then(|end| after.get(end + 3..))
            .unwrap_or_default();
    }
    segments.push(rest.to_string());
    segments
}
