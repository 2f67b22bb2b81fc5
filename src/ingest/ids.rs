//! The ids a load has seen and where each was first loaded, held compactly: every id's bytes in
//! one arena, found through a hash table of indices. A map of owned strings took about 100 bytes
//! per id (4.4 GB for the 44 M event ids of a 10 M-incident export); this takes about 35.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Where an id was first loaded: the index of its file in the load, and its record number there.
pub type Place = (usize, u64);

#[derive(Default)]
pub struct IdIndex {
    /// Seeded per process, so crafted ids cannot force collisions.
    hasher: DefaultHashBuilder,
    /// Per id: its index into `ends`, `files` and `rows`, and 32 bits of its hash. Growing the table
    /// rehashes every entry; with the hash at hand that reads no id bytes.
    table: HashTable<(u32, u32)>,
    /// Every id's bytes, one after another; id `i` ends at `ends[i]`.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    files: Vec<u32>,
    rows: Vec<u64>,
}

/// More ids than one load can index.
#[derive(Debug)]
pub struct Full;

/// Id `i` of the arena.
fn stored<'b>(bytes: &'b [u8], ends: &[usize], i: u32) -> &'b [u8] {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &bytes[start..ends[i]]
}

/// The table's 64-bit hash from the 32 bits kept: the same bits high and low, since the table
/// takes buckets from the low bits and tags from the high ones.
fn widen(short: u32) -> u64 {
    (u64::from(short) << 32) | u64::from(short)
}

impl IdIndex {
    /// Where `id` was first loaded, or None after recording it as loaded at `place` now.
    pub fn first_or_insert(&mut self, id: &str, place: Place) -> Result<Option<Place>, Full> {
        let short = self.hasher.hash_one(id.as_bytes()) as u32;
        let IdIndex { table, bytes, ends, files, rows, .. } = self;
        if let Some(&(i, _)) = table.find(widen(short), |&(i, h)| h == short && stored(bytes, ends, i) == id.as_bytes()) {
            return Ok(Some((files[i as usize] as usize, rows[i as usize])));
        }
        let index = u32::try_from(ends.len()).map_err(|_| Full)?;
        bytes.extend_from_slice(id.as_bytes());
        ends.push(bytes.len());
        files.push(u32::try_from(place.0).map_err(|_| Full)?);
        rows.push(place.1);
        table.insert_unique(widen(short), (index, short), |&(_, h)| widen(h));
        Ok(None)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_first_place_of_each_id() {
        let mut index = IdIndex::default();
        assert_eq!(index.first_or_insert("INC1", (0, 1)).unwrap(), None);
        assert_eq!(index.first_or_insert("INC2", (0, 2)).unwrap(), None);
        assert_eq!(index.first_or_insert("", (1, 7)).unwrap(), None, "the empty id is an id like any other");
        assert_eq!(index.first_or_insert("INC1", (1, 3)).unwrap(), Some((0, 1)));
        assert_eq!(index.first_or_insert("INC1", (2, 9)).unwrap(), Some((0, 1)), "the first place stays");
        assert_eq!(index.first_or_insert("", (2, 10)).unwrap(), Some((1, 7)));
        assert_eq!(index.first_or_insert("INC", (2, 11)).unwrap(), None, "a prefix of an id is another id");
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn agrees_with_a_map_over_many_ids() {
        let mut index = IdIndex::default();
        let mut map = std::collections::HashMap::new();
        for n in 0..200_000u64 {
            let id = format!("T{}", (n * 7919) % 150_000);
            let expected = map.get(&id).copied();
            if expected.is_none() {
                map.insert(id.clone(), (0usize, n));
            }
            assert_eq!(index.first_or_insert(&id, (0, n)).unwrap(), expected, "{id}");
        }
        assert_eq!(index.len(), map.len());
    }
}
