//! Where a `PriorityQueue` keeps its items: [`Sorted`], a binary min-heap under a lock that
//! parks (a spindle [`Mutex`]), taken only around one heap operation. The heap compares with
//! the user's `Ord`, which may take its time (sleep, yield, block) or panic; so no internal
//! spin lock is held while it runs, and a panicking comparison changes nothing: [`MinHeap`]
//! first finds where everything goes, comparing, and only then moves items, which runs no
//! user code.

use std::cmp::Ordering;

use super::store::Outside;
use crate::sync::Mutex;

/// The items of a `PriorityQueue`, smallest first, under a parking lock.
pub(super) struct Sorted<T> {
    heap: Mutex<MinHeap<T>>,
}

impl<T> Default for Sorted<T> {
    fn default() -> Sorted<T> {
        Sorted {
            heap: Mutex::new(MinHeap { data: Vec::new() }),
        }
    }
}

impl<T: Ord + Send> Outside<T> for Sorted<T> {
    fn store(&self, item: T) {
        // Declared before the guard, so that if `Ord` panics the item is dropped after the
        // heap's lock is released.
        let mut item = Some(item);
        let mut heap = self.heap.lock();
        heap.push(&mut item);
    }

    fn fetch(&self) -> T {
        self.heap
            .lock()
            .pop()
            .expect("a claimed item is in the heap")
    }
}

/// A binary min-heap whose `push` and `pop` leave it as it was if a comparison panics.
pub(super) struct MinHeap<T> {
    data: Vec<T>,
}

impl<T: Ord> MinHeap<T> {
    /// Moves the item in `slot` into the heap. If a comparison panics, the item is still in
    /// `slot` and the heap is as it was.
    fn push(&mut self, slot: &mut Option<T>) {
        let item = slot.as_ref().expect("an item to push");
        // Where the item goes: up from the new leaf while it is smaller than the parent.
        let end = self.data.len();
        let mut pos = end;
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if item.cmp(&self.data[parent]) != Ordering::Less {
                break;
            }
            pos = parent;
        }
        // Moving the items runs no user code (and cannot fail once there is room).
        self.data.reserve(1);
        self.data.push(slot.take().expect("checked above"));
        let mut hole = end;
        while hole > pos {
            let parent = (hole - 1) / 2;
            self.data.swap(hole, parent);
            hole = parent;
        }
    }

    /// Takes the smallest item. If a comparison panics, the heap is as it was.
    fn pop(&mut self) -> Option<T> {
        let n = self.data.len();
        if n <= 1 {
            return self.data.pop();
        }
        // The last item replaces the root and sinks, in a heap of `last` items, to `pos`:
        // down the smaller child while that child is smaller than it.
        let last = n - 1;
        let mut pos = 0;
        loop {
            let left = 2 * pos + 1;
            if left >= last {
                break;
            }
            let right = left + 1;
            let child = if right < last && self.data[right].cmp(&self.data[left]) == Ordering::Less
            {
                right
            } else {
                left
            };
            if self.data[child].cmp(&self.data[last]) != Ordering::Less {
                break;
            }
            pos = child;
        }
        // Now move: the last item to the root, then down the path to `pos`, each child on
        // the way moving up into its parent's place.
        // Counting from 1, the ancestors of `pos` are its number shifted right: the path
        // from the root down is read off its bits.
        let top = self.data.swap_remove(0);
        let number = pos + 1;
        let depth = usize::BITS - 1 - number.leading_zeros();
        let mut hole = 0;
        for level in (0..depth).rev() {
            let next = (number >> level) - 1;
            self.data.swap(hole, next);
            hole = next;
        }
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::MinHeap;
    use std::cell::Cell;
    use std::cmp::Ordering;
    use std::panic::{self, AssertUnwindSafe};

    thread_local! {
        /// Comparisons left before one panics (`None`: never).
        static FUSE: Cell<Option<u32>> = const { Cell::new(None) };
    }

    #[derive(Debug, PartialEq, Eq)]
    struct Fused(u64);

    impl Ord for Fused {
        fn cmp(&self, other: &Fused) -> Ordering {
            FUSE.with(|f| match f.get() {
                Some(0) => panic!("fuse"),
                Some(n) => f.set(Some(n - 1)),
                None => {}
            });
            self.0.cmp(&other.0)
        }
    }
    impl PartialOrd for Fused {
        fn partial_cmp(&self, other: &Fused) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    fn values(h: &MinHeap<Fused>) -> Vec<u64> {
        h.data.iter().map(|f| f.0).collect()
    }

    /// A pseudo-random sequence (xorshift), with repeats.
    fn sequence(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 50
            })
            .collect()
    }

    #[test]
    fn pops_in_order() {
        for seed in 1..20 {
            let input = sequence(200, seed);
            let mut h = MinHeap { data: Vec::new() };
            for &v in &input {
                h.push(&mut Some(Fused(v)));
            }
            let mut out = Vec::new();
            while let Some(Fused(v)) = h.pop() {
                out.push(v);
            }
            let mut sorted = input.clone();
            sorted.sort_unstable();
            assert_eq!(out, sorted);
        }
    }

    /// Whichever comparison of a `push` or `pop` panics, the heap is left exactly as it was
    /// (and keeps giving its items in order).
    #[test]
    fn a_panicking_comparison_changes_nothing() {
        let mut h = MinHeap { data: Vec::new() };
        for v in sequence(64, 7) {
            h.push(&mut Some(Fused(v)));
        }
        for fuse in 0..12 {
            let before = values(&h);
            FUSE.with(|f| f.set(Some(fuse)));
            let mut slot = Some(Fused(0));
            let pushed = panic::catch_unwind(AssertUnwindSafe(|| h.push(&mut slot)));
            FUSE.with(|f| f.set(None));
            if pushed.is_err() {
                assert_eq!(values(&h), before, "push, fuse {fuse}");
                assert_eq!(slot, Some(Fused(0)), "the item stays with the caller");
            } else {
                assert!(slot.is_none());
                assert_eq!(h.pop(), Some(Fused(0)));
            }
            let before = values(&h);
            FUSE.with(|f| f.set(Some(fuse)));
            let popped = panic::catch_unwind(AssertUnwindSafe(|| h.pop()));
            FUSE.with(|f| f.set(None));
            match popped {
                Err(_) => assert_eq!(values(&h), before, "pop, fuse {fuse}"),
                Ok(mut v) => h.push(&mut v),
            }
        }
        let mut out = Vec::new();
        while let Some(Fused(v)) = h.pop() {
            out.push(v);
        }
        let mut sorted = sequence(64, 7);
        sorted.sort_unstable();
        assert_eq!(out, sorted);
    }
}
