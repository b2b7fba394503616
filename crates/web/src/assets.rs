//! Static assets embedded in the binary: KERN UX (EUPL-1.2, vendored from `@kern-ux/native`),
//! Leaflet 1.9.4 for interactive maps (BSD-2-Clause, from npm `leaflet`; licence beside it) and
//! our own stylesheet and scripts. Served under `/assets/<version>/…` with a year of caching; the
//! version is a hash of the content, so a changed asset gets a new address.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "kern/kern.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/kern/kern.min.css"),
    },
    Asset {
        path: "kern/LICENSE.md",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/kern/LICENSE.md"),
    },
    Asset {
        path: "kern/fonts/FiraSans-Regular.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../assets/kern/fonts/FiraSans-Regular.woff2"),
    },
    Asset {
        path: "kern/fonts/FiraSans-Italic.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../assets/kern/fonts/FiraSans-Italic.woff2"),
    },
    Asset {
        path: "kern/fonts/FiraSans-SemiBold.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../assets/kern/fonts/FiraSans-SemiBold.woff2"),
    },
    Asset {
        path: "kern/fonts/FiraSans-Bold.woff2",
        content_type: "font/woff2",
        body: include_bytes!("../assets/kern/fonts/FiraSans-Bold.woff2"),
    },
    Asset {
        path: "kern/fonts/OFL.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/kern/fonts/OFL.txt"),
    },
    Asset { path: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../assets/app.css") },
    Asset { path: "app.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../assets/app.js") },
    Asset { path: "map.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../assets/map.js") },
    Asset {
        path: "leaflet/leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/leaflet/leaflet.js"),
    },
    Asset {
        path: "leaflet/leaflet.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/leaflet/leaflet.css"),
    },
    Asset {
        path: "leaflet/LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/leaflet/LICENSE"),
    },
];

/// A short hash of all assets, part of every asset URL.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for a in ASSETS {
            h.update(a.path.as_bytes());
            h.update(a.body);
        }
        kernel::hex(&h.finalize()[..6])
    })
}

/// The URL of an asset, for templates.
pub fn url(path: &str) -> String {
    format!("/assets/{}/{path}", version())
}

/// `GET /assets/{version}/{*path}`. Any version segment is served, so pages rendered by an
/// older node during a rolling update still find their styles.
pub async fn serve(Path((_version, path)): Path<(String, String)>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
