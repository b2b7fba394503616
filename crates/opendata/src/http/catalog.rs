//! The DCAT-AP.de catalogue of every published dataset: `/catalog.ttl`, `/catalog.rdf`,
//! `/catalog.jsonld`, paged with `?page=N` (Hydra links on each page when there is more than one).

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kernel::AppError;
use serde::Deserialize;

use super::OpendataCtx;
use crate::dcat::{self, Catalogue, Graph, Page};
use crate::service;

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

async fn graph(ctx: &OpendataCtx, q: &PageQuery, file: &str) -> Result<Graph, AppError> {
    let number = match q.page.as_deref() {
        None | Some("") => 1,
        Some(p) => {
            p.parse::<usize>().ok().filter(|n| *n >= 1).ok_or(AppError::invalid("opendata.page_invalid", "page"))?
        }
    };
    let tenants = identity::service::public_tenants(&ctx.kernel).await?;
    let size = ctx.catalog_page_size.max(1);
    let (sets, total) = service::published_page(&ctx.kernel, size, (number - 1).saturating_mul(size)).await?;
    let page = Page { number, size, total };
    if number > page.last() {
        return Err(AppError::NotFound);
    }
    let cat = Catalogue { base: &ctx.public_url, tenants: &tenants, file };
    Ok(cat.graph(&sets, &page))
}

fn typed(body: String, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// `GET /catalog.ttl`
pub async fn turtle(State(ctx): State<OpendataCtx>, Query(q): Query<PageQuery>) -> Result<Response, AppError> {
    let g = graph(&ctx, &q, "catalog.ttl").await?;
    Ok(typed(dcat::turtle(&g), "text/turtle; charset=utf-8"))
}

/// `GET /catalog.rdf`
pub async fn rdf_xml(State(ctx): State<OpendataCtx>, Query(q): Query<PageQuery>) -> Result<Response, AppError> {
    let g = graph(&ctx, &q, "catalog.rdf").await?;
    Ok(typed(dcat::rdf_xml(&g), "application/rdf+xml; charset=utf-8"))
}

/// `GET /catalog.jsonld`
pub async fn json_ld(State(ctx): State<OpendataCtx>, Query(q): Query<PageQuery>) -> Result<Response, AppError> {
    let g = graph(&ctx, &q, "catalog.jsonld").await?;
    Ok(typed(dcat::json_ld(&g).to_string(), "application/ld+json"))
}
