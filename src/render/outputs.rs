//! The output kinds of a version: what it produces from its composition.
//! Every command renders each kind of [`output_kinds`] for every version
//! (see [`crate::pipeline::render_version`]): a new kind (the slide deck, the
//! workbook PDF, the search index) implements [`OutputKind`] and joins the
//! list, in one place.

use crate::error::Diagnostics;
use crate::output::Sink;

use super::{RenderJob, RenderSummary};

/// Something a version produces from its composition (the HTML site, the
/// sitemap…), written into the version's sink.
pub trait OutputKind: Sync {
    /// Renders this output of `job`'s version into `sink`, adding what it
    /// wrote to `summary`. Problems go to `diagnostics`; `false` when the
    /// version failed (the caller then abandons the sink).
    fn render(
        &self,
        job: &RenderJob,
        sink: &dyn Sink,
        summary: &mut RenderSummary,
        diagnostics: &Diagnostics,
    ) -> bool;
}

/// The output kinds every version produces, in order.
pub fn output_kinds() -> Vec<&'static dyn OutputKind> {
    vec![&HtmlSite, &super::sitemap::Sitemap]
}

/// The workbook PDF (`workbook.pdf` at the root of a version), which the
/// plan adds when a command asks for it (`build --pdf`, `atelier pdf`).
pub fn workbook_pdf() -> &'static dyn OutputKind {
    &super::pdf::WorkbookPdf
}

/// The HTML site: pages, exercise widgets, special pages, the print page,
/// theme and static files, with link and anchor checks.
pub struct HtmlSite;

impl OutputKind for HtmlSite {
    fn render(
        &self,
        job: &RenderJob,
        sink: &dyn Sink,
        summary: &mut RenderSummary,
        diagnostics: &Diagnostics,
    ) -> bool {
        match super::render_site(job, sink, diagnostics) {
            Some(site) => {
                summary.absorb(site);
                true
            }
            None => false,
        }
    }
}
