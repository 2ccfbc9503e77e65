//! What the DynamoDB store used: requests and capacity units, as DynamoDB reports them.

/// Requests made and capacity units consumed, as DynamoDB reports them (`ReturnConsumedCapacity`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests - rhs.requests,
            read_units: self.read_units - rhs.read_units,
            write_units: self.write_units - rhs.write_units,
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
        }
    }
}
