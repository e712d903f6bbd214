//! File ids ready for a completion: the content part each OpenRouter request shape takes for an
//! uploaded file, and the header that keeps the id with OpenRouter. Nothing here sends a
//! request; it only builds JSON for the completion call you make yourself.
//!
//! OpenRouter passes a `file_id` in a completion request through to the upstream provider
//! unless the request carries [`FILE_IDS_HEADER`] set to [`FILE_IDS_OPENROUTER`]
//! (`x-openrouter-file-ids: openrouter`; the default is `provider`): send that header with any
//! request that names a file uploaded with this crate.
//!
//! The shapes, as the official SDKs type them:
//! - chat completions (`POST /chat/completions`): a `file` content part,
//!   `{"type": "file", "file": {"file_id": ID}}` (openai-python,
//!   `src/openai/types/chat/chat_completion_content_part_param.py`, `File` and `FileFile`);
//! - responses (`POST /responses`): an `input_file` content item,
//!   `{"type": "input_file", "file_id": ID}` (openai-python,
//!   `src/openai/types/responses/response_input_file_param.py`; OpenRouter's TypeScript SDK,
//!   `docs/models/responseinputfile.md`);
//! - messages (`POST /messages`): a `document` block whose source is a file,
//!   `{"type": "document", "source": {"type": "file", "file_id": ID}}` (anthropic-sdk-python,
//!   `src/anthropic/types/beta/beta_file_document_source_param.py` and the `document` block
//!   that holds it).
//!
//! The header is described in OpenRouter's documentation of the `openrouter:files` server tool
//! ("the same header that controls whether `file_id` message references are resolved by
//! OpenRouter or passed through to the upstream provider").
//!
//! ```
//! use openrouter_files::{CompletionApi, FILE_IDS_HEADER, FILE_IDS_OPENROUTER};
//! use serde_json::json;
//!
//! let part = CompletionApi::ChatCompletions.file_part("or_file_011CNha8");
//! let body = json!({
//!     "model": "openai/gpt-5.2",
//!     "messages": [{"role": "user", "content": [{"type": "text", "text": "Summarise"}, part]}],
//! });
//! assert_eq!(body["messages"][0]["content"][1]["file"]["file_id"], "or_file_011CNha8");
//! // Send `body` with this header, or OpenRouter hands the id to the provider:
//! assert_eq!((FILE_IDS_HEADER, FILE_IDS_OPENROUTER), ("x-openrouter-file-ids", "openrouter"));
//! ```

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use crate::model::FileMetadata;

/// The request header that says whose file ids a completion request names.
pub const FILE_IDS_HEADER: &str = "x-openrouter-file-ids";

/// The value of [`FILE_IDS_HEADER`] that keeps file ids with OpenRouter (ids of files uploaded
/// through the Files API), instead of passing them to the upstream provider.
pub const FILE_IDS_OPENROUTER: &str = "openrouter";

/// The completion request shapes OpenRouter serves, each with its own way to name a file.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompletionApi {
    /// Chat completions (`POST /chat/completions`, OpenAI's chat shape): a `file` content part.
    ChatCompletions,
    /// Responses (`POST /responses`, OpenAI's responses shape): an `input_file` content item.
    Responses,
    /// Messages (`POST /messages`, Anthropic's shape): a `document` block with a `file` source.
    Messages,
}

impl CompletionApi {
    /// Every shape, in the order above.
    pub const ALL: [CompletionApi; 3] = [
        CompletionApi::ChatCompletions,
        CompletionApi::Responses,
        CompletionApi::Messages,
    ];

    /// The short name the CLI takes (`chat`, `responses`, `messages`).
    pub fn name(self) -> &'static str {
        match self {
            CompletionApi::ChatCompletions => "chat",
            CompletionApi::Responses => "responses",
            CompletionApi::Messages => "messages",
        }
    }

    /// The content part that names the file `file_id` in a request of this shape (see the
    /// module docs for each shape and where it is defined).
    ///
    /// ```
    /// use openrouter_files::CompletionApi;
    /// use serde_json::json;
    ///
    /// assert_eq!(
    ///     CompletionApi::Responses.file_part("or_file_1"),
    ///     json!({"type": "input_file", "file_id": "or_file_1"}),
    /// );
    /// assert_eq!(
    ///     CompletionApi::Messages.file_part("or_file_1"),
    ///     json!({"type": "document", "source": {"type": "file", "file_id": "or_file_1"}}),
    /// );
    /// ```
    pub fn file_part(self, file_id: &str) -> Value {
        match self {
            CompletionApi::ChatCompletions => json!({"type": "file", "file": {"file_id": file_id}}),
            CompletionApi::Responses => json!({"type": "input_file", "file_id": file_id}),
            CompletionApi::Messages => {
                json!({"type": "document", "source": {"type": "file", "file_id": file_id}})
            }
        }
    }
}

impl fmt::Display for CompletionApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a name is not a [`CompletionApi`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCompletionApi(String);

impl fmt::Display for UnknownCompletionApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown completion API {:?}: expected chat, responses or messages",
            self.0
        )
    }
}

impl std::error::Error for UnknownCompletionApi {}

impl FromStr for CompletionApi {
    type Err = UnknownCompletionApi;

    /// Reads `chat` (or `chat-completions`), `responses` or `messages`, in any ASCII case.
    fn from_str(name: &str) -> Result<CompletionApi, UnknownCompletionApi> {
        match name.to_ascii_lowercase().as_str() {
            "chat" | "chat-completions" | "chat_completions" => Ok(CompletionApi::ChatCompletions),
            "responses" => Ok(CompletionApi::Responses),
            "messages" => Ok(CompletionApi::Messages),
            _ => Err(UnknownCompletionApi(name.to_string())),
        }
    }
}

impl FileMetadata {
    /// The content part that names this file in a request of shape `api`: the same as
    /// [`CompletionApi::file_part`] with this file's id. Send the request with
    /// [`FILE_IDS_HEADER`]`: `[`FILE_IDS_OPENROUTER`].
    ///
    /// ```
    /// use openrouter_files::{CompletionApi, FileMetadata};
    ///
    /// let meta = FileMetadata::new("or_file_1", "report.pdf", 3, "2026-01-01T00:00:00Z");
    /// let part = meta.content_part(CompletionApi::ChatCompletions);
    /// assert_eq!(part["file"]["file_id"], "or_file_1");
    /// ```
    pub fn content_part(&self, api: CompletionApi) -> Value {
        api.file_part(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_names_the_file_where_its_sdk_puts_it() {
        let id = "or_file_011CNha8iCJcU1wXNR6q4V8w";
        let chat = CompletionApi::ChatCompletions.file_part(id);
        assert_eq!(chat, json!({"type": "file", "file": {"file_id": id}}));
        let responses = CompletionApi::Responses.file_part(id);
        assert_eq!(responses, json!({"type": "input_file", "file_id": id}));
        let messages = CompletionApi::Messages.file_part(id);
        assert_eq!(
            messages,
            json!({"type": "document", "source": {"type": "file", "file_id": id}})
        );
    }

    #[test]
    fn an_id_is_carried_exactly_whatever_it_holds() {
        let id = "a\"b\\c\u{202e}d";
        for api in CompletionApi::ALL {
            let text = api.file_part(id).to_string();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, api.file_part(id), "{api}");
            assert!(text.contains(r#"a\"b\\c"#), "{text}");
        }
    }

    #[test]
    fn names_read_back_and_unknown_ones_are_refused() {
        for api in CompletionApi::ALL {
            assert_eq!(api.name().parse::<CompletionApi>(), Ok(api));
        }
        assert_eq!(
            "Chat-Completions".parse::<CompletionApi>(),
            Ok(CompletionApi::ChatCompletions)
        );
        let err = "embeddings".parse::<CompletionApi>().unwrap_err();
        assert!(err.to_string().contains("embeddings"), "{err}");
    }
}
