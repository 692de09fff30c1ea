//! Reordering large vectors of large values in place, without moving each value more than
//! once: sorting the values themselves (a merge sort moves each one ~log n times, through a
//! buffer as large as the vector) costs far more than sorting their indices and then moving
//! the values along the permutation's cycles.

/// Reorders `items` so that position `k` receives the item now at `perm[k]`. `perm` must be a
/// permutation of `0..items.len()`; it is consumed (used as the record of what has moved).
pub(crate) fn apply_permutation<T>(items: &mut [T], mut perm: Vec<usize>) {
    debug_assert_eq!(items.len(), perm.len());
    for start in 0..perm.len().min(items.len()) {
        let mut j = start;
        loop {
            let k = perm[j];
            perm[j] = j;
            if k == start || k >= items.len() {
                break;
            }
            items.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

    use super::apply_permutation;

    #[test]
    fn every_position_receives_the_item_the_permutation_names() {
        // cycles of length 1, 2 and 4, and the identity
        let perms: [&[usize]; 4] = [&[0, 1, 2, 3], &[1, 0, 2, 3], &[3, 0, 1, 2], &[2, 3, 0, 1]];
        for perm in perms {
            let items: Vec<char> = "abcd".chars().collect();
            let mut moved = items.clone();
            apply_permutation(&mut moved, perm.to_vec());
            let expected: Vec<char> = perm.iter().map(|&i| items[i]).collect();
            assert_eq!(moved, expected, "permutation {perm:?}");
        }
    }
}
