//! Counted nouns in messages: "1 page", "2 pages", never "1 pages" or
//! "page(s)". Messages to users are in English, whose plurals need only the
//! two forms.

/// `n` followed by the singular or the plural form, as `n` asks.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(0, "page", "pages"), "0 pages");
        assert_eq!(count(1, "page", "pages"), "1 page");
        assert_eq!(count(2, "variable", "variables"), "2 variables");
    }
}
