//! The print page: the whole masterclass on one page.
//!
//! It holds every body, so it is streamed: its frame (titles, worksheets) is
//! rendered first with a placeholder per body, and bodies are written into it
//! in reading order as the pages are rendered, so a 10,000-page masterclass
//! never holds a second copy of its HTML.

use std::io::Write;
use std::path::Path;

use crate::compose::PageId;
use crate::content::Front;
use crate::error::Diagnostic;
use crate::markdown::ROOT_MARKER;

use super::pages::{base_context, special_page};
use super::values::{PrintSection, PrintStep};
use super::{Shared, Sink};

/// Output path of the print page.
pub const PRINT_PATH: &str = "print/index.html";
/// From the print page to the output root.
pub(super) const PRINT_ROOT: &str = "../";
const MARKER: &str = "<!--atelier:print:";

/// A print page being written.
pub(super) struct PrintStream<'s> {
    out: Box<dyn Write + 's>,
    /// Frame text between bodies: `segments[k]` follows body `k - 1`.
    segments: Vec<String>,
    /// Pages whose bodies go between the segments, in order.
    order: Vec<PageId>,
    written: usize,
}

fn failed(e: std::io::Error) -> Diagnostic {
    Diagnostic::general(format!("cannot write {PRINT_PATH}: {e}"))
}

impl<'s> PrintStream<'s> {
    /// Renders the frame and writes it up to the first body.
    pub(super) fn open(shared: &Shared, sink: &'s dyn Sink) -> Result<PrintStream<'s>, Diagnostic> {
        let site = shared.site;
        let mut order: Vec<PageId> = Vec::new();
        let mut placeholder = |id: PageId| {
            order.push(id);
            format!("{MARKER}{}-->", order.len() - 1)
        };
        let title = |id: PageId| shared.texts[id].title.clone();
        let blank = |id: &str| {
            shared
                .widgets
                .get(id)
                .map(|(_, blank)| blank.replace(ROOT_MARKER, PRINT_ROOT))
        };
        let mut sections = Vec::new();
        for (index, module) in site.modules.iter().enumerate() {
            let exercises = match &site.pages[module.page].front {
                Front::Module(f) => f.exercises.iter().filter_map(|ex| blank(ex)).collect(),
                _ => Vec::new(),
            };
            let module_slug = &site.pages[module.page].slug;
            sections.push(PrintSection {
                kind: "module",
                title: title(module.page),
                anchor: format!("module-{module_slug}"),
                duration: module.duration.map(|d| d.label()),
                start: site.agenda.module_start(index).map(|s| s.to_string()),
                content: placeholder(module.page),
                steps: module
                    .steps
                    .iter()
                    .map(|&s| PrintStep {
                        title: title(s),
                        anchor: format!("step-{module_slug}-{}", site.pages[s].slug),
                        content: placeholder(s),
                    })
                    .collect(),
                exercises,
            });
        }
        for &id in &site.exercises {
            let page = &site.pages[id];
            sections.push(PrintSection {
                kind: "exercise",
                title: title(id),
                anchor: format!("exercise-{}", page.slug),
                duration: page.front.duration().map(|d| d.label()),
                start: None,
                content: blank(&page.slug).unwrap_or_default(),
                steps: Vec::new(),
                exercises: Vec::new(),
            });
        }
        let mut context = base_context(shared, PRINT_ROOT);
        let mut page = special_page(shared, "print", "print", "Print", "print/");
        page.title = shared.config.title.clone();
        context.insert("page", &page);
        context.insert("sections", &sections);
        drop(sections);
        let frame = shared
            .theme
            .tera
            .render("print.html", &context)
            .map_err(|e| shared.theme.render_error(&e, Path::new(PRINT_PATH)))?;
        let mut segments = Vec::with_capacity(order.len() + 1);
        let mut rest = frame.as_str();
        while let Some(at) = rest.find(MARKER) {
            segments.push(rest[..at].to_string());
            let after = &rest[at + MARKER.len()..];
            rest = after
                .find("-->")
                .and_then(|end| after.get(end + 3..))
                .unwrap_or_default();
        }
        segments.push(rest.to_string());
        let mut out = sink.create(PRINT_PATH).map_err(failed)?;
        out.write_all(segments[0].as_bytes()).map_err(failed)?;
        Ok(PrintStream {
            out,
            segments,
            order,
            written: 0,
        })
    }

    /// Whether `id`'s body is the next one the page expects.
    pub(super) fn expects(&self, id: PageId) -> bool {
        self.order.get(self.written) == Some(&id)
    }

    /// Writes the next body (already finished for the print page's root).
    pub(super) fn push(&mut self, body: &str) -> Result<(), Diagnostic> {
        self.out.write_all(body.as_bytes()).map_err(failed)?;
        self.written += 1;
        if let Some(segment) = self.segments.get(self.written) {
            self.out.write_all(segment.as_bytes()).map_err(failed)?;
        }
        Ok(())
    }

    /// Writes what is left and closes the file.
    pub(super) fn finish(mut self) -> Result<(), Diagnostic> {
        while self.written < self.order.len() {
            self.push("")?;
        }
        self.out.flush().map_err(failed)
    }
}
