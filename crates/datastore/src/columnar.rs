//! Grouping in memory: a group-by over a whole table (no filter, no full text, no join) is
//! answered from the table's columns held in memory instead of a scan and sort in SQLite.
//!
//! Tables never change after their import, so a column read once stays true until the table is
//! replaced (a new import is a new table name). The columns a query needs are read once (in row
//! order), text as indexes into a dictionary, and each query hashes rows into groups in one
//! pass: for the demo's 300,000 vehicle rows a few milliseconds instead of about 90 ms of
//! SQLite's sorter per request (`docs/BENCHMARKS.md`).
//!
//! The answer is the one `store::run` gives, cell for cell and in the same order: count
//! columns are suppressed below k in group keys and aggregate arguments, `SUM`/`AVG` over
//! integers are exact (a sum beyond 2^53 goes to the database instead), NULLs sort first in a
//! group key and last in an explicit sort, text sorts by bytes (SQLite's `BINARY`). Sums and
//! averages of decimal columns go to the database, whose float summation this does not copy.
//! Only on SQLite: PostgreSQL aggregates with hashing itself and orders text by its collation.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use kernel::{Db, DbResult};
use rustc_hash::FxHashMap;

use crate::model::{Cell, Storage};
use crate::query::{AggFn, CheckedAggregate, ColRef, Plan, Side, below_k, hidden};
use crate::store;

/// Tables up to this many rows are grouped in memory.
pub const MAX_ROWS: i64 = 2_000_000;
/// Values held in memory over all tables (about 16 bytes each, plus the distinct texts).
const MAX_VALUES: usize = 16_000_000;

/// One value of a loaded column; text as an index into the column's dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Int(i64),
    /// The bits of a finite float (`-0.0` as `0.0`).
    Float(u64),
    Bool(bool),
    Text(u32),
}

/// A column of a table in row order.
struct Loaded {
    keys: Vec<Key>,
    words: Vec<String>,
}

impl Loaded {
    fn from_cells(cells: Vec<Cell>) -> Loaded {
        let mut index: FxHashMap<String, u32> = FxHashMap::default();
        let mut words = Vec::new();
        let keys = cells
            .into_iter()
            .map(|cell| match cell {
                Cell::Null => Key::Null,
                Cell::Int(i) => Key::Int(i),
                Cell::Float(f) => Key::Float(if f == 0.0 { 0 } else { f.to_bits() }),
                Cell::Bool(b) => Key::Bool(b),
                Cell::Text(s) => Key::Text(*index.entry(s).or_insert_with_key(|s| {
                    words.push(s.clone());
                    (words.len() - 1) as u32
                })),
            })
            .collect();
        Loaded { keys, words }
    }

    fn cell(&self, key: Key) -> Cell {
        match key {
            Key::Null => Cell::Null,
            Key::Int(i) => Cell::Int(i),
            Key::Float(bits) => Cell::Float(f64::from_bits(bits)),
            Key::Bool(b) => Cell::Bool(b),
            Key::Text(i) => Cell::Text(self.words[i as usize].clone()),
        }
    }

    /// SQLite's order of two values of this column (NULL first; text by bytes).
    fn compare(&self, a: Key, b: Key) -> Ordering {
        match (a, b) {
            (Key::Null, Key::Null) => Ordering::Equal,
            (Key::Null, _) => Ordering::Less,
            (_, Key::Null) => Ordering::Greater,
            (Key::Int(x), Key::Int(y)) => x.cmp(&y),
            (Key::Float(x), Key::Float(y)) => f64::from_bits(x).total_cmp(&f64::from_bits(y)),
            (Key::Bool(x), Key::Bool(y)) => x.cmp(&y),
            (Key::Text(x), Key::Text(y)) => self.words[x as usize].as_bytes().cmp(self.words[y as usize].as_bytes()),
            // One column holds one type.
            _ => Ordering::Equal,
        }
    }
}

/// A value as the query sees it: a count column's value below k is NULL.
fn visible(key: Key, k: Option<i64>) -> Key {
    match key {
        Key::Int(i) if below_k(k, i as f64) => Key::Null,
        Key::Float(bits) if below_k(k, f64::from_bits(bits)) => Key::Null,
        other => other,
    }
}

/// Loaded columns by table name and column position.
type Columns = HashMap<(String, i64), Arc<Loaded>>;

static COLUMNS: LazyLock<Mutex<Columns>> = LazyLock::new(Mutex::default);

/// Whether [`run`] answers `plan` on a table of `rows` rows.
pub fn applies(plan: &Plan, rows: i64) -> bool {
    let summable = |a: &CheckedAggregate| match (a.func, &a.col) {
        (AggFn::Sum | AggFn::Avg, Some(c)) => c.column.ty.storage() == Storage::Int,
        _ => true,
    };
    rows <= MAX_ROWS
        && plan.join.is_none()
        && plan.terms.is_empty()
        && plan.filters.is_empty()
        && (!plan.group_by.is_empty() || !plan.aggregates.is_empty())
        && plan
            .group_by
            .iter()
            .chain(plan.aggregates.iter().filter_map(|a| a.col.as_ref()))
            .all(|c| c.side == Side::Main)
        && plan.aggregates.iter().all(summable)
}

/// The column `col` of `table`, read once.
async fn column(db: &Db, table: &str, col: &ColRef) -> DbResult<Arc<Loaded>> {
    let key = (table.to_owned(), col.column.position);
    if let Some(hit) = COLUMNS.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(hit);
    }
    let cells = store::column_values(db, table, col.column.position, col.column.ty.storage()).await?;
    let loaded = Arc::new(Loaded::from_cells(cells));
    if let Ok(mut m) = COLUMNS.lock() {
        let held: usize = m.values().map(|c| c.keys.len()).sum();
        if held + loaded.keys.len() > MAX_VALUES {
            m.clear();
        }
        m.insert(key, loaded.clone());
    }
    Ok(loaded)
}

/// An aggregate's running state.
#[derive(Clone, Copy)]
enum State {
    Count(i64),
    /// Sum and the number of values summed (for `AVG`).
    Sum(i64, i64),
    /// The least (`MIN`) or greatest (`MAX`) value so far.
    Best(Option<Key>, Ordering),
}

impl State {
    fn new(func: AggFn) -> State {
        match func {
            AggFn::Count => State::Count(0),
            AggFn::Sum | AggFn::Avg => State::Sum(0, 0),
            AggFn::Min => State::Best(None, Ordering::Less),
            AggFn::Max => State::Best(None, Ordering::Greater),
        }
    }
}

/// Answers a plan that [`applies`] on a table of `rows` rows: the rows of the page and the number of groups, as
/// `store::run` would. `None` when an exact answer needs the database (a sum beyond 2^53).
pub async fn run(db: &Db, plan: &Plan, table: &str, rows: i64) -> DbResult<Option<(Vec<Vec<Cell>>, i64)>> {
    let mut groups_cols = Vec::with_capacity(plan.group_by.len());
    for g in &plan.group_by {
        groups_cols.push(column(db, table, g).await?);
    }
    let mut agg_cols = Vec::with_capacity(plan.aggregates.len());
    for a in &plan.aggregates {
        agg_cols.push(match &a.col {
            Some(c) => Some(column(db, table, c).await?),
            None => None,
        });
    }
    let rows = usize::try_from(rows).unwrap_or(0);
    let Some(groups) = group(plan, &groups_cols, &agg_cols, rows) else { return Ok(None) };
    let mut ordered: Vec<&(Vec<Key>, Vec<State>)> = groups.iter().collect();
    ordered.sort_by(|a, b| order(plan, &groups_cols, &a.0, &b.0));
    let total = ordered.len() as i64;
    let page = ordered.into_iter().skip(plan.offset as usize).take(plan.limit as usize);
    let records = page
        .map(|(keys, states)| {
            let mut cells: Vec<Cell> = keys.iter().zip(&groups_cols).map(|(k, c)| c.cell(*k)).collect();
            for ((a, state), col) in plan.aggregates.iter().zip(states).zip(&agg_cols) {
                let cell = result(a, *state, col.as_deref());
                cells.push(if hidden(a.k, &cell) { Cell::Null } else { cell });
            }
            cells
        })
        .collect();
    Ok(Some((records, total)))
}

/// Hashes the rows into groups (in order of first appearance) with their aggregates. A table
/// without group columns is one group, even when empty.
fn group(
    plan: &Plan,
    groups_cols: &[Arc<Loaded>],
    agg_cols: &[Option<Arc<Loaded>>],
    rows: usize,
) -> Option<Vec<(Vec<Key>, Vec<State>)>> {
    let fresh: Vec<State> = plan.aggregates.iter().map(|a| State::new(a.func)).collect();
    let mut groups: Vec<(Vec<Key>, Vec<State>)> = Vec::new();
    if plan.group_by.is_empty() {
        groups.push((Vec::new(), fresh.clone()));
    }
    // A group's id is found column by column: (id so far, next key) → id, so no row allocates.
    let mut levels: Vec<FxHashMap<(u32, Key), u32>> = vec![FxHashMap::default(); plan.group_by.len()];
    let mut slot_of: FxHashMap<u32, usize> = FxHashMap::default();
    let mut next_id = 1u32;
    for row in 0..rows {
        let slot = if plan.group_by.is_empty() {
            0
        } else {
            let mut id = 0u32;
            for ((level, col), g) in levels.iter_mut().zip(groups_cols).zip(&plan.group_by) {
                let key = visible(col.keys[row], g.k);
                id = *level.entry((id, key)).or_insert_with(|| {
                    next_id += 1;
                    next_id
                });
            }
            *slot_of.entry(id).or_insert_with(|| {
                let keys = groups_cols.iter().zip(&plan.group_by).map(|(c, g)| visible(c.keys[row], g.k)).collect();
                groups.push((keys, fresh.clone()));
                groups.len() - 1
            })
        };
        for ((a, state), col) in plan.aggregates.iter().zip(groups[slot].1.iter_mut()).zip(agg_cols) {
            let value = col.as_deref().map(|c| (c, visible(c.keys[row], a.col.as_ref().and_then(|c| c.k))));
            step(state, value)?;
        }
    }
    Some(groups)
}

/// Adds one row's value (`None` for `COUNT(*)`); `None` back when a sum leaves the exact range.
fn step(state: &mut State, value: Option<(&Loaded, Key)>) -> Option<()> {
    const EXACT: i64 = 1 << 53;
    match (state, value) {
        (State::Count(n), None) => *n += 1,
        (State::Count(n), Some((_, key))) => *n += i64::from(key != Key::Null),
        (State::Sum(sum, n), Some((_, Key::Int(i)))) => {
            *sum = sum.checked_add(i).filter(|s| s.abs() <= EXACT)?;
            *n += 1;
        }
        (State::Best(best, wanted), Some((col, key))) if key != Key::Null => {
            let replace = match best {
                None => true,
                Some(b) => col.compare(key, *b) == *wanted,
            };
            if replace {
                *best = Some(key);
            }
        }
        _ => {}
    }
    Some(())
}

fn result(a: &CheckedAggregate, state: State, col: Option<&Loaded>) -> Cell {
    match (a.func, state, col) {
        (_, State::Count(n), _) => Cell::Int(n),
        (AggFn::Avg, State::Sum(sum, n), _) if n > 0 => Cell::Float(sum as f64 / n as f64),
        (AggFn::Sum, State::Sum(sum, n), _) if n > 0 => Cell::Int(sum),
        (_, State::Best(Some(key), _), Some(col)) => col.cell(key),
        _ => Cell::Null,
    }
}

/// The ORDER BY of `store::run` for groups: the explicit sort (NULLs last), then the group
/// columns ascending.
fn order(plan: &Plan, cols: &[Arc<Loaded>], a: &[Key], b: &[Key]) -> Ordering {
    let position = |c: &ColRef| plan.group_by.iter().position(|g| g.output == c.output);
    for (c, desc) in &plan.sort {
        let Some(i) = position(c) else { continue };
        let (x, y) = (a[i], b[i]);
        let by_null = (x == Key::Null).cmp(&(y == Key::Null));
        let by_value = cols[i].compare(x, y);
        let o = by_null.then(if *desc { by_value.reverse() } else { by_value });
        if o != Ordering::Equal {
            return o;
        }
    }
    (0..a.len()).map(|i| cols[i].compare(a[i], b[i])).find(|o| *o != Ordering::Equal).unwrap_or(Ordering::Equal)
}
