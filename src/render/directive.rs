//! Directive HTML from the theme's templates (`directives/KIND.html`).
//!
//! The Markdown layer asks for the HTML around a directive's content; this
//! module renders the kind's template once with `body` set to a marker and
//! cuts the result there. The content between the two halves stays
//! Markdown, parsed with the rest of the page, so a directive costs one
//! template rendering per distinct (kind, attributes, language, view), not
//! one per page and version, unless its template reads the page or the
//! client (see [`crate::theme::DirectiveTemplate::per_page`]).

use std::cell::RefCell;

use tera::{Context, Value};

use crate::compose::PageId;
use crate::error::Diagnostic;
use crate::markdown::directives::{DirectiveCall, DirectiveHtml, KNOWN_KINDS, Wrapper};

use super::Shared;

/// Stands for the block's content while its template renders: plain ASCII
/// that HTML escaping leaves as it is, so `{{ body }}` and
/// `{{ body | safe }}` both write it whole.
const BODY_MARKER: &str = "atelier-directive-body-9b1f4c2e";

/// One recorded wrapper of a template that reads the page or the client:
/// another version may reuse the body only if it renders the same.
pub(super) type Recorded = (String, Vec<(String, String)>, Wrapper);

/// The directive HTML of one page in one version, with the problems its
/// templates had.
pub(super) struct Templates<'s, 'a> {
    shared: &'s Shared<'a>,
    id: PageId,
    /// Template problems, reported with the page's other problems.
    pub(super) problems: RefCell<Vec<Diagnostic>>,
    /// Wrappers of templates that read the page or the client.
    pub(super) recorded: RefCell<Vec<Recorded>>,
}

impl<'s, 'a> Templates<'s, 'a> {
    /// The templates for page `id` in the version of `shared`.
    pub(super) fn new(shared: &'s Shared<'a>, id: PageId) -> Self {
        Templates {
            shared,
            id,
            problems: RefCell::default(),
            recorded: RefCell::default(),
        }
    }
}

impl DirectiveHtml for Templates<'_, '_> {
    fn defines(&self, name: &str) -> bool {
        self.shared.theme.directive(name).is_some()
    }

    fn defined(&self) -> Vec<String> {
        self.shared.theme.extra_directives().to_vec()
    }

    fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper> {
        let line = self.shared.site.pages[self.id].body_line + call.line - 1;
        match wrapper(self.shared, self.id, call.kind, call.attrs, line) {
            Ok((wrapper, per_page)) => {
                if per_page {
                    self.recorded.borrow_mut().push((
                        call.kind.to_string(),
                        call.attrs.to_vec(),
                        wrapper.clone(),
                    ));
                }
                Some(wrapper)
            }
            Err(problem) => {
                self.problems.borrow_mut().push(problem);
                None
            }
        }
    }
}

/// The wrapper of directive `kind` with `attrs` on page `id` (fence at file
/// line `line`), and whether it depends on the page or the client.
pub(super) fn wrapper(
    shared: &Shared,
    id: PageId,
    kind: &str,
    attrs: &[(String, String)],
    line: usize,
) -> Result<(Wrapper, bool), Diagnostic> {
    let page = &shared.site.pages[id];
    let theme = shared.theme;
    let Some(template) = theme.directive(kind) else {
        return Err(no_template(shared, id, kind, line));
    };
    let lang = super::language::of(shared.version, page);
    let key = (
        kind.to_string(),
        attrs.to_vec(),
        lang.to_string(),
        shared.version.language.clone(),
        shared.version.facilitator,
    );
    if !template.per_page
        && let Some(wrapper) = theme.remembered_wrapper(&key)
    {
        return Ok((wrapper, false));
    }
    let name = format!("directives/{kind}.html");
    let mut context = Context::new();
    context.insert_value("body", Value::safe_string(BODY_MARKER));
    let attrs_map: std::collections::BTreeMap<&str, &str> = attrs
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    context.insert("attrs", &attrs_map);
    context.insert("lang", lang);
    context.insert_value("t", shared.labels_value.clone());
    context.insert("facilitator", &shared.version.facilitator);
    context.insert("open", &shared.version.facilitator);
    if template.per_page {
        let site = shared.site_value.clone();
        let client = site
            .as_map()
            .and_then(|map| map.get(&tera::value::Key::Str("client")).cloned())
            .unwrap_or_else(Value::none);
        context.insert_value("client", client);
        context.insert_value("site", site);
        context.insert(
            "page",
            &PageValue {
                title: &shared.texts[id].title,
                url: &page.url,
            },
        );
    }
    let html = theme
        .tera
        .render(&name, &context)
        .map_err(|e| theme.render_error(&e, &page.file))?;
    let mut parts = html.split(BODY_MARKER);
    let (Some(open), Some(close), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(body_not_once(shared, id, kind, line, &html));
    };
    let wrapper = Wrapper {
        open: open.to_string(),
        close: close.to_string(),
    };
    if !template.per_page {
        theme.remember_wrapper(key, wrapper.clone());
    }
    Ok((wrapper, template.per_page))
}

/// What a directive template sees of its page.
#[derive(serde::Serialize)]
struct PageValue<'a> {
    title: &'a str,
    url: &'a str,
}

/// A template that does not write the block's content exactly once: the
/// content cannot be placed (or would be published twice).
fn body_not_once(shared: &Shared, id: PageId, kind: &str, line: usize, html: &str) -> Diagnostic {
    let name = format!("directives/{kind}.html");
    let times = html.matches(BODY_MARKER).count();
    let written = match times {
        0 => "never writes".to_string(),
        n => format!("writes it {n} times, not once:"),
    };
    Diagnostic::error(
        &shared.site.pages[id].file,
        format!(
            "the template {} of `::: {kind}` {written} `{{{{ body }}}}`",
            shared.theme.origin(&name)
        ),
    )
    .at_line(line)
    .with_help(
        "a directive template writes the block's content exactly once, where it goes: \
         `{{ body }}` (see docs/themes.md)",
    )
}

/// A kind known to the Markdown pass with no template (cannot happen with
/// the built-in kinds, whose templates are always there).
fn no_template(shared: &Shared, id: PageId, kind: &str, line: usize) -> Diagnostic {
    let mut kinds: Vec<String> = KNOWN_KINDS.iter().map(|k| (*k).to_string()).collect();
    kinds.extend_from_slice(shared.theme.extra_directives());
    Diagnostic::error(
        &shared.site.pages[id].file,
        format!("directive `{kind}` has no template"),
    )
    .at_line(line)
    .with_help(format!(
        "add templates/directives/{kind}.html, or use one of {}",
        kinds.join(", ")
    ))
}
