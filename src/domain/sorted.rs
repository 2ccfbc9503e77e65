//! Small sorted collections for a case's clocks, identities and time held: the part of a
//! `BTreeMap`'s and `BTreeSet`'s API the domain uses, and their serde form, kept as one sorted
//! vector.
//!
//! A B-tree allocates a node of eleven entries for its first one: about 2 KB for a case's two or
//! three clocks, and 400 bytes for each of its one or two identities and teams, in every one of
//! the hundred thousand cases a long replay holds. A case holds few of each (one or two identities
//! and at most [`MAX_IDENTITIES`](super::case::MAX_IDENTITIES), 20; six clock kinds at most; the
//! teams it passed through), so a binary search over a vector finds them as fast, and an insert
//! moves a few entries at most.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A map in key order, as a `BTreeMap` (and serialised as one: an object, or a map, in key order).
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

/// Printed as a map, as a `BTreeMap` is.
impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Puts `value` under `key`; returns the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The value under `key`, inserted as `V::default()` if there was none (a `BTreeMap`'s
    /// `entry(key).or_default()`).
    pub fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.0[i].1
    }
}

impl<K, V> SortedMap<K, V> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.into_iter()
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Ord + std::fmt::Debug, V> std::ops::Index<&K> for SortedMap<K, V> {
    type Output = V;

    /// # Panics
    /// If `key` is not in the map, as a `BTreeMap`'s index does.
    fn index(&self, key: &K) -> &V {
        self.get(key).unwrap_or_else(|| panic!("no entry for {key:?}"))
    }
}

impl<K, V> From<BTreeMap<K, V>> for SortedMap<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        Self(map.into_iter().collect())
    }
}

impl<K: Ord, V> From<SortedMap<K, V>> for BTreeMap<K, V> {
    fn from(map: SortedMap<K, V>) -> Self {
        map.0.into_iter().collect()
    }
}

/// What a borrowed entry becomes in iteration: a pair of references.
type AsRefs<'a, K, V> = fn(&'a (K, V)) -> (&'a K, &'a V);

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, AsRefs<'a, K, V>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Serialize, V: Serialize> Serialize for SortedMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for SortedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<K, V>::deserialize(deserializer).map(Self::from)
    }
}

/// A set in order, as a `BTreeSet` (and serialised as one: a sequence in order).
#[derive(Clone, PartialEq, Eq)]
pub struct SortedSet<T>(Vec<T>);

/// Printed as a set, as a `BTreeSet` is.
impl<T: std::fmt::Debug> std::fmt::Debug for SortedSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Ord> SortedSet<T> {
    pub fn contains(&self, value: &T) -> bool {
        self.0.binary_search(value).is_ok()
    }

    /// Adds `value`; whether it was new.
    pub fn insert(&mut self, value: T) -> bool {
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, value);
                true
            }
        }
    }
}

impl<T> SortedSet<T> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T> From<BTreeSet<T>> for SortedSet<T> {
    fn from(set: BTreeSet<T>) -> Self {
        Self(set.into_iter().collect())
    }
}

impl<T: Ord> From<SortedSet<T>> for BTreeSet<T> {
    fn from(set: SortedSet<T>) -> Self {
        set.0.into_iter().collect()
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for SortedSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.0)
    }
}

impl<'de, T: Ord + Deserialize<'de>> Deserialize<'de> for SortedSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeSet::<T>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A `SortedMap` answers as a `BTreeMap` after any inserts, removals and defaults, and
        /// reads and writes the same JSON.
        #[test]
        fn a_sorted_map_behaves_as_a_btree_map(ops in prop::collection::vec((0u8..3, "[a-e]", 0i64..100), 0..60)) {
            let mut sorted = SortedMap::default();
            let mut btree = BTreeMap::new();
            for (op, key, value) in ops {
                match op {
                    0 => prop_assert_eq!(sorted.insert(key.clone(), value), btree.insert(key.clone(), value)),
                    1 => prop_assert_eq!(sorted.remove(&key), btree.remove(&key)),
                    _ => {
                        *sorted.entry_or_default(key.clone()) += value;
                        *btree.entry(key.clone()).or_default() += value;
                    }
                }
                prop_assert_eq!(sorted.get(&key), btree.get(&key));
                prop_assert_eq!(sorted.contains_key(&key), btree.contains_key(&key));
                prop_assert_eq!(sorted.len(), btree.len());
                prop_assert!(sorted.iter().eq(btree.iter()));
            }
            let json = serde_json::to_string(&sorted).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&btree).unwrap());
            prop_assert_eq!(serde_json::from_str::<SortedMap<String, i64>>(&json).unwrap(), sorted.clone());
            prop_assert_eq!(BTreeMap::from(sorted), btree);
        }

        /// A `SortedSet` answers as a `BTreeSet`, and reads and writes the same JSON.
        #[test]
        fn a_sorted_set_behaves_as_a_btree_set(values in prop::collection::vec("[a-h]", 0..30)) {
            let mut sorted = SortedSet::default();
            let mut btree = BTreeSet::new();
            for value in values {
                prop_assert_eq!(sorted.insert(value.clone()), btree.insert(value.clone()));
                prop_assert_eq!(sorted.contains(&value), btree.contains(&value));
                prop_assert_eq!(sorted.len(), btree.len());
                prop_assert!(sorted.iter().eq(btree.iter()));
            }
            let json = serde_json::to_string(&sorted).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&btree).unwrap());
            prop_assert_eq!(serde_json::from_str::<SortedSet<String>>(&json).unwrap(), sorted.clone());
            prop_assert_eq!(BTreeSet::from(sorted), btree);
        }
    }

    /// What earlier code stored, or a hand-written item, reads as a `BTreeMap` or `BTreeSet` would:
    /// a later value for a repeated key wins, a set is put in order without repeats.
    #[test]
    fn unsorted_and_repeated_input_reads_as_a_btree_would() {
        let map: SortedMap<String, i64> = serde_json::from_str(r#"{"b": 1, "a": 2, "b": 3}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":2,"b":3}"#);
        let set: SortedSet<String> = serde_json::from_str(r#"["b", "a", "a"]"#).unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["a","b"]"#);
        assert_eq!(format!("{map:?} {set:?}"), r#"{"a": 2, "b": 3} {"a", "b"}"#);
    }
}
