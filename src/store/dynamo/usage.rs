//! What the DynamoDB store used: requests and capacity units, as DynamoDB reports them, and what
//! DynamoDB would bill for its transactions.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::table::{PARTITION_KEY, SORT_KEY};

/// Requests made and capacity units consumed, as DynamoDB reports them (`ReturnConsumedCapacity`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
    /// The part of `write_units` that went to the global secondary indexes (the due and open
    /// index entries a case item's keys make), as transactions report it.
    pub index_write_units: f64,
    /// What DynamoDB bills for the same transactions by its documented rule, which DynamoDB Local
    /// does not follow (it rounds a transaction's items up to the KB together, not one by one):
    /// 2 units per KB of each item, rounded up per item (puts by their size; updates, deletes and
    /// condition checks of the small items they touch at 2), plus the index units as reported.
    pub billed_write_units: f64,
    /// The items the transactions wrote (put, updated or deleted), by kind.
    pub items: Items,
}

/// How many items of each kind the transactions wrote: what a signal's write units are made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Items {
    pub case: u64,
    /// Timeline events and segments.
    pub timeline: u64,
    pub dedupe: u64,
    /// Message and customer references (`REF` items).
    pub reference: u64,
    /// Customer index entries (every case an identity was held by).
    pub customer_index: u64,
    /// A team's day figures (one shard).
    pub figures: u64,
    pub outbox: u64,
    pub other: u64,
}

impl Items {
    /// Counts one item written, by the kind its keys name (see the table in [`super`]).
    fn count(&mut self, pk: &str, sk: &str) {
        let kind = match (pk.split('#').next().unwrap_or(""), sk.split('#').next().unwrap_or("")) {
            ("CASE", "CASE") => &mut self.case,
            ("CASE", "EV" | "SEG") => &mut self.timeline,
            ("SEEN", _) => &mut self.dedupe,
            ("REF", "REF") => &mut self.reference,
            ("REF", "CASE") => &mut self.customer_index,
            ("DAY", _) => &mut self.figures,
            ("OUTBOX", _) => &mut self.outbox,
            _ => &mut self.other,
        };
        *kind += 1;
    }

    pub fn total(&self) -> u64 {
        let Items { case, timeline, dedupe, reference, customer_index, figures, outbox, other } = *self;
        case + timeline + dedupe + reference + customer_index + figures + outbox + other
    }

    fn zip(self, rhs: Items, f: impl Fn(u64, u64) -> u64) -> Items {
        Items {
            case: f(self.case, rhs.case),
            timeline: f(self.timeline, rhs.timeline),
            dedupe: f(self.dedupe, rhs.dedupe),
            reference: f(self.reference, rhs.reference),
            customer_index: f(self.customer_index, rhs.customer_index),
            figures: f(self.figures, rhs.figures),
            outbox: f(self.outbox, rhs.outbox),
            other: f(self.other, rhs.other),
        }
    }
}

impl std::ops::Add for Items {
    type Output = Items;
    fn add(self, rhs: Items) -> Items {
        self.zip(rhs, |a, b| a + b)
    }
}

impl std::ops::Sub for Items {
    type Output = Items;
    fn sub(self, rhs: Items) -> Items {
        self.zip(rhs, |a, b| a - b)
    }
}

/// The kinds of the items a transaction writes.
pub fn transaction_items(items: &[TransactWriteItem]) -> Items {
    fn key<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
        match item.get(name) {
            Some(AttributeValue::S(s)) => s,
            _ => "",
        }
    }
    let mut kinds = Items::default();
    for item in items {
        let written = match (item.put(), item.update(), item.delete()) {
            (Some(put), _, _) => put.item(),
            (_, Some(update), _) => update.key(),
            (_, _, Some(delete)) => delete.key(),
            _ => continue,
        };
        kinds.count(key(written, PARTITION_KEY), key(written, SORT_KEY));
    }
    kinds
}

/// An item's size as DynamoDB counts it: each attribute's name and value; strings and binaries
/// their length, numbers about one byte per two significant digits plus one, lists and maps 3 bytes
/// plus 1 per element.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// The table's write units DynamoDB bills for a transaction of `items` (see
/// [`Usage::billed_write_units`]; the index units come from the response).
pub fn transaction_units(items: &[TransactWriteItem]) -> f64 {
    let units = |item: &TransactWriteItem| match item.put() {
        Some(put) => 2 * item_size(put.item()).div_ceil(1024).max(1),
        None => 2,
    };
    items.iter().map(units).sum::<usize>() as f64
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests - rhs.requests,
            read_units: self.read_units - rhs.read_units,
            write_units: self.write_units - rhs.write_units,
            index_write_units: self.index_write_units - rhs.index_write_units,
            billed_write_units: self.billed_write_units - rhs.billed_write_units,
            items: self.items - rhs.items,
        }
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests + rhs.requests,
            read_units: self.read_units + rhs.read_units,
            write_units: self.write_units + rhs.write_units,
            index_write_units: self.index_write_units + rhs.index_write_units,
            billed_write_units: self.billed_write_units + rhs.billed_write_units,
            items: self.items + rhs.items,
        }
    }
}
