//! "Did you mean …?": the known name closest to a mistyped one.
//!
//! A typo in a client slug or a client.yaml value does not fail loudly by
//! itself (the block or page is simply hidden), so the message that reports
//! it must point at the intended name.

/// Longest name compared, in characters: longer input is cut so a hostile
/// value cannot make the comparison slow (it is quadratic in the length).
const MAX_CHARS: usize = 200;

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a plausible typo (at most a third of the word's length, and at
/// least 2 edits allowed). Ties go to the first candidate.
#[must_use]
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word: Vec<char> = word.to_lowercase().chars().take(MAX_CHARS).collect();
    let limit = (word.len() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let other: Vec<char> = candidate.to_lowercase().chars().take(MAX_CHARS).collect();
        let distance = edit_distance(&word, &other);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance (insertions, deletions, substitutions), with one
/// row of memory.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_intended_name() {
        let clients = ["maison-lemoine", "northwind-coffee", "cabinet-belcourt"];
        assert_eq!(
            closest("northwind-cofee", clients),
            Some("northwind-coffee")
        );
        assert_eq!(
            closest("torefaction", ["torréfaction", "conseil"]),
            Some("torréfaction")
        );
        assert_eq!(closest("Conseil", ["conseil"]), Some("conseil"));
        assert_eq!(closest("boulangerie", clients), None);
        assert_eq!(closest("x", Vec::<&str>::new()), None);
        let long = "a".repeat(100_000);
        assert_eq!(closest(&long, [long.as_str()]), Some(long.as_str()));
    }
}
