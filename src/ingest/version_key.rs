//! Version keys: the components of a dedup ordering, and their encoding as bytes whose order is
//! the key's order, so that a store compares versions of a ticket as bytes.

use std::cmp::Ordering;

use datafusion::arrow::array::{BinaryArray, BinaryBuilder};

/// One component of a dedup sort key. Nulls sort first, so any value beats a missing one.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl KeyValue {
    pub fn order(&self, other: &KeyValue) -> Ordering {
        use KeyValue::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (a, b) => format!("{a:?}").cmp(&format!("{b:?}")),
        }
    }
}

/// Version keys as a Binary column, one row per key, each encoded by `encode_key`. One buffer
/// holds them all, where a vector per key would be an allocation per row.
pub fn key_column<K: AsRef<[KeyValue]>>(keys: impl Iterator<Item = K>) -> BinaryArray {
    let rows = keys.size_hint().0;
    let mut column = BinaryBuilder::with_capacity(rows, rows * 9);
    let mut key = Vec::new();
    for values in keys {
        key.clear();
        encode_key(values.as_ref(), &mut key);
        column.append_value(&key);
    }
    column.finish()
}

/// Appends to `out` an encoding of a version key whose byte order is the key's order: nulls
/// first, integers and floats by value, text by its bytes. Compared component by component, as
/// dedup compares.
fn encode_key(values: &[KeyValue], out: &mut Vec<u8>) {
    for value in values {
        match value {
            KeyValue::Null => out.push(0),
            KeyValue::Int(i) => {
                out.push(1);
                out.extend(((*i as u64) ^ (1 << 63)).to_be_bytes());
            }
            KeyValue::Float(f) => {
                out.push(2);
                let bits = f.to_bits();
                let ordered = if bits >> 63 == 1 { !bits } else { bits ^ (1 << 63) };
                out.extend(ordered.to_be_bytes());
            }
            KeyValue::Text(t) => {
                out.push(3);
                for &b in t.as_bytes() {
                    out.push(b);
                    if b == 0 {
                        out.push(0xff);
                    }
                }
                out.extend([0, 0]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(values: &[KeyValue]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key(values, &mut out);
        out
    }

    #[test]
    fn encoded_keys_sort_as_their_values() {
        let ordered = [
            vec![KeyValue::Null],
            vec![KeyValue::Int(i64::MIN)],
            vec![KeyValue::Int(-1)],
            vec![KeyValue::Int(0)],
            vec![KeyValue::Int(1_767_604_353_000_000)],
            vec![KeyValue::Int(i64::MAX)],
        ];
        for pair in ordered.windows(2) {
            assert!(key(&pair[0]) < key(&pair[1]), "{pair:?}");
        }
        let floats = [-f64::INFINITY, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        for pair in floats.windows(2) {
            assert!(key(&[KeyValue::Float(pair[0])]) <= key(&[KeyValue::Float(pair[1])]), "{pair:?}");
        }
        // Text compares by bytes, component by component: "a" then 9 sorts before "ab" then 1.
        let a = key(&[KeyValue::Text("a".into()), KeyValue::Int(9)]);
        let ab = key(&[KeyValue::Text("ab".into()), KeyValue::Int(1)]);
        assert!(a < ab);
        assert!(key(&[KeyValue::Text("a\0".into())]) > key(&[KeyValue::Text("a".into())]));
    }
}
