//! The JSON bodies the emulator sends, per API version and `_shape`: the one place that knows
//! how a file, a page, a deletion and an error look on the wire.

use serde_json::{Value, json};

use crate::ApiVersion;
use crate::store::StoredFile;

/// The `_shape` of a body in the current API version: whose Files API layout it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// OpenRouter's own layout.
    OpenRouter,
    /// Anthropic's Files API layout.
    Anthropic,
    /// OpenAI's Files API layout.
    OpenAi,
}

/// The layout of a body: the first API version has no `_shape`; the current one answers in
/// the shape of the storage a request uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// 2026-07-19: OpenRouter's fields, no `_shape`, cursor pagination.
    Unshaped,
    /// 2026-08-22: the given `_shape`.
    Shaped(Shape),
}

impl Layout {
    /// The layout for `version` and the `provider` of a request (None: OpenRouter storage).
    pub(crate) fn of(version: ApiVersion, provider: Option<&str>) -> Layout {
        match (version, provider) {
            (ApiVersion::V2026_07_19, _) => Layout::Unshaped,
            (_, Some("openai")) => Layout::Shaped(Shape::OpenAi),
            (_, Some("anthropic")) => Layout::Shaped(Shape::Anthropic),
            _ => Layout::Shaped(Shape::OpenRouter),
        }
    }

    fn shape(&self) -> Option<&'static str> {
        match self {
            Layout::Unshaped => None,
            Layout::Shaped(Shape::OpenAi) => Some("openai"),
            Layout::Shaped(Shape::Anthropic) => Some("anthropic"),
            Layout::Shaped(Shape::OpenRouter) => Some("openrouter"),
        }
    }

    fn is_openai(&self) -> bool {
        matches!(self, Layout::Shaped(Shape::OpenAi))
    }

    /// Whether pages carry a `cursor` (OpenRouter storage) or page by id (providers).
    fn has_cursor(&self) -> bool {
        matches!(self, Layout::Unshaped | Layout::Shaped(Shape::OpenRouter))
    }

    /// One file's metadata.
    pub(crate) fn file(&self, file: &StoredFile) -> Value {
        if self.is_openai() {
            return json!({
                "_shape": "openai",
                "id": file.id,
                "object": "file",
                "bytes": file.size_bytes,
                "created_at": file.created_at,
                "filename": file.filename,
                "purpose": "user_data",
                "status": "processed",
            });
        }
        let mut value = json!({
            "id": file.id,
            "type": "file",
            "filename": file.filename,
            "mime_type": file.mime_type,
            "size_bytes": file.size_bytes,
            "created_at": crate::wire::rfc3339(file.created_at),
            "downloadable": file.downloadable,
        });
        self.tag(&mut value);
        value
    }

    /// A page of a list.
    pub(crate) fn page(
        &self,
        files: &[&StoredFile],
        has_more: bool,
        cursor: Option<String>,
    ) -> Value {
        let data: Vec<Value> = files.iter().map(|f| self.file(f)).collect();
        let mut value = json!({
            "data": data,
            "has_more": has_more,
            "first_id": files.first().map(|f| &f.id),
            "last_id": files.last().map(|f| &f.id),
        });
        if self.has_cursor() {
            value["cursor"] = json!(cursor);
        }
        if self.is_openai() {
            value["object"] = json!("list");
        }
        self.tag(&mut value);
        value
    }

    /// The answer to a deletion.
    pub(crate) fn deleted(&self, id: &str) -> Value {
        let mut value = if self.is_openai() {
            json!({"id": id, "object": "file", "deleted": true})
        } else {
            json!({"id": id, "type": "file_deleted"})
        };
        self.tag(&mut value);
        value
    }

    fn tag(&self, value: &mut Value) {
        if let Some(shape) = self.shape() {
            value["_shape"] = json!(shape);
        }
    }
}

/// The spec's error body.
pub(crate) fn error(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message}})
}

/// The message the official documents use as the example for each status.
pub(crate) fn standard_message(status: u16) -> &'static str {
    match status {
        400 => "Invalid request parameters",
        401 => "Missing Authentication header",
        403 => "Only management keys can perform this operation",
        404 => "Resource not found",
        408 => "Request timeout",
        413 => "Request payload too large",
        429 => "Rate limit exceeded",
        500 => "Internal Server Error",
        502 => "Provider returned error",
        503 => "Service temporarily unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Scope;

    fn file() -> StoredFile {
        StoredFile {
            seq: 1,
            id: "or_file_1".into(),
            scope: Scope {
                workspace: "w".into(),
                provider: None,
            },
            filename: "a.txt".into(),
            mime_type: "text/plain".into(),
            size_bytes: 3,
            created_at: 0,
            downloadable: false,
        }
    }

    #[test]
    fn each_layout_has_its_fields() {
        let f = file();
        let old = Layout::of(ApiVersion::V2026_07_19, Some("openai"));
        assert!(old.file(&f).get("_shape").is_none());
        assert_eq!(old.deleted("x"), json!({"id": "x", "type": "file_deleted"}));
        let openai = Layout::of(ApiVersion::V2026_08_22, Some("openai"));
        assert_eq!(openai.file(&f)["bytes"], 3);
        let page = openai.page(&[&f], false, None);
        assert_eq!(page["object"], "list");
        assert!(page.get("cursor").is_none());
        let own = Layout::of(ApiVersion::V2026_08_22, None);
        let page = own.page(&[], false, None);
        assert_eq!(page["_shape"], "openrouter");
        assert!(page["cursor"].is_null() && page.get("cursor").is_some());
        let anthropic = Layout::of(ApiVersion::V2026_08_22, Some("anthropic"));
        assert_eq!(anthropic.deleted("x")["_shape"], "anthropic");
        assert!(anthropic.page(&[&f], true, None).get("cursor").is_none());
    }
}
