//! A query on one resource, as callers write it (names, operators, text values), and its
//! checked form: every name resolved against the column catalogue, every value converted to
//! the column's type. Only a checked query reaches the store, so SQL is built from catalogue
//! identifiers (`c1`, `c2`, …) and bound values alone.

use serde::{Deserialize, Serialize};

use crate::model::{Cell, Column, ColumnType, DecimalMark, Storage, convert};

/// The most records one request returns.
pub const MAX_LIMIT: u64 = 10_000;
/// The default page size.
pub const DEFAULT_LIMIT: u64 = 100;
/// The most terms in a full-text query and values in an `in` filter.
pub const MAX_TERMS: usize = 100;

/// A comparison in a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    /// Case-insensitive substring (text columns).
    Contains,
    /// One of several values, comma-separated.
    In,
    /// `true`: the cell is empty; `false`: it is not.
    Isnull,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "contains" => Op::Contains,
            "in" => Op::In,
            "isnull" => Op::Isnull,
            _ => return None,
        })
    }
}

/// One filter: `column op value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub value: String,
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFn {
    pub fn as_str(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Sum => "sum",
            AggFn::Avg => "avg",
            AggFn::Min => "min",
            AggFn::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<AggFn> {
        [AggFn::Count, AggFn::Sum, AggFn::Avg, AggFn::Min, AggFn::Max].into_iter().find(|f| f.as_str() == s)
    }
}

/// An aggregate: a function of a column (`count` may go without one: rows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub func: AggFn,
    pub column: Option<String>,
}

/// A join of a second resource on a key: `left` names a column of this resource, `right` one
/// of the other; the other's columns are addressed as `join.<name>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Join {
    pub resource: String,
    pub left: String,
    pub right: String,
}

/// A query as a caller writes it. The public service API of the data store: the data API and
/// CKAN's `datastore_search` both build one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataQuery {
    /// Full-text search over the text and code columns: every word must occur (prefixes match).
    pub q: Option<String>,
    pub filters: Vec<Filter>,
    /// The columns to return, in this order; all when empty.
    pub fields: Vec<String>,
    /// Sort keys: a column name, descending when `desc`.
    pub sort: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Group by these columns and return `aggregates` per group.
    pub group_by: Vec<String>,
    pub aggregates: Vec<Aggregate>,
    pub join: Option<Join>,
}

/// Why a query is refused. Codes are stable (`datastore.unknown_column`).
#[derive(Clone, Debug, PartialEq)]
pub enum QueryError {
    /// A name that is not a column; lists the valid ones.
    UnknownColumn { column: String, valid: Vec<String> },
    /// A parameter with a bad value (`parameter` names it, `code` says why).
    Invalid { parameter: String, code: &'static str },
}

impl QueryError {
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::UnknownColumn { .. } => "datastore.unknown_column",
            QueryError::Invalid { code, .. } => code,
        }
    }

    fn invalid(parameter: &str, code: &'static str) -> Self {
        QueryError::Invalid { parameter: parameter.to_owned(), code }
    }
}

/// Which table a resolved column comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Main,
    Joined,
}

/// A column resolved against a catalogue, with the suppression bound of its resource.
#[derive(Clone, Debug)]
pub struct ColRef {
    pub side: Side,
    /// The name in the output (`join.` prefixed on the joined side).
    pub output: String,
    pub column: Column,
    /// Values below this are suppressed (count columns only).
    pub k: Option<i64>,
}

impl ColRef {
    /// The SQL expression of this column's visible value: a count column below k is NULL, in
    /// every use (select, filter, sort, group, aggregate), so no query can reveal it.
    pub fn expr(&self) -> String {
        let alias = match self.side {
            Side::Main => "t",
            Side::Joined => "j",
        };
        let raw = format!("{alias}.c{}", self.column.position);
        match self.k {
            Some(k) => format!("(CASE WHEN {raw} < {k} THEN NULL ELSE {raw} END)"),
            None => raw,
        }
    }
}

/// Whether an aggregate's result is suppressed: below k, when it aggregates a count column.
pub fn hidden(k: Option<i64>, cell: &Cell) -> bool {
    cell.as_f64().is_some_and(|v| below_k(k, v))
}

/// Whether a count column's value (k given) is below k and so suppressed.
pub fn below_k(k: Option<i64>, value: f64) -> bool {
    k.is_some_and(|k| value < k as f64)
}

/// A checked filter.
#[derive(Clone, Debug)]
pub struct CheckedFilter {
    pub col: ColRef,
    pub op: Op,
    pub values: Vec<Cell>,
}

/// A checked aggregate; `col` is None for `count` of rows.
#[derive(Clone, Debug)]
pub struct CheckedAggregate {
    pub func: AggFn,
    pub col: Option<ColRef>,
    pub output: String,
    pub storage: Storage,
    /// The result is suppressed below this (aggregates of count columns).
    pub k: Option<i64>,
}

/// A query checked against the catalogue(s).
#[derive(Clone, Debug)]
pub struct Plan {
    pub terms: Vec<String>,
    pub filters: Vec<CheckedFilter>,
    pub fields: Vec<ColRef>,
    pub sort: Vec<(ColRef, bool)>,
    pub limit: u64,
    pub offset: u64,
    pub group_by: Vec<ColRef>,
    pub aggregates: Vec<CheckedAggregate>,
    /// The joined table and key columns, when joined.
    pub join: Option<(String, ColRef, ColRef)>,
}

/// A catalogue as the planner sees it.
pub struct Catalogue<'a> {
    pub columns: &'a [Column],
    pub k: i64,
}

impl Catalogue<'_> {
    fn col(&self, side: Side, c: &Column) -> ColRef {
        let output = match side {
            Side::Main => c.name.clone(),
            Side::Joined => format!("join.{}", c.name),
        };
        ColRef { side, output, column: c.clone(), k: c.is_count.then_some(self.k) }
    }
}

/// Splits a full-text query into lowercase words of letters and digits.
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Checks a query against the main catalogue and, for a join, the joined one (with its table).
pub fn plan(q: &DataQuery, main: &Catalogue<'_>, joined: Option<(&Catalogue<'_>, &str)>) -> Result<Plan, QueryError> {
    let resolve = |name: &str| -> Result<ColRef, QueryError> {
        if let Some(c) = main.columns.iter().find(|c| c.name == name) {
            return Ok(main.col(Side::Main, c));
        }
        if let (Some(rest), Some((cat, _))) = (name.strip_prefix("join."), joined)
            && let Some(c) = cat.columns.iter().find(|c| c.name == rest)
        {
            return Ok(cat.col(Side::Joined, c));
        }
        let mut valid: Vec<String> = main.columns.iter().map(|c| c.name.clone()).collect();
        if let Some((cat, _)) = joined {
            valid.extend(cat.columns.iter().map(|c| format!("join.{}", c.name)));
        }
        Err(QueryError::UnknownColumn { column: name.to_owned(), valid })
    };
    let terms = q.q.as_deref().map(terms).unwrap_or_default();
    if terms.len() > MAX_TERMS {
        return Err(QueryError::invalid("q", "datastore.too_many_terms"));
    }
    let filters = q
        .filters
        .iter()
        .map(|f| {
            let col = resolve(&f.column)?;
            let values = filter_values(f, &col)?;
            Ok(CheckedFilter { col, op: f.op, values })
        })
        .collect::<Result<Vec<_>, QueryError>>()?;
    let join = match (&q.join, joined) {
        (Some(j), Some((cat, table))) => {
            let left = resolve(&j.left)?;
            let right =
                cat.columns.iter().find(|c| c.name == j.right).map(|c| cat.col(Side::Joined, c)).ok_or_else(|| {
                    QueryError::UnknownColumn {
                        column: j.right.clone(),
                        valid: cat.columns.iter().map(|c| c.name.clone()).collect(),
                    }
                })?;
            if left.column.ty.storage() != right.column.ty.storage() {
                return Err(QueryError::invalid("join", "datastore.join_types_differ"));
            }
            Some((table.to_owned(), left, right))
        }
        (Some(_), None) => return Err(QueryError::invalid("join", "datastore.unknown_resource")),
        _ => None,
    };
    let group_by = q.group_by.iter().map(|n| resolve(n)).collect::<Result<Vec<_>, _>>()?;
    let aggregates = q
        .aggregates
        .iter()
        .map(|a| {
            let col = a.column.as_deref().map(resolve).transpose()?;
            let storage = match (a.func, &col) {
                (AggFn::Count, _) => Storage::Int,
                (_, None) => return Err(QueryError::invalid("aggregate", "datastore.aggregate_needs_column")),
                (AggFn::Sum | AggFn::Avg, Some(c)) if !c.column.ty.is_numeric() => {
                    return Err(QueryError::invalid("aggregate", "datastore.aggregate_needs_number"));
                }
                (AggFn::Avg, Some(_)) => Storage::Float,
                (_, Some(c)) => c.column.ty.storage(),
            };
            let output = match &col {
                Some(c) => format!("{}_{}", a.func.as_str(), c.output.replace('.', "_")),
                None => "count".to_owned(),
            };
            let k = col.as_ref().and_then(|c| c.k);
            Ok(CheckedAggregate { func: a.func, col, output, storage, k })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !aggregates.is_empty() && group_by.is_empty() && !q.fields.is_empty() {
        return Err(QueryError::invalid("fields", "datastore.fields_with_aggregate"));
    }
    let grouped = !group_by.is_empty() || !aggregates.is_empty();
    let fields = if grouped {
        group_by.clone()
    } else if q.fields.is_empty() {
        let mut all: Vec<ColRef> = main.columns.iter().map(|c| main.col(Side::Main, c)).collect();
        if let Some((cat, _)) = joined.filter(|_| join.is_some()) {
            all.extend(cat.columns.iter().map(|c| cat.col(Side::Joined, c)));
        }
        all
    } else {
        q.fields.iter().map(|n| resolve(n)).collect::<Result<Vec<_>, _>>()?
    };
    let sort = q
        .sort
        .iter()
        .map(|(n, desc)| {
            let col = resolve(n)?;
            if grouped && !group_by.iter().any(|g| g.output == col.output) {
                return Err(QueryError::invalid("sort", "datastore.sort_not_grouped"));
            }
            Ok((col, *desc))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(QueryError::invalid("limit", "datastore.limit_too_large"));
    }
    Ok(Plan { terms, filters, fields, sort, limit, offset: q.offset.unwrap_or(0), group_by, aggregates, join })
}

fn filter_values(f: &Filter, col: &ColRef) -> Result<Vec<Cell>, QueryError> {
    let ty = col.column.ty;
    match f.op {
        Op::Isnull => match f.value.as_str() {
            "true" | "1" => Ok(vec![Cell::Bool(true)]),
            "false" | "0" => Ok(vec![Cell::Bool(false)]),
            _ => Err(QueryError::invalid(&f.column, "datastore.invalid_value")),
        },
        Op::Contains => {
            if ty.storage() != Storage::Text {
                return Err(QueryError::invalid(&f.column, "datastore.contains_needs_text"));
            }
            Ok(vec![Cell::Text(f.value.to_lowercase())])
        }
        Op::In => {
            let parts: Vec<&str> = f.value.split(',').collect();
            if parts.len() > MAX_TERMS {
                return Err(QueryError::invalid(&f.column, "datastore.too_many_terms"));
            }
            parts.iter().map(|p| typed_value(p, ty, &f.column)).collect()
        }
        _ => Ok(vec![typed_value(&f.value, ty, &f.column)?]),
    }
}

/// A filter value in the column's type; the API writes decimals with a point.
fn typed_value(raw: &str, ty: ColumnType, column: &str) -> Result<Cell, QueryError> {
    match convert(raw, ty, DecimalMark::Point) {
        Ok(Cell::Null) | Err(_) => Err(QueryError::invalid(column, "datastore.invalid_value")),
        Ok(cell) => Ok(cell),
    }
}

/// Reads a query from URL parameters: `fields`, `q`, `sort` (`-name` descending), `limit`,
/// `offset`, `group_by`, `aggregate` (`sum:betrag,count`), `join` (`<resource>:<left>=<right>`);
/// every other parameter is a filter, `name=value` or `name__op=value`.
pub fn from_params(params: &[(String, String)]) -> Result<DataQuery, QueryError> {
    let list =
        |v: &str| -> Vec<String> { v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect() };
    let number =
        |name: &str, v: &str| v.parse::<u64>().map_err(|_| QueryError::invalid(name, "datastore.invalid_number"));
    let mut q = DataQuery::default();
    for (key, value) in params {
        match key.as_str() {
            "q" => q.q = Some(value.clone()).filter(|v| !v.trim().is_empty()),
            "fields" => q.fields = list(value),
            "sort" => {
                q.sort = list(value)
                    .into_iter()
                    .map(|s| match s.strip_prefix('-') {
                        Some(name) => (name.to_owned(), true),
                        None => (s, false),
                    })
                    .collect()
            }
            "limit" => q.limit = Some(number("limit", value)?),
            "offset" => q.offset = Some(number("offset", value)?),
            "group_by" => q.group_by = list(value),
            "aggregate" => {
                for a in list(value) {
                    let (func, column) = match a.split_once(':') {
                        Some((f, c)) => (f.to_owned(), Some(c.to_owned())),
                        None => (a.clone(), None),
                    };
                    let func = AggFn::parse(&func)
                        .ok_or_else(|| QueryError::invalid("aggregate", "datastore.unknown_aggregate"))?;
                    q.aggregates.push(Aggregate { func, column });
                }
            }
            "join" => {
                let (resource, on) =
                    value.split_once(':').ok_or_else(|| QueryError::invalid("join", "datastore.invalid_join"))?;
                let (left, right) =
                    on.split_once('=').ok_or_else(|| QueryError::invalid("join", "datastore.invalid_join"))?;
                q.join = Some(Join { resource: resource.to_owned(), left: left.to_owned(), right: right.to_owned() });
            }
            "format" => {}
            other => {
                let (column, op) = match other.rsplit_once("__") {
                    Some((c, op)) => {
                        (c, Op::parse(op).ok_or_else(|| QueryError::invalid(other, "datastore.unknown_operator"))?)
                    }
                    None => (other, Op::Eq),
                };
                q.filters.push(Filter { column: column.to_owned(), op, value: value.clone() });
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the failure report
mod tests {
    use super::*;

    fn cols() -> Vec<Column> {
        vec![
            Column::new(1, "gemeinde", ColumnType::Text),
            Column { is_count: true, ..Column::new(2, "anzahl", ColumnType::Integer) },
            Column::new(3, "ags", ColumnType::Code),
        ]
    }

    #[test]
    fn an_unknown_column_is_refused_with_the_valid_ones() {
        let cols = cols();
        let cat = Catalogue { columns: &cols, k: 3 };
        let q = from_params(&[("x; DROP TABLE t".into(), "1".into())]).unwrap();
        match plan(&q, &cat, None) {
            Err(QueryError::UnknownColumn { column, valid }) => {
                assert_eq!(column, "x; DROP TABLE t");
                assert_eq!(valid, ["gemeinde", "anzahl", "ags"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_count_column_is_suppressed_in_every_expression() {
        let cols = cols();
        let cat = Catalogue { columns: &cols, k: 5 };
        let q = from_params(&[("anzahl__lt".into(), "5".into()), ("aggregate".into(), "sum:anzahl".into())]).unwrap();
        let p = plan(&q, &cat, None).unwrap();
        assert_eq!(p.filters[0].col.expr(), "(CASE WHEN t.c2 < 5 THEN NULL ELSE t.c2 END)");
        assert_eq!(p.aggregates[0].k, Some(5));
        assert_eq!(p.aggregates[0].output, "sum_anzahl");
    }

    #[test]
    fn values_are_typed_before_they_are_bound() {
        let cols = cols();
        let cat = Catalogue { columns: &cols, k: 3 };
        let q = from_params(&[("anzahl__gte".into(), "zwölf".into())]).unwrap();
        assert_eq!(plan(&q, &cat, None).unwrap_err().code(), "datastore.invalid_value");
        let q = from_params(&[("ags__in".into(), "05111,05112".into()), ("sort".into(), "-anzahl".into())]).unwrap();
        let p = plan(&q, &cat, None).unwrap();
        assert_eq!(p.filters[0].values, [Cell::Text("05111".into()), Cell::Text("05112".into())]);
        assert!(p.sort[0].1);
    }
}
