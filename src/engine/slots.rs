//! The process-wide query slots: at most one query per core runs at a time, over every session of
//! a command, and when a slot frees up the waiting query expected to take longest goes first.
//!
//! DataFusion already spreads each query over the cores, so more queries at once add no speed,
//! only memory: every running query holds its hash tables and aggregate states at the same time.
//! Longest first keeps the cores busy to the end: in arrival order, the report's three
//! `sla_breach` runs would queue behind a score of short queries and then run alone, with a core
//! idle.

use std::collections::BinaryHeap;
use std::sync::{Mutex, OnceLock};

use tokio::sync::oneshot;

/// How long a query is expected to take, as the order in which waiting queries get a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cost {
    Short,
    Long,
    Longest,
}

impl Cost {
    /// A KPI's expected cost. The two that take longest at every size measured (the business-time
    /// clocks of `sla_breach`, the downtime union of `mtbf`) are named; the rest are alike.
    pub fn of_kpi(id: &str) -> Cost {
        match id {
            "sla_breach" => Cost::Longest,
            "mtbf" => Cost::Long,
            _ => Cost::Short,
        }
    }
}

/// A slot held; dropping it hands the slot to the waiting query of highest cost (first come among
/// equals), or frees it.
#[derive(Debug)]
pub struct Slot(&'static Slots);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[derive(Debug)]
struct Waiting {
    cost: Cost,
    /// Arrival order, negated so that the max-heap serves the earliest of equal cost first.
    arrival: std::cmp::Reverse<u64>,
    hand: oneshot::Sender<Slot>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.cost, self.arrival) == (other.cost, other.arrival)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.cost, self.arrival).cmp(&(other.cost, other.arrival))
    }
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    arrivals: u64,
    waiting: BinaryHeap<Waiting>,
}

#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
}

impl Slots {
    /// A pool of `n` slots (tests make their own; commands share `process()`).
    pub fn new(n: usize) -> Slots {
        Slots { state: Mutex::new(State { free: n, ..State::default() }) }
    }

    /// The pool every query of this process shares: one slot per core.
    pub fn process() -> &'static Slots {
        static SLOTS: OnceLock<Slots> = OnceLock::new();
        SLOTS.get_or_init(|| Slots::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
    }

    /// Waits for a slot. A waiter that is dropped (its query cancelled) gives up its place; a slot
    /// handed to it just then comes back through `Slot`'s drop.
    pub async fn acquire(&'static self, cost: Cost) -> Slot {
        let handed = {
            let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if state.free > 0 && state.waiting.is_empty() {
                state.free -= 1;
                return Slot(self);
            }
            let (hand, handed) = oneshot::channel();
            state.arrivals += 1;
            let arrival = std::cmp::Reverse(state.arrivals);
            state.waiting.push(Waiting { cost, arrival, hand });
            handed
        };
        match handed.await {
            Ok(slot) => slot,
            // The pool outlives every waiter (it is 'static), so the sender is never dropped
            // unsent; should it be, wait again rather than run without a slot.
            Err(_) => Box::pin(self.acquire(cost)).await,
        }
    }

    fn release(&'static self) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(next) = state.waiting.pop() {
            // A Slot created here is not yet held by anyone: if the waiter is gone, `send` gives
            // it back and it must not run its drop (that would release a second time).
            match next.hand.send(Slot(self)) {
                Ok(()) => return,
                Err(unsent) => std::mem::forget(unsent),
            }
        }
        state.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the one slot held, a short, a longest and a long query wait in that order; freed,
    /// the slot goes to the longest, then the long, then the short. A cancelled waiter is skipped.
    #[tokio::test]
    async fn the_longest_waiting_query_goes_first() {
        let slots: &'static Slots = Box::leak(Box::new(Slots::new(1)));
        let held = slots.acquire(Cost::Short).await;
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, cost) in [("short", Cost::Short), ("longest", Cost::Longest), ("cancelled", Cost::Longest), ("long", Cost::Long)] {
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(cost).await;
                order.lock().unwrap().push(name);
            }));
            // Let each task queue before the next arrives.
            while slots.state.lock().unwrap().waiting.len() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        tasks.remove(2).abort();
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["longest", "long", "short"]);
        assert_eq!(slots.state.lock().unwrap().free, 1, "every slot is back");
    }
}
