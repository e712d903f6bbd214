//! The API's bodies as Rust types. Decoding is liberal: both id styles (`file_…`, `or_file_…`),
//! every documented `_shape` (`openrouter`, `anthropic`, `openai`, normalised to one type),
//! unknown fields (kept in `extra`) and unknown enum values (kept as strings).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Which vendor's layout a body used (`_shape`). Absent in the first API version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// OpenRouter's own layout (Anthropic's plus `downloadable`, `mime_type`…).
    OpenRouter,
    /// Anthropic's Files API layout.
    Anthropic,
    /// OpenAI's Files API layout (`bytes`, integer `created_at`, `purpose`, `status`).
    OpenAi,
    /// A value this version of the crate does not know.
    Other(String),
}

impl Shape {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Shape::OpenRouter => "openrouter",
            Shape::Anthropic => "anthropic",
            Shape::OpenAi => "openai",
            Shape::Other(s) => s,
        }
    }

    fn from_wire(s: String) -> Shape {
        match s.as_str() {
            "openrouter" => Shape::OpenRouter,
            "anthropic" => Shape::Anthropic,
            "openai" => Shape::OpenAi,
            _ => Shape::Other(s),
        }
    }
}

impl Serialize for Shape {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The storage a call uses (`provider`): OpenRouter's own when unset, or a provider's, with
/// your own key for it. Values the crate does not know yet can be given with
/// [`Provider::other`].
///
/// ```
/// use openrouter_files::Provider;
/// assert_eq!(Provider::from("openai"), Provider::OpenAi);
/// assert_eq!(Provider::other("mistral").as_str(), "mistral");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// `openai`
    OpenAi,
    /// `anthropic`
    Anthropic,
    /// Any other value, sent as is.
    Other(String),
}

impl Provider {
    /// A provider the crate has no variant for.
    pub fn other(name: &str) -> Provider {
        Provider::from(name)
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Other(s) => s,
        }
    }
}

impl From<&str> for Provider {
    fn from(s: &str) -> Provider {
        match s {
            "openai" => Provider::OpenAi,
            "anthropic" => Provider::Anthropic,
            _ => Provider::Other(s.to_string()),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The list sort direction (`order`). OpenRouter storage supports only ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Order {
    /// Oldest first (the default).
    Asc,
    /// Newest first (provider storage only).
    Desc,
}

impl Order {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// The fields only OpenAI-shaped bodies carry, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OpenAiFields {
    /// `object`, normally `"file"`.
    pub object: String,
    /// `created_at` as sent: seconds since the Unix epoch.
    pub created_at_unix: i64,
    /// `purpose`, such as `user_data` (unknown values kept).
    pub purpose: Option<String>,
    /// `status`, such as `processed` (unknown values kept).
    pub status: Option<String>,
}

/// A stored file's metadata, whatever shape the server sent it in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file id: `or_file_…` in the current API, `file_…` in the first version.
    pub id: String,
    /// The object type, normally `"file"` (`object` in the OpenAI shape).
    #[serde(rename = "type")]
    pub object_type: String,
    /// The file name given at upload.
    pub filename: String,
    /// The MIME type the server detected from the content; absent in the OpenAI shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The size in bytes (`bytes` in the OpenAI shape).
    pub size_bytes: u64,
    /// The creation time as RFC 3339 (`2025-01-01T00:00:00Z`); OpenAI's integer timestamps
    /// are converted.
    pub created_at: String,
    /// Whether the content can be downloaded (only server-created files can). False when the
    /// shape does not say.
    pub downloadable: bool,
    /// The `_shape` the body declared, if any.
    #[serde(rename = "_shape", skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// The OpenAI-only fields, when the body had the OpenAI shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openai: Option<OpenAiFields>,
    /// Fields this version of the crate does not know, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Timestamp {
    Text(String),
    Unix(i64),
}

#[derive(Deserialize)]
struct WireFile {
    id: String,
    #[serde(rename = "_shape")]
    shape: Option<String>,
    #[serde(rename = "type")]
    object_type: Option<String>,
    object: Option<String>,
    filename: String,
    mime_type: Option<String>,
    size_bytes: Option<u64>,
    bytes: Option<u64>,
    created_at: Timestamp,
    downloadable: Option<bool>,
    purpose: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for FileMetadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = WireFile::deserialize(d)?;
        let size_bytes = wire
            .size_bytes
            .or(wire.bytes)
            .ok_or_else(|| serde::de::Error::missing_field("size_bytes"))?;
        let (created_at, unix) = match wire.created_at {
            Timestamp::Text(text) => (text, None),
            Timestamp::Unix(secs) => (crate::date::format_rfc3339(secs), Some(secs)),
        };
        let openai = unix.map(|created_at_unix| OpenAiFields {
            object: wire.object.clone().unwrap_or_else(|| "file".to_string()),
            created_at_unix,
            purpose: wire.purpose.clone(),
            status: wire.status.clone(),
        });
        let mut extra = wire.extra;
        if openai.is_none() {
            for (key, value) in [("purpose", wire.purpose), ("status", wire.status)] {
                if let Some(value) = value {
                    extra.insert(key.to_string(), Value::String(value));
                }
            }
        }
        Ok(FileMetadata {
            id: wire.id,
            object_type: wire
                .object_type
                .or(wire.object)
                .unwrap_or_else(|| "file".to_string()),
            filename: wire.filename,
            mime_type: wire.mime_type,
            size_bytes,
            created_at,
            downloadable: wire.downloadable.unwrap_or(false),
            shape: wire.shape.map(Shape::from_wire),
            openai,
            extra,
        })
    }
}

/// The answer to a delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FileDeleted {
    /// The id of the deleted file.
    pub id: String,
    /// Always true: a failed delete is an error instead.
    pub deleted: bool,
    /// The `_shape` the body declared, if any.
    #[serde(rename = "_shape", skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Fields this version of the crate does not know, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct WireDeleted {
    id: String,
    #[serde(rename = "_shape")]
    shape: Option<String>,
    #[serde(rename = "type")]
    object_type: Option<String>,
    object: Option<String>,
    deleted: Option<bool>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for FileDeleted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = WireDeleted::deserialize(d)?;
        if wire.deleted == Some(false) {
            return Err(serde::de::Error::custom(
                "the server says the file was not deleted",
            ));
        }
        let mut extra = wire.extra;
        for (key, value) in [("type", wire.object_type), ("object", wire.object)] {
            if let Some(value) = value {
                extra.insert(key.to_string(), Value::String(value));
            }
        }
        Ok(FileDeleted {
            id: wire.id,
            deleted: true,
            shape: wire.shape.map(Shape::from_wire),
            extra,
        })
    }
}

impl FileDeleted {
    /// The confirmation for a file that a retried delete found already gone.
    pub(crate) fn already_gone(id: &str) -> FileDeleted {
        FileDeleted {
            id: id.to_string(),
            deleted: true,
            shape: None,
            extra: Map::new(),
        }
    }
}

/// One page of a file list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// The files on this page, in the server's order.
    pub data: Vec<FileMetadata>,
    /// Whether more files follow.
    pub has_more: bool,
    /// The id of the first file on the page.
    pub first_id: Option<String>,
    /// The id of the last file on the page.
    pub last_id: Option<String>,
    /// The opaque cursor for the next page; None on the last page and in the OpenAI and
    /// Anthropic shapes, which page by id instead.
    pub cursor: Option<String>,
    /// The `_shape` the body declared, if any.
    #[serde(rename = "_shape", skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
}

#[derive(Deserialize)]
struct WirePage {
    data: Vec<FileMetadata>,
    #[serde(default)]
    has_more: bool,
    first_id: Option<String>,
    last_id: Option<String>,
    cursor: Option<String>,
    #[serde(rename = "_shape")]
    shape: Option<String>,
}

impl<'de> Deserialize<'de> for Page {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = WirePage::deserialize(d)?;
        Ok(Page {
            data: wire.data,
            has_more: wire.has_more,
            first_id: wire.first_id,
            last_id: wire.last_id,
            cursor: wire.cursor,
            shape: wire.shape.map(Shape::from_wire),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_first_api_version() {
        let f: FileMetadata = serde_json::from_str(
            r#"{"id":"file_011CNha8iCJcU1wXNR6q4V8w","type":"file","filename":"document.pdf",
            "mime_type":"application/pdf","size_bytes":1024000,"created_at":"2025-01-01T00:00:00Z",
            "downloadable":false}"#,
        )
        .unwrap();
        assert_eq!(f.id, "file_011CNha8iCJcU1wXNR6q4V8w");
        assert_eq!(f.size_bytes, 1_024_000);
        assert_eq!(f.shape, None);
        assert!(f.extra.is_empty());
    }

    #[test]
    fn keeps_unknown_fields_and_shapes() {
        let f: FileMetadata = serde_json::from_str(
            r#"{"_shape":"gemini","id":"or_file_1","type":"file","filename":"a","mime_type":"text/plain",
            "size_bytes":1,"created_at":"2025-01-01T00:00:00Z","downloadable":true,"sha256":"ab"}"#,
        )
        .unwrap();
        assert_eq!(f.shape, Some(Shape::Other("gemini".into())));
        assert_eq!(f.extra["sha256"], "ab");
        let back = serde_json::to_value(&f).unwrap();
        assert_eq!(back["sha256"], "ab");
        assert_eq!(back["_shape"], "gemini");
    }

    #[test]
    fn normalises_the_openai_shape() {
        let f: FileMetadata = serde_json::from_str(
            r#"{"_shape":"openai","bytes":1024000,"created_at":1735689600,"filename":"document.pdf",
            "id":"or_file_1","object":"file","purpose":"fine-tune-v2","status":"processed"}"#,
        )
        .unwrap();
        assert_eq!(f.size_bytes, 1_024_000);
        assert_eq!(f.created_at, "2025-01-01T00:00:00Z");
        assert_eq!(f.shape, Some(Shape::OpenAi));
        let openai = f.openai.unwrap();
        assert_eq!(openai.created_at_unix, 1_735_689_600);
        assert_eq!(openai.purpose.as_deref(), Some("fine-tune-v2"));
    }

    #[test]
    fn decodes_every_delete_shape() {
        for body in [
            r#"{"id":"file_1","type":"file_deleted"}"#,
            r#"{"_shape":"anthropic","id":"file_1","type":"file_deleted"}"#,
            r#"{"_shape":"openai","id":"file_1","object":"file","deleted":true}"#,
        ] {
            let d: FileDeleted = serde_json::from_str(body).unwrap();
            assert_eq!(d.id, "file_1");
            assert!(d.deleted);
        }
        assert!(serde_json::from_str::<FileDeleted>(r#"{"id":"x","deleted":false}"#).is_err());
    }

    #[test]
    fn a_file_without_size_is_an_error() {
        let r = serde_json::from_str::<FileMetadata>(
            r#"{"id":"x","filename":"a","created_at":"2025-01-01T00:00:00Z"}"#,
        );
        assert!(r.unwrap_err().to_string().contains("size_bytes"));
    }
}
