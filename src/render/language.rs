//! A page's language within its version: a page may say `language: en` in a
//! French masterclass (a guest's text, a resource in English), and its
//! `<html lang>` and typography then follow it.

use crate::content::SourcePage;

use super::Version;

/// The language code of `page` in `version` (`fr`, `en`…).
pub(super) fn of<'a>(version: &'a Version, page: &SourcePage) -> &'a str {
    match page.front.language() {
        Some(language) => language.code(),
        None => version.language.as_str(),
    }
}

/// Whether French typography applies to `page` in `version`: the version's
/// choice for pages in its language, French spacing for French pages only
/// otherwise.
pub(super) fn french(version: &Version, page: &SourcePage) -> bool {
    match page.front.language() {
        Some(language) if language.code() != version.language => language.french_by_default(),
        _ => version.french,
    }
}
