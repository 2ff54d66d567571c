//! The names of a runtime's named, live tasks, kept by id for the stall watchdog's reports.

use std::collections::HashMap;
use std::sync::Mutex;

/// Names of the runtime's named, live tasks, so a report can name a task from its id
/// without touching the task itself (which its worker may free at any moment).
#[derive(Default)]
pub(crate) struct Names {
    map: Mutex<HashMap<u64, Box<str>>>,
}

impl Names {
    pub(crate) fn insert(&self, id: u64, name: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, name.into());
    }

    pub(crate) fn remove(&self, id: u64) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    pub(crate) fn get(&self, id: u64) -> Option<Box<str>> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }
}
