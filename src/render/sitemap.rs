//! `sitemap.xml`: every published URL of a version, absolute when the
//! version has a `base_url`. An output kind of its own: it reads only the
//! composition, not the rendered pages.

use std::sync::Arc;

use crate::error::{Diagnostic, Diagnostics};
use crate::output::Sink;

use super::{OutputKind, RenderJob, RenderSummary, pages, published_pages, reusable};

/// Output path of the sitemap in a version.
const SITEMAP_PATH: &str = "sitemap.xml";

/// The sitemap of each version.
pub(super) struct Sitemap;

impl OutputKind for Sitemap {
    fn render(
        &self,
        job: &RenderJob,
        sink: &dyn Sink,
        summary: &mut RenderSummary,
        diagnostics: &Diagnostics,
    ) -> bool {
        let special = sitemap(job);
        match special.fingerprint {
            // Remembered (preview server): served from the memo.
            Some(fingerprint) => {
                summary
                    .memo
                    .insert(SITEMAP_PATH.to_string(), (fingerprint, special.bytes));
                true
            }
            None => match sink.write_shared(SITEMAP_PATH, special.bytes) {
                Ok(()) => true,
                Err(e) => {
                    diagnostics.push(Diagnostic::general(format!(
                        "cannot write {SITEMAP_PATH}: {e}"
                    )));
                    false
                }
            },
        }
    }
}

/// The sitemap, or (preview server) its last rendering while the URLs it
/// lists are the same.
fn sitemap(job: &RenderJob) -> pages::Special {
    let site = job.site;
    let mut urls: Vec<&str> = vec![""];
    urls.extend(
        published_pages(site)
            .iter()
            .map(|&id| site.pages[id].url.as_str())
            .filter(|u| !u.is_empty()),
    );
    urls.push("exercises/");
    let fingerprint = job.remember.then(|| {
        use std::hash::{Hash, Hasher};
        let mut hasher = crate::hashing::fingerprint_hasher();
        (&job.version.base_url, &urls).hash(&mut hasher);
        hasher.finish()
    });
    match reusable(job.previous, SITEMAP_PATH, fingerprint) {
        Some(bytes) => pages::Special {
            bytes,
            fingerprint,
            fresh: false,
        },
        None => pages::Special {
            bytes: Arc::from(sitemap_xml(job.version.base_url.as_deref(), &urls).into_bytes()),
            fingerprint,
            fresh: true,
        },
    }
}

fn sitemap_xml(base_url: Option<&str>, urls: &[&str]) -> String {
    let base = base_url.map(|b| b.trim_end_matches('/'));
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    xml.reserve(urls.iter().map(|u| u.len() + 40).sum());
    for &url in urls {
        xml.push_str("  <url><loc>");
        if let Some(base) = base {
            crate::html::escape_into(base, &mut xml);
            xml.push('/');
        }
        crate::html::escape_into(url, &mut xml);
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}
