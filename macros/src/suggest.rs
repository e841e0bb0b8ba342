//! "Did you mean ...?" for unknown ids.

/// The declared id closest to `unknown`, if one is close enough to be a likely typo.
pub(crate) fn closest<'a>(unknown: &str, declared: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    declared
        .into_iter()
        .map(|d| (edit_distance(unknown, d), d))
        .filter(|&(dist, d)| dist <= unknown.chars().count().max(d.chars().count()).div_ceil(3))
        .min_by_key(|&(dist, _)| dist)
        .map(|(_, d)| d)
}

/// Edit distance by characters, counting a swap of two neighbours as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// `` `a`, `b` and `c` `` for messages.
pub(crate) fn list<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| format!("`{i}`")).collect();
    match ids.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_only() {
        assert_eq!(closest("bufer", ["buffer", "count"]), Some("buffer"));
        assert_eq!(closest("cuont", ["buffer", "count"]), Some("count"));
        assert_eq!(closest("stail", ["expiry", "stale"]), Some("stale"));
        assert_eq!(closest("zzz", ["buffer", "count"]), None);
        assert_eq!(closest("x", []), None);
        assert_eq!(list(["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
