//! URL slugs: lowercase ASCII words joined by `-`, accents folded.
//!
//! Slugs are part of the public contract (module ids in `exercises:`, client
//! `modules:` selections, schedule breaks and URLs all use them), so the rule
//! is simple and stable: transliterate to ASCII, keep letters and digits, and
//! turn every other run of characters into one `-`.

/// Slugifies free text: `L'Émotion d'après` → `l-emotion-d-apres`.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut slug = String::with_capacity(ascii.len());
    let mut pending_dash = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    slug
}

/// Splits a file or folder stem into its `NN-` ordering prefix and the rest:
/// `02-la-confiance` → `(Some(2), "la-confiance")`.
pub fn split_order_prefix(stem: &str) -> (Option<u32>, &str) {
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return (None, stem);
    }
    let rest = &stem[digits..];
    match rest.strip_prefix(['-', '_']) {
        Some(rest) if !rest.is_empty() => (stem[..digits].parse().ok(), rest),
        _ => (None, stem),
    }
}

/// The slug of a file or folder stem, without its ordering prefix.
pub fn stem_slug(stem: &str) -> String {
    slugify(split_order_prefix(stem).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_punctuation() {
        assert_eq!(slugify("Émotion"), "emotion");
        assert_eq!(slugify("L'histoire d'après"), "l-histoire-d-apres");
        assert_eq!(slugify("  Œuvre & Cœur !  "), "oeuvre-coeur");
        assert_eq!(slugify("---"), "");
    }

    #[test]
    fn strips_ordering_prefix() {
        assert_eq!(
            split_order_prefix("02-la-confiance"),
            (Some(2), "la-confiance")
        );
        assert_eq!(split_order_prefix("10_fin"), (Some(10), "fin"));
        assert_eq!(split_order_prefix("2024"), (None, "2024"));
        assert_eq!(split_order_prefix("02-"), (None, "02-"));
        assert_eq!(split_order_prefix("recit"), (None, "recit"));
        assert_eq!(stem_slug("03-Récit"), "recit");
    }
}
