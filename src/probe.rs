//! Time spent in the domain's own calls while the services run, for the replay's floor
//! (`benches/replay_floor.rs`): the engine on the replay's real cases and signals, not a synthetic
//! stand-in. Once a thread calls [`start`], each call the services make on it into the engine, the
//! alert and digest builders and the measures is timed and added up, until [`stop`]. Otherwise
//! (everywhere but that benchmark) [`time`] costs a thread-local read and is the call itself.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// What a timed call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The engine: a case opened, a signal applied, what is due evaluated and committed, merges
    /// and continuations.
    Engine,
    /// Alerts and digests built from a case and its due event (their text and timeline).
    Build,
    /// What a change did to the clocks, and its tally into the day's figures.
    Measure,
}

const PARTS: usize = 3;

/// Time and calls spent in each part between [`start`] and [`stop`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub engine: (Duration, u64),
    pub build: (Duration, u64),
    pub measure: (Duration, u64),
}

impl Spent {
    /// Calls timed, all parts.
    pub fn calls(&self) -> u64 {
        self.engine.1 + self.build.1 + self.measure.1
    }
}

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static SPENT: Cell<[(Duration, u64); PARTS]> = const { Cell::new([(Duration::ZERO, 0); PARTS]) };
}

/// Starts timing the calls made on this thread (the replay runs on one), from zero.
pub fn start() {
    ON.set(true);
    SPENT.set([(Duration::ZERO, 0); PARTS]);
}

/// Runs `f`, timed as `part` when this thread is timing its calls ([`start`]).
#[inline(always)]
pub fn time<T>(part: Part, f: impl FnOnce() -> T) -> T {
    if !ON.get() {
        return f();
    }
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    SPENT.with(|spent| {
        let mut parts = spent.get();
        parts[part as usize].0 += elapsed;
        parts[part as usize].1 += 1;
        spent.set(parts);
    });
    result
}

/// What this thread spent since [`start`]; it stops timing.
pub fn stop() -> Spent {
    ON.set(false);
    let parts = SPENT.take();
    Spent {
        engine: parts[Part::Engine as usize],
        build: parts[Part::Build as usize],
        measure: parts[Part::Measure as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_timed_in_their_part_only_between_start_and_stop() {
        assert_eq!(time(Part::Engine, || 1), 1);
        start();
        let answer = time(Part::Build, || {
            std::thread::sleep(Duration::from_millis(2));
            42
        });
        assert_eq!(answer, 42);
        time(Part::Measure, || ());
        let spent = stop();
        assert_eq!((spent.engine.1, spent.build.1, spent.measure.1), (0, 1, 1));
        assert!(spent.build.0 >= Duration::from_millis(2), "{spent:?}");
        assert_eq!(spent.calls(), 2);
        time(Part::Engine, || ());
        start();
        assert_eq!(stop(), Spent::default(), "nothing is timed before start, and start counts from zero");
    }
}
