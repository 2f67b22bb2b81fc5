//! The ids a load has seen and where each was first loaded, held compactly: every id's bytes in
//! one arena, found through an open-addressing table of 64-bit slots: about 40 bytes per id, where
//! a map of owned strings takes about 100 (4.4 GB for the 44 M event ids of a 10 M-incident
//! export).
//!
//! Each lookup lands on a random slot of a table far larger than the caches (43 M event ids: a
//! 512 MiB table), so its time is a cache miss. A chunk's ids are therefore looked up a block at a
//! time: first every slot of the block is read (independent reads, which the processor overlaps),
//! then the ids are looked up in order from the cache. Both the order and the answers are those of
//! one lookup after another.

use std::hash::BuildHasher;

use datafusion::arrow::array::{Array, StringArray};
use hashbrown::DefaultHashBuilder;

/// Where an id was first loaded: the index of its file in the load, and its record number there.
pub type Place = (usize, u64);

/// Ids whose slots are read ahead together: their cache lines (64 KiB) stay in the L2 cache until
/// the lookups that follow.
const BLOCK: usize = 1024;

/// The table grows once more than this share of its slots is taken. Linear probing looks at a few
/// neighbouring slots at this load, which share the cache line of the first.
const MAX_LOAD: (usize, usize) = (3, 4);

#[derive(Default)]
pub struct IdIndex {
    /// Seeded per process, so crafted ids cannot force collisions.
    hasher: DefaultHashBuilder,
    /// 0 for an empty slot, else 32 bits of the id's hash (high) and its index + 1 (low). The
    /// id's first slot is its hash bits masked by the table size, so growing the table reads no
    /// id bytes.
    slots: Vec<u64>,
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
fn stored<'b>(bytes: &'b [u8], ends: &[usize], i: usize) -> &'b [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &bytes[start..ends[i]]
}

impl IdIndex {
    /// For each of `ids` in order, where it was first loaded, or None after recording it as
    /// loaded at `place(i)` now; a null id is not looked up (None).
    pub fn first_or_insert_all(&mut self, ids: &StringArray, place: impl Fn(usize) -> Place) -> Result<Vec<Option<Place>>, Full> {
        let tags: Vec<u32> = ids.iter().map(|id| id.map_or(0, |id| self.tag(id))).collect();
        let mut firsts = Vec::with_capacity(ids.len());
        for start in (0..ids.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(ids.len());
            // Made room for the block first, so that no growth moves the slots just read.
            self.reserve(end - start)?;
            let mask = self.slots.len() - 1;
            let touched = tags[start..end].iter().fold(0u64, |acc, &tag| acc ^ self.slots[tag as usize & mask]);
            std::hint::black_box(touched);
            for (i, &tag) in tags.iter().enumerate().take(end).skip(start) {
                firsts.push(if ids.is_null(i) { None } else { self.first_or_insert_tagged(ids.value(i), tag, place(i))? });
            }
        }
        Ok(firsts)
    }

    fn tag(&self, id: &str) -> u32 {
        (self.hasher.hash_one(id.as_bytes()) >> 32) as u32
    }

    fn first_or_insert_tagged(&mut self, id: &str, tag: u32, place: Place) -> Result<Option<Place>, Full> {
        self.reserve(1)?;
        let IdIndex { slots, bytes, ends, files, rows, .. } = self;
        let mask = slots.len() - 1;
        let mut at = tag as usize & mask;
        loop {
            let slot = slots[at];
            if slot == 0 {
                break;
            }
            let index = (slot as u32 - 1) as usize;
            if (slot >> 32) as u32 == tag && stored(bytes, ends, index) == id.as_bytes() {
                return Ok(Some((files[index] as usize, rows[index])));
            }
            at = (at + 1) & mask;
        }
        let index = u32::try_from(ends.len() + 1).map_err(|_| Full)?;
        bytes.extend_from_slice(id.as_bytes());
        ends.push(bytes.len());
        files.push(u32::try_from(place.0).map_err(|_| Full)?);
        rows.push(place.1);
        slots[at] = (u64::from(tag) << 32) | u64::from(index);
        Ok(None)
    }

    /// Grows the table, if need be, so that `more` ids fit within the maximum load.
    fn reserve(&mut self, more: usize) -> Result<(), Full> {
        let wanted = self.len() + more;
        if wanted * MAX_LOAD.1 <= self.slots.len() * MAX_LOAD.0 {
            return Ok(());
        }
        let mut size = self.slots.len().max(1024);
        while wanted * MAX_LOAD.1 > size * MAX_LOAD.0 {
            size = size.checked_mul(2).ok_or(Full)?;
        }
        // Tags are 32 bits: a table beyond that could not place ids by them.
        if size > 1 << 32 {
            return Err(Full);
        }
        let mut slots = vec![0u64; size];
        let mask = size - 1;
        for &slot in self.slots.iter().filter(|&&s| s != 0) {
            let mut at = (slot >> 32) as usize & mask;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = slot;
        }
        self.slots = slots;
        Ok(())
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

    impl IdIndex {
        /// One id at a time: the reference the chunk-at-once lookup is held to.
        fn first_or_insert(&mut self, id: &str, place: Place) -> Result<Option<Place>, Full> {
            let tag = self.tag(id);
            self.first_or_insert_tagged(id, tag, place)
        }
    }

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

    /// 200,000 lookups of 150,000 ids, through several growths of the table.
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

    /// Looking a chunk up at once gives what one lookup after another gives, including duplicates
    /// within the chunk and across blocks, and a null id, which is not looked up.
    #[test]
    fn a_chunk_at_once_agrees_with_one_at_a_time() {
        let (mut one, mut all) = (IdIndex::default(), IdIndex::default());
        for chunk in 0..4u64 {
            let ids: Vec<Option<String>> = (0..3000u64).map(|r| (r != 17).then(|| format!("E{}", (chunk * 3000 + r) * 7 % 5000))).collect();
            let array = StringArray::from(ids.clone());
            let expected: Vec<Option<Place>> =
                ids.iter().enumerate().map(|(r, id)| id.as_ref().and_then(|id| one.first_or_insert(id, (chunk as usize, r as u64)).unwrap())).collect();
            assert_eq!(all.first_or_insert_all(&array, |r| (chunk as usize, r as u64)).unwrap(), expected, "chunk {chunk}");
        }
        assert_eq!(all.len(), one.len());
        assert_eq!(all.len(), 5000);
    }
}
