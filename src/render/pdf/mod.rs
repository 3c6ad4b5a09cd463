//! The workbook PDF (SPEC §10): `workbook.pdf` at the root of a version,
//! typeset in-process by Typst, used as a library.
//!
//! An output kind like the site: it reads the version's composition (the
//! same pages, after the same directive engine, so facilitator notes and
//! other clients' passages are gone before anything is typeset), walks each
//! body into plain data ([`blocks`]), gathers the workbook ([`document`]),
//! and hands it as JSON to the theme's Typst template (`pdf/workbook.typ`,
//! or the project's `templates/pdf/workbook.typ`) in a world of its own
//! ([`world`]): embedded fonts, the images the pages name, nothing else.

mod blocks;
mod document;
mod files;
mod world;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use typst::diag::SourceDiagnostic;
use typst::foundations::Smart;
use typst_layout::PagedDocument;

use crate::error::{Diagnostic, Diagnostics};
use crate::markdown::directives::is_kind_name;
use crate::output::Sink;
use crate::theme::Theme;

use super::{OutputKind, Prepared, RenderJob, RenderSummary, prepare};
use files::Files;
use world::{Content, WorkbookWorld, WorldFile};

/// Output path of the workbook in a version.
pub const WORKBOOK_PATH: &str = "workbook.pdf";

/// The template every workbook is laid out by, under the theme's `pdf/`.
const TEMPLATE: &str = "workbook.typ";

/// The workbook PDF of each version.
pub(super) struct WorkbookPdf;

impl OutputKind for WorkbookPdf {
    fn render(
        &self,
        job: &RenderJob,
        sink: &dyn Sink,
        summary: &mut RenderSummary,
        diagnostics: &Diagnostics,
    ) -> bool {
        let started = Instant::now();
        keep_freed_memory();
        let Prepared {
            shared, problems, ..
        } = prepare(job);
        // With the site, these were reported by it, which then failed.
        if !problems.is_empty() {
            diagnostics.extend(problems);
            return false;
        }
        let files = Files::new(
            job.site
                .assets
                .iter()
                .map(|a| (a.output.as_str(), a.source.as_path()))
                .chain(
                    job.static_files
                        .iter()
                        .map(|(output, source)| (output.as_str(), source.as_path())),
                ),
        );
        let logo = job.version.client.as_ref().and_then(|c| c.logo.as_deref());
        let (document, warnings) = match document::document(&shared, &files, logo) {
            Ok(made) => made,
            Err(problems) => {
                diagnostics.extend(problems);
                return false;
            }
        };
        diagnostics.extend(warnings);
        let data = match serde_json::to_vec(&document) {
            Ok(data) => data,
            Err(e) => {
                diagnostics.push(Diagnostic::general(format!(
                    "cannot write the workbook's data: {e}"
                )));
                return false;
            }
        };
        drop(document);
        summary
            .timings
            .push(("workbook document", started.elapsed()));
        let ident = crate::error::version_name(
            job.version.client.as_ref().map(|c| c.slug.as_str()),
            job.version.facilitator,
        );
        let pdf = match typeset(job.theme, data, files.into_used(), ident) {
            Ok(typeset) => {
                summary.timings.push(("workbook layout", typeset.layout));
                summary.timings.push(("workbook export", typeset.export));
                diagnostics.extend(typeset.warnings);
                typeset.pdf
            }
            Err(problem) => {
                diagnostics.push(problem);
                return false;
            }
        };
        match sink.write(WORKBOOK_PATH, &pdf) {
            Ok(()) => true,
            Err(e) => {
                diagnostics.push(Diagnostic::general(format!(
                    "cannot write {WORKBOOK_PATH}: {e}"
                )));
                false
            }
        }
    }
}

/// Asks the C allocator to keep the memory it is given back rather than
/// return it to the system at once. Typst allocates and frees gigabytes
/// while it lays out a large workbook; with glibc's defaults much of it went
/// back to the kernel and was faulted in again, zeroed: a tenth of the time
/// of a 1,000-page workbook (docs/performance.md). Only commands that make
/// a PDF call this, so the site build keeps its small footprint.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes the allocator's thresholds; it is
            // called once, and any value it refuses leaves the default.
            unsafe {
                libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
                libc::mallopt(libc::M_TOP_PAD, 256 << 20);
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            }
        });
    }
}

/// The main file: imports the template and each directive template, and
/// calls the template with the data. Only kind names (checked to be plain
/// words) are written into it; every value stays in the JSON.
fn main_file(kinds: &[&str]) -> String {
    let mut main = format!("#import \"/pdf/{TEMPLATE}\": workbook\n");
    for (index, _) in kinds.iter().enumerate() {
        main.push_str(&format!(
            "#import \"/pdf/directives/{}.typ\" as directive-{index}\n",
            kinds[index]
        ));
    }
    main.push_str("#workbook(json(\"/data.json\"), directives: (");
    for (index, kind) in kinds.iter().enumerate() {
        main.push_str(&format!("\"{kind}\": directive-{index}.directive, "));
    }
    main.push_str("))\n");
    main
}

/// A typeset workbook.
struct Typeset {
    /// The PDF file's bytes.
    pdf: Vec<u8>,
    /// The template's warnings.
    warnings: Vec<Diagnostic>,
    /// Time Typst took to evaluate the template and lay out the pages.
    layout: Duration,
    /// Time typst-pdf took to write the PDF.
    export: Duration,
}

/// Typesets the workbook from its JSON `data` with `theme`'s Typst files and
/// the `images` it names (virtual path, source), or gives the template's
/// first error.
fn typeset(
    theme: &Theme,
    data: Vec<u8>,
    images: BTreeMap<String, PathBuf>,
    ident: String,
) -> Result<Typeset, Diagnostic> {
    let mut files: HashMap<String, WorldFile> = HashMap::new();
    let mut kinds: Vec<&str> = Vec::new();
    for (name, file) in &theme.pdf_files {
        if let Some(kind) = name
            .strip_prefix("directives/")
            .and_then(|n| n.strip_suffix(".typ"))
            .filter(|kind| is_kind_name(kind))
        {
            kinds.push(kind);
        }
        files.insert(
            format!("/pdf/{name}"),
            WorldFile {
                content: Content::Bytes(file.bytes.to_vec()),
                origin: file.origin.trim_end_matches(" (built in)").to_string(),
            },
        );
    }
    if !theme.pdf_files.contains_key(TEMPLATE) {
        return Err(Diagnostic::general(format!(
            "the theme has no workbook template pdf/{TEMPLATE}"
        ))
        .with_help(format!(
            "add templates/pdf/{TEMPLATE} to the project (docs/themes.md), or build without --pdf"
        )));
    }
    files.insert(
        "/main.typ".to_string(),
        WorldFile {
            content: Content::Bytes(main_file(&kinds).into_bytes()),
            origin: "the workbook's main file (made by atelier)".to_string(),
        },
    );
    files.insert(
        "/data.json".to_string(),
        WorldFile {
            content: Content::Bytes(data),
            origin: "the workbook's data (made by atelier)".to_string(),
        },
    );
    for (path, source) in images {
        let origin = crate::error::display_path(&source);
        files.insert(
            path,
            WorldFile {
                content: Content::Disk(source),
                origin,
            },
        );
    }
    let world = WorkbookWorld::new("/main.typ", files)
        .ok_or_else(|| Diagnostic::general("cannot name the workbook's main file"))?;
    let started = Instant::now();
    let compiled = typst::compile::<PagedDocument>(&world);
    let warnings = template_warnings(&world, &compiled.warnings);
    let document = compiled
        .output
        .map_err(|errors| template_error(&world, &errors))?;
    let layout = started.elapsed();
    let started = Instant::now();
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident),
        ..typst_pdf::PdfOptions::default()
    };
    let pdf =
        typst_pdf::pdf(&document, &options).map_err(|errors| template_error(&world, &errors))?;
    Ok(Typeset {
        pdf,
        warnings,
        layout,
        export: started.elapsed(),
    })
}

/// The error to fix first among Typst's, naming the template file and line.
fn template_error(world: &WorkbookWorld, errors: &[SourceDiagnostic]) -> Diagnostic {
    let Some(error) = WorkbookWorld::first_error(errors) else {
        return Diagnostic::general("the workbook could not be typeset");
    };
    typst_diagnostic(world, error, true)
}

/// Typst's warnings about the template, once each.
fn template_warnings(world: &WorkbookWorld, warnings: &[SourceDiagnostic]) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    warnings
        .iter()
        .filter(|w| seen.insert(w.message.clone()))
        .map(|w| typst_diagnostic(world, w, false))
        .collect()
}

/// One Typst diagnostic as atelier's: in the template file it points into
/// (the template where the call came from, when it points into atelier's
/// own main file), at its line and column.
fn typst_diagnostic(world: &WorkbookWorld, found: &SourceDiagnostic, error: bool) -> Diagnostic {
    let hints: Vec<String> = found.hints.iter().map(|h| h.v.to_string()).collect();
    let message = format!("workbook template: {}", found.message);
    let place = world.place(found.span).or_else(|| {
        found
            .trace
            .iter()
            .find_map(|point| world.place(point.span.into()))
    });
    let mut diagnostic = match place {
        Some((file, line, column)) if !file.ends_with("(made by atelier)") => {
            let d = if error {
                Diagnostic::error(file, message)
            } else {
                Diagnostic::warning(file, message)
            };
            d.at(line, column)
        }
        _ if error => Diagnostic::general(message),
        _ => Diagnostic::general_warning(message),
    };
    let help = if hints.is_empty() {
        "see docs/themes.md (the workbook template and its data)".to_string()
    } else {
        hints.join("; ")
    };
    diagnostic = diagnostic.with_help(help);
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_file_names_kinds_only() {
        let main = main_file(&["temoignage"]);
        assert_eq!(
            main,
            "#import \"/pdf/workbook.typ\": workbook\n\
             #import \"/pdf/directives/temoignage.typ\" as directive-0\n\
             #workbook(json(\"/data.json\"), directives: (\"temoignage\": directive-0.directive, ))\n"
        );
    }
}
