//! The agenda: clock times of modules and breaks, from `schedule` and durations.
//!
//! A trainer reads the agenda to know whether the day fits; a module without a
//! duration counts as zero minutes (and `check` says so), a break after a
//! module that does not exist is an error pointing at `atelier.yaml`.

use crate::config::{CONFIG_FILE, Schedule};
use crate::duration::{ClockTime, Minutes};
use crate::error::Diagnostic;

/// Start time used when `schedule.start` is not set.
pub const DEFAULT_START: ClockTime = ClockTime { minutes: 9 * 60 };

/// A module as the agenda lays it out: its slug (what breaks name) and
/// its duration, if known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSlot<'a> {
    /// The module's slug.
    pub slug: &'a str,
    /// Its duration (`None` counts as zero minutes).
    pub duration: Option<Minutes>,
}

/// One line of the agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaItem {
    /// A module (index into the site's modules).
    Module {
        /// Index into `Site::modules`.
        module: usize,
        /// Clock time it starts.
        start: ClockTime,
        /// Its duration (zero when unknown).
        duration: Minutes,
    },
    /// A pause.
    Break {
        /// Label from `atelier.yaml`, or the theme's default.
        label: Option<String>,
        /// Clock time it starts.
        start: ClockTime,
        /// How long.
        duration: Minutes,
    },
}

impl AgendaItem {
    /// When the item starts.
    pub fn start(&self) -> ClockTime {
        match self {
            AgendaItem::Module { start, .. } | AgendaItem::Break { start, .. } => *start,
        }
    }
    /// How long it lasts.
    pub fn duration(&self) -> Minutes {
        match self {
            AgendaItem::Module { duration, .. } | AgendaItem::Break { duration, .. } => *duration,
        }
    }
}

/// The whole day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agenda {
    /// Clock time of the first module.
    pub start: ClockTime,
    /// Modules and breaks in order.
    pub items: Vec<AgendaItem>,
    /// Total of modules and breaks.
    pub total: Minutes,
    /// Start of each module, by index.
    starts: Vec<ClockTime>,
}

impl Default for Agenda {
    fn default() -> Self {
        Agenda {
            start: DEFAULT_START,
            items: Vec::new(),
            total: Minutes(0),
            starts: Vec::new(),
        }
    }
}

impl Agenda {
    /// Clock time the day ends.
    pub fn end(&self) -> ClockTime {
        self.start.plus(self.total)
    }

    /// The start time of module `index`, if it is in the agenda.
    pub fn module_start(&self, index: usize) -> Option<ClockTime> {
        self.starts.get(index).copied()
    }

    /// Lays out `modules` (in order, each with its slug and its duration,
    /// if known) from `schedule`. A break naming an unknown module is an
    /// error for the base version and skipped in a client's version (whose
    /// selection may leave that module out).
    pub fn compute(
        schedule: &Schedule,
        config_text: &str,
        modules: &[ModuleSlot],
        lenient: bool,
    ) -> Result<Agenda, Vec<Diagnostic>> {
        let start = schedule.start.unwrap_or(DEFAULT_START);
        let mut problems = Vec::new();
        for pause in &schedule.breaks {
            if !modules.iter().any(|m| m.slug == pause.after) && !lenient {
                let line = config_text
                    .lines()
                    .position(|l| l.contains("after") && l.contains(pause.after.as_str()))
                    .map_or(1, |i| i + 1);
                let mut slugs: Vec<&str> = modules.iter().map(|m| m.slug).collect();
                slugs.sort_unstable();
                problems.push(
                    Diagnostic::error(
                        CONFIG_FILE,
                        format!("break after unknown module `{}`", pause.after),
                    )
                    .at_line(line)
                    .with_help(format!(
                        "`after:` takes a module slug: {}",
                        slugs.join(", ")
                    )),
                );
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut clock = start;
        let mut total = Minutes(0);
        let mut items = Vec::with_capacity(modules.len() + schedule.breaks.len());
        for (index, module) in modules.iter().enumerate() {
            let duration = module.duration.unwrap_or_default();
            items.push(AgendaItem::Module {
                module: index,
                start: clock,
                duration,
            });
            clock = clock.plus(duration);
            total.0 += duration.0;
            for pause in schedule.breaks.iter().filter(|b| b.after == module.slug) {
                items.push(AgendaItem::Break {
                    label: pause.label.clone(),
                    start: clock,
                    duration: pause.duration,
                });
                clock = clock.plus(pause.duration);
                total.0 += pause.duration.0;
            }
        }
        let starts = items
            .iter()
            .filter_map(|item| match item {
                AgendaItem::Module { start, .. } => Some(*start),
                AgendaItem::Break { .. } => None,
            })
            .collect();
        Ok(Agenda {
            start,
            items,
            total,
            starts,
        })
    }
}
