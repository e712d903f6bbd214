//! The API's bodies as Rust types. Decoding is liberal: both id styles (`file_…`, `or_file_…`),
//! every documented `_shape` (`openrouter`, `anthropic`, `openai`, normalised to one type),
//! unknown fields (kept in `extra`) and unknown enum values (kept as strings).

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::Error;

/// Serialises a type as its wire string and reads it back through `FromStr`, so every small
/// enum round-trips the way it travels.
macro_rules! serde_as_wire_str {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Which vendor's layout a body used (`_shape`). Absent in the first API version.
///
/// ```
/// use openrouter_files::Shape;
/// assert_eq!("openai".parse::<Shape>().unwrap(), Shape::OpenAi);
/// assert_eq!(Shape::Other("gemini".into()).to_string(), "gemini");
/// ```
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

/// Every string is a shape: unknown ones become [`Shape::Other`].
impl FromStr for Shape {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Shape, Infallible> {
        Ok(Shape::from_wire(s.to_string()))
    }
}

serde_as_wire_str!(Shape);

/// The storage a call uses (`provider`): OpenRouter's own when unset, or a provider's, with
/// your own key for it. Values the crate does not know yet can be given with
/// [`Provider::other`]. Every setter that takes a provider accepts its name too.
///
/// ```
/// use openrouter_files::Provider;
/// assert_eq!(Provider::from("openai"), Provider::OpenAi);
/// assert_eq!("anthropic".parse::<Provider>().unwrap(), Provider::Anthropic);
/// assert_eq!(Provider::other("mistral").to_string(), "mistral");
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
    /// A provider by name; names the crate knows get their own variant.
    pub fn other(name: impl Into<String>) -> Provider {
        Provider::from(name.into())
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

impl From<String> for Provider {
    fn from(s: String) -> Provider {
        match s.as_str() {
            "openai" => Provider::OpenAi,
            "anthropic" => Provider::Anthropic,
            _ => Provider::Other(s),
        }
    }
}

impl From<&str> for Provider {
    fn from(s: &str) -> Provider {
        Provider::from(s.to_string())
    }
}

/// Every string is a provider: unknown ones become [`Provider::Other`].
impl FromStr for Provider {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Provider, Infallible> {
        Ok(Provider::from(s))
    }
}

serde_as_wire_str!(Provider);

/// The list sort direction (`order`). OpenRouter storage supports only ascending.
///
/// ```
/// use openrouter_files::Order;
/// assert_eq!("desc".parse::<Order>()?, Order::Desc);
/// assert_eq!(Order::Asc.to_string(), "asc");
/// assert!("sideways".parse::<Order>().is_err());
/// # Ok::<(), openrouter_files::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Order {
    /// Oldest first (the default).
    #[default]
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

/// Reads `asc` or `desc`, in any case; anything else is [`Error::InvalidInput`].
impl FromStr for Order {
    type Err = Error;

    fn from_str(s: &str) -> Result<Order, Error> {
        [Order::Asc, Order::Desc]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::InvalidInput(format!("{s:?} is not an order (asc or desc)")))
    }
}

serde_as_wire_str!(Order);

/// The fields only OpenAI-shaped bodies carry, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl OpenAiFields {
    /// The fields of a file created at `created_at_unix`, with `object: "file"` and no
    /// purpose or status; set the public fields for more.
    pub fn new(created_at_unix: i64) -> OpenAiFields {
        OpenAiFields {
            object: "file".to_string(),
            created_at_unix,
            purpose: None,
            status: None,
        }
    }
}

/// A stored file's metadata, whatever shape the server sent it in.
///
/// It serialises in one layout whatever the shape (OpenRouter's, plus an `openai` object for
/// the OpenAI-only fields), and reads that layout back to an equal value. For fixtures in
/// your own tests, start from [`FileMetadata::new`] and set the public fields:
///
/// ```
/// use openrouter_files::FileMetadata;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let mut file = FileMetadata::new("or_file_1", "report.pdf", 1024, "2025-01-01T00:00:00Z");
/// file.downloadable = true;
/// assert_eq!(file.created(), UNIX_EPOCH.checked_add(Duration::from_secs(1_735_689_600)));
/// let json = serde_json::to_string(&file)?;
/// assert_eq!(serde_json::from_str::<FileMetadata>(&json)?, file);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The creation time as RFC 3339 (`2025-01-01T00:00:00Z`), as sent; OpenAI's integer
    /// timestamps are converted. [`FileMetadata::created`] reads it as a [`SystemTime`].
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
    /// The answer this came from (see `response()`); no part of the JSON or of equality.
    #[serde(skip)]
    pub(crate) answered: crate::answer::Received,
}

impl FileMetadata {
    /// A file's metadata from the fields every shape has, with `type: "file"`, no MIME type,
    /// not downloadable, no shape and nothing extra; set the public fields for more.
    pub fn new(
        id: impl Into<String>,
        filename: impl Into<String>,
        size_bytes: u64,
        created_at: impl Into<String>,
    ) -> FileMetadata {
        FileMetadata {
            id: id.into(),
            object_type: "file".to_string(),
            filename: filename.into(),
            mime_type: None,
            size_bytes,
            created_at: created_at.into(),
            downloadable: false,
            shape: None,
            openai: None,
            extra: Map::new(),
            answered: Default::default(),
        }
    }

    /// [`created_at`](FileMetadata::created_at) as a point in time, or None when the server
    /// sent something that is not an RFC 3339 time.
    pub fn created(&self) -> Option<SystemTime> {
        crate::codec::rfc3339::parse(&self.created_at)
    }
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
    /// The OpenAI-only fields as this crate serialises them.
    openai: Option<Value>,
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
            Timestamp::Unix(secs) => (crate::codec::date::format_rfc3339(secs), Some(secs)),
        };
        let mut extra = wire.extra;
        // Our own serialisation nests the OpenAI-only fields; anything else by that name is
        // an unknown field, kept as sent.
        let serialised = match wire.openai {
            Some(value) => match OpenAiFields::deserialize(&value) {
                Ok(fields) => Some(fields),
                Err(_) => {
                    extra.insert("openai".to_string(), value);
                    None
                }
            },
            None => None,
        };
        let openai = unix
            .map(|created_at_unix| OpenAiFields {
                object: wire.object.clone().unwrap_or_else(|| "file".to_string()),
                created_at_unix,
                purpose: wire.purpose.clone(),
                status: wire.status.clone(),
            })
            .or(serialised);
        // `object` is the type when `type` is absent, and OpenAI's own field when the body
        // had that shape; otherwise it is an unknown field like any other.
        let (object_type, object) = match wire.object_type {
            Some(object_type) => (object_type, wire.object),
            None => (wire.object.unwrap_or_else(|| "file".to_string()), None),
        };
        if openai.is_none() {
            for (key, value) in [
                ("purpose", wire.purpose),
                ("status", wire.status),
                ("object", object),
            ] {
                if let Some(value) = value {
                    extra.insert(key.to_string(), Value::String(value));
                }
            }
        }
        Ok(FileMetadata {
            id: wire.id,
            object_type,
            filename: wire.filename,
            mime_type: wire.mime_type,
            size_bytes,
            created_at,
            downloadable: wire.downloadable.unwrap_or(false),
            shape: wire.shape.map(Shape::from_wire),
            openai,
            extra,
            answered: Default::default(),
        })
    }
}

/// The answer to a delete. [`FileDeleted::new`] builds one for fixtures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The answer this came from (see `response()`); no part of the JSON or of equality.
    #[serde(skip)]
    pub(crate) answered: crate::answer::Received,
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
            answered: Default::default(),
        })
    }
}

impl FileDeleted {
    /// The confirmation that the file `id` is deleted, with no shape and nothing extra.
    pub fn new(id: impl Into<String>) -> FileDeleted {
        FileDeleted {
            id: id.into(),
            deleted: true,
            shape: None,
            extra: Map::new(),
            answered: Default::default(),
        }
    }
}

crate::answer::answered!(FileMetadata, FileDeleted, Page);

/// One page of a file list. [`Page::new`] builds one for fixtures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// The files on this page, in the server's order.
    pub data: Vec<FileMetadata>,
    /// Whether more files follow. A body without the field counts as having more when it
    /// carries a cursor.
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
    /// Fields this version of the crate does not know (such as OpenAI's `"object": "list"`),
    /// kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The answer this came from (see `response()`); no part of the JSON or of equality.
    #[serde(skip)]
    pub(crate) answered: crate::answer::Received,
}

impl Page {
    /// The last page of a list holding `data`: `first_id` and `last_id` from the files, no
    /// more to come, no cursor, no shape. Set the public fields for a page with more after it.
    pub fn new(data: Vec<FileMetadata>) -> Page {
        Page {
            first_id: data.first().map(|f| f.id.clone()),
            last_id: data.last().map(|f| f.id.clone()),
            data,
            has_more: false,
            cursor: None,
            shape: None,
            extra: Map::new(),
            answered: Default::default(),
        }
    }
}

#[derive(Deserialize)]
struct WirePage {
    data: Vec<FileMetadata>,
    has_more: Option<bool>,
    first_id: Option<String>,
    last_id: Option<String>,
    cursor: Option<String>,
    #[serde(rename = "_shape")]
    shape: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Page {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = WirePage::deserialize(d)?;
        // Without `has_more`, a cursor is the only word on whether more follow: reading its
        // absence as "no more" would end a list early and call it complete.
        let has_more = wire
            .has_more
            .unwrap_or_else(|| wire.cursor.as_deref().is_some_and(|c| !c.is_empty()));
        Ok(Page {
            data: wire.data,
            has_more,
            first_id: wire.first_id,
            last_id: wire.last_id,
            cursor: wire.cursor,
            shape: wire.shape.map(Shape::from_wire),
            extra: wire.extra,
            answered: Default::default(),
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

    /// A delete answer in each shape: the first API version, Anthropic's, OpenAI's.
    const DELETE_BODIES: [&str; 3] = [
        r#"{"id":"file_1","type":"file_deleted"}"#,
        r#"{"_shape":"anthropic","id":"file_1","type":"file_deleted"}"#,
        r#"{"_shape":"openai","id":"file_1","object":"file","deleted":true}"#,
    ];

    #[test]
    fn decodes_every_delete_shape() {
        for body in DELETE_BODIES {
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

    /// Decodes `body`, serialises the value, reads that back, and checks it is equal and
    /// serialises the same again.
    fn round_trips<T>(body: &str) -> T
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let first: T = serde_json::from_str(body).unwrap();
        let json = serde_json::to_value(&first).unwrap();
        let again: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(again, first, "{body} -> {json}");
        assert_eq!(serde_json::to_value(&again).unwrap(), json);
        first
    }

    const OPENAI_FILE: &str = r#"{"_shape":"openai","bytes":1024000,"created_at":1735689600,
        "filename":"document.pdf","id":"or_file_1","object":"file","purpose":"user_data",
        "status":"processed","expires_at":null,"status_details":"ok"}"#;

    #[test]
    fn every_file_shape_survives_a_serde_round_trip() {
        for body in [
            r#"{"id":"file_1","type":"file","filename":"a.pdf","mime_type":"application/pdf",
            "size_bytes":1,"created_at":"2025-01-01T00:00:00Z","downloadable":false}"#,
            r#"{"_shape":"openrouter","id":"or_file_1","type":"file","filename":"a.pdf",
            "mime_type":"application/pdf","size_bytes":1,"created_at":"2025-01-01T00:00:00Z",
            "downloadable":true}"#,
            r#"{"_shape":"anthropic","id":"or_file_1","type":"file","filename":"a.pdf",
            "mime_type":"application/pdf","size_bytes":1,"created_at":"2025-01-01T00:00:00Z",
            "downloadable":false}"#,
            OPENAI_FILE,
            r#"{"_shape":"gemini","id":"x","filename":"a","bytes":3,"created_at":"2025-01-01T00:00:00Z",
            "purpose":"p","status":"s","openai":"not ours","nested":{"a":[1,2]}}"#,
        ] {
            round_trips::<FileMetadata>(body);
        }
    }

    #[test]
    fn an_openai_file_keeps_its_openai_fields_through_a_round_trip() {
        let file = round_trips::<FileMetadata>(OPENAI_FILE);
        let openai = file.openai.as_ref().unwrap();
        assert_eq!(openai.status.as_deref(), Some("processed"));
        assert_eq!(openai.purpose.as_deref(), Some("user_data"));
        assert!(!file.extra.contains_key("openai"));
        assert_eq!(file.extra["status_details"], "ok");
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["openai"]["created_at_unix"], 1_735_689_600);
        assert_eq!(json["size_bytes"], 1_024_000);
    }

    #[test]
    fn a_field_named_openai_that_is_not_ours_is_kept_as_sent() {
        let file = round_trips::<FileMetadata>(
            r#"{"id":"x","filename":"a","size_bytes":1,"created_at":"2025-01-01T00:00:00Z",
            "openai":{"something":"else"}}"#,
        );
        assert_eq!(file.openai, None);
        assert_eq!(file.extra["openai"]["something"], "else");
    }

    #[test]
    fn a_file_with_both_type_and_object_keeps_both() {
        let file = round_trips::<FileMetadata>(
            r#"{"id":"x","type":"file","object":"upload","filename":"a","size_bytes":1,
            "created_at":"2025-01-01T00:00:00Z"}"#,
        );
        assert_eq!(file.object_type, "file");
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["object"], "upload", "{json}");
    }

    #[test]
    fn every_delete_and_page_shape_survives_a_serde_round_trip() {
        for body in DELETE_BODIES {
            round_trips::<FileDeleted>(body);
        }
        let openai_page = format!(
            r#"{{"_shape":"openai","object":"list","data":[{OPENAI_FILE}],"has_more":true,
            "first_id":"or_file_1","last_id":"or_file_1"}}"#
        );
        for body in [
            r#"{"data":[],"has_more":false,"first_id":null,"last_id":null,"cursor":null}"#,
            r#"{"_shape":"openrouter","data":[{"id":"or_file_1","type":"file","filename":"a",
            "mime_type":"text/plain","size_bytes":1,"created_at":"2025-01-01T00:00:00Z",
            "downloadable":true}],"has_more":true,"first_id":"or_file_1","last_id":"or_file_1",
            "cursor":"eyJhZnRlciI6N30"}"#,
            &openai_page,
        ] {
            round_trips::<Page>(body);
        }
        let page: Page = serde_json::from_str(&openai_page).unwrap();
        assert_eq!(page.extra["object"], "list");
    }

    #[test]
    fn created_reads_every_shape_as_the_same_instant() {
        let instant = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_735_689_600);
        let openai: FileMetadata = serde_json::from_str(OPENAI_FILE).unwrap();
        assert_eq!(openai.created(), Some(instant));
        let text = FileMetadata::new("x", "a", 1, "2025-01-01T01:00:00+01:00");
        assert_eq!(text.created(), Some(instant));
        assert_eq!(FileMetadata::new("x", "a", 1, "yesterday").created(), None);
    }

    #[test]
    fn constructors_build_what_the_server_would_send() {
        let file = FileMetadata::new("or_file_1", "a.txt", 3, "2025-01-01T00:00:00Z");
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["type"], "file");
        assert_eq!(json["downloadable"], false);
        let page = Page::new(vec![
            file.clone(),
            FileMetadata::new("or_file_2", "b", 1, "x"),
        ]);
        assert_eq!(page.first_id.as_deref(), Some("or_file_1"));
        assert_eq!(page.last_id.as_deref(), Some("or_file_2"));
        assert!(!page.has_more && page.cursor.is_none());
        assert_eq!(Page::new(Vec::new()).first_id, None);
        assert!(FileDeleted::new("or_file_1").deleted);
        assert_eq!(OpenAiFields::new(5).object, "file");
    }

    #[test]
    fn small_enums_read_back_what_they_write() {
        for provider in [
            Provider::OpenAi,
            Provider::Anthropic,
            Provider::other("mistral"),
        ] {
            let json = serde_json::to_string(&provider).unwrap();
            assert_eq!(json, format!("{:?}", provider.as_str()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), provider);
            assert_eq!(provider.to_string().parse::<Provider>(), Ok(provider));
        }
        assert_eq!(Provider::other("openai"), Provider::OpenAi);
        for order in [Order::Asc, Order::Desc] {
            let json = serde_json::to_string(&order).unwrap();
            assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), order);
            assert_eq!(order.to_string().parse::<Order>().unwrap(), order);
        }
        assert_eq!("DESC".parse::<Order>().unwrap(), Order::Desc);
        assert!(matches!("up".parse::<Order>(), Err(Error::InvalidInput(_))));
        assert!(serde_json::from_str::<Order>(r#""up""#).is_err());
        for shape in ["openrouter", "anthropic", "openai", "gemini"] {
            let parsed: Shape = shape.parse().unwrap();
            assert_eq!(parsed.to_string(), shape);
            let json = serde_json::to_string(&parsed).unwrap();
            assert_eq!(serde_json::from_str::<Shape>(&json).unwrap(), parsed);
        }
    }
}
